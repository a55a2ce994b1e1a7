/**
 * The reliability scenario's fixed inputs: the simulated scanners, the scanners file the workers and the MCP
 * server share, the mix of 300 submissions, and the seeded chaos schedule. Kept apart from the test so the
 * numbers the documentation quotes live in one place.
 */
import { prng } from "./system.js"

/** The scanners of the main pool and what each one does during the run. */
export const MAIN_SCANNERS = [
  { id: "s1", role: "steady", scanDurationMs: 100 },
  { id: "s2", role: "steady", scanDurationMs: 250 },
  { id: "s3", role: "licence-gated (412 on POST /scans), driven through the web UI token", scanDurationMs: 400 },
  { id: "s4", role: "down until its circuit opens", scanDurationMs: 200 },
  { id: "s5", role: "5xx/429 bursts, revoked sessions, exports stuck in loading", scanDurationMs: 300 }
] as const

/** The scanner of the `legacy` pool: licence-gated and configured `api_mode: api`, so scans fail for good. */
export const LEGACY_SCANNER = "legacy1"

/** Capacity of every scanner. */
export const CAPACITY = 2
/** ReportItems per host in every export (deterministic sizes). */
export const FINDINGS_PER_HOST = 12

/** The simulator's YAML: free ports, the default target account plus one whose passwords are the canaries. */
export const simulatorYaml = (canary: { password: string; sudo: string }): string => {
  const accounts = `
    targetAccounts:
      - { username: scanuser, password: scanpass, escalation: { method: sudo, password: sudopass } }
      - { username: canaryuser, password: "${canary.password}", escalation: { method: sudo, password: "${canary.sudo}" } }`
  const scanner = (id: string, scanDurationMs: number, extra = "") => `
  - id: ${id}
    port: 0
    scanDurationMs: ${scanDurationMs}
    exportDelayMs: 80
    findingsPerHost: ${FINDINGS_PER_HOST}${extra}${accounts}`
  // The built-in catalogue keeps exports small (the fixtures' policy block alone is ~2 MB per export).
  return `host: 127.0.0.1
fixture: false
scanners:${MAIN_SCANNERS.map((s) => scanner(s.id, s.scanDurationMs, s.id === "s3" ? "\n    scanApi: false" : "")).join("")}${
    scanner(LEGACY_SCANNER, 100, "\n    scanApi: false")
  }
`
}

/** The scanners file of the MCP server and the workers. */
export const scannersYaml = (urls: Record<string, string>): string => `
default_pool: nessus
pools:
  nessus:
    allowed_targets: [192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24]
    max_targets: 16
    scanners:
${
  MAIN_SCANNERS.map((s) =>
    `      - { instance_id: ${s.id}, name: "${s.id}", url: "${urls[s.id]}", username: nessus, password: nessus, api_mode: ${
      s.id === "s3" ? "web-ui" : "api"
    }, max_concurrent_scans: ${CAPACITY} }`
  ).join("\n")
}
  legacy:
    allowed_targets: [192.0.2.0/24]
    max_targets: 16
    scanners:
      - { instance_id: ${LEGACY_SCANNER}, url: "${urls[LEGACY_SCANNER]}", username: nessus, password: nessus, api_mode: api, max_concurrent_scans: ${CAPACITY} }
credentials:
  linux-admin: { type: ssh, username: scanuser, password: scanpass, elevate_privileges_with: sudo, escalation_password: sudopass }
`

/** What a submission is and what its outcome must be. */
export type Kind =
  | "untrusted"
  | "untrusted-bound-s4"
  | "untrusted-idempotent"
  | "authenticated-named"
  | "privileged-named"
  | "authenticated-inline"
  | "privileged-inline"
  | "inline-wrong-password"
  | "legacy-412"

/** One logical submission. */
export interface Submission {
  readonly index: number
  readonly kind: Kind
  readonly tool: "run_untrusted_scan" | "run_authenticated_scan"
  readonly args: Record<string, unknown>
  /** `completed`, or `failed` with this reason. */
  readonly expect: { readonly status: "completed" } | { readonly status: "failed"; readonly reason: string }
  readonly inline: boolean
}

const COUNTS: ReadonlyArray<readonly [Kind, number]> = [
  ["untrusted-bound-s4", 4],
  ["untrusted-idempotent", 30],
  ["authenticated-named", 30],
  ["privileged-named", 30],
  ["authenticated-inline", 25],
  ["privileged-inline", 25],
  ["inline-wrong-password", 6]
]

/** Main-pool submissions. */
export const MAIN_TASKS = 300
/** Submissions to the `legacy` pool (permanent 412). */
export const LEGACY_TASKS = 3

