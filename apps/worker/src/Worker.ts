/**
 * The worker: claims scan tasks from the scheduler for its pools and drives each one on its scanner through
 * create → launch → poll → export → validate, recording the phase as it goes so that any other worker can
 * take over after a crash.
 *
 * - Takeover (a lease expired): a scan whose phase is `launched` or later is resumed (polled, exported),
 *   never launched again; in phase `creating` the scan is looked up first (by the Nessus scan id if one was
 *   recorded, else by its unique name `nmcp-<task>-a<attempt>` in the system's folder) and launched only
 *   if Nessus says it never ran (`empty`).
 * - Polling follows an adaptive `Schedule` (fast first, slower for long scans); the progress is recorded
 *   on the task at every poll (and in `DATA_DIR/<task>/status.json`). A heartbeat keeps the lease alive.
 * - Cancellation: when the task is cancelled, the scan is stopped on Nessus (and awaited until it left
 *   `stopping`, so the scanner's slot is really free), then the lease is handed back.
 * - The export streams to `DATA_DIR/<task>/scan.nessus.part` and is renamed to `scan.nessus`; the
 *   validator builds the verdict and the findings index (`index/`) in one pass. An `authentication_failed`
 *   verdict fails the task (straight to the dead-letter queue) with the hosts and troubleshooting hints,
 *   while the index stays readable.
 * - Failures: transient Nessus errors are first retried in place (`retry` policy as a `Schedule`), then
 *   reported to the scheduler, which requeues the task with backoff and counts scanner failures towards
 *   the scanner's circuit; permanent ones go to the dead-letter queue with their reason.
 * - Shutdown (the layer's scope closes, e.g. on SIGTERM): stop claiming, interrupt the tasks, hand every
 *   lease back at once. Nessus scans keep running; whoever claims the task next resumes it.
 *
 * @example
 * ```ts
 * import { Effect, Layer } from "effect"
 * import { Credentials, ScannerConfig, Scheduler } from "@nessus-mcp/scheduler"
 * import { Worker } from "@nessus-mcp/worker"
 *
 * // In-process with the in-memory backend (the MCP server's `pnpm start`):
 * const SchedulerLive = Scheduler.layerMemory().pipe(
 *   Layer.provideMerge(Credentials.layer()),
 *   Layer.provideMerge(ScannerConfig.layer({ path: "config/scanners.yaml" }))
 * )
 * const WorkerLive = Worker.layerComplete({ dataDir: "data", concurrency: 4 }).pipe(Layer.provide(SchedulerLive))
 * ```
 */
import { NodeFileSystem } from "@effect/platform-node"
import { type NessusClient, NessusError, NessusModel } from "@nessus-mcp/nessus-client"
import { Housekeeping, Retry, ScannerConfig, Scheduler, SchedulerError, Task } from "@nessus-mcp/scheduler"
import { FindingsIndex } from "@nessus-mcp/validator"
import { Cause, Clock, Context, Duration, Effect, Exit, Fiber, Layer, Option, Ref, Schedule, Scope } from "effect"
import { hostname } from "node:os"
import { randomBytes } from "node:crypto"
import * as Artifacts from "./internal/artifacts.js"
import { authenticationHints, fromNessus, reasonOf, TaskFailure } from "./internal/failure.js"
import * as Janitor from "./Janitor.js"
import * as ScannerClients from "./ScannerClients.js"
import * as Tracing from "./Tracing.js"
import * as WorkerMetrics from "./WorkerMetrics.js"

// ---------------------------------------------------------------------------------------------------
// models

/**
 * Polling of a running scan: the first poll comes right after launch, the next after `initial`, each
 * following delay is `factor` times longer, capped at `max`. Transient errors while polling are retried
 * on the same curve for at most `errorTolerance` before the attempt fails.
 *
 * Defaults: 2 s, ×1.5, at most 30 s; 5 minutes of error tolerance.
 *
 * @category models
 */
export interface PollOptions {
  readonly initial?: Duration.Input | undefined
  readonly max?: Duration.Input | undefined
  readonly factor?: number | undefined
  readonly errorTolerance?: Duration.Input | undefined
}

/**
 * Worker settings. Only `dataDir` is required.
 *
 * - `pools`: pools to claim from (default: every pool of the configuration, re-read at each claim).
 * - `instances`: scanners this worker starts new scans on (default: all). The scheduler applies the
 *   filter inside its atomic claim (pool tasks go only to listed scanners, instance-bound tasks are
 *   claimed only for listed ones); a task whose lease expired is still taken over whatever its scanner,
 *   since its scan must be finished (the clients know every scanner of the file).
 * - `concurrency`: tasks this worker runs at once (default 4). Scanner capacity is enforced by the
 *   scheduler across all workers; this only bounds this process.
 * - `workerId`: lease owner name (default `<hostname>-<pid>-<random>`).
 * - `poll`: see {@link PollOptions}.
 * - `heartbeatInterval`: lease renewal period (default 10 s; keep it well under the scheduler's lease
 *   duration, 60 s by default).
 * - `idleInterval`: how often an idle slot asks for work (default 1 s).
 * - `retry`: in-place retries of transient Nessus failures before the attempt is reported (default
 *   `Retry.defaultPolicy`: 3 retries after 1 s, 2 s, 4 s, jittered).
 * - `stopTimeout`: how long to wait for a stopped scan to leave `stopping` (default 60 s).
 * - `folder`: the Nessus folder of the scans this system creates (default `nessus-mcp`; a scanner's
 *   `folder` wins). `template`: default scan template (`basic`; a scanner's `template` wins).
 *
 * @category models
 */
