/** The data model produced by the parser (re-exported by the `Report` module). */

/** A finding field value: text, a number, a boolean, or the list form of repeatable tags. */
export type FieldValue = string | number | boolean | ReadonlyArray<string>

/**
 * One `ReportItem`. The attributes become `plugin_id`, `plugin_name`, `plugin_family`, `severity`
 * (0 info … 4 critical), `port`, `protocol` and `svc_name`; `host` is the `ReportHost` name; every child
 * element is a field under its tag name (`cm:compliance-result` included). Repeatable tags (cve, bid, xref,
 * cwe, see_also, …) are always arrays, score fields numbers, `true`/`false` flags booleans.
 */
export interface Finding {
  readonly [field: string]: FieldValue
  readonly host: string
  readonly plugin_id: number
  readonly plugin_name: string
  readonly plugin_family: string
  readonly severity: number
  readonly port: number
  readonly protocol: string
  readonly svc_name: string
}

/** One `ReportHost` with its `HostProperties`. */
export interface Host {
  readonly name: string
  /** Every `<tag name="…">` of HostProperties, as text. */
  readonly properties: Readonly<Record<string, string>>
  /** `host-ip`, or null. */
  readonly ip: string | null
  /** `host-fqdn`, or null. */
  readonly fqdn: string | null
  /** `operating-system` (or Tenable.io's `os`), or null. */
  readonly os: string | null
  /** The `Credentialed_Scan` property as a boolean, or null when absent. */
  readonly credentialed_scan: boolean | null
  /** `HOST_START` / `HOST_END` as printed, or null. */
  readonly start: string | null
  readonly end: string | null
}

/** Scan-level metadata; fields from plugin 19506 are null when no host carries it. */
export interface ScanMetadata {
  readonly report_name: string | null
  readonly policy_name: string | null
  readonly nessus_version: string | null
  readonly nessus_build: string | null
  readonly plugin_feed_version: string | null
  readonly scanner_edition: string | null
  readonly scanner_ip: string | null
  /** 19506 `Scan type` (`Normal`, `Windows Agent`, …). */
  readonly scan_type: string | null
  /** 19506 `Scan policy used`. */
  readonly scan_policy: string | null
  /** 19506 `Scan Start Date` as ISO 8601 (with an offset only when the export states one). */
  readonly scan_start: string | null
  /** `scan_start` plus 19506 `Scan duration`. */
  readonly scan_end: string | null
  readonly scan_duration_seconds: number | null
}

/**
 * What the streaming parser emits, in document order: `ScanStarted` once (at `<Report>`), then per host
 * `HostStarted`, its `Finding`s and `HostEnded`, then `ScanEnded` with the complete metadata.
 */
export type ReportEvent =
  | { readonly _tag: "ScanStarted"; readonly report_name: string | null; readonly policy_name: string | null }
  | { readonly _tag: "HostStarted"; readonly host: Host }
  | { readonly _tag: "Finding"; readonly finding: Finding }
  | { readonly _tag: "HostEnded"; readonly host: Host; readonly findings: number }
  | { readonly _tag: "ScanEnded"; readonly metadata: ScanMetadata; readonly hosts: number; readonly findings: number }
