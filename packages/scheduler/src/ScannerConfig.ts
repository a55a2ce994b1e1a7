/**
 * The scanners file (`config/scanners.yaml`): pools of Nessus scanners, what each pool may scan, and
 * named scan credentials. Loading expands `${VAR}` and `${VAR:-default}` anywhere in a string value,
 * refuses unknown keys, duplicate instance ids and unset variables, and reports every problem with the
 * file, line and key. A bad file is an error, never a fallback to a fake scanner.
 *
 * The `ScannerConfig` service holds the current configuration and reloads it (`layerReloadOnSighup`, or a
 * reload request through `Scheduler.layerReloadOnRequest`) without touching running-scan accounting, which
 * lives in the scheduler's store. A bad file on reload is refused and the previous configuration stays.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { ScannerConfig } from "@nessus-mcp/scheduler"
 *
 * const program = Effect.gen(function*() {
 *   const config = yield* ScannerConfig.load("config/scanners.yaml")
 *   return ScannerConfig.scannersOf(config, config.defaultPool).map((s) => s.instanceId)
 * })
 * ```
 */
import { Config as EffectConfig, Context, Effect, Layer, Option, Queue, Redacted, Ref, Result, Scope, Semaphore } from "effect"
import { readFile } from "node:fs/promises"
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Node as YamlNode, YAMLMap } from "yaml"
import * as SchedulerError from "./SchedulerError.js"
import * as Task from "./Task.js"
import * as Targets from "./Targets.js"

/**
 * How the scanner is reached: username/password (session) or API keys.
 *
 * @category models
 */
export type ScannerAuth =
  | { readonly _tag: "Password"; readonly username: string; readonly password: Redacted.Redacted<string> }
  | { readonly _tag: "ApiKeys"; readonly accessKey: Redacted.Redacted<string>; readonly secretKey: Redacted.Redacted<string> }

/**
 * TLS settings of a scanner: a CA file, a pinned certificate fingerprint, or no verification.
 *
 * @category models
 */
export interface Tls {
  readonly caFile?: string | undefined
  readonly fingerprint?: string | undefined
  readonly insecure?: boolean | undefined
}

/**
 * One Nessus scanner instance.
 *
 * @category models
 */
export interface Scanner {
  readonly instanceId: string
  readonly name: string
  readonly pool: string
  readonly url: string
  readonly auth: ScannerAuth
  readonly apiMode: "auto" | "api" | "web-ui"
  readonly maxConcurrentScans: number
  readonly enabled: boolean
  readonly tls: Tls
  readonly template?: string | undefined
  readonly folder?: string | undefined
  readonly scannerId?: number | undefined
}

/**
 * A pool of scanners and the targets agents may scan through it. A pool without `allowed_targets`
 * refuses every target.
 *
 * @category models
 */
export interface Pool {
  readonly name: string
  readonly allowedTargets: ReadonlyArray<Targets.Target>
  readonly maxTargets: number
  readonly scanners: ReadonlyArray<Scanner>
}

/**
 * A named scan credential agents may refer to (`credential: "linux-admin"`).
 *
 * @category models
 */
export interface NamedCredential {
  readonly name: string
  readonly type: "ssh"
  readonly username: string
  readonly password: Redacted.Redacted<string>
  readonly elevatePrivilegesWith: Task.Elevation
  readonly escalationAccount?: string | undefined
  readonly escalationPassword?: Redacted.Redacted<string> | undefined
}

/**
 * A loaded, validated scanners file.
 *
 * @category models
 */
export interface Config {
  readonly file: string
  readonly defaultPool: string
  readonly pools: ReadonlyArray<Pool>
  readonly credentials: ReadonlyArray<NamedCredential>
}

/** The pool named `name` (or the default pool). @category queries */
export const poolOf = (config: Config, name?: string | undefined): Pool | undefined =>
  config.pools.find((p) => p.name === (name ?? config.defaultPool))

/** The scanners of a pool (empty for an unknown pool). @category queries */
export const scannersOf = (config: Config, pool: string): ReadonlyArray<Scanner> => poolOf(config, pool)?.scanners ?? []

