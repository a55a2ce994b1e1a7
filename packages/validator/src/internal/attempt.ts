/** Bridges the synchronous/promise core to Effect: `ValidatorError`s fail, anything else is a defect. */
import * as Effect from "effect/Effect"
import { isValidatorError, type ValidatorError } from "../ValidatorError.js"

/** Runs a synchronous step that may throw a `ValidatorError`. */
export const attempt = <A>(f: () => A): Effect.Effect<A, ValidatorError> =>
  Effect.suspend(() => {
    try {
      return Effect.succeed(f())
    } catch (e) {
      return isValidatorError(e) ? Effect.fail(e) : Effect.die(e)
    }
  })

/** Runs a promise-returning step that may reject with a `ValidatorError`. */
export const attemptPromise = <A>(f: () => Promise<A>): Effect.Effect<A, ValidatorError> =>
  Effect.flatMap(
    Effect.promise(() => f().then((value) => ({ ok: true as const, value }), (error: unknown) => ({ ok: false as const, error }))),
    (r) => r.ok ? Effect.succeed(r.value) : isValidatorError(r.error) ? Effect.fail(r.error) : Effect.die(r.error)
  )
