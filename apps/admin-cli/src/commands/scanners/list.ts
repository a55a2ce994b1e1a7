/** `nessus-admin scanners list`: every configured scanner with its live load and circuit. */
import { Flags } from "@oclif/core"
import { Scheduler } from "@nessus-mcp/scheduler"
import { Effect } from "effect"
import { BaseCommand } from "../../BaseCommand.js"
import * as F from "../../Flags.js"
import * as Format from "../../Format.js"
import * as Runtime from "../../Runtime.js"
import * as Views from "../../Views.js"

/** Lists scanners with running scans, free slots, utilisation, bound queue and circuit state. */
export default class ScannersList extends BaseCommand<typeof ScannersList> {
  static override summary = "List the scanners of scanners.yaml with running scans, free slots and circuit state"

  static override description =
    "Figures are live from the queue: running scans (across every worker), free slots, utilisation, tasks queued for that " +
    "scanner only, and its circuit breaker. Check that a scanner answers and logs in with `scanners check`."

  static override examples = [
    "<%= config.bin %> <%= command.id %>",
    "<%= config.bin %> <%= command.id %> --pool nessus --json"
  ]

  static override flags = {
    ...F.queue,
    pool: Flags.string({ char: "p", summary: "Only the scanners of this pool." })
  }

  static override resultSchema = Views.ScannerList

  async run(): Promise<typeof Views.ScannerList.Type> {
    const pool = this.flags.pool
    const result = await this.runEffect(
      Effect.gen(function*() {
        const scheduler = yield* Scheduler.Scheduler
        return { scanners: (yield* scheduler.scanners(pool)).map(Views.scannerRow) }
      }),
      Runtime.queue(this.flags)
    )
    if (!this.jsonEnabled()) {
      this.table(
        ["SCANNER", "POOL", "ENABLED", "RUNNING", "MAX", "AVAILABLE", "UTILISATION", "QUEUED (BOUND)", "CIRCUIT", "API MODE", "URL"],
        result.scanners.map((s) => [
          s.instance_id,
          s.pool,
          s.enabled ? "yes" : "no",
          String(s.running),
          String(s.max_concurrent_scans),
          String(s.available),
          Format.percent(s.utilisation),
          String(s.queued),
          s.circuit_state,
          s.api_mode,
          s.url
        ])
      )
    }
    return result
  }
}