/** The scanner with that instance id, in any pool. @category queries */
export const scannerOf = (config: Config, instanceId: string): Scanner | undefined =>
  config.pools.flatMap((p) => p.scanners).find((s) => s.instanceId === instanceId)

/** A named credential. @category queries */
export const credentialOf = (config: Config, name: string): NamedCredential | undefined =>
  config.credentials.find((c) => c.name === name)

// ---------------------------------------------------------------------------------------------------
// parsing

const VAR = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g
const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/
const SECRET_KEY = /(^|\.)(password|secret_key|access_key|escalation_password)$/
const elevations: ReadonlyArray<Task.Elevation> = Task.Elevation.literals

/**
 * The names of the environment variables a scanners file refers to.
 *
 * @category parsing
 */
export const referencedVariables = (text: string): ReadonlyArray<string> => [
  ...new Set([...text.matchAll(VAR)].map((m) => m[1] ?? ""))
]

class Walker {
  readonly issues: Array<SchedulerError.ConfigIssue> = []
  constructor(
    readonly file: string,
    readonly lines: LineCounter,
    readonly env: Readonly<Record<string, string | undefined>>
  ) {}

  line(node: YamlNode | null | undefined, fallback = 1): number {
    const offset = node?.range?.[0]
    return offset === undefined ? fallback : this.lines.linePos(offset).line
  }

  issue(node: YamlNode | null | undefined, key: string, problem: string, fallbackLine?: number): void {
    this.issues.push({ file: this.file, line: this.line(node, fallbackLine), key, problem })
  }

  /** A map's entries; reports unknown keys. */
  entries(node: YamlNode | null | undefined, key: string, known: ReadonlyArray<string> | undefined): Map<string, { readonly key: YamlNode; readonly value: YamlNode | null }> {
    const out = new Map<string, { readonly key: YamlNode; readonly value: YamlNode | null }>()
    if (!isMap(node)) {
      this.issue(node, key, "must be a mapping (key: value)")
      return out
    }
    for (const pair of (node as YAMLMap<YamlNode, YamlNode | null>).items) {
      const k = pair.key
      const name = isScalar(k) ? String(k.value) : undefined
      if (name === undefined) {
        this.issue(k, key, "keys must be plain strings")
        continue
      }
      if (known !== undefined && !known.includes(name)) {
        this.issue(k, key === "" ? name : `${key}.${name}`, `unknown key "${name}" (expected one of: ${known.join(", ")})`)
        continue
      }
      out.set(name, { key: k, value: pair.value })
    }
    return out
  }

