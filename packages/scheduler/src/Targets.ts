/**
 * Scan targets: parsing and validation (IPv4/IPv6 addresses, CIDR networks, ranges, hostnames), the
 * number of addresses they expand to (for a pool's `max_targets`), containment in a pool's
 * `allowed_targets`, and overlap matching for task list filters.
 *
 * Anything that is not one of those forms is refused, so no shell or XML metacharacter ever reaches a
 * Nessus request.
 *
 * @example
 * ```ts
 * import { Targets } from "@nessus-mcp/scheduler"
 *
 * const targets = Targets.parse("10.0.0.0/30, 10.0.1.5-10.0.1.9, host.example.org")
 * // Result.succeed([...]) with Targets.size(...) === 10n
 * Targets.matches("10.0.0.2", ["10.0.0.0/30"]) // true
 * ```
 */
import { Effect, Result } from "effect"
import * as SchedulerError from "./SchedulerError.js"

/**
 * One parsed target (or one entry of `allowed_targets`). IP forms carry the inclusive numeric
 * interval `[start, end]` they cover; `text` is the canonical spelling.
 *
 * @category models
 */
export type Target =
  | { readonly _tag: "Address"; readonly family: 4 | 6; readonly start: bigint; readonly end: bigint; readonly text: string }
  | {
    readonly _tag: "Network"
    readonly family: 4 | 6
    readonly start: bigint
    readonly end: bigint
    readonly prefix: number
    readonly text: string
  }
  | { readonly _tag: "Range"; readonly family: 4 | 6; readonly start: bigint; readonly end: bigint; readonly text: string }
  | { readonly _tag: "Hostname"; readonly name: string; readonly text: string }
  | { readonly _tag: "Wildcard"; readonly suffix: string; readonly text: string }

/** IP forms of {@link Target}. @category models */
export type IpTarget = Extract<Target, { readonly family: 4 | 6 }>

