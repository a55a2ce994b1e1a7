/**
 * `config reload` against a real Redis, with a process-like listener in this test: a scheduler over its own
 * copy of the scanners file with one reload subscription (as the MCP server and the workers have through
 * `Scheduler.layerReloadOnRequest`) that records each request and reloads the way they do
 * (`ScannerConfig.logReload` over `scheduler.reload`).
 */
import { assert, describe, it } from "@effect/vitest"
import { Credentials, Redis, ScannerConfig, Scheduler } from "@nessus-mcp/scheduler"
import { Effect, Layer, Logger, ManagedRuntime } from "effect"
import { copyFileSync, readFileSync, writeFileSync } from "node:fs"
import { hostname } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll } from "vitest"
import { cli, type Env, json, makeEnv, redisUrl, shape, uniquePrefix } from "./support.js"

let env: Env
beforeAll(async () => {
  env = await makeEnv("reload")
})
afterAll(async () => {
  await env.close()
})

/** A listening "process": its own scanners file, reloading on request, recording the requests. */
const listener = async (name: string, prefix: string) => {
  const file = join(env.dir, `${name}-scanners.yaml`)
  copyFileSync(env.configFile, file)
  const received: Array<Scheduler.ReloadRequest> = []
  const logs: Array<string> = []
  const capture = Logger.layer([Logger.make(({ message }) => void logs.push((Array.isArray(message) ? message : [message]).map(String).join(" ")))])
  const reloading = Layer.effectDiscard(Effect.gen(function*() {
    const scheduler = yield* Scheduler.Scheduler
    yield* scheduler.subscribeReloadRequests((request) =>
      Effect.andThen(Effect.sync(() => void received.push(request)), ScannerConfig.logReload(`reload request ${request.id}`, scheduler.reload))
    )
  }))
  const rt = ManagedRuntime.make(
    reloading.pipe(
      Layer.provideMerge(Scheduler.layerRedis({ prefix })),
      Layer.provideMerge(Credentials.layer()),
      Layer.provideMerge(ScannerConfig.layer({ path: file })),
      Layer.provideMerge(Redis.layer({ url: redisUrl() })),
      Layer.provide(capture)
    )
  )
  await rt.runPromise(Effect.void)
  const capacity = (instance: string) =>
    rt.runPromise(Effect.gen(function*() {
      const config = yield* (yield* ScannerConfig.ScannerConfig).current
      return ScannerConfig.scannerOf(config, instance)?.maxConcurrentScans
    }))
  const until = async <A>(probe: () => Promise<A>, done: (a: A) => boolean): Promise<A> => {
    let last = await probe()
    for (let i = 0; i < 100 && !done(last); i++) {
      await new Promise((r) => setTimeout(r, 20))
      last = await probe()
    }
    return last
  }
  return { file, received, logs, capacity, until, dispose: () => rt.dispose() }
}

const flags = (prefix: string, file = env.configFile) => ["--redis-url", redisUrl(), "--prefix", prefix, "--config", file]

describe("nessus-admin config reload", () => {
  it("validates the file, sends the request, and a listening process reloads its own file; --json and text output", async () => {
    const prefix = uniquePrefix("reload-ok")
    const proc = await listener("ok", prefix)
    try {
      assert.strictEqual(await proc.capacity("scanner2"), 1)
      // The process's own file changes; the admin's copy (env.configFile) is only validated.
      writeFileSync(proc.file, readFileSync(proc.file, "utf8").replace("max_concurrent_scans: 1", "max_concurrent_scans: 5"))

      const r = await cli("config", "reload", ...flags(prefix), "--json")
      assert.strictEqual(r.code, 0, r.stderr)
      const doc = await shape("config reload", r)
      assert.strictEqual(doc.file, env.configFile)
      assert.strictEqual(doc.listeners, 1)
      assert.isNull(doc.warning)
      assert.strictEqual(doc.request.requested_by, `nessus-admin@${hostname()}`)
      assert.match(doc.request.requested_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/)

      const received = await proc.until(async () => proc.received.length, (n) => n >= 1)
      assert.strictEqual(received, 1)
      assert.deepStrictEqual(proc.received[0], { id: doc.request.id, requestedAt: doc.request.requested_at, requestedBy: doc.request.requested_by })
      assert.strictEqual(await proc.until(() => proc.capacity("scanner2"), (c) => c === 5), 5, "the listener reloaded its file")
      assert.isTrue(proc.logs.some((l) => l.startsWith(`Scanner configuration reloaded from ${proc.file} (reload request ${doc.request.id})`)), proc.logs.join("\n"))

      const text = await cli("config", "reload", ...flags(prefix))
      assert.strictEqual(text.code, 0, text.stderr)
      assert.match(text.stdout, new RegExp(`^Validated ${env.configFile.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}: 2 pool\\(s\\), 3 scanner\\(s\\)\\.$`, "m"))
      assert.match(text.stdout, /^Reload request \S+ sent at \S+ by nessus-admin@\S+: received by 1 process\(es\)\.$/m)
      assert.strictEqual(text.stderr, "")
    } finally {
      await proc.dispose()
    }
  })

  it("with no process listening it says so: exit 1, a warning, listeners 0", async () => {
    const prefix = uniquePrefix("reload-none")
    const r = await cli("config", "reload", ...flags(prefix), "--json")
    assert.strictEqual(r.code, 1)
    const doc = await shape("config reload", r)
    assert.strictEqual(doc.listeners, 0)
    assert.match(doc.warning, /No process received the reload request.*REDIS_KEY_PREFIX/)
    const text = await cli("config", "reload", ...flags(prefix))
    assert.strictEqual(text.code, 1)
    assert.match(text.stdout, /received by 0 process\(es\)/)
    assert.match(text.stderr, /Warning: No process received the reload request/)
  })

  it("an invalid file is refused with config_invalid listing file, line and key (an unreadable one with file_unreadable), and nothing is sent", async () => {
    const prefix = uniquePrefix("reload-bad")
    const proc = await listener("bad", prefix)
    try {
      const bad = join(env.dir, "bad-scanners.yaml")
      const text = readFileSync(env.configFile, "utf8").replace("max_concurrent_scans: 1", "max_concurrent_scans: many")
      writeFileSync(bad, text)
      const line = text.split("\n").findIndex((l) => l.includes("many")) + 1
      const r = await cli("config", "reload", ...flags(prefix, bad), "--json")
      assert.strictEqual(r.code, 1)
      const e = await shape("config reload", r)
      assert.strictEqual(e.error.code, "config_invalid")
      assert.include(e.error.message, "Not sending a reload request")
      assert.include(e.error.message, `${bad}:${line}: pools.nessus.scanners[1].max_concurrent_scans:`)
      const human = await cli("config", "reload", ...flags(prefix, bad))
      assert.strictEqual(human.code, 1)
      assert.include(human.stderr, `${bad}:${line}:`)
      assert.strictEqual(human.stdout, "")

      const missing = await cli("config", "reload", ...flags(prefix, join(env.dir, "no-such.yaml")), "--json")
      assert.strictEqual(missing.code, 3)
      assert.strictEqual(json(missing).error.code, "file_unreadable")

      // A good request afterwards is the first one the listener receives: the refused ones were never sent.
      const ok = json(await cli("config", "reload", ...flags(prefix), "--json"))
      assert.strictEqual(ok.listeners, 1)
      await proc.until(async () => proc.received.length, (n) => n >= 1)
      assert.deepStrictEqual(proc.received.map((q) => q.id), [ok.request.id])
    } finally {
      await proc.dispose()
    }
  })
})
