/** Filter compilation and evaluation, shared by the in-memory API and the on-disk index. */
import { ValidatorError } from "../ValidatorError.js"
import type { FieldValue } from "./model.js"
import { fieldKind } from "./nessus.js"

/** A filter value: a string (substring, comparison `>=7`, CIDR), a number, a boolean, or a list (any of). */
export type FilterValue = string | number | boolean | ReadonlyArray<string | number | boolean>

/** Filters keyed by field name; all must match (AND), a list value matches any of its items (OR). */
export type Filters = Readonly<Record<string, FilterValue>>

/** A host as filters see it. */
export interface HostKey {
  readonly name: string
  readonly ip: string | null
  readonly fqdn: string | null
}

/** One compiled filter. `scope` says what it looks at. */
export type Compiled =
  | { readonly scope: "host"; readonly field: "host"; readonly test: (h: HostKey) => boolean }
  | { readonly scope: "field"; readonly field: string; readonly test: (v: FieldValue | undefined) => boolean }

const invalid = (field: string, why: string): ValidatorError =>
  new ValidatorError({ reason: "invalid_filter", message: `invalid filter on '${field}': ${why}`, field })

const COMPARISON = /^\s*(>=|<=|!=|==|>|<|=)?\s*(-?(?:\d+(?:\.\d*)?|\.\d+))\s*$/

const numericTest = (field: string, v: string | number | boolean): (x: number) => boolean => {
  if (typeof v === "number") return (x) => x === v
  if (typeof v === "boolean") throw invalid(field, `it is numeric; use a number or a comparison such as ">=7.0", not a boolean`)
  const m = COMPARISON.exec(v)
  if (m === null) throw invalid(field, `it is numeric; use a number or a comparison such as ">=7.0" (got ${JSON.stringify(v)})`)
  const n = Number(m[2])
  switch (m[1]) {
    case ">=":
      return (x) => x >= n
    case "<=":
      return (x) => x <= n
    case ">":
      return (x) => x > n
    case "<":
      return (x) => x < n
    case "!=":
      return (x) => x !== n
    default:
      return (x) => x === n
  }
}

const booleanValue = (field: string, v: string | number | boolean): boolean => {
  if (typeof v === "boolean") return v
  if (v === "true") return true
  if (v === "false") return false
  throw invalid(field, `it is a boolean; use true or false (got ${JSON.stringify(v)})`)
}

const looksLikeComparison = (v: string) => /^\s*(>=|<=|!=|==|>|<)/.test(v)

/** IPv4/IPv6 address to a bigint (null when not an address). */
export const ipToBigInt = (s: string): { v: bigint; bits: 32 | 128 } | null => {
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s)
  if (v4 !== null) {
    let v = 0n
    for (let i = 1; i <= 4; i++) {
      const o = Number(v4[i])
      if (o > 255) return null
      v = (v << 8n) | BigInt(o)
    }
    return { v, bits: 32 }
  }
  if (!s.includes(":")) return null
  let text = s
  const dotted = /(\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})$/.exec(text)
  if (dotted?.[1] !== undefined) {
    const four = ipToBigInt(dotted[1])
    if (four === null) return null
    text = text.slice(0, -dotted[1].length) + ((four.v >> 16n) & 0xffffn).toString(16) + ":" + (four.v & 0xffffn).toString(16)
  }
  const halves = text.split("::")
  if (halves.length > 2) return null
  const head = halves[0] === "" ? [] : halves[0]!.split(":")
  const tail = halves.length === 2 ? (halves[1] === "" ? [] : halves[1]!.split(":")) : []
  const fill = halves.length === 2 ? 8 - head.length - tail.length : 0
  if (fill < 0 || (halves.length === 1 && head.length !== 8)) return null
  const groups = [...head, ...Array<string>(fill).fill("0"), ...tail]
  let v = 0n
  for (const g of groups) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return null
    v = (v << 16n) | BigInt(Number.parseInt(g, 16))
  }
  return { v, bits: 128 }
}

const hostTest = (v: string | number | boolean): (h: HostKey) => boolean => {
  if (typeof v !== "string" || v.trim().length === 0) throw invalid("host", "use a host name, an IP address or a CIDR such as \"10.0.0.0/24\"")
  const text = v.trim()
  const slash = text.indexOf("/")
  if (slash !== -1) {
    const base = ipToBigInt(text.slice(0, slash))
    const prefix = Number(text.slice(slash + 1))
    if (base === null || !Number.isInteger(prefix) || prefix < 0 || prefix > base.bits || !/^\d+$/.test(text.slice(slash + 1))) {
      throw invalid("host", `${JSON.stringify(text)} is not a valid CIDR (e.g. "10.0.0.0/24" or "fd00::/64")`)
    }
    const shift = BigInt(base.bits - prefix)
    const net = base.v >> shift
    const inNet = (s: string | null) => {
      if (s === null) return false
      const ip = ipToBigInt(s)
      return ip !== null && ip.bits === base.bits && ip.v >> shift === net
    }
    return (h) => inNet(h.ip) || inNet(h.name)
  }
  const lower = text.toLowerCase()
  return (h) => h.name.toLowerCase() === lower || h.ip?.toLowerCase() === lower || h.fqdn?.toLowerCase() === lower
}

