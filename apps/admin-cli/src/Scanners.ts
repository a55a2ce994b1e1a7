/**
 * Talking to the scanners of scanners.yaml from the CLI: a `NessusClient` per scanner built from the
 * worker's own pieces (`ScannerClients.authOf` for the auth mode, `ScannerClients.tlsOf` for the TLS
 * trust; secrets stay `Redacted`), the checks of `scanners check`, and the housekeeping janitor, which is
 * the worker's `Janitor` on the worker's `ScannerClients` so the CLI cleans up exactly as the workers do.
 * Only the worker package's public entry is imported (see `.dependency-cruiser.cjs`).
 */
import { NodeHttpClient } from "@effect/platform-node"
import { NessusClient, NessusError, NessusTls } from "@nessus-mcp/nessus-client"
import type { Housekeeping, ScannerConfig, Scheduler } from "@nessus-mcp/scheduler"
import { Janitor, ScannerClients, type WorkerError, WorkerMetrics } from "@nessus-mcp/worker"
import { Clock, Duration, Effect, Layer } from "effect"
import type * as Views from "./Views.js"

/** How the scanner's certificate is trusted, in words. */
export const tlsMode = (scanner: ScannerConfig.Scanner): string =>
  scanner.url.startsWith("http:")
    ? "none (plain http)"
    : scanner.tls.caFile !== undefined
    ? `ca_file ${scanner.tls.caFile}`
    : scanner.tls.fingerprint !== undefined
    ? "pinned fingerprint"
    : scanner.tls.insecure === true
    ? "insecure (not verified)"
    : "system CAs"

/**
 * Runs `f` with a one-off client of the scanner, built as the worker builds it but with no read retries
 * (the CLI reports what it sees) and a short request timeout. The session, if any, is logged out and the
 * connection pool closed when `f` ends. A definition that cannot be turned into a client (bad auth
 * combination, unreadable CA file, bad fingerprint) fails with the worker's `scanner_invalid` error.
 */
export const withClient = <A, E>(
  scanner: ScannerConfig.Scanner,
  f: (client: NessusClient.Service) => Effect.Effect<A, E>,
  options: { readonly timeout?: Duration.Input | undefined } = {}
): Effect.Effect<A, E | NessusError.NessusError | WorkerError.WorkerError> =>
  Effect.gen(function*() {
    const auth = yield* ScannerClients.authOf(scanner)
    const connect = yield* NessusTls.undiciConnect(yield* ScannerClients.tlsOf(scanner))
    const program = Effect.gen(function*() {
      const client = yield* NessusClient.make({ url: scanner.url, auth, requestTimeout: options.timeout ?? "10 seconds", retry: false })
      return yield* f(client)
    })
    return yield* Effect.scoped(program).pipe(Effect.provide(NodeHttpClient.layerUndiciOptions({ connect })))
  })

type Check = typeof Views.ScannerCheck.Type["scanners"][number]

const loginProblem = (e: NessusError.NessusError): string =>
  e.reason === "Unauthorized" || e.reason === "Forbidden"
    ? `login refused (${e.reason}${e.nessusMessage !== undefined ? `: ${e.nessusMessage}` : ""}); check the username/password or API keys in the scanners file.`
    : `login failed: ${e.reason}${e.code !== undefined ? ` (${e.code})` : ""}.`

const isLoopback = (url: string) => {
  try {
    const host = new URL(url).hostname
    return host === "localhost" || host === "[::1]" || host.startsWith("127.")
  } catch {
    return false
  }
}

/**
 * Checks one scanner: reachability (`GET /server/status`), TLS, login (an authenticated read), the Nessus
 * version and licence (`GET /server/properties`, `scan_api`), and the API mode the worker will use, with a
 * verdict: `failed` when the worker could not run scans there, `warning` when it can but something needs
 * attention, else `ok`. Never fails; every problem is in the result.
 */
