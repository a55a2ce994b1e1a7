/**
 * Implementation of `NessusClient.make`: the request pipeline (auth headers, one re-login on 401, one
 * X-API-Token refresh on 412 in web-ui mode, retries of idempotent reads) and the operations.
 */
import { Duration, Effect, FileSystem, Option, Redacted, Schedule, Schema, Stream } from "effect"
import { HttpClient, type HttpClientResponse } from "effect/http"
import { isCertificateError, NessusError } from "../NessusError.js"
import * as NessusModel from "../NessusModel.js"
import * as Auth from "./auth.js"
import * as Http from "./http.js"

/** Validated settings of one client. */
export interface Settings {
  readonly url: string
  readonly auth: Auth.AuthConfig
  readonly requestTimeout: Duration.Duration
  readonly readRetry: Schedule.Schedule<unknown, NessusError> | undefined
  readonly exportPoll: Schedule.Schedule<unknown, unknown>
  readonly exportTimeout: Duration.Duration
}

/** A requested export: the file id, Nessus >= 8's token, and which URL family to use. */
export interface ExportHandle {
  readonly scanId: number
  readonly file: number
  readonly token: Option.Option<Redacted.Redacted<string>>
  readonly via: "file" | "token"
}

interface Call<A> extends Http.Target {
  /** Idempotent read: retried on transient failures. */
  readonly read: boolean
  /** Scan-control endpoint behind the licence's scan_api gate. */
  readonly gated?: boolean
  readonly accept?: (status: number) => boolean
  readonly onResponse: (response: HttpClientResponse.HttpClientResponse) => Effect.Effect<A, NessusError>
}

const ok = (status: number) => status >= 200 && status < 300