  expand(node: YamlNode | null, key: string, raw: string): string | undefined {
    const escaped = raw.replace(/\$\$\{/g, "\u0000")
    if (escaped.replace(VAR, "").includes("${")) {
      // A secret's value is never echoed, even a malformed one.
      const shown = SECRET_KEY.test(key) ? "the value (not shown: it is a secret)" : `"${raw}"`
      this.issue(node, key, `malformed variable reference in ${shown} (use \${NAME} or \${NAME:-default}; write $\${ for a literal \${)`)
      return undefined
    }
    let failed = false
    const text = escaped.replace(VAR, (_m, name: string, dflt: string | undefined) => {
      const value = this.env[name]
      if (dflt !== undefined) return value === undefined || value === "" ? dflt : value
      if (value === undefined) {
        failed = true
        this.issue(node, key, `environment variable ${name} is not set (set it, or write \${${name}:-default})`)
        return ""
      }
      return value
    })
    return failed ? undefined : text.replace(/\u0000/g, "${")
  }

  string(node: YamlNode | null | undefined, key: string, options: { readonly nonEmpty?: boolean } = {}): string | undefined {
    if (!isScalar(node) || node.value === null || typeof node.value === "object") {
      this.issue(node, key, "must be a string")
      return undefined
    }
    const raw = typeof node.value === "string" ? node.value : String(node.value)
    const value = typeof node.value === "string" ? this.expand(node, key, raw) : raw
    if (value !== undefined && options.nonEmpty !== false && value.trim() === "") {
      this.issue(node, key, "must not be empty")
      return undefined
    }
    return value
  }

  int(node: YamlNode | null | undefined, key: string, min: number, max: number): number | undefined {
    const value = isScalar(node) && typeof node.value === "number" ? node.value : (() => {
      const s = this.string(node, key)
      return s !== undefined && /^-?\d+$/.test(s.trim()) ? Number(s) : s === undefined ? undefined : NaN
    })()
    if (value === undefined) return undefined
    if (!Number.isInteger(value) || value < min || value > max) {
      this.issue(node, key, `must be an integer from ${min} to ${max}`)
      return undefined
    }
    return value
  }

  bool(node: YamlNode | null | undefined, key: string): boolean | undefined {
    if (isScalar(node) && typeof node.value === "boolean") return node.value
    const s = this.string(node, key)
    if (s === "true") return true
    if (s === "false") return false
    if (s !== undefined) this.issue(node, key, "must be true or false")
    return undefined
  }

  list(node: YamlNode | null | undefined, key: string): ReadonlyArray<YamlNode | null> {
    if (!isSeq(node)) {
      this.issue(node, key, "must be a list")
      return []
    }
    return node.items as ReadonlyArray<YamlNode | null>
  }
}

const scannerKeys = [
  "instance_id",
  "name",
  "url",
  "username",
  "password",
  "access_key",
  "secret_key",
  "api_mode",
  "max_concurrent_scans",
  "enabled",
  "tls",
  "template",
  "folder",
  "scanner_id"
]

const parseScanner = (w: Walker, node: YamlNode | null, key: string, pool: string): Scanner | undefined => {
  const e = w.entries(node, key, scannerKeys)
  if (!isMap(node)) return undefined
  const get = (k: string) => e.get(k)?.value
  const id = e.has("instance_id") ? w.string(get("instance_id"), `${key}.instance_id`) : undefined
  if (!e.has("instance_id")) w.issue(node, `${key}.instance_id`, "is required")
  if (id !== undefined && !NAME.test(id)) {
    w.issue(get("instance_id"), `${key}.instance_id`, `"${id}" must be 1-64 letters, digits, ".", "_" or "-"`)
  }
  const url = e.has("url") ? w.string(get("url"), `${key}.url`) : (w.issue(node, `${key}.url`, "is required"), undefined)
  if (url !== undefined) {
    let parsed: URL | undefined
    try {
      parsed = new URL(url)
    } catch {
      parsed = undefined
    }
    if (parsed === undefined || (parsed.protocol !== "https:" && parsed.protocol !== "http:")) {
      w.issue(get("url"), `${key}.url`, `"${url}" must be an http(s) URL such as https://nessus1:8834`)
    } else if (parsed.username !== "" || parsed.password !== "") {
      w.issue(get("url"), `${key}.url`, "must not carry a user or password; use username/password or access_key/secret_key")
    }
  }
  const hasUser = e.has("username") || e.has("password")
  const hasKeys = e.has("access_key") || e.has("secret_key")
  let auth: ScannerAuth | undefined
  if (hasUser && hasKeys) {
    w.issue(node, key, "give either username/password or access_key/secret_key, not both")
  } else if (hasKeys) {
    const a = e.has("access_key") ? w.string(get("access_key"), `${key}.access_key`) : (w.issue(node, `${key}.access_key`, "is required with secret_key"), undefined)
    const s = e.has("secret_key") ? w.string(get("secret_key"), `${key}.secret_key`) : (w.issue(node, `${key}.secret_key`, "is required with access_key"), undefined)
    if (a !== undefined && s !== undefined) auth = { _tag: "ApiKeys", accessKey: Redacted.make(a), secretKey: Redacted.make(s) }
  } else if (hasUser) {
    const u = e.has("username") ? w.string(get("username"), `${key}.username`) : (w.issue(node, `${key}.username`, "is required with password"), undefined)
    const p = e.has("password") ? w.string(get("password"), `${key}.password`) : (w.issue(node, `${key}.password`, "is required with username"), undefined)
    if (u !== undefined && p !== undefined) auth = { _tag: "Password", username: u, password: Redacted.make(p) }
  } else {
    w.issue(node, key, "needs credentials: username and password, or access_key and secret_key")
  }
  let apiMode: Scanner["apiMode"] = "auto"
  if (e.has("api_mode")) {
    const m = w.string(get("api_mode"), `${key}.api_mode`)
    if (m === "auto" || m === "api" || m === "web-ui") apiMode = m
    else if (m !== undefined) w.issue(get("api_mode"), `${key}.api_mode`, `"${m}" must be auto, api or web-ui`)
  }
  const max = e.has("max_concurrent_scans") ? w.int(get("max_concurrent_scans"), `${key}.max_concurrent_scans`, 1, 1000) : 2
  const enabled = e.has("enabled") ? w.bool(get("enabled"), `${key}.enabled`) : true
  const tls: { caFile?: string; fingerprint?: string; insecure?: boolean } = {}
  if (e.has("tls")) {
    const t = w.entries(get("tls"), `${key}.tls`, ["ca_file", "fingerprint", "insecure"])
    if (t.size > 1) w.issue(get("tls"), `${key}.tls`, "give one of ca_file, fingerprint or insecure")
    const ca = t.get("ca_file")
    if (ca) {
      const v = w.string(ca.value, `${key}.tls.ca_file`)
      if (v !== undefined) tls.caFile = v
    }
    const fp = t.get("fingerprint")
    if (fp) {
      const v = w.string(fp.value, `${key}.tls.fingerprint`)
      if (v !== undefined && !/^(sha256\/)?[0-9A-Fa-f:]{64,95}$/.test(v)) {
        w.issue(fp.value, `${key}.tls.fingerprint`, "must be a SHA-256 certificate fingerprint (64 hex digits, colons allowed)")
      } else if (v !== undefined) tls.fingerprint = v
    }
    const ins = t.get("insecure")
    if (ins) {
      const v = w.bool(ins.value, `${key}.tls.insecure`)
      if (v !== undefined) tls.insecure = v
    }
  }
  const name = e.has("name") ? w.string(get("name"), `${key}.name`) : id
  const template = e.has("template") ? w.string(get("template"), `${key}.template`) : undefined
  const folder = e.has("folder") ? w.string(get("folder"), `${key}.folder`) : undefined
  const scannerId = e.has("scanner_id") ? w.int(get("scanner_id"), `${key}.scanner_id`, 0, 2 ** 31) : undefined
  if (id === undefined || url === undefined || auth === undefined || max === undefined || enabled === undefined || name === undefined) {
    return undefined
  }
  return {
    instanceId: id,
    name,
    pool,
    url: url.replace(/\/+$/, ""),
    auth,
    apiMode,
    maxConcurrentScans: max,
    enabled,
    tls,
    ...(template !== undefined ? { template } : {}),
    ...(folder !== undefined ? { folder } : {}),
    ...(scannerId !== undefined ? { scannerId } : {})
  }
}

const parseCredential = (w: Walker, node: YamlNode | null, key: string, name: string): NamedCredential | undefined => {
  const e = w.entries(node, key, ["type", "username", "password", "elevate_privileges_with", "escalation_account", "escalation_password"])
  if (!isMap(node)) return undefined
  const get = (k: string) => e.get(k)?.value
  const type = e.has("type") ? w.string(get("type"), `${key}.type`) : "ssh"
  if (type !== undefined && type !== "ssh") w.issue(get("type"), `${key}.type`, `"${type}" is not supported; use ssh`)
  const username = e.has("username") ? w.string(get("username"), `${key}.username`) : (w.issue(node, `${key}.username`, "is required"), undefined)
  const password = e.has("password") ? w.string(get("password"), `${key}.password`) : (w.issue(node, `${key}.password`, "is required"), undefined)
  let elevation: Task.Elevation = "Nothing"
  if (e.has("elevate_privileges_with")) {
    const v = w.string(get("elevate_privileges_with"), `${key}.elevate_privileges_with`)
    if (v !== undefined && (elevations as ReadonlyArray<string>).includes(v)) elevation = v as Task.Elevation
    else if (v !== undefined) w.issue(get("elevate_privileges_with"), `${key}.elevate_privileges_with`, `"${v}" must be one of: ${elevations.join(", ")}`)
  }
  const account = e.has("escalation_account") ? w.string(get("escalation_account"), `${key}.escalation_account`) : undefined
  const escPassword = e.has("escalation_password") ? w.string(get("escalation_password"), `${key}.escalation_password`) : undefined
  if (username === undefined || password === undefined || type !== "ssh") return undefined
  return {
    name,
    type: "ssh",
    username,
    password: Redacted.make(password),
    elevatePrivilegesWith: elevation,
    ...(account !== undefined ? { escalationAccount: account } : {}),
    ...(escPassword !== undefined ? { escalationPassword: Redacted.make(escPassword) } : {})
  }
}

/**
 * Parses and validates the text of a scanners file. `env` supplies the values of `${VAR}` references.
 *
 * @category parsing
 */
export const parse = (
  text: string,
  options: { readonly file: string; readonly env: Readonly<Record<string, string | undefined>> }
): Result.Result<Config, SchedulerError.SchedulerError> => {
  const lines = new LineCounter()
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true, prettyErrors: true })
  const w = new Walker(options.file, lines, options.env)
  for (const err of doc.errors) {
    const line = err.linePos?.[0]?.line ?? 1
    w.issues.push({ file: options.file, line, key: "(yaml)", problem: err.message.split("\n")[0] ?? err.message })
  }
  if (w.issues.length > 0) return Result.fail(SchedulerError.fromConfigIssues(options.file, w.issues))
  const root = doc.contents as YamlNode | null
  if (root === null) {
    return Result.fail(SchedulerError.fromConfigIssues(options.file, [{ file: options.file, line: 1, key: "pools", problem: "the file is empty; it needs at least one pool" }]))
  }
  const top = w.entries(root, "", ["pools", "credentials", "default_pool"])
  const pools: Array<Pool> = []
  // Every pool named in the file, valid or not (a default_pool naming a pool with problems is not one more).
  const poolNames: Array<string> = []
  const seenIds = new Map<string, string>()
  const poolsNode = top.get("pools")
  if (!poolsNode) w.issue(root, "pools", "is required (a mapping of pool name to pool)")
  else {
    const entries = w.entries(poolsNode.value, "pools", undefined)
    if (isMap(poolsNode.value) && entries.size === 0) w.issue(poolsNode.value, "pools", "needs at least one pool")
    for (const [poolName, { key: poolKey, value }] of entries) {
      poolNames.push(poolName)
      const key = `pools.${poolName}`
      if (!NAME.test(poolName)) w.issue(poolKey, key, `pool name "${poolName}" must be 1-64 letters, digits, ".", "_" or "-"`)
      const p = w.entries(value, key, ["allowed_targets", "max_targets", "scanners"])
      const allowed: Array<Targets.Target> = []
      const at = p.get("allowed_targets")
      if (at) {
        w.list(at.value, `${key}.allowed_targets`).forEach((item, i) => {
          const s = w.string(item, `${key}.allowed_targets[${i}]`)
          if (s === undefined) return
          const r = Targets.parseOne(s, { allowWildcard: true })
          if (Result.isSuccess(r)) allowed.push(r.success)
          else w.issue(item, `${key}.allowed_targets[${i}]`, r.failure)
        })
      }
      const maxTargets = p.get("max_targets") ? w.int(p.get("max_targets")?.value, `${key}.max_targets`, 1, 16_777_216) : 4096
      const scanners: Array<Scanner> = []
      const sc = p.get("scanners")
      if (!sc) w.issue(value, `${key}.scanners`, "is required (a list of scanners)")
      else {
        const items = w.list(sc.value, `${key}.scanners`)
        if (isSeq(sc.value) && items.length === 0) w.issue(sc.value, `${key}.scanners`, "needs at least one scanner")
        items.forEach((item, i) => {
          const s = parseScanner(w, item, `${key}.scanners[${i}]`, poolName)
          if (!s) return
          const previous = seenIds.get(s.instanceId)
          if (previous !== undefined) {
            w.issue(item, `${key}.scanners[${i}].instance_id`, `duplicate instance_id "${s.instanceId}" (already used in ${previous}); instance ids must be unique across all pools`)
            return
          }
          seenIds.set(s.instanceId, `pools.${poolName}`)
          scanners.push(s)
        })
      }
      if (maxTargets !== undefined) pools.push({ name: poolName, allowedTargets: allowed, maxTargets, scanners })
    }
  }
  const credentials: Array<NamedCredential> = []
  const credNode = top.get("credentials")
  if (credNode && credNode.value !== null) {
    for (const [name, { key: k, value }] of w.entries(credNode.value, "credentials", undefined)) {
      if (!NAME.test(name)) w.issue(k, `credentials.${name}`, `credential name "${name}" must be 1-64 letters, digits, ".", "_" or "-"`)
      const c = parseCredential(w, value, `credentials.${name}`, name)
      if (c) credentials.push(c)
    }
  }
  let defaultPool = pools[0]?.name ?? ""
  const dp = top.get("default_pool")
  if (dp) {
    const v = w.string(dp.value, "default_pool")
    if (v !== undefined && poolsNode && !poolNames.includes(v)) {
      w.issue(dp.value, "default_pool", `"${v}" is not one of the pools (${poolNames.join(", ")})`)
    } else if (v !== undefined) defaultPool = v
  }
  if (w.issues.length > 0) return Result.fail(SchedulerError.fromConfigIssues(options.file, w.issues))
  return Result.succeed({ file: options.file, defaultPool, pools, credentials })
}