export const check = (scanner: ScannerConfig.Scanner, timeout: Duration.Input): Effect.Effect<Check> =>
  Effect.gen(function*() {
    const started = yield* Clock.currentTimeMillis
    const plainHttp = scanner.url.startsWith("http:")
    const result = {
      instance_id: scanner.instanceId,
      name: scanner.name,
      pool: scanner.pool,
      url: scanner.url,
      enabled: scanner.enabled,
      reachable: "skipped" as Check["reachable"],
      tls: { result: "skipped" as Check["reachable"], mode: tlsMode(scanner) },
      login: "skipped" as Check["login"],
      server_status: null as string | null,
      nessus_version: null as string | null,
      nessus_type: null as string | null,
      scan_api: null as boolean | null,
      api_mode_configured: scanner.apiMode,
      api_mode_used: null as Check["api_mode_used"],
      problems: [] as Array<string>,
      notes: [] as Array<string>
    }
    const warnings: Array<string> = []

    const steps = (client: NessusClient.Service) =>
      Effect.gen(function*() {
        const status = yield* Effect.result(client.serverStatus)
        if (status._tag === "Failure") {
          const e = status.failure
          if (e.reason === "Transport" && NessusError.isCertificateError(e.code)) {
            result.reachable = "ok"
            result.tls.result = "failed"
            result.problems.push(`TLS: the certificate is not trusted (${e.code}); set tls.ca_file to its CA or tls.fingerprint to its SHA-256 fingerprint.`)
          } else if (e.reason === "Unauthorized" || e.reason === "Forbidden") {
            // the client logs in before its first call when the mode needs a session
            result.reachable = "ok"
            if (!plainHttp) result.tls.result = "ok"
            result.login = "failed"
            result.problems.push(loginProblem(e))
          } else if (e.reason === "Transport" || e.reason === "Timeout") {
            result.reachable = "failed"
            result.problems.push(`unreachable: ${e.code ?? e.reason}${e.status !== undefined ? ` (HTTP ${e.status})` : ""}; check the URL, the network and that Nessus runs.`)
          } else {
            result.reachable = "ok"
            result.problems.push(`GET /server/status failed: ${e.reason}${e.status !== undefined ? ` (HTTP ${e.status})` : ""}; is this a Nessus scanner?`)
          }
          return
        }
        result.reachable = "ok"
        if (!plainHttp) result.tls.result = "ok"
        result.server_status = status.success.status
        if (status.success.status !== "ready") warnings.push(`Nessus is not ready (status ${status.success.status}${status.success.progress != null ? `, ${status.success.progress}%` : ""}); scans start once it is.`)
        const props = yield* Effect.result(client.serverProperties)
        if (props._tag === "Success") {
          const p = props.success
          result.nessus_version = p.nessus_ui_version ?? p.server_version ?? null
          result.nessus_type = p.nessus_type ?? null
          result.scan_api = p.license?.features?.scan_api ?? null
        } else {
          warnings.push(`could not read /server/properties (${props.failure.reason}); version and licence unknown.`)
        }
        const login = yield* Effect.result(client.listFolders)
        if (login._tag === "Failure") {
          result.login = "failed"
          const e = login.failure
          result.problems.push(loginProblem(e))
          return
        }
        result.login = "ok"
        const mode = yield* Effect.result(client.authMode)
        if (mode._tag === "Success") result.api_mode_used = mode.success
        if (result.scan_api === false) {
          if (result.api_mode_used === "web-ui") result.notes.push("licence has scan_api: false; scans are driven through the web UI token (web-ui mode).")
          else {
            result.problems.push(
              `licence has scan_api: false, so creating scans through the API is refused (HTTP 412) in ${result.api_mode_used ?? "this"} mode; use api_mode auto or web-ui with a username and password.`
            )
          }
        }
      })

    const ran = yield* Effect.result(withClient(scanner, steps, { timeout }).pipe(Effect.timeout(Duration.sum(Duration.fromInputUnsafe(timeout), Duration.seconds(5)))))
    if (ran._tag === "Failure") {
      const e = ran.failure as { readonly _tag?: string; readonly message?: string }
      result.problems.push(e._tag === "TimeoutError" ? "no answer in time." : `cannot build a client: ${e.message ?? String(e)}`)
    }
    if (!scanner.enabled) warnings.push("disabled in the scanners file (enabled: false): it gets no new scans.")
    if (plainHttp && !isLoopback(scanner.url)) warnings.push("plain http: the scanner login travels unencrypted; use https.")
    result.notes.push(...warnings)
    const verdict: Check["verdict"] = result.problems.length > 0 ? "failed" : warnings.length > 0 ? "warning" : "ok"
    return { ...result, verdict, elapsed_ms: (yield* Clock.currentTimeMillis) - started }
  })

/**
 * The housekeeping janitor of the CLI: the worker's `Janitor` (stop a stale task's scan, delete an expired
 * task's `DATA_DIR/<task>/`, delete finished scans this system created that last changed before the
 * cut-off) on the worker's `ScannerClients`, whose clients are logged out when the command ends. The
 * worker's metrics instruments exist only because the clients count their calls; nothing serves them.
 */
export const janitor = (options: {
  readonly dataDir: string
  readonly folder?: string | undefined
}): Layer.Layer<Housekeeping.ScanJanitor, never, ScannerConfig.ScannerConfig | Scheduler.Scheduler> =>
  Janitor.layer({ dataDir: options.dataDir, folder: options.folder }).pipe(
    Layer.provide(ScannerClients.layer({ requestTimeout: "10 seconds" })),
    Layer.provide(WorkerMetrics.layer({ processMetrics: false, sharedState: false }))
  )
