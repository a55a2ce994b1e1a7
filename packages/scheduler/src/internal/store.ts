/**
 * The storage contract both backends implement (memory and Redis). Every method is one atomic step;
 * the time is always passed in (from the Effect `Clock`), never read inside the store.
 */
import type { Effect } from "effect"
import type * as CircuitBreaker from "../CircuitBreaker.js"
import type * as SchedulerError from "../SchedulerError.js"
import type * as Task from "../Task.js"

/** What the store keeps about a task's credential (the inline one sealed). */
export type StoredCredential =
  | { readonly kind: "named"; readonly name: string }
  | {
    readonly kind: "inline"
    readonly type: "ssh"
    readonly username: string
    readonly elevatePrivilegesWith: Task.Elevation
    readonly sealed: string
  }

/** A task as stored; times in epoch milliseconds. */
export interface TaskRecord {
  readonly id: string
  readonly traceId: string
  readonly scanType: Task.ScanType
  readonly targets: ReadonlyArray<string>
  readonly name: string
  readonly description: string
  readonly pool: string
  readonly requestedInstance: string | undefined
  readonly instance: string | undefined
  readonly nessusScanId: number | undefined
  /** The scan's progress (0–100) as last reported by the worker for the current attempt. */
  readonly progress: number | undefined
  readonly state: Task.State
  readonly phase: Task.Phase | undefined
  readonly attempt: number
  readonly runBase: number
  readonly errors: ReadonlyArray<Task.AttemptError>
  readonly createdAt: number
  readonly updatedAt: number
  readonly startedAt: number | undefined
  readonly finishedAt: number | undefined
  readonly accessedAt: number
  readonly retryAt: number | undefined
  readonly validation: unknown
  readonly authenticationStatus: Task.AuthenticationStatus | undefined
  readonly artifacts: Readonly<Record<string, string>> | undefined
  readonly credential: StoredCredential | undefined
  readonly idempotencyKey: string | undefined
  readonly leaseOwner: string | undefined
  readonly leaseToken: string | undefined
  readonly leaseUntil: number | undefined
  readonly cancelRequested: boolean
  readonly seq: number
  readonly takeovers: number
}

/** A scanner as the claim sees it. */
export interface Slot {
  readonly id: string
  readonly max: number
  readonly enabled: boolean
}

/** Circuit policy in milliseconds. */
export interface CircuitMs {
  readonly threshold: number
  readonly cooldownMs: number
  readonly probeMs: number
}

/** Time-to-live of terminal tasks after their last access, in milliseconds. */
export interface Ttls {
  readonly completed: number
  readonly failed: number
  readonly cancelled: number
}

export const ttlOf = (ttls: Ttls, state: Task.State): number | undefined =>
  state === "completed" ? ttls.completed : state === "failed" || state === "timeout" ? ttls.failed : state === "cancelled" ? ttls.cancelled : undefined

/** The outcome of a lease-checked operation. */
export type Checked = "ok" | "lost" | "cancelled" | "not_found"

type E<A> = Effect.Effect<A, SchedulerError.SchedulerError>

