/**
 * Authentication state of one client: which mode is in use (resolving `auto` on first use), the
 * session token, the web UI's X-API-Token, and single-flight renewal of both. Secrets stay `Redacted`
 * until the moment a header is written.
 */
import { Duration, Effect, Option, Redacted, Ref, Semaphore } from "effect"
import type { HttpClient } from "effect/http"
import { NessusError } from "../NessusError.js"
import * as NessusModel from "../NessusModel.js"
import * as Http from "./http.js"

/** The auth mode in effect once `auto` is resolved. */
export type ResolvedMode = "api-keys" | "session" | "web-ui"

/** Auth configuration after validation. */
export interface AuthConfig {
  readonly mode: ResolvedMode | "auto"
  readonly username: Option.Option<string>
  readonly password: Option.Option<Redacted.Redacted<string>>
  readonly accessKey: Option.Option<Redacted.Redacted<string>>
  readonly secretKey: Option.Option<Redacted.Redacted<string>>
}

/** A snapshot of what to authenticate a request with. */
export interface Credentials {
  readonly mode: ResolvedMode
  readonly session: Option.Option<Redacted.Redacted<string>>
  readonly apiToken: Option.Option<Redacted.Redacted<string>>
  readonly generation: number
}

interface State {
  readonly mode: Option.Option<ResolvedMode>
  readonly session: Option.Option<Redacted.Redacted<string>>
  readonly apiToken: Option.Option<Redacted.Redacted<string>>
  readonly properties: Option.Option<NessusModel.ServerProperties>
  readonly generation: number
}

/** Auth engine of one client. */
export interface Auth {
  readonly current: Effect.Effect<Credentials, NessusError>
  readonly headers: (credentials: Credentials) => Record<string, string>
  /** Replaces a session that Nessus no longer accepts (once per stale generation). */
  readonly renewSession: (stale: Credentials) => Effect.Effect<void, NessusError>
  /** Re-reads the X-API-Token from /nessus6.js (once per stale generation). */
  readonly refreshApiToken: (stale: Credentials) => Effect.Effect<void, NessusError>
  /** Server properties read while resolving `auto`, if any. */
  readonly cachedProperties: Effect.Effect<Option.Option<NessusModel.ServerProperties>>
  readonly logout: Effect.Effect<void>
}

const keysHeader = (config: AuthConfig): Option.Option<string> =>
  Option.all([config.accessKey, config.secretKey]).pipe(
    Option.map(([access, secret]) => `accessKey=${Redacted.value(access)}; secretKey=${Redacted.value(secret)}`)
  )

