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
import { Config, Context, Effect, Layer, Option, Redacted } from "effect"
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
 * Connects to `url` for the lifetime of the layer.
 *
 * @category layers
 */
export const layer = (options: { readonly url: string | Redacted.Redacted<string>; readonly options?: RedisOptions | undefined }): Layer.Layer<Redis, SchedulerError.SchedulerError> =>
  Layer.effect(
    Redis,
    Effect.acquireRelease(
      Effect.gen(function*() {
        const url = Redacted.isRedacted(options.url) ? Redacted.value(options.url) : options.url
        const settings: RedisOptions = { lazyConnect: true, enableAutoPipelining: true, maxRetriesPerRequest: 3, ...options.options }
        const client = new IORedis(url, settings as never)
        yield* Effect.tryPromise({
          try: () => client.connect(),
          catch: (cause) => {
            client.disconnect()
            return SchedulerError.backend("connect", cause)
          }
        })
        return fromClient(client)
      }),
      (r) => Effect.promise(() => r.client.quit().then(() => undefined, () => r.client.disconnect()))
    )
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
