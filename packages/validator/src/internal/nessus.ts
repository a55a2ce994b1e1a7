/**
 * The `.nessus` v2 layer over the tokenizer: knows which elements matter (Policy/policyName, Report,
 * ReportHost, HostProperties/tag, ReportItem and its children), asks the tokenizer for text only there,
 * and turns each ReportItem into a typed `Finding` the moment it closes.
 */
import type { FieldValue, Finding, Host, ReportEvent, ScanMetadata } from "./model.js"
import { parseScanInformation, scanDateToIso } from "./scanInfo.js"
import { type XmlHandler, XmlTokenizer } from "./xml.js"

/** Thrown when the document is XML but not a .nessus v2 export. */
export class FormatError extends Error {
  constructor(
    readonly detail: string,
    readonly root: string
  ) {
    super(detail)
  }
}

const ARRAY = 1
const NUMBER = 2
const BOOLEAN = 3
const LINES = 4
const OVERWRITE = 5

const KIND = new Map<string, number>()
for (
  const t of [
    "cve",
    "bid",
    "xref",
    "cwe",
    "iava",
    "iavb",
    "iavt",
    "msft",
    "mskb",
    "osvdb",
    "cert",
    "cert-cc",
    "edb-id",
    "usn",
    "rhsa",
    "cisa-ncas",
    "stig-id"
  ]
) KIND.set(t, ARRAY)
KIND.set("see_also", LINES)
for (
  const t of [
    "cvss_base_score",
    "cvss_temporal_score",
    "cvss_score",
    "cvss3_base_score",
    "cvss3_temporal_score",
    "cvss3_impact_score",
    "cvss4_base_score",
    "cvss4_threat_score",
    "cvss4_bt_score",
    "vpr_score",
    "vpr_v2_score",
    "epss_score",
    "risk_score"
  ]
) KIND.set(t, NUMBER)
for (
  const t of [
    "exploit_available",
    "exploited_by_malware",
    "exploited_by_nessus",
    "in_the_news",
    "unsupported_by_vendor",
    "thorough_tests",
    "always_run",
    "potential_vulnerability",
    "agent",
    "exploit_framework_canvas",
    "exploit_framework_core",
    "exploit_framework_d2_elliot",
    "exploit_framework_exploithub",
    "exploit_framework_metasploit",
    "exploit_framework_saint"
  ]
) KIND.set(t, BOOLEAN)
for (const t of ["host", "plugin_id", "plugin_name", "plugin_family", "severity", "port", "protocol", "svc_name"]) {
  KIND.set(t, OVERWRITE)
}

/** The field kinds used for typing (exported for the filter layer). */
export const fieldKind = (name: string): "array" | "number" | "boolean" | "text" => {
  const k = KIND.get(name)
  if (k === ARRAY || k === LINES) return "array"
  if (k === NUMBER) return "number"
  if (k === BOOLEAN) return "boolean"
  if (name === "plugin_id" || name === "severity" || name === "port") return "number"
  return "text"
}

const toInt = (s: string | undefined): number => {
  if (s === undefined) return 0
  const n = Number(s)
  return Number.isFinite(n) ? n : 0
}

type MutableFinding = Record<string, FieldValue>

/**
 * Sets a field by element name. Element names come from the file, so `__proto__` must become an own property
 * (a plain assignment would replace the object's prototype) and reads must ignore inherited members such as
 * `constructor`.
 */
export const setField = (f: Record<string, unknown>, name: string, value: unknown): void => {
  if (name === "__proto__") Object.defineProperty(f, name, { value, enumerable: true, writable: true, configurable: true })
  else f[name] = value
}

const ownField = (f: MutableFinding, name: string): FieldValue | undefined => (Object.hasOwn(f, name) ? f[name] : undefined)

const addField = (f: MutableFinding, name: string, text: string): void => {
  const kind = KIND.get(name)
  if (kind === undefined) {
    const prev = ownField(f, name)
    if (prev === undefined) setField(f, name, text)
    else if (Array.isArray(prev)) (prev as Array<string>).push(text)
    else setField(f, name, [String(prev), text])
    return
  }
  switch (kind) {
    case ARRAY: {
      const v = text.trim()
      const prev = ownField(f, name)
      if (prev === undefined) f[name] = [v]
      else (prev as Array<string>).push(v)
      return
    }
    case NUMBER: {
      const v = text.trim()
      if (v.length === 0) return
      const n = Number(v)
      f[name] = Number.isFinite(n) ? n : v
      return
    }
    case BOOLEAN: {
      const v = text.trim().toLowerCase()
      f[name] = v === "true" ? true : v === "false" ? false : text
      return
    }
    case LINES: {
      const prev = (ownField(f, name) as Array<string> | undefined) ?? []
      for (const line of text.split(/\r?\n/)) {
        const v = line.trim()
        if (v.length > 0) prev.push(v)
      }
      f[name] = prev
      return
    }
    default: {
      setField(f, name, name === "plugin_id" || name === "severity" || name === "port" ? toInt(text.trim()) : text)
    }
  }
}

