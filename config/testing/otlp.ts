/**
 * A tiny OTLP/HTTP receiver for tests: listens on 127.0.0.1 (free port) and keeps every request body with
 * its path (`/v1/traces`, ...) and content type, answering 200. Tests point `OTEL_EXPORTER_OTLP_ENDPOINT`
 * at `url` and inspect `bodies` (OTLP/JSON or protobuf).
 */
import { createServer, type IncomingMessage } from "node:http"
import type { AddressInfo } from "node:net"

/** One received export request. */
export interface OtlpRequest {
  readonly path: string
  readonly type: string
  readonly body: Buffer
}

/** A running receiver. */
export interface OtlpReceiver {
  /** Base URL, e.g. `http://127.0.0.1:43117` (the exporters append `/v1/traces`). */
  readonly url: string
  readonly bodies: ReadonlyArray<OtlpRequest>
  readonly close: () => Promise<void>
}

/** Starts a receiver on a free loopback port. */
export const startOtlpReceiver = (): Promise<OtlpReceiver> =>
  new Promise((resolve, reject) => {
    const bodies: Array<OtlpRequest> = []
    const server = createServer((req: IncomingMessage, res) => {
      const chunks: Array<Buffer> = []
      req.on("data", (c: Buffer) => chunks.push(c))
      req.on("end", () => {
        bodies.push({ path: req.url ?? "", type: req.headers["content-type"] ?? "", body: Buffer.concat(chunks) })
        res.writeHead(200, { "content-type": "application/json" }).end("{}")
      })
    })
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const port = (server.address() as AddressInfo).port
      resolve({
        url: `http://127.0.0.1:${port}`,
        bodies,
        close: () => new Promise<void>((done) => server.close(() => done()))
      })
    })
  })
