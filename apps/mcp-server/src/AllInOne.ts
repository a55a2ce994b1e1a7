/**
 * `nessus-mcp-all-in-one` (`pnpm start`): the whole product in one process for a first run. It starts a Nessus
 * simulator for every loopback scanner of `scanners.yaml` (the repository's has two, on 8834 and 8835), a
 * worker, and the MCP server on HTTP (127.0.0.1:8000 by default) with a freshly generated bearer token, then
 * prints the MCP URL, the token and lines to paste into an MCP client. The queue is in memory unless
 * `REDIS_URL` is set. `--transport stdio` serves an MCP client that launches it instead (nothing is printed on
 * stdout but the protocol).
 *
 * The production executable `nessus-mcp` never imports this module, so it never carries the simulator.
 */
import { Credentials, ScannerConfig } from "@nessus-mcp/scheduler"
import { Simulator, type SimulatorConfig } from "@nessus-mcp/nessus-simulator"
import { Effect, Option, Redacted } from "effect"
import { randomBytes } from "node:crypto"
import * as Backend from "./Backend.js"
import * as HttpServer from "./HttpServer.js"
import * as Logging from "./Logging.js"
import * as Main from "./Main.js"
import * as ServerConfig from "./ServerConfig.js"

/**
 * Usage text for `--help`.
 *
 * @category constants
 */
export const usage = `Usage: nessus-mcp-all-in-one [--transport http|stdio] [--host HOST] [--port PORT]

Runs Nessus MCP in one process: a Nessus simulator for each loopback scanner of scanners.yaml, a worker, and
the MCP server (HTTP on 127.0.0.1:8000 by default), then prints the MCP URL, a fresh bearer token and a line
to paste into an MCP client. Ctrl-C stops everything.

Environment: as nessus-mcp (REDIS_URL unset = in-memory queue; MCP_BEARER_TOKENS to keep a fixed token;
CREDENTIALS_KEY, generated when the queue is in memory), plus SIMULATOR_SCAN_DURATION_MS (default 20000).
`

/**
 * The bearer token a fresh start uses: 32 random bytes, hex.
 *
 * @category constructors
 */
export const generateToken = (): string => randomBytes(32).toString("hex")

/**
 * The environment the all-in-one runs with: HTTP unless told otherwise, a generated `local` bearer token
 * unless `MCP_BEARER_TOKENS` is set (HTTP only), and a generated `CREDENTIALS_KEY` for the in-memory queue
 * (a Redis queue keeps whatever key its workers share). Returns the generated token too.
 *
 * @category constructors
 */
export const prepareEnv = (
  env: Record<string, string | undefined>,
  flags: Record<string, string>
): { readonly env: Record<string, string | undefined>; readonly token: string | undefined } => {
  const out: Record<string, string | undefined> = { ...env }
  if (out["MCP_TRANSPORT"] === undefined) out["MCP_TRANSPORT"] = "http"
  const transport = flags["MCP_TRANSPORT"] ?? out["MCP_TRANSPORT"]
  let token: string | undefined
  if (transport === "http" && (out["MCP_BEARER_TOKENS"] ?? "") === "") {
    token = generateToken()
    out["MCP_BEARER_TOKENS"] = `local:${token}`
  }
  if ((out["REDIS_URL"] ?? "") === "" && (out["CREDENTIALS_KEY"] ?? "") === "") out["CREDENTIALS_KEY"] = Credentials.generateKey()
  return { env: out, token }
}

const loopbackPort = (url: string): number | undefined => {
  try {
    const u = new URL(url)
    if (u.protocol !== "http:" || !HttpServer.isLoopback(u.hostname)) return undefined
    return u.port === "" ? 80 : Number(u.port)
  } catch {
    return undefined
  }
}

/**
 * The simulator configuration for the loopback scanners of a scanners file: one simulated scanner per
 * `http://127.0.0.1:PORT` scanner, accepting the credentials the file gives it.
 *
 * @category constructors
 */
export const simulatorConfig = (config: ScannerConfig.Config, scanDurationMs: number): SimulatorConfig.SimulatorConfig => ({
  host: "127.0.0.1",
  scanners: config.pools.flatMap((pool) =>
    pool.scanners.flatMap((scanner) => {
      const port = loopbackPort(scanner.url)
      if (port === undefined) return []
      const auth = scanner.auth._tag === "Password"
        ? { users: [{ username: scanner.auth.username, password: Redacted.value(scanner.auth.password) }] }
        : { apiKeys: [{ accessKey: Redacted.value(scanner.auth.accessKey), secretKey: Redacted.value(scanner.auth.secretKey) }] }
      return [{ id: scanner.instanceId, port, scanDurationMs, exportDelayMs: 200, ...auth }]
    })
  )
})

/**
 * What the all-in-one prints once the HTTP server listens: where it is, the token, and ready-to-paste client
 * configuration.
 *
 * @category rendering
 */
