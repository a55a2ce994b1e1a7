/**
 * Prometheus metrics of a worker process (prom-client), updated where the events happen:
 *
 * - task outcomes: `nessus_scans_total{scan_type,status}` (completed, failed, cancelled, retrying),
 *   `nessus_task_duration_seconds{scan_type,outcome}` (claim to terminal state),
 *   `nessus_queue_wait_seconds` (submission to first claim);
 * - validation: `nessus_validation_total{pool,result}` (the authentication verdict, or `invalid`),
 *   `nessus_validation_failures_total{pool,reason}`, `nessus_auth_failures_total{pool,scan_type}`;
 * - Nessus and failures: `nessus_nessus_api_calls_total{scanner_instance,endpoint,status}` (every HTTP
 *   exchange with a scanner; `status` is the HTTP code, or `error`/`timeout`), `nessus_retries_total{reason}`
 *   (call-level retries and task requeues), `nessus_circuit_opens_total{scanner_instance}` (openings caused
 *   by this worker's failure reports), `nessus_ttl_deletions_total` (expired tasks deleted by housekeeping);
 * - shared state, read from the scheduler's store at scrape time so every process reports the same truth:
 *   `nessus_scanner_active_scans|capacity|utilization_pct|enabled|circuit_state{pool,scanner_instance}`,
 *   `nessus_pool_queue_depth{pool}`, `nessus_pool_dlq_depth{pool}`,
 *   `nessus_instance_queue_depth{pool,scanner_instance}`;
 * - `nessus_worker_last_heartbeat_timestamp_seconds` (last claim-loop or lease-renewal pass) and the
 *   Node process metrics.
 *
 * Each `WorkerMetrics` owns its registry unless one is given, so several workers (or a worker inside the
 * MCP server) never collide; `sharedState: false` leaves the shared-state gauges to the host process.
 */
import { Context, Effect, Layer } from "effect"
import { Scheduler } from "@nessus-mcp/scheduler"
import * as Prometheus from "prom-client"

/**
 * Options of {@link make}.
 *
 * - `registry`: register into this registry (default: a fresh one).
 * - `processMetrics`: also collect prom-client's default process metrics (default true).
 * - `sharedState`: register the store-backed gauges (default true; needs `Scheduler`).
 *
 * @category models
 */
export interface Options {
  readonly registry?: Prometheus.Registry | undefined
  readonly processMetrics?: boolean | undefined
  readonly sharedState?: boolean | undefined
}

/**
 * The instruments, as plain synchronous recorders plus the scrape.
 *
 * @category models
 */
export interface Shape {
  readonly registry: Prometheus.Registry
  readonly scanFinished: (scanType: string, status: "completed" | "failed" | "cancelled" | "timeout" | "retrying") => void
  readonly taskDuration: (scanType: string, outcome: string, seconds: number) => void
  readonly queueWait: (seconds: number) => void
  readonly validation: (pool: string, result: string) => void
  readonly validationFailure: (pool: string, reason: string) => void
  readonly authFailure: (pool: string, scanType: string) => void
  readonly apiCall: (instance: string, endpoint: string, status: string) => void
  readonly retry: (reason: string) => void
  readonly circuitOpened: (instance: string) => void
  readonly ttlDeletions: (count: number) => void
  /** Records "the worker loop is alive now". */
  readonly heartbeat: () => void
  /** Exposition text and its content type, for `/metrics`. */
  readonly scrape: Effect.Effect<{ readonly contentType: string; readonly body: string }>
}

/**
 * The metrics service.
 *
 * @category services
 */
export class WorkerMetrics extends Context.Service<WorkerMetrics, Shape>()("@nessus-mcp/worker/WorkerMetrics") {}

interface SharedState {
  readonly scanners: ReadonlyArray<Scheduler.ScannerStatus>
  readonly queues: ReadonlyArray<Scheduler.QueueStats>
}

const circuitValue = (state: string): number => (state === "open" ? 1 : state === "half_open" ? 2 : 0)

type Instrument = Prometheus.Counter<string> | Prometheus.Gauge<string> | Prometheus.Histogram<string>

/**
 * The instrument named `name` in `registry`, created by `create` unless the host process registered it
 * first (the MCP server's registry holds `nessus_scans_total` before its in-process worker starts), so
 * sharing a registry never throws "already registered".
 */
const reuse = <M extends Instrument>(registry: Prometheus.Registry, name: string, create: () => M): M =>
  (registry.getSingleMetric(name) as M | undefined) ?? create()