const SAFE = /^[A-Za-z0-9.:/*-]+$/
const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/

const parseIpv4 = (s: string): bigint | undefined => {
  const parts = s.split(".")
  if (parts.length !== 4) return undefined
  let n = 0n
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p) || (p.length > 1 && p.startsWith("0"))) return undefined
    const v = Number(p)
    if (v > 255) return undefined
    n = (n << 8n) | BigInt(v)
  }
  return n
}

const parseIpv6 = (s: string): bigint | undefined => {
  if (!/^[0-9a-fA-F:.]+$/.test(s) || !s.includes(":")) return undefined
  let tail: Array<number> = []
  let head = s
  const lastColon = s.lastIndexOf(":")
  const maybeV4 = s.slice(lastColon + 1)
  if (maybeV4.includes(".")) {
    const v4 = parseIpv4(maybeV4)
    if (v4 === undefined) return undefined
    tail = [Number(v4 >> 16n), Number(v4 & 0xffffn)]
    head = s.slice(0, lastColon + 1)
    if (!head.endsWith("::")) head = head.slice(0, -1)
  }
  const dbl = head.split("::")
  if (dbl.length > 2) return undefined
  const groups = (part: string): Array<number> | undefined => {
    if (part === "") return []
    const out: Array<number> = []
    for (const g of part.split(":")) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined
      out.push(parseInt(g, 16))
    }
    return out
  }
  const left = groups(dbl[0] ?? "")
  const right = dbl.length === 2 ? groups(dbl[1] ?? "") : []
  if (left === undefined || right === undefined) return undefined
  const present = left.length + right.length + tail.length
  let all: Array<number>
  if (dbl.length === 2) {
    if (present > 7) return undefined
    all = [...left, ...new Array<number>(8 - present).fill(0), ...right, ...tail]
  } else {
    if (present !== 8) return undefined
    all = [...left, ...tail]
  }
  let n = 0n
  for (const g of all) n = (n << 16n) | BigInt(g)
  return n
}

const formatIpv4 = (n: bigint): string =>
  [24n, 16n, 8n, 0n].map((shift) => String((n >> shift) & 0xffn)).join(".")

const formatIpv6 = (n: bigint): string => {
  const groups: Array<number> = []
  for (let i = 7; i >= 0; i--) groups.push(Number((n >> BigInt(i * 16)) & 0xffffn))
  let bestStart = -1
  let bestLen = 0
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++
      continue
    }
    let j = i
    while (j < 8 && groups[j] === 0) j++
    if (j - i > bestLen && j - i >= 2) {
      bestStart = i
      bestLen = j - i
    }
    i = j
  }
  const hex = groups.map((g) => g.toString(16))
  if (bestStart < 0) return hex.join(":")
  return `${hex.slice(0, bestStart).join(":")}::${hex.slice(bestStart + bestLen).join(":")}`
}

const formatIp = (family: 4 | 6, n: bigint): string => (family === 4 ? formatIpv4(n) : formatIpv6(n))

const parseIp = (s: string): { readonly family: 4 | 6; readonly value: bigint } | undefined => {
  const v4 = parseIpv4(s)
  if (v4 !== undefined) return { family: 4, value: v4 }
  const v6 = parseIpv6(s)
  if (v6 !== undefined) return { family: 6, value: v6 }
  return undefined
}

const bits = (family: 4 | 6): number => (family === 4 ? 32 : 128)

/**
 * Parses one target. `allowWildcard` admits `*.example.org` (for `allowed_targets` only).
 * Returns the target or a sentence saying what is wrong with it.
 *
 * @category parsing
 */
export const parseOne = (raw: string, options: { readonly allowWildcard?: boolean } = {}): Result.Result<Target, string> => {
  const text = raw.trim()
  if (text === "") return Result.fail("empty target")
  if (text.length > 255) return Result.fail(`target "${text.slice(0, 40)}..." is longer than 255 characters`)
  if (!SAFE.test(text)) {
    const bad = [...text].find((c) => !/[A-Za-z0-9.:/*-]/.test(c)) ?? "?"
    return Result.fail(
      `target "${printable(text)}" contains the character ${JSON.stringify(bad)}; targets are IP addresses, CIDR networks (10.0.0.0/24), ranges (10.0.0.1-10.0.0.20) or hostnames`
    )
  }
  if (text.includes("*")) {
    if (options.allowWildcard && /^\*\.[^*]+$/.test(text)) {
      const host = parseHostname(text.slice(2))
      if (Result.isSuccess(host)) return Result.succeed({ _tag: "Wildcard", suffix: host.success, text: `*.${host.success}` })
    }
    return Result.fail(`target "${text}" has a wildcard; only allowed_targets may use "*.domain" patterns`)
  }
  if (text.includes("/")) {
    const [addr = "", len = "", ...rest] = text.split("/")
    const ip = parseIp(addr)
    if (rest.length > 0 || ip === undefined) return Result.fail(`"${text}" is not a CIDR network (expected e.g. 10.0.0.0/24 or 2001:db8::/64)`)
    const max = bits(ip.family)
    if (!/^\d{1,3}$/.test(len) || Number(len) > max) return Result.fail(`"${text}" has prefix length /${len}; it must be 0..${max}`)
    const prefix = Number(len)
    const hostBits = BigInt(max - prefix)
    const start = (ip.value >> hostBits) << hostBits
    const end = start + (1n << hostBits) - 1n
    return Result.succeed({ _tag: "Network", family: ip.family, start, end, prefix, text: `${formatIp(ip.family, start)}/${prefix}` })
  }
  const ip = parseIp(text)
  if (ip !== undefined) return Result.succeed({ _tag: "Address", family: ip.family, start: ip.value, end: ip.value, text: formatIp(ip.family, ip.value) })
  const dash = text.indexOf("-")
  if (dash > 0) {
    const first = parseIp(text.slice(0, dash))
    if (first !== undefined) {
      const second = text.slice(dash + 1)
      let end: bigint | undefined
      if (first.family === 4 && /^\d{1,3}$/.test(second) && Number(second) <= 255) {
        end = (first.value & ~0xffn) | BigInt(Number(second))
      } else {
        const other = parseIp(second)
        if (other === undefined || other.family !== first.family) {
          return Result.fail(`"${text}" is not a range (expected e.g. 10.0.0.1-10.0.0.20 or 10.0.0.1-20)`)
        }
        end = other.value
      }
      if (end < first.value) return Result.fail(`range "${text}" ends before it starts`)
      return Result.succeed({
        _tag: "Range",
        family: first.family,
        start: first.value,
        end,
        text: `${formatIp(first.family, first.value)}-${formatIp(first.family, end)}`
      })
    }
  }
  if (/^[\d.]+$/.test(text)) return Result.fail(`"${text}" is not a valid IPv4 address`)
  if (text.includes(":")) return Result.fail(`"${text}" is not a valid IPv6 address`)
  return Result.map(parseHostname(text), (name) => ({ _tag: "Hostname" as const, name, text: name }))
}

const parseHostname = (text: string): Result.Result<string, string> => {
  const name = text.toLowerCase().replace(/\.$/, "")
  if (name.length === 0 || name.length > 253) return Result.fail(`"${text}" is not a valid hostname (1..253 characters)`)
  const labels = name.split(".")
  if (!labels.every((l) => LABEL.test(l))) {
    return Result.fail(`"${text}" is not a valid hostname (letters, digits and inner hyphens in dot-separated labels)`)
  }
  if (/^\d+$/.test(labels[labels.length - 1] ?? "")) return Result.fail(`"${text}" is not a valid hostname or IP address`)
  return Result.succeed(name)
}

const printable = (s: string): string => s.replace(/[^\x20-\x7e]/g, "?").slice(0, 80)

/**
 * Splits a target list: a string separated by commas and/or whitespace, or an array of such strings.
 *
 * @category parsing
 */
export const split = (input: string | ReadonlyArray<string>): ReadonlyArray<string> =>
  (typeof input === "string" ? [input] : input).flatMap((s) => s.split(/[,\s]+/)).filter((s) => s.length > 0)

/**
 * Parses a target list, refusing the whole list at the first bad entry; duplicates are dropped.
 *
 * @category parsing
 */
export const parse = (input: string | ReadonlyArray<string>): Result.Result<ReadonlyArray<Target>, string> => {
  const parts = split(input)
  if (parts.length === 0) return Result.fail("no targets given")
  if (parts.length > 10_000) return Result.fail(`${parts.length} target entries; at most 10000 per scan`)
  const out: Array<Target> = []
  const seen = new Set<string>()
  for (const p of parts) {
    const r = parseOne(p)
    if (Result.isFailure(r)) return Result.fail(r.failure)
    if (!seen.has(r.success.text)) {
      seen.add(r.success.text)
      out.push(r.success)
    }
  }
  return Result.succeed(out)
}

/**
 * Like {@link parse}, failing with an `invalid_targets` `SchedulerError`.
 *
 * @category parsing
 */
export const decode = (input: string | ReadonlyArray<string>): Effect.Effect<ReadonlyArray<Target>, SchedulerError.SchedulerError> => {
  const r = parse(input)
  return Result.isSuccess(r)
    ? Effect.succeed(r.success)
    : Effect.fail(SchedulerError.make("invalid_targets", `Invalid targets: ${r.failure}.`))
}

/**
 * How many addresses a target list expands to (a hostname counts as one).
 *
 * @category queries
 */
export const size = (targets: ReadonlyArray<Target>): bigint =>
  targets.reduce((n, t) => n + ("start" in t ? t.end - t.start + 1n : 1n), 0n)

const coveredBy = (t: IpTarget, allowed: ReadonlyArray<Target>): boolean => {
  const intervals = allowed
    .filter((a): a is IpTarget => "family" in a && a.family === t.family)
    .map((a) => [a.start, a.end] as const)
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
  let cursor = t.start
  for (const [s, e] of intervals) {
    if (s > cursor) break
    if (e >= cursor) {
      if (e >= t.end) return true
      cursor = e + 1n
    }
  }
  return false
}

/**
 * Whether one target is inside the allowed set: IP forms must be covered by the union of the allowed IP
 * entries; a hostname must equal an allowed hostname or end with an allowed `*.suffix`. Hostnames are
 * never resolved, so a hostname is not allowed by an IP entry.
 *
 * @category queries
 */
export const isAllowed = (target: Target, allowed: ReadonlyArray<Target>): boolean => {
  switch (target._tag) {
    case "Hostname":
      return allowed.some((a) =>
        (a._tag === "Hostname" && a.name === target.name) || (a._tag === "Wildcard" && target.name.endsWith(`.${a.suffix}`))
      )
    case "Wildcard":
      return false
    default:
      return coveredBy(target, allowed)
  }
}

/**
 * The targets that the allowed set does not cover (empty when all are allowed).
 *
 * @category queries
 */
export const refused = (targets: ReadonlyArray<Target>, allowed: ReadonlyArray<Target>): ReadonlyArray<Target> =>
  targets.filter((t) => !isAllowed(t, allowed))

/**
 * Whether two targets share at least one address (IP forms) or name (hostnames, case-insensitive).
 *
 * @category queries
 */
export const overlaps = (a: Target, b: Target): boolean => {
  if ("family" in a && "family" in b) return a.family === b.family && a.start <= b.end && b.start <= a.end
  if (a._tag === "Hostname" && b._tag === "Hostname") return a.name === b.name
  if (a._tag === "Wildcard" && b._tag === "Hostname") return b.name.endsWith(`.${a.suffix}`)
  if (b._tag === "Wildcard" && a._tag === "Hostname") return a.name.endsWith(`.${b.suffix}`)
  return false
}

/**
 * The list filter: whether any entry of `query` overlaps any stored target (an IP inside a stored CIDR,
 * a CIDR overlapping a stored range, equal hostnames...). Unparseable entries match nothing.
 *
 * @category queries
 */
export const matches = (query: string | ReadonlyArray<string>, stored: ReadonlyArray<string>): boolean => {
  const q = split(query).map((s) => parseOne(s, { allowWildcard: true })).filter(Result.isSuccess).map((r) => r.success)
  if (q.length === 0) return false
  const s = stored.map((x) => parseOne(x)).filter(Result.isSuccess).map((r) => r.success)
  return q.some((a) => s.some((b) => overlaps(a, b)))
}
