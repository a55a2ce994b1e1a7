/**
 * Housekeeping, periodic (default hourly) and on demand:
 *
 * 1. Terminal tasks whose retention elapsed since their last access (reading status or results counts
 *    as access; completed 7 days, failed and timed out 30 days) are deleted with their artifacts.
 * 2. Running tasks older than the maximum scan duration (24 h) are stopped on Nessus and marked
 *    `timeout`.
 * 3. On every enabled scanner, finished scans this system created (names matching
 *    `Task.isOwnScanName`) are deleted after `scanRetention`. Scans it did not create are never touched.
 *
 * The Nessus and file-system calls belong to the worker, which implements the `ScanJanitor` service.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Housekeeping } from "@nessus-mcp/scheduler"
 *
 * // admin CLI: what would be done, without doing it
 * const preview = Housekeeping.run({ dryRun: true }).pipe(Effect.provide(Housekeeping.layerNoopJanitor))
 * ```
 */
import { Clock, Context, Duration, Effect, Layer, Schedule } from "effect"
import * as ScannerConfig from "./ScannerConfig.js"
import { Scheduler } from "./Scheduler.js"
import type * as SchedulerError from "./SchedulerError.js"
import * as Task from "./Task.js"

/**
 * What housekeeping needs done outside the scheduler's store; the worker implements it.
 *
 * - `stopScan`: stop (and delete) a stale task's scan on its scanner (`scanner` is `undefined` if it
 *   left the configuration).
 * - `deleteArtifacts`: delete an expired task's result files.
 * - `deleteFinishedScans`: on one scanner, delete finished scans whose name passes `isOwnScanName` and
 *   that finished before `before`; with `dryRun`, only count them. Returns the count.
 *
 * @category services
 */
export class ScanJanitor extends Context.Service<ScanJanitor, {
  readonly stopScan: (task: Task.Task, scanner: ScannerConfig.Scanner | undefined) => Effect.Effect<void, unknown>
  readonly deleteArtifacts: (task: Task.Task) => Effect.Effect<void, unknown>
  readonly deleteFinishedScans: (
    scanner: ScannerConfig.Scanner,
    options: { readonly before: Date; readonly isOwnScanName: (name: string) => boolean; readonly dryRun: boolean }
  ) => Effect.Effect<number, unknown>
}>()("@nessus-mcp/scheduler/ScanJanitor") {}

/**
 * A janitor that touches nothing outside the store (previews, tests, processes without Nessus access).
 *
 * @category layers
 */
export const layerNoopJanitor: Layer.Layer<ScanJanitor> = Layer.succeed(
  ScanJanitor,
  ScanJanitor.of({ stopScan: () => Effect.void, deleteArtifacts: () => Effect.void, deleteFinishedScans: () => Effect.succeed(0) })
)

/**
 * Housekeeping settings: `scanRetention` (24 h) for finished scans on the scanners, `dryRun` to only
 * report, `interval` (1 h) for `runPeriodically`.
 *
 * @category models
 */
export interface Options {
  readonly dryRun?: boolean | undefined
  readonly scanRetention?: Duration.Input | undefined
  readonly interval?: Duration.Input | undefined
}

/**
 * What one run did (or, with `dryRun`, would do).
 *
 * @category models
 */
export interface Report {
  readonly dryRun: boolean
  readonly expired: ReadonlyArray<{ readonly taskId: string; readonly state: Task.State; readonly lastAccessAt: string }>
  readonly timedOut: ReadonlyArray<{ readonly taskId: string; readonly instanceId: string | undefined; readonly nessusScanId: number | undefined; readonly startedAt: string | undefined }>
  readonly scannerScans: ReadonlyArray<{ readonly instanceId: string; readonly deleted: number }>
  readonly errors: ReadonlyArray<string>
}

const describe = (e: unknown): string =>
  e !== null && typeof e === "object" && "message" in e && typeof e.message === "string" ? e.message : String(e)

/**
 * One housekeeping run.
 *
 * @category running
 */
export const run = (options: Options = {}): Effect.Effect<Report, SchedulerError.SchedulerError, Scheduler | ScannerConfig.ScannerConfig | ScanJanitor> =>
  Effect.gen(function*() {
    const scheduler = yield* Scheduler
    const janitor = yield* ScanJanitor
    const config = yield* (yield* ScannerConfig.ScannerConfig).current
    const dryRun = options.dryRun ?? false
    const errors: Array<string> = []

    const expiredTasks = yield* scheduler.expire({ dryRun })
    if (!dryRun) {
      for (const task of expiredTasks) {
        if (task.artifacts === undefined) continue
        yield* janitor.deleteArtifacts(task).pipe(
          Effect.catchCause((cause) => Effect.sync(() => errors.push(`artifacts of ${task.id}: ${describe(cause)}`)))
        )
      }
    }

    const stale = yield* scheduler.staleRunning
    const timedOut: Array<Report["timedOut"][number]> = []
    for (const task of stale) {
      timedOut.push({ taskId: task.id, instanceId: task.instance, nessusScanId: task.nessusScanId, startedAt: task.startedAt })
      if (dryRun) continue
      const scanner = task.instance === undefined ? undefined : ScannerConfig.scannerOf(config, task.instance)
      yield* janitor.stopScan(task, scanner).pipe(
        Effect.catchCause((cause) => Effect.sync(() => errors.push(`stopping scan of ${task.id} on ${task.instance}: ${describe(cause)}`)))
      )
      yield* scheduler.timeout(task.id, "The scan ran longer than the maximum scan duration and was stopped.").pipe(
        Effect.catch((e) => Effect.sync(() => errors.push(`marking ${task.id} timeout: ${e.message}`)))
      )
    }

    const now = yield* Clock.currentTimeMillis
    const before = new Date(now - Duration.toMillis(options.scanRetention ?? "24 hours"))
    const scannerScans: Array<Report["scannerScans"][number]> = []
    for (const scanner of config.pools.flatMap((p) => p.scanners).filter((s) => s.enabled)) {
      const deleted = yield* janitor.deleteFinishedScans(scanner, { before, isOwnScanName: Task.isOwnScanName, dryRun }).pipe(
        Effect.catchCause((cause) => Effect.sync(() => (errors.push(`cleaning scans on ${scanner.instanceId}: ${describe(cause)}`), 0)))
      )
      scannerScans.push({ instanceId: scanner.instanceId, deleted })
    }

    return {
      dryRun,
      expired: expiredTasks.map((t) => ({ taskId: t.id, state: t.state, lastAccessAt: t.lastAccessAt })),
      timedOut,
      scannerScans,
      errors
    } satisfies Report
  })

/**
 * Runs housekeeping now and then every `interval` (default 1 hour), logging each report; never ends.
 *
 * @category running
 */
export const runPeriodically = (options: Options = {}): Effect.Effect<never, never, Scheduler | ScannerConfig.ScannerConfig | ScanJanitor> =>
  run(options).pipe(
    Effect.tap((r) =>
      Effect.logInfo(`housekeeping: ${r.expired.length} expired, ${r.timedOut.length} timed out, ${r.scannerScans.reduce((n, s) => n + s.deleted, 0)} scanner scans deleted, ${r.errors.length} errors`)
    ),
    Effect.catch((e) => Effect.logError(`housekeeping failed: ${e.message}`)),
    Effect.repeat(Schedule.spaced(options.interval ?? "1 hour")),
    Effect.andThen(Effect.never)
  )
