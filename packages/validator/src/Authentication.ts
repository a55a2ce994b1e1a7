/**
 * Did a credentialed scan really log in? Per host, the signals are read in this order:
 * 1. plugin 19506's `Credentialed checks` line, matched with an anchored pattern (`yes, as 'nobody' via ssh`
 *    is a yes);
 * 2. the `Credentialed_Scan` host property;
 * 3. authentication plugins: 21745/104410 failure, 141118/110095/117887 and local-check plugins (12634,
 *    22869, 97993) success, 110723/117886 "no credentials / local checks not enabled" as weak failure;
 * 4. last, the `LastAuthenticatedResults` / `LastUnauthenticatedResults` host properties;
 * and 110385/102094 mark "logged in, insufficient privilege".
 *
 * A 19506 "no" is overridden only by 141118/110095 (explicit credential-status plugins), because paranoid
 * reporting can print "no" on authenticated hosts.
 */
import type { Finding, Host } from "./internal/model.js"
import { parseScanInformation as parse, type ScanInformation } from "./internal/scanInfo.js"

export type { ScanInformation } from "./internal/scanInfo.js"

/** The kind of scan that was requested. */
export type ScanType = "untrusted" | "authenticated" | "authenticated_privileged"

/** All scan types, for validation of user input. */
export const scanTypes: ReadonlyArray<ScanType> = ["untrusted", "authenticated", "authenticated_privileged"]

/** Authentication outcome for a host or for the whole scan. */
export type Status = "success" | "partial" | "failed" | "not_applicable" | "unknown"

/** One host's authentication outcome with the evidence it rests on. */
export interface HostAuthentication {
  readonly name: string
  readonly authentication_status: Status
  /** What 19506 said (`yes`/`no`), or null without a `Credentialed checks` line. */
  readonly credentialed_checks: "yes" | "no" | null
  readonly evidence: ReadonlyArray<string>
}

/** Parses plugin 19506 output (fields, the `Credentialed checks` answer, account, protocol). */
export const parseScanInformation: (output: string) => ScanInformation = parse

/** Plugins whose presence means the supplied credentials failed. */
export const failurePlugins: ReadonlyMap<number, string> = new Map([
  [21745, "Authentication Failure - Local Checks Not Run / OS Security Patch Assessment Failed"],
  [104410, "Target Credential Status by Authentication Protocol - Failure for Provided Credentials"]
])

/** Plugins that say local checks did not run or no credentials were given (weak failure evidence). */
export const notRunPlugins: ReadonlyMap<number, string> = new Map([
  [117886, "OS Security Patch Assessment Not Available"],
  [110723, "Target Credential Status by Authentication Protocol - No Credentials Provided"]
])

/** Plugins whose presence means a login worked (local checks ran). */
export const successPlugins: ReadonlyMap<number, string> = new Map([
  [141118, "Target Credential Status by Authentication Protocol - Valid Credentials Provided"],
  [110095, "Target Credential Issues by Authentication Protocol - No Issues Found"],
  [117887, "OS Security Patch Assessment Available"],
  [12634, "Authenticated Check: OS Name and Installed Package Enumeration"],
  [22869, "Software Enumeration (SSH)"],
  [97993, "OS Identification and Installed Software Enumeration over SSH v2"]
])

/** Success plugins strong enough to override a 19506 "no" (explicit credential-status reports). */
export const strongSuccessPlugins: ReadonlySet<number> = new Set([141118, 110095])

/** Plugins that mean "logged in, but without enough privilege". */
export const insufficientPrivilegePlugins: ReadonlyMap<number, string> = new Map([
  [110385, "Target Credential Issues by Authentication Protocol - Insufficient Privilege"],
  [102094, "SSH Commands Require Privilege Escalation"]
])

const interesting = new Set([
  ...failurePlugins.keys(),
  ...notRunPlugins.keys(),
  ...successPlugins.keys(),
  ...insufficientPrivilegePlugins.keys()
])

/** True for plugin ids that carry authentication evidence (19506 included). */
export const isAuthenticationPlugin = (id: number): boolean => id === 19506 || interesting.has(id)

const excerpt = (out: string | undefined): string => {
  if (out === undefined) return ""
  const lines: Array<string> = []
  for (const line of out.split(/\r?\n/)) {
    const t = line.trim().replace(/^-\s*/, "")
    if (t.length > 0) lines.push(t)
    if (lines.length === 2) break
  }
  const text = lines.join(" / ")
  return text.length > 200 ? `${text.slice(0, 197)}...` : text
}

/** Collects the authentication signals of one host while its findings stream past. */
export class HostSignals {
  private readonly lines = new Set<string>()
  private answer: "yes" | "no" | null = null
  private readonly failures: Array<string> = []
  private readonly notRun: Array<string> = []
  private readonly successes: Array<string> = []
  private readonly privilege: Array<string> = []
  private strong = false
  private seen = new Set<number>()

