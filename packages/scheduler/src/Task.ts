/**
 * The task model: ids, scan types, states and the phases of a running scan, the allowed state
 * transitions, the shape of a submission, and the `Task` view that callers see (never a secret).
 *
 * ```
 * queued ──claim──▶ running ──▶ completed | failed | timeout | cancelled
 *   ▲                 │  (phase: creating → launched → polling → exporting → validating)
 *   └── transient failure (retry with backoff) / DLQ retry of failed or timeout
 * ```
 *
 * @example
 * ```ts
 * import { Task } from "@nessus-mcp/scheduler"
 *
 * Task.canTransition("queued", "running")     // true
 * Task.canTransition("completed", "running")  // false
 * Task.scanName("t_0123456789abcdefghijkl", 1) // "nmcp-t_0123456789abcdefghijkl-a1"
 * ```
 */
import { Effect, Redacted, Schema } from "effect"
import { randomBytes } from "node:crypto"
import * as SchedulerError from "./SchedulerError.js"

/**
 * A task id: `t_` and 22 URL-safe characters, opaque to callers.
 *
 * @category ids
 */
export const TaskId = Schema.String.check(Schema.isPattern(/^t_[A-Za-z0-9_-]{22}$/)).pipe(Schema.brand("TaskId"))

/** A task id (see {@link TaskId}). @category ids */
export type TaskId = typeof TaskId.Type

/**
 * A fresh random task id.
 *
 * @category ids
 */
export const makeId: Effect.Effect<TaskId> = Effect.sync(() => `t_${randomBytes(16).toString("base64url")}` as TaskId)

const TASK_ID = /^t_[A-Za-z0-9_-]{22}$/

/**
 * Validates a task id received from outside (tool argument, CLI argument, URL).
 *
 * @category ids
 */
export const decodeId = (input: string): Effect.Effect<TaskId, SchedulerError.SchedulerError> =>
  TASK_ID.test(input)
    ? Effect.succeed(input as TaskId)
    : Effect.fail(
      SchedulerError.make(
        "invalid_input",
        `"${input.replace(/[^\x20-\x7e]/g, "?").slice(0, 64)}" is not a task id; task ids look like t_ followed by 22 letters, digits, "-" or "_" (as returned by submit).`
      )
    )

/**
 * What kind of scan: no credentials, with credentials, or with credentials and privilege escalation.
 *
 * @category models
 */
export const ScanType = Schema.Literals(["untrusted", "authenticated", "authenticated_privileged"])
/** What kind of scan (see the schema). @category models */
export type ScanType = typeof ScanType.Type

/**
 * The lifecycle state of a task.
 *
 * @category models
 */
export const State = Schema.Literals(["queued", "running", "completed", "failed", "timeout", "cancelled"])
/** A task's lifecycle state (see the schema). @category models */
export type State = typeof State.Type

/**
 * How far a running task got. A worker taking over a task resumes from its phase: `creating` means the
 * Nessus scan may or may not exist (look it up by {@link scanName}); `launched` and later mean it exists
 * and must never be launched again.
 *
 * @category models
 */
export const Phase = Schema.Literals(["creating", "launched", "polling", "exporting", "validating"])
/** How far a running task got (see the schema). @category models */
export type Phase = typeof Phase.Type

/** Phases in order. @category models */
export const phases: ReadonlyArray<Phase> = ["creating", "launched", "polling", "exporting", "validating"]

/**
 * Authentication verdict of a credentialed scan, as reported by the validator.
 *
 * @category models
 */
export const AuthenticationStatus = Schema.Literals(["success", "failed", "partial", "not_applicable", "unknown"])
/** The validator's authentication verdict (see the schema). @category models */
export type AuthenticationStatus = typeof AuthenticationStatus.Type

/** States a task never leaves on its own. @category models */
export const terminalStates: ReadonlyArray<State> = ["completed", "failed", "timeout", "cancelled"]