export interface Store {
  readonly submit: (input: {
    readonly record: TaskRecord
    readonly idempotency: { readonly key: string; readonly hash: string; readonly expiresAt: number; readonly ttlMs: number } | undefined
    readonly now: number
  }) => E<
    | { readonly _tag: "Created"; readonly seq: number }
    | { readonly _tag: "Existing"; readonly taskId: string }
    | { readonly _tag: "Conflict"; readonly taskId: string }
  >
  /** Reads a task; when `touch` is given, records the access (extending a terminal task's TTL). */
  readonly get: (id: string, touch: { readonly now: number; readonly ttls: Ttls } | undefined) => E<TaskRecord | undefined>
  readonly getMany: (ids: ReadonlyArray<string>) => E<ReadonlyArray<TaskRecord>>
  readonly claim: (input: {
    readonly pool: string
    /** The scanners new tasks may go to (a worker's instance filter already applied); takeovers ignore it. */
    readonly slots: ReadonlyArray<Slot>
    readonly now: number
    readonly leaseMs: number
    readonly owner: string
    readonly token: string
    readonly circuit: CircuitMs
    readonly ttls: Ttls
  }) => E<{ readonly record: TaskRecord; readonly takeover: boolean } | undefined>
  readonly heartbeat: (id: string, token: string, now: number, leaseMs: number) => E<Checked>
  readonly setPhase: (
    id: string,
    token: string,
    now: number,
    phase: Task.Phase,
    nessusScanId: number | undefined,
    progress: number | undefined
  ) => E<Checked | { readonly _tag: "BadPhase"; readonly current: Task.Phase | undefined }>
  readonly complete: (input: {
    readonly id: string
    readonly token: string
    readonly now: number
    readonly result: Task.CompletionResult
    readonly ttls: Ttls
    readonly circuit: CircuitMs
    readonly keepDurations: number
  }) => E<Checked>
  /** `error` gets the attempt, phase and instance of the stored task. */
  readonly fail: (input: {
    readonly id: string
    readonly token: string
    readonly now: number
    readonly error: { readonly at: string; readonly reason: string; readonly message: string }
    /** Results the worker has despite the failure (validation summary, authentication status, artifacts). */
    readonly result: Task.CompletionResult
    readonly transient: boolean
    readonly scannerFailure: boolean
    readonly maxRetries: number
    readonly delayMs: number
    readonly ttls: Ttls
    readonly circuit: CircuitMs
  }) => E<
    | Exclude<Checked, "ok">
    | { readonly _tag: "Retried"; readonly retryAt: number; readonly record: TaskRecord }
    | { readonly _tag: "Failed"; readonly record: TaskRecord }
  >
  readonly release: (id: string, token: string, now: number, ttls: Ttls) => E<Checked>
  readonly cancel: (id: string, now: number, ttls: Ttls) => E<
    { readonly _tag: "Cancelled"; readonly wasRunning: boolean } | { readonly _tag: "Terminal"; readonly state: Task.State } | { readonly _tag: "NotFound" }
  >
  readonly timeout: (id: string, now: number, error: Task.AttemptError, ttls: Ttls) => E<"ok" | "not_running" | "not_found">
  readonly recordOutcome: (instanceId: string, outcome: "success" | "failure", taskId: string | undefined, now: number, circuit: CircuitMs) => E<void>
  readonly resetCircuit: (instanceId: string, now: number) => E<void>
  readonly circuits: (instanceIds: ReadonlyArray<string>) => E<ReadonlyArray<CircuitBreaker.Circuit>>
  readonly transitions: (limit: number) => E<ReadonlyArray<CircuitBreaker.Transition>>
  readonly dlqList: (pool: string, offset: number, limit: number) => E<{ readonly total: number; readonly entries: ReadonlyArray<readonly [string, number]> }>
  readonly dlqScore: (pool: string, id: string) => E<number | undefined>
  readonly dlqRetry: (id: string, now: number) => E<"ok" | "not_found" | "not_in_dlq">
  /** Removes (or with `dryRun` only counts) a pool's DLQ entries, all or those failed before `olderThan`. */
  readonly dlqPurge: (pool: string, olderThan: number | undefined, dryRun: boolean) => E<number>
  /**
   * In one step: the tasks ahead of a queued task in its pool (pool queue and the bound queues of
   * `scannerIds`, or its own scanner's queue), the start times of the tasks running on `runningIds`,
   * and the pool's recent scan durations.
   */
  readonly positionInputs: (record: TaskRecord, scannerIds: ReadonlyArray<string>, runningIds: ReadonlyArray<string>) => E<{
    readonly ahead: number
    readonly starts: ReadonlyArray<number>
    readonly durations: ReadonlyArray<number>
  }>
  readonly poolCounts: (pool: string, scannerIds: ReadonlyArray<string>) => E<{
    readonly queued: number
    readonly bound: ReadonlyArray<number>
    readonly delayed: number
    readonly leased: number
    readonly dlq: number
    readonly next: ReadonlyArray<string>
  }>
  /** For each instance: how many slots its running tasks hold. */
  readonly runningCounts: (instanceIds: ReadonlyArray<string>) => E<ReadonlyArray<number>>
  /** Durations of the pool's recent completed scans (up to `keepDurations`). */
  readonly durations: (pool: string) => E<ReadonlyArray<number>>
  /** Task ids newest first. */
  readonly index: (offset: number, count: number) => E<ReadonlyArray<string>>
  readonly expire: (now: number, dryRun: boolean, limit: number) => E<ReadonlyArray<TaskRecord>>
  /** Running tasks (lease holders) of `pools` started before `cutoff`. */
  readonly startedBefore: (cutoff: number, pools: ReadonlyArray<string>) => E<ReadonlyArray<string>>
  /** Every stored value, for secret-leak audits in tests (memory: JSON of the state). */
  readonly dump: E<ReadonlyArray<string>>
}

// ---------------------------------------------------------------------------------------------------
// hash codec (shared by the Redis store and the memory store's dump)

// Fields no script reads or writes travel as one JSON field: fewer hash entries for Lua to convert.
const doc = new Set<string>(["id", "traceId", "scanType", "targets", "name", "description", "credential", "idempotencyKey", "createdAt"] satisfies ReadonlyArray<DocKey>)
const json = new Set(["errors", "validation", "artifacts"])
const numbers = new Set([
  "nessusScanId",
  "progress",
  "attempt",
  "runBase",
  "updatedAt",
  "startedAt",
  "finishedAt",
  "accessedAt",
  "retryAt",
  "leaseUntil",
  "seq",
  "takeovers"
])

type DocKey = "id" | "traceId" | "scanType" | "targets" | "name" | "description" | "credential" | "idempotencyKey" | "createdAt"

/**
 * The hash fields of a task in the order the scripts read them with `HMGET` (see {@link fromFields}):
 * values only, no field names, decoded by position.
 */
