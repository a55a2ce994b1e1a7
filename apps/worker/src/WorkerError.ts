/**
 * The one error type of `@nessus-mcp/worker`: what can stop the worker from starting or serving, with a
 * `reason` literal and a message that says what failed, where, and what to do. Failures of individual
 * scan tasks are not errors of the worker: they are recorded on the task (retry or dead-letter queue).
 */
import { Schema } from "effect"

/**
 * Why the worker failed.
 *
 * - `config_invalid`: an environment variable or the scanners file is wrong (the message names it).
 * - `scanner_invalid`: a scanner's client could not be built (TLS CA file unreadable, bad fingerprint,
 *   auth mode that its credentials cannot satisfy).
 * - `listen_failed`: the metrics/health port could not be bound.
 * - `data_dir_unwritable`: `DATA_DIR` cannot be created or written.
 * - `backend_unavailable`: Redis could not be reached at start.
 *
 * @category models
 */
export const Reason = Schema.Literals([
  "config_invalid",
  "scanner_invalid",
  "listen_failed",
  "data_dir_unwritable",
  "backend_unavailable"
])

/**
 * Literal union of the failure reasons.
 *
 * @category models
 */
export type Reason = typeof Reason.Type

/**
 * The error of the worker's startup and services.
 *
 * @category errors
 */
export class WorkerError extends Schema.TaggedError<WorkerError>()("WorkerError", {
  reason: Reason,
  message: Schema.String,
  cause: Schema.optional(Schema.Defect())
}) {}

/**
 * Builds a `WorkerError`.
 *
 * @category constructors
 */
export const make = (reason: Reason, message: string, cause?: unknown): WorkerError =>
  new WorkerError({ reason, message, ...(cause !== undefined ? { cause } : {}) })

/**
 * Whether a value is a `WorkerError`.
 *
 * @category guards
 */
export const isWorkerError = (u: unknown): u is WorkerError => u instanceof WorkerError
