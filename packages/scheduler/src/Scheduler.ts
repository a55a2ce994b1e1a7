/**
 * The scheduler: a durable scan queue over pools of Nessus scanners.
 *
 * - Submitters (`submit`, `get`, `position`, `list`, `cancel`) see tasks without secrets.
 * - Workers `claim` a task and the scanner to run it on in one atomic step (least-utilised enabled
 *   scanner with a closed circuit and a free slot; instance-bound tasks only on their scanner), then
 *   `heartbeat` the lease, record `setPhase`, and `complete`, `fail` or `release` it. A lease that
 *   expires is taken over by the next claim, from the recorded phase.
 * - Operators read `scanners`, `pools`, `queueStats`, manage the dead-letter queue (`dlqList`,
 *   `dlqInspect`, `dlqRetry`, `dlqPurge`) and circuits (`circuits`, `resetCircuit`,
 *   `circuitTransitions`), and `reload` the configuration, or `requestReload` it in every process on the
 *   same store (processes that run `reloadOnRequest` / `layerReloadOnRequest`).
 * - Capacity figures (`queueStats`, `pools`, `scanners`, positions) count only usable slots as available:
 *   a scanner that is disabled or whose circuit is open offers none.
 *
 * Two backends with the same behaviour: `layerRedis` (ioredis + Lua; the system of record) and
 * `layerMemory` (single process). Time always comes from the Effect `Clock`.
 *
 * @example
 * ```ts
 * import { Config, Effect, Layer, Option } from "effect"
 * import { Credentials, Redis, ScannerConfig, Scheduler } from "@nessus-mcp/scheduler"
 *
 * const SchedulerLive = Scheduler.layerRedis().pipe(
 *   Layer.provideMerge(Credentials.layerConfig({ key: Config.option(Config.Redacted("CREDENTIALS_KEY")) })),
 *   Layer.provideMerge(ScannerConfig.layerConfig({ path: Config.String("SCANNER_CONFIG") })),
 *   Layer.provide(Redis.layerConfig({ url: Config.Redacted("REDIS_URL") }))
 * )
 *
 * const program = Effect.gen(function*() {
 *   const scheduler = yield* Scheduler.Scheduler
 *   const { task, position } = yield* scheduler.submit({ scanType: "untrusted", targets: "192.0.2.10", name: "web" })
 *   return { id: task.id, position }
 * })
 * ```
 */
import { Clock, Context, Duration, Effect, Layer, Option, Queue, Result, type Scope } from "effect"
import { createHash, randomBytes } from "node:crypto"
import * as CircuitBreaker from "./CircuitBreaker.js"
import * as Credentials from "./Credentials.js"
import * as MemoryStore from "./internal/memoryStore.js"
import * as ReloadBus from "./internal/reloadBus.js"
import * as RedisStore from "./internal/redisStore.js"
import type { CircuitMs, Store, StoredCredential, TaskRecord, Ttls } from "./internal/store.js"
import * as Redis from "./Redis.js"
import * as Retry from "./Retry.js"
import * as ScannerConfig from "./ScannerConfig.js"
import * as SchedulerError from "./SchedulerError.js"
import * as Targets from "./Targets.js"
import * as Task from "./Task.js"

// ---------------------------------------------------------------------------------------------------
// models

/**
 * Scheduler settings (all optional).
 *
 * - `leaseDuration` (60 s): how long a claim lasts without a heartbeat.
 * - `retry`: task-level retries of transient failures (3 retries, 1 s / 2 s / 4 s, jittered).
 * - `circuit`: per-scanner breaker (5 failures, 5 min cooldown).
 * - `retention`: TTL of terminal tasks after their last access (completed 7 d, failed/timeout 30 d,
 *   cancelled 7 d).
 * - `maxScanDuration` (24 h): running tasks older than this are reported by `staleRunning`.
 * - `idempotencyTtl` (48 h).
 * - `defaultScanDuration` (30 min): the scan duration assumed for wait estimates before any scan of the
 *   pool completed.
 *
 * @category models
 */
export interface Options {
  readonly leaseDuration?: Duration.Input | undefined
  readonly retry?: Retry.Policy | undefined
  readonly circuit?: CircuitBreaker.Policy | undefined
  readonly retention?: {
    readonly completed?: Duration.Input | undefined
    readonly failed?: Duration.Input | undefined
    readonly cancelled?: Duration.Input | undefined
  } | undefined
  readonly maxScanDuration?: Duration.Input | undefined
  readonly idempotencyTtl?: Duration.Input | undefined
  readonly defaultScanDuration?: Duration.Input | undefined
}

/**
 * Settings of the Redis backend: `prefix` (default `{nessus-mcp}:`) namespaces every key; keep a
 * `{hash tag}` in it so all keys share one Redis Cluster slot.
 *
 * @category models
 */
export interface RedisOptions extends Options {
  readonly prefix?: string | undefined
}

/**
 * A worker's hold on a running task. Pass it to `heartbeat`, `setPhase`, `complete`, `fail`, `release`.
 *
 * @category models
 */
export interface Lease {
  readonly taskId: Task.TaskId
  readonly token: string
  readonly pool: string
  readonly instanceId: string
  readonly attempt: number
  readonly runBase: number
  /** Epoch milliseconds. */
  readonly expiresAt: number
}

/**
 * A claimed task. `takeover` is true when the task was running under another worker whose lease
 * expired: resume from `task.phase` (and `task.nessusScanId`), never launch the scan again; in phase
 * `creating`, look the scan up by `scanName` before creating it.
 *
 * @category models
 */
export interface Claim {
  readonly task: Task.Task
  readonly lease: Lease
  /** The scanner's configuration, or `undefined` if it was removed from the file since. */
  readonly scanner: ScannerConfig.Scanner | undefined
  readonly scanName: string
  readonly takeover: boolean
}

/**
 * What `claim` takes.
 *
 * - `pool`: the pool to claim from (default: the default pool).
 * - `worker`: the lease owner name (shown in task status).
 * - `instances`: restricts where *new* work starts: a pool task is assigned only to a listed scanner,
 *   an instance-bound task is claimed only if its scanner is listed (capacity, circuits and FIFO order as
 *   usual, all in the same atomic step). Ids that are not scanners of the pool are ignored, so one list
 *   can span several pools; an empty list starts nothing new. A task whose lease expired is still taken
 *   over whatever its scanner, because its scan must be finished (the worker resumes it from its phase).
 *
 * @category models
 */
export interface ClaimOptions {
  readonly pool?: string | undefined
  readonly worker: string
  readonly instances?: ReadonlyArray<string> | undefined
}

/**
 * What `setPhase` records besides the phase: the Nessus scan id, and the scan's progress in percent
 * (a finite number from 0 to 100).
 *
 * @category models
 */
export interface PhasePatch {
  readonly nessusScanId?: number | undefined
  readonly progress?: number | undefined
}

/**
 * A failed attempt as the worker reports it. `retryable` overrides the classification of `reason`.
 *
 * @category models
 */
export interface Failure {
  readonly reason: Retry.FailureReason
  readonly message: string
  readonly retryable?: boolean | undefined
}

/**
 * What `fail` did: requeued the task for a retry at `retryAt`, or moved it to the dead-letter queue.
 *
 * @category models
 */
export type FailOutcome =
  | { readonly _tag: "Retrying"; readonly task: Task.Task; readonly retryAt: string }
  | { readonly _tag: "DeadLettered"; readonly task: Task.Task }

