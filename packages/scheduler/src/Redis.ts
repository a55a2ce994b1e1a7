/**
 * The Redis connection the scheduler runs on: a small service around an ioredis client, which apps
 * provide (`layer` / `layerConfig`). Lua scripts run through `EVALSHA`, falling back to `EVAL` after a
 * Redis restart flushed the script cache.
 *
 * @example
 * ```ts
 * import { Config } from "effect"
 * import { Redis } from "@nessus-mcp/scheduler"
 *
 * const RedisLive = Redis.layerConfig({ url: Config.Redacted("REDIS_URL") })
 * ```
 */
import { Clock, Config, Context, Duration, Effect, Layer, Option, Redacted, type Scope } from "effect"
import { Command, Redis as IORedis, type RedisOptions } from "ioredis"
import { createHash } from "node:crypto"
import * as SchedulerError from "./SchedulerError.js"

/**
 * A Lua script with its SHA-1 (computed once).
 *
 * @category scripts
 */
export interface Script {
  readonly name: string
  readonly lua: string
  readonly sha: string
}

/**
 * Prepares a Lua script.
 *
 * @category scripts
 */
export const script = (name: string, lua: string): Script => ({ name, lua, sha: createHash("sha1").update(lua).digest("hex") })

/**
 * The Redis service.
 *
 * - `client`: the ioredis client, for plain commands and pipelines.
 * - `run(script, keys, args)`: runs a Lua script atomically.
 * - `use(operation, f)`: runs a client call, turning a rejection into `backend_unavailable`.
 *
 * @category services
 */
export class Redis extends Context.Service<Redis, {
  readonly client: IORedis
  readonly run: (script: Script, keys: ReadonlyArray<string>, args: ReadonlyArray<string | number>) => Effect.Effect<unknown, SchedulerError.SchedulerError>
  readonly use: <A>(operation: string, f: (client: IORedis) => Promise<A>) => Effect.Effect<A, SchedulerError.SchedulerError>
}>()("@nessus-mcp/scheduler/Redis") {}

/**
 * Wraps an existing client (the caller keeps ownership and closes it).
 *
 * @category constructors
 */
export const fromClient = (client: IORedis): Redis["Service"] => {
  const use = <A>(operation: string, f: (client: IORedis) => Promise<A>) =>
    Effect.tryPromise({ try: () => f(client), catch: (cause) => SchedulerError.backend(operation, cause) })
  // Scripts sent while none of ours waits for a reply on this connection go straight to the socket:
  // ioredis' auto-pipelining would wrap each in a one-command pipeline (measurable per claim when every
  // consumer has its own connection). Concurrent calls still share its batches (fewer writes).
  let inflight = 0
  const send = (name: "evalsha" | "eval", args: Array<string | number>): Promise<unknown> => {
    // `inflight` counts this call too.
    if (inflight > 1 && client.options.enableAutoPipelining) return name === "evalsha" ? client.evalsha(...(args as [string, number])) : client.eval(...(args as [string, number]))
    const command = new Command(name, args, { replyEncoding: "utf8", ...(client.options.keyPrefix ? { keyPrefix: client.options.keyPrefix } : {}) })
    client.sendCommand(command)
    return command.promise
  }
  const evaluate = async (s: Script, keys: ReadonlyArray<string>, args: ReadonlyArray<string | number>) => {
    inflight++
    try {
      try {
        return await send("evalsha", [s.sha, keys.length, ...keys, ...args])
      } catch (e) {
        if (e instanceof Error && e.message.startsWith("NOSCRIPT")) return await send("eval", [s.lua, keys.length, ...keys, ...args])
        throw e
      }
    } finally {
      inflight--
    }
  }
  const run = (s: Script, keys: ReadonlyArray<string>, args: ReadonlyArray<string | number>) =>
    Effect.tryPromise({ try: () => evaluate(s, keys, args), catch: (cause) => SchedulerError.backend(`script ${s.name}`, cause) })
  return Redis.of({ client, run, use })
}

/**
 * What the connection-error watcher needs to know (see {@link watchErrors}).
 *
 * - `label`: names the connection in log lines (default `redis`).
 * - `secrets`: strings never to print (the password of the URL is always added by {@link layer}).
 * - `quietPeriod` (60 s): a repeat of the same error within it is counted, not logged.
 *
 * @category models
 */
export interface WatchOptions {
  readonly label?: string | undefined
  readonly secrets?: ReadonlyArray<string> | undefined
  readonly quietPeriod?: Duration.Input | undefined
}

/** The password (raw and percent-decoded) of a Redis URL, to keep it out of every log line. */
export const secretsOfUrl = (url: string | Redacted.Redacted<string>): ReadonlyArray<string> => {
  try {
    const u = new URL(Redacted.isRedacted(url) ? Redacted.value(url) : url)
    if (u.password === "") return []
    const decoded = (() => {
      try {
        return decodeURIComponent(u.password)
      } catch {
        return u.password
      }
    })()
    return [...new Set([u.password, decoded])]
  } catch {
    return []
  }
}

const scrub = (text: string, secrets: ReadonlyArray<string>): string =>
  secrets.reduce((t, s) => (s.length === 0 ? t : t.split(s).join("***")), text.replace(/(rediss?:\/\/[^:@/\s]*:)[^@/\s]*@/g, "$1***@"))

