/**
 * A typed client for one Tenable Nessus scanner's REST API, on `effect/http`'s `HttpClient` (the
 * transport, TLS included, is the application's choice: see `NessusTls`).
 *
 * @example
 * ```ts
 * import { Effect, Layer, Redacted } from "effect"
 * import { NodeHttpClient } from "@effect/platform-node"
 * import { NessusClient } from "@nessus-mcp/nessus-client"
 *
 * const NessusLive = NessusClient.layer({
 *   url: "https://127.0.0.1:8834",
 *   auth: { mode: "auto", username: "nessus", password: Redacted.make("nessus") }
 * }).pipe(Layer.provide(NodeHttpClient.layerUndici))
 *
 * const program = Effect.gen(function*() {
 *   const nessus = yield* NessusClient.NessusClient
 *   const scan = yield* nessus.createScan({ name: "nightly-web", targets: ["10.0.0.5"] })
 *   yield* nessus.launchScan(scan.id)
 *   return (yield* nessus.scanProgress(scan.id)).percent
 * }).pipe(Effect.provide(NessusLive))
 * ```
 */
import { Config, Context, Duration, Effect, type FileSystem, Layer, Option, Redacted, Schedule } from "effect"
import type { HttpClient } from "effect/http"
import type * as Scope from "effect/Scope"
import type * as Stream from "effect/Stream"
import * as internal from "./internal/client.js"
import { NessusError } from "./NessusError.js"
import type * as NessusModel from "./NessusModel.js"

/**
 * How to authenticate.
 *
 * - `api-keys`: `X-ApiKeys` on every request; no session.
 * - `session`: `POST /session` once, then `X-Cookie: token=…`; a session Nessus stops accepting (401) is
 *   renewed once per request, transparently; `DELETE /session` when the client's scope closes.
 * - `web-ui`: a session plus the web UI's `X-API-Token` read from `/nessus6.js`, which is what lets
 *   editions with `scan_api: false` (Essentials, Professional >= 7) create and control scans; the token
 *   is read again when Nessus refuses it (412).
 * - `auto`: reads `GET /server/properties` on first use: with `license.features.scan_api` true it
 *   uses the API keys if given, else a session; with it false, `web-ui` when a username and password are
 *   given (else API keys, which can then only read and export).
 *
 * @category models
 */
export type Auth =
  | {
    readonly mode: "api-keys"
    readonly accessKey: Redacted.Redacted<string>
    readonly secretKey: Redacted.Redacted<string>
  }
  | { readonly mode: "session"; readonly username: string; readonly password: Redacted.Redacted<string> }
  | { readonly mode: "web-ui"; readonly username: string; readonly password: Redacted.Redacted<string> }
  | {
    readonly mode: "auto"
    readonly username?: string | undefined
    readonly password?: Redacted.Redacted<string> | undefined
    readonly accessKey?: Redacted.Redacted<string> | undefined
    readonly secretKey?: Redacted.Redacted<string> | undefined
  }

/**
 * The auth mode in effect (`auto` resolved).
 *
 * @category models
 */
export type AuthMode = "api-keys" | "session" | "web-ui"

/**
 * Retry policy for idempotent reads (GETs): exponential backoff from `base` (default 250 ms, doubling,
 * jittered, each delay capped at `maxDelay`, default 5 s, and at least a 429's `Retry-After`), at most
 * `times` retries (default 3). Writes are never retried by the client.
 *
 * @category models
 */
export interface RetryOptions {
  readonly times?: number | undefined
  readonly base?: Duration.Input | undefined
  readonly maxDelay?: Duration.Input | undefined
}

/**
 * Client options. `url` is the scanner's base URL (`https://host:8834`).
 *
 * @category models
 */
export interface Options {
  readonly url: string
  readonly auth: Auth
  /** Time allowed for each HTTP exchange (response head, and separately its JSON body). Default 30 s. */
  readonly requestTimeout?: Duration.Input | undefined
  /** Retries of idempotent reads; `false` turns them off. */
  readonly retry?: RetryOptions | false | undefined
  /** How long `awaitExport` waits for an export to leave `loading`. Default 5 minutes. */
  readonly exportTimeout?: Duration.Input | undefined
  /** Export status polling: backoff from `initial` (default 250 ms, ×1.5) up to `max` (default 5 s). */
  readonly exportPollInterval?: {
    readonly initial?: Duration.Input | undefined
    readonly max?: Duration.Input | undefined
  } | undefined
}

