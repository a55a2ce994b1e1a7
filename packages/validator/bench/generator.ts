/**
 * Synthetic .nessus exports for the benchmark and the large-file tests. When the simulator package
 * (`@nessus-mcp/nessus-simulator`, `Generator.writeExport(path, {hosts, findingsPerHost, seed})`) is
 * installed and built it is used; otherwise this file's own generator with the same contract writes a
 * realistic export (shared plugin catalogue, 19506 per host, HostProperties, entities, CVE lists).
 */
import { createWriteStream } from "node:fs"
import { once } from "node:events"

/** Ground truth of a generated export. */
export interface GeneratedExport {
  readonly path: string
  readonly bytes: number
  readonly hosts: number
  readonly findings: number
  readonly severity: readonly [number, number, number, number, number]
  readonly generator: "nessus-simulator" | "local"
}

/** Options of `writeExport`, as in the simulator's contract. */
export interface GenerateOptions {
  readonly hosts: number
  readonly findingsPerHost: number
  readonly seed?: number
  /** Hosts whose 19506 says `Credentialed checks : yes, as 'scan' via ssh` (default: all). */
  readonly credentialedHosts?: number
}

const mulberry32 = (seed: number) => () => {
  seed = (seed + 0x6d2b79f5) | 0
  let t = seed
  t = Math.imul(t ^ (t >>> 15), t | 1)
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}

const WORDS = (
  "remote host affected vulnerability version server client request allows attacker execute arbitrary code " +
  "denial service memory corruption authentication bypass privilege escalation information disclosure " +
  "crafted packet buffer overflow cross site scripting injection certificate cipher protocol kernel package"
).split(" ")

interface Plugin {
  readonly id: number
  readonly name: string
  readonly family: string
  readonly severity: number
  readonly body: string
}

const FAMILIES = ["Ubuntu Local Security Checks", "Windows", "Web Servers", "General", "Misc.", "Service detection", "CGI abuses"]

const makeCatalogue = (rand: () => number, size: number): Array<Plugin> => {
  const words = (n: number) => Array.from({ length: n }, () => WORDS[Math.floor(rand() * WORDS.length)]).join(" ")
  const out: Array<Plugin> = []
  for (let i = 0; i < size; i++) {
    const id = 10000 + i * 7
    const severity = [0, 0, 0, 1, 2, 2, 3, 4][Math.floor(rand() * 8)]!
    const cves = Array.from({ length: Math.floor(rand() * 5) }, () =>
      `<cve>CVE-20${10 + Math.floor(rand() * 15)}-${1000 + Math.floor(rand() * 90000)}</cve>`).join("\n")
    const cvss = (rand() * 10).toFixed(1)
    const cvss3 = (rand() * 10).toFixed(1)
    const name = `Synthetic ${words(3)} &amp; ${words(2)} (${id})`
    const body = `<agent>all</agent>
<cvss3_base_score>${cvss3}</cvss3_base_score>
<cvss3_vector>CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H</cvss3_vector>
<cvss_base_score>${cvss}</cvss_base_score>
<cvss_vector>CVSS2#AV:N/AC:L/Au:N/C:P/I:P/A:P</cvss_vector>
<description>The ${words(20)} &lt;${words(1)}&gt; ${words(60)}.

${words(40)}.</description>
<exploit_available>${rand() < 0.3 ? "true" : "false"}</exploit_available>
<fname>synthetic_${id}.nasl</fname>
<plugin_modification_date>2024/01/${10 + Math.floor(rand() * 18)}</plugin_modification_date>
<plugin_name>${name}</plugin_name>
<plugin_publication_date>2020/05/12</plugin_publication_date>
<plugin_type>local</plugin_type>
<risk_factor>${["None", "Low", "Medium", "High", "Critical"][severity]}</risk_factor>
<script_version>1.${Math.floor(rand() * 20)}</script_version>
<see_also>https://example.invalid/advisory/${id}
https://example.invalid/kb/${id}</see_also>
<solution>Upgrade to ${words(4)} or later.</solution>
<synopsis>The remote host is missing ${words(6)}.</synopsis>
<vpr_score>${(rand() * 10).toFixed(1)}</vpr_score>
<epss_score>${rand().toFixed(4)}</epss_score>
${cves}
<xref>IAVA:2020-A-${Math.floor(rand() * 900)}</xref>`
    out.push({ id, name, family: FAMILIES[Math.floor(rand() * FAMILIES.length)]!, severity, body })
  }
  return out
}

const scanInfo = (credentialed: boolean) =>
  `Information about this scan : \n\nNessus version : 10.8.3\nNessus build : 20010\nPlugin feed version : 202511060226\nScanner edition used : Nessus\nScan type : Normal\nScan name : synthetic\nScan policy used : Advanced Scan\nScanner IP : 10.0.0.1\nPort scanner(s) : nessus_syn_scanner \nPort range : default\nThorough tests : no\nExperimental tests : no\nParanoia level : 1\nReport verbosity : 1\nSafe checks : yes\nOptimize the test : yes\nCredentialed checks : ${
    credentialed ? "yes, as &apos;scan&apos; via ssh" : "no"
  }\nPatch management checks : None\nCGI scanning : disabled\nWeb application tests : disabled\nMax hosts : 30\nMax checks : 4\nRecv timeout : 5\nBackports : None\nAllow post-scan editing : Yes\nScan Start Date : 2025/3/10 10:42 UTC\nScan duration : 1234 sec\n`