/**
 * Reads, expands and validates a scanners file. Variables come from `env` when given, otherwise from
 * the current `ConfigProvider` (the process environment by default).
 *
 * @category loading
 */
export const load = (
  path: string,
  options: { readonly env?: Readonly<Record<string, string | undefined>> | undefined } = {}
): Effect.Effect<Config, SchedulerError.SchedulerError> =>
  Effect.gen(function*() {
    const text = yield* Effect.tryPromise({
      try: () => readFile(path, "utf8"),
      catch: (cause) =>
        SchedulerError.make(
          "config_invalid",
          `Cannot read the scanners file ${path}: ${cause instanceof Error ? cause.message : String(cause)}. Set SCANNER_CONFIG to a readable file (see config/scanners.example.yaml).`,
          { file: path, line: 0, cause }
        )
    })
    const env = options.env ?? (yield* envFromConfigProvider(text))
    const r = parse(text, { file: path, env })
    return yield* Result.isSuccess(r) ? Effect.succeed(r.success) : Effect.fail(r.failure)
  })

const envFromConfigProvider = (text: string) =>
  Effect.gen(function*() {
    const env: Record<string, string | undefined> = {}
    for (const name of referencedVariables(text)) {
      const v = yield* EffectConfig.option(EffectConfig.String(name)).pipe(Effect.orElseSucceed(() => Option.none<string>()))
      env[name] = Option.getOrUndefined(v)
    }
    return env
  })

