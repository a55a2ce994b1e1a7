/**
 * How the worker classifies what went wrong with a task, in the scheduler's words (`Retry.FailureReason`):
 * transient reasons are requeued with backoff and count towards the scanner's circuit, permanent ones go
 * to the dead-letter queue with their message.
 */
import type { NessusError } from "@nessus-mcp/nessus-client"
import type { Retry } from "@nessus-mcp/scheduler"
import { Data } from "effect"

/** A task attempt that cannot go on; `message` is secret-free and says what to do. */
export class TaskFailure extends Data.TaggedError("TaskFailure")<{
  readonly reason: Retry.FailureReason
  readonly message: string
}> {}

const REFUSED = new Set(["ECONNREFUSED", "EHOSTUNREACH", "ENETUNREACH", "ENOTFOUND", "EAI_AGAIN"])

/** The failure reason of a Nessus client error. */
export const reasonOf = (error: NessusError.NessusError): Retry.FailureReason => {
  switch (error.reason) {
    case "Unauthorized":
    case "Forbidden":
      return "auth_rejected"
    case "ScanApiUnavailable":
      return "api_unavailable"
    case "RateLimited":
      return "rate_limited"
    case "Timeout":
      return "timeout"
    case "ServerError":
      return error.isTransient ? "http_5xx" : "export_failed"
    case "Transport":
      if (!error.isTransient) return "internal"
      return error.code !== undefined && REFUSED.has(error.code) ? "scanner_down" : "network"
    case "InvalidRequest":
      return error.operation === "scans.create" && error.status !== undefined ? "invalid_targets" : "internal"
    case "NotFound":
      return "scan_failed"
    case "Conflict":
    case "Decode":
      return "internal"
  }
}

/** A `TaskFailure` from a Nessus client error, naming the step. */
export const fromNessus = (step: string) => (error: NessusError.NessusError): TaskFailure =>
  new TaskFailure({ reason: reasonOf(error), message: `${step}: ${error.message}` })

/** What an operator or agent should check when credentials did not work. */
export const authenticationHints = (scanType: string): ReadonlyArray<string> => [
  "Verify the username and password of the scan credential (named credential in the scanners file, or the inline one) by logging in to one target over SSH from the scanner host.",
  "Check that the targets accept SSH from the scanner's IP (firewall, security groups, sshd AllowUsers/AllowGroups, PasswordAuthentication yes).",
  "Check that the account is not locked or expired and that its shell allows non-interactive logins.",
  ...(scanType === "authenticated_privileged"
    ? ["For privileged scans, check the escalation method (e.g. sudo), the escalation account and its password, and that the account may run commands as root."]
    : []),
  "Read plugin 19506 (Nessus Scan Information) and plugins 21745 / 104410 in the findings for the exact error per host."
]
