/**
 * Test support: run `nessus-admin` in-process (oclif's own `run` over the built commands, stdout and stderr
 * captured) or as the built binary (`bin/run.js`, for terminals, pipes and the real error printer), a real
 * Redis (the run's REDIS_URL) under a unique key prefix per test, the Nessus simulator, a scanners file
 * pointing at it, and the scheduler library itself to seed tasks (the same code the MCP server and the
 * workers run). Build first: `pnpm --filter @nessus-mcp/admin-cli build`.
 */
import { Credentials, Redis, ScannerConfig, Scheduler, type Task } from "@nessus-mcp/scheduler"
import { Simulator } from "@nessus-mcp/nessus-simulator"
import { Config, run } from "@oclif/core"
import { Effect, Layer, ManagedRuntime, Redacted, Schema } from "effect"
import { spawn } from "node:child_process"
import { randomBytes } from "node:crypto"
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { dirname, join, resolve } from "node:path"
import { fileURLToPath } from "node:url"
import { format } from "node:util"

const here = dirname(fileURLToPath(import.meta.url))
/** The package root. */
export const root = resolve(here, "..")
/** The built binary. */
export const bin = join(root, "bin/run.js")
/** The shared `.nessus` fixtures (never copied into the repository). */
export const fixtures = resolve(root, "../../../shared/fixtures/nessus")
/** The run's Redis. */
export const redisUrl = (): string => {
  const url = process.env["REDIS_URL"]
  if (url === undefined || url === "") throw new Error("REDIS_URL is not set: run the tests through the repository's vitest config")
  return url
}

/** What one run of the CLI produced. */
export interface CliResult {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

let config: Config | undefined

/**
 * Runs the CLI in this process, like `bin/run.js` does, with stdout and stderr captured. A thrown error is
 * rendered as oclif's error printer would (message on stderr); the exit code is the process exit code the
 * command set. Not re-entrant: it swaps the global console, so await one run before starting the next.
 */
export const cli = async (...argv: Array<string>): Promise<CliResult> => {
  config ??= await Config.load(root)
  const out: Array<string> = []
  const err: Array<string> = []
  const saved = { log: console.log, error: console.error, warn: console.warn, info: console.info, out: process.stdout.write, err: process.stderr.write }
  console.log = (...a: Array<unknown>) => void out.push(`${format(...a)}\n`)
  console.info = console.log
  console.error = (...a: Array<unknown>) => void err.push(`${format(...a)}\n`)
  console.warn = console.error
  process.stdout.write = ((chunk: string | Uint8Array) => (out.push(String(chunk)), true)) as typeof process.stdout.write
  process.stderr.write = ((chunk: string | Uint8Array) => (err.push(String(chunk)), true)) as typeof process.stderr.write
  process.exitCode = undefined
  let code: number
  try {
    // oclif's topic help leaves the shared Config unable to find commands afterwards: help gets its own.
    await run(argv, argv.includes("--help") ? await Config.load(root) : config)
    code = Number(process.exitCode ?? 0)
  } catch (e) {
    const error = e as Error & { oclif?: { exit?: number }; code?: string }
    code = Number(process.exitCode ?? error.oclif?.exit ?? 1)
    err.push(`Error: ${error.message}\n${error.code !== undefined ? `Code: ${error.code}\n` : ""}`)
  } finally {
    Object.assign(console, { log: saved.log, error: saved.error, warn: saved.warn, info: saved.info })
    process.stdout.write = saved.out
    process.stderr.write = saved.err
    process.exitCode = undefined
  }
  return { code, stdout: out.join(""), stderr: err.join("") }
}

/** Runs the built binary to completion. */
export const spawnCli = (argv: ReadonlyArray<string>, options: { readonly env?: Record<string, string>; readonly cwd?: string } = {}): Promise<CliResult> =>
  new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [bin, ...argv], {
      env: { ...process.env, NO_COLOR: "1", ...options.env },
      stdio: ["ignore", "pipe", "pipe"],
      ...(options.cwd !== undefined ? { cwd: options.cwd } : {})
    })
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (d) => (stdout += String(d)))
    child.stderr.on("data", (d) => (stderr += String(d)))
    child.once("error", reject)
    child.once("close", (code) => resolvePromise({ code: code ?? -1, stdout, stderr }))
  })