/**
 * `nessus_scans_total{scan_type,status}` in `registry` (created there unless already registered). The MCP
 * server counts `queued` (and `cancelled` for tasks cancelled before any worker claimed them) in it; workers
 * count the ends of attempts.
 *
 * @category constructors
 */
export const scansCounter = (registry: Prometheus.Registry): Prometheus.Counter<"scan_type" | "status"> =>
  reuse(registry, "nessus_scans_total", () =>
    new Prometheus.Counter({
      name: "nessus_scans_total",
      help: "Scans by type and status transition (queued, completed, failed, cancelled, timeout, retrying).",
      labelNames: ["scan_type", "status"] as const,
      registers: [registry]
    }))

/**
 * Registers the shared-state gauges in `registry`, read from the scheduler's store (Redis) at scrape time
 * through its operator API (`scanners()`, `queueStats(pool)`), so every process that exposes them reports
 * the same truth: `nessus_scanner_active_scans|capacity|utilization_pct|enabled|circuit_state`,
 * `nessus_instance_queue_depth` (labels `pool`, `scanner_instance`), `nessus_pool_queue_depth` and
 * `nessus_pool_dlq_depth` (label `pool`). One store read serves all gauges of a scrape (reused for
 * 200 ms). When the store cannot be read the gauges are left out of that scrape (with a warning in the log)
 * instead of failing `/metrics`. Idempotent per registry. Used by workers and by the MCP server.
 *
 * @category constructors
 */
export const registerSharedState = (registry: Prometheus.Registry): Effect.Effect<void, never, Scheduler.Scheduler> =>
  Effect.gen(function*() {
    if (registry.getSingleMetric("nessus_pool_queue_depth") !== undefined) return
    const scheduler = yield* Scheduler.Scheduler
    const context = yield* Effect.context<never>()
    const empty: SharedState = { scanners: [], queues: [] }
    const read = Effect.gen(function*() {
      const scanners = yield* scheduler.scanners()
      const pools = [...new Set(scanners.map((s) => s.pool))]
      const queues = yield* Effect.forEach(pools, (pool) => scheduler.queueStats(pool))
      return { scanners, queues } satisfies SharedState
    }).pipe(
      Effect.catch((e) => Effect.as(Effect.logWarning(`metrics: cannot read the shared state from the store: ${e.message}`), empty))
    )
    let cached: { readonly at: number; readonly value: Promise<SharedState> } | undefined
    const shared = (): Promise<SharedState> => {
      const now = Date.now()
      if (cached === undefined || now - cached.at > 200) {
        cached = { at: now, value: Effect.runPromiseWith(context)(read) }
      }
      return cached.value
    }
    const registers = [registry]
    const scannerGauge = (name: string, help: string, value: (s: Scheduler.ScannerStatus) => number) =>
      new Prometheus.Gauge({
        name,
        help,
        labelNames: ["pool", "scanner_instance"] as const,
        registers,
        async collect() {
          const state = await shared()
          this.reset()
          for (const s of state.scanners) this.set({ pool: s.pool, scanner_instance: s.instanceId }, value(s))
        }
      })
    scannerGauge("nessus_scanner_active_scans", "Running scans per scanner (from the shared store).", (s) => s.running)
    scannerGauge("nessus_scanner_capacity", "max_concurrent_scans per scanner.", (s) => s.maxConcurrentScans)
    scannerGauge("nessus_scanner_utilization_pct", "Active scans / capacity, in percent.", (s) => Math.round(s.utilisation * 1000) / 10)
    scannerGauge("nessus_scanner_enabled", "1 when the scanner takes new scans, else 0.", (s) => (s.enabled ? 1 : 0))
    scannerGauge("nessus_scanner_circuit_state", "Circuit breaker state: 0 closed, 1 open, 2 half-open (from the shared store).", (s) => circuitValue(s.circuit.state))
    scannerGauge("nessus_instance_queue_depth", "Queued tasks that asked for one scanner instance (from the shared store).", (s) => s.queued)
    new Prometheus.Gauge({
      name: "nessus_pool_queue_depth",
      help: "Queued tasks per pool, including those waiting for a retry (from the shared store).",
      labelNames: ["pool"] as const,
      registers,
      async collect() {
        const state = await shared()
        this.reset()
        for (const q of state.queues) this.set({ pool: q.pool }, q.queued + q.delayed)
      }
    })
    new Prometheus.Gauge({
      name: "nessus_pool_dlq_depth",
      help: "Dead-letter queue size per pool (from the shared store).",
      labelNames: ["pool"] as const,
      registers,
      async collect() {
        const state = await shared()
        this.reset()
        for (const q of state.queues) this.set({ pool: q.pool }, q.deadLettered)
      }
    })
  })

