/** `nessus-admin tasks cancel <task_id>`: cancels a queued or running task. */
import { Args } from "@oclif/core"
import { Scheduler } from "@nessus-mcp/scheduler"
import { Effect } from "effect"
import { BaseCommand } from "../../BaseCommand.js"
import * as F from "../../Flags.js"
import * as Runtime from "../../Runtime.js"
import * as Views from "../../Views.js"

/** Cancels a task: at once when queued; a running one's worker stops the Nessus scan and frees the slot. */
export default class TasksCancel extends BaseCommand<typeof TasksCancel> {
  static override summary = "Cancel a queued or running task"

  static override description =
    "A queued task is removed from the queue at once. A running task turns cancelled and its worker stops the Nessus scan " +
    "(findings are discarded) and frees the scanner slot. Exit 6 if the task already ended, 3 if it does not exist."

  static override examples = [
    "<%= config.bin %> <%= command.id %> t_3q2l0Xl9v1Gm0m6uJcQm2A",
    "<%= config.bin %> <%= command.id %> t_3q2l0Xl9v1Gm0m6uJcQm2A --json"
  ]

  static override args = {
    task_id: Args.string({ description: "task id (t_…)", required: true })
  }

  static override flags = { ...F.queue }

  static override resultSchema = Views.TaskCancel

  async run(): Promise<typeof Views.TaskCancel.Type> {
    const id = this.args.task_id
    const result = await this.runEffect(
      Effect.gen(function*() {
        const scheduler = yield* Scheduler.Scheduler
        const before = yield* scheduler.get(id)
        const after = yield* scheduler.cancel(before.id)
        return {
          task_id: after.id,
          previous_state: before.state,
          state: after.state,
          outcome: before.state === "running" ? "stop_requested" as const : "cancelled" as const
        }
      }),
      Runtime.queue(this.flags)
    )
    if (!this.jsonEnabled()) {
      this.log(
        result.outcome === "stop_requested"
          ? `Cancelled ${result.task_id}; its worker is stopping the running Nessus scan.`
          : `Cancelled ${result.task_id}; it was removed from the queue before anything ran.`
      )
    }
    return result
  }
}