/** Builds the client's operations. */
export const make = Effect.fnUntraced(function*(settings: Settings) {
  const http = yield* HttpClient.HttpClient
  const baseUrl = settings.url
  const auth = yield* Auth.make(http, baseUrl, settings.auth, settings.requestTimeout)
  yield* Effect.addFinalizer(() => auth.logout)

  const sendOnce = <A>(call: Call<A>): Effect.Effect<A, NessusError> => {
    const attempt = (renewed: boolean, refreshed: boolean): Effect.Effect<A, NessusError> =>
      Effect.gen(function*() {
        const credentials = yield* auth.current
        const request = Http.buildRequest(baseUrl, call, auth.headers(credentials))
        const response = yield* Http.execute(http, request, call, settings.requestTimeout)
        if (ok(response.status) || call.accept?.(response.status) === true) {
          return yield* call.onResponse(response).pipe(
            Effect.timeoutOrElse({
              duration: settings.requestTimeout,
              orElse: () =>
                Effect.fail(
                  new NessusError({
                    reason: "Timeout",
                    operation: call.operation,
                    request: Http.label(call),
                    status: response.status,
                    detail: "the response body did not arrive in time"
                  })
                )
            })
          )
        }
        const error = yield* Http.errorFromResponse(call, response)
        if (response.status === 401 && credentials.mode !== "api-keys" && !renewed) {
          yield* auth.renewSession(credentials)
          return yield* attempt(true, refreshed)
        }
        if (response.status === 412 && credentials.mode === "web-ui" && !refreshed) {
          yield* auth.refreshApiToken(credentials)
          return yield* attempt(renewed, true)
        }
        return yield* error
      })
    return attempt(false, false)
  }

  const licence = Effect.flatMap(auth.cachedProperties, (cached) =>
    Option.match(cached, {
      onSome: Effect.succeed,
      onNone: () => serverProperties
    }))

  // Nessus answers a refused scan-control call with 412 and `Connection: close`, and some versions
  // close before sending anything: a transport failure on a gated call is the licence gate when the
  // licence says so.
  const classifyDrop = (call: Http.Target, error: NessusError): Effect.Effect<never, NessusError> =>
    error.reason !== "Transport" || isCertificateError(error.code)
      ? Effect.fail(error)
      : Effect.gen(function*() {
        const credentials = yield* auth.current
        const props = yield* Effect.option(licence)
        if (
          credentials.mode !== "web-ui" && Option.isSome(props) && !NessusModel.scanApiAvailable(props.value)
        ) {
          return yield* new NessusError({
            reason: "ScanApiUnavailable",
            operation: call.operation,
            request: Http.label(call),
            detail: "Nessus closed the connection without an answer, which is how it sends 412 when the licence has scan_api: false"
          })
        }
        return yield* error
      })

  const send = <A>(call: Call<A>): Effect.Effect<A, NessusError> => {
    const once = sendOnce(call)
    const retried = call.read && settings.readRetry !== undefined
      ? once.pipe(Effect.retry({ schedule: settings.readRetry, while: (e: NessusError) => e.isTransient }))
      : once
    const classified = call.gated === true ? Effect.catch(retried, (e) => classifyDrop(call, e)) : retried
    return classified.pipe(Effect.withSpan(`NessusClient.${call.operation}`, {
      attributes: { "nessus.operation": call.operation, "nessus.url": baseUrl }
    }))
  }

  const json = <S extends Schema.Top & { readonly DecodingServices: never }>(
    target: Omit<Call<S["Type"]>, "onResponse">,
    schema: S
  ): Effect.Effect<S["Type"], NessusError> => {
    const call: Call<S["Type"]> = { ...target, onResponse: Http.decodeJson(target, schema) }
    return send(call)
  }

  const control = (operation: string, method: "POST" | "DELETE", path: string) =>
    send({ operation, method, path, read: false, gated: true, onResponse: Http.ignoreBody })

  const invalid = (operation: string, detail: string) => new NessusError({ reason: "InvalidRequest", operation, detail })

  const scanPath = (operation: string, scanId: number) =>
    Number.isSafeInteger(scanId) && scanId > 0
      ? Effect.succeed(`/scans/${scanId}`)
      : Effect.fail(invalid(operation, `scan id must be a positive integer, got ${String(scanId)}`))

  const historyParams = (options?: { readonly historyId?: number | undefined }) =>
    options?.historyId !== undefined ? { history_id: String(options.historyId) } : undefined

  // ---------------------------------------------------------------------------------------------
  // Server, editor, scanners, policies, folders

  // While Nessus starts it answers 503 with a status body ("loading", progress): an answer, not a fault.
  const serverStatusCall: Call<NessusModel.ServerStatus> = {
    operation: "server.status",
    method: "GET",
    path: "/server/status",
    read: true,
    accept: (status) => status === 503,
    onResponse: (response) =>
      response.status === 503
        ? Effect.catch(
          Http.decodeJson(serverStatusCall, NessusModel.ServerStatus)(response),
          () => Effect.fail(Http.fromStatus(serverStatusCall, 503, undefined))
        )
        : Http.decodeJson(serverStatusCall, NessusModel.ServerStatus)(response)
  }
  const serverStatus = send(serverStatusCall)

  const serverProperties: Effect.Effect<NessusModel.ServerProperties, NessusError> = json(
    { operation: "server.properties", method: "GET", path: "/server/properties", read: true },
    NessusModel.ServerProperties
  )

  const listTemplates = Effect.map(
    json(
      { operation: "templates.list", method: "GET", path: "/editor/scan/templates", read: true },
      NessusModel.TemplateList
    ),
    (body) => body.templates ?? []
  )

  const templateUuid = (name: string) =>
    NessusModel.isTemplateUuid(name) ? Effect.succeed(name) : Effect.flatMap(listTemplates, (templates) => {
      const wanted = name.toLowerCase()
      const found = templates.find((t) => t.name.toLowerCase() === wanted) ??
        templates.find((t) => (t.title ?? "").toLowerCase() === wanted)
      return found !== undefined
        ? Effect.succeed(found.uuid)
        : Effect.fail(
          new NessusError({
            reason: "NotFound",
            operation: "templates.byName",
            detail: `no scan template named "${name}"; available: ${templates.map((t) => t.name).join(", ")}`
          })
        )
    })

  const listScanners = Effect.map(
    json({ operation: "scanners.list", method: "GET", path: "/scanners", read: true }, NessusModel.ScannerList),
    (body) => body.scanners ?? []
  )

  const listPolicies = Effect.map(
    json({ operation: "policies.list", method: "GET", path: "/policies", read: true }, NessusModel.PolicyList),
    (body) => body.policies ?? []
  )

  const listFolders = Effect.map(
    json({ operation: "folders.list", method: "GET", path: "/folders", read: true }, NessusModel.FolderList),
    (body) => body.folders ?? []
  )

  const createFolder = (name: string) =>
    name.trim().length === 0
      ? Effect.fail(invalid("folders.create", "folder name must not be empty"))
      : Effect.map(
        json(
          { operation: "folders.create", method: "POST", path: "/folders", body: { name }, read: false },
          NessusModel.FolderCreated
        ),
        (body) => body.id
      )

  const ensureFolder = (name: string) =>
    Effect.flatMap(listFolders, (folders) => {
      const found = folders.find((f) => f.name === name)
      return found !== undefined ? Effect.succeed(found.id) : createFolder(name)
    })

  // ---------------------------------------------------------------------------------------------
  // Scans

  const listScans = (options?: { readonly folderId?: number | undefined }) =>
    Effect.map(
      json(
        {
          operation: "scans.list",
          method: "GET",
          path: "/scans",
          read: true,
          urlParams: options?.folderId !== undefined ? { folder_id: String(options.folderId) } : undefined
        },
        NessusModel.ScanList
      ),
      (body) => body.scans ?? []
    )

  const trashIds = (folders: ReadonlyArray<NessusModel.Folder>) =>
    new Set(folders.filter((f) => f.type === "trash").map((f) => f.id))

  const findScanByName = (name: string, options?: { readonly folderId?: number | undefined }) =>
    Effect.gen(function*() {
      const body = yield* json(
        {
          operation: "scans.findByName",
          method: "GET",
          path: "/scans",
          read: true,
          urlParams: options?.folderId !== undefined ? { folder_id: String(options.folderId) } : undefined
        },
        NessusModel.ScanList
      )
      const trash = trashIds(body.folders ?? [])
      const matches = (body.scans ?? []).filter((s) =>
        s.name === name && !(s.folder_id !== undefined && s.folder_id !== null && trash.has(s.folder_id))
      )
      return Option.fromNullishOr(matches.reduce<NessusModel.ScanSummary | undefined>(
        (best, s) => best === undefined || s.id > best.id ? s : best,
        undefined
      ))
    })

  const decodeSpec = Schema.decodeUnknownEffect(NessusModel.CreateScan)

  const createScan = (input: NessusModel.CreateScan) =>
    Effect.gen(function*() {
      const spec = yield* decodeSpec(input).pipe(
        Effect.mapError((e) => invalid("scans.create", `invalid scan specification: ${e.message}`))
      )
      const uuid = yield* templateUuid(spec.template ?? "basic")
      const call: Call<NessusModel.CreatedScan> = {
        operation: "scans.create",
        method: "POST",
        path: "/scans",
        body: NessusModel.createScanBody(spec, uuid),
        read: false,
        gated: true,
        onResponse: (response) =>
          Effect.map(
            Http.decodeJson(call, NessusModel.ScanCreated)(response),
            (body) => body.scan
          )
      }
      // A dropped connection may come after Nessus created the scan: look for it before failing, so a
      // retry by the caller does not create a duplicate. Only a never-launched scan can be ours.
      return yield* send(call).pipe(
        Effect.catch((error) =>
          error.reason !== "Transport" || isCertificateError(error.code)
            ? Effect.fail(error)
            : Effect.flatMap(
              Effect.orElseSucceed(findScanByName(spec.name), () => Option.none<NessusModel.ScanSummary>()),
              (found) =>
                Option.isSome(found) && found.value.status === "empty"
                  ? Effect.succeed<NessusModel.CreatedScan>({
                    id: found.value.id,
                    name: found.value.name,
                    ...(found.value.uuid !== undefined ? { uuid: found.value.uuid } : {}),
                    ...(found.value.folder_id !== undefined ? { folder_id: found.value.folder_id } : {})
                  })
                  : Effect.fail(error)
            )
        )
      )
    })

  const launchScan = (scanId: number) =>
    Effect.flatMap(scanPath("scans.launch", scanId), (path) =>
      Effect.map(
        json(
          { operation: "scans.launch", method: "POST", path: `${path}/launch`, body: {}, read: false, gated: true },
          NessusModel.ScanLaunched
        ),
        (body) => body.scan_uuid
      ))

  const pauseScan = (scanId: number) =>
    Effect.flatMap(scanPath("scans.pause", scanId), (path) => control("scans.pause", "POST", `${path}/pause`))
  const resumeScan = (scanId: number) =>
    Effect.flatMap(scanPath("scans.resume", scanId), (path) => control("scans.resume", "POST", `${path}/resume`))
  const stopScan = (scanId: number) =>
    Effect.flatMap(scanPath("scans.stop", scanId), (path) => control("scans.stop", "POST", `${path}/stop`))
  const deleteScan = (scanId: number) =>
    Effect.flatMap(scanPath("scans.delete", scanId), (path) => control("scans.delete", "DELETE", path))

  const scanDetails = (scanId: number, options?: { readonly historyId?: number | undefined }) =>
    Effect.flatMap(scanPath("scans.details", scanId), (path) =>
      json(
        { operation: "scans.details", method: "GET", path, read: true, urlParams: historyParams(options) },
        NessusModel.ScanDetails
      ))

  const scanProgress = (scanId: number, options?: { readonly historyId?: number | undefined }) =>
    Effect.map(scanDetails(scanId, options), (details) => ({
      status: details.info.status,
      percent: NessusModel.progressPercent(details),
      details
    }))

  const hostDetails = (scanId: number, hostId: number, options?: { readonly historyId?: number | undefined }) =>
    Effect.flatMap(scanPath("scans.hostDetails", scanId), (path) =>
      json(
        {
          operation: "scans.hostDetails",
          method: "GET",
          path: `${path}/hosts/${hostId}`,
          read: true,
          urlParams: historyParams(options)
        },
        NessusModel.HostDetails
      ))

  const pluginOutput = (
    scanId: number,
    hostId: number,
    pluginId: number,
    options?: { readonly historyId?: number | undefined }
  ) =>
    Effect.flatMap(scanPath("scans.pluginOutput", scanId), (path) =>
      json(
        {
          operation: "scans.pluginOutput",
          method: "GET",
          path: `${path}/hosts/${hostId}/plugins/${pluginId}`,
          read: true,
          urlParams: historyParams(options)
        },
        NessusModel.PluginOutput
      ))

  const credentialedChecks = (scanId: number, hostId: number, options?: { readonly historyId?: number | undefined }) =>
    Effect.map(pluginOutput(scanId, hostId, 19506, options), NessusModel.firstPluginOutput)

  // ---------------------------------------------------------------------------------------------
  // Exports

  const requestExport = (
    scanId: number,
    options?: { readonly historyId?: number | undefined; readonly via?: "file" | "token" | undefined }
  ) =>
    Effect.flatMap(scanPath("exports.request", scanId), (path) =>
      Effect.map(
        json(
          {
            operation: "exports.request",
            method: "POST",
            path: `${path}/export`,
            body: { format: "nessus" },
            read: false,
            urlParams: historyParams(options)
          },
          NessusModel.ExportRequested
        ),
        (body): ExportHandle => {
          const token = Option.fromNullishOr(body.token)
          return {
            scanId,
            file: body.file,
            token,
            via: options?.via === "token" && Option.isSome(token) ? "token" : "file"
          }
        }
      ))

  const exportPath = (handle: ExportHandle, leaf: "status" | "download") =>
    handle.via === "token" && Option.isSome(handle.token)
      ? `/tokens/${encodeURIComponent(Redacted.value(handle.token.value))}/${leaf}`
      : `/scans/${handle.scanId}/export/${handle.file}/${leaf}`

  const exportFailed = (target: Http.Target) =>
    new NessusError({
      reason: "ServerError",
      operation: target.operation,
      request: Http.label(target),
      detail: "Nessus reports that building the export failed; request a new export"
    })

  const exportStatus = (handle: ExportHandle): Effect.Effect<NessusModel.ExportState, NessusError> => {
    const call: Call<NessusModel.ExportState> = {
      operation: "exports.status",
      method: "GET",
      path: exportPath(handle, "status"),
      read: true,
      // A failed export answers 500 {"status": "error"}: that is an answer, not a server fault to retry.
      accept: (status) => status === 500,
      onResponse: (response) =>
        response.status === 500
          ? Effect.flatMap(
            Effect.option(Http.decodeJson(call, NessusModel.ExportStatus)(response)),
            (body) =>
              Option.isSome(body) && NessusModel.exportState(body.value) === "error"
                ? Effect.succeed<NessusModel.ExportState>("error")
                : Effect.fail(Http.fromStatus(call, 500, undefined))
          )
          : Effect.map(Http.decodeJson(call, NessusModel.ExportStatus)(response), NessusModel.exportState)
    }
    return send(call)
  }

  const awaitExport = (
    handle: ExportHandle,
    options?: {
      readonly timeout?: Duration.Input | undefined
      readonly schedule?: Schedule.Schedule<unknown, unknown> | undefined
    }
  ): Effect.Effect<void, NessusError> => {
    const timeout = options?.timeout !== undefined ? Duration.fromInputUnsafe(options.timeout) : settings.exportTimeout
    const target: Http.Target = { operation: "exports.await", method: "GET", path: exportPath(handle, "status") }
    const policy = (options?.schedule ?? settings.exportPoll).pipe(Schedule.upTo({ duration: timeout }))
    return exportStatus(handle).pipe(
      Effect.repeat({ schedule: policy, while: (state) => state === "loading" }),
      Effect.flatMap((state) =>
        state === "ready"
          ? Effect.void
          : state === "error"
          ? Effect.fail(exportFailed(target))
          : Effect.fail(
            new NessusError({
              reason: "Timeout",
              operation: target.operation,
              request: Http.label(target),
              detail: `export ${handle.file} of scan ${handle.scanId} was still loading after ${
                Duration.format(timeout)
              }`
            })
          )
      ),
      Effect.withSpan("NessusClient.exports.await", { attributes: { "nessus.scan_id": handle.scanId } })
    )
  }

  const downloadExport = (handle: ExportHandle): Stream.Stream<Uint8Array, NessusError> => {
    const target: Http.Target = { operation: "exports.download", method: "GET", path: exportPath(handle, "download") }
    return Stream.unwrap(send<Stream.Stream<Uint8Array, NessusError>>({
      ...target,
      read: true,
      onResponse: (response) =>
        Effect.succeed(response.stream.pipe(Stream.mapError((error) => Http.fromHttpClientError(target, error))))
    }))
  }

  const downloadExportToFile = (handle: ExportHandle, path: string) =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      let bytes = 0
      yield* downloadExport(handle).pipe(
        Stream.tap((chunk) => Effect.sync(() => void (bytes += chunk.byteLength))),
        Stream.run(fs.sink(path)),
        Effect.catchTag("PlatformError", (error) =>
          Effect.fail(
            new NessusError({
              reason: "InvalidRequest",
              operation: "exports.download",
              detail: `could not write ${path}: ${error.message}`
            })
          ))
      )
      return { bytes }
    })

  const exportScan = (
    scanId: number,
    options?: {
      readonly historyId?: number | undefined
      readonly via?: "file" | "token" | undefined
      readonly timeout?: Duration.Input | undefined
    }
  ): Stream.Stream<Uint8Array, NessusError> =>
    Stream.unwrap(
      Effect.gen(function*() {
        const handle = yield* requestExport(scanId, options)
        yield* awaitExport(handle, options)
        return downloadExport(handle)
      })
    )

  const exportScanToFile = (
    scanId: number,
    path: string,
    options?: {
      readonly historyId?: number | undefined
      readonly via?: "file" | "token" | undefined
      readonly timeout?: Duration.Input | undefined
    }
  ) =>
    Effect.gen(function*() {
      const handle = yield* requestExport(scanId, options)
      yield* awaitExport(handle, options)
      return yield* downloadExportToFile(handle, path)
    })

  const authMode = Effect.map(auth.current, (credentials) => credentials.mode)

  return {
    url: baseUrl,
    authMode,
    serverStatus,
    serverProperties,
    listTemplates,
    templateUuid,
    listScanners,
    listPolicies,
    listFolders,
    createFolder,
    ensureFolder,
    listScans,
    findScanByName,
    createScan,
    launchScan,
    pauseScan,
    resumeScan,
    stopScan,
    deleteScan,
    scanDetails,
    scanProgress,
    hostDetails,
    pluginOutput,
    credentialedChecks,
    requestExport,
    exportStatus,
    awaitExport,
    downloadExport,
    downloadExportToFile,
    exportScan,
    exportScanToFile
  }
})

