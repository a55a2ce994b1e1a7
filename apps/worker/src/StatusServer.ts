/**
 * The worker's HTTP side: `/metrics` (Prometheus exposition, with prom-client's content type),
 * `/health/live`, `/health/ready` (JSON report; 503 when a check fails) and `/health` (alias of ready), on
 * `METRICS_HOST:METRICS_PORT` (127.0.0.1:9090 by default). Only `GET`/`HEAD`; anything else is 404/405.
 */
import { Effect, Layer, type Scope } from "effect"
import { createServer, type Server } from "node:http"
import type { AddressInfo } from "node:net"
import * as Health from "./Health.js"
import * as WorkerError from "./WorkerError.js"
import { WorkerMetrics } from "./WorkerMetrics.js"

/**
 * Where to listen and what readiness means.
 *
 * @category models
 */
export interface Options {
  readonly host: string
  /** 0 picks a free port (see the returned address). */
  readonly port: number
  readonly readiness: ReadonlyArray<Health.Check>
}

/**
 * Starts the server for the lifetime of the scope; returns the bound address.
 *
 * @category constructors
 */
export const serve = (options: Options): Effect.Effect<{ readonly host: string; readonly port: number; readonly url: string }, WorkerError.WorkerError, WorkerMetrics | Scope.Scope> =>
  Effect.gen(function*() {
    const metrics = yield* WorkerMetrics
    const context = yield* Effect.context<never>()
    const run = <A>(effect: Effect.Effect<A>) => Effect.runPromiseWith(context)(effect)

    const server: Server = createServer((req, res) => {
      const path = (req.url ?? "/").split("?")[0]
      if (req.method !== "GET" && req.method !== "HEAD") {
        res.writeHead(405, { allow: "GET, HEAD", "content-type": "text/plain" }).end("method not allowed\n")
        return
      }
      const json = (status: number, body: unknown) => {
        res.writeHead(status, { "content-type": "application/json", "cache-control": "no-store" }).end(JSON.stringify(body) + "\n")
      }
      switch (path) {
        case "/metrics":
          run(metrics.scrape).then(
            ({ body, contentType }) => res.writeHead(200, { "content-type": contentType, "cache-control": "no-store" }).end(body),
            () => res.writeHead(500, { "content-type": "text/plain" }).end("metrics collection failed\n")
          )
          return
        case "/health/live":
          json(200, { status: "ok" })
          return
        case "/health":
        case "/health/ready":
          run(Health.ready(options.readiness)).then(
            (report) => json(report.status === "ok" ? 200 : 503, report),
            () => json(503, { status: "fail", checks: {} })
          )
          return
        default:
          res.writeHead(404, { "content-type": "text/plain" }).end("not found\n")
      }
    })
    yield* Effect.callback<void, WorkerError.WorkerError>((resume) => {
      const onError = (e: NodeJS.ErrnoException) =>
        resume(Effect.fail(WorkerError.make("listen_failed", `Cannot listen on ${options.host}:${options.port} for /metrics and /health (${e.code ?? e.message}); set METRICS_PORT to a free port.`, e)))
      server.once("error", onError)
      server.listen(options.port, options.host, () => {
        server.off("error", onError)
        resume(Effect.void)
      })
    })
    yield* Effect.addFinalizer(() =>
      Effect.callback<void>((resume) => {
        server.close(() => resume(Effect.void))
        server.closeAllConnections()
      })
    )
    const address = server.address() as AddressInfo
    const host = address.family === "IPv6" ? `[${address.address}]` : address.address
    return { host: address.address, port: address.port, url: `http://${host}:${address.port}` }
  })

/**
 * The server as a layer (logs its URL).
 *
 * @category layers
 */
export const layer = (options: Options): Layer.Layer<never, WorkerError.WorkerError, WorkerMetrics> =>
  Layer.effectDiscard(
    Effect.flatMap(serve(options), (a) => Effect.logInfo(`metrics and health on ${a.url} (/metrics, /health/live, /health/ready)`))
  )
