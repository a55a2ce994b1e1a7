/**
 * The server's whole configuration, read in this one module: command-line flags first, then the environment.
 *
 * | flag | variable | default |
 * | --- | --- | --- |
 * | `--transport stdio\|http` | `MCP_TRANSPORT` | `stdio` |
 * | `--host H` | `MCP_HOST` | `127.0.0.1` |
 * | `--port P` | `MCP_PORT` | `8000` |
 * | | `MCP_BEARER_TOKENS` (`name:token,name:token`) | none |
 * | | `MCP_ALLOWED_HOSTS` (extra Host/Origin hostnames, comma separated) | none |
 * | | `MCP_MAX_BODY_BYTES` | `1048576` |
 * | | `REDIS_URL` | unset: in-memory backend |
 * | | `REDIS_KEY_PREFIX` | `{nessus-mcp}:` (the scheduler's key namespace; the same in every app) |
 * | | `SCANNER_CONFIG` | `config/scanners.yaml` found from the working directory upwards |
 * | | `DATA_DIR` | `./data` |
 * | | `CREDENTIALS_KEY` | unset: inline credentials refused |
 * | | `LOG_LEVEL` | `info` |
 * | | `OTEL_EXPORTER_OTLP_ENDPOINT` (+ `_PROTOCOL`, `_HEADERS`, `OTEL_SERVICE_NAME`) | unset: no span export |
 *
 * Secrets (bearer tokens, the credentials key, the Redis URL, which may embed a password) stay `Redacted`.
 */
import { Tracing, WorkerConfig } from "@nessus-mcp/worker"
import { Config, ConfigProvider, Context, Effect, Layer, Option, Redacted } from "effect"
import * as path from "node:path"
import type * as LogLevel from "effect/LogLevel"

/**
 * A named bearer token; the name is what logs show.
 *
 * @category models
 */
export interface BearerToken {
  readonly name: string
  readonly token: Redacted.Redacted<string>
}

/**
 * The decoded configuration.
 *
 * @category models
 */
export interface Shape {
  readonly transport: "stdio" | "http"
  readonly host: string
  readonly port: number
  readonly bearerTokens: ReadonlyArray<BearerToken>
  readonly allowedHosts: ReadonlyArray<string>
  readonly maxBodyBytes: number
  readonly redisUrl: Option.Option<Redacted.Redacted<string>>
  /** Namespace of every scheduler key in Redis; workers must use the same one. */
  readonly redisKeyPrefix: string
  /** Absolute path of scanners.yaml: `SCANNER_CONFIG`, else `config/scanners.yaml` in the working directory or an ancestor. */
  readonly scannerConfig: Option.Option<string>
  readonly dataDir: string
  readonly credentialsKey: Option.Option<Redacted.Redacted<string>>
  readonly logLevel: LogLevel.LogLevel
  /** Span export (OpenTelemetry), when `OTEL_EXPORTER_OTLP_ENDPOINT` is set. */
  readonly otlp: Option.Option<Tracing.Options>
}

/**
 * The configuration service.
 *
 * @category services
 */
export class ServerConfig extends Context.Service<ServerConfig, Shape>()("@nessus-mcp/mcp-server/ServerConfig") {}

/**
 * Usage text for `--help`.
 *
 * @category constants
 */
export const usage = `Usage: nessus-mcp [--transport stdio|http] [--host HOST] [--port PORT]

Serves the Nessus MCP tools over stdio (default; for MCP clients that launch the server) or Streamable HTTP
on http://HOST:PORT/mcp (with /health/live, /health/ready and /metrics beside it).

Environment: MCP_TRANSPORT, MCP_HOST (127.0.0.1), MCP_PORT (8000), MCP_BEARER_TOKENS (name:token,...),
MCP_ALLOWED_HOSTS, MCP_MAX_BODY_BYTES, REDIS_URL (unset: in-memory queue, this process only),
REDIS_KEY_PREFIX, SCANNER_CONFIG (default: config/scanners.yaml found from the working directory up),
DATA_DIR (./data), CREDENTIALS_KEY, LOG_LEVEL, OTEL_EXPORTER_OTLP_ENDPOINT (span export, optional).
Logs are JSON lines on stdout over HTTP, on stderr over stdio (stdout carries the protocol there).
`

const flagToVariable: Readonly<Record<string, string>> = {
  transport: "MCP_TRANSPORT",
  host: "MCP_HOST",
  port: "MCP_PORT"
}

/**
 * Turns `--transport http --port=9000` into `{ MCP_TRANSPORT: "http", MCP_PORT: "9000" }`, `"help"` for
 * `--help`/`-h`, or an error sentence naming the bad flag.
 *
 * @category parsing
 */
export const parseArgs = (argv: ReadonlyArray<string>): Record<string, string> | "help" | { readonly error: string } => {
  const out: Record<string, string> = {}
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!
    if (arg === "--help" || arg === "-h") return "help"
    const match = /^--([a-z-]+)(?:=(.*))?$/.exec(arg)
    const variable = match ? flagToVariable[match[1]!] : undefined
    if (!match || !variable) {
      return { error: `unknown argument "${arg}" (expected --transport, --host or --port; see --help)` }
    }
    const value = match[2] ?? argv[++i]
    if (value === undefined || value.startsWith("--")) return { error: `--${match[1]} needs a value` }
    out[variable] = value
  }
  return out
}