export const banner = (options: {
  readonly mcpUrl: string
  readonly token: string | undefined
  readonly redis: boolean
  readonly simulated: ReadonlyArray<{ readonly id: string; readonly url: string }>
  readonly scannerConfig: string
  readonly dataDir: string
}): string => {
  const { mcpUrl, token } = options
  const header = token === undefined ? "" : ` --header "Authorization: Bearer ${token}"`
  const headers = token === undefined ? {} : { headers: { Authorization: `Bearer ${token}` } }
  const json = JSON.stringify({ mcpServers: { nessus: { type: "http", url: mcpUrl, ...headers } } })
  const lines = [
    "",
    "Nessus MCP is running.",
    "",
    `  MCP URL        ${mcpUrl}`,
    `  Bearer token   ${token ?? "(from MCP_BEARER_TOKENS)"}`,
    `  Queue          ${options.redis ? "Redis (REDIS_URL)" : "in memory (this process only; set REDIS_URL to share it)"}`,
    `  Scanners       ${options.simulated.length === 0 ? "none simulated" : options.simulated.map((s) => `${s.id} ${s.url} (simulator)`).join(", ")}`,
    `  Config         ${options.scannerConfig}`,
    `  Data           ${options.dataDir}`,
    "",
    "Add it to Claude Code:",
    `  claude mcp add --transport http nessus ${mcpUrl}${header}`,
    "",
    "Or paste into an MCP client's JSON configuration (Cursor, VS Code, Claude Desktop via mcp-remote, ...):",
    `  ${json}`,
    "",
    "Check it with the MCP Inspector:",
    `  npx -y @modelcontextprotocol/inspector@2.12.0 --cli ${mcpUrl}${header} --method tools/call --tool-name list_pools`,
    "",
    "Then ask your agent e.g. \"run an untrusted scan of 192.0.2.10 and show me the high findings\", or an",
    "authenticated one with the stored credential \"linux-admin\". Ctrl-C stops everything.",
    ""
  ]
  return lines.join("\n")
}

/**
 * The all-in-one program for a configuration: simulator, worker, MCP server, until interrupted.
 *
 * @category constructors
 */
export const program = (config: ServerConfig.Shape, token: string | undefined, env: Record<string, string | undefined> = process.env) =>
  Effect.scoped(
    Effect.gen(function*() {
      if (Option.isNone(config.scannerConfig)) {
        return yield* Effect.fail(new Error("No scanners file: set SCANNER_CONFIG or run from the repository (config/scanners.yaml)."))
      }
      const file = config.scannerConfig.value
      const scanners = yield* ScannerConfig.load(file)
      const duration = Number(env["SIMULATOR_SCAN_DURATION_MS"] ?? "20000")
      if (!Number.isInteger(duration) || duration < 0 || duration > 86_400_000) {
        return yield* Effect.fail(new Error("SIMULATOR_SCAN_DURATION_MS must be an integer number of milliseconds (0 to 86400000)"))
      }
      const simConfig = simulatorConfig(scanners, duration)
      const simulator = (simConfig.scanners ?? []).length === 0
        ? undefined
        : yield* Simulator.make(simConfig).pipe(
          Effect.mapError((e) =>
            new Error(`${e.message.replace(/\.+$/, "")}. Is another nessus-mcp-all-in-one or a Nessus already using port(s) ${
              (simConfig.scanners ?? []).map((s) => s.port).join(", ")
            }? Stop it, or point the scanners elsewhere (NESSUS_URL_1, NESSUS_URL_2).`)
          )
        )
      const simulated = simulator?.scanners.map((s) => ({ id: s.id, url: s.url })) ?? []
      const write = (text: string) => Effect.sync(() => (config.transport === "http" ? process.stdout : process.stderr).write(text + "\n"))
      yield* Main.program(config, {
        // The banner is on stdout for the person who started it; JSON logs stay on stderr here.
        logSink: Logging.stderr,
        // The worker polls quickly: the simulator's scans take seconds, not hours.
        scanService: Backend.layer({
          worker: "always",
          workerOptions: { poll: { initial: "1 second", max: "5 seconds" }, idleInterval: "500 millis", heartbeatInterval: "5 seconds" }
        }),
        onServing: (serving) =>
          serving.transport === "http"
            ? write(banner({
              mcpUrl: serving.mcpUrl,
              token,
              redis: Option.isSome(config.redisUrl),
              simulated,
              scannerConfig: file,
              dataDir: config.dataDir
            }))
            : write(`nessus-mcp-all-in-one: serving MCP on stdio; simulated scanners: ${simulated.map((s) => `${s.id} ${s.url}`).join(", ") || "none"}`)
      })
    })
  )

/**
 * Entry point of `nessus-mcp-all-in-one`.
 *
 * @category running
 */
export const main = (argv: ReadonlyArray<string>, env: Record<string, string | undefined>): void => {
  const flags = ServerConfig.parseArgs(argv)
  const prepared = prepareEnv(env, typeof flags === "object" && !("error" in flags) ? flags : {})
  Main.runMain(argv, prepared.env, {
    name: "nessus-mcp-all-in-one",
    usage,
    logSink: Logging.stderr,
    run: (config) => program(config, prepared.token, prepared.env)
  })
}
