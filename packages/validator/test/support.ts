import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { dirname, join, resolve } from "node:path"
import { fileURLToPath } from "node:url"

/** `<repo>/../shared/fixtures/nessus`, resolved from this file. */
export const fixturesDir = resolve(dirname(fileURLToPath(import.meta.url)), "../../../../shared/fixtures/nessus")

export const fixture = (name: string): string => join(fixturesDir, name)

/** A fresh temporary directory, removed by the returned disposer. */
export const tempDir = (): { dir: string; dispose: () => void } => {
  const dir = mkdtempSync(join(tmpdir(), "validator-test-"))
  return { dir, dispose: () => rmSync(dir, { recursive: true, force: true }) }
}

let counter = 0
/** Writes a document to a temporary file and returns its path. */
export const writeTemp = (content: string | Uint8Array, dir: string): string => {
  const path = join(dir, `doc-${counter++}.nessus`)
  writeFileSync(path, content)
  return path
}

/** A minimal v2 export with the given hosts (raw XML of ReportHost elements). */
export const nessus = (hosts: string, opts: { policy?: string; report?: string } = {}): string =>
  `<?xml version="1.0" ?>\n<NessusClientData_v2>\n<Policy><policyName>${opts.policy ?? "Test Policy"}</policyName></Policy>\n` +
  `<Report name="${opts.report ?? "Test Report"}" xmlns:cm="http://www.nessus.org/cm">\n${hosts}</Report>\n</NessusClientData_v2>\n`

/** A ReportHost with properties and items. */
export const host = (name: string, props: Record<string, string>, items: string): string =>
  `<ReportHost name="${name}"><HostProperties>\n${
    Object.entries(props).map(([k, v]) => `<tag name="${k}">${v}</tag>`).join("\n")
  }\n</HostProperties>\n${items}</ReportHost>\n`

/** A ReportItem with raw children. */
export const item = (pluginId: number, children = "", attrs: { severity?: number; name?: string; port?: number; family?: string } = {}): string =>
  `<ReportItem port="${attrs.port ?? 0}" svc_name="general" protocol="tcp" severity="${attrs.severity ?? 0}" pluginID="${pluginId}" pluginName="${
    attrs.name ?? `Plugin ${pluginId}`
  }" pluginFamily="${attrs.family ?? "General"}">\n${children}\n</ReportItem>\n`

/** A 19506 item whose output holds the given `Credentialed checks` value (raw XML text, already escaped). */
export const scanInfo = (credentialed: string | null, extra = ""): string =>
  item(
    19506,
    `<plugin_output>Information about this scan : \n\nNessus version : 10.8.3\nScan type : Normal\nScanner IP : 10.0.0.1\n${
      credentialed === null ? "" : `Credentialed checks : ${credentialed}\n`
    }${extra}Scan Start Date : 2025/3/10 10:42 UTC\nScan duration : 60 sec\n</plugin_output>`,
    { name: "Nessus Scan Information", family: "Settings" }
  )