const textOf = (x: string | number | boolean) => String(x).toLowerCase()

/** Test for fields whose type is only known from the value (any child element not in the catalogue). */
const dynamicTest = (field: string, v: string | number | boolean): (x: FieldValue | undefined) => boolean => {
  let numeric: ((x: number) => boolean) | null = null
  if (typeof v === "number" || (typeof v === "string" && COMPARISON.test(v))) numeric = numericTest(field, v)
  const needle = textOf(v)
  return (x) => {
    if (x === undefined) return false
    if (typeof x === "number") return numeric !== null ? numeric(x) : String(x) === needle
    if (typeof x === "boolean") return typeof v === "boolean" ? x === v : String(x) === needle
    if (typeof x === "string") return x.toLowerCase().includes(needle)
    // Anything else (e.g. an inherited Object.prototype member reached through a field named "constructor") is absent.
    if (!Array.isArray(x)) return false
    for (const e of x as ReadonlyArray<string>) if (e.toLowerCase().includes(needle)) return true
    return false
  }
}

const compileOne = (field: string, v: string | number | boolean): Compiled => {
  if (field === "host") return { scope: "host", field: "host", test: hostTest(v) }
  const kind = fieldKind(field)
  switch (kind) {
    case "number": {
      const t = numericTest(field, v)
      return { scope: "field", field, test: (x) => typeof x === "number" && t(x) }
    }
    case "boolean": {
      const b = booleanValue(field, v)
      return { scope: "field", field, test: (x) => x === b }
    }
    case "array": {
      if (typeof v !== "string") throw invalid(field, `it is a list; use a text to look for in its items (e.g. "CVE-2021")`)
      const needle = v.toLowerCase()
      return {
        scope: "field",
        field,
        test: (x) => {
          if (x === undefined) return false
          if (typeof x === "string") return x.toLowerCase().includes(needle)
          if (!Array.isArray(x)) return false
          for (const e of x as ReadonlyArray<string>) if (e.toLowerCase().includes(needle)) return true
          return false
        }
      }
    }
    default: {
      if (KNOWN_TEXT.has(field)) {
        if (typeof v === "string" && looksLikeComparison(v)) {
          throw invalid(field, `it is text; comparisons only apply to numeric fields (text filters are case-insensitive substrings)`)
        }
        const needle = textOf(v)
        return { scope: "field", field, test: (x) => typeof x === "string" && x.toLowerCase().includes(needle) }
      }
      return { scope: "field", field, test: dynamicTest(field, v) }
    }
  }
}

const KNOWN_TEXT = new Set([
  "plugin_name",
  "plugin_family",
  "protocol",
  "svc_name",
  "description",
  "solution",
  "synopsis",
  "plugin_output",
  "risk_factor",
  "fname",
  "plugin_type",
  "cvss_vector",
  "cvss3_vector",
  "script_version",
  "plugin_publication_date",
  "plugin_modification_date",
  "patch_publication_date",
  "vuln_publication_date",
  "exploitability_ease",
  "exploit_code_maturity"
])

const FIELD_NAME = /^[A-Za-z_][A-Za-z0-9_:.-]*$/

/** Compiles filters; throws `ValidatorError` (`invalid_filter`, naming the field) on bad input. */
export const compileFilters = (filters: unknown): ReadonlyArray<Compiled> => {
  if (filters === undefined || filters === null) return []
  if (typeof filters !== "object" || Array.isArray(filters)) {
    throw new ValidatorError({
      reason: "invalid_filter",
      message: "filters must be an object such as {\"severity\": \">=3\", \"cve\": \"CVE-2021\"}"
    })
  }
  const out: Array<Compiled> = []
  for (const [field, value] of Object.entries(filters as Record<string, unknown>)) {
    if (!FIELD_NAME.test(field)) throw invalid(field, "not a field name")
    const items = Array.isArray(value) ? value : [value]
    if (items.length === 0) throw invalid(field, "an empty list matches nothing; remove the filter or give values")
    const parts: Array<Compiled> = []
    for (const item of items) {
      if (typeof item !== "string" && typeof item !== "number" && typeof item !== "boolean") {
        throw invalid(field, `values must be strings, numbers or booleans (got ${item === null ? "null" : typeof item})`)
      }
      parts.push(compileOne(field, item))
    }
    if (parts.length === 1) out.push(parts[0]!)
    else if (field === "host") {
      const tests = parts.map((p) => (p as Extract<Compiled, { scope: "host" }>).test)
      out.push({ scope: "host", field: "host", test: (h) => tests.some((t) => t(h)) })
    } else {
      const tests = parts.map((p) => (p as Extract<Compiled, { scope: "field" }>).test)
      out.push({ scope: "field", field, test: (x) => tests.some((t) => t(x)) })
    }
  }
  return out
}
