/** Raised (as a plain Error) when a target list is malformed or larger than the cap; the caller maps it. */
export class TargetError extends Error {}

const ipv4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/

const toInt = (s: string): number | undefined => {
  const m = ipv4.exec(s)
  if (!m) return undefined
  let n = 0
  for (let i = 1; i <= 4; i++) {
    const o = Number(m[i])
    if (o > 255) return undefined
    n = n * 256 + o
  }
  return n
}

/** Dotted-quad for an unsigned 32-bit address. */
export const intToIp = (n: number): string => `${(n >>> 24) & 255}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`

/** True for a dotted-quad IPv4 address. */
export const isIpv4 = (s: string): boolean => toInt(s) !== undefined

/**
 * Expands Nessus `text_targets` (newline/comma/space separated): single addresses, CIDR blocks
 * (`10.0.0.0/30`), full ranges (`10.0.0.1-10.0.0.9`), last-octet ranges (`10.0.0.1-9`) and host names.
 * Duplicates are dropped, order kept. More than `cap` hosts is an error rather than a silent truncation.
 */
export const expandTargets = (text: string, cap: number): Array<string> => {
  const out: Array<string> = []
  const seen = new Set<string>()
  const push = (h: string) => {
    if (seen.has(h)) return
    seen.add(h)
    if (out.length >= cap) {
      throw new TargetError(`the targets expand to more than ${cap} hosts (the simulator's maxTargets cap)`)
    }
    out.push(h)
  }
  const pushRange = (from: number, to: number, raw: string) => {
    if (to < from) throw new TargetError(`target range "${raw}" ends before it starts`)
    if (to - from + 1 > cap) {
      throw new TargetError(`target "${raw}" expands to ${to - from + 1} hosts, more than the cap of ${cap}`)
    }
    for (let n = from; n <= to; n++) push(intToIp(n))
  }
  for (const raw of text.split(/[\s,]+/)) {
    const t = raw.trim()
    if (t === "") continue
    const slash = t.indexOf("/")
    if (slash > 0) {
      const base = toInt(t.slice(0, slash))
      const bits = Number(t.slice(slash + 1))
      if (base === undefined || !Number.isInteger(bits) || bits < 0 || bits > 32) {
        throw new TargetError(`target "${t}" is not a valid IPv4 CIDR block`)
      }
      const size = 2 ** (32 - bits)
      const start = Math.floor(base / size) * size
      pushRange(start, start + size - 1, t)
      continue
    }
    const dash = t.indexOf("-")
    if (dash > 0 && toInt(t.slice(0, dash)) !== undefined) {
      const from = toInt(t.slice(0, dash))!
      const rest = t.slice(dash + 1)
      const to = /^\d{1,3}$/.test(rest) ? ((from & 0xffffff00) >>> 0) + Number(rest) : toInt(rest)
      if (to === undefined || (/^\d{1,3}$/.test(rest) && Number(rest) > 255)) {
        throw new TargetError(`target "${t}" is not a valid IPv4 range`)
      }
      pushRange(from >>> 0, to >>> 0, t)
      continue
    }
    if (!/^[A-Za-z0-9_.:\-\[\]]+$/.test(t)) throw new TargetError(`target "${t}" is not a host name or address`)
    push(t)
  }
  return out
}