export const recordFields = [
  "doc",
  "pool",
  "requestedInstance",
  "instance",
  "nessusScanId",
  "progress",
  "state",
  "phase",
  "attempt",
  "runBase",
  "errors",
  "updatedAt",
  "startedAt",
  "finishedAt",
  "accessedAt",
  "retryAt",
  "validation",
  "authenticationStatus",
  "artifacts",
  "leaseOwner",
  "leaseToken",
  "leaseUntil",
  "cancelRequested",
  "seq",
  "takeovers"
] as const satisfies ReadonlyArray<"doc" | Exclude<keyof TaskRecord, DocKey>>

// Every stored field must be in the list (a new TaskRecord field that is not fails to compile here).
const allFieldsRead: [Exclude<keyof TaskRecord, DocKey | (typeof recordFields)[number]>] extends [never] ? true : never = true
void allFieldsRead

type Field = (typeof recordFields)[number]
const IX = Object.fromEntries(recordFields.map((f, i) => [f, i])) as Record<Field, number>

const optStr = (v: string | null | undefined) => (v === null || v === undefined || v === "" ? undefined : v)
const optNum = (v: string | null | undefined) => (v === null || v === undefined || v === "" ? undefined : Number(v))
const optJson = (v: string | null | undefined): unknown => (v === null || v === undefined || v === "" ? undefined : JSON.parse(v))

/** Decodes the `HMGET <task> ...recordFields` reply; `undefined` when the task does not exist. */
export const fromFields = (v: ReadonlyArray<string | null>): TaskRecord | undefined => {
  const get = (f: Field) => v[IX[f]]
  const doc = get("doc")
  const state = optStr(get("state"))
  if (doc === null || doc === undefined || doc === "" || state === undefined) return undefined
  const d = JSON.parse(doc) as Pick<TaskRecord, DocKey>
  const errors = optJson(get("errors"))
  return {
    id: d.id,
    traceId: d.traceId,
    scanType: d.scanType,
    targets: d.targets,
    name: d.name,
    description: d.description,
    pool: get("pool") as string,
    requestedInstance: optStr(get("requestedInstance")),
    instance: optStr(get("instance")),
    nessusScanId: optNum(get("nessusScanId")),
    progress: optNum(get("progress")),
    state: state as Task.State,
    phase: optStr(get("phase")) as Task.Phase | undefined,
    attempt: optNum(get("attempt")) ?? 0,
    runBase: optNum(get("runBase")) ?? 0,
    // Lua's cjson writes an empty array as {}.
    errors: Array.isArray(errors) ? errors : [],
    createdAt: d.createdAt,
    updatedAt: optNum(get("updatedAt")) as number,
    startedAt: optNum(get("startedAt")),
    finishedAt: optNum(get("finishedAt")),
    accessedAt: optNum(get("accessedAt")) as number,
    retryAt: optNum(get("retryAt")),
    validation: optJson(get("validation")),
    authenticationStatus: optStr(get("authenticationStatus")) as Task.AuthenticationStatus | undefined,
    artifacts: optJson(get("artifacts")) as TaskRecord["artifacts"],
    credential: d.credential,
    idempotencyKey: d.idempotencyKey,
    leaseOwner: optStr(get("leaseOwner")),
    leaseToken: optStr(get("leaseToken")),
    leaseUntil: optNum(get("leaseUntil")),
    cancelRequested: get("cancelRequested") === "1",
    seq: optNum(get("seq")) ?? 0,
    takeovers: optNum(get("takeovers")) ?? 0
  }
}

/** Field/value pairs for `HSET` (undefined fields omitted). */
export const toHash = (r: TaskRecord): Array<string> => {
  const out: Array<string> = []
  const d: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(r)) {
    if (v === undefined) continue
    if (doc.has(k)) d[k] = v
    else out.push(k, json.has(k) ? JSON.stringify(v) : typeof v === "boolean" ? (v ? "1" : "0") : String(v))
  }
  out.push("doc", JSON.stringify(d))
  return out
}

/** Decodes `HGETALL` output (a flat array or an object). */
export const fromHash = (input: ReadonlyArray<string> | Readonly<Record<string, string>>): TaskRecord | undefined => {
  const o: Record<string, unknown> = {}
  const put = (k: string, v: string) => {
    if (v === "") return
    if (k === "doc") Object.assign(o, JSON.parse(v))
    else o[k] = json.has(k) ? JSON.parse(v) : numbers.has(k) ? Number(v) : k === "cancelRequested" ? v === "1" : v
  }
  if (Array.isArray(input)) {
    for (let i = 0; i + 1 < input.length; i += 2) put(input[i] as string, input[i + 1] as string)
  } else for (const [k, v] of Object.entries(input)) put(k, v)
  if (o["id"] === undefined || o["state"] === undefined) return undefined
  // Lua's cjson writes an empty array as {}.
  if (!Array.isArray(o["errors"])) o["errors"] = []
  o["attempt"] ??= 0
  o["runBase"] ??= 0
  o["takeovers"] ??= 0
  o["cancelRequested"] ??= false
  return o as unknown as TaskRecord
}
