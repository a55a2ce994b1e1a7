/**
 * The CLI's error contract: exit codes, `CommandError` (a failure with a stable `code`), and the one place
 * where the libraries' typed failures (`SchedulerError`, `ValidatorError`, `NessusError`, by `reason`) get
 * their exit code.
 */
import { Errors } from "@oclif/core"

/** Exit codes shared by all commands (documented in the README). */
export const ExitCode = {
  /** The command ran and the answer is positive (report valid, task completed, every scanner usable). */
  ok: 0,
  /** The command ran and the answer is negative (report or config not valid, task failed, a scanner check failed, the operator declined). */
  negative: 1,
  /** Bad usage: unknown flag, missing argument, invalid value, unknown pool or scanner, `--yes` needed. */
  usage: 2,
  /** Something named could not be found or read (file, task, DLQ entry, findings index, scanners file). */
  input: 3,
  /** A service the command needs was unavailable (Redis, a scanner). */
  unavailable: 4,
  /** A bug: an unexpected failure. */
  internal: 5,
  /** The object exists but its state does not allow the operation (cancel a finished task, results not ready). */
  conflict: 6
} as const

/** A failure with a stable machine-readable `code` and the exit code it maps to. */
export class CommandError extends Errors.CLIError {
  constructor(
    readonly errorCode: string,
    message: string,
    exit: number
  ) {
    super(message, { exit, code: errorCode })
  }
}

const byReason: Readonly<Record<string, number>> = {
  // validator
  file_unreadable: ExitCode.input,
  index_unreadable: ExitCode.input,
  invalid_filter: ExitCode.usage,
  invalid_query: ExitCode.usage,
  malformed_xml: ExitCode.input,
  unsupported_format: ExitCode.input,
  // scheduler
  config_invalid: ExitCode.input,
  invalid_input: ExitCode.usage,
  invalid_targets: ExitCode.usage,
  targets_not_allowed: ExitCode.usage,
  too_many_targets: ExitCode.usage,
  unknown_pool: ExitCode.usage,
  unknown_scanner: ExitCode.usage,
  unknown_credential: ExitCode.usage,
  not_found: ExitCode.input,
  invalid_transition: ExitCode.conflict,
  idempotency_conflict: ExitCode.conflict,
  lease_lost: ExitCode.conflict,
  task_cancelled: ExitCode.conflict,
  backend_unavailable: ExitCode.unavailable,
  scanner_invalid: ExitCode.input,
  // nessus-client
  Transport: ExitCode.unavailable,
  Timeout: ExitCode.unavailable,
  ServerError: ExitCode.unavailable,
  RateLimited: ExitCode.unavailable,
  Unauthorized: ExitCode.unavailable,
  Forbidden: ExitCode.unavailable,
  ScanApiUnavailable: ExitCode.unavailable
}

/** Exit code of a library error `reason` (internal for anything unknown). */
export const exitForReason = (reason: string): number => byReason[reason] ?? ExitCode.internal

interface TaggedFailure {
  readonly _tag: string
  readonly reason?: string
  readonly message: string
}

/** Whether a value is one of the libraries' tagged errors. */
export const isTagged = (u: unknown): u is TaggedFailure =>
  typeof u === "object" && u !== null && typeof (u as TaggedFailure)._tag === "string" && typeof (u as TaggedFailure).message === "string"

/** A library failure as a `CommandError`: its `reason` (or `_tag`) is the code. */
export const fromTagged = (e: TaggedFailure): CommandError => {
  const code = e.reason ?? e._tag
  return new CommandError(code, e.message, exitForReason(code))
}
