/**
 * The built `nessus-mcp` reloads its scanners file on SIGHUP and on a reload request sent through Redis (what
 * `nessus-admin config reload` does): a bad file is refused with a log line naming file, line and key while the
 * server keeps serving on the previous configuration.
 */
import { assert, describe, it } from "@effect/vitest"
import { Credentials, Redis, ScannerConfig, Scheduler } from "@nessus-mcp/scheduler"
import { Effect, Layer } from "effect"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { freePort, requireBuilt, scannersYaml, serverBin, spawnNode, waitFor } from "./support/e2e.js"

describe("nessus-mcp reload", () => {
  it.live("reloads on SIGHUP and on a reload request; a bad file is refused naming file, line and key", () =>
    Effect.gen(function*() {
      requireBuilt()
      const dir = yield* Effect.acquireRelease(
        Effect.sync(() => mkdtempSync(join(tmpdir(), "nessus-mcp-reload-"))),
        (d) => Effect.sync(() => rmSync(d, { recursive: true, force: true }))
      )
      const file = join(dir, "scanners.yaml")
      const good = scannersYaml(["http://127.0.0.1:9"])
      writeFileSync(file, good)
      const port = yield* Effect.promise(() => freePort())
      const redisUrl = process.env["REDIS_URL"] as string
      const prefix = `{reload-${process.pid}-${Date.now()}}:`
      const server = yield* Effect.acquireRelease(
        Effect.sync(() =>
          spawnNode(serverBin, [], {
            MCP_TRANSPORT: "http",
            MCP_PORT: String(port),
            REDIS_URL: redisUrl,
            REDIS_KEY_PREFIX: prefix,
            SCANNER_CONFIG: file,
            DATA_DIR: join(dir, "data")
          })
        ),
        (p) => Effect.promise(() => p.stop())
      )
      const waitOutput = (what: string, includes: ReadonlyArray<string>) =>
        Effect.promise(() =>
          waitFor(what, async () => {
            const line = server.output().split("\n").find((l) => includes.every((x) => l.includes(x)))
            return line
          }, 20_000, 50)
        )
      yield* Effect.promise(() => waitFor("the server to be live", async () => (await fetch(`http://127.0.0.1:${port}/health/live`)).ok || undefined))

      // SIGHUP with a bad file: refused, logged with file, line and key; the server keeps running
      const bad = good.replace("max_targets: 256", "max_targets: lots")
      const badLine = bad.split("\n").findIndex((l) => l.includes("max_targets: lots")) + 1
      writeFileSync(file, bad)
      server.child.kill("SIGHUP")
      const refused = yield* waitOutput("the refused reload", ["(SIGHUP) refused"])
      assert.include(refused, `${file}:${badLine}: pools.nessus.max_targets`)
      assert.include(refused, "previous configuration stays in force")
      assert.strictEqual(server.child.exitCode, null, "SIGHUP does not stop the server")

      // a reload request through Redis, as nessus-admin config reload sends it
      writeFileSync(file, good)
      const admin = Scheduler.layerRedis({ prefix }).pipe(
        Layer.provideMerge(Credentials.layer({})),
        Layer.provideMerge(ScannerConfig.layer({ path: file })),
        Layer.provide(Redis.layer({ url: redisUrl }))
      )
      const sent = yield* Effect.flatMap(Scheduler.Scheduler, (s) => s.requestReload({ requestedBy: "reload test" })).pipe(Effect.provide(admin))
      assert.strictEqual(sent.listeners, 1)
      const applied = yield* waitOutput("the applied reload", [`reload request ${sent.request.id} from reload test`])
      assert.include(applied, `reloaded from ${file}`)
      assert.strictEqual((yield* Effect.promise(() => fetch(`http://127.0.0.1:${port}/health/live`))).status, 200)
    }), { timeout: 60_000 })
})
