/**
 * The one error type of `@nessus-mcp/nessus-client`. Every failure of every operation is a `NessusError`
 * whose `reason` says what kind of failure it was; `message` says what failed and what to do about it.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { NessusClient, NessusError } from "@nessus-mcp/nessus-client"
 *
 * const program = Effect.gen(function*() {
 *   const nessus = yield* NessusClient.NessusClient
 *   return yield* nessus.launchScan(42)
 * }).pipe(
 *   Effect.catchTag("NessusError", (error) =>
 *     error.reason === "ScanApiUnavailable"
 *       ? Effect.logWarning(error.message)
 *       : Effect.fail(error))
 * )
 * ```
 */
import { Predicate, Schema } from "effect"

/**
 * Why an operation failed.
 *
 * - `Unauthorized`: 401, bad credentials or a session that could not be renewed.
 * - `Forbidden`: 403, the Nessus user lacks permission.
 * - `ScanApiUnavailable`: 412 "API is not available" (licence with `scan_api: false`), including the
 *   case where Nessus drops the connection instead of sending the 412 body.
 * - `NotFound`: 404, unknown scan, host, folder, template or export file.
 * - `Conflict`: 409, e.g. exporting a running scan.
 * - `RateLimited`: 429.
 * - `ServerError`: 5xx, or an export that Nessus reports as failed.
 * - `Transport`: no usable HTTP exchange (refused, reset, TLS verification failure, body cut short).
 * - `Timeout`: no answer in time, or an export still loading when the poll budget ran out.
 * - `Decode`: Nessus answered with a shape this client does not understand.
 * - `InvalidRequest`: the input was rejected, by this client (bad options, bad scan spec) or by Nessus
 *   (400, 405, other 4xx).
 *
 * @category models
 */
export const Reason = Schema.Literals([
  "Unauthorized",
  "Forbidden",
  "ScanApiUnavailable",
  "NotFound",
  "Conflict",
  "RateLimited",
  "ServerError",
  "Transport",
  "Timeout",
  "Decode",
  "InvalidRequest"
])

/**
 * Literal union of the failure reasons.
 *
 * @category models
 */
export type Reason = typeof Reason.Type

const TLS_CODES = new Set([
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "CERT_HAS_EXPIRED",
  "CERT_NOT_YET_VALID",
  "CERT_UNTRUSTED",
  "CERT_REJECTED",
  "CERT_SIGNATURE_FAILURE",
  "ERR_TLS_CERT_ALTNAME_INVALID",
  "ERR_NESSUS_TLS_PIN_MISMATCH"
])

/**
 * Whether a transport error code is a TLS certificate verification failure (which retrying cannot fix).
 *
 * @category predicates
 */
export const isCertificateError = (code: string | undefined): boolean => code !== undefined && TLS_CODES.has(code)

const advice = (self: NessusError): string => {
  switch (self.reason) {
    case "Unauthorized":
      return "Check the Nessus username and password or the API keys (keys change whenever someone regenerates them)."
    case "Forbidden":
      return "The Nessus user lacks permission for this; use an account with the needed role (listing scanners needs an administrator)."
    case "ScanApiUnavailable":
      return "This Nessus licence disables scan control through the API (license.features.scan_api = false, e.g. Essentials or Professional >= 7); use auth mode \"web-ui\" or \"auto\" with a username and password."
    case "NotFound":
      return "The scan, host, folder, template or export file does not exist (exports expire); list them again."
    case "Conflict":
      return "The scan's state does not allow this (e.g. exporting a running scan); wait for it to finish or stop it first."
    case "RateLimited":
      return "Nessus is throttling requests; retry after a delay."
    case "ServerError":
      return "Nessus failed internally or is restarting; retry later and check the Nessus server logs."
    case "Transport":
      return isCertificateError(self.code)
        ? "The scanner's TLS certificate was not trusted (Nessus ships a self-signed one): trust the scanner's CA or pin its SHA-256 certificate fingerprint (scanners.yaml: tls.ca_file / tls.fingerprint; library: NessusTls options ca / fingerprint256). Turn verification off (tls.insecure) only for throwaway tests."
        : "Could not talk to Nessus; check the URL, the network and that the scanner is running."
    case "Timeout":
      return "Nessus did not answer in time; it may be busy. Retry later or raise the timeout."
    case "Decode":
      return "Nessus answered with an unexpected shape; this Nessus version may be unsupported. Report it with the details above."
    case "InvalidRequest":
      return "Fix the input described above."
  }
}

/**
 * The error of every `NessusClient` operation.
 *
 * `operation` names the client operation (`"scans.create"`), `request` the HTTP call (`"POST /scans"`),
 * `status` the HTTP status when there was one, `nessusMessage` the text of Nessus's `{"error": …}` body,
 * `detail` extra context from this client, `code` the transport error code (`ECONNREFUSED`,
 * `DEPTH_ZERO_SELF_SIGNED_CERT`, …). None of them ever contains a secret.
 *
 * @category errors
 */
export class NessusError extends Schema.TaggedError<NessusError>()("NessusError", {
  reason: Reason,
  operation: Schema.String,
  request: Schema.optionalKey(Schema.String),
  status: Schema.optionalKey(Schema.Number),
  nessusMessage: Schema.optionalKey(Schema.String),
  detail: Schema.optionalKey(Schema.String),
  code: Schema.optionalKey(Schema.String),
  retryAfterMillis: Schema.optionalKey(Schema.Number)
}) {
  /** What failed, why, and what to do about it. */
  override get message(): string {
    const parts: Array<string> = [`Nessus ${this.operation} failed (${this.reason}`]
    if (this.status !== undefined) parts.push(`, HTTP ${this.status}`)
    if (this.code !== undefined) parts.push(`, ${this.code}`)
    parts.push(")")
    if (this.request !== undefined) parts.push(` on ${this.request}`)
    if (this.nessusMessage !== undefined) parts.push(`: Nessus said "${this.nessusMessage}"`)
    if (this.detail !== undefined) parts.push(`${this.nessusMessage === undefined ? ":" : ";"} ${this.detail}`)
    parts.push(`. ${advice(this)}`)
    return parts.join("")
  }

  /**
   * Whether trying the same thing again later may succeed: rate limiting, 5xx, timeouts and transport
   * failures other than certificate rejections. The client itself retries only idempotent reads.
   */
  get isTransient(): boolean {
    switch (this.reason) {
      case "RateLimited":
      case "Timeout":
        return true
      case "ServerError":
        return this.status === undefined || this.status >= 500
      case "Transport":
        return !isCertificateError(this.code)
      default:
        return false
    }
  }
}

/**
 * Whether a value is a `NessusError`.
 *
 * @category guards
 */
export const isNessusError = (u: unknown): u is NessusError => u instanceof NessusError

/**
 * Whether a value is a `NessusError` worth retrying later (see `NessusError.isTransient`).
 *
 * @category predicates
 */
export const isTransient = (u: unknown): boolean => isNessusError(u) && u.isTransient

/**
 * Whether a value is a `NessusError` with the given reason.
 *
 * @category predicates
 */
export const hasReason = (u: unknown, reason: Reason): u is NessusError =>
  isNessusError(u) && Predicate.isString(u.reason) && u.reason === reason
