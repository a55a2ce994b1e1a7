/**
 * Streamable HTTP on a plain `node:http` server: `/mcp` (the SDK v2 `createMcpHandler`, which serves
 * 2026-07-28 clients natively and 2025-era clients such as the MCP Inspector through its stateless legacy
 * leg), `/health/live`, `/health/ready` (`/health` is an alias) and `/metrics`.
 *
 * Security, in the order applied to every request: the `Host` header must name a loopback host or a
 * configured one, and a browser `Origin` must too (DNS rebinding); `/mcp` then needs a configured bearer
 * token (compared in constant time; 401 with `WWW-Authenticate` before any body is read) and a body within
 * the size limit (413). Without tokens the server only listens on loopback addresses: asked to bind
 * anything else, it refuses to start.
 */
import {
  createMcpHandler,
  type HostHeaderValidationResult,
  validateHostHeader,
  validateOriginHeader,
  type AuthInfo
} from "@modelcontextprotocol/server"
import { Context, Data, Effect, Redacted, Scope } from "effect"
import { hash, timingSafeEqual } from "node:crypto"
import * as http from "node:http"
import { isIP } from "node:net"
import * as Health from "./Health.js"
import * as McpServer from "./McpServer.js"
import { Metrics } from "./Metrics.js"
import type { ScanService } from "./ScanService.js"
import type { BearerToken } from "./ServerConfig.js"

/**
 * What the HTTP transport needs.
 *
 * @category models
 */
export interface Options {
  readonly host: string
  /** 0 picks a free port. */
  readonly port: number
  readonly bearerTokens: ReadonlyArray<BearerToken>
  /** Hostnames accepted in `Host`/`Origin` besides loopback ones (no ports). */
  readonly allowedHosts: ReadonlyArray<string>
  readonly maxBodyBytes: number
  readonly readiness: ReadonlyArray<Health.Check>
}

/**
 * The transport could not start.
 *
 * @category errors
 */
export class HttpStartError extends Data.TaggedError("HttpStartError")<{
  readonly reason: "Unauthenticated" | "Listen"
  readonly message: string
}> {}

/**
 * A listening server.
 *
 * @category models
 */
export interface Running {
  readonly port: number
  /** e.g. `http://127.0.0.1:8000/mcp` */
  readonly mcpUrl: string
  readonly baseUrl: string
}

/**
 * Whether `host` is a loopback name or address (`localhost`, `127.0.0.0/8`, `::1`).
 *
 * @category guards
 */
export const isLoopback = (host: string): boolean => {
  const h = host.replace(/^\[|\]$/g, "").toLowerCase()
  if (h === "localhost" || h === "::1" || h === "0:0:0:0:0:0:0:1") return true
  return isIP(h) === 4 && h.startsWith("127.")
}

// The one-shot `hash` (no Hash object per request); the same SHA-256 bytes as createHash(...).digest().
const digest = (value: string): Buffer => hash("sha256", value, "buffer")

/**
 * Finds the token's name, comparing against every configured token in constant time (SHA-256 digests make
 * lengths equal; the loop never exits early).
 *
 * @category auth
 */
export const authenticate = (tokens: ReadonlyArray<BearerToken>, presented: string): string | undefined => {
  const presentedDigest = digest(presented)
  let found: string | undefined
  for (const token of tokens) {
    if (timingSafeEqual(presentedDigest, tokenDigest(token)) && found === undefined) found = token.name
  }
  return found
}

// Digests of the configured tokens, computed once per token rather than on every request.
const tokenDigests = new WeakMap<BearerToken, Buffer>()
const tokenDigest = (token: BearerToken): Buffer => {
  let d = tokenDigests.get(token)
  if (d === undefined) {
    d = digest(Redacted.value(token.token))
    tokenDigests.set(token, d)
  }
  return d
}

const json = (res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void => {
  const text = JSON.stringify(body)
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text), ...headers })
  res.end(text)
}

const jsonRpcError = (res: http.ServerResponse, status: number, message: string, headers: Record<string, string> = {}): void =>
  json(res, status, { jsonrpc: "2.0", error: { code: -32000, message }, id: null }, headers)

type BodyResult =
  | { readonly tooLarge: true; readonly drained: boolean }
  | { readonly tooLarge: false; readonly body: Buffer }

// Bodies a little over the limit are drained so the client reliably reads the 413; far larger ones are cut off.
const readBody = (req: http.IncomingMessage, limit: number): Promise<BodyResult> =>
  new Promise((resolve, reject) => {
    const hardCap = limit * 8
    const declared = Number(req.headers["content-length"])
    if (Number.isFinite(declared) && declared > hardCap) {
      resolve({ tooLarge: true, drained: false })
      return
    }
    const chunks: Array<Buffer> = []
    let size = 0
    req.on("data", (chunk: Buffer) => {
      size += chunk.length
      if (size <= limit) chunks.push(chunk)
      else if (size > hardCap) resolve({ tooLarge: true, drained: false })
    })
    req.once("end", () => resolve(size > limit ? { tooLarge: true, drained: true } : { tooLarge: false, body: Buffer.concat(chunks) }))
    req.once("error", reject)
  })

