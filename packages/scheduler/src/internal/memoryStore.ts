/**
 * The in-memory store: the same data structures and steps as the Redis Lua scripts, each method one
 * synchronous (hence atomic) step.
 */
import { Effect } from "effect"
import * as CircuitBreaker from "../CircuitBreaker.js"
import type * as Task from "../Task.js"
import { type Checked, type CircuitMs, type Store, type TaskRecord, ttlOf, type Ttls } from "./store.js"

/** A sorted set like Redis' (score, then member, ascending), kept sorted by binary insertion. */
class SortedSet {
  private readonly scores = new Map<string, number>()
  private readonly sorted: Array<readonly [number, string]> = []

  private static before(a: readonly [number, string], score: number, member: string): boolean {
    return a[0] < score || (a[0] === score && a[1] < member)
  }
  private find(score: number, member: string): number {
    let lo = 0
    let hi = this.sorted.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (SortedSet.before(this.sorted[mid] as readonly [number, string], score, member)) lo = mid + 1
      else hi = mid
    }
    return lo
  }
  get size(): number {
    return this.scores.size
  }
  add(member: string, score: number): void {
    const old = this.scores.get(member)
    if (old === score) return
    if (old !== undefined) this.sorted.splice(this.find(old, member), 1)
    this.scores.set(member, score)
    this.sorted.splice(this.find(score, member), 0, [score, member])
  }
  remove(member: string): boolean {
    const old = this.scores.get(member)
    if (old === undefined) return false
    this.scores.delete(member)
    this.sorted.splice(this.find(old, member), 1)
    return true
  }
  score(member: string): number | undefined {
    return this.scores.get(member)
  }
  first(): readonly [number, string] | undefined {
    return this.sorted[0]
  }
  rangeByScore(max: number, limit: number, exclusive = false): Array<string> {
    const out: Array<string> = []
    for (const [s, m] of this.sorted) {
      if (s > max || (exclusive && s === max) || out.length >= limit) break
      out.push(m)
    }
    return out
  }
  countBelow(score: number): number {
    let lo = 0
    let hi = this.sorted.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if ((this.sorted[mid] as readonly [number, string])[0] < score) lo = mid + 1
      else hi = mid
    }
    return lo
  }
  rev(offset: number, count: number): Array<readonly [string, number]> {
    const out: Array<readonly [string, number]> = []
    for (let i = this.sorted.length - 1 - offset; i >= 0 && out.length < count; i--) {
      const e = this.sorted[i] as readonly [number, string]
      out.push([e[1], e[0]])
    }
    return out
  }
  entries(): ReadonlyArray<readonly [number, string]> {
    return this.sorted
  }
  clear(): void {
    this.scores.clear()
    this.sorted.length = 0
  }
}

const phaseOrder: Record<Task.Phase, number> = { creating: 1, launched: 2, polling: 3, exporting: 4, validating: 5 }

/** The fields of a worker's result that it actually gave (absent ones leave the task unchanged). */
const resultPatch = (result: Task.CompletionResult): Partial<Pick<TaskRecord, "validation" | "authenticationStatus" | "artifacts">> => ({
  ...(result.validation !== undefined ? { validation: result.validation } : {}),
  ...(result.authenticationStatus !== undefined ? { authenticationStatus: result.authenticationStatus } : {}),
  ...(result.artifacts !== undefined ? { artifacts: result.artifacts } : {})
})

