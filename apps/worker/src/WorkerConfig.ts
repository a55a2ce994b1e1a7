/**
 * The worker's whole configuration, read in this one module from the environment. Durations take Effect's
 * duration syntax (`500 millis`, `2 seconds`, `10 minutes`, `1 hour`).
 *
 * | variable | meaning | default |
 * | --- | --- | --- |
 * | `REDIS_URL` | Redis of the shared queue | unset: in-memory backend (single process only) |
 * | `REDIS_KEY_PREFIX` | key prefix (keep the `{hash tag}` for Redis Cluster) | `{nessus-mcp}:` |
 * | `SCANNER_CONFIG` | path of scanners.yaml | `config/scanners.yaml` found upwards from the working directory |
 * | `DATA_DIR` | artifact root (exports, indexes) | `./data` |
 * | `CREDENTIALS_KEY` | key of inline scan credentials (32 bytes, base64 or hex) | unset: inline credentials refused |
 * | `WORKER_POOLS` | pools to claim from, comma separated | all pools |
 * | `WORKER_INSTANCES` | scanner instances to start new scans on, comma separated | all |
 * | `WORKER_CONCURRENCY` | tasks run at once by this process | `4` |
 * | `WORKER_ID` | lease owner name | `<hostname>-<pid>-<random>` |
 * | `WORKER_POLL_INITIAL` / `WORKER_POLL_MAX` / `WORKER_POLL_FACTOR` | adaptive polling | `2 seconds` / `30 seconds` / `1.5` |
 * | `WORKER_HEARTBEAT_INTERVAL` | lease renewal period | `10 seconds` |
 * | `WORKER_LEASE_DURATION` | lease length without renewal | `60 seconds` |
 * | `WORKER_IDLE_INTERVAL` | claim attempts of an idle slot | `1 second` |
 * | `WORKER_SHUTDOWN_TIMEOUT` | bound of the graceful shutdown | `10 seconds` |
 * | `HOUSEKEEPING_INTERVAL` | housekeeping period (`off` disables) | `1 hour` |
 * | `SCAN_RETENTION` | finished scans of this system are deleted from the scanners after | `24 hours` |
 * | `WORKER_RETRY_ATTEMPTS` | in-place retries of a transient Nessus failure before the attempt is reported (0-10) | `3` |
 * | `WORKER_RETRY_BASE` | delay before the first of those retries (doubling, jittered) | `1 second` |
 * | `CIRCUIT_FAILURE_THRESHOLD` | consecutive scanner failures that open its circuit (1-100) | `5` |
 * | `CIRCUIT_COOLDOWN` | how long an open circuit keeps new scans off its scanner before one probe scan | `5 minutes` |
 * | `METRICS_HOST` / `METRICS_PORT` | `/metrics` and `/health` | `127.0.0.1` / `9090` |
 * | `LOG_LEVEL` | trace, debug, info, warn, error, fatal, none | `info` |
 * | `OTEL_EXPORTER_OTLP_ENDPOINT` | OpenTelemetry collector (OTLP/HTTP) that receives the spans | unset: no export |
 * | `OTEL_EXPORTER_OTLP_PROTOCOL` / `OTEL_EXPORTER_OTLP_HEADERS` / `OTEL_SERVICE_NAME` | see `Tracing` | `http/protobuf` / none / `nessus-mcp-worker` |
 *
 * Secrets (the Redis URL, which may embed a password, and the credentials key) stay `Redacted`.
 */
import { CircuitBreaker, Retry } from "@nessus-mcp/scheduler"
import { Config, ConfigProvider, Duration, Effect, Option, type Redacted } from "effect"
import type * as LogLevel from "effect/LogLevel"
import { existsSync } from "node:fs"
import * as path from "node:path"
import * as Logging from "./Logging.js"
import * as Tracing from "./Tracing.js"

/**
 * The decoded configuration.
 *
 * @category models
 */