/**
 * Result of `submit`. `created` is false when an idempotency key matched an existing task.
 *
 * @category models
 */
export interface Submitted {
  readonly task: Task.Task
  readonly created: boolean
  readonly position: Task.QueuePosition | undefined
}

/**
 * One scanner with live figures from the store.
 *
 * @category models
 */
export interface ScannerStatus {
  readonly instanceId: string
  readonly name: string
  readonly pool: string
  readonly url: string
  readonly apiMode: ScannerConfig.Scanner["apiMode"]
  readonly enabled: boolean
  readonly maxConcurrentScans: number
  readonly running: number
  /**
   * Slots new work can start on now: none while the scanner is disabled or its circuit is open (or
   * half-open with its probe running), at most one while half-open (the probe), else max - running.
   */
  readonly available: number
  /** running / max, 0..1 (may exceed 1 after a reload lowered the capacity). */
  readonly utilisation: number
  /** Queued tasks bound to this scanner. */
  readonly queued: number
  readonly circuit: CircuitStatus
}

/**
 * A circuit as operators see it (`state` is the effective state now).
 *
 * @category models
 */
export interface CircuitStatus {
  readonly instanceId: string
  readonly state: CircuitBreaker.State
  readonly consecutiveFailures: number
  readonly retryAt: string | undefined
  readonly probeTaskId: string | undefined
  readonly changedAt: string | undefined
}

/**
 * Queue figures of one pool.
 *
 * @category models
 */
export interface QueueStats {
  readonly pool: string
  /** Queued tasks (pool queue + instance-bound queues), not counting `delayed`. */
  readonly queued: number
  readonly bound: number
  /** Tasks waiting for a retry's backoff. */
  readonly delayed: number
  readonly running: number
  readonly deadLettered: number
  /** Configured slots of the enabled scanners (`max_concurrent_scans` summed). */
  readonly capacity: number
  /**
   * Slots that can take work now or once a running scan ends: as `capacity`, but a scanner whose circuit
   * is open counts nothing and a half-open one counts its one probe.
   */
  readonly usableCapacity: number
  /** Free slots now: the usable slots minus the scans holding them (the sum of the scanners' `available`). */
  readonly available: number
  readonly averageScanMs: number | undefined
  /** The next tasks to run (pool queue), without secrets. */
  readonly next: ReadonlyArray<Task.Task>
}

/**
 * A pool with its capacity and figures.
 *
 * @category models
 */
export interface PoolStatus {
  readonly name: string
  readonly isDefault: boolean
  readonly allowedTargets: ReadonlyArray<string>
  readonly maxTargets: number
  readonly scanners: number
  /** Configured slots of the enabled scanners. */
  readonly capacity: number
  /** Slots of scanners whose circuit lets work through (see `QueueStats.usableCapacity`). */
  readonly usableCapacity: number
  /** Free usable slots now (see `QueueStats.available`). */
  readonly available: number
  readonly running: number
  readonly queued: number
}

/**
 * Filter of `list`. `target` matches tasks whose targets overlap it (an IP inside a stored CIDR, a
 * CIDR overlapping a stored range, equal hostnames). `cursor` continues a previous page.
 *
 * @category models
 */
export interface ListFilter {
  readonly state?: Task.State | undefined
  readonly pool?: string | undefined
  readonly target?: string | undefined
  readonly limit?: number | undefined
  readonly cursor?: string | undefined
}

/**
 * A page of tasks, newest first.
 *
 * @category models
 */
export interface TaskPage {
  readonly tasks: ReadonlyArray<Task.Task>
  readonly cursor: string | undefined
}

/**
 * A dead-letter entry.
 *
 * @category models
 */
export interface DlqEntry {
  readonly task: Task.Task
  readonly failedAt: string
  readonly lastError: Task.AttemptError | undefined
}

/**
 * A request to reload the scanners file, as every listening process receives it.
 *
 * @category models
 */
export interface ReloadRequest {
  /** Unique per request (shows in the listeners' log lines). */
  readonly id: string
  /** ISO 8601. */
  readonly requestedAt: string
  /** Who asked (free text, e.g. `nessus-admin@host`), if the requester said. */
  readonly requestedBy: string | undefined
}

/**
 * What `requestReload` did: the request sent, and how many listeners received it (Redis: subscribed
 * connections of processes with the same key prefix; memory: listeners in this process).
 *
 * @category models
 */
export interface ReloadRequested {
  readonly request: ReloadRequest
  readonly listeners: number
}

/**
 * The scheduler service.
 *
 * @category services
 */
export interface Service {
  /** Validates and enqueues a scan (or returns the task an idempotency key already made). */
  readonly submit: (request: Task.SubmitRequest) => Effect.Effect<Submitted, SchedulerError.SchedulerError>
  /** A task by id; counts as an access (extends a finished task's retention). */
  readonly get: (id: string) => Effect.Effect<Task.Task, SchedulerError.SchedulerError>
  /** Records an access (e.g. results were read) without returning the task. */
  readonly touch: (id: string) => Effect.Effect<void, SchedulerError.SchedulerError>
  /** Queue position and estimated wait of a queued task; `None` when it is not queued. */
  readonly position: (id: string) => Effect.Effect<Option.Option<Task.QueuePosition>, SchedulerError.SchedulerError>
  readonly list: (filter?: ListFilter) => Effect.Effect<TaskPage, SchedulerError.SchedulerError>
  /** Cancels a queued task at once, or a running one (the worker stops the scan and releases). */
  readonly cancel: (id: string) => Effect.Effect<Task.Task, SchedulerError.SchedulerError>

  /**
   * Claims the next task of a pool and the scanner to run it on (see {@link ClaimOptions}); `None` when
   * nothing can start now.
   */
  readonly claim: (options: ClaimOptions) => Effect.Effect<Option.Option<Claim>, SchedulerError.SchedulerError>
  readonly heartbeat: (lease: Lease) => Effect.Effect<Lease, SchedulerError.SchedulerError>
  /**
   * Records the phase reached (phases only move forward) and, optionally, the Nessus scan id and the
   * scan's progress in percent (0–100, shown as `task.progress`).
   */
  readonly setPhase: (lease: Lease, phase: Task.Phase, patch?: PhasePatch) => Effect.Effect<void, SchedulerError.SchedulerError>
  /** Marks the task completed with the worker's results and frees its slot. */
  readonly complete: (lease: Lease, result?: Task.CompletionResult) => Effect.Effect<void, SchedulerError.SchedulerError>
  /**
   * Reports a failed attempt: a retry with backoff (transient) or the dead-letter queue (permanent).
   * `result`, when given, is recorded on the task as `complete` records it (validation summary,
   * authentication status, artifacts), e.g. for an `authentication_failed` verdict.
   */
  readonly fail: (lease: Lease, failure: Failure, result?: Task.CompletionResult) => Effect.Effect<FailOutcome, SchedulerError.SchedulerError>
  /** Hands a lease back at once (graceful shutdown): the next claim takes the task over from its phase. */
  readonly release: (lease: Lease) => Effect.Effect<void, SchedulerError.SchedulerError>
  /** The scan credential of a task (named or unsealed inline), `None` for untrusted scans. */
  readonly credentialFor: (id: string) => Effect.Effect<Option.Option<Credentials.ScanCredential>, SchedulerError.SchedulerError>
  /** Reports one call's outcome on a scanner to its circuit (a probe's outcome closes or reopens it). */
  readonly reportScanner: (instanceId: string, outcome: "success" | "failure", taskId?: string | undefined) => Effect.Effect<void, SchedulerError.SchedulerError>

