/** `nessus-admin tasks show <task_id>`: one task in full. */
import { Args } from "@oclif/core"
import { Scheduler } from "@nessus-mcp/scheduler"
import { Effect, Option } from "effect"
import { BaseCommand } from "../../BaseCommand.js"
import * as F from "../../Flags.js"
import * as Follow from "../../Follow.js"
import * as Format from "../../Format.js"
import * as Runtime from "../../Runtime.js"
import * as Views from "../../Views.js"

/** Shows a task with its attempts and, while queued, its position. */
export default class TasksShow extends BaseCommand<typeof TasksShow> {
  static override summary = "Show one task in full: state, phase, progress, scanner, attempts and errors, queue position"

  static override description =
    "Everything the scheduler records about a task (never a secret), its progress while running (from the worker's " +
    "status file under --data-dir when the task does not carry it) and, while it is queued, its position and estimated wait."

  static override examples = [
    "<%= config.bin %> <%= command.id %> t_3q2l0Xl9v1Gm0m6uJcQm2A",
    "<%= config.bin %> <%= command.id %> t_3q2l0Xl9v1Gm0m6uJcQm2A --json"
  ]

  static override args = {
    task_id: Args.string({ description: "task id (t_…)", required: true })
  }

  static override flags = { ...F.queue, "data-dir": F.dataDir }

  static override resultSchema = Views.TaskShow

  async run(): Promise<typeof Views.TaskShow.Type> {
    const id = this.args.task_id
    const dataDir = this.flags["data-dir"]
    const result = await this.runEffect(
      Effect.gen(function*() {
        const scheduler = yield* Scheduler.Scheduler
        const task = yield* scheduler.get(id)
        const progress = yield* Follow.progressOf(task, dataDir)
        const position = task.state === "queued" ? yield* scheduler.position(task.id) : Option.none()
        return { task: Views.taskView(task, progress), position: Option.match(position, { onNone: () => null, onSome: Views.positionView }) }
      }),
      Runtime.queue(this.flags)
    )
    if (!this.jsonEnabled()) {
      this.lines(Format.taskLines(result.task))
      const p = result.position
      if (p !== null) {
        this.log("")
        this.log(
          `Queue position ${p.position} (${p.ahead} ahead, capacity ${p.capacity}, ${p.running} running)` +
            (p.estimated_wait_seconds !== null ? `, estimated wait ${Format.duration(p.estimated_wait_seconds)}` : ", no enabled scanner can run it")
        )
      }
    }
    return result
  }
}
