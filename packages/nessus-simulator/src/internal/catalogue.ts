import { existsSync, readFileSync } from "node:fs"
import { escapeXml, unescapeXml } from "./util.js"

/** Segment marker: write the host's address here. */
export const HOST = 0
/** Segment marker: write the item's (possibly overridden) port here. */
export const PORT = 1
/** A piece of a pre-encoded ReportItem: literal bytes or a marker filled in per host. */
export type Segment = Uint8Array | typeof HOST | typeof PORT

/** One finding as read from a real export (or the built-in catalogue), pre-encoded for fast replay. */
export interface ItemTemplate {
  readonly pluginId: number
  readonly pluginName: string
  readonly family: string
  readonly severity: number
  readonly port: string
  readonly protocol: string
  readonly svcName: string
  /** Only a credentialed scan could have produced it (a "Local Security Checks" family, netstat, ...). */
  readonly local: boolean
  readonly segments: ReadonlyArray<Segment>
  /** The raw XML with the original host's address replaced by `\u0001` (for plugin output look-ups). */
  readonly raw: string
}

/** The host-level part of a real ReportHost: its static HostProperties and its findings. */
export interface HostTemplate {
  /** HostProperties tag lines minus the host-identifying and credential tags the generator writes itself. */
  readonly props: Uint8Array
  readonly os: string | undefined
  readonly items: ReadonlyArray<ItemTemplate>
  readonly localItems: ReadonlyArray<ItemTemplate>
}

/** Everything the generator needs from a set of source exports. */
export interface CatalogueData {
  readonly source: "fixtures" | "builtin"
  readonly files: ReadonlyArray<string>
  /** XML declaration, root element and `<Policy>` of the first file, up to (excluding) `<Report `. */
  readonly head: string
  readonly policyName: string
  readonly hosts: ReadonlyArray<HostTemplate>
  /** De-duplicated (pluginID, port, protocol) findings that do not need credentials. */
  readonly pool: ReadonlyArray<ItemTemplate>
  /** De-duplicated findings that only a credentialed scan produces. */
  readonly localPool: ReadonlyArray<ItemTemplate>
}

/**
 * Plugins whose presence says something about authentication. The generator writes them itself from
 * the credential outcome, so copies in the source exports are dropped.
 */
export const AUTH_PLUGINS: ReadonlySet<number> = new Set([
  19506, 21745, 104410, 110385, 141118, 110095, 117887, 117886, 110723, 12634, 22869, 97993, 24786, 10394,
  102094, 26917, 135860, 91825, 91827, 58651
])

const DROPPED_TAGS = /^(host-ip|host-fqdn|host-rdns|hostname|netbios-name|mac-address|traceroute-hop-\d+|HOST_START|HOST_START_TIMESTAMP|HOST_END|HOST_END_TIMESTAMP|Credentialed_Scan|LastAuthenticatedResults|LastUnauthenticatedResults|local-checks-proto|smb-login-used|ssh-login-used|ssh-auth-meth|policy-used|host-uuid)$/

const encoder = new TextEncoder()

const attr = (tag: string, name: string): string | undefined => {
  const m = new RegExp(`\\s${name}="([^"]*)"`).exec(tag)
  return m ? unescapeXml(m[1]!) : undefined
}

const SENTINEL = "\u0001"

