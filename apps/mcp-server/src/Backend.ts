/**
 * What runs behind the transports, built from `ServerConfig`: the scanners file, the credentials service
 * (inline credentials only with `CREDENTIALS_KEY`), the queue (on Redis when `REDIS_URL` is set, shared with
 * every worker under `REDIS_KEY_PREFIX`; in this process's memory otherwise), the scheduler-backed `ScanService`
 * and, when asked, a worker in this process.
 *
 * An in-memory queue is only visible to this process, so `nessus-mcp` without `REDIS_URL` runs its own worker
 * (mode `"auto"`); with Redis the workers are separate processes. `nessus-mcp-all-in-one` always runs one.
 *
 * The scanners file is reloaded on SIGHUP and on every reload request (`nessus-admin config reload`, i.e.
 * `Scheduler.requestReload` from any process on the same Redis and key prefix; in memory mode, only requests made
 * in this process). A bad file is refused with an error log naming file, line and key, and the previous
 * configuration stays in force; running-scan accounting lives in the store and is untouched.
 *
 * The backend also registers the shared-state gauges (scanners, queues, DLQ, read from the scheduler's store)
 * in the server's `Metrics` registry and contributes its readiness checks (`Health.Readiness`: the scanners
 * file, and Redis with `maxmemory-policy noeviction`).
 */
import { Credentials, Redis, ScannerConfig, Scheduler, SchedulerError } from "@nessus-mcp/scheduler"
import { Health as WorkerHealth, WorkerMetrics } from "@nessus-mcp/worker"
import { Effect, Layer, Option } from "effect"
import * as Health from "./Health.js"
import * as LocalWorker from "./LocalWorker.js"
import { Metrics } from "./Metrics.js"
import type { ScanService } from "./ScanService.js"
import * as SchedulerScanService from "./SchedulerScanService.js"
import { ServerConfig } from "./ServerConfig.js"

/**
 * The scheduler stack.
 *
 * @category models
 */
export type SchedulerServices = Scheduler.Scheduler | ScannerConfig.ScannerConfig | Credentials.Credentials

/**
 * The scanners file named by the configuration, or a `config_invalid` error saying how to name one.
 *
 * @category layers
 */
export const scannerConfigLayer: Layer.Layer<ScannerConfig.ScannerConfig, SchedulerError.SchedulerError, ServerConfig> = Layer.unwrap(
  Effect.gen(function*() {
    const config = yield* ServerConfig
    if (Option.isNone(config.scannerConfig)) {
      return yield* Effect.fail(SchedulerError.make(
        "config_invalid",
        "No scanner configuration: set SCANNER_CONFIG to the path of scanners.yaml (see config/scanners.example.yaml), " +
          "or run from a directory that has config/scanners.yaml."
      ))
    }
    return ScannerConfig.layer({ path: config.scannerConfig.value })
  })
)

/**
 * The scheduler stack: Redis backend when `REDIS_URL` is set, else the in-memory one. `options` tunes the
 * scheduler (lease duration, retries, wait estimates).
 *
 * @category layers
 */
export const layerScheduler = (options: Scheduler.Options = {}): Layer.Layer<SchedulerServices, SchedulerError.SchedulerError, ServerConfig> =>
  Layer.unwrap(Effect.map(ServerConfig, (config) => schedulerStack(config, options).scheduler))

/** The scheduler stack and the readiness checks that go with it, sharing one Redis connection. */
const schedulerStack = (config: ServerConfig["Service"], options: Scheduler.Options) => {
  const credentials = Credentials.layer(Option.match(config.credentialsKey, { onNone: () => ({}), onSome: (key) => ({ key }) }))
  // One layer value: built once per composition, so the scheduler and the health check share the connection.
  const redis = Option.map(config.redisUrl, (url) => Redis.layer({ url }))
  const scheduler = Option.match(redis, {
    onNone: () => Scheduler.layerMemory(options),
    onSome: (r) => Scheduler.layerRedis({ ...options, prefix: config.redisKeyPrefix }).pipe(Layer.provide(r))
  }).pipe(Layer.provideMerge(credentials), Layer.provideMerge(scannerConfigLayer))
  const redisCheck = Option.match(redis, {
    onNone: () => Effect.succeed<ReadonlyArray<Health.Check>>([]),
    onSome: (r) => Effect.map(WorkerHealth.redis, (check) => [check]).pipe(Effect.provide(r))
  })
  const readiness = Layer.effect(
    Health.Readiness,
    Effect.gen(function*() {
      return [yield* WorkerHealth.config, ...(yield* redisCheck)]
    })
  )
  return { scheduler, readiness }
}

/**
 * Settings of {@link layer}.
 *
 * - `worker`: `"auto"` (default) runs a worker in this process when the queue is in memory; `"always"` and
 *   `"never"` decide regardless. `workerOptions` tunes it.
 * - `scheduler`: scheduler settings of this process.
 * - `reload` (default true): reload the scanners file on SIGHUP and on reload requests.
 *
 * @category models
 */
export interface Options {
  readonly worker?: "auto" | "always" | "never" | undefined
  readonly workerOptions?: LocalWorker.Options | undefined
  readonly scheduler?: Scheduler.Options | undefined
  readonly reload?: boolean | undefined
}

/**
 * Reloads the scanners file on SIGHUP and on reload requests (`Scheduler.requestReload`, which
 * `nessus-admin config reload` sends), for as long as the server runs.
 *
 * @category layers
 */
export const layerReload: Layer.Layer<never, SchedulerError.SchedulerError, Scheduler.Scheduler | ScannerConfig.ScannerConfig> = Layer.mergeAll(
  Scheduler.layerReloadOnRequest,
  ScannerConfig.layerReloadOnSighup
)

/**
 * The `ScanService` over one scheduler stack, plus an in-process worker on the same stack when `options.worker`
 * says so. Suits `Main.Options.scanService`.
 *
 * @category layers
 */
export const layer = (
  options: Options = {}
): Layer.Layer<ScanService | Health.Readiness, SchedulerError.SchedulerError, ServerConfig | Metrics> =>
  Layer.unwrap(
    Effect.gen(function*() {
      const config = yield* ServerConfig
      const mode = options.worker ?? "auto"
      const withWorker = mode === "always" || (mode === "auto" && Option.isNone(config.redisUrl))
      const worker = withWorker ? LocalWorker.layer(options.workerOptions) : Layer.empty
      const stack = schedulerStack(config, options.scheduler ?? {})
      // The shared-state gauges on this server's /metrics, with the worker's collector (read from the store).
      const sharedState = Layer.effectDiscard(Effect.flatMap(Metrics, (m) => WorkerMetrics.registerSharedState(m.registry)))
      const reload = options.reload === false ? Layer.empty : layerReload
      return Layer.mergeAll(SchedulerScanService.layer, worker, sharedState, stack.readiness, reload).pipe(Layer.provide(stack.scheduler))
    })
  )