/**
 * A requested export. `via` says which URLs serve it: `/scans/{id}/export/{file}/…` (all versions) or
 * `/tokens/{token}/…` (Nessus >= 8, when a token was returned).
 *
 * @category models
 */
export interface ExportHandle {
  readonly scanId: number
  readonly file: number
  readonly token: Option.Option<Redacted.Redacted<string>>
  readonly via: "file" | "token"
}

/**
 * Options naming one run of a scan (`history_id`); the latest run when absent.
 *
 * @category models
 */
export interface HistoryOptions {
  readonly historyId?: number | undefined
}

/**
 * Options of `exportScan` / `exportScanToFile`.
 *
 * @category models
 */
export interface ExportOptions extends HistoryOptions {
  readonly via?: "file" | "token" | undefined
  readonly timeout?: Duration.Input | undefined
}

/**
 * A scan's status and one overall progress percentage (see `NessusModel.progressPercent`).
 *
 * @category models
 */
export interface ScanProgress {
  readonly status: NessusModel.ScanStatus
  readonly percent: number
  readonly details: NessusModel.ScanDetails
}

/**
 * The operations. Every one fails only with `NessusError`.
 *
 * @category models
 */
export interface Service {
  /** The scanner's base URL. */
  readonly url: string
  /** The auth mode in effect (authenticates, and resolves `auto`, if not done yet). */
  readonly authMode: Effect.Effect<AuthMode, NessusError>
  /** `GET /server/status` (also decoded when Nessus answers 503 while starting). */
  readonly serverStatus: Effect.Effect<NessusModel.ServerStatus, NessusError>
  /** `GET /server/properties`. */
  readonly serverProperties: Effect.Effect<NessusModel.ServerProperties, NessusError>
  /** `GET /editor/scan/templates`. */
  readonly listTemplates: Effect.Effect<ReadonlyArray<NessusModel.Template>, NessusError>
  /** A template's uuid from its short name (`basic`, `advanced`) or title; a uuid is returned as is. */
  readonly templateUuid: (name: string) => Effect.Effect<string, NessusError>
  /** `GET /scanners`. */
  readonly listScanners: Effect.Effect<ReadonlyArray<NessusModel.Scanner>, NessusError>
  /** `GET /policies`. */
  readonly listPolicies: Effect.Effect<ReadonlyArray<NessusModel.Policy>, NessusError>
  /** `GET /folders`. */
  readonly listFolders: Effect.Effect<ReadonlyArray<NessusModel.Folder>, NessusError>
  /** `POST /folders`; the new folder's id. */
  readonly createFolder: (name: string) => Effect.Effect<number, NessusError>
  /** The id of the folder with this name, created if missing (e.g. a folder marking scans we created). */
  readonly ensureFolder: (name: string) => Effect.Effect<number, NessusError>
  /** `GET /scans`, optionally of one folder. */
  readonly listScans: (
    options?: { readonly folderId?: number | undefined }
  ) => Effect.Effect<ReadonlyArray<NessusModel.ScanSummary>, NessusError>
  /**
   * The scan with this exact name outside the Trash (the newest if several), e.g. to take over a scan
   * after a worker crash. Give scans unique names for this to be meaningful.
   */
  readonly findScanByName: (
    name: string,
    options?: { readonly folderId?: number | undefined }
  ) => Effect.Effect<Option.Option<NessusModel.ScanSummary>, NessusError>
  /**
   * `POST /scans` (never launched: see `launchScan`). If Nessus drops the connection, a never-launched
   * scan with this name is looked up and returned, so a retry does not create a duplicate.
   */
  readonly createScan: (spec: NessusModel.CreateScan) => Effect.Effect<NessusModel.CreatedScan, NessusError>
  /** `POST /scans/{id}/launch`; the run's uuid. */
  readonly launchScan: (scanId: number) => Effect.Effect<string, NessusError>
  /** `POST /scans/{id}/pause`. */
  readonly pauseScan: (scanId: number) => Effect.Effect<void, NessusError>
  /** `POST /scans/{id}/resume`. */
  readonly resumeScan: (scanId: number) => Effect.Effect<void, NessusError>
  /** `POST /scans/{id}/stop` (the scan goes `stopping` → `canceled`). */
  readonly stopScan: (scanId: number) => Effect.Effect<void, NessusError>
  /** `DELETE /scans/{id}`. */
  readonly deleteScan: (scanId: number) => Effect.Effect<void, NessusError>
  /** `GET /scans/{id}`. */
  readonly scanDetails: (scanId: number, options?: HistoryOptions) => Effect.Effect<NessusModel.ScanDetails, NessusError>
  /** `GET /scans/{id}` reduced to status and one overall percentage. */
  readonly scanProgress: (scanId: number, options?: HistoryOptions) => Effect.Effect<ScanProgress, NessusError>
  /** `GET /scans/{id}/hosts/{host_id}`. */
  readonly hostDetails: (
    scanId: number,
    hostId: number,
    options?: HistoryOptions
  ) => Effect.Effect<NessusModel.HostDetails, NessusError>
  /** `GET /scans/{id}/hosts/{host_id}/plugins/{plugin_id}`. */
  readonly pluginOutput: (
    scanId: number,
    hostId: number,
    pluginId: number,
    options?: HistoryOptions
  ) => Effect.Effect<NessusModel.PluginOutput, NessusError>
  /** Plugin 19506's output for a host ("Credentialed checks : yes, as 'user' via ssh" …), if present. */
  readonly credentialedChecks: (
    scanId: number,
    hostId: number,
    options?: HistoryOptions
  ) => Effect.Effect<Option.Option<string>, NessusError>
  /** `POST /scans/{id}/export {"format": "nessus"}` (409 `Conflict` while the scan runs). */
  readonly requestExport: (
    scanId: number,
    options?: HistoryOptions & { readonly via?: "file" | "token" | undefined }
  ) => Effect.Effect<ExportHandle, NessusError>
  /** One status check of an export. */
  readonly exportStatus: (handle: ExportHandle) => Effect.Effect<NessusModel.ExportState, NessusError>
  /**
   * Polls an export until `ready`, backing off (`exportPollInterval`, or `schedule`), failing with
   * `Timeout` after `timeout` (default `exportTimeout`) and `ServerError` if Nessus reports `error`.
   */
  readonly awaitExport: (
    handle: ExportHandle,
    options?: {
      readonly timeout?: Duration.Input | undefined
      readonly schedule?: Schedule.Schedule<unknown, unknown> | undefined
    }
  ) => Effect.Effect<void, NessusError>
  /** The export's bytes as they arrive (never buffered whole). */
  readonly downloadExport: (handle: ExportHandle) => Stream.Stream<Uint8Array, NessusError>
  /**
   * Streams the export into `path` (created or truncated). Writing to a temporary name and renaming
   * is the caller's job.
   */
  readonly downloadExportToFile: (
    handle: ExportHandle,
    path: string
  ) => Effect.Effect<{ readonly bytes: number }, NessusError, FileSystem.FileSystem>
  /** Request, await and stream a `.nessus` export. */
  readonly exportScan: (scanId: number, options?: ExportOptions) => Stream.Stream<Uint8Array, NessusError>
  /** Request, await and stream a `.nessus` export into `path`. */
  readonly exportScanToFile: (
    scanId: number,
    path: string,
    options?: ExportOptions
  ) => Effect.Effect<{ readonly bytes: number }, NessusError, FileSystem.FileSystem>
}

