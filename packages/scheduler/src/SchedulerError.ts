/**
 * The one error type of `@nessus-mcp/scheduler`. Every failure a caller can see is a `SchedulerError`
 * whose `reason` says what went wrong and whose `message` says what, where and what to do about it.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Scheduler, SchedulerError } from "@nessus-mcp/scheduler"
 *
 * const program = Effect.gen(function*() {
 *   const scheduler = yield* Scheduler.Scheduler
 *   return yield* scheduler.get("t_doesnotexist0000000000")
 * }).pipe(
 *   Effect.catchTag("SchedulerError", (e) => Effect.succeed(e.reason === "not_found" ? "gone" : e.message))
 * )
 * ```
 */
import { Schema } from "effect"

/**
 * Why an operation failed.
 *
 * - `config_invalid`: the scanners file is unreadable or wrong (see `file`, `line`, `key`).
 * - `invalid_input`: a request field is malformed (bad id, name, scan type, credential combination).
 * - `invalid_targets`: a target is not an IP, CIDR, range or hostname, or carries forbidden characters.
 * - `targets_not_allowed`: a target lies outside the pool's `allowed_targets`.
 * - `too_many_targets`: the targets expand to more addresses than the pool's `max_targets`.
 * - `unknown_pool` / `unknown_scanner` / `unknown_credential`: a name that the configuration lacks.
 * - `inline_credentials_disabled`: inline credentials were sent but no `CREDENTIALS_KEY` is configured.
 * - `credentials_invalid`: a sealed credential could not be decrypted (wrong key or tampered data).
 * - `idempotency_conflict`: the idempotency key was used before with different parameters.
 * - `not_found`: no task (or DLQ entry) with that id.
 * - `invalid_transition`: the task's state does not allow the operation (e.g. cancelling a completed task).
 * - `lease_lost`: the caller's lease on a running task expired or was taken over by another worker.
 * - `task_cancelled`: the task was cancelled while the caller held it; stop the scan and `release`.
 * - `backend_unavailable`: Redis failed or is unreachable.
 *
 * @category models
 */
export const Reason = Schema.Literals([
  "config_invalid",
  "invalid_input",
  "invalid_targets",
  "targets_not_allowed",
  "too_many_targets",
  "unknown_pool",
  "unknown_scanner",
  "unknown_credential",
  "inline_credentials_disabled",
  "credentials_invalid",
  "idempotency_conflict",
  "not_found",
  "invalid_transition",
  "lease_lost",
  "task_cancelled",
  "backend_unavailable"
])

/**
 * Why an operation failed (see {@link Reason}).
 *
 * @category models
 */
export type Reason = typeof Reason.Type

/**
 * A configuration problem found at one place in a scanners file.
 *
 * @category models
 */
export const ConfigIssue = Schema.Struct({
  file: Schema.String,
  line: Schema.Number,
  key: Schema.String,
  problem: Schema.String
})

/**
 * A configuration problem found at one place in a scanners file (see the {@link ConfigIssue} schema).
 *
 * @category models
 */
export interface ConfigIssue extends Schema.Schema.Type<typeof ConfigIssue> {}

/**
 * The error of every scheduler operation.
 *
 * @category errors
 */
export class SchedulerError extends Schema.TaggedError<SchedulerError>()("SchedulerError", {
  reason: Reason,
  message: Schema.String,
  taskId: Schema.optional(Schema.String),
  file: Schema.optional(Schema.String),
  line: Schema.optional(Schema.Number),
  key: Schema.optional(Schema.String),
  /** `config_invalid` from a file's content: every problem found, in file order. */
  issues: Schema.optional(Schema.Array(ConfigIssue)),
  cause: Schema.optional(Schema.Defect())
}) {}

/**
 * Builds a `SchedulerError`.
 *
 * @category constructors
 */
export const make = (
  reason: Reason,
  message: string,
  details: {
    readonly taskId?: string | undefined
    readonly file?: string | undefined
    readonly line?: number | undefined
    readonly key?: string | undefined
    readonly issues?: ReadonlyArray<ConfigIssue> | undefined
    readonly cause?: unknown
  } = {}
): SchedulerError =>
  new SchedulerError({
    reason,
    message,
    ...(details.taskId !== undefined ? { taskId: details.taskId } : {}),
    ...(details.file !== undefined ? { file: details.file } : {}),
    ...(details.line !== undefined ? { line: details.line } : {}),
    ...(details.key !== undefined ? { key: details.key } : {}),
    ...(details.issues !== undefined ? { issues: details.issues } : {}),
    ...(details.cause !== undefined ? { cause: details.cause } : {})
  })

/**
 * Builds a `config_invalid` error from every issue found in one file (`issues`), the first issue's place as
 * its location.
 *
 * @category constructors
 */
export const fromConfigIssues = (file: string, issues: ReadonlyArray<ConfigIssue>): SchedulerError => {
  const first = issues[0]
  const lines = issues.map((i) => `  ${i.file}:${i.line}: ${i.key}: ${i.problem}`)
  return make(
    "config_invalid",
    `Invalid scanner configuration in ${file} (${issues.length} problem${issues.length === 1 ? "" : "s"}); fix the file and reload:\n${lines.join("\n")}`,
    { file, line: first?.line, key: first?.key, issues }
  )
}

// ioredis attaches the failed command, arguments included, to a reply error (`command.args`: AUTH's
// password, task data): keep only what identifies the failure, so logging or serialising the cause is safe.
const bareCause = (cause: unknown): unknown => {
  if (!(cause instanceof Error)) return cause
  const bare = new Error(cause.message)
  bare.name = cause.name
  if (cause.stack !== undefined) bare.stack = cause.stack
  const code = (cause as { readonly code?: unknown }).code
  if (typeof code === "string" || typeof code === "number") Object.assign(bare, { code })
  return bare
}

/**
 * Wraps a Redis failure. Neither the message nor the kept cause carries command arguments (they may hold
 * task data or, for AUTH, the password).
 *
 * @category constructors
 */
export const backend = (operation: string, cause: unknown): SchedulerError =>
  make(
    "backend_unavailable",
    `Redis failed during ${operation}: ${cause instanceof Error ? cause.message : String(cause)}. Check that Redis is reachable (REDIS_URL) and running with maxmemory-policy noeviction.`,
    { cause: bareCause(cause) }
  )

/**
 * A guard for `SchedulerError`.
 *
 * @category guards
 */
export const isSchedulerError = (u: unknown): u is SchedulerError => u instanceof SchedulerError
