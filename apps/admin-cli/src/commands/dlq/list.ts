/** `nessus-admin dlq list`: dead-lettered tasks, newest first. */
import { Flags } from "@oclif/core"
import { Scheduler } from "@nessus-mcp/scheduler"
import { Effect } from "effect"
import { BaseCommand } from "../../BaseCommand.js"
import * as F from "../../Flags.js"
import * as Format from "../../Format.js"
import * as Runtime from "../../Runtime.js"
import * as Views from "../../Views.js"

/** Lists the dead-letter queue of one pool or of every pool. */
export default class DlqList extends BaseCommand<typeof DlqList> {
  static override summary = "List dead-lettered tasks (newest first) with the reason they failed"

  static override description =
    "Answers \"why did it fail?\": tasks that failed permanently (or ran out of retries, or timed out) land in their pool's " +
    "dead-letter queue. Each row shows the task, its scan type, the reason and message of the last failed attempt, how many " +
    "attempts ran and when it failed. Without --pool, every pool's queue is listed. See one entry in full with `dlq inspect`."

  static override examples = [
    "<%= config.bin %> <%= command.id %>",
    "<%= config.bin %> <%= command.id %> --pool nessus --limit 50",
    "<%= config.bin %> <%= command.id %> --json"
  ]

  static override flags = {
    ...F.queue,
    pool: Flags.string({ char: "p", summary: "Only this pool (default: every pool)." }),
    limit: Flags.integer({ char: "n", summary: "At most this many entries (1-500).", default: 20, min: 1, max: 500 })
  }

  static override resultSchema = Views.DlqList

  async run(): Promise<typeof Views.DlqList.Type> {
    const { pool, limit } = this.flags
    const result = await this.runEffect(
      Effect.gen(function*() {
        const scheduler = yield* Scheduler.Scheduler
        const names = pool !== undefined ? [pool] : (yield* scheduler.pools).pools.map((p) => p.name)
        let total = 0
        const entries: Array<Scheduler.DlqEntry> = []
        for (const name of names) {
          const page = yield* scheduler.dlqList(name, { limit })
          total += page.total
          entries.push(...page.entries)
        }
        entries.sort((a, b) => Date.parse(b.failedAt) - Date.parse(a.failedAt))
        return { total, entries: entries.slice(0, limit).map(Views.dlqRow) }
      }),
      Runtime.queue(this.flags)
    )
    if (!this.jsonEnabled()) this.print(result)
    return result
  }

  private print(r: typeof Views.DlqList.Type): void {
    if (r.entries.length === 0) {
      this.log(`The dead-letter queue${this.flags.pool === undefined ? "s are" : ` of pool ${this.flags.pool} is`} empty.`)
      return
    }
    this.table(
      ["TASK", "POOL", "TYPE", "REASON", "ATTEMPTS", "FAILED", "MESSAGE"],
      r.entries.map((e) => [e.task_id, e.pool, e.scan_type, Format.dash(e.reason), String(e.attempts), Format.ago(e.failed_at), Format.cut(e.message ?? "", 70)])
    )
    if (r.total > r.entries.length) this.log(`... ${r.total - r.entries.length} more (use --limit, or --pool)`)
  }
}