/**
 * A ReportItem as the reader sees it: attributes plus child names and raw texts in document order. The
 * object and its arrays are reused for the next item, so consumers must copy what they keep.
 */
export interface RawItem {
  host: string
  pluginId: number
  pluginName: string
  family: string
  severity: number
  port: number
  protocol: string
  svc: string
  readonly names: Array<string>
  readonly values: Array<string>
  count: number
}

/** The raw text of a child element, or undefined. */
export const rawField = (raw: RawItem, name: string): string | undefined => {
  for (let i = 0; i < raw.count; i++) if (raw.names[i] === name) return raw.values[i]
  return undefined
}

/** Builds the typed `Finding` of a raw item (arrays, numbers, booleans, see_also lines). */
export const materialize = (raw: RawItem): Finding => {
  const f: MutableFinding = {
    host: raw.host,
    plugin_id: raw.pluginId,
    plugin_name: raw.pluginName,
    plugin_family: raw.family,
    severity: raw.severity,
    port: raw.port,
    protocol: raw.protocol,
    svc_name: raw.svc
  }
  for (let i = 0; i < raw.count; i++) addField(f, raw.names[i]!, raw.values[i]!)
  return f as unknown as Finding
}

/** Receives what the reader produces; `item` gets the reused raw item. */
export interface Sink {
  item(raw: RawItem): void
  event(e: Exclude<ReportEvent, { readonly _tag: "Finding" }>): void
}

/** A sink that materialises every finding into a `ReportEvent`. */
export const eventSink = (emit: (event: ReportEvent) => void): Sink => ({
  item: (raw) => emit({ _tag: "Finding", finding: materialize(raw) }),
  event: emit
})

const makeHost = (hostName: string, props: Record<string, string>): Host => {
  // Flat copies: hosts are kept by consumers, and slices would pin the parser's input chunks.
  const [name, properties] = JSON.parse(JSON.stringify([hostName, props])) as [string, Record<string, string>]
  const cs = properties["Credentialed_Scan"]
  return {
    name,
    properties,
    ip: properties["host-ip"] ?? null,
    fqdn: properties["host-fqdn"] ?? null,
    os: properties["operating-system"] ?? properties["os"] ?? null,
    credentialed_scan: cs === undefined ? null : cs.trim().toLowerCase() === "true",
    start: properties["HOST_START"] ?? null,
    end: properties["HOST_END"] ?? null
  }
}

/** Consumes decoded text and emits `ReportEvent`s synchronously through `emit`. */
export class NessusReader implements XmlHandler {
  private readonly tokenizer = new XmlTokenizer(this)
  private inPolicy = false
  private inReport = false
  private inProps = false
  private hostName: string | null = null
  private props: Record<string, string> = {}
  private host: Host | null = null
  private hostFindings = 0
  private propName = ""
  private inItem = false
  private readonly raw: RawItem = {
    host: "",
    pluginId: 0,
    pluginName: "",
    family: "",
    severity: 0,
    port: 0,
    protocol: "",
    svc: "",
    names: [],
    values: [],
    count: 0
  }
  private reportName: string | null = null
  private policyName: string | null = null
  private meta: Omit<ScanMetadata, "report_name" | "policy_name"> | null = null
  private hosts = 0
  private findings = 0

  constructor(private readonly sink: Sink) {}

  write(text: string): void {
    this.tokenizer.write(text)
  }

  end(): void {
    this.tokenizer.end()
  }

  /** Line and column of the end of the input fed so far (for errors raised outside the tokenizer). */
  endPosition(): { line: number; column: number } {
    return this.tokenizer.endPosition()
  }

  open(name: string, attrs: Array<string>, count: number, depth: number): boolean {
    switch (depth) {
      case 0:
        if (name !== "NessusClientData_v2") {
          throw new FormatError(
            name === "NessusClientData"
              ? "this is a Nessus v1 export (root <NessusClientData>); only the .nessus v2 format (root <NessusClientData_v2>) is supported: export the scan again as \"Nessus\" from Nessus 5 or later"
              : `the root element is <${name}>, not <NessusClientData_v2>: this is not a .nessus v2 export`,
            name
          )
        }
        return false
      case 1:
        if (name === "Report") {
          this.inReport = true
          this.reportName = attr(attrs, count, "name")
          this.sink.event({ _tag: "ScanStarted", report_name: this.reportName, policy_name: this.policyName })
        } else if (name === "Policy") this.inPolicy = true
        return false
      case 2:
        if (this.inReport && name === "ReportHost") {
          this.hostName = attr(attrs, count, "name") ?? ""
          this.props = {}
          this.host = null
          this.hostFindings = 0
          return false
        }
        return this.inPolicy && name === "policyName"
      case 3:
        if (this.hostName === null) return false
        if (name === "ReportItem") {
          if (this.host === null) this.startHost()
          this.startItem(attrs, count)
        } else if (name === "HostProperties") this.inProps = true
        return false
      case 4:
        if (this.inItem) return true
        if (this.inProps && name === "tag") {
          this.propName = attr(attrs, count, "name") ?? ""
          return true
        }
        return false
      default:
        return false
    }
  }

