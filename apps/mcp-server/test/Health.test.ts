/**
 * Liveness and readiness of the MCP server: the server's own checks, and `/health/ready` of the real program
 * with the production backend (scheduler on Redis): the scanners file, the data directory, and Redis reachable
 * with `maxmemory-policy noeviction` (an evicting Redis, or a Redis that stopped, makes it 503 with the reason).
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { startRedisServer } from "../../../config/testing/redis.js"
import * as Backend from "../src/Backend.js"
import * as Health from "../src/Health.js"
import { scannersYaml } from "./support/e2e.js"
import { serveProgram } from "./support/observability.js"

const tempDir = Effect.acquireRelease(
  Effect.sync(() => mkdtempSync(join(tmpdir(), "nessus-mcp-health-"))),
  (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
)

const redisServer = (maxmemoryPolicy: string) =>
  Effect.acquireRelease(Effect.promise(() => startRedisServer({ maxmemoryPolicy })), (s) => Effect.promise(() => s.dispose()))

/** The production program on Redis `redisUrl` (no in-process worker), serving HTTP. */
const serveOn = (redisUrl: string) =>
  Effect.gen(function*() {
    const dir = yield* tempDir
    const file = join(dir, "scanners.yaml")
    writeFileSync(file, scannersYaml(["http://127.0.0.1:9"]))
    const lines: Array<string> = []
    const running = yield* serveProgram(
      { REDIS_URL: redisUrl, REDIS_KEY_PREFIX: `{health-${Date.now()}}:`, SCANNER_CONFIG: file, DATA_DIR: join(dir, "data") },
      Backend.layer({ worker: "never" }),
      lines
    )
    const get = (path: string) =>
      Effect.promise(async () => {
        const response = await fetch(`${running.baseUrl}${path}`)
        return { status: response.status, body: await response.json() as Health.Report }
      })
    return { get, lines }
  })

describe("Health", () => {
  it.effect("the data directory check passes when writable and fails with the reason when it is not a directory", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const file = join(dir, "not-a-dir")
      writeFileSync(file, "x")
      const good = yield* Health.ready([Health.configLoaded, Health.dataDirWritable(join(dir, "data"))])
      assert.deepStrictEqual(good, { status: "ok", checks: { config: { status: "ok" }, data_dir: { status: "ok" } } })
      const bad = yield* Health.ready([Health.dataDirWritable(file)])
      assert.strictEqual(bad.status, "fail")
      assert.match(bad.checks["data_dir"]?.reason ?? "", /data directory is not writable \(E[A-Z]+\)/)
    }).pipe(Effect.scoped))

  it.live("/health/ready reports config, data_dir and redis (noeviction) as ok against the run's Redis", () =>
    Effect.gen(function*() {
      const { get } = yield* serveOn(process.env["REDIS_URL"]!)
      assert.deepStrictEqual(yield* get("/health/live"), { status: 200, body: { status: "ok" } as never })
      const ready = yield* get("/health/ready")
      assert.deepStrictEqual(ready, {
        status: 200,
        body: { status: "ok", checks: { config: { status: "ok" }, data_dir: { status: "ok" }, redis: { status: "ok" } } }
      })
    }).pipe(Effect.scoped))

  it.live("/health/ready is 503 and says why when Redis evicts keys (maxmemory-policy allkeys-lru)", () =>
    Effect.gen(function*() {
      const redis = yield* redisServer("allkeys-lru")
      const { get } = yield* serveOn(redis.url)
      const ready = yield* get("/health/ready")
      assert.strictEqual(ready.status, 503)
      assert.strictEqual(ready.body.checks["redis"]?.status, "fail")
      assert.strictEqual(ready.body.checks["redis"]?.reason, "redis maxmemory-policy is allkeys-lru; it must be noeviction")
      assert.strictEqual(ready.body.checks["config"]?.status, "ok")
      assert.strictEqual((yield* get("/health/live")).status, 200)
    }).pipe(Effect.scoped))

  it.live("/health/ready turns 503 when Redis stops answering, while /health/live stays 200", () =>
    Effect.gen(function*() {
      const redis = yield* redisServer("noeviction")
      const { get } = yield* serveOn(redis.url)
      assert.strictEqual((yield* get("/health/ready")).status, 200)
      yield* Effect.promise(() => redis.stop())
      const ready = yield* get("/health/ready")
      assert.strictEqual(ready.status, 503)
      assert.strictEqual(ready.body.checks["redis"]?.status, "fail")
      assert.strictEqual((yield* get("/health/live")).status, 200)
    }).pipe(Effect.scoped))
})