/**
 * Routes the client's `error` events to the Effect logger (with the context of the calling fiber) instead of
 * ioredis' "Unhandled error event" on the console, for the lifetime of the scope.
 *
 * While Redis is unreachable, ioredis emits an error per reconnection attempt; only the first of a run
 * of identical errors is logged (warning), repeats within `quietPeriod` are counted and reported with the
 * next line, and the first successful reconnection is logged (info) with the number of errors seen.
 * Meanwhile scheduler calls fail with a `backend_unavailable` `SchedulerError`. Nothing logged carries the
 * URL's password. After the scope closes the errors are swallowed (the connection is closing).
 *
 * @category diagnostics
 */
export const watchErrors = (client: IORedis, options: WatchOptions = {}): Effect.Effect<void, never, Scope.Scope> =>
  Effect.gen(function*() {
    const context = yield* Effect.context<never>()
    const fork = Effect.runForkWith(context)
    const label = options.label ?? "redis"
    const secrets = [...(options.secrets ?? []), ...(typeof client.options.password === "string" ? [client.options.password] : [])]
    const quietMs = Duration.toMillis(options.quietPeriod ?? "60 seconds")
    let closed = false
    // The current run of identical errors, and every error since the connection was last healthy.
    let run: { key: string; loggedAt: number; repeats: number } | undefined
    let sinceHealthy = 0
    const clock = yield* Clock.clockWith(Effect.succeed)
    // Decided synchronously in the listener, in emission order; only the log line is forked.
    const onError = (error: unknown) => {
      if (closed) return
      sinceHealthy++
      const now = clock.currentTimeMillisUnsafe()
      const text = scrub(error instanceof Error ? error.message : String(error), secrets)
      const code = typeof error === "object" && error !== null && "code" in error ? String((error as { code: unknown }).code) : undefined
      const key = code ?? text
      if (run !== undefined && run.key === key && now - run.loggedAt < quietMs) {
        run.repeats++
        return
      }
      const repeated = run !== undefined && run.repeats > 0 ? ` (the previous error repeated ${run.repeats} more time${run.repeats === 1 ? "" : "s"})` : ""
      run = { key, loggedAt: now, repeats: 0 }
      fork(
        Effect.logWarning(
          `Redis connection error on ${label}: ${text}${repeated}. Scheduler calls fail with backend_unavailable until Redis answers again; check that Redis is running and reachable (REDIS_URL).`
        ).pipe(Effect.annotateLogs({ component: "redis", connection: label, ...(code !== undefined ? { code } : {}) }))
      )
    }
    const onReady = () => {
      if (closed || sinceHealthy === 0) return
      const errors = sinceHealthy
      sinceHealthy = 0
      run = undefined
      fork(Effect.logInfo(`Redis connection on ${label} restored after ${errors} connection error${errors === 1 ? "" : "s"}.`).pipe(
        Effect.annotateLogs({ component: "redis", connection: label })
      ))
    }
    yield* Effect.acquireRelease(
      Effect.sync(() => {
        client.on("error", onError)
        client.on("ready", onReady)
      }),
      () =>
        Effect.sync(() => {
          // The listener stays (muted): a connection that is closing may still emit, and without any listener
          // ioredis would print the error to the console.
          closed = true
          client.off("ready", onReady)
        })
    )
  })

/**
 * Connects to `url` for the lifetime of the layer. Connection errors go to the Effect logger (see
 * {@link watchErrors}), never to the console; an unreachable Redis at start fails the layer with a
 * `backend_unavailable` `SchedulerError`.
 *
 * @category layers
 */
export const layer = (options: { readonly url: string | Redacted.Redacted<string>; readonly options?: RedisOptions | undefined }): Layer.Layer<Redis, SchedulerError.SchedulerError> =>
  Layer.effect(
    Redis,
    Effect.gen(function*() {
      const url = Redacted.isRedacted(options.url) ? Redacted.value(options.url) : options.url
      const settings: RedisOptions = { lazyConnect: true, enableAutoPipelining: true, maxRetriesPerRequest: 3, ...options.options }
      const client = yield* Effect.acquireRelease(
        Effect.sync(() => new IORedis(url, settings as never)),
        (c) => Effect.promise(() => c.quit().then(() => undefined, () => c.disconnect()))
      )
      yield* watchErrors(client, { secrets: secretsOfUrl(url) })
      // connect() rejects with a bare "Connection is closed"; the error event before it says why.
      let firstError: unknown
      const remember = (e: unknown) => {
        firstError ??= e
      }
      client.on("error", remember)
      yield* Effect.tryPromise({
        try: () => client.connect(),
        catch: (cause) => {
          client.disconnect()
          return SchedulerError.backend("connect", firstError ?? cause)
        }
      }).pipe(Effect.ensuring(Effect.sync(() => client.off("error", remember))))
      return fromClient(client)
    })
  )

/**
 * Like {@link layer}, with the URL from configuration (e.g. `Config.Redacted("REDIS_URL")`).
 *
 * @category layers
 */
export const layerConfig = (options: { readonly url: Config.Config<Redacted.Redacted<string> | string> }): Layer.Layer<Redis, SchedulerError.SchedulerError | Config.ConfigError> =>
  Layer.unwrap(Effect.map(options.url, (url) => layer({ url })))

/**
 * The server's `maxmemory-policy`, or `None` when `CONFIG GET` is not permitted (managed Redis).
 *
 * @category diagnostics
 */
export const evictionPolicy: Effect.Effect<Option.Option<string>, never, Redis> = Effect.gen(function*() {
  const redis = yield* Redis
  const reply = yield* redis.use("CONFIG GET maxmemory-policy", (c) => c.config("GET", "maxmemory-policy") as Promise<Array<string>>).pipe(
    Effect.option
  )
  return Option.flatMap(reply, (r) => Option.fromUndefinedOr(r[1]))
})
