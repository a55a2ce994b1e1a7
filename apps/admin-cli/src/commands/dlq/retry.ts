/** `nessus-admin dlq retry <task_id>` / `dlq retry --all`: dead-lettered tasks run again for real. */
import { Args, Flags } from "@oclif/core"
import { Scheduler } from "@nessus-mcp/scheduler"
import { Effect } from "effect"
import { BaseCommand, CommandError, ExitCode } from "../../BaseCommand.js"
import * as F from "../../Flags.js"
import * as Runtime from "../../Runtime.js"
import * as Views from "../../Views.js"

/** All dead-letter entries of some pools (every page). */
export const allEntries = (scheduler: Scheduler.Service, pool: string | undefined) =>
  Effect.gen(function*() {
    const names = pool !== undefined ? [pool] : (yield* scheduler.pools).pools.map((p) => p.name)
    const out: Array<Scheduler.DlqEntry> = []
    for (const name of names) {
      for (let offset = 0;; offset += 500) {
        const page = yield* scheduler.dlqList(name, { offset, limit: 500 })
        out.push(...page.entries)
        if (page.entries.length < 500) break
      }
    }
    return out
  })

/** Requeues one dead-lettered task, or all of them (of a pool). */
export default class DlqRetry extends BaseCommand<typeof DlqRetry> {
  static override summary = "Run dead-lettered tasks again (a new attempt from queued, with a fresh retry budget)"

  static override description =
    "Moves a failed or timed-out task from its pool's dead-letter queue back to the queue; a worker claims it as a new " +
    "attempt with a new Nessus scan. With --all, every entry (of --pool, or of every pool) is retried. On a terminal you " +
    "are asked to confirm unless --yes is given; without a terminal a single task id proceeds, and --all needs --yes. " +
    "Exit codes: 0 all retried, 1 some could not be retried (or you declined), 2 usage (e.g. --all without --yes in a script), " +
    "3 the task does not exist or is not dead-lettered."

  static override examples = [
    "<%= config.bin %> <%= command.id %> t_3q2l0Xl9v1Gm0m6uJcQm2A",
    "<%= config.bin %> <%= command.id %> --all --pool nessus --yes",
    "<%= config.bin %> <%= command.id %> --all --yes --json"
  ]

  static override args = {
    task_id: Args.string({ description: "id of the dead-lettered task (t_…); omit with --all", required: false })
  }

  static override flags = {
    ...F.queue,
    all: Flags.boolean({ summary: "Retry every dead-lettered task (of --pool, or of every pool)." }),
    pool: Flags.string({ char: "p", summary: "With --all: only this pool.", dependsOn: ["all"] }),
    yes: Flags.boolean({ char: "y", summary: "Do not ask for confirmation." })
  }

  static override resultSchema = Views.DlqRetry

  async run(): Promise<typeof Views.DlqRetry.Type> {
    const { all, pool, yes } = this.flags
    const id = this.args.task_id
    if ((id === undefined) === !all) {
      throw new CommandError("usage_error", "Give either a task id or --all (not both).", ExitCode.usage)
    }
    if (all) this.requireConfirmable(yes, `Retrying every dead-lettered task${pool !== undefined ? ` of pool ${pool}` : ""} needs confirmation.`)
    const layer = Runtime.queue(this.flags)
    const interactive = this.interactive
    const confirm = (yes_: boolean, question: string) => this.confirm(yes_, question)
    const result = await this.runEffect(
      Effect.gen(function*() {
        const scheduler = yield* Scheduler.Scheduler
        if (id !== undefined) {
          const entry = yield* scheduler.dlqInspect(id)
          if (!yes && interactive) {
            yield* Effect.tryPromise({
              try: () => confirm(false, `Retry task ${entry.task.id} ("${entry.task.name}", failed ${entry.lastError?.reason ?? "?"}) in pool ${entry.task.pool}?`),
              catch: (e) => e as CommandError
            })
          }
          const task = yield* scheduler.dlqRetry(id)
          return { retried: [{ task_id: task.id, pool: task.pool, state: task.state }], failed: [] }
        }
        const entries = yield* allEntries(scheduler, pool)
        if (entries.length === 0) return { retried: [], failed: [] }
        yield* Effect.tryPromise({
          try: () => confirm(yes, `Retry ${entries.length} dead-lettered task(s)${pool !== undefined ? ` of pool ${pool}` : ""}?`),
          catch: (e) => e as CommandError
        })
        const retried: Array<typeof Views.DlqRetry.Type["retried"][number]> = []
        const failed: Array<typeof Views.DlqRetry.Type["failed"][number]> = []
        for (const e of entries) {
          const r = yield* Effect.result(scheduler.dlqRetry(e.task.id))
          if (r._tag === "Success") retried.push({ task_id: r.success.id, pool: r.success.pool, state: r.success.state })
          else failed.push({ task_id: e.task.id, code: r.failure.reason, message: r.failure.message })
        }
        return { retried, failed }
      }),
      layer
    )
    if (result.failed.length > 0) this.negative()
    if (!this.jsonEnabled()) {
      if (result.retried.length === 0 && result.failed.length === 0) this.log("Nothing to retry: the dead-letter queue is empty.")
      for (const r of result.retried) this.log(`Requeued ${r.task_id} in pool ${r.pool} (${r.state}).`)
      for (const f of result.failed) this.log(`Could not retry ${f.task_id}: ${f.message}`)
      if (result.retried.length > 0) this.log("Follow one with: nessus-admin tasks wait <task_id>")
    }
    return result
  }
}
