/** `nessus-admin tasks list`: tasks, newest first, filtered by state, pool and target. */
import { Flags } from "@oclif/core"
import { Scheduler, Task } from "@nessus-mcp/scheduler"
import { Effect } from "effect"
import { BaseCommand } from "../../BaseCommand.js"
import * as F from "../../Flags.js"
import * as Format from "../../Format.js"
import * as Runtime from "../../Runtime.js"
import * as Views from "../../Views.js"

/** Lists tasks (newest first). */
export default class TasksList extends BaseCommand<typeof TasksList> {
  static override summary = "List tasks, newest first, by state, pool or target"

  static override description =
    "Shows what is queued, running or finished. --target matches tasks whose targets overlap it (an address inside a " +
    "scanned network, an overlapping CIDR or range, the same host name). Continue a long listing with --cursor."

  static override examples = [
    "<%= config.bin %> <%= command.id %> --status running",
    "<%= config.bin %> <%= command.id %> --status queued --pool nessus --limit 50",
    "<%= config.bin %> <%= command.id %> --target 192.0.2.10 --json"
  ]

  static override flags = {
    ...F.queue,
    status: Flags.option({ char: "s", summary: "Only tasks in this state.", options: ["queued", "running", "completed", "failed", "timeout", "cancelled"] as const })(),
    pool: Flags.string({ char: "p", summary: "Only tasks of this pool." }),
    target: Flags.string({ char: "t", summary: "Only tasks whose targets overlap this IP, CIDR, range or host name." }),
    limit: Flags.integer({ char: "n", summary: "At most this many tasks (1-500).", default: 20, min: 1, max: 500 }),
    cursor: Flags.string({ summary: "Continue after a previous page (its next_cursor)." })
  }

  static override resultSchema = Views.TaskList

  async run(): Promise<typeof Views.TaskList.Type> {
    const { status, pool, target, limit, cursor } = this.flags
    const result = await this.runEffect(
      Effect.gen(function*() {
        const scheduler = yield* Scheduler.Scheduler
        const page = yield* scheduler.list({ state: status as Task.State | undefined, pool, target, limit, cursor })
        return { tasks: page.tasks.map((t) => Views.taskView(t)), next_cursor: page.cursor ?? null }
      }),
      Runtime.queue(this.flags)
    )
    if (!this.jsonEnabled()) {
      if (result.tasks.length === 0) this.log("No tasks match.")
      else {
        this.table(
          ["TASK", "STATE", "PHASE", "TYPE", "POOL", "SCANNER", "TARGETS", "CREATED", "NAME"],
          result.tasks.map((t) => [
            t.task_id,
            t.state,
            Format.dash(t.phase),
            t.scan_type,
            t.pool,
            Format.dash(t.instance ?? t.requested_instance),
            Format.targets(t.targets),
            Format.ago(t.created_at),
            Format.cut(t.name, 40)
          ])
        )
      }
      if (result.next_cursor !== null && result.tasks.length >= limit) this.log(`More: --cursor ${result.next_cursor}`)
    }
    return result
  }
}