export interface Shape {
  readonly redisUrl: Option.Option<Redacted.Redacted<string>>
  readonly redisKeyPrefix: string
  readonly scannerConfig: string
  readonly dataDir: string
  readonly credentialsKey: Option.Option<Redacted.Redacted<string>>
  readonly pools: Option.Option<ReadonlyArray<string>>
  readonly instances: Option.Option<ReadonlyArray<string>>
  readonly concurrency: number
  readonly workerId: Option.Option<string>
  readonly pollInitial: Duration.Duration
  readonly pollMax: Duration.Duration
  readonly pollFactor: number
  readonly heartbeatInterval: Duration.Duration
  readonly leaseDuration: Duration.Duration
  readonly idleInterval: Duration.Duration
  readonly shutdownTimeout: Duration.Duration
  readonly housekeepingInterval: Option.Option<Duration.Duration>
  readonly scanRetention: Duration.Duration
  /** In-place retries of transient Nessus failures (the worker's `retry` option). */
  readonly retry: Retry.Policy
  /** Per-scanner circuit breaker (the scheduler's `circuit` option in this process). */
  readonly circuit: CircuitBreaker.Policy
  readonly metricsHost: string
  readonly metricsPort: number
  readonly logLevel: LogLevel.LogLevel
  /** Span export (OpenTelemetry), when `OTEL_EXPORTER_OTLP_ENDPOINT` is set. */
  readonly otlp: Option.Option<Tracing.Options>
}

/**
 * The first `relative` path that exists in `from` or one of its ancestors.
 *
 * @category parsing
 */
export const findUpwards = (relative: string, from: string = process.cwd()): Option.Option<string> => {
  for (let dir = path.resolve(from);; dir = path.dirname(dir)) {
    const candidate = path.join(dir, relative)
    if (existsSync(candidate)) return Option.some(candidate)
    if (path.dirname(dir) === dir) return Option.none()
  }
}

const failWith = (message: string) => Config.fail(new ConfigProvider.SourceError({ message }))

const NAME = /^[A-Za-z0-9._-]{1,64}$/

const nameList = (variable: string) =>
  Config.option(Config.String(variable)).pipe(
    Config.flatMap((given) => {
      if (Option.isNone(given)) return Config.succeed(Option.none<ReadonlyArray<string>>())
      const names = given.value.split(",").map((s) => s.trim()).filter((s) => s.length > 0)
      if (names.length === 0) return Config.succeed(Option.none<ReadonlyArray<string>>())
      const bad = names.find((n) => !NAME.test(n))
      return bad === undefined
        ? Config.succeed(Option.some<ReadonlyArray<string>>([...new Set(names)]))
        : failWith(`${variable}: "${bad.slice(0, 40)}" is not a pool or instance name (letters, digits, ".", "_", "-")`)
    })
  )

const duration = (variable: string, fallback: Duration.Input, min: Duration.Input = "1 millis", max?: Duration.Input) =>
  Config.Duration(variable).pipe(
    Config.withDefault(Duration.fromInputUnsafe(fallback)),
    Config.flatMap((d) =>
      Duration.isFinite(d) && Duration.isGreaterThanOrEqualTo(d, Duration.fromInputUnsafe(min)) &&
        (max === undefined || Duration.isLessThanOrEqualTo(d, Duration.fromInputUnsafe(max)))
        ? Config.succeed(d)
        : failWith(
          `${variable} must be a finite duration of at least ${Duration.format(Duration.fromInputUnsafe(min))}${
            max === undefined ? "" : ` and at most ${Duration.format(Duration.fromInputUnsafe(max))}`
          } (e.g. "${typeof fallback === "string" ? fallback : "10 seconds"}")`
        )
    )
  )

const intBetween = (variable: string, fallback: number, min: number, max: number) =>
  Config.Int(variable).pipe(
    Config.withDefault(fallback),
    Config.flatMap((n) => (n >= min && n <= max ? Config.succeed(n) : failWith(`${variable} must be a whole number between ${min} and ${max}`)))
  )

