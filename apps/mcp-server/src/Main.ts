/**
 * The `nessus-mcp` program: parses flags and environment (`ServerConfig`), installs the JSON logger (stdout over
 * HTTP, stderr over stdio) and, when `OTEL_EXPORTER_OTLP_ENDPOINT` is set, the OpenTelemetry span exporter, and serves
 * the tools over stdio or Streamable HTTP until stdin ends or SIGINT/SIGTERM arrives. `run` takes the
 * `ScanService` layer so the scheduler-backed implementation (or `pnpm start`'s in-process composition) plugs in
 * without touching the transports.
 */
import { NodeRuntime } from "@effect/platform-node"
import { Tracing } from "@nessus-mcp/worker"
import { Cause, Effect, Exit, Layer, Option } from "effect"
import { mkdir } from "node:fs/promises"
import * as Health from "./Health.js"
import * as HttpServer from "./HttpServer.js"
import * as Logging from "./Logging.js"
import * as Metrics from "./Metrics.js"
import type { ScanService } from "./ScanService.js"
import * as ServerConfig from "./ServerConfig.js"
import * as Stdio from "./Stdio.js"

/**
 * What {@link program} needs besides the configuration.
 *
 * @category models
 */
export interface Options<E = never> {
  /** The tools' backend (it may also start companions, e.g. an in-process worker that reports into `Metrics`). */
  readonly scanService: Layer.Layer<ScanService, E, ServerConfig.ServerConfig | Metrics.Metrics>
  /** Extra readiness checks (e.g. scanner reachability) on top of the server's and the backend's. */
  readonly readiness?: ReadonlyArray<Health.Check> | undefined
  /** Log sink; by default stdout over HTTP, stderr over stdio (where stdout is the protocol). */
  readonly logSink?: Logging.Sink | undefined
  /** Runs once the transport serves (HTTP: listening, with its address; stdio: connected). */
  readonly onServing?: ((serving: { readonly transport: "stdio" } | ({ readonly transport: "http" } & HttpServer.Running)) => Effect.Effect<void>) | undefined
}

/**
 * The server's own readiness checks: config loaded, data directory writable. The backend adds its checks
 * (`Health.Readiness`: the scanners file, Redis with `noeviction`).
 *
 * @category constructors
 */
export const defaultReadiness = (config: ServerConfig.Shape): ReadonlyArray<Health.Check> => [
  Health.configLoaded,
  Health.dataDirWritable(config.dataDir)
]

/** Checks by name, a later one replacing an earlier one of the same name (the backend's `config` is finer). */
const byName = (checks: ReadonlyArray<Health.Check>): ReadonlyArray<Health.Check> => [...new Map(checks.map((c) => [c.name, c])).values()]

/**
 * Serves according to `config` until stopped.
 *
 * @category constructors
 */
export const program = <E>(config: ServerConfig.Shape, options: Options<E>) =>
  Effect.gen(function*() {
    yield* Effect.promise(() => mkdir(config.dataDir, { recursive: true }).catch(() => undefined))
    if (config.transport === "stdio") {
      if (options.onServing) yield* options.onServing({ transport: "stdio" })
      yield* Stdio.serveUntilEnd()
      return
    }
    const backendChecks = Option.getOrElse(yield* Effect.serviceOption(Health.Readiness), () => [])
    yield* Effect.scoped(
      Effect.gen(function*() {
        const running = yield* HttpServer.serve({
          host: config.host,
          port: config.port,
          bearerTokens: config.bearerTokens,
          allowedHosts: config.allowedHosts,
          maxBodyBytes: config.maxBodyBytes,
          readiness: byName([...defaultReadiness(config), ...backendChecks, ...(options.readiness ?? [])])
        })
        if (options.onServing) yield* options.onServing({ transport: "http", ...running })
        return yield* Effect.never
      })
    )
  }).pipe(
    Effect.provide(
      options.scanService.pipe(
        Layer.provideMerge(Metrics.layer),
        Layer.provide(Layer.succeed(ServerConfig.ServerConfig, config))
      )
    ),
    // Outermost: the backend's fibers (an in-process worker) trace and log through these too.
    Effect.provide(Tracing.layer(config.otlp)),
    Effect.provide(Logging.layer({ service: "nessus-mcp", level: config.logLevel, sink: options.logSink ?? Logging.sinkFor(config.transport) }))
  )

/**
 * Runs a program built from the configuration under the Node runtime (SIGINT/SIGTERM interrupt it): parses
 * `argv` (`--help` prints `usage`), reads the configuration from flags and `env`, and turns any startup failure
 * (bad configuration, a refused public bind, a port in use) into one JSON `fatal` line and exit code 2.
 *
 * @category running
 */
export const runMain = <E>(
  argv: ReadonlyArray<string>,
  env: Record<string, string | undefined>,
  options: {
    readonly name: string
    readonly usage: string
    readonly logSink?: Logging.Sink | undefined
    readonly run: (config: ServerConfig.Shape) => Effect.Effect<void, E>
  }
): void => {
  const flags = ServerConfig.parseArgs(argv)
  if (flags === "help") {
    process.stderr.write(options.usage)
    return
  }
  if ("error" in flags) {
    process.stderr.write(`${options.name}: ${flags.error}\n`)
    process.exitCode = 2
    return
  }
  // Before the configuration is decoded the transport comes from the raw flag or variable.
  const sink = options.logSink ?? Logging.sinkFor((flags["MCP_TRANSPORT"] ?? env["MCP_TRANSPORT"]) === "http" ? "http" : "stdio")
  const startup = ServerConfig.load(flags, env).pipe(
    Effect.mapError((error) => new Error(`invalid configuration: ${error.message}`)),
    Effect.flatMap(options.run),
    Effect.catch((error: unknown) =>
      Effect.sync(() => {
        // Startup failures are the operator's to fix; the message names the variable, never a secret.
        const message = typeof error === "object" && error !== null && "message" in error ? String(error.message) : String(error)
        sink(JSON.stringify({ level: "fatal", time: new Date().toISOString(), message, service: options.name }))
        process.exitCode = 2
      }))
  )
  // A stop by SIGINT/SIGTERM is the normal end of a server: exit 0 once the transports and the worker closed.
  NodeRuntime.runMain(startup, {
    teardown: (exit, onExit) => onExit(Exit.isSuccess(exit) || Cause.hasInterruptsOnly(exit.cause) ? 0 : 1)
  })
}

/**
 * Entry point of `nessus-mcp`: {@link runMain} with {@link program}.
 *
 * @category running
 */
export const main = <E>(argv: ReadonlyArray<string>, env: Record<string, string | undefined>, options: Options<E>): void =>
  runMain(argv, env, { name: "nessus-mcp", usage: ServerConfig.usage, logSink: options.logSink, run: (config) => program(config, options) })
