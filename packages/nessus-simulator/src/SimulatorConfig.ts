/**
 * Configuration of the simulator: its shape, defaults, validation (errors name the offending key) and the
 * YAML file format used by the CLI.
 *
 * @since 0.1.0
 */
import { readFileSync } from "node:fs"
import { dirname, resolve } from "node:path"
import { parse as parseYaml } from "yaml"
import type * as Catalogue from "./Catalogue.js"
import { SimulatorError } from "./SimulatorError.js"

/**
 * A login account of the simulated Nessus (the web UI / API user).
 *
 * @since 0.1.0
 */
export interface User {
  readonly username: string
  readonly password: string
  /** Nessus permission level: 128 = administrator (default); below 64, `GET /scanners` answers 403. */
  readonly permissions?: number
}

/**
 * Fixed API keys accepted in `X-ApiKeys` (besides keys minted with `PUT /session/keys`).
 *
 * @since 0.1.0
 */
export interface ApiKeyPair {
  readonly accessKey: string
  readonly secretKey: string
  /** The user the keys act as (default: the first user). */
  readonly username?: string
}

/**
 * An account that works on the scanned targets. A scan's SSH/Windows credentials are compared with these to
 * decide plugin 19506's `Credentialed checks` line.
 *
 * @since 0.1.0
 */
export interface TargetAccount {
  readonly username: string
  /** Password for `auth_method: password` (SSH) / `Password` (Windows). */
  readonly password?: string
  /** For SSH `public key` auth: the `private_key` value the scan must send. */
  readonly privateKey?: string
  /** Windows domain; reported as `DOMAIN\user` via SMB. */
  readonly domain?: string
  /**
   * When set, the account only gets full privileges through this escalation: a scan that logs in but does
   * not escalate with this method (and password) gets the "insufficient privilege" result (110385).
   */
  readonly escalation?: { readonly method: string; readonly password?: string; readonly account?: string }
  /** Which credential types the account is valid for (default both). */
  readonly protocols?: ReadonlyArray<"ssh" | "windows">
  /** Restricts the account to these targets (exact target names; default: every target). */
  readonly hosts?: ReadonlyArray<string>
}

/**
 * Faults injected into one instance (`POST /_sim/faults` body). Setting faults replaces the previous set;
 * counts apply to the next N Nessus requests (not `/_sim`).
 *
 * @since 0.1.0
 */
export interface Faults {
  /** Delay before answering each request. */
  readonly latencyMs?: number
  /** The next `count` requests answer `status` with `{"error": ...}`. */
  readonly errorBurst?: { readonly status: 500 | 502 | 503; readonly count: number }
  /** The next `count` requests answer 429 with `Retry-After` (synthetic: real Nessus has no rate limit). */
  readonly rateLimit?: { readonly count: number; readonly retryAfterSeconds?: number }
  /** The next N requests get their connection destroyed without an answer (ECONNRESET / socket hang up). */
  readonly resetConnections?: number
  /** One-shot: invalidates every session token now (next use → 401 Invalid Credentials). */
  readonly revokeSessions?: boolean
  /** Export status stays `loading` while set. */
  readonly exportStuckLoading?: boolean
  /** Exports end in `error` while set. */
  readonly exportError?: boolean
  /** Every Nessus request has its connection destroyed (the scanner looks down); `/_sim` still answers. */
  readonly down?: boolean
  /** `POST /scans` answers 412 API is not available; `"dropBody"` closes the socket after the headers. */
  readonly scanCreate412?: boolean | "dropBody"
}

/**
 * One simulated scanner (one port).
 *
 * @since 0.1.0
 */
