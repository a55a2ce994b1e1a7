import { Effect } from "effect"
import { FindingsIndex } from "/work/main/packages/validator/dist/index.js"
const t = performance.now()
const r = await Effect.runPromise(FindingsIndex.build(process.argv[2], "/tmp/vbench/idx", { scanType: "authenticated" }))
const s = (performance.now() - t) / 1000
console.log({ s: s.toFixed(2), MBps: (r.verdict.stats.file_size_bytes / 1048576 / s).toFixed(1), findings: r.findings, templates: r.templates, idxMB: (r.index_bytes / 1048576).toFixed(1), rss: (process.resourceUsage().maxRSS / 1024).toFixed(0), status: r.verdict.authentication_status })
for (const q of [{}, { filters: { severity: ">=3" } }, { filters: { cve: "CVE-2021" }, profile: "summary" }, { filters: { host: "10.0.1.0/24" }, page: 3 }, { filters: { plugin_output: "pkg-12" } }]) {
  const t2 = performance.now(); const p = await Effect.runPromise(FindingsIndex.query("/tmp/vbench/idx", q)); const t3 = performance.now()
  const p2 = await Effect.runPromise(FindingsIndex.query("/tmp/vbench/idx", q)); const t4 = performance.now()
  console.log(JSON.stringify(q), p.total, p.findings.length, (t3 - t2).toFixed(1) + "ms", (t4 - t3).toFixed(1) + "ms")
}
