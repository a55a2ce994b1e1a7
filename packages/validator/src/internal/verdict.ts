/** Builds a `Verdict` incrementally from report events (used by `Verdict` and `FindingsIndex`). */
import { aggregate, HostSignals, type HostAuthentication, isAuthenticationPlugin, type ScanType } from "../Authentication.js"
import type { ValidatorError } from "../ValidatorError.js"
import type { Host, ReportEvent } from "./model.js"
import { type RawItem, rawField, type Sink } from "./nessus.js"

/** Severity counts keyed by name. */
export interface SeverityCounts {
  readonly critical: number
  readonly high: number
  readonly medium: number
  readonly low: number
  readonly info: number
}

/** Counts over the whole file. */
export interface Stats {
  readonly file_size_bytes: number
  readonly hosts_scanned: number
  /** Number of ReportItem elements. */
  readonly findings_total: number
  readonly severity_counts: SeverityCounts
  /** Findings with severity above info. */
  readonly total_vulnerabilities: number
  /** Hosts with evidence of a working login (whatever the scan type). */
  readonly credentialed_hosts: number
}

/** Why a verdict is not valid. */
export type ErrorCode = "authentication_failed" | "no_hosts" | "malformed_xml" | "unsupported_format"

/** The answer to "did this scan do what it was asked to do?". */
export interface Verdict {
  readonly valid: boolean
  readonly error: { readonly code: ErrorCode; readonly message: string } | null
  readonly warnings: ReadonlyArray<string>
  readonly authentication_status: HostAuthentication["authentication_status"]
  readonly stats: Stats
  readonly hosts: ReadonlyArray<HostAuthentication>
}

const describe = (h: HostAuthentication): string => `${h.name} (${h.evidence.slice(0, 2).join("; ")})`

const list = (hosts: ReadonlyArray<HostAuthentication>, max = 5): string =>
  hosts.slice(0, max).map(describe).join(", ") + (hosts.length > max ? `, and ${hosts.length - max} more` : "")

const emptyStats = (size: number): Stats => ({
  file_size_bytes: size,
  hosts_scanned: 0,
  findings_total: 0,
  severity_counts: { critical: 0, high: 0, medium: 0, low: 0, info: 0 },
  total_vulnerabilities: 0,
  credentialed_hosts: 0
})

/** The verdict for a file that could not be parsed. */
export const failedVerdict = (error: ValidatorError, size: number): Verdict => ({
  valid: false,
  error: { code: error.reason === "unsupported_format" ? "unsupported_format" : "malformed_xml", message: error.message },
  warnings: [],
  authentication_status: "unknown",
  stats: emptyStats(size),
  hosts: []
})

/** Accumulates counts and per-host authentication evidence from events. */
export class VerdictBuilder implements Sink {
  private readonly severity = [0, 0, 0, 0, 0]
  private findings = 0
  private signals = new HostSignals()
  private readonly hosts: Array<HostAuthentication> = []
  private credentialed = 0

  constructor(private readonly scanType: ScanType) {}

  /** Counts one finding (fast path). */
  item(raw: RawItem): void {
    const s = raw.severity
    this.severity[s >= 0 && s <= 4 ? s : 0]!++
    this.findings++
    if (isAuthenticationPlugin(raw.pluginId)) this.signals.addPlugin(raw.pluginId, raw.pluginName, rawField(raw, "plugin_output"))
  }

  /** Handles every other event. */
  event(e: ReportEvent): void {
    switch (e._tag) {
      case "Finding": {
        const s = e.finding.severity
        this.severity[s >= 0 && s <= 4 ? s : 0]!++
        this.findings++
        this.signals.add(e.finding)
        return
      }
      case "HostStarted":
        this.signals = new HostSignals()
        return
      case "HostEnded":
        this.endHost(e.host)
        return
    }
  }

  private endHost(host: Host): void {
    const { evidence, status } = this.signals.assess(host, this.scanType)
    if (status === "success" || status === "partial") this.credentialed++
    this.hosts.push({
      name: host.name,
      authentication_status: this.scanType === "untrusted" ? "not_applicable" : status,
      credentialed_checks: this.signals.credentialedChecks,
      evidence
    })
  }

  /** The verdict once the whole file has been read. */
  finish(size: number): Verdict {
    const [info, low, medium, high, critical] = this.severity as [number, number, number, number, number]
    const stats: Stats = {
      file_size_bytes: size,
      hosts_scanned: this.hosts.length,
      findings_total: this.findings,
      severity_counts: { critical, high, medium, low, info },
      total_vulnerabilities: low + medium + high + critical,
      credentialed_hosts: this.credentialed
    }
    const hosts = this.hosts
    const status = aggregate(this.scanType, hosts.map((h) => h.authentication_status))
    const warnings: Array<string> = []
    const base = { warnings, authentication_status: status, stats, hosts }
    if (hosts.length === 0) {
      return {
        valid: false,
        error: {
          code: "no_hosts",
          message: "The export contains no hosts (no ReportHost element): the scan reached no target. Check the targets, that they are up and reachable from the scanner, and the scan's history in Nessus."
        },
        ...base
      }
    }
    const failed = hosts.filter((h) => h.authentication_status === "failed")
    const unknown = hosts.filter((h) => h.authentication_status === "unknown")
    const partial = hosts.filter((h) => h.authentication_status === "partial")
    if (this.scanType !== "untrusted") {
      if (status === "failed") {
        return {
          valid: false,
          error: {
            code: "authentication_failed",
            message: `Authentication failed on ${failed.length} of ${hosts.length} host(s) of this ${this.scanType} scan: ${list(failed)}. ` +
              "The findings hold only what is visible without logging in. Check the scan credentials (user name, password or key, domain), " +
              "privilege escalation (sudo/su) settings, that SSH (22) or SMB (445) is reachable from the scanner, and the account's rights on the target; then run the scan again."
          },
          ...base
        }
      }
      if (status === "partial") {
        const ok = hosts.length - failed.length - unknown.length - partial.length
        warnings.push(
          `Partial authentication: ${ok} of ${hosts.length} host(s) authenticated fully` +
            (failed.length > 0 ? `; failed on ${list(failed)}` : "") +
            (partial.length > 0 ? `; insufficient privilege on ${list(partial)}` : "")
        )
      }
      if (status === "unknown") {
        warnings.push(
          "Authentication could not be verified: no host has a plugin 19506 'Credentialed checks' line, a Credentialed_Scan property or authentication plugins."
        )
      } else if (unknown.length > 0) {
        warnings.push(`No authentication evidence for ${unknown.length} host(s): ${unknown.slice(0, 5).map((h) => h.name).join(", ")}`)
      }
    }
    return { valid: true, error: null, ...base }
  }
}