/**
 * The client service.
 *
 * @category services
 */
export class NessusClient extends Context.Service<NessusClient, Service>()("@nessus-mcp/nessus-client/NessusClient") {}

const invalid = (detail: string) => new NessusError({ reason: "InvalidRequest", operation: "client.make", detail })

const duration = (name: string, input: Duration.Input | undefined, fallback: Duration.Duration) =>
  input === undefined
    ? Effect.succeed(fallback)
    : Option.match(Duration.fromInput(input), {
      onNone: () => Effect.fail(invalid(`${name} is not a valid duration`)),
      onSome: (d) => Duration.isFinite(d) ? Effect.succeed(d) : Effect.fail(invalid(`${name} must be finite`))
    })

const secret = (name: string, value: unknown) =>
  value === undefined
    ? Effect.succeed(Option.none<Redacted.Redacted<string>>())
    : Redacted.isRedacted(value) && typeof Redacted.value(value) === "string" && Redacted.value(value) !== ""
    ? Effect.succeed(Option.some(value as Redacted.Redacted<string>))
    : Effect.fail(invalid(`auth.${name} must be a non-empty Redacted string (Redacted.make(...))`))

/**
 * Read-retry schedule: exponential from `base`, jittered, each delay capped at `maxDelay` and raised to
 * a 429's `Retry-After`, at most `times` retries.
 *
 * @category constructors
 */
