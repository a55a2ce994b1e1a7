/** `nessus-admin circuits list`: the circuit breaker of every scanner and the recent transitions. */
import { Flags } from "@oclif/core"
import { Scheduler } from "@nessus-mcp/scheduler"
import { Effect } from "effect"
import { BaseCommand } from "../../BaseCommand.js"
import * as F from "../../Flags.js"
import * as Format from "../../Format.js"
import * as Runtime from "../../Runtime.js"
import * as Views from "../../Views.js"

/** Lists circuits (closed, open, half-open) with failures, cooldown and the last transitions. */
export default class CircuitsList extends BaseCommand<typeof CircuitsList> {
  static override summary = "Show each scanner's circuit breaker (closed, open, half_open) and recent transitions"

  static override description =
    "Consecutive network errors, 5xx answers, timeouts or a scanner that is down open a scanner's circuit: no new scans go " +
    "there until the cooldown ends, then one probe scan closes or reopens it. An open circuit explains tasks waiting while " +
    "the pool seems to have capacity. Reset one with `circuits reset` once the scanner is fixed."

  static override examples = [
    "<%= config.bin %> <%= command.id %>",
    "<%= config.bin %> <%= command.id %> --transitions 50 --json"
  ]

  static override flags = {
    ...F.queue,
    transitions: Flags.integer({ summary: "How many recent transitions to show (0-1000).", default: 10, min: 0, max: 1000 })
  }

  static override resultSchema = Views.CircuitList

  async run(): Promise<typeof Views.CircuitList.Type> {
    const n = this.flags.transitions
    const result = await this.runEffect(
      Effect.gen(function*() {
        const scheduler = yield* Scheduler.Scheduler
        const circuits = (yield* scheduler.circuits).map(Views.circuitView)
        const transitions = n === 0 ? [] : yield* scheduler.circuitTransitions(n)
        return {
          circuits,
          transitions: transitions.map((t) => ({ instance_id: t.instanceId, from: t.from, to: t.to, at: t.at, reason: t.reason }))
        }
      }),
      Runtime.queue(this.flags)
    )
    if (!this.jsonEnabled()) {
      this.table(
        ["SCANNER", "STATE", "FAILURES", "RETRY AT", "PROBE TASK", "CHANGED"],
        result.circuits.map((c) => [c.instance_id, c.state, String(c.consecutive_failures), Format.dash(c.retry_at), Format.dash(c.probe_task_id), Format.ago(c.changed_at)])
      )
      if (result.transitions.length > 0) {
        this.log("")
        this.log("Recent transitions:")
        this.table(["AT", "SCANNER", "FROM", "TO", "REASON"], result.transitions.map((t) => [t.at, t.instance_id, t.from, t.to, t.reason]))
      }
    }
    return result
  }
}
