import { Client, StreamableHTTPClientTransport } from "@modelcontextprotocol/client"
const [url, token] = process.argv.slice(2)
const client = new Client({ name: "smoke", version: "1" })
await client.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers: { authorization: `Bearer ${token}` } } }))
const call = async (name, args = {}) => { const r = await client.callTool({ name, arguments: args }); return r.isError ? { ERROR: r.content[0].text } : r.structuredContent }
const a = await call("run_untrusted_scan", { targets: "192.0.2.10-12", name: "smoke" })
console.log(a)
const b = await call("run_authenticated_scan", { targets: "192.0.2.20", name: "auth", scan_type: "authenticated_privileged", credential: "linux-admin" })
const c = await call("run_authenticated_scan", { targets: "192.0.2.21", name: "bad", scan_type: "authenticated", ssh_username: "scanuser", ssh_password: "wrong-canary-pw" })
const d = await call("run_authenticated_scan", { targets: "192.0.2.22", name: "esc", scan_type: "authenticated_privileged", ssh_username: "scanuser", ssh_password: "scanpass", elevate_privileges_with: "sudo", escalation_password: "nope-canary" })
for (let i = 0; i < 40; i++) {
  const s = await Promise.all([a, b, c, d].map((t) => call("get_scan_status", { task_id: t.task_id })))
  console.log(s.map((x) => `${x.status}/${x.phase}/${x.progress}/${x.authentication_status}`).join("  "))
  if (s.every((x) => ["completed", "failed"].includes(x.status))) { for (const x of s) console.log(JSON.stringify(x).slice(0, 1500)); break }
  await new Promise((r) => setTimeout(r, 1000))
}
const r = await call("get_scan_results", { task_id: a.task_id, profile: "minimal", filters: { severity: ">=3" }, page_size: 3 })
console.log(JSON.stringify(r).slice(0, 800))
console.log(JSON.stringify(await call("get_pool_status")))
console.log(JSON.stringify(await call("list_tasks", { target: "192.0.2.0/27" })).slice(0, 300))
await client.close()
