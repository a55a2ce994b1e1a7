/**
 * The simulator's one error type.
 *
 * @since 0.1.0
 */
import * as Data from "effect/Data"

/**
 * Why the simulator failed:
 * - `InvalidConfig`: a configuration value is wrong (the message names the key, e.g. `scanners[1].port`);
 * - `Listen`: a port could not be bound (in use, no permission);
 * - `Fixture`: a fixture export could not be read or is not a `.nessus` v2 document;
 * - `Io`: writing a generated export failed.
 *
 * @since 0.1.0
 */
export type Reason = "InvalidConfig" | "Listen" | "Fixture" | "Io"

/**
 * Raised (thrown by the Promise API, failed by the Effect API) when the simulator cannot do what was asked.
 *
 * @since 0.1.0
 */
export class SimulatorError extends Data.TaggedError("SimulatorError")<{
  readonly reason: Reason
  readonly message: string
  readonly cause?: unknown
}> {}

/**
 * True for a {@link SimulatorError}.
 *
 * @since 0.1.0
 */
export const isSimulatorError = (u: unknown): u is SimulatorError =>
  typeof u === "object" && u !== null && (u as { _tag?: unknown })._tag === "SimulatorError"