export interface Options {
  readonly dataDir: string
  readonly pools?: ReadonlyArray<string> | undefined
  readonly instances?: ReadonlyArray<string> | undefined
  readonly concurrency?: number | undefined
  readonly workerId?: string | undefined
  readonly poll?: PollOptions | undefined
  readonly heartbeatInterval?: Duration.Input | undefined
  readonly idleInterval?: Duration.Input | undefined
  readonly retry?: Retry.Policy | undefined
  readonly stopTimeout?: Duration.Input | undefined
  readonly folder?: string | undefined
  readonly template?: string | undefined
}

/**
 * Housekeeping run by the worker (it implements the Nessus-side actions): `interval` (default 1 h),
 * `scanRetention` (finished scans of this system are deleted from the scanners after this long; default
 * 24 h). `false` turns it off.
 *
 * @category models
 */
export type HousekeepingOptions = {
  readonly interval?: Duration.Input | undefined
  readonly scanRetention?: Duration.Input | undefined
} | false

/**
 * What the worker reports about itself.
 *
 * @category models
 */
export interface Service {
  /** The lease owner name this worker claims under. */
  readonly workerId: string
  /** Ids of the tasks running in this worker now. */
  readonly active: Effect.Effect<ReadonlyArray<string>>
  /** Stops claiming, interrupts the running tasks and hands their leases back (idempotent). */
  readonly shutdown: Effect.Effect<void>
}

/**
 * The worker service; it runs for as long as its layer's scope is open.
 *
 * @category services
 */
export class Worker extends Context.Service<Worker, Service>()("@nessus-mcp/worker/Worker") {}

/**
 * The validation summary recorded on a task (and in `status.json`).
 *
 * @category models
 */
export interface ValidationSummary {
  readonly valid: boolean
  readonly error: { readonly code: string; readonly message: string } | null
  readonly warnings: ReadonlyArray<string>
  readonly authentication_status: string
  readonly hosts_scanned: number
  readonly total_vulnerabilities: number
  readonly findings_total: number
  readonly severity_breakdown: { readonly critical: number; readonly high: number; readonly medium: number; readonly low: number; readonly info: number }
  readonly credentialed_hosts: number
  readonly file_size_bytes: number
  readonly file_size_kb: number
  /** Hosts whose authentication failed (at most 50), when any did. */
  readonly failed_hosts: ReadonlyArray<string>
  /** Steps to take when authentication failed. */
  readonly troubleshooting: ReadonlyArray<string>
}

// ---------------------------------------------------------------------------------------------------
// schedules

/**
 * The adaptive polling schedule: delays `initial`, `initial × factor`, … capped at `max`.
 *
 * @category schedules
 */
export const pollSchedule = (options: PollOptions = {}): Schedule.Schedule<Duration.Duration> => {
  const max = Duration.fromInputUnsafe(options.max ?? "30 seconds")
  return Schedule.exponential(options.initial ?? "2 seconds", options.factor ?? 1.5).pipe(
    Schedule.modifyDelay(({ duration }) => Effect.succeed(Duration.min(duration, max)))
  )
}

/**
 * The idle schedule of a claim slot: right away after a task ran (`true`), after `idle` when there was
 * nothing to claim (`false`).
 *
 * @category schedules
 */
export const claimSchedule = (idle: Duration.Input): Schedule.Schedule<number, boolean> =>
  Schedule.spaced(idle).pipe(
    Schedule.setInputType<boolean>(),
    Schedule.modifyDelay(({ duration, input }) => Effect.succeed(input ? Duration.zero : duration))
  )

/**
 * The failure reason the worker reports for a Nessus client error (`Unauthorized` → `auth_rejected`,
 * `ScanApiUnavailable` → `api_unavailable`, 5xx → `http_5xx`, refused connections → `scanner_down`, …).
 *
 * @category classification
 */
export const failureReasonOf: (error: NessusError.NessusError) => Retry.FailureReason = reasonOf

// ---------------------------------------------------------------------------------------------------
// implementation

type Env = Scheduler.Scheduler | ScannerConfig.ScannerConfig | ScannerClients.ScannerClients | WorkerMetrics.WorkerMetrics

interface RunState {
  scanId: number | undefined
  launched: boolean
  progress: number
  /** What the worker has learned about the results so far (recorded on the task even if it fails). */
  result: Task.CompletionResult | undefined
}

/** A Nessus percentage as the scheduler accepts it (0–100). */
const percentOf = (p: number): number => (Number.isFinite(p) ? Math.min(100, Math.max(0, p)) : 0)

const phaseAtLeast = (phase: Task.Phase | undefined, min: Task.Phase): boolean =>
  phase !== undefined && Task.phases.indexOf(phase) >= Task.phases.indexOf(min)