export interface ScannerConfig {
  /** Instance id in stats (default `scanner<N>`, N from 1). */
  readonly id?: string
  /** Port; 0 = any free port (library default 0, CLI default 8834). */
  readonly port?: number
  /** Serve HTTPS with this certificate and key (PEM). */
  readonly tls?: { readonly cert: string | Uint8Array; readonly key: string | Uint8Array }
  /** `license.features.scan_api` (default true). false → the 412 gate, passable with the /nessus6.js token. */
  readonly scanApi?: boolean
  /** Licence edition shown in /server/properties and 19506 (default professional). */
  readonly edition?: "professional" | "expert" | "essentials" | "manager"
  /** Login accounts (default `nessus` / `nessus`, administrator). */
  readonly users?: ReadonlyArray<User>
  /** Fixed API keys. */
  readonly apiKeys?: ReadonlyArray<ApiKeyPair>
  /** The web-UI X-API-Token served in /nessus6.js (default: a random UUID per start). */
  readonly apiToken?: string
  /** Session inactivity timeout; an expired token gets 401 Invalid Credentials (default 1 h). */
  readonly sessionTtlMs?: number
  /** Launch → completed time (default 3000; 0 = completes at once). */
  readonly scanDurationMs?: number
  /** Part of the duration spent `pending` (default 10% of it, at most 1000). */
  readonly pendingMs?: number
  /** Time in `pausing`, `resuming` and `stopping` (default 10% of the duration, at most 500). */
  readonly transitionMs?: number
  /** An export stays `loading` this long (default 200). */
  readonly exportDelayMs?: number
  /** Accounts that work on the targets (default `scanuser`/`scanpass`, escalation sudo/`sudopass`). */
  readonly targetAccounts?: ReadonlyArray<TargetAccount>
  /** Nessus version in /server/properties and 19506 (default 10.7.2). */
  readonly nessusVersion?: string
  /** Finding source for exports: paths to real `.nessus` files, `false` for built-in, default auto. */
  readonly fixture?: string | ReadonlyArray<string> | false | Catalogue.Catalogue
  /** ReportItems per host in exports (default: replay each source host's findings). */
  readonly findingsPerHost?: number
  /** Largest target expansion accepted by POST /scans (default 65536). */
  readonly maxTargets?: number
  /** With `scanApi: false`, the 412 drops its body (headers, then the socket closes), as Essentials 10.x does. */
  readonly scanApiGateDropsBody?: boolean
  /** Seed for findings in exports (default 1; the scan id is mixed in). */
  readonly seed?: number
  /** Faults active from the start. */
  readonly faults?: Faults
}

/**
 * The whole simulator: one or more scanners on one host address.
 *
 * @since 0.1.0
 */
export interface SimulatorConfig {
  /** Listen address (default 127.0.0.1). */
  readonly host?: string
  /** Default `fixture` for scanners that do not set one. */
  readonly fixture?: string | ReadonlyArray<string> | false
  /** Scanners (default: one with every default). */
  readonly scanners?: ReadonlyArray<ScannerConfig>
}

/**
 * The default login account.
 *
 * @since 0.1.0
 */
export const DEFAULT_USER: User = { username: "nessus", password: "nessus", permissions: 128 }

/**
 * The default target account: SSH/Windows user `scanuser`, password `scanpass`, root through sudo with
 * password `sudopass`.
 *
 * @since 0.1.0
 */
export const DEFAULT_TARGET_ACCOUNT: TargetAccount = {
  username: "scanuser",
  password: "scanpass",
  escalation: { method: "sudo", password: "sudopass" }
}

type Json = Record<string, unknown>

const fail = (source: string, path: string, what: string): never => {
  throw new SimulatorError({
    reason: "InvalidConfig",
    message: `Invalid simulator configuration${source ? ` in ${source}` : ""}: ${path} ${what}.`
  })
}

const isObj = (u: unknown): u is Json => typeof u === "object" && u !== null && !Array.isArray(u)

class Checker {
  constructor(readonly source: string, readonly baseDir: string) {}
  obj(u: unknown, path: string, keys: ReadonlyArray<string>): Json {
    if (!isObj(u)) return fail(this.source, path, "must be a mapping/object")
    for (const k of Object.keys(u)) {
      if (!keys.includes(k)) fail(this.source, path ? `${path}.${k}` : k, `is not a known key (known: ${keys.join(", ")})`)
    }
    return u
  }
  str(u: unknown, path: string): string {
    if (typeof u !== "string" || u === "") return fail(this.source, path, "must be a non-empty string")
    return u
  }
  int(u: unknown, path: string, min: number, max: number): number {
    if (typeof u !== "number" || !Number.isInteger(u) || u < min || u > max) {
      return fail(this.source, path, `must be an integer between ${min} and ${max} (got ${JSON.stringify(u)})`)
    }
    return u
  }
  bool(u: unknown, path: string): boolean {
    if (typeof u !== "boolean") return fail(this.source, path, `must be true or false (got ${JSON.stringify(u)})`)
    return u
  }
  arr(u: unknown, path: string): Array<unknown> {
    if (!Array.isArray(u)) return fail(this.source, path, "must be a list")
    return u
  }
  oneOf<T extends string>(u: unknown, path: string, values: ReadonlyArray<T>): T {
    if (typeof u !== "string" || !values.includes(u as T)) {
      return fail(this.source, path, `must be one of ${values.join(", ")} (got ${JSON.stringify(u)})`)
    }
    return u as T
  }
}

