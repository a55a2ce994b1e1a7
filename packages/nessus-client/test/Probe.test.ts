import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import * as Probe from "../src/Probe.js"

describe("Probe", () => {
  it.effect("says hi", () =>
    Effect.gen(function*() {
      const p = yield* Probe.Probe
      assert.strictEqual(yield* p.hello, "hi")
    }).pipe(Effect.provide(Probe.layer)))
})
