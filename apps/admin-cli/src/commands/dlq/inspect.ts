/** `nessus-admin dlq inspect <task_id>`: one dead-letter entry in full. */
import { Args } from "@oclif/core"
import { Scheduler } from "@nessus-mcp/scheduler"
import { Effect } from "effect"
import { BaseCommand } from "../../BaseCommand.js"
import * as F from "../../Flags.js"
import * as Format from "../../Format.js"
import * as Runtime from "../../Runtime.js"
import * as Views from "../../Views.js"

/** Shows a dead-lettered task with every failed attempt (never a secret: the scheduler stores none in plain text). */
export default class DlqInspect extends BaseCommand<typeof DlqInspect> {
  static override summary = "Show a dead-lettered task in full: every attempt's error, phase, scanner and the task itself"

  static override description =
    "Prints the whole entry: when it was dead-lettered, the last error, every failed attempt (reason, message, phase, scanner), " +
    "the targets, the credential reference (a name, or the inline user; never a password), the Nessus scan id and artifacts. " +
    "Exits 3 if the task does not exist or is not in a dead-letter queue."

  static override examples = [
    "<%= config.bin %> <%= command.id %> t_3q2l0Xl9v1Gm0m6uJcQm2A",
    "<%= config.bin %> <%= command.id %> t_3q2l0Xl9v1Gm0m6uJcQm2A --json"
  ]

  static override args = {
    task_id: Args.string({ description: "id of the dead-lettered task (t_…)", required: true })
  }

  static override flags = { ...F.queue }

  static override resultSchema = Views.DlqInspect

  async run(): Promise<typeof Views.DlqInspect.Type> {
    const id = this.args.task_id
    const result = await this.runEffect(
      Effect.gen(function*() {
        const scheduler = yield* Scheduler.Scheduler
        const entry = yield* scheduler.dlqInspect(id)
        const task = Views.taskView(entry.task)
        return { failed_at: entry.failedAt, last_error: task.errors[task.errors.length - 1] ?? null, task }
      }),
      Runtime.queue(this.flags)
    )
    if (!this.jsonEnabled()) {
      this.log(`Dead-lettered at ${result.failed_at}`)
      if (result.last_error !== null) this.log(`Last error: ${result.last_error.reason}: ${result.last_error.message}`)
      this.log("")
      this.lines(Format.taskLines(result.task))
      this.log("")
      this.log(`Retry it: nessus-admin dlq retry ${result.task.task_id}`)
    }
    return result
  }
}