export const readRetrySchedule = (options: {
  readonly times: number
  readonly base: Duration.Duration
  readonly maxDelay: Duration.Duration
}): Schedule.Schedule<unknown, NessusError> =>
  Schedule.exponential(options.base, 2).pipe(
    Schedule.jittered,
    Schedule.setInputType<NessusError>(),
    Schedule.modifyDelay(({ duration: delay, input }) => {
      const capped = Duration.min(delay, options.maxDelay)
      return Effect.succeed(
        input.retryAfterMillis !== undefined ? Duration.max(capped, Duration.millis(input.retryAfterMillis)) : capped
      )
    }),
    Schedule.upTo({ times: options.times })
  )

/**
 * Export status polling schedule: exponential from `initial` (×1.5), each delay capped at `max`.
 * `awaitExport` bounds it by its timeout.
 *
 * @category constructors
 */
export const exportPollSchedule = (options: {
  readonly initial: Duration.Duration
  readonly max: Duration.Duration
}): Schedule.Schedule<unknown, unknown> =>
  Schedule.exponential(options.initial, 1.5).pipe(
    Schedule.modifyDelay(({ duration: delay }) => Effect.succeed(Duration.min(delay, options.max)))
  )

const settingsOf = (options: Options): Effect.Effect<internal.Settings, NessusError> =>
  Effect.gen(function*() {
    let url: URL
    try {
      url = new URL(options.url)
    } catch {
      return yield* invalid(`url "${options.url}" is not a valid URL`)
    }
    if (url.protocol !== "https:" && url.protocol !== "http:") {
      return yield* invalid(`url must be http(s), got ${url.protocol}`)
    }
    const auth = options.auth as Auth | undefined
    if (auth === undefined) return yield* invalid("auth is required")
    const username = "username" in auth && typeof auth.username === "string" && auth.username !== ""
      ? Option.some(auth.username)
      : Option.none<string>()
    const password = yield* secret("password", "password" in auth ? auth.password : undefined)
    const accessKey = yield* secret("accessKey", "accessKey" in auth ? auth.accessKey : undefined)
    const secretKey = yield* secret("secretKey", "secretKey" in auth ? auth.secretKey : undefined)
    const hasKeys = Option.isSome(accessKey) && Option.isSome(secretKey)
    const hasPassword = Option.isSome(username) && Option.isSome(password)
    switch (auth.mode) {
      case "api-keys":
        if (!hasKeys) return yield* invalid("api-keys mode needs accessKey and secretKey")
        break
      case "session":
      case "web-ui":
        if (!hasPassword) return yield* invalid(`${auth.mode} mode needs username and password`)
        break
      case "auto":
        if (!hasKeys && !hasPassword) {
          return yield* invalid("auto mode needs accessKey and secretKey, or username and password")
        }
        break
      default:
        return yield* invalid(`unknown auth mode ${String((auth as { mode?: unknown }).mode)}`)
    }
    const retry = options.retry
    const readRetry = retry === false ? undefined : readRetrySchedule({
      times: retry?.times ?? 3,
      base: yield* duration("retry.base", retry?.base, Duration.millis(250)),
      maxDelay: yield* duration("retry.maxDelay", retry?.maxDelay, Duration.seconds(5))
    })
    return {
      url: url.origin + url.pathname.replace(/\/+$/, ""),
      auth: { mode: auth.mode, username, password, accessKey, secretKey },
      requestTimeout: yield* duration("requestTimeout", options.requestTimeout, Duration.seconds(30)),
      readRetry,
      exportPoll: exportPollSchedule({
        initial: yield* duration("exportPollInterval.initial", options.exportPollInterval?.initial, Duration.millis(250)),
        max: yield* duration("exportPollInterval.max", options.exportPollInterval?.max, Duration.seconds(5))
      }),
      exportTimeout: yield* duration("exportTimeout", options.exportTimeout, Duration.minutes(5))
    }
  })