const parseJson = (body: Buffer): unknown => {
  if (body.length === 0) return undefined
  try {
    return JSON.parse(body.toString("utf8"))
  } catch {
    return undefined
  }
}

const toHeaders = (req: http.IncomingMessage): Headers => {
  const headers = new Headers()
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue
    if (Array.isArray(value)) for (const v of value) headers.append(name, v)
    else headers.set(name, value)
  }
  return headers
}

const writeWebResponse = async (response: Response, res: http.ServerResponse): Promise<void> => {
  const headers: Record<string, string> = {}
  response.headers.forEach((value, name) => {
    headers[name] = value
  })
  res.writeHead(response.status, headers)
  if (response.body === null) {
    res.end()
    return
  }
  const reader = response.body.getReader()
  res.once("close", () => void reader.cancel().catch(() => undefined))
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    if (!res.write(value)) await new Promise<void>((resolve) => res.once("drain", () => resolve()))
  }
  res.end()
}

/**
 * Starts the HTTP transport in the current scope (closed with it).
 *
 * @category constructors
 */
export const serve = (options: Options): Effect.Effect<Running, HttpStartError, Scope.Scope | ScanService | Metrics> =>
  Effect.gen(function*() {
    if (options.bearerTokens.length === 0 && !isLoopback(options.host)) {
      return yield* new HttpStartError({
        reason: "Unauthenticated",
        message: `Refusing to listen on ${options.host}: it is not a loopback address and MCP_BEARER_TOKENS is empty, ` +
          "so anyone who can reach it could run scans. Set MCP_BEARER_TOKENS=name:token[,name:token...] " +
          "(tokens of at least 16 characters), or bind to 127.0.0.1 with --host/MCP_HOST."
      })
    }
    const context = yield* Effect.context<ScanService | Metrics>()
    const run = Effect.runPromiseWith(context)
    const metrics = Context.get(context, Metrics)
    const log = (level: "Debug" | "Info" | "Warn" | "Error", message: string, annotations: Record<string, unknown> = {}) =>
      void run(Effect.logWithLevel(level)(message).pipe(Effect.annotateLogs(annotations))).catch(() => undefined)

    // The tool each in-flight request calls, read from the body we parse anyway, for the factory (below).
    const calledTools = new WeakMap<Request, string>()
    const factory = yield* McpServer.makeFactory({
      defaultPrincipal: "anonymous",
      calledToolOf: (context) => (context.requestInfo === undefined ? undefined : calledTools.get(context.requestInfo))
    })
    const handler = createMcpHandler(factory, {
      legacy: "stateless",
      maxRequestBodySize: options.maxBodyBytes,
      onerror: (error) => log("Debug", `mcp handler: ${error.message}`)
    })

    const allowedHosts = [
      "localhost",
      "127.0.0.1",
      "[::1]",
      ...options.allowedHosts.map((h) => (isIP(h) === 6 ? `[${h}]` : h)),
      ...(isLoopback(options.host) || options.host === "0.0.0.0" || options.host === "::"
        ? []
        : [isIP(options.host) === 6 ? `[${options.host}]` : options.host])
    ]
    const authRequired = options.bearerTokens.length > 0

    const handleMcp = async (req: http.IncomingMessage, res: http.ServerResponse, url: URL): Promise<void> => {
      let principal = "anonymous"
      if (authRequired) {
        const header = req.headers.authorization ?? ""
        const match = /^Bearer\s+(\S+)\s*$/i.exec(header)
        const name = match ? authenticate(options.bearerTokens, match[1]!) : undefined
        if (name === undefined) {
          log("Warn", match ? "rejected request with an unknown bearer token" : "rejected request without a bearer token", {
            path: url.pathname,
            remote: req.socket.remoteAddress
          })
          const challenge = match
            ? `Bearer realm="nessus-mcp", error="invalid_token", error_description="The bearer token is not valid"`
            : `Bearer realm="nessus-mcp"`
          req.resume()
          json(res, 401, { error: match ? "invalid_token" : "unauthorized", error_description: "A valid bearer token is required for /mcp." }, {
            "www-authenticate": challenge
          })
          return
        }
        principal = name
      }
      let body: Buffer | undefined
      if (req.method === "POST") {
        const read = await readBody(req, options.maxBodyBytes)
        if (read.tooLarge) {
          log("Warn", "rejected an oversized request body", { principal, limit_bytes: options.maxBodyBytes })
          if (read.drained) {
            jsonRpcError(res, 413, `Request body exceeds ${options.maxBodyBytes} bytes.`)
          } else {
            res.once("finish", () => req.destroy())
            jsonRpcError(res, 413, `Request body exceeds ${options.maxBodyBytes} bytes.`, { connection: "close" })
          }
          return
        }
        body = read.body
      }
      const abort = new AbortController()
      res.once("close", () => abort.abort())
      const request = new Request(url, {
        method: req.method ?? "GET",
        headers: toHeaders(req),
        signal: abort.signal,
        ...(body === undefined ? {} : { body: new Uint8Array(body) })
      })
      const authInfo: AuthInfo = { token: "[redacted]", clientId: principal, scopes: [] }
      // The body is parsed here, once, and handed to the SDK as `parsedBody` (it then neither clones nor re-reads
      // the request); a body that is not JSON is left to the SDK, which answers it as it always does.
      const parsedBody = body === undefined ? undefined : parseJson(body)
      const tool = McpServer.calledTool(parsedBody)
      if (tool !== undefined) calledTools.set(request, tool)
      const response = await handler.fetch(request, parsedBody === undefined ? { authInfo } : { authInfo, parsedBody })
      await writeWebResponse(response, res)
    }

    // validateHostHeader parses the header as a URL on every request; its answer only depends on the header, so
    // accepted values (a client sends the same one on every request) are remembered, a bounded few.
    const acceptedHosts = new Map<string, HostHeaderValidationResult>()
    const checkHost = (host: string | undefined): HostHeaderValidationResult => {
      const known = host === undefined ? undefined : acceptedHosts.get(host)
      if (known !== undefined) return known
      const check = validateHostHeader(host, allowedHosts)
      if (check.ok && host !== undefined && acceptedHosts.size < 64) acceptedHosts.set(host, check)
      return check
    }

    const listener = (req: http.IncomingMessage, res: http.ServerResponse): void => {
      const hostCheck = checkHost(req.headers.host)
      if (!hostCheck.ok) {
        log("Warn", "rejected request for a host that is not allowed (DNS rebinding protection)", { code: hostCheck.errorCode })
        req.resume()
        jsonRpcError(res, 403, `Forbidden: ${hostCheck.message}`)
        return
      }
      const originCheck = validateOriginHeader(req.headers.origin, allowedHosts)
      if (!originCheck.ok) {
        log("Warn", "rejected request from an origin that is not allowed (DNS rebinding protection)", { code: originCheck.errorCode })
        req.resume()
        jsonRpcError(res, 403, `Forbidden: ${originCheck.message}`)
        return
      }
      const url = new URL(req.url ?? "/", `http://${req.headers.host}`)
      const route = url.pathname.replace(/\/+$/, "") || "/"
      const respond = async (): Promise<void> => {
        switch (route) {
          case "/mcp":
            return handleMcp(req, res, url)
          case "/health/live":
            req.resume()
            return json(res, 200, { status: "ok" })
          case "/health":
          case "/health/ready": {
            req.resume()
            const report = await run(Health.ready(options.readiness))
            return json(res, report.status === "ok" ? 200 : 503, report)
          }
          case "/metrics": {
            req.resume()
            const { body, contentType } = await run(metrics.scrape)
            res.writeHead(200, { "content-type": contentType })
            res.end(body)
            return
          }
          default:
            req.resume()
            return json(res, 404, { error: "not_found", error_description: "Try /mcp, /health/live, /health/ready or /metrics." })
        }
      }
      respond().catch((error: unknown) => {
        log("Error", `http request failed: ${error instanceof Error ? error.message : String(error)}`, { path: route })
        if (!res.headersSent) jsonRpcError(res, 500, "Internal server error.")
        else res.destroy()
      })
    }

    const server = http.createServer({ requestTimeout: 120_000 }, listener)
    const port = yield* Effect.acquireRelease(
      Effect.callback<number, HttpStartError>((resume) => {
        server.once("error", (error: NodeJS.ErrnoException) =>
          resume(Effect.fail(new HttpStartError({
            reason: "Listen",
            message: `Cannot listen on ${options.host}:${options.port} (${error.code ?? error.message}). ` +
              "Choose another --port/MCP_PORT or stop the process using it."
          }))))
        server.listen(options.port, options.host, () => {
          const address = server.address()
          resume(Effect.succeed(typeof address === "object" && address !== null ? address.port : options.port))
        })
      }),
      () =>
        Effect.promise(async () => {
          await handler.close()
          server.closeAllConnections()
          await new Promise<void>((resolve) => server.close(() => resolve()))
        })
    )
    const hostForUrl = isIP(options.host) === 6 ? `[${options.host}]` : options.host === "0.0.0.0" ? "127.0.0.1" : options.host
    const baseUrl = `http://${hostForUrl}:${port}`
    yield* Effect.logInfo(`listening on ${baseUrl}/mcp`).pipe(
      Effect.annotateLogs({ auth: authRequired ? `bearer (${options.bearerTokens.map((t) => t.name).join(", ")})` : "none (loopback only)" })
    )
    return { port, baseUrl, mcpUrl: `${baseUrl}/mcp` }
  })
