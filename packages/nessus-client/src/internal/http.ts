/**
 * One HTTP exchange with Nessus and the translation of everything that can go wrong into `NessusError`.
 * Nothing here knows about authentication modes; the caller passes the headers to send.
 */
import { Cause, Duration, Effect, Option, Schema } from "effect"
import { Headers, type HttpClient, type HttpClientError, HttpClientRequest, type HttpClientResponse } from "effect/http"
import { NessusError, type Reason } from "../NessusError.js"
import * as NessusModel from "../NessusModel.js"

/** Header names that carry secrets; added to Effect's redacted header names for every request. */
export const secretHeaderNames: ReadonlyArray<string> = ["x-apikeys", "x-cookie", "x-api-token"]

/** What the exchange needs to know about a call. */
export interface Target {
  readonly operation: string
  readonly method: "GET" | "POST" | "PUT" | "DELETE"
  readonly path: string
  readonly urlParams?: Readonly<Record<string, string>> | undefined
  readonly body?: unknown
}

/** How a call is labelled in errors: method and path, with export tokens masked. */
export const label = (target: Target): string =>
  `${target.method} ${target.path.replace(/^\/tokens\/[^/]+/, "/tokens/<token>")}`

const codeOf = (u: unknown): string | undefined => {
  let current: unknown = u
  for (let depth = 0; depth < 6 && typeof current === "object" && current !== null; depth++) {
    const code = (current as { readonly code?: unknown }).code
    if (typeof code === "string") return code
    current = (current as { readonly cause?: unknown }).cause
  }
  return undefined
}

const innermostMessage = (u: unknown): string | undefined => {
  let current: unknown = u
  let message: string | undefined
  for (let depth = 0; depth < 6 && typeof current === "object" && current !== null; depth++) {
    const m = (current as { readonly message?: unknown }).message
    if (typeof m === "string" && m.length > 0) message = m
    current = (current as { readonly cause?: unknown }).cause
  }
  return message
}

const TIMEOUT_CODES = new Set(["UND_ERR_CONNECT_TIMEOUT", "UND_ERR_HEADERS_TIMEOUT", "UND_ERR_BODY_TIMEOUT", "ETIMEDOUT"])

/** Translates an `HttpClientError` (never keeping it: its request carries secret headers). */
export const fromHttpClientError = (target: Target, error: HttpClientError.HttpClientError): NessusError => {
  const reason = error.reason
  const base = { operation: target.operation, request: label(target) }
  switch (reason._tag) {
    case "InvalidUrlError":
      return new NessusError({ ...base, reason: "InvalidRequest", detail: "the Nessus URL is not valid" })
    case "EncodeError":
      return new NessusError({ ...base, reason: "InvalidRequest", detail: "the request body could not be encoded" })
    case "TransportError":
    case "DecodeError":
    case "EmptyBodyError":
    case "StatusCodeError": {
      const code = codeOf(reason.cause)
      const cause = innermostMessage(reason.cause)
      const what = reason._tag === "TransportError" ? undefined : "the response body was cut short"
      const detail = [what, cause].filter((s) => s !== undefined).join(": ")
      return new NessusError({
        ...base,
        reason: code !== undefined && TIMEOUT_CODES.has(code) ? "Timeout" : "Transport",
        ...(code !== undefined ? { code } : {}),
        ...(detail.length > 0 ? { detail } : {}),
        ...("response" in reason && reason.response !== undefined ? { status: reason.response.status } : {})
      })
    }
  }
}

/** The `NessusError` for a response that is not a success, with Nessus's `{"error": …}` message. */
export const fromStatus = (
  target: Target,
  status: number,
  nessusMessage: string | undefined,
  retryAfterMillis?: number
): NessusError => {
  const reason: Reason = status === 401
    ? "Unauthorized"
    : status === 403
    ? "Forbidden"
    : status === 404
    ? "NotFound"
    : status === 409
    ? "Conflict"
    : status === 412
    ? "ScanApiUnavailable"
    : status === 429
    ? "RateLimited"
    : status === 408
    ? "Timeout"
    : status >= 500
    ? "ServerError"
    : "InvalidRequest"
  return new NessusError({
    reason,
    operation: target.operation,
    request: label(target),
    status,
    ...(nessusMessage !== undefined ? { nessusMessage } : {}),
    ...(retryAfterMillis !== undefined ? { retryAfterMillis } : {})
  })
}