/** Whether a state is terminal (completed, failed, timeout, cancelled). @category predicates */
export const isTerminal = (state: State): boolean => terminalStates.includes(state)

const transitions: Record<State, ReadonlyArray<State>> = {
  queued: ["running", "cancelled"],
  running: ["queued", "completed", "failed", "timeout", "cancelled"],
  completed: [],
  failed: ["queued"],
  timeout: ["queued"],
  cancelled: []
}

/**
 * Whether the state machine allows `from → to`. `running → queued` is a transient-failure retry;
 * `failed | timeout → queued` is a dead-letter retry.
 *
 * @category predicates
 */
export const canTransition = (from: State, to: State): boolean => transitions[from].includes(to)

/**
 * Whether `next` may follow `current` (phases only move forward; repeating one records an update).
 *
 * @category predicates
 */
export const canAdvancePhase = (current: Phase | undefined, next: Phase): boolean =>
  current === undefined || phases.indexOf(next) >= phases.indexOf(current)

/**
 * The unique Nessus scan name for one attempt of a task. Scans whose name matches {@link isOwnScanName}
 * were created by this system; nothing else on a scanner is ever touched.
 *
 * @category naming
 */
export const scanName = (id: string, attempt: number): string => `nmcp-${id}-a${attempt}`

/** Whether a Nessus scan name is one this system created (see {@link scanName}). @category naming */
export const isOwnScanName = (name: string): boolean => /^nmcp-t_[A-Za-z0-9_-]{22}-a\d+$/.test(name)

/**
 * The task a scan name belongs to, if it is one of ours.
 *
 * @category naming
 */
export const taskIdOfScanName = (name: string): TaskId | undefined =>
  isOwnScanName(name) ? (name.slice(5, 5 + 24) as TaskId) : undefined

/**
 * One failed attempt, as recorded on the task (and shown in the DLQ).
 *
 * @category models
 */
export const AttemptError = Schema.Struct({
  attempt: Schema.Number,
  at: Schema.String,
  reason: Schema.String,
  message: Schema.String,
  phase: Schema.optional(Phase),
  instanceId: Schema.optional(Schema.String)
})
/** One failed attempt (see the schema). @category models */
export type AttemptError = typeof AttemptError.Type

/**
 * Elevation methods Nessus accepts for SSH credentials.
 *
 * @category models
 */
export const Elevation = Schema.Literals([
  "Nothing",
  "sudo",
  "su",
  "su+sudo",
  "pbrun",
  "dzdo",
  ".k5login",
  "Cisco 'enable'",
  "Checkpoint Gaia 'expert'"
])
/** An SSH privilege-escalation method (see the schema). @category models */
export type Elevation = typeof Elevation.Type

/**
 * Inline SSH credentials sent with a submission. The secrets are `Redacted` and are encrypted before
 * they reach the store.
 *
 * @category models
 */
export interface InlineCredential {
  readonly type: "ssh"
  readonly username: string
  readonly password: Redacted.Redacted<string>
  readonly elevatePrivilegesWith?: Elevation | undefined
  readonly escalationAccount?: string | undefined
  readonly escalationPassword?: Redacted.Redacted<string> | undefined
}

/**
 * What a task says about its credentials: the name of a configured credential, or that inline
 * credentials were given (type, user and elevation method only; the secrets are sealed).
 *
 * @category models
 */
export type CredentialSummary =
  | { readonly kind: "named"; readonly name: string }
  | { readonly kind: "inline"; readonly type: "ssh"; readonly username: string; readonly elevatePrivilegesWith: Elevation }

/**
 * A submission. `pool` defaults to the configuration's default pool; `instance` binds the task to one
 * scanner of that pool; `credential` names a configured credential, `inlineCredential` carries one.
 *
 * @category models
 */
