/**
 * Per-scanner circuit breakers, shared by every worker through the scheduler's store (Redis or memory).
 *
 * - `closed`: the scanner takes new scans. `failureThreshold` consecutive scanner failures open it.
 * - `open`: selection skips the scanner until `cooldown` has passed.
 * - `half_open`: the next claim on the scanner is the probe; no other new scan goes there until the
 *   probe's outcome closes the circuit (success) or reopens it (failure). A probe that never reports
 *   (its worker died) frees the probe slot after `probeTimeout`.
 *
 * Outcomes of scans admitted before a trip change nothing, as in `effect/persistence`'s breaker.
 * That module is not used directly: its Redis store reads Redis `TIME` (tests could not drive it with
 * `TestClock`) and its state is not visible to the claim script, which must skip open scanners in the
 * same atomic step that picks one.
 *
 * @example
 * ```ts
 * import { CircuitBreaker } from "@nessus-mcp/scheduler"
 *
 * const policy = CircuitBreaker.defaultPolicy
 * let c = CircuitBreaker.initial("scanner1")
 * for (let i = 0; i < 5; i++) c = CircuitBreaker.record(c, { outcome: "failure", now: 0 }, policy).circuit
 * c.state // "open"
 * ```
 */
import { Duration } from "effect"

/**
 * Circuit state.
 *
 * @category models
 */
export type State = "closed" | "open" | "half_open"

/**
 * Circuit policy. Defaults: 5 consecutive failures, 5 minutes cooldown, 10 minutes probe timeout.
 *
 * @category models
 */
export interface Policy {
  readonly failureThreshold: number
  readonly cooldown: Duration.Input
  readonly probeTimeout: Duration.Input
}

/** 5 consecutive failures, 5 minutes cooldown, 10 minutes probe timeout. @category policies */
export const defaultPolicy: Policy = { failureThreshold: 5, cooldown: "5 minutes", probeTimeout: "10 minutes" }

/**
 * The stored state of one scanner's circuit (times in epoch milliseconds).
 *
 * @category models
 */
export interface Circuit {
  readonly instanceId: string
  readonly state: State
  readonly consecutiveFailures: number
  /** When an open circuit lets a probe through. */
  readonly retryAt: number | undefined
  readonly probeTaskId: string | undefined
  readonly probeUntil: number | undefined
  readonly changedAt: number | undefined
}

/**
 * A state change, observable through `Scheduler.circuitTransitions`.
 *
 * @category models
 */
export interface Transition {
  readonly instanceId: string
  readonly from: State
  readonly to: State
  readonly at: string
  readonly reason: string
}

/** A closed circuit with no history. @category constructors */
export const initial = (instanceId: string): Circuit => ({
  instanceId,
  state: "closed",
  consecutiveFailures: 0,
  retryAt: undefined,
  probeTaskId: undefined,
  probeUntil: undefined,
  changedAt: undefined
})

/**
 * The state a reader should see at `now`: an open circuit whose cooldown has passed reads as
 * `half_open` (its probe slot is free) even before a claim turns it so.
 *
 * @category queries
 */
export const effectiveState = (c: Circuit, now: number): State =>
  c.state === "open" && c.retryAt !== undefined && now >= c.retryAt ? "half_open" : c.state

/**
 * Whether selection may start a new scan on the scanner at `now` (and whether that scan is the probe).
 *
 * @category queries
 */
export const admits = (c: Circuit, now: number): "yes" | "probe" | "no" => {
  switch (c.state) {
    case "closed":
      return "yes"
    case "open":
      return c.retryAt !== undefined && now >= c.retryAt ? "probe" : "no"
    case "half_open":
      return c.probeUntil === undefined || now >= c.probeUntil ? "probe" : "no"
  }
}

const transition = (instanceId: string, from: State, to: State, now: number, reason: string): Transition => ({
  instanceId,
  from,
  to,
  at: new Date(now).toISOString(),
  reason
})

/**
 * Applies a claim that `admits` answered `probe` for: the circuit becomes half-open with `taskId` as
 * its probe.
 *
 * @category transitions
 */
export const startProbe = (
  c: Circuit,
  taskId: string,
  now: number,
  policy: Policy
): { readonly circuit: Circuit; readonly transition: Transition | undefined } => ({
  circuit: {
    ...c,
    state: "half_open",
    probeTaskId: taskId,
    probeUntil: now + Duration.toMillis(policy.probeTimeout),
    changedAt: c.state === "open" ? now : c.changedAt
  },
  transition: c.state === "open" ? transition(c.instanceId, "open", "half_open", now, "cooldown elapsed; probing") : undefined
})

/**
 * Applies one outcome. In `half_open` only the probe's own outcome counts (`taskId` must match);
 * in `open` nothing counts.
 *
 * @category transitions
 */
export const record = (
  c: Circuit,
  event: { readonly outcome: "success" | "failure"; readonly now: number; readonly taskId?: string | undefined },
  policy: Policy
): { readonly circuit: Circuit; readonly transition: Transition | undefined } => {
  const { now, outcome } = event
  switch (c.state) {
    case "open":
      return { circuit: c, transition: undefined }
    case "half_open": {
      if (event.taskId === undefined || event.taskId !== c.probeTaskId) return { circuit: c, transition: undefined }
      if (outcome === "success") {
        return {
          circuit: { ...initial(c.instanceId), changedAt: now },
          transition: transition(c.instanceId, "half_open", "closed", now, "probe succeeded")
        }
      }
      return {
        circuit: {
          ...c,
          state: "open",
          consecutiveFailures: c.consecutiveFailures + 1,
          retryAt: now + Duration.toMillis(policy.cooldown),
          probeTaskId: undefined,
          probeUntil: undefined,
          changedAt: now
        },
        transition: transition(c.instanceId, "half_open", "open", now, "probe failed")
      }
    }
    case "closed": {
      if (outcome === "success") {
        return { circuit: c.consecutiveFailures === 0 ? c : { ...c, consecutiveFailures: 0 }, transition: undefined }
      }
      const failures = c.consecutiveFailures + 1
      if (failures >= policy.failureThreshold) {
        return {
          circuit: { ...c, state: "open", consecutiveFailures: failures, retryAt: now + Duration.toMillis(policy.cooldown), changedAt: now },
          transition: transition(c.instanceId, "closed", "open", now, `${failures} consecutive failures`)
        }
      }
      return { circuit: { ...c, consecutiveFailures: failures }, transition: undefined }
    }
  }
}

/**
 * Forgets a circuit's history (admin reset): closed, no failures.
 *
 * @category transitions
 */
export const reset = (c: Circuit, now: number): { readonly circuit: Circuit; readonly transition: Transition | undefined } => ({
  circuit: { ...initial(c.instanceId), changedAt: now },
  transition: c.state === "closed" ? undefined : transition(c.instanceId, c.state, "closed", now, "reset by operator")
})

/**
 * A probe that ended without an outcome (its task was cancelled) frees the probe slot.
 *
 * @category transitions
 */
export const abandonProbe = (c: Circuit, taskId: string): Circuit =>
  c.state === "half_open" && c.probeTaskId === taskId ? { ...c, probeTaskId: undefined, probeUntil: undefined } : c
