/**
 * The Redis store: the `Store` contract over ioredis and the Lua scripts in `lua.ts`.
 */
import { Effect } from "effect"
import type * as CircuitBreaker from "../CircuitBreaker.js"
import type * as Redis from "../Redis.js"
import type * as Task from "../Task.js"
import * as Lua from "./lua.js"
import { type Checked, fromFields, fromHash, type Store, type TaskRecord, toHash } from "./store.js"

const s = (n: number | undefined) => (n === undefined ? "" : String(n))

/** HSET field/value pairs of the parts of a worker's result it gave. */
const resultFields = (result: Task.CompletionResult): Array<string> => {
  const fields: Array<string> = []
  if (result.validation !== undefined) fields.push("validation", JSON.stringify(result.validation))
  if (result.authenticationStatus !== undefined) fields.push("authenticationStatus", result.authenticationStatus)
  if (result.artifacts !== undefined) fields.push("artifacts", JSON.stringify(result.artifacts))
  return fields
}

const withoutSeq = (pairs: ReadonlyArray<string>): Array<string> => {
  const out: Array<string> = []
  for (let i = 0; i + 1 < pairs.length; i += 2) if (pairs[i] !== "seq") out.push(pairs[i] as string, pairs[i + 1] as string)
  return out
}

export const make = (redis: Redis.Redis["Service"], prefix: string): Store => {
  const P = prefix
  const k = (key: string) => P + key
  const run = (script: Redis.Script, key: string, args: ReadonlyArray<string | number>) => redis.run(script, [k(key)], [P, ...args])
  const use = redis.use
  /** A `tread` reply (the task's values by position). */
  const decode = (v: unknown): TaskRecord | undefined => (Array.isArray(v) && v.length > 0 ? fromFields(v as Array<string | null>) : undefined)
  // The claim's per-scanner arguments, built once per slot list (the scheduler caches its lists).
  const slotArgs = new WeakMap<ReadonlyArray<unknown>, ReadonlyArray<string | number>>()
  const hgetallMany = (ids: ReadonlyArray<string>) =>
    ids.length === 0
      ? Effect.succeed([] as ReadonlyArray<TaskRecord>)
      : use("HGETALL", async (c) => {
        const p = c.pipeline()
        for (const id of ids) p.hgetall(k(`task:${id}`))
        const res = (await p.exec()) ?? []
        return res.flatMap(([err, h]) => (err ? [] : fromHash(h as Record<string, string>) ?? []))
      })

  const store: Store = {
    submit: ({ idempotency, now, record }) =>
      Effect.map(
        run(Lua.submit, `task:${record.id}`, [
          record.id,
          now,
          idempotency?.key ?? "",
          idempotency?.hash ?? "",
          idempotency?.expiresAt ?? 0,
          Math.max(1, Math.ceil(idempotency?.ttlMs ?? 1)),
          record.pool,
          record.requestedInstance ?? "",
          ...withoutSeq(toHash(record))
        ]),
        (r) => {
          const [tag, value] = r as [string, string | number]
          return tag === "created"
            ? { _tag: "Created" as const, seq: Number(value) }
            : tag === "existing"
            ? { _tag: "Existing" as const, taskId: String(value) }
            : { _tag: "Conflict" as const, taskId: String(value) }
        }
      ),

    get: (id, touch) =>
      Effect.map(
        run(Lua.get, `task:${id}`, [
          id,
          touch?.now ?? 0,
          touch ? "1" : "0",
          touch?.ttls.completed ?? 0,
          touch?.ttls.failed ?? 0,
          touch?.ttls.cancelled ?? 0
        ]),
        decode
      ),

    getMany: hgetallMany,

    claim: ({ circuit, leaseMs, now, owner, pool, slots, token, ttls }) =>
      Effect.map(
        run(Lua.claim, `q:${pool}`, [
          pool,
          now,
          leaseMs,
          owner,
          token,
          circuit.probeMs,
          ttls.completed,
          ttls.failed,
          ttls.cancelled,
          slots.length,
          ...(slotArgs.get(slots) ?? (() => {
            const a = slots.flatMap((sl) => [sl.id, sl.max, sl.enabled ? "1" : "0"])
            slotArgs.set(slots, a)
            return a
          })())
        ]),
        (r) => {
          const [tag, h] = r as [string, Array<string>]
          if (tag === "none") return undefined
          const record = decode(h)
          return record === undefined ? undefined : { record, takeover: tag === "takeover" }
        }
      ),

    heartbeat: (id, token, now, leaseMs) => Effect.map(run(Lua.heartbeat, `task:${id}`, [id, token, now, leaseMs]), (r) => r as Checked),

    setPhase: (id, token, now, phase, nessusScanId, progress) =>
      Effect.map(run(Lua.setPhase, `task:${id}`, [id, token, now, phase, s(nessusScanId), s(progress)]), (r) => {
        const [tag, current] = r as [string, string | undefined]
        return tag === "bad_phase" ? { _tag: "BadPhase" as const, current: current as Task.Phase | undefined } : (tag as Checked)
      }),

    complete: ({ circuit, id, keepDurations, now, result, token, ttls }) => {
      return Effect.map(
        run(Lua.complete, `task:${id}`, [id, token, now, ttls.completed, circuit.threshold, circuit.cooldownMs, keepDurations, ...resultFields(result)]),
        (r) => (r as [Checked])[0]
      )
    },

    fail: (input) =>
      Effect.map(
        run(Lua.fail, `task:${input.id}`, [
          input.id,
          input.token,
          input.now,
          JSON.stringify(input.error),
          input.transient ? "1" : "0",
          input.scannerFailure ? "1" : "0",
          input.maxRetries,
          input.delayMs,
          input.ttls.failed,
          input.circuit.threshold,
          input.circuit.cooldownMs,
          ...resultFields(input.result)
        ]),
        (r) => {
          const [tag, at, h] = r as [string, number | undefined, Array<string> | undefined]
          const record = decode(h)
          if (record === undefined) return (tag === "retried" || tag === "failed" ? "not_found" : tag) as Exclude<Checked, "ok">
          return tag === "retried" ? { _tag: "Retried" as const, retryAt: Number(at), record } : { _tag: "Failed" as const, record }
        }
      ),

    release: (id, token, now, ttls) => Effect.map(run(Lua.release, `task:${id}`, [id, token, now, ttls.cancelled]), (r) => r as Checked),

    cancel: (id, now, ttls) =>
      Effect.map(run(Lua.cancel, `task:${id}`, [id, now, ttls.cancelled]), (r) => {
        const [tag, v] = r as [string, string | undefined]
        return tag === "cancelled"
          ? { _tag: "Cancelled" as const, wasRunning: v === "1" }
          : tag === "terminal"
          ? { _tag: "Terminal" as const, state: v as Task.State }
          : { _tag: "NotFound" as const }
      }),

    timeout: (id, now, error, ttls) =>
      Effect.map(run(Lua.timeout, `task:${id}`, [id, now, JSON.stringify(error), ttls.failed]), (r) => r as "ok" | "not_running" | "not_found"),

    recordOutcome: (inst, outcome, taskId, now, c) =>
      Effect.asVoid(run(Lua.circuit, `circuit:${inst}`, [inst, outcome, taskId ?? "", now, c.threshold, c.cooldownMs])),

    resetCircuit: (inst, now) => Effect.asVoid(run(Lua.circuit, `circuit:${inst}`, [inst, "reset", "", now, 0, 0])),

    circuits: (ids) =>
      use("circuits", async (c) => {
        const p = c.pipeline()
        for (const id of ids) p.hmget(k(`circuit:${id}`), "state", "failures", "retryAt", "probe", "probeUntil", "changedAt")
        const res = (await p.exec()) ?? []
        return ids.map((instanceId, i): CircuitBreaker.Circuit => {
          const v = (res[i]?.[1] ?? []) as Array<string | null>
          const num = (x: string | null | undefined) => (x === null || x === undefined ? undefined : Number(x))
          return {
            instanceId,
            state: (v[0] ?? "closed") as CircuitBreaker.State,
            consecutiveFailures: num(v[1]) ?? 0,
            retryAt: num(v[2]),
            probeTaskId: v[3] ?? undefined,
            probeUntil: num(v[4]),
            changedAt: num(v[5])
          }
        })
      }),

    transitions: (limit) =>
      use("LRANGE circuit:events", (c) => c.lrange(k("circuit:events"), 0, limit - 1)).pipe(
        Effect.map((items) =>
          items.map((item): CircuitBreaker.Transition => {
            const e = JSON.parse(item) as { instanceId: string; from: CircuitBreaker.State; to: CircuitBreaker.State; at: number; reason: string }
            return { instanceId: e.instanceId, from: e.from, to: e.to, at: new Date(e.at).toISOString(), reason: e.reason }
          })
        )
      ),

    dlqList: (pool, offset, limit) =>
      use("DLQ list", async (c) => {
        const [total, items] = await Promise.all([
          c.zcard(k(`dlq:${pool}`)),
          limit > 0 ? c.zrevrange(k(`dlq:${pool}`), offset, offset + limit - 1, "WITHSCORES") : Promise.resolve([] as Array<string>)
        ])
        const entries: Array<readonly [string, number]> = []
        for (let i = 0; i + 1 < items.length; i += 2) entries.push([items[i] as string, Number(items[i + 1])])
        return { total, entries }
      }),

    dlqScore: (pool, id) =>
      Effect.map(use("ZSCORE dlq", (c) => c.zscore(k(`dlq:${pool}`), id)), (v) => (v === null ? undefined : Number(v))),

    dlqRetry: (id, now) => Effect.map(run(Lua.dlqRetry, `task:${id}`, [id, now]), (r) => r as "ok" | "not_found" | "not_in_dlq"),

    dlqPurge: (pool, olderThan, dryRun) => Effect.map(run(Lua.dlqPurge, `dlq:${pool}`, [pool, s(olderThan), dryRun ? "1" : "0"]), Number),

    positionInputs: (r, scannerIds, runningIds) =>
      Effect.map(
        run(Lua.positionInputs, `q:${r.pool}`, [
          r.pool,
          r.seq,
          r.requestedInstance ?? "",
          scannerIds.length,
          ...scannerIds,
          runningIds.length,
          ...runningIds
        ]),
        (out) => {
          const [ahead, starts, durations] = out as [number, Array<string>, Array<string>]
          return { ahead: Number(ahead), starts: starts.map(Number), durations: durations.map(Number) }
        }
      ),

    poolCounts: (pool, scannerIds) =>
      use("queue stats", async (c) => {
        const [queued, delayed, leased, dlq, next, ...bound] = await Promise.all([
          c.zcard(k(`q:${pool}`)),
          c.zcard(k(`delayed:${pool}`)),
          c.zcard(k(`leases:${pool}`)),
          c.zcard(k(`dlq:${pool}`)),
          c.zrange(k(`q:${pool}`), "0", "2"),
          ...scannerIds.map((sid) => c.zcard(k(`q:${pool}:i:${sid}`)))
        ])
        return { queued, delayed, leased, dlq, next, bound: bound as Array<number> }
      }),

    runningCounts: (ids) =>
      ids.length === 0
        ? Effect.succeed([])
        : Effect.map(use("running counts", (c) => c.hmget(k("scanners"), ...ids.map((id) => `${id}:running`))), (v) => v.map((x) => Math.max(0, Number(x ?? 0)))),

    durations: (pool) => Effect.map(use("durations", (c) => c.hvals(k(`durations:${pool}`))), (v) => v.map(Number)),

    index: (offset, count) => use("task index", (c) => c.zrevrange(k("index"), offset, offset + count - 1)),

    expire: (now, dryRun, limit) =>
      Effect.map(run(Lua.expire, "expiry", [now, dryRun ? "1" : "0", limit]), (r) =>
        (r as Array<Array<string>>).flatMap((h) => fromHash(h) ?? [])),

    startedBefore: (cutoff, pools) =>
      use("stale scans", async (c) => {
        const ids = (await Promise.all(pools.map((pool) => c.zrange(k(`leases:${pool}`), "0", "-1")))).flat()
        const starts = await Promise.all(ids.map((id) => c.hget(k(`task:${id}`), "startedAt")))
        return ids.filter((_, i) => starts[i] != null && Number(starts[i]) < cutoff)
      }),

    dump: use("dump", async (c) => {
      const out: Array<string> = []
      let cursor = "0"
      do {
        const [next, keys] = await c.scan(cursor, "MATCH", `${P.replace(/[*?[\]\\]/g, "\\$&")}*`, "COUNT", 500)
        cursor = next
        for (const key of keys) {
          out.push(key)
          const type = await c.type(key)
          if (type === "string") out.push((await c.get(key)) ?? "")
          else if (type === "hash") out.push(...Object.entries(await c.hgetall(key)).flat())
          else if (type === "list") out.push(...(await c.lrange(key, 0, -1)))
          else if (type === "set") out.push(...(await c.smembers(key)))
          else if (type === "zset") out.push(...(await c.zrange(key, "0", "-1")))
        }
      } while (cursor !== "0")
      return out
    })
  }
  return store
}
