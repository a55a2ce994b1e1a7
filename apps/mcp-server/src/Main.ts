/**
 * The `nessus-mcp` program: parses flags and environment (`ServerConfig`), installs the JSON logger, and serves
 * the tools over stdio or Streamable HTTP until stdin ends or SIGINT/SIGTERM arrives. `run` takes the
 * `ScanService` layer so the scheduler-backed implementation (or `pnpm start`'s in-process composition) plugs in
 * without touching the transports.
 */
import { NodeRuntime } from "@effect/platform-node"
import { Effect, Layer, Option, Redacted } from "effect"
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
  /** The tools' backend. */
  readonly scanService: Layer.Layer<ScanService, E, ServerConfig.ServerConfig>
  /** Extra readiness checks (e.g. scanner reachability) on top of config, data dir and Redis. */
  readonly readiness?: ReadonlyArray<Health.Check> | undefined
  /** Log sink; stderr by default. */
  readonly logSink?: Logging.Sink | undefined
}

/**
 * The readiness checks implied by the configuration: config loaded, data directory writable, Redis reachable
 * when `REDIS_URL` is set.
 *
 * @category constructors
 */
export const defaultReadiness = (config: ServerConfig.Shape): ReadonlyArray<Health.Check> => [
  Health.configLoaded,
  Health.dataDirWritable(config.dataDir),
  ...Option.match(config.redisUrl, {
    onNone: () => [],
    onSome: (url) => {
      try {
        return [Health.redisReachable(new URL(Redacted.value(url)))]
      } catch {
        return [{ name: "redis", run: Effect.fail("REDIS_URL is not a valid URL") } satisfies Health.Check]
      }
    }
  })
]

/**
 * Serves according to `config` until stopped.
 *
 * @category constructors
 */
export const program = <E>(config: ServerConfig.Shape, options: Options<E>) =>
  Effect.gen(function*() {
    yield* Effect.promise(() => mkdir(config.dataDir, { recursive: true }).catch(() => undefined))
    if (config.transport === "stdio") {
      yield* Stdio.serveUntilEnd()
      return
    }
    yield* Effect.scoped(
      Effect.gen(function*() {
        yield* HttpServer.serve({
          host: config.host,
          port: config.port,
          bearerTokens: config.bearerTokens,
          allowedHosts: config.allowedHosts,
          maxBodyBytes: config.maxBodyBytes,
          readiness: [...defaultReadiness(config), ...(options.readiness ?? [])]
        })
        return yield* Effect.never
      })
    )
  }).pipe(
    Effect.provide(
      Layer.mergeAll(options.scanService, Metrics.layer).pipe(
        Layer.provide(Layer.succeed(ServerConfig.ServerConfig, config))
      )
    ),
    Effect.provide(Logging.layer({ service: "nessus-mcp", level: config.logLevel, sink: options.logSink }))
  )

/**
 * Entry point: reads `argv`/`env`, prints usage or a configuration error (exit code 2), otherwise runs
 * {@link program} under the Node runtime (SIGINT/SIGTERM interrupt it and close the transports).
 *
 * @category running
 */
export const main = <E>(argv: ReadonlyArray<string>, env: Record<string, string | undefined>, options: Options<E>): void => {
  const flags = ServerConfig.parseArgs(argv)
  if (flags === "help") {
    process.stderr.write(ServerConfig.usage)
    return
  }
  if ("error" in flags) {
    process.stderr.write(`nessus-mcp: ${flags.error}\n`)
    process.exitCode = 2
    return
  }
  const sink = options.logSink ?? Logging.stderr
  const startup = ServerConfig.load(flags, env).pipe(
    Effect.mapError((error) => new Error(`invalid configuration: ${error.message}`)),
    Effect.flatMap((config) => program(config, options)),
    Effect.catch((error: unknown) =>
      Effect.sync(() => {
        // Startup failures (bad config, refusing an unauthenticated public bind, port in use) are the operator's to fix.
        const message = typeof error === "object" && error !== null && "message" in error ? String(error.message) : String(error)
        sink(JSON.stringify({ level: "fatal", time: new Date().toISOString(), message, service: "nessus-mcp" }))
        process.exitCode = 2
      }))
  )
  NodeRuntime.runMain(startup)
}
