/**
 * The stdio transport: MCP over the process's stdin/stdout through the SDK v2 `serveStdio` entry, which pins
 * each connection to the protocol era the client opens with (2026-07-28 `server/discover`, or the 2025
 * `initialize` handshake). stdout carries only protocol messages; logs go to stderr.
 */
import type { Transport } from "@modelcontextprotocol/server"
import { serveStdio, StdioServerTransport } from "@modelcontextprotocol/server/stdio"
import { Effect, Scope } from "effect"
import type { Readable, Writable } from "node:stream"
import * as McpServer from "./McpServer.js"
import type { Metrics } from "./Metrics.js"
import type { ScanService } from "./ScanService.js"

/**
 * Serves one stdio connection in the current scope, until the scope closes. `transport` defaults to the
 * process's stdin/stdout; tests pass an in-memory transport.
 *
 * @category constructors
 */
export const serve = (options: { readonly transport?: Transport | undefined } = {}): Effect.Effect<void, never, Scope.Scope | ScanService | Metrics> =>
  Effect.gen(function*() {
    const factory = yield* McpServer.makeFactory({ defaultPrincipal: "stdio" })
    const context = yield* Effect.context<never>()
    const onerror = (error: Error) =>
      void Effect.runPromiseWith(context)(Effect.logDebug(`stdio transport: ${error.message}`)).catch(() => undefined)
    yield* Effect.acquireRelease(
      Effect.sync(() => serveStdio(factory, { ...(options.transport ? { transport: options.transport } : {}), onerror })),
      (handle) => Effect.promise(() => handle.close())
    )
  })

/**
 * Serves MCP on `input`/`output` (default: the process's stdin/stdout) until `input` ends, as `nessus-mcp
 * --transport stdio` does when an MCP client launches it.
 *
 * @category constructors
 */
export const serveUntilEnd = (
  input: Readable = process.stdin,
  output: Writable = process.stdout
): Effect.Effect<void, never, ScanService | Metrics> =>
  Effect.scoped(
    Effect.gen(function*() {
      yield* serve({ transport: new StdioServerTransport(input, output) })
      yield* Effect.logInfo("serving MCP on stdio")
      yield* Effect.callback<void>((resume) => {
        const done = () => resume(Effect.void)
        input.once("end", done)
        input.once("close", done)
        return Effect.sync(() => {
          input.off("end", done)
          input.off("close", done)
        })
      })
      yield* Effect.logInfo("stdin closed, stopping")
    })
  )