const makeItem = (raw: string, hostNames: ReadonlyArray<string>): ItemTemplate | undefined => {
  const tagEnd = raw.indexOf(">")
  const startTag = raw.slice(0, tagEnd + 1)
  const pluginId = Number(attr(startTag, "pluginID"))
  const severity = Number(attr(startTag, "severity"))
  if (!Number.isInteger(pluginId) || !Number.isInteger(severity) || severity < 0 || severity > 4) return undefined
  const family = attr(startTag, "pluginFamily") ?? ""
  let marked = raw
  for (const h of [...hostNames].filter((n) => n.length >= 4).sort((a, b) => b.length - a.length)) {
    marked = marked.split(escapeXml(h)).join(SENTINEL)
  }
  const portAt = marked.indexOf(" port=\"")
  const segments: Array<Segment> = []
  const pushText = (text: string) => {
    const parts = text.split(SENTINEL)
    parts.forEach((p, i) => {
      if (i > 0) segments.push(HOST)
      if (p !== "") segments.push(encoder.encode(p))
    })
  }
  let port = "0"
  if (portAt >= 0 && portAt < marked.indexOf(">")) {
    const valueStart = portAt + 7
    const valueEnd = marked.indexOf("\"", valueStart)
    port = marked.slice(valueStart, valueEnd)
    pushText(marked.slice(0, valueStart))
    segments.push(PORT)
    pushText(marked.slice(valueEnd))
  } else {
    pushText(marked)
  }
  return {
    pluginId,
    pluginName: attr(startTag, "pluginName") ?? "",
    family,
    severity,
    port,
    protocol: attr(startTag, "protocol") ?? "tcp",
    svcName: attr(startTag, "svc_name") ?? "general",
    local: /Local Security Checks/i.test(family),
    segments,
    raw: marked
  }
}

/** Splits one `.nessus` v2 document into a head and host templates. Returns undefined for other formats. */
export const parseDocument = (
  text: string
): { head: string; policyName: string; hosts: Array<HostTemplate> } | undefined => {
  const doc = text.replace(/\r\n?/g, "\n")
  if (!doc.includes("<NessusClientData_v2")) return undefined
  const reportAt = doc.indexOf("<Report ")
  if (reportAt < 0) return undefined
  const head = doc.slice(0, reportAt)
  const policyName = /<policyName>([^<]*)<\/policyName>/.exec(head)?.[1]
  const hosts: Array<HostTemplate> = []
  let at = doc.indexOf("<ReportHost ", reportAt)
  while (at >= 0) {
    const end = doc.indexOf("</ReportHost>", at)
    if (end < 0) break
    const block = doc.slice(at, end)
    at = doc.indexOf("<ReportHost ", end)
    const name = attr(block.slice(0, block.indexOf(">") + 1), "name") ?? ""
    const propsStart = block.indexOf("<HostProperties>")
    const propsEnd = block.indexOf("</HostProperties>")
    let props = ""
    let os: string | undefined
    let hostIp = name
    if (propsStart >= 0 && propsEnd > propsStart) {
      for (const m of block.slice(propsStart + 16, propsEnd).matchAll(/<tag name="([^"]*)">([\s\S]*?)<\/tag>/g)) {
        if (m[1] === "host-ip") hostIp = unescapeXml(m[2]!)
        if (m[1] === "operating-system") os = unescapeXml(m[2]!)
        if (!DROPPED_TAGS.test(m[1]!)) props += `${m[0]}\n`
      }
    }
    const items: Array<ItemTemplate> = []
    const localItems: Array<ItemTemplate> = []
    let i = block.indexOf("<ReportItem ")
    while (i >= 0) {
      const tagClose = block.indexOf(">", i)
      let itemEnd: number
      if (block[tagClose - 1] === "/") itemEnd = tagClose + 1
      else {
        const close = block.indexOf("</ReportItem>", tagClose)
        itemEnd = close < 0 ? block.length : close + 13
      }
      const raw = block.slice(i, itemEnd)
      i = block.indexOf("<ReportItem ", itemEnd)
      const item = makeItem(raw, [hostIp, name])
      if (!item || AUTH_PLUGINS.has(item.pluginId)) continue
      ;(item.local ? localItems : items).push(item)
    }
    hosts.push({ props: encoder.encode(props), os, items, localItems })
  }
  if (hosts.length === 0) return undefined
  return { head, policyName: policyName ? unescapeXml(policyName) : "Advanced Scan", hosts }
}