/** The 300 main-pool submissions (shuffled with the seed) and the legacy ones. */
export const submissions = (seed: number, run: string, canary: { password: string; sudo: string }): Array<Submission> => {
  const random = prng(seed)
  const kinds: Array<Kind> = []
  for (const [kind, n] of COUNTS) for (let i = 0; i < n; i++) kinds.push(kind)
  while (kinds.length < MAIN_TASKS) kinds.push("untrusted")
  for (let i = kinds.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1))
    ;[kinds[i], kinds[j]] = [kinds[j]!, kinds[i]!]
  }
  const ranges = ["192.0.2", "198.51.100", "203.0.113"]
  const targetsOf = (i: number) => {
    const net = ranges[i % 3]!
    const first = 1 + (i * 7) % 240
    const hosts = 1 + Math.floor(random() * 3)
    return hosts === 1 ? `${net}.${first}` : `${net}.${first}-${net}.${first + hosts - 1}`
  }
  const all: Array<Submission> = kinds.map((kind, index) => {
    const base = { targets: targetsOf(index), name: `rel ${index} ${kind}` }
    switch (kind) {
      case "untrusted":
        return { index, kind, tool: "run_untrusted_scan", args: base, expect: { status: "completed" }, inline: false }
      case "untrusted-bound-s4":
        return { index, kind, tool: "run_untrusted_scan", args: { ...base, scanner_instance: "s4" }, expect: { status: "completed" }, inline: false }
      case "untrusted-idempotent":
        return { index, kind, tool: "run_untrusted_scan", args: { ...base, idempotency_key: `rel-${run}-${index}` }, expect: { status: "completed" }, inline: false }
      case "authenticated-named":
        return { index, kind, tool: "run_authenticated_scan", args: { ...base, scan_type: "authenticated", credential: "linux-admin" }, expect: { status: "completed" }, inline: false }
      case "privileged-named":
        return { index, kind, tool: "run_authenticated_scan", args: { ...base, scan_type: "authenticated_privileged", credential: "linux-admin" }, expect: { status: "completed" }, inline: false }
      case "authenticated-inline":
        return {
          index,
          kind,
          tool: "run_authenticated_scan",
          args: { ...base, scan_type: "authenticated", ssh_username: "canaryuser", ssh_password: canary.password },
          expect: { status: "completed" },
          inline: true
        }
      case "privileged-inline":
        return {
          index,
          kind,
          tool: "run_authenticated_scan",
          args: {
            ...base,
            scan_type: "authenticated_privileged",
            ssh_username: "canaryuser",
            ssh_password: canary.password,
            elevate_privileges_with: "sudo",
            escalation_password: canary.sudo
          },
          expect: { status: "completed" },
          inline: true
        }
      case "inline-wrong-password":
        // Contains the canary, so a leak of this password is caught too.
        return {
          index,
          kind,
          tool: "run_authenticated_scan",
          args: { ...base, scan_type: "authenticated", ssh_username: "canaryuser", ssh_password: `${canary.password}-wrong` },
          expect: { status: "failed", reason: "authentication_failed" },
          inline: true
        }
      case "legacy-412":
        throw new Error("unreachable")
    }
  })
  for (let i = 0; i < LEGACY_TASKS; i++) {
    all.push({
      index: MAIN_TASKS + i,
      kind: "legacy-412",
      tool: "run_untrusted_scan",
      args: { targets: `192.0.2.${250 + i}`, name: `rel legacy ${i}`, scanner_pool: "legacy" },
      expect: { status: "failed", reason: "api_unavailable" },
      inline: false
    })
  }
  return all
}

/** Faults of the flaky scanner, in order; each replaces the previous set (`{}` clears). */
export const FLAKY_FAULTS: ReadonlyArray<{ readonly label: string; readonly faults: Record<string, unknown>; readonly holdMs?: number }> = [
  { label: "503 burst x3", faults: { errorBurst: { status: 503, count: 3 } } },
  { label: "429 x2 (Retry-After 1 s)", faults: { rateLimit: { count: 2, retryAfterSeconds: 1 } } },
  { label: "sessions revoked", faults: { revokeSessions: true } },
  { label: "exports stuck in loading for 3 s", faults: { exportStuckLoading: true }, holdMs: 3_000 },
  { label: "500 burst x2 + sessions revoked", faults: { errorBurst: { status: 500, count: 2 }, revokeSessions: true } }
]

/** The seeded chaos schedule, in ms after the submissions were acknowledged. */
export interface Chaos {
  readonly kills: ReadonlyArray<{ readonly atMs: number; readonly victim: number; readonly restartAfterMs: number }>
  readonly redisRestartAtMs: number
  readonly flakyAtMs: ReadonlyArray<number>
}

/**
 * Four SIGKILLs between 2 s and 20 s, one Redis restart between 5 s and 12 s, the flaky faults between 1 s
 * and 15 s: all while the main queue is still draining (it takes ~30 s or more even on an idle machine: 300
 * scans of 0.8-1.2 s each over 8 working slots), so kills hit busy workers and counted faults get consumed.
 */
export const chaos = (seed: number): Chaos => {
  const random = prng(seed ^ 0x5eed)
  const between = (a: number, b: number) => Math.round(a + random() * (b - a))
  const kills = Array.from({ length: 4 }, () => ({ atMs: between(2_000, 20_000), victim: Math.floor(random() * 3), restartAfterMs: between(300, 1_500) }))
    .sort((a, b) => a.atMs - b.atMs)
  const flakyAtMs = FLAKY_FAULTS.map(() => between(1_000, 15_000)).sort((a, b) => a - b)
  return { kills, redisRestartAtMs: between(5_000, 12_000), flakyAtMs }
}
