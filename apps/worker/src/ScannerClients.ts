/**
 * One `NessusClient` per scanner instance, built from the scanners file (URL, auth mode, TLS trust,
 * credentials as `Redacted`) the first time a scanner is needed and reused afterwards: a session login
 * is made once per scanner, not per task.
 *
 * Clients follow reloads of the scanners file: a scanner a reload added gets a client when first needed; one
 * whose URL, API mode, username, password or keys, or TLS settings changed gets a new client (the previous one
 * stays open until the worker stops, since tasks that started on it still use it); a scanner a reload removed
 * keeps its last-known definition and client, so the scans already running there (also ones this worker takes
 * over after another worker died) can be finished. Every HTTP exchange is counted in
 * `nessus_nessus_api_calls_total{scanner_instance,endpoint,status}` (ids in paths become `{id}`).
 *
 * | scanners.yaml | client auth |
 * | --- | --- |
 * | username/password, `api_mode: auto` | `auto` (reads `license.features.scan_api`; web-UI token when the API is gated) |
 * | username/password, `api_mode: api` | `session` |
 * | username/password, `api_mode: web-ui` | `web-ui` |
 * | access_key/secret_key, `auto` or `api` | `api-keys` |
 *
 * TLS: `tls.ca_file` (PEM read at build time), `tls.fingerprint` (pinned SHA-256), `tls.insecure`, else
 * the system CAs.
 */
import { NodeHttpClient } from "@effect/platform-node"
import { NessusClient, NessusTls } from "@nessus-mcp/nessus-client"
import { ScannerConfig } from "@nessus-mcp/scheduler"
import { Context, Duration, Effect, Exit, Layer, Redacted, Scope, Semaphore } from "effect"
import { HttpClient } from "effect/http"
import { createHash } from "node:crypto"
import { readFile } from "node:fs/promises"
import * as WorkerError from "./WorkerError.js"
import { WorkerMetrics } from "./WorkerMetrics.js"

/**
 * Client settings shared by every scanner.
 *
 * @category models
 */
export interface Options {
  /** Per HTTP exchange (default 30 s). */
  readonly requestTimeout?: Duration.Input | undefined
  /** How long an export may stay `loading` (default 30 minutes: big scans take a while to render). */
  readonly exportTimeout?: Duration.Input | undefined
  /** Retries of idempotent reads inside the client (default: the client's 3 retries from 250 ms). */
  readonly readRetry?: NessusClient.RetryOptions | false | undefined
  /** Export status polling (default: the client's, 250 ms ×1.5 up to 5 s). */
  readonly exportPollInterval?: NessusClient.Options["exportPollInterval"]
}

/**
 * The clients service.
 *
 * - `get(scanner)`: the client of this scanner definition (built once, cached by instance id; rebuilt when
 *   the definition's connection settings differ from the cached one's).
 * - `forInstance(id)`: the scanner of the current configuration and its client; for a scanner a reload
 *   removed, its last-known definition and client (fails with `config_invalid` only for a scanner this
 *   service never saw).
 *
 * @category services
 */
export class ScannerClients extends Context.Service<ScannerClients, {
  readonly get: (scanner: ScannerConfig.Scanner) => Effect.Effect<NessusClient.Service, WorkerError.WorkerError>
  readonly forInstance: (instanceId: string) => Effect.Effect<
    { readonly scanner: ScannerConfig.Scanner; readonly client: NessusClient.Service },
    WorkerError.WorkerError
  >
}>()("@nessus-mcp/worker/ScannerClients") {}

/**
 * The client auth for a scanner definition (see the table above).
 *
 * @category constructors
 */