/**
 * `WORKER_RETRY_ATTEMPTS` (0-10, default 3) and `WORKER_RETRY_BASE` (10 ms to 10 minutes, default 1 s):
 * the worker's in-place retries of a transient Nessus failure (network, 5xx, 429, timeout), after
 * `base`, `2 × base`, `4 × base`, ... (jittered ±20 %), before it reports the attempt to the scheduler.
 * `0` reports the first failure at once. Task-level requeues (a new attempt) keep the scheduler's policy.
 *
 * @category config
 */
export const retry: Config.Config<Retry.Policy> = Config.all({
  retries: intBetween("WORKER_RETRY_ATTEMPTS", Retry.defaultPolicy.retries, 0, 10),
  base: duration("WORKER_RETRY_BASE", Retry.defaultPolicy.base, "10 millis", "10 minutes")
}).pipe(Config.map(({ base, retries }): Retry.Policy => ({ ...Retry.defaultPolicy, retries, base })))

/**
 * `CIRCUIT_FAILURE_THRESHOLD` (1-100, default 5) and `CIRCUIT_COOLDOWN` (100 ms to 24 hours, default
 * 5 minutes): the scanner circuit breaker this worker applies when it claims and reports outcomes. After
 * the threshold of consecutive scanner failures the circuit opens; after the cooldown one probe scan is
 * let through (half-open) and its outcome closes or reopens the circuit. The state is shared in Redis, so
 * give every worker the same values. The probe timeout keeps the scheduler's default (10 minutes).
 *
 * @category config
 */
export const circuit: Config.Config<CircuitBreaker.Policy> = Config.all({
  failureThreshold: intBetween("CIRCUIT_FAILURE_THRESHOLD", CircuitBreaker.defaultPolicy.failureThreshold, 1, 100),
  cooldown: duration("CIRCUIT_COOLDOWN", CircuitBreaker.defaultPolicy.cooldown, "100 millis", "24 hours")
}).pipe(Config.map(({ cooldown, failureThreshold }): CircuitBreaker.Policy => ({ ...CircuitBreaker.defaultPolicy, failureThreshold, cooldown })))

/**
 * `REDIS_KEY_PREFIX`: the namespace of the scheduler's keys, the same in every app (default `{nessus-mcp}:`).
 *
 * @category config
 */
export const redisKeyPrefix: Config.Config<string> = Config.String("REDIS_KEY_PREFIX").pipe(
  Config.withDefault("{nessus-mcp}:"),
  Config.flatMap((prefix) =>
    /^[\x21-\x7e]{1,64}$/.test(prefix) ? Config.succeed(prefix) : failWith("REDIS_KEY_PREFIX must be 1-64 printable characters without spaces")
  )
)

/**
 * `LOG_LEVEL` (`trace`, `debug`, `info`, `warn`, `error`, `fatal`, `none`; default `info`), shared by the apps.
 *
 * @category config
 */
export const logLevel: Config.Config<LogLevel.LogLevel> = Config.String("LOG_LEVEL").pipe(
  Config.withDefault("info"),
  Config.flatMap((text) => {
    const level = Logging.parseLevel(text)
    return level === undefined ? failWith(`LOG_LEVEL "${text}" is not one of trace, debug, info, warn, error, fatal, none`) : Config.succeed(level)
  })
)

/**
 * The configuration as an Effect `Config` over the current provider.
 *
 * @category config
 */