/** Builds the auth engine. */
export const make = (
  http: HttpClient.HttpClient,
  baseUrl: string,
  config: AuthConfig,
  timeout: Duration.Duration
): Effect.Effect<Auth> =>
  Effect.gen(function*() {
    const state = yield* Ref.make<State>({
      mode: config.mode === "auto" ? Option.none() : Option.some(config.mode),
      session: Option.none(),
      apiToken: Option.none(),
      properties: Option.none(),
      generation: 0
    })
    const lock = yield* Semaphore.make(1)

    const headers = (credentials: Credentials): Record<string, string> => {
      const out: Record<string, string> = {}
      if (credentials.mode === "api-keys") {
        const keys = keysHeader(config)
        if (Option.isSome(keys)) out["X-ApiKeys"] = keys.value
      }
      if (Option.isSome(credentials.session)) out["X-Cookie"] = `token=${Redacted.value(credentials.session.value)}`
      if (Option.isSome(credentials.apiToken)) out["X-API-Token"] = Redacted.value(credentials.apiToken.value)
      return out
    }

    const login = Effect.gen(function*() {
      const target: Http.Target = {
        operation: "session.create",
        method: "POST",
        path: "/session",
        body: {
          username: Option.getOrElse(config.username, () => ""),
          password: Option.match(config.password, { onNone: () => "", onSome: Redacted.value })
        }
      }
      const response = yield* Http.execute(http, Http.buildRequest(baseUrl, target, {}), target, timeout)
      if (response.status < 200 || response.status >= 300) {
        return yield* Effect.flatMap(Http.errorFromResponse(target, response), Effect.fail)
      }
      const body = yield* Http.decodeJson(target, NessusModel.SessionToken, { sensitive: true })(response)
      return body.token
    })

    const fetchApiToken = Effect.gen(function*() {
      const target: Http.Target = { operation: "webui.apiToken", method: "GET", path: "/nessus6.js" }
      const response = yield* Http.execute(http, Http.buildRequest(baseUrl, target, {}), target, timeout)
      if (response.status < 200 || response.status >= 300) {
        return yield* Effect.flatMap(Http.errorFromResponse(target, response), Effect.fail)
      }
      const script = yield* response.text.pipe(
        Effect.timeout(timeout),
        Effect.mapError(() =>
          new NessusError({
            reason: "Transport",
            operation: target.operation,
            request: Http.label(target),
            detail: "could not read /nessus6.js"
          })
        )
      )
      return yield* Option.match(NessusModel.extractApiToken(script), {
        onNone: () =>
          Effect.fail(
            new NessusError({
              reason: "Decode",
              operation: target.operation,
              request: Http.label(target),
              detail: "no getApiToken uuid found in /nessus6.js; this Nessus build may not support web-ui mode"
            })
          ),
        onSome: (token) => Effect.succeed(Redacted.make(token))
      })
    })

    const readProperties = (credentials: Credentials) =>
      Effect.gen(function*() {
        const target: Http.Target = { operation: "server.properties", method: "GET", path: "/server/properties" }
        const response = yield* Http.execute(
          http,
          Http.buildRequest(baseUrl, target, headers(credentials)),
          target,
          timeout
        )
        if (response.status < 200 || response.status >= 300) {
          return yield* Effect.flatMap(Http.errorFromResponse(target, response), Effect.fail)
        }
        return yield* Http.decodeJson(target, NessusModel.ServerProperties)(response)
      })

    const hasPassword = Option.isSome(config.username) && Option.isSome(config.password)

    // Runs under the lock: settles the mode and obtains whatever the mode needs.
    const establish: Effect.Effect<void, NessusError> = Effect.gen(function*() {
      const s = yield* Ref.get(state)
      let mode = s.mode
      let session = s.session
      let properties = s.properties
      if (Option.isNone(mode)) {
        if (Option.isSome(keysHeader(config))) {
          const props = yield* readProperties({
            mode: "api-keys",
            session: Option.none(),
            apiToken: Option.none(),
            generation: s.generation
          })
          properties = Option.some(props)
          mode = Option.some(NessusModel.scanApiAvailable(props) || !hasPassword ? "api-keys" : "web-ui")
        } else {
          const token = yield* login
          session = Option.some(token)
          const props = yield* readProperties({
            mode: "session",
            session,
            apiToken: Option.none(),
            generation: s.generation
          })
          properties = Option.some(props)
          mode = Option.some(NessusModel.scanApiAvailable(props) ? "session" : "web-ui")
        }
        yield* Effect.logDebug("Nessus auth mode resolved").pipe(
          Effect.annotateLogs({ mode: Option.getOrElse(mode, () => "unknown"), url: baseUrl })
        )
      }
      const resolved = Option.getOrThrow(mode)
      if (resolved !== "api-keys" && Option.isNone(session)) session = Option.some(yield* login)
      let apiToken = s.apiToken
      if (resolved === "web-ui" && Option.isNone(apiToken)) apiToken = Option.some(yield* fetchApiToken)
      yield* Ref.set(state, { mode, session, apiToken, properties, generation: s.generation + 1 })
    })

    const snapshot = (s: State): Option.Option<Credentials> => {
      if (Option.isNone(s.mode)) return Option.none()
      const mode = s.mode.value
      if (mode !== "api-keys" && Option.isNone(s.session)) return Option.none()
      if (mode === "web-ui" && Option.isNone(s.apiToken)) return Option.none()
      return Option.some({ mode, session: s.session, apiToken: s.apiToken, generation: s.generation })
    }

    const current: Effect.Effect<Credentials, NessusError> = Effect.flatMap(Ref.get(state), (s) =>
      Option.match(snapshot(s), {
        onSome: Effect.succeed,
        onNone: () =>
          lock.withPermit(
            Effect.flatMap(Ref.get(state), (again) =>
              Option.match(snapshot(again), {
                onSome: Effect.succeed,
                onNone: () =>
                  Effect.flatMap(establish, () =>
                    Effect.map(Ref.get(state), (after) => Option.getOrThrow(snapshot(after))))
              }))
          )
      }))

    const renewSession = (stale: Credentials) =>
      lock.withPermit(Effect.gen(function*() {
        const s = yield* Ref.get(state)
        if (s.generation !== stale.generation || stale.mode === "api-keys") return
        yield* Effect.logDebug("Nessus session rejected; logging in again").pipe(Effect.annotateLogs({ url: baseUrl }))
        yield* Ref.set(state, { ...s, session: Option.none() })
        const token = yield* login
        yield* Ref.update(state, (now) => ({ ...now, session: Option.some(token), generation: now.generation + 1 }))
      }))

    const refreshApiToken = (stale: Credentials) =>
      lock.withPermit(Effect.gen(function*() {
        const s = yield* Ref.get(state)
        if (s.generation !== stale.generation || stale.mode !== "web-ui") return
        yield* Effect.logDebug("Nessus refused the web UI token; reading /nessus6.js again").pipe(
          Effect.annotateLogs({ url: baseUrl })
        )
        const token = yield* fetchApiToken
        yield* Ref.update(state, (now) => ({ ...now, apiToken: Option.some(token), generation: now.generation + 1 }))
      }))

    const logout = Effect.gen(function*() {
      const s = yield* Ref.get(state)
      if (Option.isNone(s.session)) return
      const target: Http.Target = { operation: "session.delete", method: "DELETE", path: "/session" }
      const credentials: Credentials = {
        mode: Option.getOrElse(s.mode, () => "session" as const),
        session: s.session,
        apiToken: s.apiToken,
        generation: s.generation
      }
      yield* Http.execute(
        http,
        Http.buildRequest(baseUrl, target, headers(credentials)),
        target,
        Duration.min(timeout, Duration.seconds(5))
      ).pipe(Effect.flatMap(Http.ignoreBody), Effect.ignore)
      yield* Ref.set(state, { ...s, session: Option.none(), generation: s.generation + 1 })
    })

    return {
      current,
      headers,
      renewSession,
      refreshApiToken,
      cachedProperties: Effect.map(Ref.get(state), (s) => s.properties),
      logout
    } satisfies Auth
  })