/** Parses stdout as exactly one JSON document. */
export const json = (r: CliResult): any => {
  try {
    return JSON.parse(r.stdout)
  } catch {
    throw new Error(`stdout is not one JSON document (exit ${r.code}):\n${r.stdout}\nstderr:\n${r.stderr}`)
  }
}

/**
 * Checks a `--json` document against the command's result schema (unknown keys rejected) or, when it is
 * an error, against the error schema; returns the document.
 */
export const shape = async (id: string, r: CliResult): Promise<any> => {
  const doc = json(r)
  config ??= await Config.load(root)
  const cmd = config.findCommand(id.replace(/ /g, ":"))
  if (cmd === undefined) throw new Error(`no command ${id}`)
  const loaded = (await cmd.load()) as unknown as { readonly resultSchema: Schema.Top }
  const { ErrorResult } = await import("../dist/Views.js")
  const schema = "error" in doc && Object.keys(doc).length === 1 ? ErrorResult : loaded.resultSchema
  Schema.decodeUnknownSync(schema as Schema.Codec<unknown>)(doc, { onExcessProperty: "error" })
  return doc
}

/** A unique key prefix (with a hash tag, like production). */
export const uniquePrefix = (name: string): string => `{adm-${name}-${randomBytes(4).toString("hex")}}:`

/** A temporary directory. */
export const tempDir = (name: string): string => mkdtempSync(join(tmpdir(), `nessus-admin-${name}-`))

/** Writes a scanners file: pool `nessus` (the given URLs), pool `dmz` (one more scanner). */
export const writeScannersFile = (dir: string, scanners: {
  readonly nessus: ReadonlyArray<{ readonly id: string; readonly url: string; readonly password?: string; readonly apiMode?: string; readonly max?: number; readonly enabled?: boolean }>
  readonly dmz: ReadonlyArray<{ readonly id: string; readonly url: string; readonly password?: string; readonly apiMode?: string; readonly max?: number }>
}): string => {
  const scanner = (s: { readonly id: string; readonly url: string; readonly password?: string; readonly apiMode?: string; readonly max?: number; readonly enabled?: boolean }) =>
    [
      `      - instance_id: ${s.id}`,
      `        url: ${s.url}`,
      "        username: nessus",
      `        password: ${s.password ?? "${ADMIN_TEST_NESSUS_PASSWORD:-nessus}"}`,
      `        api_mode: ${s.apiMode ?? "auto"}`,
      `        max_concurrent_scans: ${s.max ?? 2}`,
      `        enabled: ${s.enabled ?? true}`
    ].join("\n")
  const file = join(dir, "scanners.yaml")
  writeFileSync(
    file,
    [
      "default_pool: nessus",
      "pools:",
      "  nessus:",
      "    allowed_targets: [192.0.2.0/24, 198.51.100.0/24]",
      "    scanners:",
      ...scanners.nessus.map(scanner),
      "  dmz:",
      "    allowed_targets: [203.0.113.0/24]",
      "    scanners:",
      ...scanners.dmz.map(scanner),
      "credentials:",
      "  linux-admin:",
      "    username: scanuser",
      "    password: ${ADMIN_TEST_SCAN_PASS:-scanpass}",
      "    elevate_privileges_with: sudo",
      ""
    ].join("\n")
  )
  return file
}

/** The scheduler (Redis backend, same prefix and scanners file as the CLI under test), for seeding. */
export const schedulerRuntime = (prefix: string, configFile: string, credentialsKey?: string) =>
  ManagedRuntime.make(
    Scheduler.layerRedis({ prefix }).pipe(
      Layer.provideMerge(Credentials.layer(credentialsKey === undefined ? {} : { key: Redacted.make(credentialsKey) })),
      Layer.provideMerge(ScannerConfig.layer({ path: configFile })),
      Layer.provideMerge(Redis.layer({ url: redisUrl() }))
    )
  )