const secondsSince = (iso: string | undefined, now: number): number | undefined =>
  iso === undefined ? undefined : (now - Date.parse(iso)) / 1000

/**
 * Builds the worker and starts its claim slots in the current scope; closing the scope shuts it down
 * gracefully (see the module description).
 *
 * @category constructors
 */
export const make = (options: Options): Effect.Effect<Service, never, Env | Scope.Scope> =>
  Effect.gen(function*() {
    const scheduler = yield* Scheduler.Scheduler
    const scannerConfig = yield* ScannerConfig.ScannerConfig
    const clients = yield* ScannerClients.ScannerClients
    const metrics = yield* WorkerMetrics.WorkerMetrics
    const scope = yield* Scope.Scope

    const workerId = options.workerId ?? `${hostname()}-${process.pid}-${randomBytes(3).toString("hex")}`
    const concurrency = Math.max(1, Math.floor(options.concurrency ?? 4))
    const heartbeatEvery = options.heartbeatInterval ?? "10 seconds"
    const retryPolicy = options.retry ?? Retry.defaultPolicy
    const stopTimeout = options.stopTimeout ?? "60 seconds"
    const defaultFolder = options.folder ?? "nessus-mcp"
    const poll = pollSchedule(options.poll)
    const pollInitial = Duration.fromInputUnsafe(options.poll?.initial ?? "2 seconds")
    const pollMax = Duration.fromInputUnsafe(options.poll?.max ?? "30 seconds")
    const stoppedGrace = Duration.max(Duration.seconds(5), Duration.times(pollMax, 2))

    const stopping = yield* Ref.make(false)
    const active = new Set<string>()
    const folders = new Map<string, number>()
    let nextPool = 0

    const countRetries = <I extends NessusError.NessusError>(schedule: Schedule.Schedule<unknown, I>) =>
      schedule.pipe(Schedule.tap(({ input }) => Effect.sync(() => metrics.retry(reasonOf(input)))))

    const callRetry = countRetries(Retry.schedule(retryPolicy).pipe(Schedule.setInputType<NessusError.NessusError>()))
    const pollRetry = countRetries(
      Schedule.exponential(pollInitial, 2).pipe(
        Schedule.modifyDelay(({ duration }) => Effect.succeed(Duration.min(duration, pollMax))),
        Schedule.upTo({ duration: options.poll?.errorTolerance ?? "5 minutes" }),
        Schedule.setInputType<NessusError.NessusError>()
      )
    )
    const retried = <A, R>(self: Effect.Effect<A, NessusError.NessusError, R>) =>
      Effect.retry(self, { schedule: callRetry, while: (e) => e.isTransient })

    const folderOf = (scanner: ScannerConfig.Scanner, client: NessusClient.Service) =>
      Effect.suspend(() => {
        const known = folders.get(scanner.instanceId)
        if (known !== undefined) return Effect.succeed(known)
        return retried(client.ensureFolder(scanner.folder ?? defaultFolder)).pipe(
          Effect.tap((id) => Effect.sync(() => folders.set(scanner.instanceId, id)))
        )
      })

    /** Stops a scan and waits until it no longer holds a scanner slot (bounded). */
    const stopAndAwait = (client: NessusClient.Service, scanId: number) =>
      Effect.gen(function*() {
        const now = yield* retried(client.scanProgress(scanId))
        if (!NessusModel.isActive(now.status)) return now.status
        yield* retried(client.stopScan(scanId)).pipe(
          Effect.catchIf((e) => e.reason === "Conflict" || e.reason === "NotFound", () => Effect.void)
        )
        const final = yield* client.scanProgress(scanId).pipe(
          Effect.repeat({ schedule: Schedule.spaced(pollInitial), until: (p) => !NessusModel.isActive(p.status) }),
          Effect.timeoutOption(stopTimeout)
        )
        return Option.match(final, { onNone: () => "stopping" as const, onSome: (p) => p.status })
      })

    // -- one task ---------------------------------------------------------------------------------

    const runClaim = (claim: Scheduler.Claim) =>
      Effect.gen(function*() {
        const { lease, task } = claim
        const state: RunState = {
          scanId: task.phase !== undefined ? task.nessusScanId : undefined,
          launched: phaseAtLeast(task.phase, "launched") && task.nessusScanId !== undefined,
          // A takeover resumes the same scan: keep the progress it had reached.
          progress: claim.takeover ? task.progress ?? 0 : 0,
          result: undefined
        }
        const paths = Artifacts.pathsOf(options.dataDir, task.id)
        const claimedAt = yield* Clock.currentTimeMillis
        if (!claim.takeover) {
          const waited = task.startedAt === undefined ? undefined : (Date.parse(task.startedAt) - Date.parse(task.createdAt)) / 1000
          if (waited !== undefined && task.attempt === 1) metrics.queueWait(waited)
        }
        yield* Effect.logInfo(
          claim.takeover
            ? `took over task in phase ${task.phase ?? "creating"} (attempt ${task.attempt}, Nessus scan ${state.scanId ?? "unknown"})`
            : `claimed task (attempt ${task.attempt}, ${task.scanType}, ${task.targets.length} target entries)`
        )

        const resolved = yield* clients.forInstance(lease.instanceId).pipe(
          Effect.map((r) => ({ ...r, scanner: claim.scanner ?? r.scanner })),
          Effect.mapError((e) => new TaskFailure({ reason: "internal", message: e.message }))
        )
        const { client, scanner } = resolved

        const writeStatus = (extra: Record<string, unknown>) =>
          Artifacts.ensureDir(paths.dir).pipe(
            Effect.andThen(
              Artifacts.writeJsonAtomic(paths.status, {
                task_id: task.id,
                scanner: lease.instanceId,
                nessus_scan_id: state.scanId ?? null,
                progress: state.progress,
                updated_at: new Date().toISOString(),
                ...extra
              })
            ),
            Effect.catch((e) => Effect.logWarning(`status file not written: ${e.message}`))
          )

        const recordPhase = (phase: Task.Phase) =>
          Effect.gen(function*() {
            yield* scheduler.setPhase(lease, phase, { nessusScanId: state.scanId, progress: state.progress })
            yield* writeStatus({ phase })
          })

        // 1. create (or find) and launch -----------------------------------------------------------
        const ensureLaunched = Effect.gen(function*() {
          const folderId = yield* folderOf(scanner, client).pipe(Effect.mapError(fromNessus("preparing the scan folder")))
          if (state.scanId === undefined && (claim.takeover || task.phase !== undefined && task.phase !== "creating")) {
            const found = yield* retried(client.findScanByName(claim.scanName, { folderId })).pipe(
              Effect.mapError(fromNessus("looking up the scan after a takeover"))
            )
            if (Option.isSome(found)) {
              state.scanId = found.value.id
              state.launched = found.value.status !== "empty"
              yield* Effect.logInfo(`found scan ${found.value.id} by name (status ${found.value.status})`)
            }
          } else if (state.scanId !== undefined && !state.launched) {
            const existing = yield* retried(client.scanProgress(state.scanId)).pipe(
              Effect.map(Option.some),
              Effect.catchIf((e) => e.reason === "NotFound", () => Effect.succeed(Option.none<NessusClient.ScanProgress>())),
              Effect.mapError(fromNessus("checking the scan after a takeover"))
            )
            if (Option.isSome(existing)) state.launched = existing.value.status !== "empty"
            else state.scanId = undefined
          }
          if (state.scanId === undefined) {
            const credential = yield* scheduler.credentialFor(task.id).pipe(
              Effect.catchIf(
                (e) => e.reason === "credentials_invalid" || e.reason === "unknown_credential" || e.reason === "inline_credentials_disabled",
                (e) => Effect.fail(new TaskFailure({ reason: "internal", message: e.message }))
              )
            )
            const spec: NessusModel.CreateScan = {
              name: claim.scanName,
              targets: task.targets,
              description: `${task.name}${task.description === "" ? "" : ` - ${task.description}`} [nessus-mcp task ${task.id}]`.slice(0, 2000),
              template: scanner.template ?? options.template ?? "basic",
              folderId,
              ...(scanner.scannerId !== undefined ? { scannerId: scanner.scannerId } : {}),
              ...(Option.isSome(credential)
                ? {
                  credentials: {
                    ssh: [{
                      username: credential.value.username,
                      password: credential.value.password,
                      escalation: credential.value.elevatePrivilegesWith,
                      ...(credential.value.escalationAccount !== undefined ? { escalationAccount: credential.value.escalationAccount } : {}),
                      ...(credential.value.escalationPassword !== undefined ? { escalationPassword: credential.value.escalationPassword } : {})
                    }]
                  }
                }
                : {})
            }
            // A retry after an unclear failure looks for the scan first, so it is never created twice.
            const lookupThenCreate = Effect.flatMap(client.findScanByName(claim.scanName, { folderId }), (found) =>
              Option.isSome(found)
                ? Effect.succeed({ id: found.value.id, launched: found.value.status !== "empty" })
                : Effect.map(client.createScan(spec), (s) => ({ id: s.id, launched: false })))
            const created = yield* client.createScan(spec).pipe(
              Effect.map((s) => ({ id: s.id, launched: false })),
              Effect.catchIf((e) => e.isTransient, (e) => {
                metrics.retry(reasonOf(e))
                return retried(lookupThenCreate)
              }),
              Effect.mapError(fromNessus("creating the scan"))
            )
            state.scanId = created.id
            state.launched = created.launched
            yield* Effect.logInfo(`created scan ${created.id} (${claim.scanName})`)
          }
          yield* recordPhase("creating")
          const scanId = state.scanId
          if (!state.launched) {
            const statusThenLaunch = Effect.flatMap(client.scanProgress(scanId), (p) =>
              p.status === "empty" ? Effect.asVoid(client.launchScan(scanId)) : Effect.void)
            yield* client.launchScan(scanId).pipe(
              Effect.asVoid,
              Effect.catchIf((e) => e.isTransient || e.reason === "Conflict", (e) => {
                metrics.retry(reasonOf(e))
                return retried(statusThenLaunch)
              }),
              Effect.mapError(fromNessus("launching the scan"))
            )
            state.launched = true
            yield* Effect.logInfo(`launched scan ${scanId}`)
          }
          yield* recordPhase("launched")
          return scanId
        })

        // 2. poll ----------------------------------------------------------------------------------
        const pollUntilDone = (scanId: number) =>
          Effect.gen(function*() {
            yield* recordPhase("polling")
            const once = client.scanProgress(scanId).pipe(
              Effect.retry({ schedule: pollRetry, while: (e) => e.isTransient }),
              Effect.mapError(fromNessus("polling the scan")),
              Effect.tap((p) =>
                Effect.gen(function*() {
                  const percent = percentOf(p.percent)
                  const changed = percent !== state.progress
                  state.progress = percent
                  yield* recordPhase("polling")
                  if (changed) yield* Effect.logDebug(`scan ${scanId}: ${p.status}, ${p.percent}%`)
                })
              )
            )
            const final = yield* Effect.repeat(once, { schedule: poll, until: (p) => NessusModel.isTerminal(p.status) })
            if (final.status !== "completed" && final.status !== "imported") {
              // Housekeeping (timeout) and cancellation stop the scan before they change the task: give
              // the scheduler a moment to say so (the lease check then fails and settles the task).
              yield* scheduler.heartbeat(lease).pipe(
                Effect.repeat(Schedule.spaced(pollInitial).pipe(Schedule.upTo({ duration: stoppedGrace })))
              )
              return yield* new TaskFailure({
                reason: "scan_failed",
                message: `The Nessus scan ${scanId} on ${lease.instanceId} ended as "${final.status}" without completing (stopped or aborted outside this system, or Nessus failed); check the scanner's logs, then retry the task from the dead-letter queue.`
              })
            }
            state.progress = 100
          })

        // 3. export --------------------------------------------------------------------------------
        const exportScan = (scanId: number) =>
          Effect.gen(function*() {
            if (task.phase === "validating" && (yield* Artifacts.nonEmptyFile(paths.nessus))) return
            // Phases only move forward: a takeover in `validating` whose export is not on this host (another
            // host's data directory) exports again without stepping back to `exporting`.
            if (task.phase !== "validating") yield* recordPhase("exporting")
            yield* Artifacts.ensureDir(paths.dir)
            const { bytes } = yield* retried(client.exportScanToFile(scanId, paths.partial)).pipe(
              Effect.provide(NodeFileSystem.layer),
              Effect.mapError(fromNessus("exporting the scan"))
            )
            yield* Artifacts.renameFile(paths.partial, paths.nessus)
            yield* Effect.logInfo(`exported scan ${scanId} (${bytes} bytes)`)
          })

        // 4. validate ------------------------------------------------------------------------------
        const validate = Effect.gen(function*() {
          yield* recordPhase("validating")
          // Should validation fail, the task still points at the export and the status file.
          state.result = { artifacts: { nessus: paths.nessus, status: paths.status } }
          const built = yield* FindingsIndex.build(paths.nessus, paths.index, { scanType: task.scanType }).pipe(
            Effect.tapError((e) => Effect.sync(() => metrics.validationFailure(task.pool, e.reason))),
            Effect.mapError((e) =>
              new TaskFailure({ reason: "validation_failed", message: `The export of scan ${state.scanId} could not be validated: ${e.message}` })
            )
          )
          const v = built.verdict
          const authFailed = v.error?.code === "authentication_failed"
          const failedHosts = v.hosts.filter((h) => h.authentication_status === "failed").map((h) => h.name)
          const summary: ValidationSummary = {
            valid: v.valid,
            error: v.error,
            warnings: v.warnings,
            authentication_status: v.authentication_status,
            hosts_scanned: v.stats.hosts_scanned,
            total_vulnerabilities: v.stats.total_vulnerabilities,
            findings_total: v.stats.findings_total,
            severity_breakdown: v.stats.severity_counts,
            credentialed_hosts: v.stats.credentialed_hosts,
            file_size_bytes: v.stats.file_size_bytes,
            file_size_kb: Math.round(v.stats.file_size_bytes / 1024),
            failed_hosts: failedHosts.slice(0, 50),
            troubleshooting: authFailed ? authenticationHints(task.scanType) : []
          }
          metrics.validation(task.pool, v.error !== null && !authFailed ? "invalid" : v.authentication_status)
          const artifacts = { nessus: paths.nessus, index: paths.index, status: paths.status }
          yield* writeStatus({ phase: "validating", validation: summary, authentication_status: v.authentication_status, artifacts })
          // Recorded on the task whether it completes or fails (authentication_failed keeps its summary).
          const result: Task.CompletionResult = { validation: summary, authenticationStatus: v.authentication_status, artifacts }
          state.result = result
          if (authFailed) {
            metrics.authFailure(task.pool, task.scanType)
            metrics.validationFailure(task.pool, "authentication_failed")
            return yield* new TaskFailure({
              reason: "authentication_failed",
              message: `${v.error?.message ?? `Authentication failed on ${failedHosts.join(", ")}.`} The findings stay readable (what is visible without logging in). Troubleshooting: ${summary.troubleshooting.join(" ")}`
            })
          }
          if (v.error !== null && v.error.code !== "no_hosts") {
            metrics.validationFailure(task.pool, v.error.code)
            return yield* new TaskFailure({ reason: "validation_failed", message: `The export is not a usable scan result (${v.error.code}): ${v.error.message}` })
          }
          return result
        })

        const pipeline = Effect.gen(function*() {
          const scanId = state.launched && state.scanId !== undefined ? state.scanId : yield* ensureLaunched
          if (!phaseAtLeast(task.phase, "exporting")) yield* pollUntilDone(scanId)
          yield* exportScan(scanId)
          return yield* validate
        }).pipe(Effect.catchTag("ArtifactError", (e) => Effect.fail(new TaskFailure({ reason: "internal", message: e.message }))))

        const heartbeats = scheduler.heartbeat(lease).pipe(
          Effect.tap(() => Effect.sync(() => metrics.heartbeat())),
          Effect.catchIf((e) => e.reason === "backend_unavailable", (e) => Effect.logWarning(`lease renewal failed, retrying: ${e.message}`)),
          Effect.repeat(Schedule.spaced(heartbeatEvery)),
          Effect.andThen(Effect.never)
        )

        const exit = yield* Effect.exit(Effect.raceFirst(pipeline, heartbeats))
        yield* settle(claim, client, state, exit, claimedAt)
      }).pipe(
        Effect.catch((e) => settleEarly(claim, e)),
        Effect.onInterrupt(() =>
          scheduler.release(claim.lease).pipe(
            Effect.tap(() => Effect.logInfo("lease handed back (shutdown); the next claimer resumes the scan")),
            Effect.catch((e) => Effect.logWarning(`could not hand the lease back: ${e.message}`))
          )
        ),
        Effect.annotateLogs({ task_id: claim.task.id, trace_id: claim.task.traceId, scanner: claim.lease.instanceId }),
        // The task's trace (started by the tool call that submitted it): the Nessus client's spans nest here.
        Tracing.withTrace("worker.task", claim.task.traceId, {
          "nessus.task_id": claim.task.id,
          "nessus.pool": claim.task.pool,
          "nessus.scanner_instance": claim.lease.instanceId,
          "nessus.scan_type": claim.task.scanType,
          "nessus.attempt": claim.task.attempt,
          "nessus.takeover": claim.takeover
        })
      )

    /** A failure before the pipeline could start (scanner missing from the configuration, bad client). */
    const settleEarly = (claim: Scheduler.Claim, failure: TaskFailure) =>
      Effect.flatMap(Clock.currentTimeMillis, (now) => reportFailure(claim, failure, now)).pipe(Effect.uninterruptible)

    /** Reports a failed attempt, with the results the worker has (validation summary, artifacts) if any. */
    const reportFailure = (claim: Scheduler.Claim, failure: TaskFailure, claimedAt: number, result?: Task.CompletionResult | undefined) =>
      Effect.gen(function*() {
        const { lease, task } = claim
        const scannerFailure = Retry.isScannerFailure(failure.reason)
        const before = scannerFailure ? yield* circuitState(lease.instanceId) : undefined
        const outcome = yield* scheduler.fail(lease, { reason: failure.reason, message: failure.message }, result)
        const now = yield* Clock.currentTimeMillis
        if (outcome._tag === "Retrying") {
          metrics.retry(failure.reason)
          metrics.scanFinished(task.scanType, "retrying")
          yield* Effect.logWarning(`attempt ${task.attempt} failed (${failure.reason}); requeued, retry at ${outcome.retryAt}: ${failure.message}`)
        } else {
          metrics.scanFinished(task.scanType, "failed")
          metrics.taskDuration(task.scanType, "failed", secondsSince(task.startedAt, now) ?? (now - claimedAt) / 1000)
          yield* Effect.logError(`task failed (${failure.reason}), moved to the dead-letter queue: ${failure.message}`)
        }
        if (scannerFailure && before !== "open" && (yield* circuitState(lease.instanceId)) === "open") {
          metrics.circuitOpened(lease.instanceId)
          yield* Effect.logWarning(`circuit of scanner ${lease.instanceId} opened`)
        }
      }).pipe(
        // Cancelled while the attempt was failing: the lease (and the scanner's slot) is ours to hand back
        // now, rather than held until it expires.
        Effect.catchIf((e) => e.reason === "task_cancelled", () =>
          Effect.gen(function*() {
            yield* scheduler.release(claim.lease)
            metrics.scanFinished(claim.task.scanType, "cancelled")
            yield* Effect.logInfo(`task cancelled while its attempt failed (${failure.reason}); lease handed back`)
          })),
        Effect.catch((e) => Effect.logError(`could not record the failure: ${e.message}`))
      )

    const circuitState = (instanceId: string) =>
      scheduler.circuits.pipe(
        Effect.map((all) => all.find((c) => c.instanceId === instanceId)?.state),
        Effect.orElseSucceed(() => undefined)
      )

    /** Stops the scan of a cancelled task on Nessus (finding it by name if its id was never recorded). */
    const stopCancelled = (claim: Scheduler.Claim, client: NessusClient.Service, state: RunState) =>
      Effect.gen(function*() {
        let scanId = state.scanId
        if (scanId === undefined) {
          const folderId = folders.get(claim.lease.instanceId)
          const found = yield* retried(client.findScanByName(claim.scanName, folderId === undefined ? {} : { folderId }))
          if (Option.isNone(found)) return "no scan on Nessus"
          scanId = found.value.id
          if (found.value.status === "empty") {
            yield* retried(client.deleteScan(scanId))
            return `deleted never-launched scan ${scanId}`
          }
        }
        return `scan ${scanId} is ${yield* stopAndAwait(client, scanId)}`
      })

    const settle = (
      claim: Scheduler.Claim,
      client: NessusClient.Service,
      state: RunState,
      exit: Exit.Exit<Task.CompletionResult, TaskFailure | SchedulerError.SchedulerError>,
      claimedAt: number
    ) =>
      Effect.gen(function*() {
        const { lease, task } = claim
        const now = () => Clock.currentTimeMillis
        if (Exit.isSuccess(exit)) {
          const done = yield* scheduler.complete(lease, exit.value).pipe(Effect.result)
          if (done._tag === "Success") {
            const t = yield* now()
            metrics.scanFinished(task.scanType, "completed")
            metrics.taskDuration(task.scanType, "completed", secondsSince(task.startedAt, t) ?? (t - claimedAt) / 1000)
            yield* Effect.logInfo(`task completed (authentication ${exit.value.authenticationStatus ?? "n/a"})`)
            return
          }
          if (done.failure.reason !== "task_cancelled") {
            yield* Effect.logWarning(`could not complete the task: ${done.failure.message}`)
            return
          }
          return yield* cancelled(claim, client, state, claimedAt)
        }
        const error = Cause.findErrorOption(exit.cause)
        if (Option.isNone(error)) {
          // Interrupted (shutdown is handled by the caller) or a defect.
          if (Cause.hasInterruptsOnly(exit.cause)) return yield* Effect.interrupt
          return yield* reportFailure(
            claim,
            new TaskFailure({ reason: "internal", message: `unexpected error: ${Cause.pretty(exit.cause).slice(0, 1500)}` }),
            claimedAt,
            state.result
          )
        }
        const e = error.value
        if (e._tag === "TaskFailure") {
          if (Retry.isTransient(e.reason) && state.launched && state.scanId !== undefined) {
            // A retry creates a new scan; the old one must not keep holding a slot on the scanner.
            const stopped = yield* stopAndAwait(client, state.scanId).pipe(Effect.result)
            yield* Effect.logInfo(
              stopped._tag === "Success" ? `stopped scan ${state.scanId} before reporting the failure (${stopped.success})` : `could not stop scan ${state.scanId}: ${stopped.failure.message}`
            )
          }
          return yield* reportFailure(claim, e, claimedAt, state.result)
        }
        switch (e.reason) {
          case "task_cancelled":
            return yield* cancelled(claim, client, state, claimedAt)
          case "lease_lost":
          case "not_found":
            return yield* Effect.logWarning(`stopped working on the task: ${e.message}`)
          default:
            yield* Effect.logError(`scheduler failure while running the task; handing the lease back: ${e.message}`)
            return yield* scheduler.release(lease).pipe(Effect.catch((r) => Effect.logWarning(`release failed: ${r.message}`)))
        }
      }).pipe(Effect.uninterruptible)

    const cancelled = (claim: Scheduler.Claim, client: NessusClient.Service, state: RunState, claimedAt: number) =>
      Effect.gen(function*() {
        const stopped = yield* stopCancelled(claim, client, state).pipe(Effect.result)
        yield* Effect.logInfo(
          stopped._tag === "Success" ? `task cancelled; ${stopped.success}` : `task cancelled; stopping the scan failed: ${stopped.failure.message}`
        )
        yield* scheduler.release(claim.lease).pipe(Effect.catch((e) => Effect.logWarning(`release after cancel failed: ${e.message}`)))
        const t = yield* Clock.currentTimeMillis
        metrics.scanFinished(claim.task.scanType, "cancelled")
        metrics.taskDuration(claim.task.scanType, "cancelled", secondsSince(claim.task.startedAt, t) ?? (t - claimedAt) / 1000)
      })

    // -- claiming -----------------------------------------------------------------------------------

    const poolNames = Effect.map(scannerConfig.current, (c) => options.pools ?? c.pools.map((p) => p.name))

    const claimNext = Effect.gen(function*() {
      const pools = yield* poolNames
      for (let i = 0; i < pools.length; i++) {
        const pool = pools[(nextPool + i) % pools.length] as string
        const claim = yield* scheduler.claim({ pool, worker: workerId, instances: options.instances }).pipe(
          Effect.catch((e) => Effect.as(Effect.logWarning(`claim from pool ${pool} failed: ${e.message}`), Option.none<Scheduler.Claim>()))
        )
        if (Option.isSome(claim)) {
          nextPool = (nextPool + i + 1) % pools.length
          return claim
        }
      }
      return Option.none<Scheduler.Claim>()
    })

    const iteration = Effect.uninterruptibleMask((restore) =>
      Effect.gen(function*() {
        if (yield* Ref.get(stopping)) return false
        metrics.heartbeat()
        const claim = yield* claimNext
        if (Option.isNone(claim)) return false
        const id = claim.value.task.id
        active.add(id)
        return yield* restore(runClaim(claim.value)).pipe(
          Effect.ensuring(Effect.sync(() => active.delete(id))),
          Effect.as(true)
        )
      })
    )

    const slot = iteration.pipe(
      Effect.repeat(claimSchedule(options.idleInterval ?? "1 second")),
      Effect.catchCause((cause) =>
        Cause.hasInterruptsOnly(cause) ? Effect.interrupt : Effect.logError(`claim loop stopped unexpectedly: ${Cause.pretty(cause)}`)
      )
    )

    const known = (yield* scannerConfig.current).pools.map((p) => p.name)
    const unknown = (options.pools ?? []).filter((p) => !known.includes(p))
    if (unknown.length > 0) {
      yield* Effect.logError(`pools ${unknown.join(", ")} are not in the scanners file (pools: ${known.join(", ")}); claims from them fail until a reload adds them`)
    }
    const fibers = yield* Effect.forEach(Array.from({ length: concurrency }), () => Effect.forkIn(slot, scope))
    yield* Effect.logInfo(`worker ${workerId} started: ${concurrency} slot(s), pools ${options.pools?.join(", ") ?? "(all)"}`)

    const shutdown = Effect.gen(function*() {
      if (yield* Ref.getAndSet(stopping, true)) return
      const running = active.size
      yield* Fiber.interruptAll(fibers)
      yield* Effect.logInfo(`worker ${workerId} stopped claiming; handed back ${running} lease(s)`)
    })
    yield* Scope.addFinalizer(scope, shutdown)

    return { workerId, active: Effect.sync(() => [...active]), shutdown } satisfies Service
  })