const opt = <A>(o: Json, k: string, f: (u: unknown) => A): { [key: string]: A } =>
  o[k] === undefined ? {} : { [k]: f(o[k]) }

const faultKeys = [
  "latencyMs",
  "errorBurst",
  "rateLimit",
  "resetConnections",
  "revokeSessions",
  "exportStuckLoading",
  "exportError",
  "down",
  "scanCreate412"
]

const checkFaults = (c: Checker, u: unknown, p: string): Faults => {
  const o = c.obj(u, p, faultKeys)
  return {
    ...opt(o, "latencyMs", (v) => c.int(v, `${p}.latencyMs`, 0, 600_000)),
    ...opt(o, "errorBurst", (v) => {
      const e = c.obj(v, `${p}.errorBurst`, ["status", "count"])
      const status = c.int(e.status, `${p}.errorBurst.status`, 500, 503)
      if (status === 501) fail(c.source, `${p}.errorBurst.status`, "must be 500, 502 or 503")
      return { status: status as 500 | 502 | 503, count: c.int(e.count, `${p}.errorBurst.count`, 0, 1e9) }
    }),
    ...opt(o, "rateLimit", (v) => {
      const r = c.obj(v, `${p}.rateLimit`, ["count", "retryAfterSeconds"])
      return {
        count: c.int(r.count, `${p}.rateLimit.count`, 0, 1e9),
        ...opt(r, "retryAfterSeconds", (x) => c.int(x, `${p}.rateLimit.retryAfterSeconds`, 0, 86_400))
      }
    }),
    ...opt(o, "resetConnections", (v) => c.int(v, `${p}.resetConnections`, 0, 1e9)),
    ...opt(o, "revokeSessions", (v) => c.bool(v, `${p}.revokeSessions`)),
    ...opt(o, "exportStuckLoading", (v) => c.bool(v, `${p}.exportStuckLoading`)),
    ...opt(o, "exportError", (v) => c.bool(v, `${p}.exportError`)),
    ...opt(o, "down", (v) => c.bool(v, `${p}.down`)),
    ...opt(o, "scanCreate412", (v) => v === "dropBody" ? "dropBody" as const : c.bool(v, `${p}.scanCreate412`))
  }
}

const scannerKeys = [
  "id",
  "port",
  "tls",
  "scanApi",
  "edition",
  "users",
  "apiKeys",
  "apiToken",
  "sessionTtlMs",
  "scanDurationMs",
  "pendingMs",
  "transitionMs",
  "exportDelayMs",
  "targetAccounts",
  "nessusVersion",
  "fixture",
  "findingsPerHost",
  "maxTargets",
  "scanApiGateDropsBody",
  "seed",
  "faults"
]

const readPem = (c: Checker, t: Json, key: "cert" | "key", p: string): string | Uint8Array => {
  const fileKey = `${key}File`
  if (t[key] !== undefined && t[fileKey] !== undefined) fail(c.source, `${p}.${key}`, `and ${p}.${fileKey} cannot both be set`)
  if (t[fileKey] !== undefined) {
    const file = resolve(c.baseDir, c.str(t[fileKey], `${p}.${fileKey}`))
    try {
      return readFileSync(file, "utf8")
    } catch (e) {
      return fail(c.source, `${p}.${fileKey}`, `cannot be read (${(e as Error).message})`)
    }
  }
  const v = t[key]
  if (v instanceof Uint8Array) return v
  return c.str(v, `${p}.${key}`)
}

