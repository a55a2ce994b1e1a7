/**
 * The one error type a tool call can fail with. Every failure an agent can see is an `AppError` with a
 * `reason`; the reason decides the stable `code` in the tool result, whether retrying can help, and the
 * `nessus_api_requests_total{status}` label. Implementations of `ScanService` translate their own errors
 * (scheduler, validator, Redis) into this union at their boundary, exhaustively.
 */
import { Data } from "effect"

/**
 * Why a tool call failed.
 *
 * - `InvalidArgument`: an argument is missing, has the wrong type, is out of range, or breaks a rule that ties
 *   arguments together (`field` names it).
 * - `TaskNotFound`, `PoolNotFound`, `ScannerNotFound`, `CredentialNotFound`: an id or name that does not exist.
 * - `TargetOutOfScope`, `TooManyTargets`: targets refused by the pool's `allowed_targets` / `max_targets`.
 * - `InvalidFilter`, `InvalidCursor`: a results/list filter or cursor the index cannot use.
 * - `ResultsNotReady`: results were asked for a task that has not completed.
 * - `IdempotencyConflict`: the idempotency key was used before with different arguments.
 * - `InlineCredentialsDisabled`: inline passwords were sent but the server has no `CREDENTIALS_KEY`.
 * - `NotCancellable`: the task already reached a final state.
 * - `Unavailable`: a backend (Redis, the scheduler) cannot be reached right now; retrying later can help.
 * - `Internal`: a bug; the trace id leads to the server log.
 *
 * @category models
 */
export type Reason =
  | "InvalidArgument"
  | "TaskNotFound"
  | "PoolNotFound"
  | "ScannerNotFound"
  | "CredentialNotFound"
  | "TargetOutOfScope"
  | "TooManyTargets"
  | "InvalidFilter"
  | "InvalidCursor"
  | "ResultsNotReady"
  | "IdempotencyConflict"
  | "InlineCredentialsDisabled"
  | "NotCancellable"
  | "Unavailable"
  | "Internal"

/**
 * A failed tool call: `reason` classifies it, `message` says what went wrong, where, and what to do next (it
 * is shown to the agent verbatim, so it never contains secrets), `field` names the offending argument.
 *
 * @category errors
 */
export class AppError extends Data.TaggedError("AppError")<{
  readonly reason: Reason
  readonly message: string
  readonly field?: string | undefined
  /** Extra machine-readable facts for the agent (e.g. `{ allowed_targets: [...] }`); never secrets. */
  readonly details?: Readonly<Record<string, unknown>> | undefined
}> {}

const codes: { readonly [R in Reason]: string } = {
  InvalidArgument: "INVALID_ARGUMENT",
  TaskNotFound: "TASK_NOT_FOUND",
  PoolNotFound: "POOL_NOT_FOUND",
  ScannerNotFound: "SCANNER_NOT_FOUND",
  CredentialNotFound: "CREDENTIAL_NOT_FOUND",
  TargetOutOfScope: "TARGET_OUT_OF_SCOPE",
  TooManyTargets: "TOO_MANY_TARGETS",
  InvalidFilter: "INVALID_FILTER",
  InvalidCursor: "INVALID_CURSOR",
  ResultsNotReady: "RESULTS_NOT_READY",
  IdempotencyConflict: "IDEMPOTENCY_CONFLICT",
  InlineCredentialsDisabled: "INLINE_CREDENTIALS_DISABLED",
  NotCancellable: "NOT_CANCELLABLE",
  Unavailable: "UNAVAILABLE",
  Internal: "INTERNAL"
}

/**
 * The stable, SCREAMING_SNAKE code an agent (or a dashboard) can branch on, e.g. `TASK_NOT_FOUND`.
 *
 * @category accessors
 */
export const code = (error: AppError): string => codes[error.reason]

/**
 * Every code, for documentation and tests.
 *
 * @category accessors
 */
export const allCodes: ReadonlyArray<string> = Object.values(codes)

/**
 * Whether the same call may succeed later without changing its arguments.
 *
 * @category accessors
 */
export const isRetryable = (error: AppError): boolean => error.reason === "Unavailable"

/**
 * An argument problem: `field` is the argument's name (dotted for nested values, e.g. `filters.severity`).
 *
 * @category constructors
 */
export const invalidArgument = (field: string, problem: string): AppError =>
  new AppError({ reason: "InvalidArgument", field, message: `Invalid argument "${field}": ${problem}` })

/**
 * The task id does not exist (or has expired).
 *
 * @category constructors
 */
export const taskNotFound = (taskId: string): AppError =>
  new AppError({
    reason: "TaskNotFound",
    field: "task_id",
    message: `Task "${taskId}" was not found. Check the id returned by the submission, or call list_tasks to find it.`
  })
