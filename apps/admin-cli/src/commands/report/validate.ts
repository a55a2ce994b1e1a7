/** `nessus-admin report validate <file>`: the validator's verdict on an exported .nessus report. */
import { Args, Flags } from "@oclif/core"
import { Authentication, Verdict } from "@nessus-mcp/validator"
import { BaseCommand } from "../../BaseCommand.js"
import * as Views from "../../Views.js"

const MAX_HOST_ROWS = 50

const size = (bytes: number) =>
  bytes >= 1048576 ? `${(bytes / 1048576).toFixed(1)} MB` : bytes >= 1024 ? `${(bytes / 1024).toFixed(1)} KB` : `${bytes} B`

/** Validates a report and prints the verdict (exit 0 when valid, 1 when not). */
export default class ReportValidate extends BaseCommand<typeof ReportValidate> {
  static override summary = "Check an exported .nessus report: well-formed, hosts scanned, did authentication really work"

  static override description =
    "Reads the file once in a streaming pass (flat memory, any size) and prints the verdict: whether the report is valid for the " +
    "requested scan type, the authentication status of the scan and of every host with the evidence used (plugin 19506's " +
    "'Credentialed checks' line, the Credentialed_Scan property, authentication plugins), and counts by severity. " +
    "Exit codes: 0 valid, 1 not valid (malformed, unsupported, no hosts, authentication failed), 2 usage error, 3 file unreadable."

  static override examples = [
    "<%= config.bin %> <%= command.id %> scan.nessus",
    "<%= config.bin %> <%= command.id %> scan.nessus --scan-type authenticated",
    "<%= config.bin %> <%= command.id %> scan.nessus --scan-type authenticated_privileged --json"
  ]

  static override args = {
    file: Args.string({ description: "path to the exported .nessus (v2) file", required: true })
  }

  static override flags = {
    "scan-type": Flags.option({
      description: "the scan type that was requested; authenticated scans whose login failed are not valid",
      options: Authentication.scanTypes,
      default: "untrusted" as const
    })()
  }

  static override resultSchema = Views.ReportValidate

  async run(): Promise<Verdict.Verdict> {
    const verdict = await this.runEffect(Verdict.validateFile(this.args.file, { scanType: this.flags["scan-type"] }))
    if (!verdict.valid) this.negative()
    if (!this.jsonEnabled()) this.print(verdict)
    return verdict
  }

  private print(v: Verdict.Verdict): void {
    const s = v.stats
    const c = s.severity_counts
    this.log(`${v.valid ? "VALID" : "NOT VALID"}  ${this.args.file} (${size(s.file_size_bytes)}), scan type ${this.flags["scan-type"]}`)
    this.log(`Authentication: ${v.authentication_status}   Hosts: ${s.hosts_scanned}   Credentialed hosts: ${s.credentialed_hosts}`)
    this.log(
      `Findings: ${s.findings_total}   Vulnerabilities: ${s.total_vulnerabilities} (critical ${c.critical}, high ${c.high}, medium ${c.medium}, low ${c.low})   Info: ${c.info}`
    )
    if (v.hosts.length > 0) {
      this.log("")
      this.table(
        ["HOST", "AUTHENTICATION", "CREDENTIALED CHECKS", "EVIDENCE"],
        v.hosts.slice(0, MAX_HOST_ROWS).map((h) => [h.name, h.authentication_status, h.credentialed_checks ?? "-", h.evidence[0] ?? ""])
      )
      if (v.hosts.length > MAX_HOST_ROWS) this.log(`... and ${v.hosts.length - MAX_HOST_ROWS} more hosts (use --json for all)`)
    }
    if (v.warnings.length > 0) {
      this.log("")
      this.log("Warnings:")
      for (const w of v.warnings) this.log(`  - ${w}`)
    }
    if (v.error !== null) {
      this.log("")
      this.log(`Error (${v.error.code}): ${v.error.message}`)
    }
  }
}
