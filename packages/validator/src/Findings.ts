/**
 * Findings sized for an agent: profiles (`minimal | summary | brief | full`) or an explicit field list,
 * filters that mean what they say (applied before projection, so a field can be filtered on without
 * being returned), and the JSON-NL rendering of a page.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Findings } from "@nessus-mcp/validator"
 *
 * const program = Effect.gen(function*() {
 *   const matches = yield* Findings.compileFilters({ severity: ">=3", cve: "CVE-2021", host: "10.0.0.0/24" })
 *   // Findings.matches(finding, matches, host) then Findings.project(finding, Findings.fieldsOf("summary"))
 * })
 * ```
 */
import * as Effect from "effect/Effect"
import { attempt } from "./internal/attempt.js"
import { type Compiled, compileFilters as compile, type Filters, type HostKey } from "./internal/filters.js"
import type { FieldValue, Finding, ScanMetadata } from "./internal/model.js"
import { ValidatorError } from "./ValidatorError.js"

export type { Compiled, Filters, FilterValue, HostKey } from "./internal/filters.js"

/** Predefined field sets. */
export type Profile = "minimal" | "summary" | "brief" | "full"

/** All profiles. */
export const profiles: ReadonlyArray<Profile> = ["minimal", "summary", "brief", "full"]

const MINIMAL = ["host", "plugin_id", "severity", "cve", "cvss_base_score", "exploit_available"] as const
const SUMMARY = [...MINIMAL, "plugin_name", "cvss3_base_score", "synopsis"] as const
const BRIEF = [...SUMMARY, "description", "solution"] as const

/** The fields of a profile, or null for `full` (every field). */
export const fieldsOf = (profile: Profile): ReadonlyArray<string> | null =>
  profile === "minimal" ? MINIMAL : profile === "summary" ? SUMMARY : profile === "brief" ? BRIEF : null

/** Which fields a query returns: a profile (default `brief`) or an explicit list, not both. */
export interface Selection {
  readonly profile?: Profile | undefined
  readonly fields?: ReadonlyArray<string> | undefined
}

/** The resolved selection: the profile name (`custom` for a field list) and its fields (null = all). */
export interface ResolvedSelection {
  readonly profile: Profile | "custom"
  readonly fields: ReadonlyArray<string> | null
}

/** Resolves a selection; throws `ValidatorError` (`invalid_query`) on bad input. */
export const resolveSelectionUnsafe = (s: Selection): ResolvedSelection => {
  if (s.fields !== undefined) {
    if (s.profile !== undefined) {
      throw new ValidatorError({
        reason: "invalid_query",
        message: "give either a profile or a field list, not both"
      })
    }
    if (!Array.isArray(s.fields) || s.fields.length === 0 || s.fields.some((f) => typeof f !== "string" || f.length === 0)) {
      throw new ValidatorError({
        reason: "invalid_query",
        message: "fields must be a non-empty list of field names such as [\"host\", \"plugin_id\", \"severity\"]"
      })
    }
    return { profile: "custom", fields: [...new Set(s.fields)] }
  }
  const profile = s.profile ?? "brief"
  if (!profiles.includes(profile)) {
    throw new ValidatorError({
      reason: "invalid_query",
      message: `unknown profile ${JSON.stringify(profile)}; use one of ${profiles.join(", ")}`
    })
  }
  return { profile, fields: fieldsOf(profile) }
}

/** Resolves a selection (profile or field list). */
export const resolveSelection = (s: Selection): Effect.Effect<ResolvedSelection, ValidatorError> =>
  attempt(() => resolveSelectionUnsafe(s))

/**
 * Compiles filters: numeric comparisons on numeric fields (`{"severity": ">=3"}`), case-insensitive
 * substrings on text, "contains" on lists (`{"cve": "CVE-2021"}`), booleans, exact numbers on ids, and
 * CIDR or exact name/IP/FQDN on `host`. A list value matches any of its items. Fails with
 * `invalid_filter` naming the field.
 */
export const compileFilters = (filters: Filters | undefined): Effect.Effect<ReadonlyArray<Compiled>, ValidatorError> =>
  attempt(() => compile(filters))

/** True when the finding passes every compiled filter; `host` supplies IP and FQDN for host filters. */
export const matches = (finding: Finding, filters: ReadonlyArray<Compiled>, host?: HostKey): boolean => {
  for (const f of filters) {
    if (f.scope === "host") {
      if (!f.test(host ?? { name: finding.host, ip: null, fqdn: null })) return false
    } else if (!f.test(Object.hasOwn(finding, f.field) ? finding[f.field] : undefined)) return false
  }
  return true
}

/** Keeps only the given fields (in that order; absent fields are omitted). `null` keeps everything. */
export const project = (finding: Finding, fields: ReadonlyArray<string> | null): Record<string, FieldValue> => {
  if (fields === null) return { ...finding }
  const out: Record<string, FieldValue> = {}
  for (const k of fields) {
    const v = Object.hasOwn(finding, k) ? finding[k] : undefined
    if (v !== undefined) out[k] = v
  }
  return out
}

/** One page of findings, as served by `FindingsIndex.query`. */
export interface Page {
  readonly profile: Profile | "custom"
  /** The returned fields, or null for every field. */
  readonly fields: ReadonlyArray<string> | null
  readonly filters_applied: Filters
  /** Findings matching the filters (over the whole scan). */
  readonly total: number
  readonly page: number
  readonly page_size: number
  readonly total_pages: number
  readonly findings: ReadonlyArray<Record<string, FieldValue>>
  /** Opaque cursor of the next page, null on the last page. */
  readonly next_cursor: string | null
}

/**
 * Renders a page as JSON-NL like the Python predecessor: a schema line, a scan metadata line, one
 * `vulnerability` line per finding, and a pagination line (which also carries `next_cursor`).
 */
export const renderJsonl = (page: Page, metadata: Partial<ScanMetadata> = {}): string => {
  const lines: Array<string> = [
    JSON.stringify({
      type: "schema",
      profile: page.profile,
      fields: page.fields ?? "all",
      filters_applied: page.filters_applied,
      total_vulnerabilities: page.total,
      total_pages: page.total_pages
    }),
    JSON.stringify({ type: "scan_metadata", scan_name: metadata.report_name ?? "Unknown", ...metadata })
  ]
  for (const f of page.findings) lines.push(JSON.stringify({ type: "vulnerability", ...f }))
  const hasNext = page.next_cursor !== null
  lines.push(JSON.stringify({
    type: "pagination",
    page: page.page,
    page_size: page.page_size,
    total_pages: page.total_pages,
    has_next: hasNext,
    next_page: hasNext ? page.page + 1 : null,
    next_cursor: page.next_cursor
  }))
  return lines.join("\n")
}
