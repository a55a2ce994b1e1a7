import { createMcpHandler, McpServer } from "@modelcontextprotocol/server"
import { Client, StreamableHTTPClientTransport } from "@modelcontextprotocol/client"
import * as http from "node:http"
const factory = () => { const s = new McpServer({ name: "bare", version: "1" }, { capabilities: { tools: {} } }); s.registerTool("ping", { description: "p" }, async () => ({ content: [{ type: "text", text: "ok" }] })); return s }
const handler = createMcpHandler(factory, { legacy: "stateless" })
const server = http.createServer(async (req, res) => {
  const chunks = []; for await (const c of req) chunks.push(c)
  const body = Buffer.concat(chunks)
  console.log("REQ", req.method, JSON.stringify(req.headers), body.toString().slice(0, 400))
  const r = await handler.fetch(new Request(`http://127.0.0.1${req.url}`, { method: req.method, headers: req.headers, ...(req.method === "POST" ? { body } : {}) }))
  const text = await r.text()
  console.log("RES", r.status, JSON.stringify(Object.fromEntries(r.headers)), text.slice(0, 300))
  res.writeHead(r.status, Object.fromEntries(r.headers)); res.end(text)
}).listen(0, "127.0.0.1", async () => {
  const url = `http://127.0.0.1:${server.address().port}/mcp`
  for (const mode of ["auto", "legacy"]) {
    console.log("=== mode", mode)
    const c = new Client({ name: "c", version: "1" }, { versionNegotiation: { mode } })
    await c.connect(new StreamableHTTPClientTransport(new URL(url)))
    await c.callTool({ name: "ping", arguments: {} })
    await c.close()
  }
  // raw legacy call without initialize
  const r = await fetch(url, { method: "POST", headers: { "content-type": "application/json", accept: "application/json, text/event-stream", "mcp-protocol-version": "2025-06-18" }, body: JSON.stringify({ jsonrpc: "2.0", id: 9, method: "tools/call", params: { name: "ping", arguments: {} } }) })
  console.log("RAW", r.status, await r.text())
  server.close(); process.exit(0)
})
