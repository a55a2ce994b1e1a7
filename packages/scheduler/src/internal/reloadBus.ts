/**
 * The channel that carries reload requests to every process sharing a scheduler's store: Redis pub/sub
 * on `<prefix>reload` (each subscription on its own connection, since a subscribed ioredis connection
 * takes no other command), or a set of in-process listeners for the memory backend.
 */
import { Effect, type Scope } from "effect"
import * as Redis from "../Redis.js"
import * as SchedulerError from "../SchedulerError.js"

export interface ReloadBus {
  /** Sends one message; returns how many subscriptions received it. */
  readonly publish: (payload: string) => Effect.Effect<number, SchedulerError.SchedulerError>
  /** Delivers every message to `onMessage` from when this succeeds until the scope closes. */
  readonly subscribe: (onMessage: (payload: string) => void) => Effect.Effect<void, SchedulerError.SchedulerError, Scope.Scope>
}

export const memory = (): ReloadBus => {
  const listeners = new Set<(payload: string) => void>()
  return {
    publish: (payload) =>
      Effect.sync(() => {
        for (const l of listeners) l(payload)
        return listeners.size
      }),
    subscribe: (onMessage) =>
      Effect.asVoid(Effect.acquireRelease(Effect.sync(() => listeners.add(onMessage)), () => Effect.sync(() => listeners.delete(onMessage))))
  }
}

export const redis = (connection: Redis.Redis["Service"], channel: string): ReloadBus => ({
  publish: (payload) => connection.use("PUBLISH reload request", (c) => c.publish(channel, payload)),
  subscribe: (onMessage) =>
    Effect.gen(function*() {
      const sub = yield* Effect.acquireRelease(
        Effect.sync(() => connection.client.duplicate({ lazyConnect: true, enableAutoPipelining: false })),
        (c) => Effect.promise(() => c.quit().then(() => undefined, () => c.disconnect()))
      )
      yield* Redis.watchErrors(sub, { label: "reload subscriber" })
      // ioredis subscribes again by itself after a reconnection.
      sub.on("message", (ch: string, message: string) => {
        if (ch === channel) onMessage(message)
      })
      yield* Effect.tryPromise({
        try: async () => {
          await sub.connect()
          await sub.subscribe(channel)
        },
        catch: (cause) => {
          sub.disconnect()
          return SchedulerError.backend("SUBSCRIBE reload requests", cause)
        }
      })
    })
})
