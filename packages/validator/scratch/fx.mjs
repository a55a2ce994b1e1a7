import { Effect } from "effect"
import { Verdict } from "/work/main/packages/validator/dist/index.js"
import { readdirSync } from "node:fs"
const dir = "/work/shared/fixtures/nessus"
for (const f of readdirSync(dir).filter(f => f.endsWith(".nessus")).sort()) {
  const v = await Effect.runPromise(Verdict.validateFile(`${dir}/${f}`, { scanType: "authenticated" }))
  const s = v.stats.severity_counts
  console.log(f.padEnd(52), v.valid, v.error?.code ?? "-", v.stats.hosts_scanned, v.stats.findings_total, `${s.info}/${s.low}/${s.medium}/${s.high}/${s.critical}`, v.authentication_status, v.hosts.map(h => h.credentialed_checks + ":" + h.authentication_status).join(","), v.error?.code === "malformed_xml" || v.error?.code === "unsupported_format" ? v.error.message.slice(0, 200) : "")
}
