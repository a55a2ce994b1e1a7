// Generator throughput, side by side with shared/tools/gen-large-nessus.py (the Python reference), same size.
// Usage: pnpm --filter @nessus-mcp/nessus-simulator bench [targetMB=200]   (build the package first)
import { execFileSync } from "node:child_process"
import { existsSync, mkdtempSync, rmSync, statSync } from "node:fs"
import { tmpdir } from "node:os"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import { Catalogue, Generator } from "../dist/index.js"

const targetMb = Number(process.argv[2] ?? 200)
const here = dirname(fileURLToPath(import.meta.url))
const fixtures = Catalogue.findFixturesDir(here)
const dir = mkdtempSync(join(tmpdir(), "nessus-sim-bench-"))
const rows = []
try {
  const cat = fixtures ? Catalogue.fromFiles(fixtures) : Catalogue.builtin()
  // ~2 KB per fixture finding: pick hosts so the document lands near the target size.
  const p20 = await Generator.writeExport(join(dir, "probe.nessus"), { hosts: 20, findingsPerHost: 100, fixture: cat })
  const p40 = await Generator.writeExport(join(dir, "probe.nessus"), { hosts: 40, findingsPerHost: 100, fixture: cat })
  const perHost = (p40.bytes - p20.bytes) / 20
  const hosts = Math.max(1, Math.round((targetMb * 1e6 - (p20.bytes - 20 * perHost)) / perHost))
  const ours = join(dir, "ours.nessus")
  let t = performance.now()
  const truth = await Generator.writeExport(ours, { hosts, findingsPerHost: 100, fixture: cat })
  const oursMs = performance.now() - t
  rows.push({ tool: `Generator.writeExport (${cat.source})`, mb: truth.bytes / 1e6, ms: oursMs, items: truth.findings })

  const py = join(here, "..", "..", "..", "..", "shared", "tools", "gen-large-nessus.py")
  if (fixtures && existsSync(py)) {
    const out = join(dir, "py.nessus")
    t = performance.now()
    const res = JSON.parse(execFileSync("python3", [py, join(fixtures, "eafonin__sample_scan.nessus"), out, String(targetMb / 1.048576), "1"]).toString())
    rows.push({ tool: "gen-large-nessus.py", mb: statSync(out).size / 1e6, ms: performance.now() - t, items: res.report_items })
  }
} finally {
  rmSync(dir, { recursive: true, force: true })
}
const base = rows[0]
console.log(`\n${"tool".padEnd(40)} ${"MB".padStart(8)} ${"ms".padStart(8)} ${"MB/s".padStart(8)} ${"items".padStart(9)} ${"speed vs ours".padStart(14)}`)
for (const r of rows) {
  const mbs = r.mb / (r.ms / 1000)
  console.log(
    `${r.tool.padEnd(40)} ${r.mb.toFixed(1).padStart(8)} ${r.ms.toFixed(0).padStart(8)} ${mbs.toFixed(0).padStart(8)} ${String(r.items).padStart(9)} ${(mbs / (base.mb / (base.ms / 1000))).toFixed(2).padStart(13)}x`
  )
}
