/**
 * Shared pieces of the client's integration tests: a simulator per test (closed with the test's
 * scope), client constructors for each auth mode, simulator stats readers, and a helper that advances
 * the TestClock while letting real HTTP round trips finish.
 */
import { NodeHttpClient } from "@effect/platform-node"
import { Simulator } from "@nessus-mcp/nessus-simulator"
import { Effect, Fiber, type Exit, Redacted } from "effect"
import { TestClock } from "effect/testing"
import * as NessusClient from "../src/NessusClient.js"

/** Fixed API keys every test simulator accepts. */
export const ACCESS_KEY = "a".repeat(64)
export const SECRET_KEY = "b".repeat(64)

/** The config type of `Simulator.start`. */
export type SimConfig = NonNullable<Parameters<typeof Simulator.start>[0]>
/** One configured scanner. */
export type ScannerConfig = NonNullable<SimConfig["scanners"]>[number]
/** A running simulator. */
export type Sim = Awaited<ReturnType<typeof Simulator.start>>

/** Starts a simulator with one scanner (fixed API keys added), closed when the scope closes. */
export const simulator = (scanner: ScannerConfig = {}, extra: Omit<SimConfig, "scanners"> = {}) =>
  Effect.acquireRelease(
    Effect.promise(() =>
      Simulator.start({
        ...extra,
        scanners: [{
          apiKeys: [{ accessKey: ACCESS_KEY, secretKey: SECRET_KEY }],
          ...scanner
        }]
      })
    ),
    (sim) => Effect.promise(() => sim.close())
  )

/** Fast read retries so tests of retrying do not wait. */
export const fastRetry = { times: 3, base: "1 millis", maxDelay: "5 millis" } as const

/** A client with API keys. */
export const keysClient = (url: string, extra: Partial<NessusClient.Options> = {}) =>
  NessusClient.make({
    url,
    auth: { mode: "api-keys", accessKey: Redacted.make(ACCESS_KEY), secretKey: Redacted.make(SECRET_KEY) },
    retry: fastRetry,
    ...extra
  })

/** A client with a session (or web-ui / auto with a password). */
export const passwordClient = (
  url: string,
  mode: "session" | "web-ui" | "auto",
  extra: Partial<NessusClient.Options> & { readonly password?: string } = {}
) =>
  NessusClient.make({
    url,
    auth: { mode, username: "nessus", password: Redacted.make(extra.password ?? "nessus") },
    retry: fastRetry,
    ...extra
  })

/** The HTTP transport for tests: Undici with a default agent. */
export const HttpLive = NodeHttpClient.layerUndici

/** Stats of the (single) scanner. */
export const statsOf = (sim: Sim) => {
  const stats = sim.stats() as {
    readonly instances: Record<string, {
      readonly api_calls: Record<string, number>
      readonly sessions_created: number
      readonly scans_created: Record<string, number>
      readonly scans_launched: Record<string, number>
    }>
  }
  const first = Object.values(stats.instances)[0]
  if (first === undefined) throw new Error("simulator reports no instance")
  return first
}

/** Sum of API calls whose "METHOD /route" key matches. */
export const calls = (sim: Sim, pattern: RegExp): number =>
  Object.entries(statsOf(sim).api_calls).filter(([k]) => pattern.test(k)).reduce((n, [, v]) => n + v, 0)

/**
 * Waits until a scan reaches one of these statuses, polling the simulator every 25 ms of real time
 * (works under the TestClock too: the scan runs in the simulator, on real time).
 */
export const waitForStatus = (
  client: NessusClient.Service,
  scanId: number,
  statuses: ReadonlyArray<string>
) =>
  Effect.gen(function*() {
    for (let i = 0; i < 400; i++) {
      const details = yield* client.scanDetails(scanId)
      if (statuses.includes(details.info.status)) return details
      yield* Effect.promise(() => new Promise<void>((resolve) => setTimeout(resolve, 25)))
    }
    return yield* Effect.die(new Error(`scan ${scanId} never reached ${statuses.join("/")}`))
  })

/**
 * Advances the TestClock in steps while a fiber does real HTTP, giving each step a few real
 * milliseconds for the round trips to finish, until the fiber ends (or `maxSteps`).
 */
export const driveClock = <A, E>(fiber: Fiber.Fiber<A, E>, step: string, maxSteps = 1000) =>
  Effect.gen(function*() {
    for (let i = 0; i < maxSteps; i++) {
      const exit = fiber.pollUnsafe()
      if (exit !== undefined) return exit as Exit.Exit<A, E>
      yield* TestClock.adjust(step as Parameters<typeof TestClock.adjust>[0])
      yield* Effect.promise(() => new Promise<void>((resolve) => setTimeout(resolve, 8)))
    }
    return yield* Fiber.await(fiber)
  })