export interface SubmitRequest {
  readonly scanType: ScanType
  readonly targets: string | ReadonlyArray<string>
  readonly name: string
  readonly description?: string | undefined
  readonly pool?: string | undefined
  readonly instance?: string | undefined
  readonly credential?: string | undefined
  readonly inlineCredential?: InlineCredential | undefined
  readonly idempotencyKey?: string | undefined
  readonly traceId?: string | undefined
}

/**
 * The current lease on a running task (who holds it and until when).
 *
 * @category models
 */
export interface LeaseInfo {
  readonly owner: string
  readonly expiresAt: string
}

/**
 * A task as callers see it. Timestamps are ISO 8601 in UTC (`...Z`). No field ever carries a secret.
 *
 * @category models
 */
export interface Task {
  readonly id: TaskId
  readonly traceId: string
  readonly scanType: ScanType
  readonly targets: ReadonlyArray<string>
  readonly name: string
  readonly description: string
  readonly pool: string
  /** The scanner the submitter asked for, if any. */
  readonly requestedInstance: string | undefined
  /** The scanner running (or last running) the task. */
  readonly instance: string | undefined
  readonly nessusScanId: number | undefined
  /**
   * Progress of the current attempt's Nessus scan in percent (0–100), as last reported by the worker
   * (`setPhase(lease, phase, { progress })`); `undefined` until the worker reports one. Kept across a
   * takeover, cleared when a new attempt is queued.
   */
  readonly progress?: number | undefined
  /** The unique Nessus scan name of the current attempt (see {@link scanName}). */
  readonly scanName: string | undefined
  readonly state: State
  readonly phase: Phase | undefined
  /** Runs started so far (1 after the first claim). */
  readonly attempt: number
  readonly errors: ReadonlyArray<AttemptError>
  readonly createdAt: string
  readonly updatedAt: string
  readonly startedAt: string | undefined
  readonly finishedAt: string | undefined
  readonly lastAccessAt: string
  /** When a task waiting for a retry becomes claimable again. */
  readonly retryAt: string | undefined
  readonly validation: unknown
  readonly authenticationStatus: AuthenticationStatus | undefined
  /** Where the results live (e.g. `{ nessus: "/data/<id>/scan.nessus" }`), set by the worker. */
  readonly artifacts: Readonly<Record<string, string>> | undefined
  readonly credential: CredentialSummary | undefined
  readonly idempotencyKey: string | undefined
  readonly lease: LeaseInfo | undefined
  /** A running task was cancelled; the worker stops the Nessus scan and releases it. */
  readonly cancelRequested: boolean
  /** How many times another worker took the task over after a lease expired. */
  readonly takeovers: number
}

/**
 * Queue position and estimated wait of a queued task.
 *
 * - `ahead`: tasks that will be claimed before it.
 * - `capacity`: the *usable* slots of the scanners that can run it (the pool's, or its bound scanner's):
 *   enabled scanners with a closed circuit count `max_concurrent_scans`, a half-open one counts the one
 *   probe it admits, an open or disabled one counts nothing.
 * - `running`: scans running on those usable scanners.
 * - `estimatedWaitMs`: from the usable capacity, the remaining time of the scans running on it and the
 *   recent average scan duration; `undefined` while no usable scanner can run it (all disabled or
 *   their circuits open: the wait depends on when an operator or a probe brings one back).
 *
 * @category models
 */
export interface QueuePosition {
  readonly position: number
  readonly ahead: number
  readonly capacity: number
  readonly running: number
  readonly averageScanMs: number
  readonly averageBasis: "history" | "default"
  readonly estimatedWaitMs: number | undefined
  readonly estimatedStartAt: string | undefined
}

/**
 * What the worker reports with `complete` (a finished task), or with `fail` when it has results despite
 * the failure (e.g. the validation summary of an `authentication_failed` scan).
 *
 * @category models
 */
export interface CompletionResult {
  readonly validation?: unknown
  readonly authenticationStatus?: AuthenticationStatus | undefined
  readonly artifacts?: Readonly<Record<string, string>> | undefined
}