const checkScanner = (c: Checker, u: unknown, p: string): ScannerConfig => {
  const o = c.obj(u, p, scannerKeys)
  const ms = (k: string) => opt(o, k, (v) => c.int(v, `${p}.${k}`, 0, 86_400_000))
  return {
    ...opt(o, "id", (v) => {
      const s = c.str(v, `${p}.id`)
      if (!/^[A-Za-z0-9_.-]+$/.test(s)) fail(c.source, `${p}.id`, "may only contain letters, digits, '_', '.', '-'")
      return s
    }),
    ...opt(o, "port", (v) => c.int(v, `${p}.port`, 0, 65535)),
    ...opt(o, "tls", (v) => {
      const t = c.obj(v, `${p}.tls`, ["cert", "key", "certFile", "keyFile"])
      return { cert: readPem(c, t, "cert", `${p}.tls`), key: readPem(c, t, "key", `${p}.tls`) }
    }),
    ...opt(o, "scanApi", (v) => c.bool(v, `${p}.scanApi`)),
    ...opt(o, "edition", (v) => c.oneOf(v, `${p}.edition`, ["professional", "expert", "essentials", "manager"] as const)),
    ...opt(o, "users", (v) => {
      const list = c.arr(v, `${p}.users`).map((x, i) => {
        const q = `${p}.users[${i}]`
        const w = c.obj(x, q, ["username", "password", "permissions"])
        return {
          username: c.str(w.username, `${q}.username`),
          password: c.str(w.password, `${q}.password`),
          ...opt(w, "permissions", (n) => c.int(n, `${q}.permissions`, 0, 128))
        }
      })
      if (list.length === 0) fail(c.source, `${p}.users`, "must list at least one user")
      return list
    }),
    ...opt(o, "apiKeys", (v) =>
      c.arr(v, `${p}.apiKeys`).map((x, i) => {
        const q = `${p}.apiKeys[${i}]`
        const w = c.obj(x, q, ["accessKey", "secretKey", "username"])
        return {
          accessKey: c.str(w.accessKey, `${q}.accessKey`),
          secretKey: c.str(w.secretKey, `${q}.secretKey`),
          ...opt(w, "username", (s) => c.str(s, `${q}.username`))
        }
      })),
    ...opt(o, "apiToken", (v) => {
      const s = c.str(v, `${p}.apiToken`)
      if (!/^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$/.test(s)) {
        fail(c.source, `${p}.apiToken`, "must be a UUID (8-4-4-4-12 hex), as Nessus's /nessus6.js token is")
      }
      return s
    }),
    ...opt(o, "sessionTtlMs", (v) => c.int(v, `${p}.sessionTtlMs`, 1, 2 ** 31 - 1)),
    ...ms("scanDurationMs"),
    ...ms("pendingMs"),
    ...ms("transitionMs"),
    ...ms("exportDelayMs"),
    ...opt(o, "targetAccounts", (v) =>
      c.arr(v, `${p}.targetAccounts`).map((x, i) => {
        const q = `${p}.targetAccounts[${i}]`
        const w = c.obj(x, q, ["username", "password", "privateKey", "domain", "escalation", "protocols", "hosts"])
        return {
          username: c.str(w.username, `${q}.username`),
          ...opt(w, "password", (s) => c.str(s, `${q}.password`)),
          ...opt(w, "privateKey", (s) => c.str(s, `${q}.privateKey`)),
          ...opt(w, "domain", (s) => c.str(s, `${q}.domain`)),
          ...opt(w, "escalation", (e) => {
            const z = c.obj(e, `${q}.escalation`, ["method", "password", "account"])
            return {
              method: c.oneOf(z.method, `${q}.escalation.method`, ESCALATION_METHODS),
              ...opt(z, "password", (s) => c.str(s, `${q}.escalation.password`)),
              ...opt(z, "account", (s) => c.str(s, `${q}.escalation.account`))
            }
          }),
          ...opt(w, "protocols", (l) =>
            c.arr(l, `${q}.protocols`).map((s, j) => c.oneOf(s, `${q}.protocols[${j}]`, ["ssh", "windows"] as const))),
          ...opt(w, "hosts", (l) => c.arr(l, `${q}.hosts`).map((s, j) => c.str(s, `${q}.hosts[${j}]`)))
        }
      })),
    ...opt(o, "nessusVersion", (v) => c.str(v, `${p}.nessusVersion`)),
    ...opt(o, "fixture", (v) => checkFixture(c, v, `${p}.fixture`)),
    ...opt(o, "findingsPerHost", (v) => c.int(v, `${p}.findingsPerHost`, 0, 100_000)),
    ...opt(o, "maxTargets", (v) => c.int(v, `${p}.maxTargets`, 1, 1 << 24)),
    ...opt(o, "scanApiGateDropsBody", (v) => c.bool(v, `${p}.scanApiGateDropsBody`)),
    ...opt(o, "seed", (v) => c.int(v, `${p}.seed`, 0, 2 ** 32 - 1)),
    ...opt(o, "faults", (v) => checkFaults(c, v, `${p}.faults`))
  } as ScannerConfig
}

