/** Option resolution and streaming shared by the public Generator and the simulator's exports. */
import { Readable } from "node:stream"
import * as Catalogue from "../Catalogue.js"
import type * as Evidence from "./evidence.js"
import { SimulatorError } from "../SimulatorError.js"
import { builtinCatalogue } from "./builtin.js"
import { catalogueRegistry } from "./catalogue.js"
import { type EngineOptions, ExportWriter, type Truth } from "./engine.js"
import { intToIp } from "./targets.js"

/**
 * What happened when a scan tried its credentials on a host; decides plugin 19506's `Credentialed checks`
 * line and the evidence plugins:
 * - `none`: `no`;
 * - `success`: `yes, as '<user>' via ssh` (or `via SMB`) + 141118, 110095, 117887 (+ 12634, 22869 for ssh;
 *   10394 for SMB) and Local Security Checks findings;
 * - `failed`: `no` + 21745 and 104410;
 * - `escalationFailed`: `yes, as '<user>' via ssh` + 141118, 110385 (insufficient privilege) and 102094.
 *
 */
export type CredentialOutcome = Evidence.CredentialOutcome

/**
 * Options for {@link writeExport} and {@link stream}.
 *
 */
export interface Options {
  /** Number of hosts (named 10.0.0.1, 10.0.0.2, ...) or the host names/addresses themselves. */
  readonly hosts: number | ReadonlyArray<string>
  /**
   * ReportItems per host, 19506 and credential evidence included, so `findings === hosts * findingsPerHost`
   * (unless it is smaller than the evidence itself). Omitted: each host replays the findings of one source
   * host as they are.
   */
  readonly findingsPerHost?: number
  /** Seed for the per-host choice of findings (default 1). Same options and seed → same bytes. */
  readonly seed?: number
  /** Finding source: a {@link Catalogue.Catalogue}, fixture path(s), or `false` for built-in (default: auto). */
  readonly fixture?: string | ReadonlyArray<string> | false | Catalogue.Catalogue
  /** Credential outcome: one for all hosts, a list cycled over hosts, or a function of the host (default none). */
  readonly credentials?:
    | CredentialOutcome
    | ReadonlyArray<CredentialOutcome>
    | ((index: number, host: string) => CredentialOutcome)
  /** `<Report name>` and 19506 "Scan name" (default "Generated scan"). */
  readonly scanName?: string
  /** Policy name in `<Policy>` and 19506 (default: the source's). */
  readonly policyName?: string
  /** 19506 "Nessus version" (default 10.7.2). */
  readonly nessusVersion?: string
  /** 19506 "Scanner edition used" (default "Nessus"; Essentials prints "Nessus Home"). */
  readonly edition?: string
  /** 19506 "Scanner IP" (default 192.0.2.10). */
  readonly scannerIp?: string
  /** Scan start (default 2025-11-07T13:25:00Z, fixed so output is reproducible). */
  readonly startTime?: Date | number
  /** 19506 "Scan duration" in seconds (default 137). */
  readonly scanDurationSec?: number
  /** The `TARGET` preference value (default: the hosts, comma-separated, or `first-last` when many). */
  readonly targets?: string
  /** Chunk size in bytes (default 1 MiB). */
  readonly chunkSize?: number
}

/**
 * Exact counts of a generated document (what an independent parser must find).
 *
 */
export interface GroundTruth {
  /** Bytes written (UTF-8). */
  readonly bytes: number
  /** `<ReportHost>` elements. */
  readonly hosts: number
  /** `<ReportItem>` elements, 19506 and evidence included. */
  readonly findings: number
  /** ReportItems by `severity` 0 (info) .. 4 (critical). */
  readonly severityCounts: readonly [number, number, number, number, number]
  /** Hosts whose 19506 says `Credentialed checks : yes...`. */
  readonly credentialedHosts: number
  /** Hosts per credential outcome. */
  readonly outcomes: { readonly none: number; readonly success: number; readonly failed: number; readonly escalationFailed: number }
}