export const make = (): Store => {
  const tasks = new Map<string, TaskRecord>()
  const zsets = new Map<string, SortedSet>()
  const sets = new Map<string, Set<string>>()
  const durations = new Map<string, Map<number, number>>()
  const idem = new Map<string, { taskId: string; hash: string; expiresAt: number }>()
  const circuits = new Map<string, CircuitBreaker.Circuit>()
  const events: Array<CircuitBreaker.Transition> = []
  let seq = 0

  const z = (key: string): SortedSet => {
    let s = zsets.get(key)
    if (!s) zsets.set(key, (s = new SortedSet()))
    return s
  }
  const set = (key: string): Set<string> => {
    let s = sets.get(key)
    if (!s) sets.set(key, (s = new Set()))
    return s
  }
  const queueKey = (pool: string, inst: string | undefined) => (inst === undefined ? `q:${pool}` : `q:${pool}:i:${inst}`)
  const update = (id: string, patch: Partial<{ -readonly [K in keyof TaskRecord]: TaskRecord[K] }>): TaskRecord => {
    const r = { ...(tasks.get(id) as TaskRecord), ...patch }
    tasks.set(id, r)
    return r
  }
  const circuitOf = (id: string) => circuits.get(id) ?? CircuitBreaker.initial(id)
  const applyCircuit = (r: { readonly circuit: CircuitBreaker.Circuit; readonly transition: CircuitBreaker.Transition | undefined }) => {
    circuits.set(r.circuit.instanceId, r.circuit)
    if (r.transition) {
      events.unshift(r.transition)
      if (events.length > 1000) events.length = 1000
    }
  }
  const policy = (c: CircuitMs): CircuitBreaker.Policy => ({ failureThreshold: c.threshold, cooldown: c.cooldownMs, probeTimeout: c.probeMs })
  const record = (inst: string | undefined, outcome: "success" | "failure", taskId: string | undefined, now: number, c: CircuitMs) => {
    if (inst === undefined) return
    applyCircuit(CircuitBreaker.record(circuitOf(inst), { outcome, now, taskId }, policy(c)))
  }
  const abandon = (inst: string | undefined, id: string) => {
    if (inst !== undefined) circuits.set(inst, CircuitBreaker.abandonProbe(circuitOf(inst), id))
  }
  const freeSlot = (r: TaskRecord) => {
    z(`leases:${r.pool}`).remove(r.id)
    if (r.instance !== undefined) set(`running:${r.instance}`).delete(r.id)
  }
  const noLease = { leaseOwner: undefined, leaseToken: undefined, leaseUntil: undefined }
  const check = (id: string, token: string): { r: TaskRecord; ok: true } | { ok: false; result: Exclude<Checked, "ok"> } => {
    const r = tasks.get(id)
    if (!r) return { ok: false, result: "not_found" }
    if (r.leaseToken !== token) return { ok: false, result: "lost" }
    if (r.state === "cancelled") return { ok: false, result: "cancelled" }
    if (r.state !== "running") return { ok: false, result: "lost" }
    return { ok: true, r }
  }

  const sync = <A>(f: () => A) => Effect.sync(f)

  const store: Store = {
    submit: ({ idempotency, now, record: rec }) =>
      sync(() => {
        if (idempotency) {
          const v = idem.get(idempotency.key)
          if (v && v.expiresAt > now && tasks.has(v.taskId)) {
            return v.hash === idempotency.hash
              ? { _tag: "Existing" as const, taskId: v.taskId }
              : { _tag: "Conflict" as const, taskId: v.taskId }
          }
        }
        const s = ++seq
        tasks.set(rec.id, { ...rec, seq: s })
        z("index").add(rec.id, s)
        z(queueKey(rec.pool, rec.requestedInstance)).add(rec.id, s)
        if (idempotency) idem.set(idempotency.key, { taskId: rec.id, hash: idempotency.hash, expiresAt: idempotency.expiresAt })
        return { _tag: "Created" as const, seq: s }
      }),

    get: (id, touch) =>
      sync(() => {
        const r = tasks.get(id)
        if (!r || !touch) return r
        const ttl = ttlOf(touch.ttls, r.state)
        if (ttl !== undefined && z("expiry").score(id) !== undefined) z("expiry").add(id, touch.now + ttl)
        return update(id, { accessedAt: touch.now })
      }),

    getMany: (ids) => sync(() => ids.flatMap((id) => tasks.get(id) ?? [])),

    claim: ({ circuit, leaseMs, now, owner, pool, slots, token, ttls }) =>
      sync(() => {
        const leases = z(`leases:${pool}`)
        for (;;) {
          const id = leases.rangeByScore(now, 1)[0]
          if (id === undefined) break
          const r = tasks.get(id)
          if (r && r.state === "running") {
            leases.add(id, now + leaseMs)
            return {
              record: update(id, { leaseToken: token, leaseOwner: owner, leaseUntil: now + leaseMs, updatedAt: now, takeovers: r.takeovers + 1 }),
              takeover: true
            }
          }
          leases.remove(id)
          if (r) {
            freeSlot(r)
            abandon(r.instance, id)
            update(id, noLease)
            const ttl = ttlOf(ttls, r.state)
            if (ttl !== undefined) z("expiry").add(id, now + ttl)
          }
        }
        const delayed = z(`delayed:${pool}`)
        for (const id of delayed.rangeByScore(now, 100)) {
          delayed.remove(id)
          const r = tasks.get(id)
          if (r && r.state === "queued") {
            z(queueKey(r.pool, r.requestedInstance)).add(id, r.seq)
            update(id, { retryAt: undefined })
          }
        }
        type Cand = { slot: (typeof slots)[number]; running: number; probe: boolean }
        const allowed = new Map<string, Cand>()
        let least: Cand | undefined
        const n = slots.length
        const head = z(`q:${pool}`).first()
        const rot = head?.[0] ?? 0
        for (let j = 0; j < n; j++) {
          const slot = slots[(j + rot) % n] as (typeof slots)[number]
          if (!slot.enabled) continue
          const running = set(`running:${slot.id}`).size
          if (running >= slot.max) continue
          const adm = CircuitBreaker.admits(circuitOf(slot.id), now)
          if (adm === "no") continue
          const cand = { slot, running, probe: adm === "probe" }
          allowed.set(slot.id, cand)
          if (least === undefined || running * least.slot.max < least.running * slot.max) least = cand
        }
        if (least === undefined) return undefined
        let best: { id: string; seq: number; cand: Cand; key: string } | undefined
        if (head) best = { id: head[1], seq: head[0], cand: least, key: `q:${pool}` }
        for (const [sid, c] of allowed) {
          const key = `q:${pool}:i:${sid}`
          const h = z(key).first()
          if (h && (best === undefined || h[0] < best.seq)) best = { id: h[1], seq: h[0], cand: c, key }
        }
        if (!best) return undefined
        z(best.key).remove(best.id)
        const r = tasks.get(best.id) as TaskRecord
        const inst = best.cand.slot.id
        const updated = update(best.id, {
          state: "running",
          phase: "creating",
          instance: inst,
          attempt: r.attempt + 1,
          leaseToken: token,
          leaseOwner: owner,
          leaseUntil: now + leaseMs,
          startedAt: now,
          updatedAt: now,
          nessusScanId: undefined,
          progress: undefined,
          retryAt: undefined,
          finishedAt: undefined
        })
        set(`running:${inst}`).add(best.id)
        leases.add(best.id, now + leaseMs)
        if (best.cand.probe) applyCircuit(CircuitBreaker.startProbe(circuitOf(inst), best.id, now, policy(circuit)))
        return { record: updated, takeover: false }
      }),

    heartbeat: (id, token, now, leaseMs) =>
      sync(() => {
        const c = check(id, token)
        if (!c.ok) return c.result
        update(id, { leaseUntil: now + leaseMs })
        z(`leases:${c.r.pool}`).add(id, now + leaseMs)
        return "ok"
      }),

    setPhase: (id, token, now, phase, nessusScanId, progress) =>
      sync(() => {
        const c = check(id, token)
        if (!c.ok) return c.result
        if (c.r.phase !== undefined && phaseOrder[phase] < phaseOrder[c.r.phase]) return { _tag: "BadPhase" as const, current: c.r.phase }
        update(id, { phase, updatedAt: now, ...(nessusScanId !== undefined ? { nessusScanId } : {}), ...(progress !== undefined ? { progress } : {}) })
        return "ok"
      }),

    complete: ({ circuit, id, keepDurations, now, result, token, ttls }) =>
      sync(() => {
        const c = check(id, token)
        if (!c.ok) return c.result
        const r = c.r
        freeSlot(r)
        update(id, { ...noLease, state: "completed", phase: undefined, finishedAt: now, updatedAt: now, ...resultPatch(result) })
        const d = durations.get(r.pool) ?? new Map<number, number>()
        d.set(r.seq % keepDurations, now - (r.startedAt ?? now))
        durations.set(r.pool, d)
        z("expiry").add(id, now + ttls.completed)
        record(r.instance, "success", id, now, circuit)
        return "ok"
      }),

    fail: ({ circuit, delayMs, error, id, maxRetries, now, result, scannerFailure, token, transient, ttls }) =>
      sync(() => {
        const c = check(id, token)
        if (!c.ok) return c.result
        const r = c.r
        freeSlot(r)
        record(r.instance, scannerFailure ? "failure" : "success", id, now, circuit)
        const entry: Task.AttemptError = {
          attempt: r.attempt,
          at: error.at,
          reason: error.reason,
          message: error.message,
          ...(r.phase !== undefined ? { phase: r.phase } : {}),
          ...(r.instance !== undefined ? { instanceId: r.instance } : {})
        }
        const errors = [...r.errors, entry]
        const results = resultPatch(result)
        if (transient && r.attempt - r.runBase - 1 < maxRetries) {
          const rec = update(id, {
            ...noLease,
            ...results,
            errors,
            state: "queued",
            phase: undefined,
            instance: undefined,
            nessusScanId: undefined,
            progress: undefined,
            updatedAt: now,
            retryAt: now + delayMs
          })
          z(`delayed:${r.pool}`).add(id, now + delayMs)
          return { _tag: "Retried" as const, retryAt: now + delayMs, record: rec }
        }
        const rec = update(id, { ...noLease, ...results, errors, state: "failed", phase: undefined, finishedAt: now, updatedAt: now })
        z(`dlq:${r.pool}`).add(id, now)
        z("expiry").add(id, now + ttls.failed)
        return { _tag: "Failed" as const, record: rec }
      }),

    release: (id, token, now, ttls) =>
      sync(() => {
        const r = tasks.get(id)
        if (!r) return "not_found"
        if (r.leaseToken !== token) return "lost"
        if (r.state === "running") {
          update(id, { leaseToken: undefined, leaseOwner: undefined, leaseUntil: now, updatedAt: now })
          z(`leases:${r.pool}`).add(id, now)
          return "ok"
        }
        if (r.state === "cancelled") {
          freeSlot(r)
          abandon(r.instance, id)
          update(id, noLease)
          z("expiry").add(id, now + ttls.cancelled)
          return "ok"
        }
        return "lost"
      }),

    cancel: (id, now, ttls) =>
      sync(() => {
        const r = tasks.get(id)
        if (!r) return { _tag: "NotFound" as const }
        if (r.state === "queued") {
          z(queueKey(r.pool, r.requestedInstance)).remove(id)
          z(`delayed:${r.pool}`).remove(id)
          update(id, { state: "cancelled", finishedAt: now, updatedAt: now, retryAt: undefined })
          z("expiry").add(id, now + ttls.cancelled)
          return { _tag: "Cancelled" as const, wasRunning: false }
        }
        if (r.state === "running") {
          update(id, { state: "cancelled", cancelRequested: true, finishedAt: now, updatedAt: now })
          return { _tag: "Cancelled" as const, wasRunning: true }
        }
        return { _tag: "Terminal" as const, state: r.state }
      }),

    timeout: (id, now, error, ttls) =>
      sync(() => {
        const r = tasks.get(id)
        if (!r) return "not_found"
        if (r.state !== "running") return "not_running"
        freeSlot(r)
        abandon(r.instance, id)
        update(id, { ...noLease, errors: [...r.errors, error], state: "timeout", phase: undefined, finishedAt: now, updatedAt: now })
        z(`dlq:${r.pool}`).add(id, now)
        z("expiry").add(id, now + ttls.failed)
        return "ok"
      }),

    recordOutcome: (inst, outcome, taskId, now, circuit) => sync(() => record(inst, outcome, taskId, now, circuit)),

    resetCircuit: (inst, now) => sync(() => applyCircuit(CircuitBreaker.reset(circuitOf(inst), now))),

    circuits: (ids) => sync(() => ids.map(circuitOf)),

    transitions: (limit) => sync(() => events.slice(0, limit)),

    dlqList: (pool, offset, limit) => sync(() => ({ total: z(`dlq:${pool}`).size, entries: z(`dlq:${pool}`).rev(offset, limit) })),

    dlqScore: (pool, id) => sync(() => z(`dlq:${pool}`).score(id)),

    dlqRetry: (id, now) =>
      sync(() => {
        const r = tasks.get(id)
        if (!r) return "not_found"
        if (z(`dlq:${r.pool}`).score(id) === undefined || (r.state !== "failed" && r.state !== "timeout")) return "not_in_dlq"
        z(`dlq:${r.pool}`).remove(id)
        z("expiry").remove(id)
        const s = ++seq
        update(id, {
          state: "queued",
          seq: s,
          runBase: r.attempt,
          updatedAt: now,
          finishedAt: undefined,
          phase: undefined,
          instance: undefined,
          nessusScanId: undefined,
          progress: undefined,
          retryAt: undefined,
          cancelRequested: false,
          ...noLease
        })
        z(queueKey(r.pool, r.requestedInstance)).add(id, s)
        return "ok"
      }),

    dlqPurge: (pool, olderThan, dryRun) =>
      sync(() => {
        const d = z(`dlq:${pool}`)
        if (olderThan === undefined) {
          const n = d.size
          if (!dryRun) d.clear()
          return n
        }
        const ids = d.rangeByScore(olderThan, Number.MAX_SAFE_INTEGER, true)
        if (!dryRun) ids.forEach((id) => d.remove(id))
        return ids.length
      }),

    positionInputs: (r, scannerIds, runningIds) =>
      sync(() => {
        const poolAhead = z(`q:${r.pool}`).countBelow(r.seq)
        const ahead = r.requestedInstance !== undefined
          ? poolAhead + z(`q:${r.pool}:i:${r.requestedInstance}`).countBelow(r.seq)
          : scannerIds.reduce((n, s) => n + z(`q:${r.pool}:i:${s}`).countBelow(r.seq), poolAhead)
        const starts = runningIds.flatMap((inst) => [...set(`running:${inst}`)].map((id) => tasks.get(id)?.startedAt ?? 0))
        return { ahead, starts, durations: [...(durations.get(r.pool)?.values() ?? [])] }
      }),

    poolCounts: (pool, scannerIds) =>
      sync(() => ({
        queued: z(`q:${pool}`).size,
        bound: scannerIds.map((s) => z(`q:${pool}:i:${s}`).size),
        delayed: z(`delayed:${pool}`).size,
        leased: z(`leases:${pool}`).size,
        dlq: z(`dlq:${pool}`).size,
        next: z(`q:${pool}`).entries().slice(0, 3).map((e) => e[1])
      })),

    runningCounts: (ids) => sync(() => ids.map((inst) => set(`running:${inst}`).size)),

    durations: (pool) => sync(() => [...(durations.get(pool)?.values() ?? [])]),

    index: (offset, count) => sync(() => z("index").rev(offset, count).map((e) => e[0])),

    expire: (now, dryRun, limit) =>
      sync(() => {
        const ids = z("expiry").rangeByScore(now, limit)
        const out = ids.flatMap((id) => tasks.get(id) ?? [])
        if (!dryRun) {
          for (const id of ids) {
            const r = tasks.get(id)
            tasks.delete(id)
            z("index").remove(id)
            z("expiry").remove(id)
            if (r) z(`dlq:${r.pool}`).remove(id)
          }
        }
        return out
      }),

    startedBefore: (cutoff, pools) =>
      sync(() =>
        pools.flatMap((pool) =>
          z(`leases:${pool}`).entries().map((e) => e[1]).filter((id) => (tasks.get(id)?.startedAt ?? Infinity) < cutoff)
        )
      ),

    dump: sync(() =>
      [
        ...[...tasks.values()].map((r) => JSON.stringify(r)),
        ...[...idem.entries()].map((e) => JSON.stringify(e)),
        JSON.stringify([...circuits.values()]),
        JSON.stringify(events)
      ]
    )
  }
  return store
}

export type { Ttls }