const decodeErrorBody = Schema.decodeUnknownOption(Schema.fromJsonString(NessusModel.ErrorBody))

/**
 * Reads a failed response's body leniently (Nessus may close the connection before sending it, as it
 * does after a 412) and builds the error.
 */
export const errorFromResponse = (
  target: Target,
  response: HttpClientResponse.HttpClientResponse
): Effect.Effect<NessusError> =>
  response.text.pipe(
    Effect.timeout("5 seconds"),
    Effect.map((text) => text.length <= 4096 ? Option.map(decodeErrorBody(text), (b) => b.error) : Option.none()),
    Effect.orElseSucceed(() => Option.none<string>()),
    Effect.map((message) => {
      const retryAfter = Option.fromNullishOr(response.headers["retry-after"]).pipe(
        Option.map(Number),
        Option.filter((n) => Number.isFinite(n) && n >= 0),
        Option.map((seconds) => seconds * 1000),
        Option.getOrUndefined
      )
      return fromStatus(target, response.status, Option.getOrUndefined(message), retryAfter)
    })
  )

/** Reads and decodes a JSON body; decode failures become `Decode` errors without echoing values. */
export const decodeJson = <S extends Schema.Top & { readonly DecodingServices: never }>(
  target: Target,
  schema: S,
  options?: { readonly sensitive?: boolean }
) =>
(response: HttpClientResponse.HttpClientResponse): Effect.Effect<S["Type"], NessusError> =>
  response.json.pipe(
    Effect.mapError((error) =>
      error.reason._tag === "DecodeError" && error.reason.cause instanceof SyntaxError
        ? new NessusError({
          reason: "Decode",
          operation: target.operation,
          request: label(target),
          status: response.status,
          detail: "the response is not JSON"
        })
        : fromHttpClientError(target, error)
    ),
    Effect.flatMap((json) =>
      Schema.decodeUnknownEffect(schema)(json).pipe(
        Effect.mapError((error) =>
          new NessusError({
            reason: "Decode",
            operation: target.operation,
            request: label(target),
            status: response.status,
            detail: options?.sensitive === true
              ? "the response does not have the expected shape"
              : `unexpected response shape: ${truncate(error.message, 400)}`
          })
        )
      )
    )
  ) as Effect.Effect<S["Type"], NessusError>

const truncate = (s: string, max: number) => s.length <= max ? s : `${s.slice(0, max)}…`

/** Drains and ignores a body (control endpoints answer `{}` or nothing). */
export const ignoreBody = (response: HttpClientResponse.HttpClientResponse): Effect.Effect<void> =>
  response.text.pipe(Effect.timeout("5 seconds"), Effect.ignore)

/** Builds the request for a target with the given extra headers. */
export const buildRequest = (
  baseUrl: string,
  target: Target,
  headers: Readonly<Record<string, string>>
): HttpClientRequest.HttpClientRequest => {
  const request = HttpClientRequest.make(target.method)(baseUrl + target.path, {
    acceptJson: true,
    headers,
    ...(target.urlParams !== undefined ? { urlParams: target.urlParams } : {})
  })
  return target.body === undefined ? request : HttpClientRequest.bodyJsonUnsafe(request, target.body)
}

/** Executes a request, mapping transport failures and the timeout to `NessusError`. */
export const execute = (
  http: HttpClient.HttpClient,
  request: HttpClientRequest.HttpClientRequest,
  target: Target,
  timeout: Duration.Duration
): Effect.Effect<HttpClientResponse.HttpClientResponse, NessusError> =>
  http.execute(request).pipe(
    Effect.timeout(timeout),
    Effect.catch((error) =>
      Effect.fail(
        Cause.isTimeoutError(error)
          ? new NessusError({
            reason: "Timeout",
            operation: target.operation,
            request: label(target),
            detail: `no answer within ${Duration.format(timeout)}`
          })
          : fromHttpClientError(target, error)
      )
    ),
    Effect.updateService(Headers.CurrentRedactedNames, (names) => [...names, ...secretHeaderNames])
  )