  /** Looks at one finding of the host. */
  add(f: Finding): void {
    const out = f["plugin_output"]
    this.addPlugin(f.plugin_id, f.plugin_name, typeof out === "string" ? out : undefined)
  }

  /** Looks at one finding given as plugin id, name and output (what the fast path has at hand). */
  addPlugin(id: number, pluginName: string, output: string | undefined): void {
    if (id === 19506) {
      if (output === undefined) return
      const info = parse(output)
      if (info.credentialed_line === null || this.lines.has(info.credentialed_line)) return
      this.lines.add(info.credentialed_line)
      if (info.credentialed_checks === "yes" || (info.credentialed_checks === "no" && this.answer === null)) {
        this.answer = info.credentialed_checks
      }
      return
    }
    if (!interesting.has(id) || this.seen.has(id)) return
    const label = (name: string | undefined) => {
      this.seen.add(id)
      const text = excerpt(output)
      return `plugin ${id} (${pluginName || name}${text.length > 0 ? `): ${text}` : ")"}`
    }
    if (failurePlugins.has(id)) this.failures.push(label(failurePlugins.get(id)))
    else if (notRunPlugins.has(id)) this.notRun.push(label(notRunPlugins.get(id)))
    else if (successPlugins.has(id)) {
      this.successes.push(label(successPlugins.get(id)))
      if (strongSuccessPlugins.has(id)) this.strong = true
    } else if (insufficientPrivilegePlugins.has(id)) this.privilege.push(label(insufficientPrivilegePlugins.get(id)))
  }

  /** The 19506 answer (`yes` wins over `no` when duplicates disagree). */
  get credentialedChecks(): "yes" | "no" | null {
    return this.answer
  }

  /**
   * What the evidence says about this host regardless of the requested scan type: `success`, `partial`
   * (logged in without enough privilege, for privileged scans), `failed`, or `unknown`.
   */
  assess(host: Host | null, scanType: ScanType): { status: Exclude<Status, "not_applicable">; evidence: Array<string> } {
    const evidence: Array<string> = []
    for (const line of this.lines) evidence.push(`plugin 19506: Credentialed checks : ${line}`)
    let status: Exclude<Status, "not_applicable">
    const prop = host?.credentialed_scan ?? null
    if (this.answer === "yes") status = "success"
    else if (this.answer === "no") {
      status = this.strong ? "success" : "failed"
      if (this.strong) {
        evidence.push("19506 says no, but a credential-status plugin reports a working login (paranoid reporting can cause this)")
      }
    } else if (prop !== null) {
      evidence.push(`HostProperties Credentialed_Scan=${prop}`)
      status = prop || this.strong ? "success" : "failed"
    } else if (this.failures.length > 0 && this.successes.length > 0) status = "partial"
    else if (this.failures.length > 0) status = "failed"
    else if (this.successes.length > 0) status = "success"
    else if (this.notRun.length > 0) status = "failed"
    else if (host?.properties["LastAuthenticatedResults"] !== undefined) {
      evidence.push("HostProperties LastAuthenticatedResults present (results of an authenticated scan)")
      status = "success"
    } else if (host?.properties["LastUnauthenticatedResults"] !== undefined) {
      evidence.push("HostProperties LastUnauthenticatedResults present (results of an unauthenticated scan)")
      status = "failed"
    } else status = "unknown"
    evidence.push(...this.failures, ...this.successes)
    if (this.successes.length === 0 && status !== "success") evidence.push(...this.notRun)
    if (this.privilege.length > 0) {
      evidence.push(...this.privilege)
      if (status === "success" && scanType === "authenticated_privileged") status = "partial"
    }
    if (evidence.length === 0) evidence.push("no plugin 19506 line, no Credentialed_Scan property, no authentication plugins")
    return { status, evidence }
  }
}

/**
 * Aggregates host outcomes for the requested scan type: `not_applicable` for untrusted scans; otherwise
 * `success` when every host with evidence logged in, `failed` when none did, `partial` when some did (or
 * when a host is partial), and `unknown` when no host has evidence.
 */
export const aggregate = (scanType: ScanType, statuses: ReadonlyArray<Status>): Status => {
  if (scanType === "untrusted") return "not_applicable"
  let success = 0
  let partial = 0
  let failed = 0
  for (const s of statuses) {
    if (s === "success") success++
    else if (s === "partial") partial++
    else if (s === "failed") failed++
  }
  if (success + partial + failed === 0) return "unknown"
  if (success + partial === 0) return "failed"
  if (failed > 0 || partial > 0) return "partial"
  return "success"
}