/**
 * Builds the registry and instruments (reusing any the given registry already holds). With `sharedState`,
 * the store-backed gauges read the scheduler on each scrape (see {@link registerSharedState}).
 *
 * @category constructors
 */
export const make = (options: Options = {}): Effect.Effect<Shape, never, Scheduler.Scheduler> =>
  Effect.gen(function*() {
    const registry = options.registry ?? new Prometheus.Registry()
    if (options.processMetrics ?? true) Prometheus.collectDefaultMetrics({ register: registry })
    const registers = [registry]
    const counter = <L extends string>(name: string, help: string, labelNames: ReadonlyArray<L>) =>
      reuse(registry, name, () => new Prometheus.Counter<L>({ name, help, labelNames, registers }))
    const histogram = <L extends string>(name: string, help: string, labelNames: ReadonlyArray<L>, buckets: Array<number>) =>
      reuse(registry, name, () => new Prometheus.Histogram<L>({ name, help, labelNames, buckets, registers }))
    const scans = scansCounter(registry)
    const duration = histogram(
      "nessus_task_duration_seconds",
      "Task run time from claim to a terminal state, by scan type and outcome.",
      ["scan_type", "outcome"],
      [1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200, 14400, 43200, 86400]
    )
    const queueWait = histogram(
      "nessus_queue_wait_seconds",
      "Time tasks waited in the queue before a worker claimed them.",
      [],
      [0.1, 0.5, 1, 5, 15, 30, 60, 300, 900, 1800, 3600, 7200, 21600]
    )
    const validation = counter(
      "nessus_validation_total",
      "Validated exports by authentication verdict (success, partial, failed, not_applicable, unknown, invalid).",
      ["pool", "result"]
    )
    const validationFailures = counter(
      "nessus_validation_failures_total",
      "Exports whose validation failed, by reason (authentication_failed, malformed_xml, unsupported_format, ...).",
      ["pool", "reason"]
    )
    const authFailures = counter("nessus_auth_failures_total", "Credentialed scans whose verdict is authentication_failed.", ["pool", "scan_type"])
    const apiCalls = counter(
      "nessus_nessus_api_calls_total",
      "Requests to the Nessus REST API by scanner, endpoint and status (HTTP code, or error/timeout).",
      ["scanner_instance", "endpoint", "status"]
    )
    const retries = counter("nessus_retries_total", "Retried operations (Nessus calls and task requeues) by reason.", ["reason"])
    const circuitOpens = counter(
      "nessus_circuit_opens_total",
      "Transitions of a scanner's circuit to open caused by this worker's failure reports.",
      ["scanner_instance"]
    )
    const ttlDeletions = counter("nessus_ttl_deletions_total", "Expired tasks and artifacts deleted by housekeeping.", [])
    const lastHeartbeat = reuse(registry, "nessus_worker_last_heartbeat_timestamp_seconds", () =>
      new Prometheus.Gauge({
        name: "nessus_worker_last_heartbeat_timestamp_seconds",
        help: "Unix time (s) at which this worker last completed its claim/lease-renewal loop; stale = stuck worker.",
        registers
      }))
    lastHeartbeat.set(Date.now() / 1000)

    if (options.sharedState ?? true) yield* registerSharedState(registry)

    return {
      registry,
      scanFinished: (scanType, status) => scans.inc({ scan_type: scanType, status }),
      taskDuration: (scanType, outcome, seconds) => duration.observe({ scan_type: scanType, outcome }, Math.max(0, seconds)),
      queueWait: (seconds) => queueWait.observe(Math.max(0, seconds)),
      validation: (pool, result) => validation.inc({ pool, result }),
      validationFailure: (pool, reason) => validationFailures.inc({ pool, reason }),
      authFailure: (pool, scanType) => authFailures.inc({ pool, scan_type: scanType }),
      apiCall: (instance, endpoint, status) => apiCalls.inc({ scanner_instance: instance, endpoint, status }),
      retry: (reason) => retries.inc({ reason }),
      circuitOpened: (instance) => circuitOpens.inc({ scanner_instance: instance }),
      ttlDeletions: (count) => {
        if (count > 0) ttlDeletions.inc(count)
      },
      heartbeat: () => lastHeartbeat.set(Date.now() / 1000),
      scrape: Effect.promise(async () => ({ contentType: registry.contentType, body: await registry.metrics() }))
    } satisfies Shape
  })

/**
 * The metrics service (see {@link make}).
 *
 * @category layers
 */
export const layer = (options: Options = {}): Layer.Layer<WorkerMetrics, never, Scheduler.Scheduler> =>
  Layer.effect(WorkerMetrics, make(options))
