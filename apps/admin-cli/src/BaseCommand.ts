/**
 * The base of every `nessus-admin` command: owns `--json`, the success/error contract, exit codes and
 * which stream gets what, and converts Effect programs to that contract in one place (`runEffect`).
 *
 * Contract: with `--json`, stdout carries exactly one JSON document, the command's result, or
 * `{"error": {"code", "message"}}` on failure; without it, people get tables on stdout and errors on stderr.
 */
import { Command, Errors, type Interfaces } from "@oclif/core"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"

/** Exit codes shared by all commands (documented in the README). */
export const ExitCode = {
  /** The command ran and the answer is positive (e.g. the report is valid). */
  ok: 0,
  /** The command ran and the answer is negative (e.g. the report is not valid). */
  negative: 1,
  /** Bad usage: unknown flag, missing argument, invalid flag value. */
  usage: 2,
  /** An input could not be read (file missing, unreadable, a directory). */
  input: 3,
  /** A service the command needs was unavailable (Redis, a scanner). */
  unavailable: 4,
  /** A bug: an unexpected failure. */
  internal: 5
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

/** Parsed flags of a command class, base flags included. */
export type FlagsOf<T extends typeof Command> = Interfaces.InferredFlags<(typeof BaseCommand)["baseFlags"] & T["flags"]>
/** Parsed args of a command class. */
export type ArgsOf<T extends typeof Command> = Interfaces.InferredArgs<T["args"]>

interface TaggedFailure {
  readonly _tag: string
  readonly reason?: string
  readonly message: string
}

const isTagged = (u: unknown): u is TaggedFailure =>
  typeof u === "object" && u !== null && typeof (u as TaggedFailure)._tag === "string" && typeof (u as TaggedFailure).message === "string"

/** Exit code of a library error `reason`; inputs the user named are `input`, everything else `internal`. */
const exitForReason = (reason: string): number => {
  switch (reason) {
    case "file_unreadable":
    case "index_unreadable":
      return ExitCode.input
    case "invalid_filter":
    case "invalid_query":
      return ExitCode.usage
    default:
      return ExitCode.internal
  }
}

/** Base class: `static enableJsonFlag`, typed `flags`/`args`, `runEffect`, and the error contract. */
export abstract class BaseCommand<T extends typeof Command> extends Command {
  static override enableJsonFlag = true

  protected flags!: FlagsOf<T>
  protected args!: ArgsOf<T>

  override async init(): Promise<void> {
    await super.init()
    const { args, flags } = await this.parse({
      flags: this.ctor.flags,
      baseFlags: (super.ctor as typeof BaseCommand).baseFlags,
      enableJsonFlag: this.ctor.enableJsonFlag,
      args: this.ctor.args,
      strict: this.ctor.strict
    })
    this.flags = flags as FlagsOf<T>
    this.args = args as ArgsOf<T>
  }

  /**
   * Runs an Effect program and returns its value; a typed failure becomes a `CommandError` whose code is
   * the error's `reason` (or `_tag`), a defect becomes `internal_error`.
   */
  protected async runEffect<A, E>(effect: Effect.Effect<A, E>): Promise<A> {
    const exit = await Effect.runPromiseExit(effect)
    if (Exit.isSuccess(exit)) return exit.value
    const failure = Cause.findErrorOption(exit.cause)
    if (failure._tag === "Some" && isTagged(failure.value)) {
      const e = failure.value
      const code = e.reason ?? e._tag
      throw new CommandError(code, e.message, exitForReason(code))
    }
    throw new CommandError("internal_error", `unexpected failure: ${Cause.pretty(exit.cause).split("\n")[0]}`, ExitCode.internal)
  }

  /** Marks the run as a negative answer (exit 1) while still printing the result. */
  protected negative(): void {
    process.exitCode = ExitCode.negative
  }

  /** Prints a table on stdout (human mode only). */
  protected table(headers: ReadonlyArray<string>, rows: ReadonlyArray<ReadonlyArray<string>>): void {
    const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)))
    const line = (cells: ReadonlyArray<string>) =>
      cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join("  ").trimEnd()
    this.log(line(headers))
    for (const r of rows) this.log(line(r))
  }

  protected override toErrorJson(err: unknown): { error: { code: string; message: string } } {
    const e = normalize(err)
    return { error: { code: e.errorCode, message: e.message } }
  }

  override async catch(err: Error & { exitCode?: number }): Promise<unknown> {
    const e = normalize(err)
    process.exitCode = e.oclif.exit ?? ExitCode.internal
    if (this.jsonEnabled()) {
      this.logJson(this.toErrorJson(e))
      return
    }
    return super.catch(e)
  }
}

const normalize = (err: unknown): CommandError => {
  if (err instanceof CommandError) return err
  const e = err as Error & { oclif?: { exit?: number | false }; code?: string }
  const exit = e?.oclif?.exit
  if (exit === ExitCode.usage || (e?.name ?? "").includes("Parse") || /^(Missing|Unexpected|Expected|Nonexistent)/.test(e?.message ?? "")) {
    return new CommandError("usage_error", e.message, ExitCode.usage)
  }
  if (typeof exit === "number" && e instanceof Errors.CLIError) return new CommandError(e.code ?? "error", e.message, exit)
  return new CommandError("internal_error", e?.message ?? String(err), ExitCode.internal)
}
