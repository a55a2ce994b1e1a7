/** `nessus-admin dlq purge`: removes dead-letter entries for good. */
import { Flags } from "@oclif/core"
import { Scheduler } from "@nessus-mcp/scheduler"
import { Clock, Effect } from "effect"
import { BaseCommand, type CommandError } from "../../BaseCommand.js"
import * as F from "../../Flags.js"
import * as Format from "../../Format.js"
import * as Runtime from "../../Runtime.js"
import * as Views from "../../Views.js"
import { allEntries } from "./retry.js"

/** Purges a pool's (or every pool's) dead-letter queue, optionally only entries older than a duration. */
export default class DlqPurge extends BaseCommand<typeof DlqPurge> {
  static override summary = "Delete dead-letter entries (all, or those older than --older-than) after confirmation"

  static override description =
    "Cleans up: removes entries from the dead-letter queue of --pool (default: every pool); with --older-than only those " +
    "that failed before that long ago. The tasks themselves stay readable until their retention ends. On a terminal you are " +
    "asked to confirm unless --yes is given; without a terminal (scripts, cron, --json) it refuses to run without --yes (exit 2)."

  static override examples = [
    "<%= config.bin %> <%= command.id %> --older-than 7d",
    "<%= config.bin %> <%= command.id %> --pool nessus --older-than 30d --yes",
    "<%= config.bin %> <%= command.id %> --yes --json"
  ]

  static override flags = {
    ...F.queue,
    pool: Flags.string({ char: "p", summary: "Only this pool (default: every pool)." }),
    "older-than": F.duration({ summary: "Only entries that failed longer ago than this (e.g. 12h, 7d, 2w)." }),
    yes: Flags.boolean({ char: "y", summary: "Do not ask for confirmation (required when not on a terminal)." })
  }

  static override resultSchema = Views.DlqPurge

  async run(): Promise<typeof Views.DlqPurge.Type> {
    const { pool, yes } = this.flags
    const olderThanMs = this.flags["older-than"]
    this.requireConfirmable(yes, `Purging dead-letter entries${pool !== undefined ? ` of pool ${pool}` : ""} needs confirmation.`)
    const confirm = (yes_: boolean, question: string) => this.confirm(yes_, question)
    const result = await this.runEffect(
      Effect.gen(function*() {
        const scheduler = yield* Scheduler.Scheduler
        const now = yield* Clock.currentTimeMillis
        const cutoff = olderThanMs === undefined ? undefined : now - olderThanMs
        const entries = (yield* allEntries(scheduler, pool)).filter((e) => cutoff === undefined || Date.parse(e.failedAt) < cutoff)
        const older = cutoff === undefined ? null : new Date(cutoff).toISOString()
        const pools = [...new Set(entries.map((e) => e.task.pool))].sort()
        if (entries.length === 0) return { purged: 0, older_than: older, pools: [] }
        yield* Effect.tryPromise({
          try: () =>
            confirm(
              yes,
              `Purge ${entries.length} dead-letter entr${entries.length === 1 ? "y" : "ies"} from ${pools.join(", ")}${
                olderThanMs === undefined ? "" : ` (failed more than ${Format.duration(olderThanMs / 1000)} ago)`
              }? This cannot be undone.`
            ),
          catch: (e) => e as CommandError
        })
        const out: Array<{ pool: string; purged: number }> = []
        for (const name of pools) out.push({ pool: name, purged: yield* scheduler.dlqPurge(name, cutoff === undefined ? {} : { olderThan: cutoff }) })
        return { purged: out.reduce((n, p) => n + p.purged, 0), older_than: older, pools: out }
      }),
      Runtime.queue(this.flags)
    )
    if (!this.jsonEnabled()) {
      this.log(result.purged === 0 ? "Nothing to purge." : `Purged ${result.purged} dead-letter entr${result.purged === 1 ? "y" : "ies"} (${result.pools.map((p) => `${p.pool}: ${p.purged}`).join(", ")}).`)
    }
    return result
  }
}
