/**
 * The `nessus-mcp-worker` program: reads the configuration (`WorkerConfig`), installs the JSON logger on
 * stdout and, when `OTEL_EXPORTER_OTLP_ENDPOINT` is set, the OpenTelemetry span exporter, and runs, until SIGTERM or SIGINT, the worker, its housekeeping loop and the `/metrics` +
 * `/health` server. SIGHUP, and reload requests through the queue (`nessus-admin config reload`), reload the
 * scanners file (a bad file is refused with a logged error naming file, line and key; the previous
 * configuration stays). On SIGTERM or SIGINT it stops claiming, hands its leases back and exits 0 within
 * `WORKER_SHUTDOWN_TIMEOUT` (after which it exits 1 regardless); running Nessus scans are left running for
 * whoever claims their tasks next.
 *
 * With `WORKER_INSTANCES`, new scans start only on those scanners (the scheduler's claim applies the instance
 * filter atomically, and housekeeping cleans only them); a crashed worker's task on another scanner can
 * still be taken over, since its scan must be finished promptly, and the clients use the full file for that.
 */
import { Credentials, Redis, ScannerConfig, Scheduler } from "@nessus-mcp/scheduler"
import { Cause, Duration, Effect, Exit, Layer, Option, Redacted } from "effect"
import * as Health from "./Health.js"
import * as Logging from "./Logging.js"
import * as ScannerClients from "./ScannerClients.js"
import * as StatusServer from "./StatusServer.js"
import * as Tracing from "./Tracing.js"
import * as Worker from "./Worker.js"
import * as WorkerConfig from "./WorkerConfig.js"
import * as WorkerError from "./WorkerError.js"
import * as WorkerMetrics from "./WorkerMetrics.js"

/**
 * A scanner configuration restricted to some instances (pools keep their names, possibly with no
 * scanners left).
 *
 * @category constructors
 */
export const restrictInstances = (config: ScannerConfig.Config, instances: ReadonlyArray<string>): ScannerConfig.Config => ({
  ...config,
  pools: config.pools.map((p) => ({ ...p, scanners: p.scanners.filter((s) => instances.includes(s.instanceId)) }))
})

const configError = (e: { readonly message: string }) => WorkerError.make("config_invalid", e.message, e)

const checkNames = (config: ScannerConfig.Config, settings: WorkerConfig.Shape) =>
  Effect.gen(function*() {
    const pools = config.pools.map((p) => p.name)
    const unknownPools = Option.getOrElse(settings.pools, () => []).filter((p) => !pools.includes(p))
    if (unknownPools.length > 0) {
      return yield* Effect.fail(
        WorkerError.make("config_invalid", `WORKER_POOLS names unknown pool(s) ${unknownPools.join(", ")}; pools in ${config.file}: ${pools.join(", ")}.`)
      )
    }
    const ids = config.pools.flatMap((p) => p.scanners.map((s) => s.instanceId))
    const unknownIds = Option.getOrElse(settings.instances, () => []).filter((i) => !ids.includes(i))
    if (unknownIds.length > 0) {
      return yield* Effect.fail(
        WorkerError.make("config_invalid", `WORKER_INSTANCES names unknown scanner(s) ${unknownIds.join(", ")}; scanners in ${config.file}: ${ids.join(", ")}.`)
      )
    }
  })

/**
 * The whole worker process as one layer, from its configuration.
 *
 * @category layers
 */