/**
 * Builds a client. Nothing is sent until the first operation; the session (if any) is logged out when
 * the scope closes. Fails with `InvalidRequest` on invalid options.
 *
 * @category constructors
 */
export const make = (
  options: Options
): Effect.Effect<Service, NessusError, HttpClient.HttpClient | Scope.Scope> =>
  Effect.flatMap(settingsOf(options), internal.make)

/**
 * A layer of the client for these options (the `HttpClient` stays a requirement).
 *
 * @category layers
 */
export const layer = (options: Options): Layer.Layer<NessusClient, NessusError, HttpClient.HttpClient> =>
  Layer.effect(NessusClient, make(options))

/**
 * Reads `Options` from configuration: `<prefix>URL`, `<prefix>AUTH_MODE` (`auto` by default),
 * `<prefix>USERNAME`, `<prefix>PASSWORD`, `<prefix>ACCESS_KEY`, `<prefix>SECRET_KEY`,
 * `<prefix>REQUEST_TIMEOUT`, `<prefix>EXPORT_TIMEOUT`; the prefix defaults to `NESSUS_`.
 *
 * @category config
 */
export const config = (prefix = "NESSUS_"): Config.Config<Options> =>
  Config.all({
    url: Config.String(`${prefix}URL`),
    mode: Config.Literals(["auto", "api-keys", "session", "web-ui"], `${prefix}AUTH_MODE`).pipe(
      Config.withDefault("auto" as const)
    ),
    username: Config.option(Config.String(`${prefix}USERNAME`)),
    password: Config.option(Config.Redacted(`${prefix}PASSWORD`)),
    accessKey: Config.option(Config.Redacted(`${prefix}ACCESS_KEY`)),
    secretKey: Config.option(Config.Redacted(`${prefix}SECRET_KEY`)),
    requestTimeout: Config.option(Config.Duration(`${prefix}REQUEST_TIMEOUT`)),
    exportTimeout: Config.option(Config.Duration(`${prefix}EXPORT_TIMEOUT`))
  }).pipe(Config.map((c): Options => {
    const username = Option.getOrUndefined(c.username)
    const password = Option.getOrUndefined(c.password)
    const accessKey = Option.getOrUndefined(c.accessKey)
    const secretKey = Option.getOrUndefined(c.secretKey)
    const auth: Auth = c.mode === "api-keys"
      ? { mode: "api-keys", accessKey: accessKey ?? Redacted.make(""), secretKey: secretKey ?? Redacted.make("") }
      : c.mode === "session" || c.mode === "web-ui"
      ? { mode: c.mode, username: username ?? "", password: password ?? Redacted.make("") }
      : { mode: "auto", username, password, accessKey, secretKey }
    return {
      url: c.url,
      auth,
      requestTimeout: Option.getOrUndefined(c.requestTimeout),
      exportTimeout: Option.getOrUndefined(c.exportTimeout)
    }
  }))

/**
 * A layer of the client from configuration (see `config`); missing or invalid settings fail the layer.
 *
 * @category layers
 */
export const layerConfig = (
  options: Config.Config<Options> = config()
): Layer.Layer<NessusClient, NessusError | Config.ConfigError, HttpClient.HttpClient> =>
  Layer.effect(NessusClient, Effect.flatMap(options, make))
