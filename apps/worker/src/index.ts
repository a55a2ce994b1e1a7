/** Liveness and readiness checks of a worker process. */
export * as Health from "./Health.js"
/** The worker's Nessus-side housekeeping actions (the scheduler's `ScanJanitor`). */
export * as Janitor from "./Janitor.js"
/** Structured JSON logs on stdout. */
export * as Logging from "./Logging.js"
/** The `nessus-mcp-worker` program: configuration, layers, signals. */
export * as Main from "./Main.js"
/** One Nessus client per scanner instance, built once from the scanners file. */
export * as ScannerClients from "./ScannerClients.js"
/** `/metrics`, `/health/live`, `/health/ready` over HTTP. */
export * as StatusServer from "./StatusServer.js"
/** One trace id per scan (task → worker → Nessus requests) and the optional OpenTelemetry export. */
export * as Tracing from "./Tracing.js"
/** The worker: claims tasks and drives them create → launch → poll → export → validate. */
export * as Worker from "./Worker.js"
/** The worker's configuration from the environment (the one runtime module). */
export * as WorkerConfig from "./WorkerConfig.js"
/** The one tagged error of the worker. */
export * as WorkerError from "./WorkerError.js"
/** Prometheus metrics of a worker process. */
export * as WorkerMetrics from "./WorkerMetrics.js"