const checkFixture = (c: Checker, v: unknown, p: string): string | ReadonlyArray<string> | false | Catalogue.Catalogue => {
  if (v === false) return false
  if (isObj(v) && "source" in v) return v as unknown as Catalogue.Catalogue
  if (Array.isArray(v)) return v.map((s, i) => resolve(c.baseDir, c.str(s, `${p}[${i}]`)))
  return resolve(c.baseDir, c.str(v, p))
}

/**
 * `elevate_privileges_with` values of the Nessus 10 editor.
 *
 * @since 0.1.0
 */
export const ESCALATION_METHODS = [
  "Nothing",
  "sudo",
  "su",
  "su+sudo",
  "pbrun",
  "dzdo",
  ".k5login",
  "Cisco 'enable'",
  "Checkpoint Gaia 'expert'"
] as const

/**
 * Validates a configuration object (from code, JSON or YAML). Throws `SimulatorError` (`InvalidConfig`) whose
 * message names the offending key, e.g. `scanners[0].port must be an integer between 0 and 65535`.
 * Relative paths (fixtures, TLS files) are resolved against `options.baseDir` (default: the working directory).
 *
 * @since 0.1.0
 */
export const parse = (input: unknown, options?: { readonly source?: string; readonly baseDir?: string }): SimulatorConfig => {
  const c = new Checker(options?.source ?? "", options?.baseDir ?? process.cwd())
  const o = input === undefined || input === null ? {} : c.obj(input, "", ["host", "fixture", "scanners"])
  const config: SimulatorConfig = {
    ...opt(o, "host", (v) => c.str(v, "host")),
    ...opt(o, "fixture", (v) => checkFixture(c, v, "fixture")),
    ...opt(o, "scanners", (v) => c.arr(v, "scanners").map((s, i) => checkScanner(c, s, `scanners[${i}]`)))
  } as SimulatorConfig
  const ids = new Set<string>()
  const ports = new Set<number>()
  ;(config.scanners ?? []).forEach((s, i) => {
    const id = s.id ?? `scanner${i + 1}`
    if (ids.has(id)) fail(c.source, `scanners[${i}].id`, `duplicates the id "${id}"`)
    ids.add(id)
    if (s.port !== undefined && s.port !== 0) {
      if (ports.has(s.port)) fail(c.source, `scanners[${i}].port`, `duplicates port ${s.port}`)
      ports.add(s.port)
    }
  })
  return config
}

/**
 * Validates a `POST /_sim/faults` body / `setFaults` argument.
 *
 * @since 0.1.0
 */
export const parseFaults = (input: unknown): Faults => checkFaults(new Checker("", process.cwd()), input ?? {}, "faults")

/**
 * Reads a YAML (or JSON) configuration file and validates it; relative paths inside are resolved against the
 * file's directory.
 *
 * @example
 * # sim.yaml
 * scanners:
 *   - { id: pro, port: 8834, scanApi: true, scanDurationMs: 2000 }
 *   - { id: essentials, port: 8835, scanApi: false, edition: essentials }
 *
 * @since 0.1.0
 */
export const loadFile = (path: string): SimulatorConfig => {
  let text: string
  try {
    text = readFileSync(path, "utf8")
  } catch (e) {
    throw new SimulatorError({
      reason: "InvalidConfig",
      message: `Cannot read the simulator configuration file ${path}: ${(e as Error).message}.`,
      cause: e
    })
  }
  let doc: unknown
  try {
    doc = parseYaml(text)
  } catch (e) {
    throw new SimulatorError({
      reason: "InvalidConfig",
      message: `The simulator configuration file ${path} is not valid YAML: ${(e as Error).message}`,
      cause: e
    })
  }
  return parse(doc, { source: path, baseDir: dirname(resolve(path)) })
}
