/**
 * Start and stop simulated Nessus scanners: one HTTP(S) server per scanner, each with its own licence mode,
 * speed, faults and statistics.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import { Instance, type InstanceStats } from "./internal/instance.js"
import type { Faults, SimulatorConfig } from "./SimulatorConfig.js"
import { parse } from "./SimulatorConfig.js"
import { isSimulatorError, SimulatorError } from "./SimulatorError.js"

/**
 * Counters of one scanner (`GET /_sim/stats` → `instances[id]`). Exact: every count is updated synchronously
 * when the request arrives (api_calls) or the state changes (scans, sessions).
 *
 * @since 0.1.0
 */
export interface ScannerStats {
  /** `POST /scans` successes per scan name. */
  readonly scans_created: Readonly<Record<string, number>>
  /** Launches (`/launch` or `launch_now`) per scan name. */
  readonly scans_launched: Readonly<Record<string, number>>
  /** Highest number of scans at once in an active state (pending, running, pausing, paused, resuming, stopping). */
  readonly max_concurrent_running: number
  /** Scans in an active state now. */
  readonly running_now: number
  /** Nessus requests received, by `"<METHOD> <route pattern>"` (e.g. `"POST /scans/{id}/launch"`). */
  readonly api_calls: Readonly<Record<string, number>>
  /** Successful `POST /session` logins. */
  readonly sessions_created: number
}

/**
 * `GET /_sim/stats` body: every instance of the simulator by id.
 *
 * @since 0.1.0
 */
export interface Stats {
  readonly instances: Readonly<Record<string, ScannerStats>>
}

/**
 * A running scanner.
 *
 * @since 0.1.0
 */
export interface Scanner {
  /** Instance id. */
  readonly id: string
  /** Base URL, e.g. `http://127.0.0.1:41234` or `https://127.0.0.1:8834`. */
  readonly url: string
  /** Bound port. */
  readonly port: number
  /** The web-UI X-API-Token its /nessus6.js serves. */
  readonly apiToken: string
  /** Whether `license.features.scan_api` is true. */
  readonly scanApi: boolean
  /** Replaces this scanner's faults (validated like `POST /_sim/faults`); returns the active set. */
  readonly setFaults: (faults: Faults) => Faults
  /** The active faults. */
  readonly faults: () => Faults
  /** This scanner's counters (a snapshot). */
  readonly stats: () => ScannerStats
  /** Clears this scanner's scans, exports, faults and counters (keeps config, users and sessions). */
  readonly reset: () => void
}

/**
 * A started simulator.
 *
 * @since 0.1.0
 */
export interface RunningSimulator {
  /** The scanners, in configuration order. */
  readonly scanners: ReadonlyArray<Scanner>
  /** A scanner by id (throws when unknown). */
  readonly scanner: (id: string) => Scanner
  /** Counters of every scanner (same JSON as `GET /_sim/stats`). */
  readonly stats: () => Stats
  /** Resets every scanner. */
  readonly reset: () => void
  /** Stops every server and timer. Idempotent. */
  readonly close: () => Promise<void>
}

const snapshot = (s: InstanceStats): ScannerStats => JSON.parse(JSON.stringify(s)) as ScannerStats

/**
 * Validates the configuration and starts every scanner. Rejects with `SimulatorError` (`InvalidConfig`,
 * `Listen`, `Fixture`); scanners already started are closed again on failure.
 *
 * @example
 * const sim = await Simulator.start({ scanners: [{ scanDurationMs: 200 }, { scanApi: false }] })
 * const res = await fetch(`${sim.scanners[0].url}/server/status`)
 * await sim.close()
 *
 * @since 0.1.0
 */
export const start = async (config: SimulatorConfig = {}): Promise<RunningSimulator> => {
  const valid = parse(config)
  const host = valid.host ?? "127.0.0.1"
  const configs = valid.scanners && valid.scanners.length > 0 ? valid.scanners : [{}]
  const instances = configs.map((c, i) => new Instance(c, i, valid.fixture))
  const statsOfAll = (): Stats => ({
    instances: Object.fromEntries(instances.map((i) => [i.settings.id, snapshot(i.stats)]))
  })
  const started: Array<Instance> = []
  try {
    for (const inst of instances) {
      await inst.listen(host, statsOfAll)
      started.push(inst)
    }
  } catch (e) {
    await Promise.all(started.map((i) => i.close()))
    throw e
  }
  const urlHost = host.includes(":") ? `[${host}]` : host
  const scanners: Array<Scanner> = instances.map((inst) => ({
    id: inst.settings.id,
    url: `${inst.settings.tls ? "https" : "http"}://${urlHost}:${inst.port}`,
    port: inst.port,
    apiToken: inst.settings.apiToken,
    scanApi: inst.settings.scanApi,
    setFaults: (f) => inst.setFaults(f),
    faults: () => inst.faults(),
    stats: () => snapshot(inst.stats),
    reset: () => inst.reset()
  }))
  let closing: Promise<void> | undefined
  return {
    scanners,
    scanner: (id) => {
      const s = scanners.find((x) => x.id === id)
      if (!s) {
        throw new SimulatorError({
          reason: "InvalidConfig",
          message: `No scanner with id "${id}" (known: ${scanners.map((x) => x.id).join(", ")})`
        })
      }
      return s
    },
    stats: statsOfAll,
    reset: () => instances.forEach((i) => i.reset()),
    close: () => (closing ??= Promise.all(instances.map((i) => i.close())).then(() => undefined))
  }
}

/**
 * The simulator as a scoped Effect: started on acquisition, closed when the scope closes.
 *
 * @example
 * Effect.gen(function*() {
 *   const sim = yield* Simulator.make({ scanners: [{ scanDurationMs: 0 }] })
 *   // ... use sim.scanners[0].url
 * }).pipe(Effect.scoped)
 *
 * @since 0.1.0
 */
export const make = (config: SimulatorConfig = {}): Effect.Effect<RunningSimulator, SimulatorError, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.tryPromise({
      try: () => start(config),
      catch: (e) =>
        isSimulatorError(e)
          ? e
          : new SimulatorError({ reason: "Listen", message: `The simulator failed to start: ${String(e)}`, cause: e })
    }),
    (sim) => Effect.promise(() => sim.close())
  )