export const config: Config.Config<Shape> = Config.all({
  redisUrl: Config.option(Config.Redacted("REDIS_URL")),
  redisKeyPrefix,
  scannerConfig: Config.option(Config.String("SCANNER_CONFIG")).pipe(
    Config.flatMap((given) => {
      const found = Option.isSome(given) ? Option.some(path.resolve(given.value)) : findUpwards(path.join("config", "scanners.yaml"))
      return Option.isSome(found)
        ? Config.succeed(found.value)
        : failWith("SCANNER_CONFIG is not set and no config/scanners.yaml was found; set SCANNER_CONFIG to the path of your scanners file (see config/scanners.example.yaml)")
    })
  ),
  dataDir: Config.String("DATA_DIR").pipe(Config.withDefault("data"), Config.map((dir) => path.resolve(dir))),
  credentialsKey: Config.option(Config.Redacted("CREDENTIALS_KEY")),
  pools: nameList("WORKER_POOLS"),
  instances: nameList("WORKER_INSTANCES"),
  concurrency: Config.Int("WORKER_CONCURRENCY").pipe(
    Config.withDefault(4),
    Config.flatMap((n) => (n >= 1 && n <= 256 ? Config.succeed(n) : failWith("WORKER_CONCURRENCY must be between 1 and 256")))
  ),
  workerId: Config.option(Config.String("WORKER_ID")).pipe(
    Config.flatMap((id) =>
      Option.isNone(id) || /^[A-Za-z0-9._:-]{1,128}$/.test(id.value)
        ? Config.succeed(id)
        : failWith("WORKER_ID must be 1-128 letters, digits, '.', '_', ':' or '-'")
    )
  ),
  pollInitial: duration("WORKER_POLL_INITIAL", "2 seconds", "10 millis"),
  pollMax: duration("WORKER_POLL_MAX", "30 seconds", "10 millis"),
  pollFactor: Config.Number("WORKER_POLL_FACTOR").pipe(
    Config.withDefault(1.5),
    Config.flatMap((f) => (f >= 1 && f <= 10 ? Config.succeed(f) : failWith("WORKER_POLL_FACTOR must be between 1 and 10")))
  ),
  heartbeatInterval: duration("WORKER_HEARTBEAT_INTERVAL", "10 seconds", "10 millis"),
  leaseDuration: duration("WORKER_LEASE_DURATION", "60 seconds", "100 millis"),
  idleInterval: duration("WORKER_IDLE_INTERVAL", "1 second", "10 millis"),
  shutdownTimeout: duration("WORKER_SHUTDOWN_TIMEOUT", "10 seconds", "100 millis"),
  housekeepingInterval: Config.String("HOUSEKEEPING_INTERVAL").pipe(
    Config.withDefault("1 hour"),
    Config.flatMap((text) => {
      if (["off", "0", "false", "none"].includes(text.trim().toLowerCase())) return Config.succeed(Option.none<Duration.Duration>())
      const d = Duration.fromInput(text.trim() as Duration.Input)
      return Option.isSome(d) && Duration.isFinite(d.value) && Duration.toMillis(d.value) >= 1000
        ? Config.succeed(Option.some(d.value))
        : failWith(`HOUSEKEEPING_INTERVAL "${text.slice(0, 40)}" must be a duration of at least 1 second (e.g. "1 hour") or "off"`)
    })
  ),
  scanRetention: duration("SCAN_RETENTION", "24 hours", "1 second"),
  retry,
  circuit,
  metricsHost: Config.String("METRICS_HOST").pipe(Config.withDefault("127.0.0.1")),
  metricsPort: Config.Int("METRICS_PORT").pipe(
    Config.withDefault(9090),
    Config.flatMap((p) => (p >= 0 && p <= 65535 ? Config.succeed(p) : failWith("METRICS_PORT must be between 0 and 65535 (0 = any free port)")))
  ),
  logLevel,
  otlp: Tracing.config("nessus-mcp-worker")
}).pipe(
  Config.flatMap((c) =>
    Duration.isGreaterThanOrEqualTo(c.heartbeatInterval, c.leaseDuration)
      ? failWith("WORKER_HEARTBEAT_INTERVAL must be shorter than WORKER_LEASE_DURATION (a third of it is a good choice)")
      : Config.succeed(c)
  )
)

/**
 * Reads {@link config} from an environment record (e.g. `process.env`).
 *
 * @category constructors
 */
export const load = (env: Record<string, string | undefined>): Effect.Effect<Shape, Config.ConfigError> =>
  config.parse(ConfigProvider.fromEnvRecord(env))
