#!/usr/bin/env node
/**
 * `nessus-simulator`: serves simulated Nessus scanners until SIGINT/SIGTERM.
 *
 *   nessus-simulator [--port 8834] [--host 127.0.0.1] [--config sim.yaml] [--tls-cert f --tls-key f] [--fixture f]
 *
 * @since 0.1.0
 */
import { readFileSync } from "node:fs"
import { parseArgs } from "node:util"
import * as Simulator from "./Simulator.js"
import * as SimulatorConfig from "./SimulatorConfig.js"
import { isSimulatorError } from "./SimulatorError.js"

const usage = `Usage: nessus-simulator [options]

Serves one simulated Nessus 10.x scanner (user nessus / password nessus, scan_api: true), or the scanners
listed in a YAML config file.

Options:
  --port <n>        port of the single scanner, or base port for config scanners without one (default 8834)
  --host <addr>     listen address (default 127.0.0.1)
  --config <file>   YAML config (see the package README)
  --tls-cert <file> serve HTTPS with this PEM certificate (needs --tls-key); applies to scanners without tls
  --tls-key <file>  PEM private key for --tls-cert
  --fixture <path>  .nessus export (or directory of them) whose findings exports replay
  --help            show this help
`

const main = async (): Promise<void> => {
  const { values } = parseArgs({
    options: {
      port: { type: "string" },
      host: { type: "string" },
      config: { type: "string" },
      "tls-cert": { type: "string" },
      "tls-key": { type: "string" },
      fixture: { type: "string" },
      help: { type: "boolean" }
    },
    strict: true
  })
  if (values.help) {
    process.stdout.write(usage)
    return
  }
  const port = values.port === undefined ? 8834 : Number(values.port)
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port must be an integer 0..65535 (got ${values.port})`)
  if ((values["tls-cert"] === undefined) !== (values["tls-key"] === undefined)) {
    throw new Error("--tls-cert and --tls-key must be given together")
  }
  const tls = values["tls-cert"] !== undefined
    ? { cert: readFileSync(values["tls-cert"], "utf8"), key: readFileSync(values["tls-key"]!, "utf8") }
    : undefined
  const file: SimulatorConfig.SimulatorConfig = values.config !== undefined ? SimulatorConfig.loadFile(values.config) : {}
  const scanners = (file.scanners && file.scanners.length > 0 ? file.scanners : [{}]).map((s, i) => ({
    ...s,
    port: s.port ?? port + i,
    ...(s.tls === undefined && tls !== undefined ? { tls } : {})
  }))
  const sim = await Simulator.start({
    ...file,
    ...(values.host !== undefined ? { host: values.host } : {}),
    ...(values.fixture !== undefined ? { fixture: values.fixture } : {}),
    scanners
  })
  const stop = (signal: string) => {
    process.stderr.write(`nessus-simulator: ${signal}, shutting down\n`)
    sim.close().then(() => process.exit(0), () => process.exit(1))
  }
  // Handlers go in before the URLs are printed: whoever reads the URLs may signal us right away.
  process.once("SIGINT", () => stop("SIGINT"))
  process.once("SIGTERM", () => stop("SIGTERM"))
  for (const s of sim.scanners) {
    process.stdout.write(`nessus-simulator ${s.id} listening on ${s.url} (scan_api: ${s.scanApi})\n`)
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`nessus-simulator: ${isSimulatorError(e) || e instanceof Error ? e.message : String(e)}\n`)
  process.exit(2)
})
