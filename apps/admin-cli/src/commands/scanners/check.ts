/** `nessus-admin scanners check [<instance>]`: can the workers really use each scanner? */
import { Args } from "@oclif/core"
import { ScannerConfig, SchedulerError } from "@nessus-mcp/scheduler"
import { Effect } from "effect"
import { BaseCommand } from "../../BaseCommand.js"
import * as F from "../../Flags.js"
import * as Scanners from "../../Scanners.js"
import * as Runtime from "../../Runtime.js"
import * as Views from "../../Views.js"

/** Checks reachability, TLS, login, version, licence and API mode of every scanner (or one), in parallel. */
export default class ScannersCheck extends BaseCommand<typeof ScannersCheck> {
  static override summary = "Check each scanner: reachable, TLS trusted, login works, Nessus version, licence (scan_api), API mode"

  static override description =
    "Connects to every scanner of the scanners file (or the one named) the way the workers do and gives a verdict per " +
    "scanner: ok, warning (usable, but look at the notes: disabled, not ready, plain http) or failed (the workers cannot run " +
    "scans there: unreachable, certificate not trusted, login refused, or a licence without scan_api in a mode that needs it). " +
    "It needs only the scanners file and its environment, not Redis. Exit codes: 0 no scanner failed, 1 at least one failed, " +
    "2 unknown instance."

  static override examples = [
    "<%= config.bin %> <%= command.id %>",
    "<%= config.bin %> <%= command.id %> scanner1",
    "<%= config.bin %> <%= command.id %> --timeout 30s --json"
  ]

  static override args = {
    instance: Args.string({ description: "instance_id of one scanner (default: every scanner)", required: false })
  }

  static override flags = {
    config: F.config,
    timeout: F.duration({ summary: "How long to wait for each scanner's answers (e.g. 5s, 30s).", default: "10s" })
  }

  static override resultSchema = Views.ScannerCheck

  async run(): Promise<typeof Views.ScannerCheck.Type> {
    const instance = this.args.instance
    const timeout = this.flags.timeout
    const result = await this.runEffect(
      Effect.gen(function*() {
        const config = yield* (yield* ScannerConfig.ScannerConfig).current
        const all = config.pools.flatMap((p) => p.scanners)
        const chosen = instance === undefined ? all : all.filter((s) => s.instanceId === instance)
        if (chosen.length === 0) {
          return yield* Effect.fail(
            SchedulerError.make("unknown_scanner", `No scanner "${instance}" in ${config.file}; scanners: ${all.map((s) => s.instanceId).join(", ")}.`)
          )
        }
        const scanners = yield* Effect.forEach(chosen, (s) => Scanners.check(s, timeout), { concurrency: "unbounded" })
        return { ok: scanners.every((s) => s.verdict !== "failed"), scanners }
      }),
      Runtime.scannerConfig(this.flags.config)
    )
    if (!result.ok) this.negative()
    if (!this.jsonEnabled()) {
      this.table(
        ["SCANNER", "VERDICT", "REACHABLE", "TLS", "LOGIN", "VERSION", "SCAN_API", "API MODE", "URL"],
        result.scanners.map((s) => [
          s.instance_id,
          s.verdict.toUpperCase(),
          s.reachable,
          s.tls.result === "skipped" ? s.tls.mode : `${s.tls.result} (${s.tls.mode})`,
          s.login,
          s.nessus_version === null ? "-" : `${s.nessus_version}${s.nessus_type !== null ? ` ${s.nessus_type}` : ""}`,
          s.scan_api === null ? "-" : String(s.scan_api),
          s.api_mode_used === null ? s.api_mode_configured : s.api_mode_configured === "auto" ? `auto → ${s.api_mode_used}` : s.api_mode_used,
          s.url
        ])
      )
      for (const s of result.scanners) {
        for (const p of s.problems) this.log(`${s.instance_id}: FAILED: ${p}`)
        for (const n of s.notes) this.log(`${s.instance_id}: note: ${n}`)
      }
      const failed = result.scanners.filter((s) => s.verdict === "failed").length
      this.log("")
      this.log(failed === 0 ? `All ${result.scanners.length} scanner(s) usable.` : `${failed} of ${result.scanners.length} scanner(s) cannot be used by the workers.`)
    }
    return result
  }
}