/**
 * A JSON-safe view of a configuration without any secret (for `config validate` output and logs).
 *
 * @category queries
 */
export const summary = (config: Config) => ({
  file: config.file,
  defaultPool: config.defaultPool,
  pools: config.pools.map((p) => ({
    name: p.name,
    allowedTargets: p.allowedTargets.map((t) => t.text),
    maxTargets: p.maxTargets,
    scanners: p.scanners.map((s) => ({
      instanceId: s.instanceId,
      name: s.name,
      url: s.url,
      auth: s.auth._tag === "Password" ? `password (user ${s.auth.username})` : "api keys",
      apiMode: s.apiMode,
      maxConcurrentScans: s.maxConcurrentScans,
      enabled: s.enabled,
      tls: s.tls.caFile !== undefined ? `ca_file ${s.tls.caFile}` : s.tls.fingerprint !== undefined ? "pinned fingerprint" : s.tls.insecure ? "insecure" : "system CAs"
    }))
  })),
  credentials: config.credentials.map((c) => ({ name: c.name, type: c.type, username: c.username, elevatePrivilegesWith: c.elevatePrivilegesWith }))
})

// ---------------------------------------------------------------------------------------------------
// service

/**
 * The current scanner configuration, reloadable.
 *
 * - `current` is the configuration in force.
 * - `reload` re-reads the file; on error the current configuration stays and the error is returned.
 *
 * @category services
 */
