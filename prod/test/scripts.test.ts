/**
 * The two helper scripts the images carry, run for real: the health check (against HTTP servers on
 * 127.0.0.1) and the bin linker of the deploy stages (against a scratch package).
 */
import { assert, describe, it } from "@effect/vitest"
import { execFile } from "node:child_process"
import { accessSync, constants, mkdirSync, mkdtempSync, readdirSync, readlinkSync, rmSync, writeFileSync } from "node:fs"
import { createServer, type Server } from "node:http"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { repoPath } from "./support/repo.js"

const run = (script: string, args: ReadonlyArray<string>, env: Record<string, string> = {}) =>
  new Promise<{ code: number; stderr: string; stdout: string }>((resolve) => {
    execFile(process.execPath, [repoPath("prod", "docker", script), ...args], { env: { PATH: process.env["PATH"] ?? "", ...env }, timeout: 15_000 }, (error, stdout, stderr) =>
      resolve({ code: error ? (typeof error.code === "number" ? error.code : 1) : 0, stdout, stderr }))
  })

const serve = (handler: Parameters<typeof createServer>[1]) =>
  new Promise<{ server: Server; port: number }>((resolve) => {
    const server = createServer(handler)
    server.listen(0, "127.0.0.1", () => {
      const address = server.address()
      resolve({ server, port: typeof address === "object" && address ? address.port : 0 })
    })
  })

const close = (server: Server) => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()) })

describe("prod/docker/healthcheck.mjs", () => {
  it("exits 0 on 2xx from the path on the port named by the variable, 1 on 503, and reports what failed", async () => {
    const paths: Array<string> = []
    const { server, port } = await serve((req, res) => {
      paths.push(`${req.url} ${req.headers.host}`)
      res.writeHead(req.url === "/health/ready" ? 503 : 200, { "content-type": "application/json" }).end("{}")
    })
    try {
      const live = await run("healthcheck.mjs", ["MCP_PORT", "1", "/health/live"], { MCP_PORT: String(port) })
      assert.strictEqual(live.code, 0)
      const ready = await run("healthcheck.mjs", ["MCP_PORT", "1"], { MCP_PORT: String(port) })
      assert.strictEqual(ready.code, 1)
      assert.include(ready.stderr, "/health/ready answered 503")
      // Host is loopback, which the MCP server's DNS-rebinding check always accepts.
      assert.deepStrictEqual(paths, [`/health/live 127.0.0.1:${port}`, `/health/ready 127.0.0.1:${port}`])
    } finally {
      await close(server)
    }
  })

  it("uses the default port when the variable is unset, and fails on a closed port", async () => {
    const { server, port } = await serve((_req, res) => res.writeHead(200).end())
    try {
      assert.strictEqual((await run("healthcheck.mjs", ["METRICS_PORT", String(port), "/health/ready"])).code, 0)
    } finally {
      await close(server)
    }
    const refused = await run("healthcheck.mjs", ["METRICS_PORT", String(port), "/health/ready"])
    assert.strictEqual(refused.code, 1)
    assert.include(refused.stderr, "failed")
    assert.strictEqual((await run("healthcheck.mjs", ["METRICS_PORT", "1"], { METRICS_PORT: "not-a-port" })).code, 1)
  })

  it("gives up after its timeout when the server does not answer", async () => {
    const { server, port } = await serve(() => undefined)
    try {
      const started = Date.now()
      const hung = await run("healthcheck.mjs", ["P", String(port), "/health/ready", "300"])
      assert.strictEqual(hung.code, 1)
      assert.isBelow(Date.now() - started, 5_000)
      assert.match(hung.stderr, /abort|timeout/i)
    } finally {
      await close(server)
    }
  })
})

describe("prod/docker/link-bins.mjs", () => {
  it("links the image's command into .bin, executable, and fails when it is missing", async () => {
    const dir = mkdtempSync(join(tmpdir(), "link-bins-"))
    try {
      mkdirSync(join(dir, "bin"))
      writeFileSync(join(dir, "bin", "run.js"), "#!/usr/bin/env node\nconsole.log('hi')\n", { mode: 0o644 })
      writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "@x/app", bin: { "x-app": "./bin/run.js", "x-later": "./bin/later.js" } }))
      const ok = await run("link-bins.mjs", [dir, "x-app"])
      assert.strictEqual(ok.code, 0, ok.stderr)
      assert.strictEqual(readlinkSync(join(dir, ".bin", "x-app")), "../bin/run.js")
      accessSync(join(dir, ".bin", "x-app"), constants.X_OK)
      assert.deepStrictEqual(readdirSync(join(dir, ".bin")), ["x-app"], "only the image's command is linked")
      const missing = await run("link-bins.mjs", [dir, "other"])
      assert.strictEqual(missing.code, 1)
      assert.include(missing.stderr, `has no bin "other" (bins: x-app, x-later)`)
      const absentFile = await run("link-bins.mjs", [dir, "x-later"])
      assert.strictEqual(absentFile.code, 1)
      assert.include(absentFile.stderr, "does not contain")
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
