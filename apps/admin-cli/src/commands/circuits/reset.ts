/** `nessus-admin circuits reset <instance>`: closes a scanner's circuit by hand. */
import { Args } from "@oclif/core"
import { Scheduler } from "@nessus-mcp/scheduler"
import { Effect } from "effect"
import { BaseCommand } from "../../BaseCommand.js"
import * as F from "../../Flags.js"
import * as Runtime from "../../Runtime.js"
import * as Views from "../../Views.js"

/** Closes a circuit at once (after the scanner was fixed), so new scans go there again. */
export default class CircuitsReset extends BaseCommand<typeof CircuitsReset> {
  static override summary = "Close a scanner's circuit at once (after fixing the scanner)"

  static override description =
    "Sets the circuit of the scanner to closed with no failures, so the next claims may start scans there immediately " +
    "instead of waiting for the cooldown and a probe. Exit 2 if no scanner has that instance id."

  static override examples = [
    "<%= config.bin %> <%= command.id %> scanner1",
    "<%= config.bin %> <%= command.id %> scanner1 --json"
  ]

  static override args = {
    instance: Args.string({ description: "instance_id of the scanner (see `scanners list`)", required: true })
  }

  static override flags = { ...F.queue }

  static override resultSchema = Views.CircuitReset

  async run(): Promise<typeof Views.CircuitReset.Type> {
    const instance = this.args.instance
    const result = await this.runEffect(
      Effect.gen(function*() {
        const scheduler = yield* Scheduler.Scheduler
        const before = (yield* scheduler.circuits).find((c) => c.instanceId === instance)
        const after = yield* scheduler.resetCircuit(instance)
        return { previous_state: before?.state ?? "closed", circuit: Views.circuitView(after) }
      }),
      Runtime.queue(this.flags)
    )
    if (!this.jsonEnabled()) this.log(`Circuit of ${instance}: ${result.previous_state} → ${result.circuit.state}.`)
    return result
  }
}
