/**
 * Decides a host's credential outcome from the credentials in the scan's settings and the accounts the
 * simulated targets accept.
 */
import type { TargetAccount } from "../SimulatorConfig.js"
import type { CredentialOutcome } from "./evidence.js"

/** One credential instance from `credentials.add.Host.SSH[]` / `.Windows[]`. */
export interface ScanCredential {
  readonly kind: "ssh" | "windows"
  readonly authMethod: string
  readonly username: string
  readonly password: string | undefined
  readonly privateKey: string | undefined
  readonly domain: string | undefined
  readonly elevate: string | undefined
  readonly escalationAccount: string | undefined
  readonly escalationPassword: string | undefined
}

const str = (u: unknown): string | undefined => (typeof u === "string" && u !== "" ? u : undefined)

/**
 * Reads the `credentials` object of a POST/PUT /scans body. Unknown categories are ignored (Nessus accepts
 * many; the simulator only evaluates SSH and Windows host credentials).
 */
export const readCredentials = (body: unknown): Array<ScanCredential> => {
  const add = (body as { add?: unknown } | undefined)?.add
  if (typeof add !== "object" || add === null) return []
  const host = (add as Record<string, unknown>).Host ?? (add as Record<string, unknown>).host
  if (typeof host !== "object" || host === null) return []
  const out: Array<ScanCredential> = []
  for (const [type, kind] of [["SSH", "ssh"], ["Windows", "windows"]] as const) {
    const list = (host as Record<string, unknown>)[type]
    if (!Array.isArray(list)) continue
    for (const c of list as Array<Record<string, unknown>>) {
      if (typeof c !== "object" || c === null) continue
      const username = str(c.username)
      if (username === undefined) continue
      out.push({
        kind,
        authMethod: (str(c.auth_method) ?? "password").toLowerCase(),
        username,
        password: str(c.password),
        privateKey: str(c.private_key),
        domain: str(c.domain),
        elevate: str(c.elevate_privileges_with),
        escalationAccount: str(c.escalation_account),
        escalationPassword: str(c.escalation_password)
      })
    }
  }
  return out
}

const rank = { none: 0, failed: 1, escalationFailed: 2, success: 3 } as const

const one = (c: ScanCredential, accounts: ReadonlyArray<TargetAccount>, host: string): CredentialOutcome => {
  const proto = c.kind === "ssh" ? "ssh" : "windows"
  let user = c.username
  let domain = c.domain
  if (c.kind === "windows" && user.includes("\\")) {
    const at = user.indexOf("\\")
    domain = user.slice(0, at)
    user = user.slice(at + 1)
  }
  const shown = c.kind === "windows" && domain !== undefined ? `${domain}\\${user}` : user
  const failed: CredentialOutcome = { status: "failed", username: shown, protocol: c.kind === "ssh" ? "ssh" : "smb" }
  for (const a of accounts) {
    if (a.username !== user) continue
    if (a.protocols !== undefined && !a.protocols.includes(proto)) continue
    if (a.hosts !== undefined && !a.hosts.includes(host)) continue
    if (c.kind === "windows" && a.domain !== undefined && domain !== undefined && a.domain.toLowerCase() !== domain.toLowerCase()) {
      continue
    }
    const authOk = c.authMethod === "public key"
      ? a.privateKey !== undefined && a.privateKey === c.privateKey
      : a.password !== undefined && a.password === c.password
    if (!authOk) continue
    if (c.kind === "windows") return { status: "success", username: shown, protocol: "smb" }
    const method = c.elevate ?? "Nothing"
    const authMethod = c.authMethod
    if (a.escalation === undefined) return { status: "success", username: user, protocol: "ssh", authMethod, escalation: method }
    const esc = a.escalation
    const ok = method === esc.method &&
      (esc.password === undefined || esc.password === c.escalationPassword) &&
      (esc.account === undefined || (c.escalationAccount ?? "root") === esc.account)
    return ok
      ? { status: "success", username: user, protocol: "ssh", authMethod, escalation: method }
      : { status: "escalationFailed", username: user, protocol: "ssh", authMethod, escalation: method }
  }
  return failed
}

/** The best outcome over all the scan's credentials on this host (Nessus tries each). */
export const evaluate = (
  creds: ReadonlyArray<ScanCredential>,
  accounts: ReadonlyArray<TargetAccount>,
  host: string
): CredentialOutcome => {
  let best: CredentialOutcome = { status: "none" }
  for (const c of creds) {
    const o = one(c, accounts, host)
    if (rank[o.status] > rank[best.status]) best = o
  }
  return best
}
