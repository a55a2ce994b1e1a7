/** Parsing of plugin 19506 ("Nessus Scan Information") output. */

/** What plugin 19506 says about a scan and about this host's credentialed checks. */
export interface ScanInformation {
  /** Every `name : value` line, keyed by the name as printed (first occurrence wins). */
  readonly fields: Readonly<Record<string, string>>
  /** `yes`/`no` from the anchored `Credentialed checks` line, or null when there is no such line. */
  readonly credentialed_checks: "yes" | "no" | null
  /** The whole value after `Credentialed checks :` (e.g. `yes, as 'root' via ssh`), or null. */
  readonly credentialed_line: string | null
  /** The account from `as '<account>'`, when printed. */
  readonly account: string | null
  /** The protocol from `via <protocol>`, when printed. */
  readonly protocol: string | null
  /** True for `yes (on the localhost)`: local checks on the scanner itself. */
  readonly on_localhost: boolean
}

const FIELD = /^([^:]*?[^\s:])\s*:\s*(.*)$/
const CREDENTIALED = /^\s*Credentialed checks\s*:\s*(.*?)\s*$/im
const YES_NO = /^(yes|no)\b/i
const ACCOUNT = /\bas\s+(?:'([^']*)'|"([^"]*)"|(\S+))/i
const VIA = /\bvia\s+([A-Za-z0-9_-]+)/i

/** Parses a 19506 `plugin_output`; never throws (unrecognised text gives empty fields and nulls). */
export const parseScanInformation = (output: string): ScanInformation => {
  const fields: Record<string, string> = {}
  for (const raw of output.split(/\r\n|\r|\n/)) {
    const m = FIELD.exec(raw.trim())
    if (m !== null && m[1] !== undefined && m[2] !== undefined && !(m[1] in fields)) fields[m[1]] = m[2].trim()
  }
  const line = CREDENTIALED.exec(output)
  const value = line?.[1] ?? null
  const yn = value === null ? null : YES_NO.exec(value)
  const credentialed_checks = yn?.[1] === undefined ? null : (yn[1].toLowerCase() as "yes" | "no")
  let account: string | null = null
  let protocol: string | null = null
  if (credentialed_checks === "yes" && value !== null) {
    const rest = value.slice(3)
    const a = ACCOUNT.exec(rest)
    account = a === null ? null : (a[1] ?? a[2] ?? a[3] ?? null)
    protocol = VIA.exec(rest)?.[1] ?? null
  }
  return {
    fields,
    credentialed_checks,
    credentialed_line: value,
    account,
    protocol,
    on_localhost: value !== null && /\(on the localhost\)/i.test(value)
  }
}

const pad = (n: number): string => String(n).padStart(2, "0")

/**
 * Converts a 19506 `Scan Start Date` (`2025/11/7 13:25 EST (UTC -05:00)`, `2021/6/10 11:24 UTC`,
 * `2013/6/25 10:32`) to ISO 8601; the offset is kept only when the text states one unambiguously.
 */
export const scanDateToIso = (text: string, addSeconds = 0): string | null => {
  const m = /^(\d{4})\/(\d{1,2})\/(\d{1,2})\s+(\d{1,2}):(\d{2})(?::(\d{2}))?\s*(.*)$/.exec(text.trim())
  if (m === null) return null
  const zone = m[7] ?? ""
  let offsetMinutes: number | null = null
  const explicit = /UTC\s*([+-])(\d{1,2}):?(\d{2})/.exec(zone)
  if (explicit !== null) {
    offsetMinutes = (explicit[1] === "-" ? -1 : 1) * (Number(explicit[2]) * 60 + Number(explicit[3]))
  } else if (/^(UTC|GMT|Z)\b/.test(zone)) offsetMinutes = 0
  const utc = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6] ?? 0)) +
    addSeconds * 1000
  if (Number.isNaN(utc)) return null
  const d = new Date(utc)
  const base = `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}T${pad(d.getUTCHours())}:${
    pad(d.getUTCMinutes())
  }:${pad(d.getUTCSeconds())}`
  if (offsetMinutes === null) return base
  if (offsetMinutes === 0) return `${base}Z`
  const abs = Math.abs(offsetMinutes)
  return `${base}${offsetMinutes < 0 ? "-" : "+"}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`
}