/**
 * The worker for the lifetime of the layer (needs the scheduler, the scanner configuration, the
 * scanner clients and the metrics).
 *
 * @category layers
 */
export const layer = (options: Options): Layer.Layer<Worker, never, Env> => Layer.effect(Worker, make(options))

/**
 * Runs housekeeping (see `Housekeeping` of the scheduler) now and every `interval` for the lifetime of the
 * layer, with this worker's Nessus-side actions (`Janitor`).
 *
 * @category layers
 */
export const layerHousekeeping = (
  options: {
    readonly dataDir: string
    readonly interval?: Duration.Input | undefined
    readonly scanRetention?: Duration.Input | undefined
    readonly stopTimeout?: Duration.Input | undefined
    readonly folder?: string | undefined
  }
): Layer.Layer<never, never, Scheduler.Scheduler | ScannerConfig.ScannerConfig | ScannerClients.ScannerClients | WorkerMetrics.WorkerMetrics> =>
  Layer.effectDiscard(
    Effect.gen(function*() {
      const metrics = yield* WorkerMetrics.WorkerMetrics
      const scheduler = yield* Scheduler.Scheduler
      const once = Housekeeping.run({ scanRetention: options.scanRetention ?? "24 hours" }).pipe(
        Effect.tap((r) =>
          Effect.gen(function*() {
            metrics.ttlDeletions(r.expired.length)
            for (const t of r.timedOut) {
              if (r.errors.some((e) => e.includes(t.taskId))) continue
              const task = yield* Effect.option(scheduler.get(t.taskId))
              if (Option.isSome(task) && task.value.state === "timeout") metrics.scanFinished(task.value.scanType, "timeout")
            }
            yield* Effect.logInfo(
              `housekeeping: ${r.expired.length} expired, ${r.timedOut.length} timed out, ${r.scannerScans.reduce((n, s) => n + s.deleted, 0)} scanner scans deleted, ${r.errors.length} errors`
            )
            for (const e of r.errors) yield* Effect.logWarning(`housekeeping: ${e}`)
          })
        ),
        Effect.catch((e) => Effect.logError(`housekeeping failed: ${e.message}`))
      )
      yield* Effect.forkScoped(Effect.repeat(once, Schedule.spaced(options.interval ?? "1 hour")))
    }).pipe(Effect.provide(Janitor.layer({ dataDir: options.dataDir, stopTimeout: options.stopTimeout, folder: options.folder })))
  )

/**
 * Everything a process needs to run a worker next to an existing scheduler (the MCP server's all-in-one
 * start): the scanner clients, the metrics (into `metrics.registry` if given), the worker and the
 * housekeeping loop. Provides `Worker` and `WorkerMetrics`.
 *
 * @category layers
 */
export const layerComplete = (
  options: Options & {
    readonly clients?: ScannerClients.Options | undefined
    readonly metrics?: WorkerMetrics.Options | undefined
    readonly housekeeping?: HousekeepingOptions | undefined
  }
): Layer.Layer<Worker | WorkerMetrics.WorkerMetrics, never, Scheduler.Scheduler | ScannerConfig.ScannerConfig> => {
  const metrics = WorkerMetrics.layer(options.metrics)
  const clients = ScannerClients.layer(options.clients).pipe(Layer.provide(metrics))
  const housekeeping = options.housekeeping === false
    ? Layer.empty
    : layerHousekeeping({ dataDir: options.dataDir, ...options.housekeeping, stopTimeout: options.stopTimeout, folder: options.folder })
  return Layer.mergeAll(layer(options), housekeeping).pipe(Layer.provide(clients), Layer.provideMerge(metrics))
}