export class ScannerConfig extends Context.Service<ScannerConfig, {
  readonly current: Effect.Effect<Config>
  readonly reload: Effect.Effect<Config, SchedulerError.SchedulerError>
}>()("@nessus-mcp/scheduler/ScannerConfig") {}

/**
 * Builds the service from a loader (called once now and on every reload). Reloads run one at a time, so
 * the configuration in force is always that of the last reload that succeeded.
 *
 * @category constructors
 */
export const make = (loader: Effect.Effect<Config, SchedulerError.SchedulerError>): Effect.Effect<ScannerConfig["Service"], SchedulerError.SchedulerError> =>
  Effect.gen(function*() {
    const ref = yield* Ref.make(yield* loader)
    const one = yield* Semaphore.make(1)
    return ScannerConfig.of({
      current: Ref.get(ref),
      reload: Semaphore.withPermits(one, 1)(Effect.tap(loader, (c) => Ref.set(ref, c)))
    })
  })

/**
 * A view of another service through `f` (e.g. a worker's housekeeping restricted to its own scanners):
 * `current` and `reload` go through the base service, so reloading either reloads both.
 *
 * @category constructors
 */
export const map = (base: ScannerConfig["Service"], f: (config: Config) => Config): ScannerConfig["Service"] =>
  ScannerConfig.of({ current: Effect.map(base.current, f), reload: Effect.map(base.reload, f) })