const dedupe = (items: Iterable<ItemTemplate>): Array<ItemTemplate> => {
  const seen = new Set<string>()
  const out: Array<ItemTemplate> = []
  for (const it of items) {
    const key = `${it.pluginId}|${it.port}|${it.protocol}`
    if (seen.has(key)) continue
    seen.add(key)
    out.push(it)
  }
  return out
}

/** Builds catalogue data from several parsed documents; the first one gives the head (Policy). */
export const assemble = (
  source: "fixtures" | "builtin",
  files: ReadonlyArray<string>,
  docs: ReadonlyArray<{ head: string; policyName: string; hosts: ReadonlyArray<HostTemplate> }>
): CatalogueData => {
  const first = docs[0]!
  const hosts = docs.flatMap((d) => d.hosts)
  return {
    source,
    files,
    head: first.head,
    policyName: first.policyName,
    hosts,
    pool: dedupe(hosts.flatMap((h) => h.items)),
    localPool: dedupe(hosts.flatMap((h) => h.localItems))
  }
}

const cache = new Map<string, CatalogueData>()

/** Reads and parses fixture files (cached per path list). Files that are not `.nessus` v2 are skipped. */
export const loadFixtures = (files: ReadonlyArray<string>): CatalogueData => {
  const key = files.join("\n")
  const hit = cache.get(key)
  if (hit) return hit
  const docs = []
  const used: Array<string> = []
  for (const f of files) {
    if (!existsSync(f)) throw new Error(`fixture file ${f} does not exist`)
    const parsed = parseDocument(readFileSync(f, "utf8"))
    if (parsed) {
      docs.push(parsed)
      used.push(f)
    }
  }
  if (docs.length === 0) throw new Error(`none of the fixture files is a .nessus v2 export with hosts: ${files.join(", ")}`)
  const data = assemble("fixtures", used, docs)
  cache.set(key, data)
  return data
}

/** Shorthand used by the built-in catalogue to write its own ReportItems. */
export const reportItem = (f: {
  pluginId: number
  name: string
  family: string
  severity: number
  port: number
  protocol?: string
  svc: string
  synopsis: string
  description: string
  solution: string
  output?: string
  riskFactor?: string
  cvss3?: number
  cves?: ReadonlyArray<string>
  fname?: string
}): string => {
  const risk = f.riskFactor ?? ["None", "Low", "Medium", "High", "Critical"][f.severity]!
  const lines = [
    `<ReportItem port="${f.port}" svc_name="${escapeXml(f.svc)}" protocol="${f.protocol ?? "tcp"}" severity="${f.severity}" pluginID="${f.pluginId}" pluginName="${
      escapeXml(f.name)
    }" pluginFamily="${escapeXml(f.family)}">`,
    `<agent>all</agent>`,
    `<description>${escapeXml(f.description)}</description>`,
    `<fname>${f.fname ?? `sim_${f.pluginId}.nasl`}</fname>`,
    `<plugin_modification_date>2025/10/01</plugin_modification_date>`,
    `<plugin_name>${escapeXml(f.name)}</plugin_name>`,
    `<plugin_publication_date>2020/01/01</plugin_publication_date>`,
    `<plugin_type>remote</plugin_type>`,
    `<risk_factor>${risk}</risk_factor>`,
    `<script_version>1.1</script_version>`,
    `<solution>${escapeXml(f.solution)}</solution>`,
    `<synopsis>${escapeXml(f.synopsis)}</synopsis>`
  ]
  if (f.cvss3 !== undefined) lines.push(`<cvss3_base_score>${f.cvss3.toFixed(1)}</cvss3_base_score>`)
  for (const c of f.cves ?? []) lines.push(`<cve>${c}</cve>`)
  if (f.output !== undefined) lines.push(`<plugin_output>${escapeXml(f.output)}</plugin_output>`)
  lines.push(`</ReportItem>`)
  return lines.join("\n")
}

/** Public `Catalogue` objects → their parsed data (kept out of the public type). */
export const catalogueRegistry = new WeakMap<object, CatalogueData>()
