/**
 * Liveness and readiness of a worker. Liveness only says the process answers. Readiness runs every check
 * concurrently, each bounded in time, and reports each one:
 *
 * - `redis`: Redis answers and runs with `maxmemory-policy noeviction` (skipped with the in-memory
 *   backend);
 * - `config`: the scanners file is loaded (it was, or the worker would not have started; a reload that
 *   failed keeps the previous one);
 * - `data_dir`: the artifact directory is writable;
 * - `scanners`: at least one of this worker's scanners answers `GET /server/status`.
 */
import { ScannerConfig, Redis } from "@nessus-mcp/scheduler"
import { Duration, Effect, Option } from "effect"
import { randomUUID } from "node:crypto"
import { mkdir, rm, writeFile } from "node:fs/promises"
import { join } from "node:path"
import { ScannerClients } from "./ScannerClients.js"

/**
 * One readiness check; fails with a short, secret-free reason.
 *
 * @category models
 */
export interface Check {
  readonly name: string
  readonly run: Effect.Effect<void, string>
}

/**
 * The readiness report served by `/health/ready`.
 *
 * @category models
 */
export interface Report {
  readonly status: "ok" | "fail"
  readonly checks: Readonly<Record<string, { readonly status: "ok" | "fail"; readonly reason?: string }>>
}

/**
 * Runs the checks concurrently, each bounded by `timeout` (default 3 s).
 *
 * @category combinators
 */
export const ready = (checks: ReadonlyArray<Check>, timeout: Duration.Input = "3 seconds"): Effect.Effect<Report> =>
  Effect.forEach(checks, (check) =>
    check.run.pipe(
      Effect.timeoutOrElse({ duration: timeout, orElse: () => Effect.fail(`no answer within ${Duration.format(Duration.fromInputUnsafe(timeout))}`) }),
      Effect.match({
        onFailure: (reason) => [check.name, { status: "fail" as const, reason }] as const,
        onSuccess: () => [check.name, { status: "ok" as const }] as const
      })
    ), { concurrency: "unbounded" }).pipe(
      Effect.map((results) => ({
        status: results.every(([, r]) => r.status === "ok") ? "ok" as const : "fail" as const,
        checks: Object.fromEntries(results)
      }))
    )

/**
 * Redis answers `PING` and its `maxmemory-policy` is `noeviction` (a managed Redis that refuses
 * `CONFIG GET` passes with the policy unknown).
 *
 * @category checks
 */
export const redis: Effect.Effect<Check, never, Redis.Redis> = Effect.map(Effect.context<Redis.Redis>(), (context) => ({
  name: "redis",
  run: Effect.gen(function*() {
    const r = yield* Redis.Redis
    yield* r.use("PING", (c) => c.ping()).pipe(Effect.mapError(() => "redis unreachable"))
    const policy = yield* Redis.evictionPolicy
    if (Option.isSome(policy) && policy.value !== "noeviction") {
      return yield* Effect.fail(`redis maxmemory-policy is ${policy.value}; it must be noeviction`)
    }
  }).pipe(Effect.provide(context))
}))

/**
 * The scanners file is loaded (always true once the worker runs).
 *
 * @category checks
 */
export const config: Effect.Effect<Check, never, ScannerConfig.ScannerConfig> = Effect.gen(function*() {
  const service = yield* ScannerConfig.ScannerConfig
  return {
    name: "config",
    run: Effect.flatMap(service.current, (c) => (c.pools.length > 0 ? Effect.void : Effect.fail("no pools configured")))
  } satisfies Check
})

/**
 * Writes and removes a probe file in `dir` (creating `dir` if needed).
 *
 * @category checks
 */
export const dataDirWritable = (dir: string): Check => ({
  name: "data_dir",
  run: Effect.tryPromise({
    try: async () => {
      await mkdir(dir, { recursive: true })
      const probe = join(dir, `.health-${randomUUID()}`)
      await writeFile(probe, "ok")
      await rm(probe)
    },
    catch: (error) => `data directory is not writable (${(error as NodeJS.ErrnoException).code ?? "error"})`
  })
})

/**
 * At least one of `instances` (default: every enabled scanner of the configuration) answers
 * `GET /server/status`.
 *
 * @category checks
 */
export const scannerReachable = (
  instances?: ReadonlyArray<string> | undefined
): Effect.Effect<Check, never, ScannerConfig.ScannerConfig | ScannerClients> =>
  Effect.gen(function*() {
    const config = yield* ScannerConfig.ScannerConfig
    const clients = yield* ScannerClients
    return {
      name: "scanners",
      run: Effect.gen(function*() {
        const current = yield* config.current
        const scanners = current.pools.flatMap((p) => p.scanners).filter((s) =>
          s.enabled && (instances === undefined || instances.includes(s.instanceId))
        )
        if (scanners.length === 0) return yield* Effect.fail("no enabled scanner configured for this worker")
        const results = yield* Effect.forEach(scanners, (s) =>
          clients.get(s).pipe(
            Effect.flatMap((c) => c.serverStatus),
            Effect.as(true),
            Effect.orElseSucceed(() => false)
          ), { concurrency: "unbounded" })
        if (!results.some(Boolean)) {
          return yield* Effect.fail(`none of ${scanners.length} scanner(s) answered (${scanners.map((s) => s.instanceId).join(", ")})`)
        }
      })
    } satisfies Check
  })