const namePattern = /^[A-Za-z0-9_.-]{1,64}$/

/**
 * Parses `MCP_BEARER_TOKENS` (`name:token,name:token`). Tokens must be at least 16 characters; names and
 * tokens must be unique. Error messages name the entry by position and name, never by token.
 *
 * @category parsing
 */
export const parseBearerTokens = (text: string): ReadonlyArray<BearerToken> | { readonly error: string } => {
  const entries = text.split(",").map((entry) => entry.trim()).filter((entry) => entry.length > 0)
  const tokens: Array<BearerToken> = []
  const seen = new Set<string>()
  for (const [index, entry] of entries.entries()) {
    const colon = entry.indexOf(":")
    const name = colon > 0 ? entry.slice(0, colon) : ""
    const token = colon > 0 ? entry.slice(colon + 1) : ""
    const where = `MCP_BEARER_TOKENS entry ${index + 1}`
    if (!namePattern.test(name)) return { error: `${where} must look like name:token with a name of letters, digits, "_", "." or "-"` }
    if (token.length < 16 || /\s/.test(token)) return { error: `${where} ("${name}") needs a token of at least 16 non-space characters` }
    if (tokens.some((t) => t.name === name)) return { error: `${where}: the name "${name}" is used twice` }
    if (seen.has(token)) return { error: `${where} ("${name}") reuses another entry's token` }
    seen.add(token)
    tokens.push({ name, token: Redacted.make(token, { label: `bearer token ${name}` }) })
  }
  return tokens
}

/**
 * The first `relative` path that exists in the working directory or one of its ancestors (so that
 * `config/scanners.yaml` is found when the server runs anywhere inside the repository).
 *
 * @category parsing
 */
export const findUpwards = (relative: string, from: string = process.cwd()): Option.Option<string> => WorkerConfig.findUpwards(relative, from)

const listOf = (text: string): ReadonlyArray<string> =>
  text.split(",").map((s) => s.trim().toLowerCase()).filter((s) => s.length > 0)

const failWith = (message: string) => Config.fail(new ConfigProvider.SourceError({ message }))

/**
 * The configuration as an Effect `Config` over the current provider (flags and environment, see {@link layer}).
 *
 * @category config
 */
export const config: Config.Config<Shape> = Config.all({
  transport: Config.Literals(["stdio", "http"], "MCP_TRANSPORT").pipe(Config.withDefault("stdio" as const)),
  host: Config.String("MCP_HOST").pipe(Config.withDefault("127.0.0.1")),
  port: Config.Port("MCP_PORT").pipe(Config.withDefault(8000)),
  bearerTokens: Config.String("MCP_BEARER_TOKENS").pipe(
    Config.withDefault(""),
    Config.flatMap((text) => {
      const parsed = parseBearerTokens(text)
      return "error" in parsed ? failWith(parsed.error) : Config.succeed(parsed)
    })
  ),
  allowedHosts: Config.String("MCP_ALLOWED_HOSTS").pipe(Config.withDefault(""), Config.map(listOf)),
  maxBodyBytes: Config.Int("MCP_MAX_BODY_BYTES").pipe(
    Config.withDefault(1024 * 1024),
    Config.flatMap((n) => (n >= 1024 && n <= 64 * 1024 * 1024 ? Config.succeed(n) : failWith("MCP_MAX_BODY_BYTES must be between 1024 and 67108864")))
  ),
  redisUrl: Config.option(Config.Redacted("REDIS_URL")),
  redisKeyPrefix: WorkerConfig.redisKeyPrefix,
  scannerConfig: Config.option(Config.String("SCANNER_CONFIG")).pipe(
    Config.map((given) => Option.isSome(given) ? Option.some(path.resolve(given.value)) : findUpwards(path.join("config", "scanners.yaml")))
  ),
  dataDir: Config.String("DATA_DIR").pipe(Config.withDefault("data"), Config.map((dir) => path.resolve(dir))),
  credentialsKey: Config.option(Config.Redacted("CREDENTIALS_KEY")),
  logLevel: WorkerConfig.logLevel,
  otlp: Tracing.config("nessus-mcp")
})

/**
 * A provider that reads flags first (already mapped to variable names by {@link parseArgs}), then `env`.
 *
 * @category config
 */
export const provider = (flags: Record<string, string>, env: Record<string, string | undefined>): ConfigProvider.ConfigProvider =>
  ConfigProvider.orElse(ConfigProvider.fromUnknown(flags), ConfigProvider.fromEnvRecord(env))

/**
 * Reads {@link config} from flags and an environment record.
 *
 * @category constructors
 */
export const load = (flags: Record<string, string>, env: Record<string, string | undefined>) =>
  config.parse(provider(flags, env))

/**
 * The configuration from flags and an environment record.
 *
 * @category layers
 */
export const layer = (flags: Record<string, string>, env: Record<string, string | undefined>) =>
  Layer.effect(ServerConfig, Effect.map(load(flags, env), ServerConfig.of))