export const layer = (settings: WorkerConfig.Shape): Layer.Layer<Worker.Worker, WorkerError.WorkerError> => {
  const fullConfig = Layer.effect(
    ScannerConfig.ScannerConfig,
    ScannerConfig.make(ScannerConfig.load(settings.scannerConfig)).pipe(Effect.mapError(configError))
  )
  // Only housekeeping sees the restricted file (it cleans this worker's scanners); claims filter by instance.
  // A view of the one reloadable service, so a reload updates it too.
  const housekeepingConfig = Option.match(settings.instances, {
    onNone: () => fullConfig,
    onSome: (ids) => ScannerConfig.layerMap((c) => restrictInstances(c, ids)).pipe(Layer.provide(fullConfig))
  })
  const credentials = Layer.effect(
    Credentials.Credentials,
    Credentials.make({ key: settings.credentialsKey }).pipe(Effect.mapError(configError))
  )
  // The circuit policy is applied by whoever claims and reports outcomes, i.e. the workers.
  const schedulerOptions = { leaseDuration: settings.leaseDuration, prefix: settings.redisKeyPrefix, circuit: settings.circuit }
  const redis = Option.map(settings.redisUrl, (url) =>
    Layer.catch(Redis.layer({ url }), (e) =>
      Layer.effect(Redis.Redis, Effect.fail(WorkerError.make("backend_unavailable", e.message, e)))))
  const schedulerOn = (config: Layer.Layer<ScannerConfig.ScannerConfig, WorkerError.WorkerError>) =>
    Option.match(redis, {
      onNone: () => Scheduler.layerMemory(schedulerOptions),
      onSome: (r) => Scheduler.layerRedis(schedulerOptions).pipe(Layer.provide(r))
    }).pipe(Layer.provide(credentials), Layer.provide(config))
  const scheduler = schedulerOn(fullConfig)
  const metrics = WorkerMetrics.layer({ processMetrics: true, sharedState: true }).pipe(Layer.provide(scheduler))
  const clients = ScannerClients.layer().pipe(Layer.provide(Layer.merge(fullConfig, metrics)))
  const workerOptions: Worker.Options = {
    dataDir: settings.dataDir,
    ...(Option.isSome(settings.pools) ? { pools: settings.pools.value } : {}),
    ...(Option.isSome(settings.instances) ? { instances: settings.instances.value } : {}),
    concurrency: settings.concurrency,
    ...(Option.isSome(settings.workerId) ? { workerId: settings.workerId.value } : {}),
    poll: { initial: settings.pollInitial, max: settings.pollMax, factor: settings.pollFactor },
    heartbeatInterval: settings.heartbeatInterval,
    idleInterval: settings.idleInterval,
    retry: settings.retry
  }
  const housekeeping = Option.match(settings.housekeepingInterval, {
    onNone: () => Layer.empty,
    onSome: (interval) =>
      Worker.layerHousekeeping({ dataDir: settings.dataDir, interval, scanRetention: settings.scanRetention }).pipe(Layer.provide(housekeepingConfig))
  })
  const readinessWith = <R>(redisCheck: Effect.Effect<ReadonlyArray<Health.Check>, never, R>) =>
    Layer.unwrap(Effect.gen(function*() {
      const checks: Array<Health.Check> = [
        ...(yield* redisCheck),
        yield* Health.config,
        Health.dataDirWritable(settings.dataDir),
        yield* Health.scannerReachable(Option.getOrUndefined(settings.instances))
      ]
      return StatusServer.layer({ host: settings.metricsHost, port: settings.metricsPort, readiness: checks })
    }))
  const readiness = Option.match(redis, {
    onNone: () => readinessWith(Effect.succeed([])),
    onSome: (r) => readinessWith(Effect.map(Health.redis, (check) => [check])).pipe(Layer.provide(r))
  })
  const startup = Layer.effectDiscard(Effect.gen(function*() {
    const config = yield* (yield* ScannerConfig.ScannerConfig).current
    yield* checkNames(config, settings)
    if (Option.isSome(settings.redisUrl)) {
      yield* Effect.logInfo(`queue backend: Redis ${redactedUrl(settings.redisUrl.value)} (key prefix ${settings.redisKeyPrefix})`)
    } else {
      yield* Effect.logWarning(
        "REDIS_URL is not set: in-memory backend. This worker only sees tasks submitted in its own process; set REDIS_URL to share the queue with the MCP server and other workers."
      )
    }
  })).pipe(Layer.provide(fullConfig))
  // SIGHUP and reload requests (`nessus-admin config reload`, through the queue) re-read the file into the
  // one ScannerConfig service the scheduler, the clients and housekeeping share; a bad file is refused and
  // logged (file, line, key) and the previous configuration stays in force.
  const reloading = Layer.mergeAll(
    Layer.effectDiscard(Scheduler.reloadOnRequest.pipe(Effect.mapError((e) => WorkerError.make("backend_unavailable", e.message, e)))),
    ScannerConfig.layerReloadOnSighup
  ).pipe(Layer.provide(Layer.merge(scheduler, fullConfig)))
  return Layer.mergeAll(Worker.layer(workerOptions), housekeeping, readiness, reloading).pipe(
    Layer.provide(Layer.mergeAll(clients, metrics, scheduler, fullConfig)),
    Layer.provide(startup),
    // Outermost, so every fiber the worker forks traces into it; closing it flushes the last spans.
    Layer.provide(Tracing.layer(settings.otlp))
  )
}

