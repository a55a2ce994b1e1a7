/**
 * Test harness: the same scheduler over both backends. Redis tests use the throwaway server of the
 * vitest global setup (REDIS_URL) with a unique key prefix per test.
 */
import { Effect, Layer, Logger, Redacted, References, Result } from "effect"
import { randomBytes } from "node:crypto"
import * as Credentials from "../src/Credentials.js"
import * as Redis from "../src/Redis.js"
import * as ScannerConfig from "../src/ScannerConfig.js"
import * as Scheduler from "../src/Scheduler.js"
import * as SchedulerError from "../src/SchedulerError.js"

export const baseConfig = `
pools:
  nessus:
    allowed_targets: [127.0.0.0/8, 192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24, "*.example.org", scanme.example.com]
    max_targets: 1024
    scanners:
      - { instance_id: s1, url: "http://127.0.0.1:8834", username: u, password: p, max_concurrent_scans: 2 }
      - { instance_id: s2, url: "http://127.0.0.1:8835", username: u, password: p, max_concurrent_scans: 2 }
      - { instance_id: s3, url: "http://127.0.0.1:8836", username: u, password: p, max_concurrent_scans: 2 }
  solo:
    allowed_targets: [192.0.2.0/24]
    scanners:
      - { instance_id: solo1, url: "http://127.0.0.1:8837", username: u, password: p, max_concurrent_scans: 2 }
credentials:
  linux-admin: { type: ssh, username: scanuser, password: scanpass, elevate_privileges_with: sudo, escalation_password: sudopass }
  plain: { username: u2, password: p2 }
`

export const parseConfig = (text: string, env: Record<string, string | undefined> = {}): ScannerConfig.Config => {
  const r = ScannerConfig.parse(text, { file: "test.yaml", env })
  if (Result.isFailure(r)) throw new Error(r.failure.message)
  return r.success
}

/** A key for inline credentials in tests. */
export const testKey = Redacted.make(randomBytes(32).toString("base64"))

export interface Backend {
  readonly name: "memory" | "redis"
  readonly layer: (options: Scheduler.Options) => Layer.Layer<Scheduler.Scheduler, SchedulerError.SchedulerError, ScannerConfig.ScannerConfig | Credentials.Credentials>
}

export const redisUrl = (): string => {
  const url = process.env["REDIS_URL"]
  if (!url) throw new Error("REDIS_URL is not set; run through vitest (its global setup starts redis-server)")
  return url
}

export const uniquePrefix = (): string => `{t${randomBytes(6).toString("hex")}}:`

export const backends: ReadonlyArray<Backend> = [
  { name: "memory", layer: (options) => Scheduler.layerMemory(options) },
  {
    name: "redis",
    layer: (options) =>
      Scheduler.layerRedis({ ...options, prefix: uniquePrefix() }).pipe(Layer.provide(Redis.layer({ url: redisUrl() })))
  }
]

/**
 * A scheduler over `backend`; `source.text` is re-read on every reload.
 */
export const harness = (
  backend: Backend,
  options: {
    readonly config?: string
    readonly key?: Redacted.Redacted<string> | undefined
    readonly scheduler?: Scheduler.Options
    readonly source?: { text: string } | undefined
  } = {}
) => {
  const source = options.source ?? { text: options.config ?? baseConfig }
  const configLayer = Layer.effect(
    ScannerConfig.ScannerConfig,
    ScannerConfig.make(
      Effect.suspend(() => {
        const r = ScannerConfig.parse(source.text, { file: "test.yaml", env: {} })
        return Result.isSuccess(r) ? Effect.succeed(r.success) : Effect.fail(r.failure)
      })
    )
  ).pipe(Layer.orDie)
  const credentialsLayer = Credentials.layer({ key: options.key }).pipe(Layer.orDie)
  return backend.layer(options.scheduler ?? {}).pipe(
    Layer.orDie,
    Layer.provideMerge(credentialsLayer),
    Layer.provideMerge(configLayer)
  )
}

/** The reason of a failed effect (fails the test if it succeeded). */
export const reasonOf = <A, R>(effect: Effect.Effect<A, SchedulerError.SchedulerError, R>) =>
  Effect.flip(effect).pipe(Effect.map((e) => e.reason))

export const errorOf = <A, R>(effect: Effect.Effect<A, SchedulerError.SchedulerError, R>) => Effect.flip(effect)

/** A log line as the capturing logger saw it. */
export interface LogEntry {
  readonly level: string
  readonly message: string
  readonly annotations: Readonly<Record<string, unknown>>
}

/**
 * A logger that keeps every line (replacing the default one, so nothing is printed); `next` waits for the
 * next line matching `predicate` (lines seen before the call count).
 */
export const logCapture = () => {
  const lines: Array<LogEntry> = []
  const waiters: Array<{ readonly predicate: (e: LogEntry) => boolean; readonly resume: (e: LogEntry) => void }> = []
  let consumed = 0
  const logger = Logger.make((o) => {
    const entry: LogEntry = {
      level: o.logLevel,
      message: Array.isArray(o.message) ? o.message.map(String).join(" ") : String(o.message),
      annotations: { ...o.fiber.getRef(References.CurrentLogAnnotations) }
    }
    lines.push(entry)
    for (const w of [...waiters]) {
      if (w.predicate(entry)) {
        waiters.splice(waiters.indexOf(w), 1)
        w.resume(entry)
      }
    }
  })
  /** The next line from here on that matches (each line is returned once). */
  const next = (predicate: (e: LogEntry) => boolean): Effect.Effect<LogEntry> =>
    Effect.suspend(() => {
      const index = lines.findIndex((e, i) => i >= consumed && predicate(e))
      if (index >= 0) {
        consumed = index + 1
        return Effect.succeed(lines[index] as LogEntry)
      }
      return Effect.callback<LogEntry>((resume) => {
        waiters.push({ predicate, resume: (e) => {
          consumed = lines.length
          resume(Effect.succeed(e))
        } })
      })
    })
  return { lines, next, layer: Logger.layer([logger]) }
}