export const authOf = (scanner: ScannerConfig.Scanner): Effect.Effect<NessusClient.Auth, WorkerError.WorkerError> => {
  const auth = scanner.auth
  if (auth._tag === "ApiKeys") {
    return scanner.apiMode === "web-ui"
      ? Effect.fail(
        WorkerError.make(
          "scanner_invalid",
          `Scanner ${scanner.instanceId}: api_mode web-ui needs a username and password (the web UI token comes with a session); API keys cannot drive it.`
        )
      )
      : Effect.succeed({ mode: "api-keys", accessKey: auth.accessKey, secretKey: auth.secretKey })
  }
  switch (scanner.apiMode) {
    case "api":
      return Effect.succeed({ mode: "session", username: auth.username, password: auth.password })
    case "web-ui":
      return Effect.succeed({ mode: "web-ui", username: auth.username, password: auth.password })
    case "auto":
      return Effect.succeed({ mode: "auto", username: auth.username, password: auth.password })
  }
}

/**
 * The TLS choices of a scanner definition (reads `ca_file`).
 *
 * @category constructors
 */
export const tlsOf = (scanner: ScannerConfig.Scanner): Effect.Effect<NessusTls.Options, WorkerError.WorkerError> =>
  Effect.gen(function*() {
    const tls = scanner.tls
    const caFile = tls.caFile
    const ca = caFile === undefined ? undefined : yield* Effect.tryPromise({
      try: () => readFile(caFile, "utf8"),
      catch: (cause) =>
        WorkerError.make(
          "scanner_invalid",
          `Scanner ${scanner.instanceId}: cannot read tls.ca_file ${caFile} (${(cause as NodeJS.ErrnoException).code ?? String(cause)}); mount the CA certificate there or fix the path in the scanners file.`,
          cause
        )
    })
    return {
      ...(ca !== undefined ? { ca } : {}),
      ...(tls.fingerprint !== undefined ? { fingerprint256: tls.fingerprint } : {}),
      ...(tls.insecure === true ? { insecure: true } : {})
    }
  })

/**
 * The label of an HTTP call for metrics: method and path with numeric ids and tokens replaced
 * (`GET /scans/{id}`, `GET /tokens/{token}/download`).
 *
 * @category accessors
 */
export const endpointOf = (method: string, url: string): string => {
  let path: string
  try {
    path = new URL(url).pathname
  } catch {
    path = url.split("?")[0] ?? url
  }
  const normalised = path
    .split("/")
    .map((segment, i, all) =>
      /^\d+$/.test(segment) ? "{id}" : all[i - 1] === "tokens" && segment !== "" ? "{token}" : segment
    )
    .join("/")
  return `${method.toUpperCase()} ${normalised}`
}

// A digest, not the secret: the fingerprint is only compared, but it should not hold a password in the clear.
const digest = (secret: Redacted.Redacted<string>): string => createHash("sha256").update(Redacted.value(secret)).digest("base64")

// What a client is built from: a change of any of these (by a reload) needs a new client.
const fingerprint = (s: ScannerConfig.Scanner): string =>
  JSON.stringify([
    s.url,
    s.apiMode,
    s.auth._tag,
    s.auth._tag === "Password" ? [s.auth.username, digest(s.auth.password)] : [digest(s.auth.accessKey), digest(s.auth.secretKey)],
    s.tls.caFile ?? "",
    s.tls.fingerprint ?? "",
    s.tls.insecure ?? false
  ])

/**
 * Builds the service; clients live as long as the surrounding scope (their sessions are logged out when
 * it closes).
 *
 * @category constructors
 */