/**
 * A readable `.nessus` stream; `groundTruth` resolves when the last byte has been produced.
 *
 */
export interface ExportStream extends Readable {
  readonly groundTruth: Promise<GroundTruth>
}


/**
 * `n` host addresses 10.0.0.1, 10.0.0.2, ... (the generator's default names).
 *
 * @since 0.1.0
 */
export const hostNames = (n: number): Array<string> => {
  const out = new Array<string>(n)
  for (let i = 0; i < n; i++) out[i] = intToIp(((10 << 24) + i + 1) >>> 0)
  return out
}

const invalid = (message: string) => new SimulatorError({ reason: "InvalidConfig", message })

/** Resolves public options into engine options (shared with the simulator). */
export const engineOptions = (options: Options): EngineOptions => {
  const hosts = typeof options.hosts === "number" ? hostNames(checkCount("hosts", options.hosts)) : [...options.hosts]
  if (hosts.length === 0) throw invalid("Generator option hosts: at least one host is needed")
  if (options.findingsPerHost !== undefined) checkCount("findingsPerHost", options.findingsPerHost)
  const fixture = options.fixture
  const cat = fixture !== undefined && typeof fixture === "object" && "source" in fixture
    ? fixture as Catalogue.Catalogue
    : Catalogue.resolve(fixture as string | ReadonlyArray<string> | false | undefined)
  const data = catalogueRegistry.get(cat) ?? builtinCatalogue()
  const c = options.credentials
  const outcome: EngineOptions["outcome"] = c === undefined
    ? () => ({ status: "none" })
    : typeof c === "function"
    ? c
    : Array.isArray(c)
    ? (i) => (c as ReadonlyArray<CredentialOutcome>)[i % c.length]!
    : () => c as CredentialOutcome
  const start = options.startTime === undefined ? Date.UTC(2025, 10, 7, 13, 25) : Number(options.startTime)
  return {
    catalogue: data,
    hosts,
    findingsPerHost: options.findingsPerHost,
    seed: options.seed ?? 1,
    outcome,
    info: {
      scanName: options.scanName ?? "Generated scan",
      policyName: options.policyName ?? data.policyName,
      nessusVersion: options.nessusVersion ?? "10.7.2",
      edition: options.edition ?? "Nessus",
      scannerIp: options.scannerIp ?? "192.0.2.10",
      startMs: start,
      durationSec: options.scanDurationSec ?? 137
    },
    targetsText: options.targets ?? (hosts.length <= 256 ? hosts.join(",") : `${hosts[0]}-${hosts[hosts.length - 1]}`),
    chunkSize: options.chunkSize ?? 1 << 20
  }
}

const checkCount = (key: string, n: number): number => {
  if (!Number.isInteger(n) || n < 0) throw invalid(`Generator option ${key}: expected a non-negative integer, got ${n}`)
  return n
}

export const freeze = (t: Truth): GroundTruth => ({
  bytes: t.bytes,
  hosts: t.hosts,
  findings: t.findings,
  severityCounts: [...t.severityCounts],
  credentialedHosts: t.credentialedHosts,
  outcomes: { ...t.outcomes }
})

/** A Readable over an engine (pull-based, so backpressure bounds memory). */
export const streamEngine = (eo: EngineOptions): ExportStream => {
  const writer = new ExportWriter(eo)
  let done!: (t: GroundTruth) => void
  let fail!: (e: unknown) => void
  const groundTruth = new Promise<GroundTruth>((res, rej) => {
    done = res
    fail = rej
  })
  groundTruth.catch(() => {})
  const readable = new Readable({
    highWaterMark: eo.chunkSize,
    read() {
      try {
        for (;;) {
          const chunk = writer.next()
          if (chunk === null) {
            this.push(null)
            done(freeze(writer.truth))
            return
          }
          if (!this.push(chunk)) return
        }
      } catch (e) {
        fail(e)
        this.destroy(e as Error)
      }
    }
  })
  return Object.assign(readable, { groundTruth })
}

