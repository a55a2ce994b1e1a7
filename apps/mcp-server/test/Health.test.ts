import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { createServer } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as Health from "../src/Health.js"

const closedPort = () =>
  new Promise<number>((resolve) => {
    const server = createServer()
    server.listen(0, "127.0.0.1", () => {
      const address = server.address()
      const port = typeof address === "object" && address ? address.port : 1
      server.close(() => resolve(port))
    })
  })

describe("Health", () => {
  it.effect("passes when the data dir is writable and Redis answers PING", () =>
    Effect.gen(function*() {
      const dir = mkdtempSync(join(tmpdir(), "nessus-mcp-health-"))
      const report = yield* Health.ready([Health.configLoaded, Health.dataDirWritable(dir), Health.redisReachable(new URL(process.env["REDIS_URL"]!))])
      rmSync(dir, { recursive: true, force: true })
      assert.deepStrictEqual(report, { status: "ok", checks: { config: { status: "ok" }, data_dir: { status: "ok" }, redis: { status: "ok" } } })
    }))

  it.effect("fails each check with a short reason that never echoes the Redis URL", () =>
    Effect.gen(function*() {
      const dir = mkdtempSync(join(tmpdir(), "nessus-mcp-health-"))
      const file = join(dir, "not-a-dir")
      writeFileSync(file, "x")
      const port = yield* Effect.promise(closedPort)
      const report = yield* Health.ready([Health.dataDirWritable(file), Health.redisReachable(new URL(`redis://:s3cret-canary@127.0.0.1:${port}`))])
      rmSync(dir, { recursive: true, force: true })
      assert.strictEqual(report.status, "fail")
      assert.strictEqual(report.checks["data_dir"]?.status, "fail")
      assert.strictEqual(report.checks["redis"]?.status, "fail")
      assert.include(report.checks["redis"]?.reason ?? "", "unreachable")
      assert.notInclude(JSON.stringify(report), "s3cret-canary")
    }))
})
