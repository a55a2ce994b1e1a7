/**
 * Test harness for the observability tests: the real `Main.program` served over HTTP in this process (the
 * production composition, `Backend.layer`), a tiny OTLP/HTTP receiver on 127.0.0.1, and `/metrics` readers.
 */
import { Deferred, Effect, Fiber, type Layer, Schedule } from "effect"
import { startOtlpReceiver } from "../../../../config/testing/otlp.js"
import type * as HttpServer from "../../src/HttpServer.js"
import * as Main from "../../src/Main.js"
import type { Metrics } from "../../src/Metrics.js"
import type { ScanService } from "../../src/ScanService.js"
import * as ServerConfig from "../../src/ServerConfig.js"
import { freePort } from "./e2e.js"

/** Serves `Main.program` over HTTP on a free loopback port for the current scope; lines go to `lines`. */
export const serveProgram = <E>(
  env: Record<string, string>,
  scanService: Layer.Layer<ScanService, E, ServerConfig.ServerConfig | Metrics>,
  lines: Array<string>
) =>
  Effect.gen(function*() {
    const port = yield* Effect.promise(freePort)
    const config = yield* ServerConfig.load({ MCP_TRANSPORT: "http", MCP_PORT: String(port) }, env).pipe(Effect.orDie)
    const serving = yield* Deferred.make<HttpServer.Running>()
    const fiber = yield* Effect.forkScoped(Main.program(config, {
      scanService,
      logSink: (line) => lines.push(line),
      onServing: (s) => (s.transport === "http" ? Deferred.succeed(serving, s).pipe(Effect.asVoid) : Effect.void)
    }))
    return yield* Effect.raceFirst(
      Deferred.await(serving),
      Fiber.join(fiber).pipe(Effect.flatMap(() => Effect.die(new Error("the server stopped before serving"))))
    )
  })

/** The OTLP/HTTP receiver of `config/testing/otlp.ts` for the current scope. */
export const collector = Effect.acquireRelease(Effect.promise(startOtlpReceiver), (r) => Effect.promise(() => r.close()))

/** One exported span of an OTLP/JSON traces body. */
export interface ExportedSpan {
  readonly service: string
  readonly name: string
  readonly traceId: string
  readonly spanId: string
  readonly parentSpanId: string
  readonly attributes: Readonly<Record<string, unknown>>
}

/** The spans of OTLP/JSON `/v1/traces` bodies. */
export const spansOf = (bodies: ReadonlyArray<{ readonly path: string; readonly body: Buffer }>): ReadonlyArray<ExportedSpan> =>
  bodies.filter((b) => b.path === "/v1/traces").flatMap((b) => {
    const data = JSON.parse(b.body.toString("utf8")) as {
      resourceSpans: Array<{
        resource: { attributes: Array<{ key: string; value: { stringValue?: string } }> }
        scopeSpans: Array<{ spans: Array<{ name: string; traceId: string; spanId: string; parentSpanId?: string; attributes?: Array<{ key: string; value: Record<string, unknown> }> }> }>
      }>
    }
    return data.resourceSpans.flatMap((rs) => {
      const service = rs.resource.attributes.find((a) => a.key === "service.name")?.value.stringValue ?? ""
      return rs.scopeSpans.flatMap((ss) =>
        ss.spans.map((s) => ({
          service,
          name: s.name,
          traceId: s.traceId,
          spanId: s.spanId,
          parentSpanId: s.parentSpanId ?? "",
          attributes: Object.fromEntries((s.attributes ?? []).map((a) => [a.key, Object.values(a.value)[0]]))
        }))
      )
    })
  })

/** Scrapes `/metrics`: status, content type and body. */
export const scrape = (baseUrl: string) =>
  Effect.promise(async () => {
    const response = await fetch(`${baseUrl}/metrics`)
    return { status: response.status, type: response.headers.get("content-type") ?? "", text: await response.text() }
  })

/** The sum of a metric's samples in exposition text whose labels include `labels` (0 when absent). */
export const valueIn = (text: string, name: string, labels: Record<string, string> = {}): number =>
  text.split("\n").filter((line) => line.startsWith(`${name}{`) || line.startsWith(`${name} `)).reduce((sum, line) => {
    const match = /^[^{ ]+(?:\{(.*)\})? (\S+)$/.exec(line)
    if (match === null) return sum
    const found = Object.fromEntries([...(match[1] ?? "").matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]))
    return Object.entries(labels).every(([k, v]) => found[k] === v) ? sum + Number(match[2]) : sum
  }, 0)

/** Polls `read` every 50 ms (bounded) until `ok` holds; returns the last value. */
export const eventually = <A>(read: Effect.Effect<A>, ok: (a: A) => boolean, times = 100) =>
  read.pipe(Effect.repeat({ schedule: Schedule.spaced("50 millis"), until: ok, times }))
