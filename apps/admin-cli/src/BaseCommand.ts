/**
 * The base of every `nessus-admin` command: owns `--json`, the success/error contract, exit codes and
 * which stream gets what, confirmation prompts, and converts Effect programs to that contract in one place
 * (`runEffect`, which also builds the command's layers once for the run).
 *
 * Contract: with `--json`, stdout carries exactly one JSON document, the command's result, or
 * `{"error": {"code", "message"}}` on failure; without it, people get tables on stdout and errors on stderr.
 */
import { Command, Errors, type Interfaces } from "@oclif/core"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import type * as Layer from "effect/Layer"
import type * as Schema from "effect/Schema"
import { createInterface } from "node:readline/promises"
import { CommandError, ExitCode, fromTagged, isTagged } from "./Errors.js"
import * as Format from "./Format.js"
import * as Runtime from "./Runtime.js"

export { CommandError, ExitCode } from "./Errors.js"

/** Parsed flags of a command class, base flags included. */
export type FlagsOf<T extends typeof Command> = Interfaces.InferredFlags<(typeof BaseCommand)["baseFlags"] & T["flags"]>
/** Parsed args of a command class. */
export type ArgsOf<T extends typeof Command> = Interfaces.InferredArgs<T["args"]>

/** Base class: `static enableJsonFlag`, typed `flags`/`args`, `runEffect`, prompts, tables, and the error contract. */
export abstract class BaseCommand<T extends typeof Command> extends Command {
  static override enableJsonFlag = true

  /** The schema of the command's `--json` result (snapshotted in `schemas/`, checked by the tests). */
  static resultSchema: Schema.Top | undefined

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
   * Runs an Effect program (with its layers, built once for this run) and returns its value. A typed
   * failure becomes a `CommandError` whose code is the error's `reason` (or `_tag`); a `CommandError`
   * passes through; anything else is `internal_error`. Log lines go to stderr.
   */
  protected runEffect<A, E>(effect: Effect.Effect<A, E>): Promise<A>
  protected runEffect<A, E, R, E2>(effect: Effect.Effect<A, E, R>, layer: Layer.Layer<R, E2>): Promise<A>
  protected async runEffect<A, E, R, E2>(effect: Effect.Effect<A, E, R>, layer?: Layer.Layer<R, E2>): Promise<A> {
    const provided = (layer === undefined ? effect : Effect.provide(effect, layer)) as Effect.Effect<A, E | E2>
    const exit = await Effect.runPromiseExit(provided.pipe(Effect.provide(Runtime.logger)))
    if (Exit.isSuccess(exit)) return exit.value
    const failure = Cause.findErrorOption(exit.cause)
    const error = failure._tag === "Some" ? failure.value : Cause.squash(exit.cause)
    if (error instanceof CommandError) throw error
    if (isTagged(error)) throw fromTagged(error)
    throw new CommandError("internal_error", `unexpected failure: ${Cause.pretty(exit.cause).split("\n")[0]}`, ExitCode.internal)
  }

  /** Marks the run as a negative answer (exit 1) while still printing the result. */
  protected negative(): void {
    process.exitCode = ExitCode.negative
  }

  /** Whether a person is at the keyboard: stdin and stdout are terminals and the output is not JSON. */
  protected get interactive(): boolean {
    return Boolean(process.stdin.isTTY) && Boolean(process.stdout.isTTY) && !this.jsonEnabled()
  }

  /** Whether stdout is a terminal that can redraw a line (progress bars). */
  protected get liveTerminal(): boolean {
    return Boolean(process.stdout.isTTY) && process.env["TERM"] !== "dumb" && !this.jsonEnabled()
  }

  /**
   * Guards a change: passes with `--yes`; asks on a terminal; refuses (exit 2) when nobody can answer;
   * a "no" ends the command with exit 1 and nothing changed.
   */
  protected async confirm(yes: boolean, question: string): Promise<void> {
    if (yes) return
    this.requireConfirmable(yes, question)
    const rl = createInterface({ input: process.stdin, output: process.stderr })
    try {
      const answer = await rl.question(`${question} [y/N] `)
      if (!/^\s*y(es)?\s*$/i.test(answer)) throw new CommandError("aborted", "Aborted: nothing was changed.", ExitCode.negative)
    } finally {
      rl.close()
    }
  }

  /**
   * Refuses (exit 2) a change that needs confirmation when nobody can give it (no `--yes`, not on a
   * terminal). Call it before reading any state, so a script learns it forgot `--yes` whatever the state
   * is (an empty queue today must not hide the missing flag until the day it is not empty).
   */
  protected requireConfirmable(yes: boolean, what: string): void {
    if (yes || this.interactive) return
    throw new CommandError(
      "confirmation_required",
      `${what} Refusing without --yes: nobody can confirm (stdin or stdout is not a terminal, or --json). Add --yes to proceed.`,
      ExitCode.usage
    )
  }

  /** Prints a table on stdout (human mode only). */
  protected table(headers: ReadonlyArray<string>, rows: ReadonlyArray<ReadonlyArray<string>>): void {
    this.lines(Format.table(headers, rows))
  }

  /** Prints aligned `key: value` lines on stdout (human mode only). */
  protected fields(pairs: ReadonlyArray<readonly [string, string]>): void {
    this.lines(Format.fields(pairs))
  }

  /** Prints lines on stdout (human mode only). */
  protected lines(lines: ReadonlyArray<string>): void {
    for (const l of lines) this.log(l)
  }

  protected override toErrorJson(err: unknown): { error: { code: string; message: string } } {
    const e = normalize(err)
    return { error: { code: e.errorCode, message: e.message } }
  }

  override async catch(err: Error & { exitCode?: number }): Promise<unknown> {
    const e = normalize(err)
    // A failed parse is still a parse: keeps oclif from warning that the command never parsed its arguments.
    this.parsed = true
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
  // oclif's parse errors (CLIParseError and subclasses) carry the parser's input in `parse`.
  const parseError = typeof e === "object" && e !== null && "parse" in e
  if (exit === ExitCode.usage || parseError || /^(Missing|Unexpected|Expected|Nonexistent|Parsing)/.test(e?.message ?? "")) {
    return new CommandError("usage_error", e.message, ExitCode.usage)
  }
  if (typeof exit === "number" && e instanceof Errors.CLIError) return new CommandError(e.code ?? "error", e.message, exit)
  return new CommandError("internal_error", e?.message ?? String(err), ExitCode.internal)
}