export const make = (
  options: Options = {}
): Effect.Effect<ScannerClients["Service"], never, ScannerConfig.ScannerConfig | WorkerMetrics | Scope.Scope> =>
  Effect.gen(function*() {
    const config = yield* ScannerConfig.ScannerConfig
    const metrics = yield* WorkerMetrics
    const scope = yield* Scope.Scope
    const lock = yield* Semaphore.make(1)
    const cache = new Map<string, { readonly key: string; readonly client: NessusClient.Service }>()
    // The last definition seen of every scanner (from the configuration in force whenever it is read, and
    // from `get`), so a scanner removed by a reload can still finish the scans running on it.
    const lastKnown = new Map<string, ScannerConfig.Scanner>()
    const remember = (c: ScannerConfig.Config) => {
      for (const p of c.pools) for (const s of p.scanners) lastKnown.set(s.instanceId, s)
    }
    remember(yield* config.current)

    const counting = (instanceId: string) =>
      Layer.effect(
        HttpClient.HttpClient,
        Effect.map(HttpClient.HttpClient, (client) =>
          HttpClient.transform(client, (effect, request) =>
            Effect.onExit(effect, (exit) =>
              Effect.sync(() =>
                metrics.apiCall(
                  instanceId,
                  endpointOf(request.method, request.url),
                  Exit.isSuccess(exit) ? String(exit.value.status) : Exit.hasInterrupts(exit) ? "timeout" : "error"
                )
              )
            )
          ))
      )

    const build = (scanner: ScannerConfig.Scanner) =>
      Effect.gen(function*() {
        const auth = yield* authOf(scanner)
        const connect = yield* NessusTls.undiciConnect(yield* tlsOf(scanner)).pipe(
          Effect.mapError((e) => WorkerError.make("scanner_invalid", `Scanner ${scanner.instanceId}: ${e.message}`, e))
        )
        const clientScope = yield* Scope.fork(scope)
        const http = counting(scanner.instanceId).pipe(
          Layer.provide(NodeHttpClient.layerUndiciOptions({ connect }))
        )
        const context = yield* Layer.buildWithScope(http, clientScope)
        const client = yield* NessusClient.make({
          url: scanner.url,
          auth,
          requestTimeout: options.requestTimeout,
          exportTimeout: options.exportTimeout ?? "30 minutes",
          retry: options.readRetry,
          exportPollInterval: options.exportPollInterval
        }).pipe(
          Effect.provide(context),
          Scope.provide(clientScope),
          Effect.mapError((e) => WorkerError.make("scanner_invalid", `Scanner ${scanner.instanceId}: ${e.message}`, e))
        )
        return { client, scope: clientScope }
      })

    const get = (scanner: ScannerConfig.Scanner) =>
      lock.withPermits(1)(Effect.gen(function*() {
        lastKnown.set(scanner.instanceId, scanner)
        const key = fingerprint(scanner)
        const existing = cache.get(scanner.instanceId)
        if (existing !== undefined && existing.key === key) return existing.client
        // The replaced client is not closed here: tasks that started on it keep using it until they end; its
        // scope closes with the service's.
        const built = yield* build(scanner)
        cache.set(scanner.instanceId, { key, client: built.client })
        return built.client
      }))

    const forInstance = (instanceId: string) =>
      Effect.gen(function*() {
        const current = yield* config.current
        remember(current)
        const scanner = ScannerConfig.scannerOf(current, instanceId)
        if (scanner !== undefined) return { scanner, client: yield* get(scanner) }
        const removed = lastKnown.get(instanceId)
        if (removed === undefined) {
          return yield* Effect.fail(
            WorkerError.make(
              "config_invalid",
              `Scanner "${instanceId}" is not in ${current.file} and this worker never saw it (it was removed or renamed before this worker read the file); add it back to the file and reload (SIGHUP or nessus-admin config reload) so its scans can be finished.`
            )
          )
        }
        yield* Effect.logDebug(`scanner ${instanceId} is no longer in ${current.file}; using its last-known settings for a task already running there`)
        return { scanner: removed, client: yield* get(removed) }
      })

    return ScannerClients.of({ get, forInstance })
  })

/**
 * The service for the lifetime of the layer.
 *
 * @category layers
 */
export const layer = (options: Options = {}): Layer.Layer<ScannerClients, never, ScannerConfig.ScannerConfig | WorkerMetrics> =>
  Layer.effect(ScannerClients, make(options))
