/**
 * Retry policy: which failures are transient (retried with exponential backoff and jitter) and which
 * are permanent (straight to the dead-letter queue), as Effect `Schedule`s.
 *
 * The same policy drives two levels: `retryTransient` retries one call inside a worker, and the
 * scheduler requeues a failed task after {@link delayFor} its attempt number.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Retry } from "@nessus-mcp/scheduler"
 *
 * const launch = Effect.fail({ status: 503 }).pipe(
 *   Retry.retryTransient(Retry.defaultPolicy, (e) => (e.status >= 500 ? "http_5xx" : "internal"))
 * )
 * ```
 */
import { Duration, Effect, Option, Pull, Schedule } from "effect"

/**
 * Why a task attempt failed, in words the worker maps its errors to.
 *
 * Transient: `network`, `http_5xx`, `rate_limited`, `timeout`, `scanner_down`, `scanner_busy`.
 * Permanent: `auth_rejected` (scanner login refused), `api_unavailable` (412 without web-UI mode),
 * `invalid_targets`, `authentication_failed` (validator verdict), `scan_failed` (Nessus aborted the
 * scan), `export_failed`, `validation_failed`, `internal`.
 *
 * @category models
 */
export type FailureReason =
  | "network"
  | "http_5xx"
  | "rate_limited"
  | "timeout"
  | "scanner_down"
  | "scanner_busy"
  | "auth_rejected"
  | "api_unavailable"
  | "invalid_targets"
  | "authentication_failed"
  | "scan_failed"
  | "export_failed"
  | "validation_failed"
  | "internal"

/** Every {@link FailureReason}. @category models */
export const failureReasons: ReadonlyArray<FailureReason> = [
  "network",
  "http_5xx",
  "rate_limited",
  "timeout",
  "scanner_down",
  "scanner_busy",
  "auth_rejected",
  "api_unavailable",
  "invalid_targets",
  "authentication_failed",
  "scan_failed",
  "export_failed",
  "validation_failed",
  "internal"
]

const transient: ReadonlySet<FailureReason> = new Set([
  "network",
  "http_5xx",
  "rate_limited",
  "timeout",
  "scanner_down",
  "scanner_busy"
])

const scannerHealth: ReadonlySet<FailureReason> = new Set(["network", "http_5xx", "timeout", "scanner_down"])

/**
 * Whether a failure is worth retrying.
 *
 * @category classification
 */
export const isTransient = (reason: FailureReason): boolean => transient.has(reason)

/**
 * Whether a failure says the scanner itself is unhealthy (counts towards opening its circuit).
 *
 * @category classification
 */
export const isScannerFailure = (reason: FailureReason): boolean => scannerHealth.has(reason)

/**
 * Retry policy. `retries` is the number of retries after the first try (so a task runs at most
 * `retries + 1` times per submission or DLQ retry); the n-th retry waits `base × factor^(n-1)`,
 * scaled by a random factor in [0.8, 1.2] when `jitter` is on.
 *
 * @category models
 */
export interface Policy {
  readonly retries: number
  readonly base: Duration.Input
  readonly factor: number
  readonly jitter: boolean
}

/**
 * 3 retries after 1 s, 2 s and 4 s (before jitter).
 *
 * @category policies
 */
export const defaultPolicy: Policy = { retries: 3, base: "1 second", factor: 2, jitter: true }

/**
 * The policy as a `Schedule` (outputs the delay; stops after `retries` recurrences).
 *
 * @category schedules
 */
export const schedule = (policy: Policy = defaultPolicy): Schedule.Schedule<Duration.Duration> => {
  const base = Schedule.exponential(policy.base, policy.factor)
  const jittered = policy.jitter ? Schedule.jittered(base) : base
  return jittered.pipe(Schedule.upTo({ times: policy.retries }))
}

/**
 * The delay before retry number `retry` (1-based), or `None` when the policy allows no more retries.
 * Computed by stepping the policy's `Schedule`.
 *
 * @category schedules
 */
export const delayFor = (policy: Policy, retry: number): Effect.Effect<Option.Option<Duration.Duration>> =>
  Effect.gen(function*() {
    if (retry < 1 || retry > policy.retries) return Option.none()
    const step = yield* Schedule.toStep(schedule(policy))
    let delay: Duration.Duration = Duration.zero
    for (let i = 0; i < retry; i++) {
      const next = yield* step(0, undefined).pipe(Pull.catchDone(() => Effect.succeed(undefined)))
      if (next === undefined) return Option.none()
      delay = next[1]
    }
    return Option.some(delay)
  })

/**
 * Retries an effect on transient failures (as classified by `classify`) with the policy's schedule.
 * Permanent failures are returned at once.
 *
 * @category combinators
 */
export const retryTransient = <E>(policy: Policy, classify: (error: E) => FailureReason) =>
<A, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  Effect.retry(self, { schedule: schedule(policy), while: (e: E) => isTransient(classify(e)) })
