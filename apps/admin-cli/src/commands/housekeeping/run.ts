/** `nessus-admin housekeeping run`: one run of the TTL and stale-scan cleanups. */
import { Flags } from "@oclif/core"
import { Housekeeping } from "@nessus-mcp/scheduler"
import { Layer } from "effect"
import { BaseCommand } from "../../BaseCommand.js"
import * as F from "../../Flags.js"
import * as Runtime from "../../Runtime.js"
import * as Scanners from "../../Scanners.js"
import * as Views from "../../Views.js"

/** Runs housekeeping once now (what the workers do every HOUSEKEEPING_INTERVAL) and reports it. */
export default class HousekeepingRun extends BaseCommand<typeof HousekeepingRun> {
  static override summary = "Run the cleanups once: expire old tasks, time out stale scans, delete old scans on the scanners"

  static override description =
    "Does what the workers do periodically: (1) deletes finished tasks whose retention since their last access elapsed " +
    "(completed and cancelled 7 days, failed and timed out 30 days) with their DATA_DIR/<task>/ artifacts; (2) stops " +
    "scans running longer than 24 h on Nessus and marks their tasks timeout (dead-lettered); (3) deletes finished scans " +
    "this system created (folder nessus-mcp, names nmcp-…) older than --scan-retention on every enabled scanner. With " +
    "--dry-run it changes nothing and reports what it would do. Exit 1 if some step reported errors."

  static override examples = [
    "<%= config.bin %> <%= command.id %> --dry-run",
    "<%= config.bin %> <%= command.id %>",
    "<%= config.bin %> <%= command.id %> --scan-retention 48h --json"
  ]

  static override flags = {
    ...F.queue,
    "data-dir": F.dataDir,
    "dry-run": Flags.boolean({ char: "n", summary: "Change nothing; report what would be done." }),
    "scan-retention": F.duration({ summary: "Finished scans of this system are deleted from the scanners after this long.", default: "24h" })
  }

  static override resultSchema = Views.Housekeeping

  async run(): Promise<typeof Views.Housekeeping.Type> {
    const dryRun = this.flags["dry-run"]
    const report = await this.runEffect(
      Housekeeping.run({ dryRun, scanRetention: this.flags["scan-retention"] }),
      Scanners.janitor({ dataDir: this.flags["data-dir"] }).pipe(Layer.provideMerge(Runtime.queue(this.flags)))
    )
    const result: typeof Views.Housekeeping.Type = {
      dry_run: report.dryRun,
      expired: report.expired.map((e) => ({ task_id: e.taskId, state: e.state, last_access_at: e.lastAccessAt })),
      timed_out: report.timedOut.map((t) => ({ task_id: t.taskId, instance_id: t.instanceId ?? null, nessus_scan_id: t.nessusScanId ?? null, started_at: t.startedAt ?? null })),
      scanner_scans: report.scannerScans.map((s) => ({ instance_id: s.instanceId, deleted: s.deleted })),
      errors: [...report.errors]
    }
    if (result.errors.length > 0) this.negative()
    if (!this.jsonEnabled()) {
      const would = dryRun ? "Would" : ""
      const verb = (past: string, present: string) => (dryRun ? `${would} ${present}` : past)
      this.log(`${verb("Expired", "expire")} ${result.expired.length} finished task(s) past their retention.`)
      for (const e of result.expired) this.log(`  ${e.task_id} ${e.state}, last access ${e.last_access_at}`)
      this.log(`${verb("Timed out", "time out")} ${result.timed_out.length} stale running task(s).`)
      for (const t of result.timed_out) this.log(`  ${t.task_id} on ${t.instance_id ?? "?"}, started ${t.started_at ?? "?"}`)
      const scans = result.scanner_scans.reduce((n, s) => n + s.deleted, 0)
      this.log(`${verb("Deleted", "delete")} ${scans} old scan(s) of this system on the scanners${result.scanner_scans.length > 0 ? ` (${result.scanner_scans.map((s) => `${s.instance_id}: ${s.deleted}`).join(", ")})` : ""}.`)
      for (const e of result.errors) this.log(`Error: ${e}`)
    }
    return result
  }
}