  readonly scanners: (pool?: string | undefined) => Effect.Effect<ReadonlyArray<ScannerStatus>, SchedulerError.SchedulerError>
  readonly pools: Effect.Effect<{ readonly defaultPool: string; readonly pools: ReadonlyArray<PoolStatus> }, SchedulerError.SchedulerError>
  readonly queueStats: (pool?: string | undefined) => Effect.Effect<QueueStats, SchedulerError.SchedulerError>
  readonly circuits: Effect.Effect<ReadonlyArray<CircuitStatus>, SchedulerError.SchedulerError>
  readonly resetCircuit: (instanceId: string) => Effect.Effect<CircuitStatus, SchedulerError.SchedulerError>
  readonly circuitTransitions: (limit?: number) => Effect.Effect<ReadonlyArray<CircuitBreaker.Transition>, SchedulerError.SchedulerError>
  readonly dlqList: (pool?: string | undefined, page?: { readonly offset?: number | undefined; readonly limit?: number | undefined }) => Effect.Effect<{ readonly total: number; readonly entries: ReadonlyArray<DlqEntry> }, SchedulerError.SchedulerError>
  readonly dlqInspect: (id: string) => Effect.Effect<DlqEntry, SchedulerError.SchedulerError>
  /** Requeues a dead-lettered task: it runs again as a new attempt from `queued`. */
  readonly dlqRetry: (id: string) => Effect.Effect<Task.Task, SchedulerError.SchedulerError>
  /**
   * Removes entries from a pool's DLQ (all, or those that failed before `olderThan`); returns how many.
   * With `dryRun`, removes nothing and returns how many it would remove.
   */
  readonly dlqPurge: (
    pool?: string | undefined,
    options?: { readonly olderThan?: Date | number | undefined; readonly dryRun?: boolean | undefined }
  ) => Effect.Effect<number, SchedulerError.SchedulerError>

  /** Terminal tasks whose retention elapsed; deleted unless `dryRun`. */
  readonly expire: (options?: { readonly dryRun?: boolean | undefined; readonly limit?: number | undefined }) => Effect.Effect<ReadonlyArray<Task.Task>, SchedulerError.SchedulerError>
  /** Running tasks older than `maxScanDuration` (stop them on Nessus, then `timeout` them). */
  readonly staleRunning: Effect.Effect<ReadonlyArray<Task.Task>, SchedulerError.SchedulerError>
  /** Marks a running task `timeout` (frees its slot, dead-letters it). */
  readonly timeout: (id: string, message: string) => Effect.Effect<Task.Task, SchedulerError.SchedulerError>
  /**
   * Reloads this process's scanners file; on error the previous configuration stays and the error is
   * returned. Running-scan accounting lives in the store and is untouched: running counts, leases and
   * circuits survive; a scanner removed from the file keeps its running scans (they heartbeat, complete
   * and free their slots as usual) but gets no new work; a capacity lowered below the running count
   * starts nothing new on that scanner until it drops below.
   */
  readonly reload: Effect.Effect<ScannerConfig.Config, SchedulerError.SchedulerError>
  /**
   * Asks every process listening on this store ({@link reloadOnRequest}; Redis: same Redis and key prefix;
   * memory: this process) to reload its scanners file. Each listener reloads and logs the outcome; a
   * listener whose file is bad keeps its previous configuration.
   */
  readonly requestReload: (options?: { readonly requestedBy?: string | undefined }) => Effect.Effect<ReloadRequested, SchedulerError.SchedulerError>
  /**
   * Calls `handler` for each reload request, one at a time in arrival order, from when this succeeds
   * until the scope closes (Redis: on a dedicated subscriber connection).
   */
  readonly subscribeReloadRequests: (handler: (request: ReloadRequest) => Effect.Effect<void>) => Effect.Effect<void, SchedulerError.SchedulerError, Scope.Scope>
  /** Every key and value this scheduler stores (for secret-leak audits). */
  readonly dump: Effect.Effect<ReadonlyArray<string>, SchedulerError.SchedulerError>
}

/**
 * The scheduler service tag.
 *
 * @category services
 */
export class Scheduler extends Context.Service<Scheduler, Service>()("@nessus-mcp/scheduler/Scheduler") {}

// ---------------------------------------------------------------------------------------------------
// implementation

const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString())

/** Slots a scanner offers new work at `now` (its circuit's admission, not its running scans). */
const usableSlots = (s: ScannerConfig.Scanner, c: CircuitBreaker.Circuit | undefined, now: number): number => {
  if (!s.enabled) return 0
  const admits = c === undefined ? "yes" : CircuitBreaker.admits(c, now)
  return admits === "yes" ? s.maxConcurrentScans : admits === "probe" ? 1 : 0
}

/** Free slots of a scanner at `now`: its usable slots minus the scans running on it (never negative). */
const availableSlots = (s: ScannerConfig.Scanner, c: CircuitBreaker.Circuit | undefined, running: number, now: number): number =>
  running >= s.maxConcurrentScans ? 0 : Math.max(0, Math.min(usableSlots(s, c, now), s.maxConcurrentScans - running))

const summary = (c: StoredCredential | undefined): Task.CredentialSummary | undefined =>
  c === undefined
    ? undefined
    : c.kind === "named"
    ? { kind: "named", name: c.name }
    : { kind: "inline", type: c.type, username: c.username, elevatePrivilegesWith: c.elevatePrivilegesWith }

/** The caller's view of a stored task (never the sealed credential or the lease token). */
const toTask = (r: TaskRecord): Task.Task => ({
  id: r.id as Task.TaskId,
  traceId: r.traceId,
  scanType: r.scanType,
  targets: r.targets,
  name: r.name,
  description: r.description,
  pool: r.pool,
  requestedInstance: r.requestedInstance,
  instance: r.instance,
  nessusScanId: r.nessusScanId,
  progress: r.progress,
  scanName: r.attempt > 0 ? Task.scanName(r.id, r.attempt) : undefined,
  state: r.state,
  phase: r.phase,
  attempt: r.attempt,
  errors: r.errors,
  createdAt: iso(r.createdAt) as string,
  updatedAt: iso(r.updatedAt) as string,
  startedAt: iso(r.startedAt),
  finishedAt: iso(r.finishedAt),
  lastAccessAt: iso(r.accessedAt) as string,
  retryAt: iso(r.retryAt),
  validation: r.validation,
  authenticationStatus: r.authenticationStatus,
  artifacts: r.artifacts,
  credential: summary(r.credential),
  idempotencyKey: r.idempotencyKey,
  lease: r.state === "running" && r.leaseOwner !== undefined && r.leaseUntil !== undefined
    ? { owner: r.leaseOwner, expiresAt: iso(r.leaseUntil) as string }
    : undefined,
  cancelRequested: r.cancelRequested,
  takeovers: r.takeovers
})

const CONTROL = /[\x00-\x08\x0b-\x1f\x7f]/
const IDEM = /^[A-Za-z0-9._:-]{1,128}$/
const TRACE = /^[A-Za-z0-9-]{8,64}$/

const invalid = (message: string) => Effect.fail(SchedulerError.make("invalid_input", message))

