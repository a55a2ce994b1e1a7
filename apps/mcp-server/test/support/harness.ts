/**
 * Test harness: runs the real transports around the in-memory ScanService double, with logs captured.
 */
import { Client, InMemoryTransport, StreamableHTTPClientTransport } from "@modelcontextprotocol/client"
import { Context, Effect, Layer, Redacted } from "effect"
import * as HttpServer from "../../src/HttpServer.js"
import * as Logging from "../../src/Logging.js"
import * as Metrics from "../../src/Metrics.js"
import type { ScanService } from "../../src/ScanService.js"
import * as Stdio from "../../src/Stdio.js"
import * as InMemoryScanService from "./InMemoryScanService.js"

/** A canary bearer token: it must never show up in logs or responses. */
export const canaryToken = "canary-token-7f3a9c1e5b2d4f60a8"
/** A second, valid token. */
export const otherToken = "second-token-0123456789abcdef"

/** Captured JSON log lines. */
export class Logs extends Context.Service<Logs, { readonly lines: Array<string> }>()("test/Logs") {}

/** The in-memory double's control handles. */
export class Double extends Context.Service<Double, InMemoryScanService.Control>()("test/Double") {}

/** A running HTTP server. */
export class Http extends Context.Service<Http, HttpServer.Running>()("test/Http") {}

/** The ScanService double, metrics and a capturing logger. */
export const baseLayer = (options: { readonly allowInlineCredentials?: boolean } = {}): Layer.Layer<ScanService | Metrics.Metrics | Logs | Double> => {
  const lines: Array<string> = []
  const double = InMemoryScanService.make(options)
  return Layer.mergeAll(
    double.layer,
    Metrics.layer,
    Layer.succeed(Logs, { lines }),
    Layer.succeed(Double, double.control),
    Logging.layer({ service: "nessus-mcp", level: "Debug", sink: (line) => lines.push(line) })
  )
}

/** The HTTP transport on a free loopback port, with two bearer tokens and a 64 KiB body limit. */
export const httpLayer = Layer.effect(
  Http,
  HttpServer.serve({
    host: "127.0.0.1",
    port: 0,
    bearerTokens: [
      { name: "canary", token: Redacted.make(canaryToken) },
      { name: "ci", token: Redacted.make(otherToken) }
    ],
    allowedHosts: ["mcp.example.test"],
    maxBodyBytes: 64 * 1024,
    readiness: [{ name: "config", run: Effect.void }]
  })
).pipe(Layer.provideMerge(baseLayer()))

/** Connects an SDK client over Streamable HTTP; `mode` picks the protocol era negotiation. */
export const connectHttp = (url: string, options: { readonly token?: string; readonly mode?: "legacy" | "auto" } = {}) =>
  Effect.acquireRelease(
    Effect.promise(async () => {
      const client = new Client({ name: "nessus-mcp-test", version: "1.0.0" }, { versionNegotiation: { mode: options.mode ?? "legacy" } })
      const transport = new StreamableHTTPClientTransport(new URL(url), {
        requestInit: { headers: options.token ? { authorization: `Bearer ${options.token}` } : {} }
      })
      await client.connect(transport)
      return client
    }),
    (client) => Effect.promise(() => client.close().catch(() => undefined))
  )

/** Connects an SDK client to the stdio serving entry over an in-memory linked pair. */
export const connectLinked = (mode: "legacy" | "auto" = "legacy") =>
  Effect.gen(function*() {
    const [clientSide, serverSide] = InMemoryTransport.createLinkedPair()
    yield* Stdio.serve({ transport: serverSide })
    return yield* Effect.acquireRelease(
      Effect.promise(async () => {
        const client = new Client({ name: "nessus-mcp-test", version: "1.0.0" }, { versionNegotiation: { mode } })
        await client.connect(clientSide)
        return client
      }),
      (client) => Effect.promise(() => client.close().catch(() => undefined))
    )
  })

/** Parses the JSON error body of an isError result. */
export const errorOf = (result: { readonly content?: ReadonlyArray<unknown>; readonly isError?: boolean | undefined }) => {
  const first = result.content?.[0] as { type: string; text: string } | undefined
  return (JSON.parse(first?.text ?? "{}") as { error: { code: string; message: string; trace_id: string; field?: string; retryable: boolean } }).error
}