/** A seeding runtime. */
export type SchedulerRuntime = ReturnType<typeof schedulerRuntime>

/** Submits an untrusted scan and returns its task. */
export const submit = (name: string, options: { readonly pool?: string; readonly targets?: string; readonly instance?: string } = {}) =>
  Effect.gen(function*() {
    const scheduler = yield* Scheduler.Scheduler
    const { task } = yield* scheduler.submit({
      scanType: "untrusted",
      name,
      targets: options.targets ?? (options.pool === "dmz" ? "203.0.113.5" : "192.0.2.10"),
      pool: options.pool,
      instance: options.instance
    })
    return task
  })

/** Submits a scan, claims it and fails it permanently, so it lands in the dead-letter queue. */
export const deadLetter = (name: string, options: { readonly pool?: string; readonly message?: string } = {}) =>
  Effect.gen(function*() {
    const scheduler = yield* Scheduler.Scheduler
    const task = yield* submit(name, options)
    const claim = yield* scheduler.claim({ pool: options.pool, worker: "test-worker" })
    if (claim._tag === "None" || claim.value.task.id !== task.id) return yield* Effect.die(new Error("expected to claim the task just submitted"))
    yield* scheduler.setPhase(claim.value.lease, "launched", { nessusScanId: 42 })
    yield* scheduler.fail(claim.value.lease, { reason: "auth_rejected", message: options.message ?? "Nessus refused the login (HTTP 401)" })
    return task.id as Task.TaskId
  })

/** A fresh queue (unique key prefix) over the file's scanners file, with a seeding runtime. */
export interface Queue {
  readonly prefix: string
  /** `--redis-url … --prefix … --config …` for commands that use the queue. */
  readonly flags: ReadonlyArray<string>
  readonly rt: SchedulerRuntime
  /** Runs a seeding program against this queue. */
  readonly seed: <A, E>(effect: Effect.Effect<A, E, Scheduler.Scheduler>) => Promise<A>
}

/** The environment of a test file: a simulator, a scanners file for it, a data dir, fresh queues on demand. */
export interface Env {
  readonly configFile: string
  readonly dataDir: string
  readonly dir: string
  readonly sim: Simulator.RunningSimulator
  /** A new queue with its own key prefix (tests do not see each other's tasks); seeding may seal inline credentials. */
  readonly queue: (name: string, options?: { readonly credentialsKey?: string }) => Queue
  readonly close: () => Promise<void>
}

/** Starts a simulator with two scanners and writes a scanners file for it (pool nessus: scanner1, scanner2; pool dmz: dmz1). */
export const makeEnv = async (name: string): Promise<Env> => {
  const sim = await Simulator.start({ scanners: [{ id: "pro", scanDurationMs: 0, exportDelayMs: 0 }, { id: "dmz", scanDurationMs: 0, exportDelayMs: 0 }] })
  const dir = tempDir(name)
  const dataDir = join(dir, "data")
  mkdirSync(dataDir, { recursive: true })
  const configFile = writeScannersFile(dir, {
    nessus: [{ id: "scanner1", url: sim.scanners[0]!.url }, { id: "scanner2", url: sim.scanners[0]!.url, max: 1 }],
    dmz: [{ id: "dmz1", url: sim.scanners[1]!.url }]
  })
  const runtimes: Array<SchedulerRuntime> = []
  return {
    configFile,
    dataDir,
    dir,
    sim,
    queue: (q, options = {}) => {
      const prefix = uniquePrefix(`${name}-${q}`)
      const rt = schedulerRuntime(prefix, configFile, options.credentialsKey)
      runtimes.push(rt)
      return { prefix, flags: ["--redis-url", redisUrl(), "--prefix", prefix, "--config", configFile], rt, seed: (effect) => rt.runPromise(effect) }
    },
    close: async () => {
      for (const rt of runtimes) await rt.dispose()
      await sim.close()
    }
  }
}
