/**
 * Flat memory on a large generated export, measured in a child process (peak RSS is per process). The
 * default run uses 40 MB; NESSUS_BIG_TESTS=1 runs the 1 GB acceptance case (about a minute).
 */
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { execFileSync } from "node:child_process"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import { hostsForSize, writeLocalExport } from "../bench/generator.js"
import { tempDir } from "./support.js"

const big = process.env["NESSUS_BIG_TESTS"] === "1"
const megabytes = big ? 1024 : 40
const child = join(dirname(fileURLToPath(import.meta.url)), "../bench/child.mjs")

describe("large exports", () => {
  it.effect(`parses a ${megabytes} MB export (parse + verdict + index) in flat memory`, () =>
    Effect.acquireUseRelease(
      Effect.sync(tempDir),
      ({ dir }) =>
        Effect.gen(function*() {
          const gen = yield* Effect.promise(() =>
            writeLocalExport(join(dir, "big.nessus"), { hosts: hostsForSize(megabytes), findingsPerHost: 250, seed: 11 })
          )
          const out = execFileSync(process.execPath, [child, "validator", gen.path, join(dir, "index")], { encoding: "utf8" })
          const r = JSON.parse(out.trim().split("\n").at(-1)!) as { findings: number; hosts: number; peak_rss_mb: number; bytes: number }
          assert.strictEqual(r.findings, gen.findings)
          assert.strictEqual(r.hosts, gen.hosts)
          assert.strictEqual(r.bytes, gen.bytes)
          // Node + effect/Effect alone take ~46 MB; a tree of a 1 GB document would need several GB.
          assert.isBelow(r.peak_rss_mb, 180, `peak RSS ${r.peak_rss_mb} MB for ${megabytes} MB`)
        }),
      ({ dispose }) => Effect.sync(dispose)
    ), big ? 600_000 : 60_000)
})
