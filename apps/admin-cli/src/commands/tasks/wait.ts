/** `nessus-admin tasks wait <task_id>`: follows a task to its end; the exit code tells how it ended. */
import { Args } from "@oclif/core"
import { Effect } from "effect"
import { BaseCommand } from "../../BaseCommand.js"
import * as F from "../../Flags.js"
import * as Follow from "../../Follow.js"
import * as Format from "../../Format.js"
import * as Runtime from "../../Runtime.js"
import * as Views from "../../Views.js"

/** Waits for a task to complete, fail, time out or be cancelled. */
export default class TasksWait extends BaseCommand<typeof TasksWait> {
  static override summary = "Follow a task until it ends: live progress bar on a terminal, plain lines otherwise"

  static override description =
    "Polls the task every --interval. On a terminal it draws one live line with a progress bar, the percentage, the state " +
    "and phase and the elapsed time; in a pipe or a log it prints one plain line per change (state, phase, progress). " +
    "Exit codes: 0 completed; 1 failed, timed out or cancelled; 3 no such task; 4 Redis unavailable."

  static override examples = [
    "<%= config.bin %> <%= command.id %> t_3q2l0Xl9v1Gm0m6uJcQm2A",
    "<%= config.bin %> <%= command.id %> t_3q2l0Xl9v1Gm0m6uJcQm2A --interval 10s | tee wait.log",
    "<%= config.bin %> <%= command.id %> t_3q2l0Xl9v1Gm0m6uJcQm2A --json && echo done"
  ]

  static override args = {
    task_id: Args.string({ description: "task id (t_…)", required: true })
  }

  static override flags = {
    ...F.queue,
    "data-dir": F.dataDir,
    interval: F.duration({ char: "i", summary: "How often to poll (e.g. 500ms, 2s, 1m).", default: "2s" })
  }

  static override resultSchema = Views.TaskWait

  async run(): Promise<typeof Views.TaskWait.Type> {
    const json = this.jsonEnabled()
    const live = this.liveTerminal
    const columns = process.stdout.columns !== undefined && process.stdout.columns > 0 ? process.stdout.columns : 80
    const draw = (u: Follow.Update) => Effect.sync(() => process.stdout.write(`\r\x1b[2K${Follow.liveLine(u, columns)}`))
    const final = await this.runEffect(
      Follow.follow(this.args.task_id, {
        interval: Math.max(100, this.flags.interval),
        dataDir: this.flags["data-dir"],
        onChange: (u) => (json ? Effect.void : live ? draw(u) : Effect.sync(() => this.log(Follow.plainLine(u)))),
        onTick: live ? draw : undefined
      }),
      Runtime.queue(this.flags)
    ).finally(() => {
      if (live) process.stdout.write("\n")
    })
    const task = final.task
    if (task.state !== "completed") this.negative()
    if (!json) {
      const waited = Format.duration(final.elapsedMs / 1000)
      const error = task.errors[task.errors.length - 1]
      this.log(
        task.state === "completed"
          ? `Task ${task.id} completed (waited ${waited})${task.authenticationStatus !== undefined ? `, authentication ${task.authenticationStatus}` : ""}.`
          : `Task ${task.id} ended ${task.state} (waited ${waited})${error !== undefined ? `: ${error.reason}: ${error.message}` : ""}.`
      )
      if (task.state === "failed" || task.state === "timeout") this.log(`Why: nessus-admin dlq inspect ${task.id}`)
    }
    return { task: Views.taskView(task, final.progress), waited_seconds: Math.round(final.elapsedMs / 1000) }
  }
}