/** Writes an export with this package's own generator. */
export const writeLocalExport = async (path: string, options: GenerateOptions): Promise<GeneratedExport> => {
  const rand = mulberry32(options.seed ?? 1)
  const catalogue = makeCatalogue(rand, 1500)
  const out = createWriteStream(path, { highWaterMark: 1 << 20 })
  let bytes = 0
  let pending = ""
  const write = async (s: string) => {
    pending += s
    if (pending.length < 1 << 20) return
    const buf = Buffer.from(pending)
    bytes += buf.length
    pending = ""
    if (!out.write(buf)) await once(out, "drain")
  }
  const severity: [number, number, number, number, number] = [0, 0, 0, 0, 0]
  let findings = 0
  const credentialed = options.credentialedHosts ?? options.hosts
  await write(
    `<?xml version="1.0" ?>\n<NessusClientData_v2>\n<Policy><policyName>Advanced Scan</policyName><Preferences><ServerPreferences><preference><name>max_hosts</name><value>30</value></preference></ServerPreferences></Preferences></Policy>\n<Report name="synthetic" xmlns:cm="http://www.nessus.org/cm">\n`
  )
  for (let h = 0; h < options.hosts; h++) {
    const ip = `10.${(h >> 16) & 255}.${(h >> 8) & 255}.${h & 255}`
    const cred = h < credentialed
    await write(
      `<ReportHost name="${ip}"><HostProperties>\n<tag name="HOST_END">Mon Mar 10 11:02:11 2025</tag>\n<tag name="LastAuthenticatedResults">1741603331</tag>\n<tag name="Credentialed_Scan">${cred}</tag>\n<tag name="local-checks-proto">ssh</tag>\n<tag name="operating-system">Linux Kernel 5.15 on Ubuntu 22.04</tag>\n<tag name="host-ip">${ip}</tag>\n<tag name="host-fqdn">host-${h}.example.invalid</tag>\n<tag name="HOST_START">Mon Mar 10 10:42:20 2025</tag>\n</HostProperties>\n`
    )
    await write(
      `<ReportItem port="0" svc_name="general" protocol="tcp" severity="0" pluginID="19506" pluginName="Nessus Scan Information" pluginFamily="Settings">\n<description>This plugin displays information about the Nessus scan.</description>\n<plugin_output>${
        scanInfo(cred)
      }</plugin_output>\n<risk_factor>None</risk_factor>\n<synopsis>This plugin displays information about the Nessus scan.</synopsis>\n</ReportItem>\n`
    )
    severity[0]++
    findings++
    for (let i = 1; i < options.findingsPerHost; i++) {
      const p = catalogue[Math.floor(rand() * catalogue.length)]!
      const port = [22, 80, 443, 445, 3389, 8080, 0][Math.floor(rand() * 7)]!
      severity[p.severity]!++
      findings++
      await write(
        `<ReportItem port="${port}" svc_name="${port === 0 ? "general" : "www"}" protocol="tcp" severity="${p.severity}" pluginID="${p.id}" pluginName="${p.name}" pluginFamily="${p.family}">\n${p.body}\n<plugin_output>\n  Installed package : pkg-${
          Math.floor(rand() * 1e6)
        }\n  Fixed package     : pkg-${Math.floor(rand() * 1e6)}\n</plugin_output>\n</ReportItem>\n`
      )
    }
    await write(`</ReportHost>\n`)
  }
  await write(`</Report>\n</NessusClientData_v2>\n`)
  const tail = Buffer.from(pending)
  bytes += tail.length
  out.end(tail)
  await once(out, "finish")
  return { path, bytes, hosts: options.hosts, findings, severity, generator: "local" }
}

/** Writes an export with the simulator's generator when installed, else with the local one. */
export const writeExport = async (path: string, options: GenerateOptions): Promise<GeneratedExport> => {
  const spec = "@nessus-mcp/nessus-simulator"
  // deno-lint-ignore no-explicit-any
  const sim: any = await import(spec).catch(() => undefined)
  if (sim?.Generator?.writeExport !== undefined && options.credentialedHosts === undefined) {
    let truth: { bytes: number; hosts: number; findings: number; severityCounts: [number, number, number, number, number] }
    try {
      truth = await sim.Generator.writeExport(path, {
        hosts: options.hosts,
        findingsPerHost: options.findingsPerHost,
        seed: options.seed ?? 1
      })
    } catch (e) {
      console.error(`nessus-simulator's generator failed (${String((e as Error)?.message ?? e).slice(0, 120)}); using the local generator`)
      return writeLocalExport(path, options)
    }
    return {
      path,
      bytes: truth.bytes,
      hosts: truth.hosts,
      findings: truth.findings,
      severity: truth.severityCounts,
      generator: "nessus-simulator"
    }
  }
  return writeLocalExport(path, options)
}

/** Host count that gives roughly `megabytes` MB with the local generator. */
export const hostsForSize = (megabytes: number, findingsPerHost = 250): number =>
  Math.max(1, Math.round((megabytes * 1024 * 1024) / (findingsPerHost * 2530)))

/** Writes an export of roughly `megabytes` MB with whichever generator `writeExport` picks. */
export const writeExportOfSize = async (path: string, megabytes: number, seed = 42): Promise<GeneratedExport> => {
  const findingsPerHost = 250
  const first = await writeExport(path, { hosts: Math.max(1, Math.round(hostsForSize(megabytes, findingsPerHost) / 16)), findingsPerHost, seed })
  // Calibrate on a 1/16 sample: the simulator's findings are not the same size as the local ones.
  const hosts = Math.max(1, Math.round((megabytes * 1024 * 1024) / (first.bytes / first.hosts)))
  return writeExport(path, { hosts, findingsPerHost, seed })
}