/**
 * {@link map} as a layer over the `ScannerConfig` it is provided with.
 *
 * @example
 * ```ts
 * import { Layer } from "effect"
 * import { ScannerConfig } from "@nessus-mcp/scheduler"
 *
 * const full = ScannerConfig.layer({ path: "config/scanners.yaml" })
 * // One worker's scanners only; reloading `full` reloads this view too.
 * const mine = ScannerConfig.layerMap((c) => ({ ...c, pools: c.pools.map((p) => ({ ...p, scanners: p.scanners.filter((s) => s.instanceId === "scanner1") })) })).pipe(
 *   Layer.provide(full)
 * )
 * ```
 *
 * @category layers
 */
export const layerMap = (f: (config: Config) => Config): Layer.Layer<ScannerConfig, never, ScannerConfig> =>
  Layer.effect(ScannerConfig, Effect.map(Effect.service(ScannerConfig), (base) => map(base, f)))

/**
 * Loads `path` now and on every reload.
 *
 * @category layers
 */
export const layer = (options: { readonly path: string; readonly env?: Readonly<Record<string, string | undefined>> | undefined }): Layer.Layer<ScannerConfig, SchedulerError.SchedulerError> =>
  Layer.effect(ScannerConfig, make(load(options.path, { env: options.env })))

/**
 * Like {@link layer}, with the path from configuration (e.g. `Config.String("SCANNER_CONFIG")`).
 *
 * @category layers
 */
export const layerConfig = (options: { readonly path: EffectConfig.Config<string> }): Layer.Layer<ScannerConfig, SchedulerError.SchedulerError | EffectConfig.ConfigError> =>
  Layer.effect(ScannerConfig, Effect.flatMap(options.path, (path) => make(load(path))))

/**
 * A fixed configuration (tests, embedded use); `reload` returns it unchanged.
 *
 * @category layers
 */
export const layerValue = (config: Config): Layer.Layer<ScannerConfig> =>
  Layer.succeed(ScannerConfig, ScannerConfig.of({ current: Effect.succeed(config), reload: Effect.succeed(config) }))

/**
 * Parses `text` now and on every reload, with `env` for variables (tests, embedded use).
 *
 * @category layers
 */