  close(name: string, text: string, depth: number): void {
    switch (depth) {
      case 4:
        if (this.inItem) {
          const raw = this.raw
          raw.names[raw.count] = name
          raw.values[raw.count++] = text
        }
        else if (this.inProps && name === "tag" && this.propName.length > 0) this.props[this.propName] = text.trim()
        return
      case 3:
        if (this.inItem && name === "ReportItem") {
          this.inItem = false
          this.hostFindings++
          this.findings++
          if (this.raw.pluginId === 19506 && this.meta === null) this.readScanInformation(rawField(this.raw, "plugin_output"))
          this.sink.item(this.raw)
          // Drop references to this item's strings: the raw arrays live in the old generation, and
          // pointers from there would keep the input chunks alive through the next scavenges.
          const values = this.raw.values
          for (let i = 0; i < this.raw.count; i++) values[i] = ""
          this.raw.count = 0
        } else if (name === "HostProperties" && this.hostName !== null) {
          this.inProps = false
          if (this.host === null) this.startHost()
        }
        return
      case 2:
        if (name === "ReportHost" && this.hostName !== null) {
          if (this.host === null) this.startHost()
          this.hosts++
          this.sink.event({ _tag: "HostEnded", host: this.host!, findings: this.hostFindings })
          this.hostName = null
          this.host = null
        } else if (this.inPolicy && name === "policyName") this.policyName = text.trim()
        return
      case 1:
        if (name === "Report") this.inReport = false
        else if (name === "Policy") this.inPolicy = false
        return
      case 0:
        this.sink.event({
          _tag: "ScanEnded",
          metadata: {
            report_name: this.reportName,
            policy_name: this.policyName,
            ...(this.meta ?? emptyMeta)
          },
          hosts: this.hosts,
          findings: this.findings
        })
        return
    }
  }

  private startHost(): void {
    this.host = makeHost(this.hostName ?? "", this.props)
    this.sink.event({ _tag: "HostStarted", host: this.host })
  }

  private startItem(attrs: Array<string>, count: number): void {
    let port = 0
    let svc = ""
    let protocol = ""
    let severity = 0
    let pluginId = 0
    let pluginName = ""
    let family = ""
    for (let i = 0; i < count; i += 2) {
      const v = attrs[i + 1]!
      switch (attrs[i]) {
        case "port":
          port = toInt(v)
          break
        case "svc_name":
          svc = v
          break
        case "protocol":
          protocol = v
          break
        case "severity":
          severity = toInt(v)
          break
        case "pluginID":
          pluginId = toInt(v)
          break
        case "pluginName":
          pluginName = v
          break
        case "pluginFamily":
          family = v
          break
      }
    }
    const raw = this.raw
    raw.host = this.hostName ?? ""
    raw.pluginId = pluginId
    raw.pluginName = pluginName
    raw.family = family
    raw.severity = severity
    raw.port = port
    raw.protocol = protocol
    raw.svc = svc
    raw.count = 0
    this.inItem = true
  }

  private readScanInformation(output: string | undefined): void {
    if (output === undefined) return
    const info = parseScanInformation(output)
    const x = info.fields
    if (Object.keys(x).length === 0) return
    const duration = /^(\d+)\s*sec/.exec(x["Scan duration"] ?? "")
    const seconds = duration?.[1] === undefined ? null : Number(duration[1])
    const start = x["Scan Start Date"]
    this.meta = {
      nessus_version: x["Nessus version"] ?? null,
      nessus_build: x["Nessus build"] ?? null,
      plugin_feed_version: x["Plugin feed version"] ?? null,
      scanner_edition: x["Scanner edition used"] ?? x["Type of plugin feed"] ?? null,
      scanner_ip: x["Scanner IP"] ?? null,
      scan_type: x["Scan type"] ?? null,
      scan_policy: x["Scan policy used"] ?? null,
      scan_start: start === undefined ? null : scanDateToIso(start),
      scan_end: start === undefined || seconds === null ? null : scanDateToIso(start, seconds),
      scan_duration_seconds: seconds
    }
  }
}

/** Scan metadata of an export without plugin 19506 (the report and policy names come from elsewhere). */
export const emptyMeta: Omit<ScanMetadata, "report_name" | "policy_name"> = {
  nessus_version: null,
  nessus_build: null,
  plugin_feed_version: null,
  scanner_edition: null,
  scanner_ip: null,
  scan_type: null,
  scan_policy: null,
  scan_start: null,
  scan_end: null,
  scan_duration_seconds: null
}

const attr = (attrs: Array<string>, count: number, key: string): string | null => {
  for (let i = 0; i < count; i += 2) if (attrs[i] === key) return attrs[i + 1]!
  return null
}
