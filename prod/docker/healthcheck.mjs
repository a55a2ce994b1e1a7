#!/usr/bin/env node
// Container health check: GET http://127.0.0.1:<port><path> and exit 0 on a 2xx answer, 1 otherwise (no
// answer within the timeout included). Used by the images' HEALTHCHECK and the compose health checks:
//   node healthcheck.mjs <PORT_VARIABLE> <default port> [path, default /health/ready] [timeout ms, default 4000]
// The port comes from the named environment variable so an operator who changes MCP_PORT or METRICS_PORT
// does not also have to change the check. Plain Node, no dependencies: it runs in the final image as is.
const [variable = "PORT", fallback = "8000", path = "/health/ready", timeoutArg = "4000"] = process.argv.slice(2)
const port = Number(process.env[variable] || fallback)
const timeoutMs = Number(timeoutArg)
if (!Number.isInteger(port) || port < 1 || port > 65535) {
  console.error(`healthcheck: ${variable}=${process.env[variable]} is not a port`)
  process.exit(1)
}
try {
  const response = await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(timeoutMs) })
  await response.body?.cancel()
  if (!response.ok) console.error(`healthcheck: ${path} answered ${response.status}`)
  process.exit(response.ok ? 0 : 1)
} catch (error) {
  console.error(`healthcheck: ${path} on port ${port} failed: ${error instanceof Error ? error.message : String(error)}`)
  process.exit(1)
}