export const layerText = (text: string, env: Readonly<Record<string, string | undefined>> = {}, file = "scanners.yaml"): Layer.Layer<ScannerConfig, SchedulerError.SchedulerError> =>
  Layer.effect(ScannerConfig, make(Effect.suspend(() => {
    const r = parse(text, { file, env })
    return Result.isSuccess(r) ? Effect.succeed(r.success) : Effect.fail(r.failure)
  })))

const counts = (c: Config) => {
  const scanners = c.pools.reduce((n, p) => n + p.scanners.length, 0)
  return `${c.pools.length} pool${c.pools.length === 1 ? "" : "s"}, ${scanners} scanner${scanners === 1 ? "" : "s"}`
}

/**
 * Runs a reload and logs its outcome: info with the file and its size on success; on failure an error
 * naming the file, line and key of every problem (annotations `file`, `line`, `key`), saying that the
 * previous configuration stays in force. Never fails; returns whether the reload succeeded. `trigger`
 * says what asked for it (e.g. `SIGHUP`).
 *
 * @category reloading
 */
export const logReload = (trigger: string, reload: Effect.Effect<Config, SchedulerError.SchedulerError>): Effect.Effect<boolean> =>
  reload.pipe(
    Effect.tap((c) =>
      Effect.logInfo(`Scanner configuration reloaded from ${c.file} (${trigger}): ${counts(c)}.`).pipe(
        Effect.annotateLogs({ event: "config_reloaded", trigger, file: c.file })
      )
    ),
    Effect.as(true),
    Effect.catch((e) =>
      Effect.as(
        Effect.logError(`Scanner configuration reload (${trigger}) refused; the previous configuration stays in force. ${e.message}`).pipe(
          Effect.annotateLogs({
            event: "config_reload_failed",
            trigger,
            reason: e.reason,
            ...(e.file !== undefined ? { file: e.file } : {}),
            ...(e.line !== undefined ? { line: e.line } : {}),
            ...(e.key !== undefined ? { key: e.key } : {})
          })
        ),
        false
      )
    )
  )

/**
 * Reloads the configuration whenever the process receives SIGHUP, for the lifetime of the scope. Signals
 * that arrive while a reload runs are coalesced into one more reload. A bad file is refused with an error
 * log naming file, line and key (see {@link logReload}); the previous configuration stays in force.
 *
 * Installing it replaces Node's default reaction to SIGHUP (exit) for as long as the scope is open.
 *
 * @category reloading
 */
export const reloadOnSighup: Effect.Effect<void, never, ScannerConfig | Scope.Scope> = Effect.gen(function*() {
  const service = yield* ScannerConfig
  const pending = yield* Queue.sliding<void>(1)
  yield* Effect.forkScoped(Effect.forever(Effect.andThen(Queue.take(pending), logReload("SIGHUP", service.reload))))
  const handler = () => {
    Queue.offerUnsafe(pending, undefined)
  }
  yield* Effect.acquireRelease(
    Effect.sync(() => {
      sighupHandlers.add(handler)
      if (sighupHandlers.size === 1) process.on("SIGHUP", onSighup)
    }),
    () =>
      Effect.sync(() => {
        sighupHandlers.delete(handler)
        if (sighupHandlers.size === 0) process.off("SIGHUP", onSighup)
      })
  )
})

// One process listener for every scope that reloads on SIGHUP (several services in one process, e.g. tests
// or an all-in-one composition, would otherwise trip Node's MaxListenersExceededWarning).
const sighupHandlers = new Set<() => void>()
const onSighup = () => {
  for (const h of sighupHandlers) h()
}

/**
 * {@link reloadOnSighup} as a layer: add it to an app's layers to reload the scanners file on SIGHUP.
 *
 * @example
 * ```ts
 * import { Layer } from "effect"
 * import { ScannerConfig } from "@nessus-mcp/scheduler"
 *
 * const Reloading = ScannerConfig.layerReloadOnSighup.pipe(Layer.provide(ScannerConfig.layer({ path: "config/scanners.yaml" })))
 * ```
 *
 * @category reloading
 */
export const layerReloadOnSighup: Layer.Layer<never, never, ScannerConfig> = Layer.effectDiscard(reloadOnSighup)