const canonical = (v: unknown): string =>
  Array.isArray(v)
    ? `[${v.map(canonical).join(",")}]`
    : v !== null && typeof v === "object"
    ? `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`).join(",")}}`
    : JSON.stringify(v ?? null)

const leaseError = (id: string, outcome: "lost" | "cancelled" | "not_found") =>
  outcome === "cancelled"
    ? SchedulerError.make("task_cancelled", `Task ${id} was cancelled; stop its Nessus scan and call release.`, { taskId: id })
    : outcome === "not_found"
    ? SchedulerError.make("not_found", `Task ${id} no longer exists.`, { taskId: id })
    : SchedulerError.make(
      "lease_lost",
      `This worker no longer holds task ${id}: its lease expired and another worker took it over, or the task finished. Stop working on it without touching the scan.`,
      { taskId: id }
    )

const decodeReloadRequest = (payload: string): ReloadRequest | undefined => {
  try {
    const v = JSON.parse(payload) as Record<string, unknown>
    if (typeof v["id"] !== "string" || typeof v["requestedAt"] !== "string") return undefined
    return { id: v["id"].slice(0, 64), requestedAt: v["requestedAt"].slice(0, 40), requestedBy: typeof v["requestedBy"] === "string" ? v["requestedBy"].slice(0, 200) : undefined }
  } catch {
    return undefined
  }
}

/**
 * Builds the service on a store (used by `layerMemory` and `layerRedis`).
 *
 * @category constructors
 */
const makeWith = (store: Store, bus: ReloadBus.ReloadBus, options: Options = {}): Effect.Effect<Service, never, ScannerConfig.ScannerConfig | Credentials.Credentials> =>
  Effect.gen(function*() {
    const configService = yield* ScannerConfig.ScannerConfig
    const credentials = yield* Credentials.Credentials
    const leaseMs = Duration.toMillis(options.leaseDuration ?? "60 seconds")
    const retry = options.retry ?? Retry.defaultPolicy
    const breaker = options.circuit ?? CircuitBreaker.defaultPolicy
    const circuit: CircuitMs = {
      threshold: breaker.failureThreshold,
      cooldownMs: Duration.toMillis(breaker.cooldown),
      probeMs: Duration.toMillis(breaker.probeTimeout)
    }
    const ttls: Ttls = {
      completed: Duration.toMillis(options.retention?.completed ?? "7 days"),
      failed: Duration.toMillis(options.retention?.failed ?? "30 days"),
      cancelled: Duration.toMillis(options.retention?.cancelled ?? "7 days")
    }
    const maxScanMs = Duration.toMillis(options.maxScanDuration ?? "24 hours")
    const idemMs = Duration.toMillis(options.idempotencyTtl ?? "48 hours")
    const defaultScanMs = Duration.toMillis(options.defaultScanDuration ?? "30 minutes")
    const now = Clock.currentTimeMillis

    const config = configService.current
    // Lease tokens fence stale workers; they need to be unique, not secret.
    const tokenPrefix = `${randomBytes(9).toString("base64url")}.`
    let tokenSeq = 0
    const unknownPool = (c: ScannerConfig.Config, name: string | undefined) =>
      Effect.fail(
        SchedulerError.make(
          "unknown_pool",
          `No pool named "${name}" in ${c.file}; pools: ${c.pools.map((x) => x.name).join(", ")}. Leave the pool out to use the default (${c.defaultPool}).`
        )
      )
    const poolOrFail = (c: ScannerConfig.Config, name: string | undefined) => {
      const p = ScannerConfig.poolOf(c, name)
      return p === undefined ? unknownPool(c, name) : Effect.succeed(p)
    }
    const record = (id: string, touch: boolean) =>
      Effect.gen(function*() {
        const taskId = yield* Task.decodeId(id)
        const r = yield* store.get(taskId, touch ? { now: yield* now, ttls } : undefined)
        if (r === undefined) {
          return yield* Effect.fail(SchedulerError.make("not_found", `No task ${taskId}; it never existed or expired after its retention period.`, { taskId }))
        }
        return r
      })

    // -- submission -------------------------------------------------------------------------------

    const submit = Effect.fn("Scheduler.submit")(function*(req: Task.SubmitRequest) {
      const c = yield* config
      const pool = yield* poolOrFail(c, req.pool)
      if (!["untrusted", "authenticated", "authenticated_privileged"].includes(req.scanType)) {
        return yield* invalid(`Unknown scan type "${String(req.scanType)}"; use untrusted, authenticated or authenticated_privileged.`)
      }
      const name = typeof req.name === "string" ? req.name.trim() : ""
      if (name.length === 0 || name.length > 200 || CONTROL.test(name)) {
        return yield* invalid("The scan name must be 1-200 printable characters.")
      }
      const description = req.description ?? ""
      if (description.length > 2000 || CONTROL.test(description)) {
        return yield* invalid("The description must be at most 2000 characters without control characters.")
      }
      const targets = yield* Targets.decode(req.targets)
      const refused = Targets.refused(targets, pool.allowedTargets)
      if (refused.length > 0) {
        return yield* Effect.fail(
          SchedulerError.make(
            "targets_not_allowed",
            pool.allowedTargets.length === 0
              ? `Pool "${pool.name}" has no allowed_targets, so it refuses every target. An operator must list what this pool may scan in ${c.file}.`
              : `Target${refused.length === 1 ? "" : "s"} ${refused.slice(0, 5).map((t) => t.text).join(", ")}${refused.length > 5 ? ", ..." : ""} ${refused.length === 1 ? "is" : "are"} outside what pool "${pool.name}" may scan (${pool.allowedTargets.map((t) => t.text).join(", ")}).`
          )
        )
      }
      const count = Targets.size(targets)
      if (count > BigInt(pool.maxTargets)) {
        return yield* Effect.fail(
          SchedulerError.make(
            "too_many_targets",
            `The targets expand to ${count} addresses; pool "${pool.name}" allows at most ${pool.maxTargets} per scan (max_targets). Split the scan.`
          )
        )
      }
      if (req.instance !== undefined && !pool.scanners.some((s) => s.instanceId === req.instance)) {
        return yield* Effect.fail(
          SchedulerError.make(
            "unknown_scanner",
            `No scanner "${req.instance}" in pool "${pool.name}"; scanners: ${pool.scanners.map((s) => s.instanceId).join(", ")}.`
          )
        )
      }
      if (req.idempotencyKey !== undefined && !IDEM.test(req.idempotencyKey)) {
        return yield* invalid("The idempotency key must be 1-128 letters, digits, '.', '_', ':' or '-'.")
      }
      const hasNamed = req.credential !== undefined
      const hasInline = req.inlineCredential !== undefined
      if (req.scanType === "untrusted" && (hasNamed || hasInline)) {
        return yield* invalid("An untrusted scan takes no credentials; use scan type authenticated to scan with credentials.")
      }
      if (req.scanType !== "untrusted" && hasNamed === hasInline) {
        return yield* invalid(`A ${req.scanType} scan needs exactly one of: a named credential (credential: "<name>") or inline credentials.`)
      }
      const id = yield* Task.makeId
      let stored: StoredCredential | undefined
      let idemCredential: unknown = null
      if (req.credential !== undefined) {
        const named = yield* credentials.named(req.credential)
        if (req.scanType === "authenticated_privileged" && named.elevatePrivilegesWith === "Nothing") {
          return yield* invalid(`An authenticated_privileged scan needs privilege escalation, but credential "${req.credential}" has elevate_privileges_with: Nothing.`)
        }
        stored = { kind: "named", name: req.credential }
        idemCredential = stored
      } else if (req.inlineCredential !== undefined) {
        const inline = req.inlineCredential
        if (inline.type !== "ssh") return yield* invalid(`Inline credentials of type "${String(inline.type)}" are not supported; use ssh.`)
        if (typeof inline.username !== "string" || inline.username.length === 0 || inline.username.length > 128 || CONTROL.test(inline.username)) {
          return yield* invalid("The inline credential's username must be 1-128 printable characters.")
        }
        const elevation = inline.elevatePrivilegesWith ?? "Nothing"
        if (req.scanType === "authenticated_privileged" && elevation === "Nothing") {
          return yield* invalid("An authenticated_privileged scan needs elevatePrivilegesWith (e.g. sudo or su).")
        }
        const sealed = yield* credentials.seal(inline, id)
        stored = { kind: "inline", type: "ssh", username: inline.username, elevatePrivilegesWith: elevation, sealed }
        idemCredential = { kind: "inline", username: inline.username, elevation, account: inline.escalationAccount ?? null }
      }
      const t = yield* now
      const normalized = targets.map((x) => x.text)
      const rec: TaskRecord = {
        id,
        traceId: req.traceId !== undefined && TRACE.test(req.traceId) ? req.traceId : randomBytes(16).toString("hex"),
        scanType: req.scanType,
        targets: normalized,
        name,
        description,
        pool: pool.name,
        requestedInstance: req.instance,
        instance: undefined,
        nessusScanId: undefined,
        progress: undefined,
        state: "queued",
        phase: undefined,
        attempt: 0,
        runBase: 0,
        errors: [],
        createdAt: t,
        updatedAt: t,
        startedAt: undefined,
        finishedAt: undefined,
        accessedAt: t,
        retryAt: undefined,
        validation: undefined,
        authenticationStatus: undefined,
        artifacts: undefined,
        credential: stored,
        idempotencyKey: req.idempotencyKey,
        leaseOwner: undefined,
        leaseToken: undefined,
        leaseUntil: undefined,
        cancelRequested: false,
        seq: 0,
        takeovers: 0
      }
      const idempotency = req.idempotencyKey === undefined ? undefined : {
        key: req.idempotencyKey,
        hash: createHash("sha256").update(canonical({
          scanType: req.scanType,
          targets: normalized,
          name,
          description,
          pool: pool.name,
          instance: req.instance ?? null,
          credential: idemCredential
        })).digest("hex"),
        expiresAt: t + idemMs,
        ttlMs: idemMs
      }
      const result = yield* store.submit({ record: rec, idempotency, now: t })
      if (result._tag === "Conflict") {
        return yield* Effect.fail(
          SchedulerError.make(
            "idempotency_conflict",
            `Idempotency key "${req.idempotencyKey}" was already used for task ${result.taskId} with different parameters; use a new key or repeat the original request exactly.`,
            { taskId: result.taskId }
          )
        )
      }
      const saved = result._tag === "Created" ? { ...rec, seq: result.seq } : yield* store.get(result.taskId, undefined)
      if (saved === undefined) {
        return yield* Effect.fail(SchedulerError.make("not_found", `Task ${result._tag === "Created" ? id : result.taskId} vanished right after submission.`))
      }
      const pos = saved.state === "queued" ? yield* positionOf(saved) : undefined
      return { task: toTask(saved), created: result._tag === "Created", position: pos }
    })

    // -- reads --------------------------------------------------------------------------------------

    const positionOf = (r: TaskRecord) =>
      Effect.gen(function*() {
        const c = yield* config
        const t = yield* now
        const pool = ScannerConfig.poolOf(c, r.pool)
        const all = pool?.scanners ?? []
        const enabled = (r.requestedInstance === undefined ? all : all.filter((s) => s.instanceId === r.requestedInstance)).filter((s) => s.enabled)
        // Only usable slots count: an open circuit's scanner takes nothing until its cooldown ends.
        // Read together (one round trip when pipelined), assuming every enabled scanner usable; read the
        // inputs again only in the rare case that one is not.
        const allIds = all.map((s) => s.instanceId)
        const enabledIds = enabled.map((s) => s.instanceId)
        const [circuitsOf, optimistic] = yield* Effect.all([store.circuits(enabledIds), store.positionInputs(r, allIds, enabledIds)], { concurrency: 2 })
        const slots = enabled.map((s, i) => usableSlots(s, circuitsOf[i], t))
        const relevant = enabled.filter((_, i) => (slots[i] ?? 0) > 0)
        const capacity = slots.reduce((n, x) => n + x, 0)
        const { ahead, durations, starts } = relevant.length === enabled.length
          ? optimistic
          : yield* store.positionInputs(r, allIds, relevant.map((s) => s.instanceId))
        const history = durations.length > 0
        const avg = history ? Math.round(durations.reduce((a, b) => a + b, 0) / durations.length) : defaultScanMs
        let wait: number | undefined
        if (capacity > 0) {
          // Slots sorted by when they free up: idle ones now, busy ones when their scan should end;
          // each slot then takes the next queued task every `avg`.
          const busy = starts.map((s) => Math.max(0, avg - (t - s))).sort((a, b) => a - b).slice(0, capacity)
          const idle = capacity - busy.length
          const slot = ahead % capacity
          wait = (slot < idle ? 0 : (busy[slot - idle] as number)) + Math.floor(ahead / capacity) * avg
          if (r.retryAt !== undefined) wait = Math.max(wait, r.retryAt - t)
        }
        return {
          position: ahead + 1,
          ahead,
          capacity,
          running: starts.length,
          averageScanMs: avg,
          averageBasis: history ? "history" : "default",
          estimatedWaitMs: wait,
          estimatedStartAt: wait === undefined ? undefined : iso(t + wait)
        } satisfies Task.QueuePosition
      })

    const get = (id: string) => Effect.map(record(id, true), toTask)

    const list = Effect.fn("Scheduler.list")(function*(filter: ListFilter = {}) {
      const limit = Math.min(Math.max(filter.limit ?? 20, 1), 500)
      let offset = filter.cursor === undefined ? 0 : Number(filter.cursor)
      if (!Number.isInteger(offset) || offset < 0) return yield* invalid(`"${filter.cursor}" is not a cursor returned by list.`)
      if (filter.target !== undefined) {
        const probe = Targets.split(filter.target).map((s) => Targets.parseOne(s, { allowWildcard: true }))
        const bad = probe.find(Result.isFailure)
        if (bad !== undefined || probe.length === 0) return yield* invalid(`Invalid target filter: ${bad ? bad.failure : "empty"}.`)
      }
      const out: Array<Task.Task> = []
      const maxExamined = 20_000
      let examined = 0
      for (;;) {
        const ids = yield* store.index(offset, 500)
        if (ids.length === 0) return { tasks: out, cursor: undefined }
        const recs = yield* store.getMany(ids)
        const byId = new Map(recs.map((r) => [r.id, r]))
        for (const id of ids) {
          offset++
          examined++
          const r = byId.get(id)
          if (r === undefined) continue
          if (filter.state !== undefined && r.state !== filter.state) continue
          if (filter.pool !== undefined && r.pool !== filter.pool) continue
          if (filter.target !== undefined && !Targets.matches(filter.target, r.targets)) continue
          out.push(toTask(r))
          if (out.length >= limit) return { tasks: out, cursor: String(offset) }
        }
        if (examined >= maxExamined) return { tasks: out, cursor: String(offset) }
      }
    })

    const cancel = Effect.fn("Scheduler.cancel")(function*(id: string) {
      const taskId = yield* Task.decodeId(id)
      const r = yield* store.cancel(taskId, yield* now, ttls)
      if (r._tag === "NotFound") return yield* Effect.fail(SchedulerError.make("not_found", `No task ${taskId}.`, { taskId }))
      if (r._tag === "Terminal") {
        return yield* Effect.fail(
          SchedulerError.make("invalid_transition", `Task ${taskId} is already ${r.state}; only queued or running tasks can be cancelled.`, { taskId })
        )
      }
      return yield* get(taskId)
    })

    // -- worker -------------------------------------------------------------------------------------

    const toLease = (r: TaskRecord): Lease => ({
      taskId: r.id as Task.TaskId,
      token: r.leaseToken as string,
      pool: r.pool,
      instanceId: r.instance as string,
      attempt: r.attempt,
      runBase: r.runBase,
      expiresAt: r.leaseUntil as number
    })

    type Slots = ReadonlyArray<{ readonly id: string; readonly max: number; readonly enabled: boolean }>
    // Per pool object (a reload makes new ones): every slot, and the slots of each instance filter seen.
    const slotCache = new WeakMap<ScannerConfig.Pool, { readonly all: Slots; readonly filtered: Map<string, Slots> }>()
    const slotsOf = (pool: ScannerConfig.Pool, instances: ReadonlyArray<string> | undefined): Slots => {
      let entry = slotCache.get(pool)
      if (entry === undefined) {
        entry = { all: pool.scanners.map((s) => ({ id: s.instanceId, max: s.maxConcurrentScans, enabled: s.enabled })), filtered: new Map() }
        slotCache.set(pool, entry)
      }
      if (instances === undefined) return entry.all
      const key = instances.join("\n")
      let slots = entry.filtered.get(key)
      if (slots === undefined) {
        slots = entry.all.filter((sl) => instances.includes(sl.id))
        if (entry.filtered.size < 64) entry.filtered.set(key, slots)
      }
      return slots
    }
    // Scanner by instance id, per configuration object (a reload makes a new one).
    const scannerIndex = new WeakMap<ScannerConfig.Config, Map<string, ScannerConfig.Scanner>>()
    const scannerIn = (c: ScannerConfig.Config, id: string) => {
      let index = scannerIndex.get(c)
      if (index === undefined) {
        index = new Map(c.pools.flatMap((p) => p.scanners.map((sc) => [sc.instanceId, sc] as const)))
        scannerIndex.set(c, index)
      }
      return index.get(id)
    }
    const badInstances = invalid("claim: instances must be a list of scanner instance ids (non-empty strings).")
    // The claim and completion are the hot path of every worker: plain flatMaps, no generators.
    const claim = (opts: ClaimOptions): Effect.Effect<Option.Option<Claim>, SchedulerError.SchedulerError> =>
      Effect.flatMap(config, (c) => {
        const pool = ScannerConfig.poolOf(c, opts.pool)
        if (pool === undefined) return unknownPool(c, opts.pool)
        if (opts.instances !== undefined && !opts.instances.every((i) => typeof i === "string" && i.length > 0)) return badInstances
        const slots = slotsOf(pool, opts.instances)
        return Effect.flatMap(now, (t) =>
          Effect.map(
            store.claim({
              pool: pool.name,
              slots,
              now: t,
              leaseMs,
              owner: opts.worker,
              token: `${tokenPrefix}${(++tokenSeq).toString(36)}`,
              circuit,
              ttls
            }),
            (result) => {
              if (result === undefined) return Option.none<Claim>()
              const r = result.record
              return Option.some<Claim>({
                task: toTask(r),
                lease: toLease(r),
                scanner: r.instance === undefined ? undefined : scannerIn(c, r.instance),
                scanName: Task.scanName(r.id, r.attempt),
                takeover: result.takeover
              })
            }
          ))
      })

    const heartbeat = (lease: Lease) =>
      Effect.gen(function*() {
        const t = yield* now
        const r = yield* store.heartbeat(lease.taskId, lease.token, t, leaseMs)
        if (r !== "ok") return yield* Effect.fail(leaseError(lease.taskId, r))
        return { ...lease, expiresAt: t + leaseMs }
      })

    const setPhase = (lease: Lease, phase: Task.Phase, patch: PhasePatch = {}) =>
      Effect.gen(function*() {
        if (!Task.phases.includes(phase)) return yield* invalid(`Unknown phase "${String(phase)}".`)
        const progress = patch.progress
        if (progress !== undefined && !(typeof progress === "number" && progress >= 0 && progress <= 100)) {
          return yield* invalid(`Progress ${String(progress)} of task ${lease.taskId} is not a percentage; report a number from 0 to 100.`)
        }
        const r = yield* store.setPhase(lease.taskId, lease.token, yield* now, phase, patch.nessusScanId, progress)
        if (typeof r === "object") {
          return yield* Effect.fail(
            SchedulerError.make("invalid_transition", `Task ${lease.taskId} is in phase ${r.current}; phases only move forward (not back to ${phase}).`, {
              taskId: lease.taskId
            })
          )
        }
        if (r !== "ok") return yield* Effect.fail(leaseError(lease.taskId, r))
      })

    const complete = (lease: Lease, result: Task.CompletionResult = {}): Effect.Effect<void, SchedulerError.SchedulerError> =>
      Effect.flatMap(now, (t) =>
        Effect.flatMap(
          store.complete({ id: lease.taskId, token: lease.token, now: t, result, ttls, circuit, keepDurations: 20 }),
          (r) => (r === "ok" ? Effect.void : Effect.fail(leaseError(lease.taskId, r)))
        ))

    const fail = (lease: Lease, failure: Failure, result: Task.CompletionResult = {}) =>
      Effect.gen(function*() {
        const t = yield* now
        const transient = failure.retryable ?? Retry.isTransient(failure.reason)
        const delay = transient ? yield* Retry.delayFor(retry, lease.attempt - lease.runBase) : Option.none()
        const r = yield* store.fail({
          id: lease.taskId,
          token: lease.token,
          now: t,
          error: { at: iso(t) as string, reason: failure.reason, message: failure.message.slice(0, 2000) },
          result,
          transient: transient && Option.isSome(delay),
          scannerFailure: Retry.isScannerFailure(failure.reason),
          maxRetries: retry.retries,
          delayMs: Option.match(delay, { onNone: () => 0, onSome: (d) => Math.round(Duration.toMillis(d)) }),
          ttls,
          circuit
        })
        if (typeof r === "string") return yield* Effect.fail(leaseError(lease.taskId, r))
        const task = toTask(r.record)
        return r._tag === "Retried"
          ? { _tag: "Retrying" as const, task, retryAt: iso(r.retryAt) as string }
          : { _tag: "DeadLettered" as const, task }
      })

    const release = (lease: Lease) =>
      Effect.gen(function*() {
        const r = yield* store.release(lease.taskId, lease.token, yield* now, ttls)
        if (r !== "ok") return yield* Effect.fail(leaseError(lease.taskId, r))
      })

    const credentialFor = (id: string) =>
      Effect.gen(function*() {
        const r = yield* record(id, false)
        const c = r.credential
        if (c === undefined) return Option.none<Credentials.ScanCredential>()
        return Option.some(c.kind === "named" ? yield* credentials.named(c.name) : yield* credentials.open(c.sealed, r.id))
      })

    const reportScanner = (instanceId: string, outcome: "success" | "failure", taskId?: string | undefined) =>
      Effect.flatMap(now, (t) => store.recordOutcome(instanceId, outcome, taskId, t, circuit))

    // -- operators ----------------------------------------------------------------------------------

    const circuitStatus = (c: CircuitBreaker.Circuit, t: number): CircuitStatus => ({
      instanceId: c.instanceId,
      state: CircuitBreaker.effectiveState(c, t),
      consecutiveFailures: c.consecutiveFailures,
      retryAt: c.state === "open" ? iso(c.retryAt) : undefined,
      probeTaskId: c.state === "half_open" ? c.probeTaskId : undefined,
      changedAt: iso(c.changedAt)
    })

    const scanners = (poolName?: string | undefined) =>
      Effect.gen(function*() {
        const c = yield* config
        const pools = poolName === undefined ? c.pools : [yield* poolOrFail(c, poolName)]
        const t = yield* now
        const out: Array<ScannerStatus> = []
        for (const pool of pools) {
          const ids = pool.scanners.map((s) => s.instanceId)
          const [running, circuits, counts] = yield* Effect.all([store.runningCounts(ids), store.circuits(ids), store.poolCounts(pool.name, ids)])
          pool.scanners.forEach((s, i) => {
            const n = running[i] ?? 0
            out.push({
              instanceId: s.instanceId,
              name: s.name,
              pool: pool.name,
              url: s.url,
              apiMode: s.apiMode,
              enabled: s.enabled,
              maxConcurrentScans: s.maxConcurrentScans,
              running: n,
              available: availableSlots(s, circuits[i], n, t),
              utilisation: n / s.maxConcurrentScans,
              queued: counts.bound[i] ?? 0,
              circuit: circuitStatus(circuits[i] ?? CircuitBreaker.initial(s.instanceId), t)
            })
          })
        }
        return out
      })

    const queueStats = (poolName?: string | undefined) =>
      Effect.gen(function*() {
        const c = yield* config
        const pool = yield* poolOrFail(c, poolName)
        const ids = pool.scanners.map((s) => s.instanceId)
        const [counts, running, durations, circuits] = yield* Effect.all([
          store.poolCounts(pool.name, ids),
          store.runningCounts(ids),
          store.durations(pool.name),
          store.circuits(ids)
        ], { concurrency: "unbounded" })
        const t = yield* now
        const capacity = pool.scanners.filter((s) => s.enabled).reduce((n, s) => n + s.maxConcurrentScans, 0)
        const usableCapacity = pool.scanners.reduce((n, s, i) => n + usableSlots(s, circuits[i], t), 0)
        const available = pool.scanners.reduce((n, s, i) => n + availableSlots(s, circuits[i], running[i] ?? 0, t), 0)
        const bound = counts.bound.reduce((a, b) => a + b, 0)
        return {
          pool: pool.name,
          queued: counts.queued + bound,
          bound,
          delayed: counts.delayed,
          running: counts.leased,
          deadLettered: counts.dlq,
          capacity,
          usableCapacity,
          available,
          averageScanMs: durations.length === 0 ? undefined : Math.round(durations.reduce((a, b) => a + b, 0) / durations.length),
          next: (yield* store.getMany(counts.next)).map(toTask)
        } satisfies QueueStats
      })

    const pools = Effect.gen(function*() {
      const c = yield* config
      const out: Array<PoolStatus> = []
      for (const pool of c.pools) {
        const s = yield* queueStats(pool.name)
        out.push({
          name: pool.name,
          isDefault: pool.name === c.defaultPool,
          allowedTargets: pool.allowedTargets.map((t) => t.text),
          maxTargets: pool.maxTargets,
          scanners: pool.scanners.length,
          capacity: s.capacity,
          usableCapacity: s.usableCapacity,
          available: s.available,
          running: s.running,
          queued: s.queued + s.delayed
        })
      }
      return { defaultPool: c.defaultPool, pools: out }
    })

    const allIds = Effect.map(config, (c) => c.pools.flatMap((p) => p.scanners.map((s) => s.instanceId)))

    const circuits = Effect.gen(function*() {
      const ids = yield* allIds
      const t = yield* now
      return (yield* store.circuits(ids)).map((c) => circuitStatus(c, t))
    })

    const resetCircuit = (instanceId: string) =>
      Effect.gen(function*() {
        const c = yield* config
        if (ScannerConfig.scannerOf(c, instanceId) === undefined) {
          return yield* Effect.fail(SchedulerError.make("unknown_scanner", `No scanner "${instanceId}" in ${c.file}.`))
        }
        const t = yield* now
        yield* store.resetCircuit(instanceId, t)
        const [circ] = yield* store.circuits([instanceId])
        return circuitStatus(circ ?? CircuitBreaker.initial(instanceId), t)
      })

    const dlqEntry = (r: TaskRecord, failedAt: number): DlqEntry => ({ task: toTask(r), failedAt: iso(failedAt) as string, lastError: r.errors[r.errors.length - 1] })

    const dlqList = (poolName?: string | undefined, page: { readonly offset?: number | undefined; readonly limit?: number | undefined } = {}) =>
      Effect.gen(function*() {
        const c = yield* config
        const pool = yield* poolOrFail(c, poolName)
        const offset = Math.max(0, Math.floor(page.offset ?? 0))
        const limit = Math.min(Math.max(Math.floor(page.limit ?? 20), 1), 500)
        const { entries, total } = yield* store.dlqList(pool.name, offset, limit)
        const recs = new Map((yield* store.getMany(entries.map((e) => e[0]))).map((r) => [r.id, r]))
        return { total, entries: entries.flatMap(([id, at]) => (recs.has(id) ? [dlqEntry(recs.get(id) as TaskRecord, at)] : [])) }
      })

    const dlqInspect = (id: string) =>
      Effect.gen(function*() {
        const r = yield* record(id, false)
        const at = yield* store.dlqScore(r.pool, r.id)
        if (at === undefined) {
          return yield* Effect.fail(SchedulerError.make("not_found", `Task ${r.id} is not in the dead-letter queue of pool ${r.pool} (it is ${r.state}).`, { taskId: r.id }))
        }
        return dlqEntry(r, at)
      })

    const dlqRetry = (id: string) =>
      Effect.gen(function*() {
        const taskId = yield* Task.decodeId(id)
        const r = yield* store.dlqRetry(taskId, yield* now)
        if (r === "not_found") return yield* Effect.fail(SchedulerError.make("not_found", `No task ${taskId}.`, { taskId }))
        if (r === "not_in_dlq") {
          return yield* Effect.fail(SchedulerError.make("not_found", `Task ${taskId} is not in a dead-letter queue; only failed or timed-out tasks there can be retried.`, { taskId }))
        }
        return toTask((yield* store.get(taskId, undefined)) as TaskRecord)
      })

    const dlqPurge = (poolName?: string | undefined, opts: { readonly olderThan?: Date | number | undefined; readonly dryRun?: boolean | undefined } = {}) =>
      Effect.gen(function*() {
        const c = yield* config
        const pool = yield* poolOrFail(c, poolName)
        const olderThan = opts.olderThan instanceof Date ? opts.olderThan.getTime() : opts.olderThan
        return yield* store.dlqPurge(pool.name, olderThan, opts.dryRun ?? false)
      })

    const expire = (opts: { readonly dryRun?: boolean | undefined; readonly limit?: number | undefined } = {}) =>
      Effect.gen(function*() {
        return (yield* store.expire(yield* now, opts.dryRun ?? false, opts.limit ?? 1000)).map(toTask)
      })

    const staleRunning = Effect.gen(function*() {
      const ids = yield* store.startedBefore((yield* now) - maxScanMs, (yield* config).pools.map((p) => p.name))
      return (yield* store.getMany(ids)).filter((r) => r.state === "running").map(toTask)
    })

    const timeout = (id: string, message: string) =>
      Effect.gen(function*() {
        const r = yield* record(id, false)
        const t = yield* now
        const error: Task.AttemptError = {
          attempt: r.attempt,
          at: iso(t) as string,
          reason: "timeout",
          message: message.slice(0, 2000),
          ...(r.phase !== undefined ? { phase: r.phase } : {}),
          ...(r.instance !== undefined ? { instanceId: r.instance } : {})
        }
        const out = yield* store.timeout(r.id, t, error, ttls)
        if (out !== "ok") {
          return yield* Effect.fail(SchedulerError.make("invalid_transition", `Task ${r.id} is ${r.state}, not running; only running tasks time out.`, { taskId: r.id }))
        }
        return toTask((yield* store.get(r.id, undefined)) as TaskRecord)
      })

    const requestReload = (opts: { readonly requestedBy?: string | undefined } = {}) =>
      Effect.gen(function*() {
        const by = opts.requestedBy?.replace(/[\x00-\x1f\x7f]/g, "").slice(0, 200)
        const request: ReloadRequest = {
          id: randomBytes(9).toString("base64url"),
          requestedAt: iso(yield* now) as string,
          requestedBy: by === undefined || by === "" ? undefined : by
        }
        const listeners = yield* bus.publish(JSON.stringify(request))
        return { request, listeners }
      })

    const subscribeReloadRequests = (handler: (request: ReloadRequest) => Effect.Effect<void>) =>
      Effect.gen(function*() {
        // Bounded: a flood of requests is dropped beyond 64 waiting ones (each reload reads the whole file).
        const pending = yield* Queue.dropping<ReloadRequest>(64)
        yield* Effect.forkScoped(Effect.forever(Effect.flatMap(Queue.take(pending), handler)))
        yield* bus.subscribe((payload) => {
          const request = decodeReloadRequest(payload)
          if (request !== undefined) Queue.offerUnsafe(pending, request)
        })
      })

    return {
      submit,
      get,
      touch: (id) => Effect.asVoid(record(id, true)),
      position: (id) =>
        Effect.flatMap(record(id, false), (r) => (r.state === "queued" ? Effect.map(positionOf(r), Option.some) : Effect.succeed(Option.none()))),
      list,
      cancel,
      claim,
      heartbeat,
      setPhase,
      complete,
      fail,
      release,
      credentialFor,
      reportScanner,
      scanners,
      pools,
      queueStats,
      circuits,
      resetCircuit,
      circuitTransitions: (limit = 50) => store.transitions(Math.min(Math.max(limit, 1), 1000)),
      dlqList,
      dlqInspect,
      dlqRetry,
      dlqPurge,
      expire,
      staleRunning,
      timeout,
      reload: configService.reload,
      requestReload,
      subscribeReloadRequests,
      dump: store.dump
    } satisfies Service
  })

/**
 * The in-memory backend (single process; state is lost when the process ends).
 *
 * @category layers
 */
export const layerMemory = (options: Options = {}): Layer.Layer<Scheduler, never, ScannerConfig.ScannerConfig | Credentials.Credentials> =>
  Layer.effect(Scheduler, Effect.suspend(() => makeWith(MemoryStore.make(), ReloadBus.memory(), options)))

const checkEviction = Effect.gen(function*() {
  const policy = yield* Redis.evictionPolicy
  if (Option.isNone(policy)) {
    yield* Effect.logWarning(
      "Could not read Redis maxmemory-policy (CONFIG GET refused). The scan queue requires maxmemory-policy noeviction: with any other policy Redis may silently drop queued tasks under memory pressure. Check your Redis configuration."
    )
  } else if (policy.value !== "noeviction") {
    yield* Effect.logWarning(
      `!!! Redis maxmemory-policy is "${policy.value}", not "noeviction": under memory pressure Redis will EVICT queued tasks, leases and dead-letter entries, and scans will be lost. Set maxmemory-policy noeviction (redis.conf or CONFIG SET maxmemory-policy noeviction). !!!`
    )
  }
})

/**
 * The Redis backend. Warns loudly at start unless Redis runs with `maxmemory-policy noeviction`.
 *
 * @category layers
 */
export const layerRedis = (options: RedisOptions = {}): Layer.Layer<Scheduler, never, ScannerConfig.ScannerConfig | Credentials.Credentials | Redis.Redis> =>
  Layer.effect(
    Scheduler,
    Effect.gen(function*() {
      const redis = yield* Redis.Redis
      yield* checkEviction
      const prefix = options.prefix ?? "{nessus-mcp}:"
      return yield* makeWith(RedisStore.make(redis, prefix), ReloadBus.redis(redis, `${prefix}reload`), options)
    })
  )

/**
 * Wraps a service value (for tests of callers).
 *
 * @category constructors
 */
export const make = (service: Service): Scheduler["Service"] => Scheduler.of(service)

/**
 * Reloads this process's scanners file (`Scheduler.reload`) on every reload request
 * (`Scheduler.requestReload` from any process on the same store), for the lifetime of the scope; each
 * outcome is logged (see `ScannerConfig.logReload`): a bad file is refused, naming file, line and key, and
 * the previous configuration stays in force. Fails only if the subscription cannot be made.
 *
 * @category reloading
 */
export const reloadOnRequest: Effect.Effect<void, SchedulerError.SchedulerError, Scheduler | Scope.Scope> = Effect.gen(function*() {
  const scheduler = yield* Scheduler
  yield* scheduler.subscribeReloadRequests((request) =>
    Effect.asVoid(ScannerConfig.logReload(`reload request ${request.id}${request.requestedBy === undefined ? "" : ` from ${request.requestedBy}`}`, scheduler.reload))
  )
})

/**
 * {@link reloadOnRequest} as a layer. With `ScannerConfig.layerReloadOnSighup`, what an app adds to reload
 * on SIGHUP and on `nessus-admin config reload`.
 *
 * @example
 * ```ts
 * import { Layer } from "effect"
 * import { ScannerConfig, Scheduler } from "@nessus-mcp/scheduler"
 *
 * // SchedulerLive: Scheduler.layerRedis(...) with its ScannerConfig, Credentials and Redis (provideMerge)
 * const Reloading = Layer.mergeAll(Scheduler.layerReloadOnRequest, ScannerConfig.layerReloadOnSighup)
 * // const AppLive = Layer.mergeAll(App, Reloading).pipe(Layer.provideMerge(SchedulerLive))
 * ```
 *
 * @category reloading
 */
export const layerReloadOnRequest: Layer.Layer<never, SchedulerError.SchedulerError, Scheduler> = Layer.effectDiscard(reloadOnRequest)