const writeFatal = (sink: Logging.Sink, message: string) =>
  sink(JSON.stringify({ level: "fatal", time: new Date().toISOString(), message, service: "worker" }))

/**
 * Entry point: reads `env`, runs {@link layer} until SIGTERM/SIGINT, and exits 0 after a graceful
 * shutdown, 1 on a runtime failure or an overrun of the shutdown bound, 2 on a configuration error.
 *
 * @category running
 */
export const main = (env: Record<string, string | undefined> = process.env, sink: Logging.Sink = Logging.stdout): void => {
  const settings = Effect.runSyncExit(WorkerConfig.load(env))
  if (Exit.isFailure(settings)) {
    const e = Cause.findErrorOption(settings.cause)
    writeFatal(sink, `invalid configuration: ${Option.isSome(e) ? e.value.message : Cause.pretty(settings.cause)}`)
    process.exitCode = 2
    return
  }
  const config = settings.value
  const program = Layer.launch(layer(config)).pipe(
    Effect.provide(Logging.layer({ level: config.logLevel, sink }))
  )
  const fiber = Effect.runFork(program)
  let signalled = false
  const onSignal = (signal: NodeJS.Signals) => {
    if (signalled) return
    signalled = true
    sink(JSON.stringify({ level: "info", time: new Date().toISOString(), message: `${signal} received: stopping claims and handing leases back`, service: "worker" }))
    const timer = setTimeout(() => {
      writeFatal(sink, `graceful shutdown exceeded WORKER_SHUTDOWN_TIMEOUT (${Duration.format(config.shutdownTimeout)}); exiting`)
      process.exit(1)
    }, Duration.toMillis(config.shutdownTimeout))
    timer.unref()
    fiber.interruptUnsafe(fiber.id)
  }
  process.on("SIGTERM", onSignal)
  process.on("SIGINT", onSignal)
  fiber.addObserver((exit) => {
    process.off("SIGTERM", onSignal)
    process.off("SIGINT", onSignal)
    if (Exit.isSuccess(exit) || (signalled && Cause.hasInterruptsOnly(exit.cause))) {
      process.exit(0)
    }
    const error = Cause.findErrorOption(exit.cause)
    writeFatal(sink, Option.isSome(error) ? error.value.message : Cause.pretty(exit.cause))
    process.exit(Option.isSome(error) && error.value.reason === "config_invalid" ? 2 : 1)
  })
}

/**
 * The Redis URL without its password, for log lines.
 *
 * @category accessors
 */
export const redactedUrl = (url: Redacted.Redacted<string>): string => {
  try {
    const u = new URL(Redacted.value(url))
    if (u.password !== "") u.password = "***"
    return u.toString()
  } catch {
    return "(invalid URL)"
  }
}
