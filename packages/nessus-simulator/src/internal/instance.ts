/**
 * One simulated Nessus scanner: state (sessions, scans, runs, exports), the REST routes, faults and stats.
 * Plain node:http(s); every counter is mutated synchronously on the event loop, so counts are exact.
 */
import { createServer as createHttp, type IncomingMessage, type Server, type ServerResponse } from "node:http"
import { createServer as createHttps } from "node:https"
import type { Socket } from "node:net"
import * as Catalogue from "../Catalogue.js"
import type { Faults, ScannerConfig, TargetAccount, User } from "../SimulatorConfig.js"
import { DEFAULT_TARGET_ACCOUNT, DEFAULT_USER, parseFaults } from "../SimulatorConfig.js"
import { SimulatorError } from "../SimulatorError.js"
import { builtinCatalogue } from "./builtin.js"
import { catalogueRegistry, type CatalogueData, type ItemTemplate } from "./catalogue.js"
import { evaluate, readCredentials, type ScanCredential } from "./credentials.js"
import { BufferPool, type EngineOptions, ExportWriter, type HostPlan, planHost } from "./engine.js"
import type { GeneratedItem } from "./evidence.js"
import { nessus6Js, propertiesBody, statusBody, TEMPLATES, templatesBody } from "./shapes.js"
import { expandTargets, TargetError } from "./targets.js"
import { epochSeconds, hex, mixSeed, unescapeXml, uuid } from "./util.js"

/** Per-instance counters, serialised as-is by GET /_sim/stats. */
export interface InstanceStats {
  scans_created: Record<string, number>
  scans_launched: Record<string, number>
  max_concurrent_running: number
  running_now: number
  api_calls: Record<string, number>
  sessions_created: number
}

interface Settings {
  readonly id: string
  readonly port: number
  readonly tls: { readonly cert: string | Uint8Array; readonly key: string | Uint8Array } | undefined
  readonly scanApi: boolean
  readonly edition: string
  readonly users: ReadonlyArray<User>
  readonly apiKeys: ReadonlyArray<{ accessKey: string; secretKey: string; username?: string }>
  readonly apiToken: string
  readonly sessionTtlMs: number
  readonly scanDurationMs: number
  readonly pendingMs: number
  readonly transitionMs: number
  readonly exportDelayMs: number
  readonly targetAccounts: ReadonlyArray<TargetAccount>
  readonly nessusVersion: string
  readonly catalogue: CatalogueData
  readonly findingsPerHost: number | undefined
  readonly maxTargets: number
  readonly gateDropsBody: boolean
  readonly seed: number
}

type Status =
  | "empty"
  | "pending"
  | "running"
  | "pausing"
  | "paused"
  | "resuming"
  | "stopping"
  | "canceled"
  | "completed"
  | "aborted"

const ACTIVE: ReadonlySet<Status> = new Set(["pending", "running", "pausing", "paused", "resuming", "stopping"])

interface Run {
  readonly historyId: number
  readonly uuid: string
  status: Status
  readonly createdMs: number
  modifiedMs: number
  endedMs: number | undefined
  readonly runMs: number
  progressMs: number
  runningSince: number | undefined
  timer: NodeJS.Timeout | undefined
  readonly hosts: ReadonlyArray<string>
  readonly altTargets: boolean
  readonly creds: ReadonlyArray<ScanCredential>
  readonly engine: EngineOptions
  summary: Summary | undefined
}

interface Summary {
  /** [info, low, medium, high, critical] per host. */
  readonly counts: ReadonlyArray<readonly [number, number, number, number, number]>
  /** Per-plugin aggregation, cached once the run reached a terminal state. */
  vulns?: Map<number, { plugin_name: string; plugin_family: string; severity: number; count: number }>
}

interface Scan {
  readonly id: number
  readonly templateUuid: string
  readonly policyName: string
  name: string
  description: string
  folderId: number
  targetsText: string
  targets: ReadonlyArray<string>
  creds: ReadonlyArray<ScanCredential>
  readonly owner: string
  readonly createdMs: number
  modifiedMs: number
  readonly runs: Array<Run>
  read: boolean
}

interface Export {
  readonly file: number
  readonly token: string
  readonly scanId: number
  readonly run: Run
  readonly readyAt: number
  failed: boolean
}

interface Folder {
  readonly id: number
  name: string
  readonly type: "trash" | "main" | "custom"
}

interface Principal {
  readonly user: User
  readonly kind: "session" | "keys"
}

interface Ctx {
  readonly req: IncomingMessage
  readonly res: ServerResponse
  readonly url: URL
  readonly params: Record<string, string>
  readonly body: unknown
  readonly auth: Principal | undefined
}

interface Route {
  readonly method: string
  readonly pattern: string
  readonly regex: RegExp
  readonly keys: ReadonlyArray<string>
  readonly auth: boolean
  readonly gated: boolean
  readonly handler: (ctx: Ctx) => void | Promise<void>
}

class HttpError {
  constructor(readonly status: number, readonly error: string) {}
}

const MAX_BODY = 10 << 20

const json = (res: ServerResponse, status: number, body?: unknown, headers?: Record<string, string>): void => {
  const text = body === undefined ? "" : JSON.stringify(body)
  res.writeHead(status, {
    "Content-Type": "application/json",
    "Content-Length": String(Buffer.byteLength(text)),
    "Server": "NessusWWW",
    "Cache-Control": "no-cache",
    ...headers
  })
  res.end(text)
}

const toInt = (s: string | undefined | null): number | undefined => {
  if (s === undefined || s === null || !/^\d+$/.test(s)) return undefined
  return Number(s)
}

/** A running scanner instance. */
export class Instance {
  readonly settings: Settings
  readonly stats: InstanceStats = Instance.emptyStats()
  private faultState = Instance.noFaults()
  private readonly sessions = new Map<string, { username: string; lastUsed: number }>()
  private readonly mintedKeys = new Map<string, { secretKey: string; username: string }>()
  private scans = new Map<number, Scan>()
  private exports = new Map<number, Export>()
  private tokens = new Map<string, Export>()
  private folders: Array<Folder> = Instance.defaultFolders()
  private nextScanId = 5
  private nextHistoryId = 10
  private nextFolderId = 4
  private readonly routes: Array<Route> = []
  private readonly sockets = new Set<Socket>()
  private readonly serverUuid = `${uuid()}${hex(8)}`
  private readonly bootTime = epochSeconds()
  private server: Server | undefined
  private boundPort = 0

  constructor(config: ScannerConfig, index: number, defaultFixture: ScannerConfig["fixture"]) {
    const duration = config.scanDurationMs ?? 3000
    const fixture = config.fixture ?? defaultFixture
    const cat = Catalogue.resolve(fixture)
    this.settings = {
      id: config.id ?? `scanner${index + 1}`,
      port: config.port ?? 0,
      tls: config.tls,
      scanApi: config.scanApi ?? true,
      edition: config.edition ?? "professional",
      users: config.users ?? [DEFAULT_USER],
      apiKeys: config.apiKeys ?? [],
      apiToken: config.apiToken ?? uuid().toUpperCase(),
      sessionTtlMs: config.sessionTtlMs ?? 3_600_000,
      scanDurationMs: duration,
      pendingMs: Math.min(config.pendingMs ?? Math.min(1000, Math.round(duration * 0.1)), duration),
      transitionMs: config.transitionMs ?? Math.min(500, Math.round(duration * 0.1)),
      exportDelayMs: config.exportDelayMs ?? 200,
      targetAccounts: config.targetAccounts ?? [DEFAULT_TARGET_ACCOUNT],
      nessusVersion: config.nessusVersion ?? "10.7.2",
      catalogue: catalogueRegistry.get(cat) ?? builtinCatalogue(),
      findingsPerHost: config.findingsPerHost,
      maxTargets: config.maxTargets ?? 65536,
      gateDropsBody: config.scanApiGateDropsBody ?? false,
      seed: config.seed ?? 1
    }
    if (config.faults) this.setFaults(config.faults)
    this.defineRoutes()
  }

  // ---------------------------------------------------------------------------------------------------------
  // lifecycle

  /** Binds the port. */
  async listen(host: string, statsOfAll: () => unknown): Promise<void> {
    const handler = (req: IncomingMessage, res: ServerResponse) => {
      this.dispatch(req, res, statsOfAll).catch((e: unknown) => {
        if (!res.headersSent) json(res, 500, { error: `Simulator internal error: ${(e as Error).message}` })
        else res.destroy()
      })
    }
    const server = this.settings.tls
      ? createHttps({ cert: pem(this.settings.tls.cert), key: pem(this.settings.tls.key) }, handler)
      : createHttp(handler)
    server.keepAliveTimeout = 5000
    server.on("connection", (s: Socket) => {
      this.sockets.add(s)
      s.on("close", () => this.sockets.delete(s))
    })
    server.on("secureConnection", (s: Socket) => {
      this.sockets.add(s)
      s.on("close", () => this.sockets.delete(s))
    })
    await new Promise<void>((resolve, reject) => {
      const onError = (e: NodeJS.ErrnoException) => {
        reject(
          new SimulatorError({
            reason: "Listen",
            message: `Scanner ${this.settings.id} cannot listen on ${host}:${this.settings.port}: ${e.code ?? e.message}. ` +
              "Choose another port (0 picks a free one) or stop the process using it.",
            cause: e
          })
        )
      }
      server.once("error", onError)
      server.listen(this.settings.port, host, () => {
        server.off("error", onError)
        resolve()
      })
    })
    const addr = server.address()
    this.boundPort = typeof addr === "object" && addr !== null ? addr.port : this.settings.port
    this.server = server
  }

  /** The bound port. */
  get port(): number {
    return this.boundPort
  }

  /** Stops listening, drops connections and timers. */
  async close(): Promise<void> {
    for (const s of this.scans.values()) for (const r of s.runs) this.clearTimer(r)
    const server = this.server
    this.server = undefined
    if (!server) return
    await new Promise<void>((resolve) => {
      server.close(() => resolve())
      for (const s of this.sockets) s.destroy()
      ;(server as Server).closeAllConnections?.()
    })
  }

  // ---------------------------------------------------------------------------------------------------------
  // faults, stats, reset

  private static noFaults() {
    return {
      latencyMs: 0,
      errorBurst: { status: 500 as number, count: 0 },
      rateLimit: { count: 0, retryAfterSeconds: 1 },
      resetConnections: 0,
      exportStuckLoading: false,
      exportError: false,
      down: false,
      scanCreate412: false as boolean | "dropBody"
    }
  }

  private static emptyStats(): InstanceStats {
    return {
      scans_created: {},
      scans_launched: {},
      max_concurrent_running: 0,
      running_now: 0,
      api_calls: {},
      sessions_created: 0
    }
  }

  private static defaultFolders(): Array<Folder> {
    return [{ id: 2, name: "Trash", type: "trash" }, { id: 3, name: "My Scans", type: "main" }]
  }

  /** Replaces the fault set (validated); `revokeSessions` acts once. */
  setFaults(input: Faults): Faults {
    const f = parseFaults(input)
    const next = Instance.noFaults()
    if (f.latencyMs !== undefined) next.latencyMs = f.latencyMs
    if (f.errorBurst) next.errorBurst = { ...f.errorBurst }
    if (f.rateLimit) next.rateLimit = { count: f.rateLimit.count, retryAfterSeconds: f.rateLimit.retryAfterSeconds ?? 1 }
    if (f.resetConnections !== undefined) next.resetConnections = f.resetConnections
    if (f.exportStuckLoading !== undefined) next.exportStuckLoading = f.exportStuckLoading
    if (f.exportError !== undefined) next.exportError = f.exportError
    if (f.down !== undefined) next.down = f.down
    if (f.scanCreate412 !== undefined) next.scanCreate412 = f.scanCreate412
    if (f.revokeSessions) this.sessions.clear()
    this.faultState = next
    return this.faults()
  }

  /** The active faults (remaining counts). */
  faults(): Faults {
    const f = this.faultState
    return {
      ...(f.latencyMs > 0 ? { latencyMs: f.latencyMs } : {}),
      ...(f.errorBurst.count > 0 ? { errorBurst: { status: f.errorBurst.status as 500, count: f.errorBurst.count } } : {}),
      ...(f.rateLimit.count > 0 ? { rateLimit: { ...f.rateLimit } } : {}),
      ...(f.resetConnections > 0 ? { resetConnections: f.resetConnections } : {}),
      ...(f.exportStuckLoading ? { exportStuckLoading: true } : {}),
      ...(f.exportError ? { exportError: true } : {}),
      ...(f.down ? { down: true } : {}),
      ...(f.scanCreate412 !== false ? { scanCreate412: f.scanCreate412 } : {})
    }
  }

  /** Clears scans, exports, folders, faults and stats; keeps configuration, users, keys and sessions. */
  reset(): void {
    for (const s of this.scans.values()) for (const r of s.runs) this.clearTimer(r)
    this.scans = new Map()
    this.exports = new Map()
    this.tokens = new Map()
    this.folders = Instance.defaultFolders()
    this.nextScanId = 5
    this.nextFolderId = 4
    this.faultState = Instance.noFaults()
    Object.assign(this.stats, Instance.emptyStats())
  }

  // ---------------------------------------------------------------------------------------------------------
  // dispatch

  private route(method: string, pattern: string, handler: Route["handler"], opts?: { auth?: boolean; gated?: boolean }) {
    const keys: Array<string> = []
    const source = pattern.replace(/[.]/g, "\\.").replace(/\{(\w+)\}/g, (_m, k: string) => {
      keys.push(k)
      return "([^/]+)"
    })
    this.routes.push({
      method,
      pattern,
      regex: new RegExp(`^${source}/?$`),
      keys,
      auth: opts?.auth ?? true,
      gated: opts?.gated ?? false,
      handler
    })
  }

  private async dispatch(req: IncomingMessage, res: ServerResponse, statsOfAll: () => unknown): Promise<void> {
    const url = new URL(req.url ?? "/", "http://simulator")
    const method = req.method ?? "GET"
    if (url.pathname.startsWith("/_sim/")) return this.admin(req, res, url, method, statsOfAll)
    const f = this.faultState
    if (f.down) {
      req.socket.destroy()
      return
    }
    let matched: Route | undefined
    let params: Record<string, string> = {}
    let pathMatched = false
    for (const r of this.routes) {
      const m = r.regex.exec(url.pathname)
      if (!m) continue
      pathMatched = true
      if (r.method !== method) continue
      matched = r
      params = Object.fromEntries(r.keys.map((k, i) => [k, decodeURIComponent(m[i + 1]!)]))
      break
    }
    const key = matched ? `${method} ${matched.pattern}` : `${method} (unmatched)`
    this.stats.api_calls[key] = (this.stats.api_calls[key] ?? 0) + 1
    if (f.resetConnections > 0) {
      f.resetConnections--
      req.socket.destroy()
      return
    }
    if (f.latencyMs > 0) await new Promise((r) => setTimeout(r, f.latencyMs))
    if (f.errorBurst.count > 0) {
      f.errorBurst.count--
      const msg = f.errorBurst.status === 503 ? "Service Unavailable" : f.errorBurst.status === 502 ? "Bad Gateway" : "Internal Server Error"
      return json(res, f.errorBurst.status, { error: msg })
    }
    if (f.rateLimit.count > 0) {
      f.rateLimit.count--
      return json(res, 429, { error: "Too Many Requests" }, { "Retry-After": String(f.rateLimit.retryAfterSeconds) })
    }
    if (!matched) {
      return pathMatched
        ? json(res, 405, { error: "The requested method is not allowed for this URL" })
        : json(res, 404, { error: "The requested file was not found" })
    }
    let body: unknown
    try {
      body = await readBody(req)
    } catch (e) {
      return json(res, 400, { error: (e as Error).message })
    }
    let auth: Principal | undefined
    try {
      auth = this.authenticate(req, matched.auth)
      if (matched.gated && !this.gate(req, res, auth)) return
      await matched.handler({ req, res, url, params, body, auth })
    } catch (e) {
      if (e instanceof HttpError) {
        if (!res.headersSent) json(res, e.status, { error: e.error })
        return
      }
      throw e
    }
  }

  private authenticate(req: IncomingMessage, required: boolean): Principal | undefined {
    const keysHeader = req.headers["x-apikeys"]
    const cookie = req.headers["x-cookie"]
    if (typeof keysHeader === "string") {
      const access = /accessKey\s*=\s*([^;\s]+)/i.exec(keysHeader)?.[1]
      const secret = /secretKey\s*=\s*([^;\s]+)/i.exec(keysHeader)?.[1]
      const fixed = this.settings.apiKeys.find((k) => k.accessKey === access && k.secretKey === secret)
      const minted = access !== undefined ? this.mintedKeys.get(access) : undefined
      const username = fixed
        ? fixed.username ?? this.settings.users[0]!.username
        : minted && minted.secretKey === secret
        ? minted.username
        : undefined
      const user = this.settings.users.find((u) => u.username === username)
      if (!user) {
        if (required) throw new HttpError(401, "Invalid Credentials")
        return undefined
      }
      return { user, kind: "keys" }
    }
    if (typeof cookie === "string") {
      const token = /token\s*=\s*([^;\s]+)/.exec(cookie)?.[1]
      const s = token !== undefined ? this.sessions.get(token) : undefined
      const now = Date.now()
      if (s && now - s.lastUsed > this.settings.sessionTtlMs) this.sessions.delete(token!)
      else if (s) {
        s.lastUsed = now
        const user = this.settings.users.find((u) => u.username === s.username)
        if (user) return { user, kind: "session" }
      }
      if (required) throw new HttpError(401, "Invalid Credentials")
      return undefined
    }
    if (required) throw new HttpError(401, "You need to log in to perform this request")
    return undefined
  }

  /** The scan_api licence gate: session + the /nessus6.js X-API-Token pass, everything else gets 412. */
  private gate(req: IncomingMessage, res: ServerResponse, auth: Principal | undefined): boolean {
    if (this.settings.scanApi) return true
    const token = req.headers["x-api-token"]
    if (auth?.kind === "session" && typeof token === "string" && token.toLowerCase() === this.settings.apiToken.toLowerCase()) {
      return true
    }
    this.send412(res, this.settings.gateDropsBody)
    return false
  }

  private send412(res: ServerResponse, dropBody: boolean): void {
    const body = "{\"error\":\"API is not available\"}"
    res.writeHead(412, {
      "Content-Type": "application/json",
      "Content-Length": String(body.length),
      "Connection": "close",
      "Server": "NessusWWW"
    })
    if (dropBody) {
      // What Essentials 10.x does: the headers announce 32 bytes, then the socket closes before the body.
      res.flushHeaders()
      res.socket?.end()
      return
    }
    res.end(body)
  }

  // ---------------------------------------------------------------------------------------------------------
  // admin

  private async admin(
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    method: string,
    statsOfAll: () => unknown
  ): Promise<void> {
    const path = url.pathname.replace(/\/$/, "")
    if (path === "/_sim/stats" && method === "GET") return json(res, 200, statsOfAll())
    if (path === "/_sim/faults" && method === "GET") return json(res, 200, this.faults())
    if (path === "/_sim/faults" && method === "POST") {
      try {
        return json(res, 200, this.setFaults((await readBody(req)) as Faults))
      } catch (e) {
        return json(res, 400, { error: (e as Error).message })
      }
    }
    if (path === "/_sim/reset" && method === "POST") {
      this.reset()
      return json(res, 200, {})
    }
    if (path === "/_sim/info" && method === "GET") {
      return json(res, 200, { id: this.settings.id, apiToken: this.settings.apiToken, scanApi: this.settings.scanApi })
    }
    return json(res, 404, { error: "Unknown simulator admin endpoint (GET /_sim/stats, GET|POST /_sim/faults, POST /_sim/reset)" })
  }

  // ---------------------------------------------------------------------------------------------------------
  // routes

  private defineRoutes(): void {
    const open = { auth: false }
    const gated = { gated: true }
    this.route("POST", "/session", (c) => this.login(c), open)
    this.route("GET", "/session", (c) => json(c.res, 200, this.userBody(c.auth!.user)))
    this.route("DELETE", "/session", (c) => this.logout(c))
    this.route("PUT", "/session/keys", (c) => {
      const accessKey = hex(32)
      const secretKey = hex(32)
      for (const [k, v] of this.mintedKeys) if (v.username === c.auth!.user.username) this.mintedKeys.delete(k)
      this.mintedKeys.set(accessKey, { secretKey, username: c.auth!.user.username })
      json(c.res, 200, { accessKey, secretKey })
    })
    this.route("GET", "/server/status", (c) => json(c.res, 200, statusBody()), open)
    this.route("GET", "/server/properties", (c) =>
      json(
        c.res,
        200,
        propertiesBody({
          version: this.settings.nessusVersion,
          edition: this.settings.edition,
          scanApi: this.settings.scanApi,
          serverUuid: this.serverUuid,
          bootTime: this.bootTime,
          users: this.settings.users.length
        })
      ), open)
    this.route("GET", "/nessus6.js", (c) => {
      const js = nessus6Js(this.settings.apiToken)
      c.res.writeHead(200, {
        "Content-Type": "application/javascript",
        "Content-Length": String(Buffer.byteLength(js)),
        "Server": "NessusWWW"
      })
      c.res.end(js)
    }, open)
    this.route("GET", "/editor/scan/templates", (c) => json(c.res, 200, templatesBody()))
    this.route("GET", "/editor/policy/templates", (c) => json(c.res, 200, templatesBody()))
    this.route("GET", "/editor/scan/templates/{uuid}", (c) => {
      const t = TEMPLATES.find((x) => x.uuid === c.params.uuid)
      if (!t) throw new HttpError(404, "Template not found")
      json(c.res, 200, editorBody(t.uuid, t.title))
    })
    this.route("GET", "/scanners", (c) => this.scanners(c))
    this.route("GET", "/policies", (c) => json(c.res, 200, { policies: null }))
    this.route("GET", "/folders", (c) => json(c.res, 200, { folders: this.folderList() }))
    this.route("POST", "/folders", (c) => {
      const name = (c.body as { name?: unknown } | undefined)?.name
      if (typeof name !== "string" || name.trim() === "") throw new HttpError(400, "Invalid 'name' field")
      const id = this.nextFolderId++
      this.folders.push({ id, name, type: "custom" })
      json(c.res, 200, { id })
    })
    this.route("GET", "/scans", (c) => this.listScans(c))
    this.route("POST", "/scans", (c) => this.createScan(c), gated)
    this.route("GET", "/scans/{id}", (c) => this.details(c))
    this.route("PUT", "/scans/{id}", (c) => this.configure(c), gated)
    this.route("DELETE", "/scans/{id}", (c) => this.deleteScan(c), gated)
    this.route("POST", "/scans/{id}/launch", (c) => this.launch(c), gated)
    this.route("POST", "/scans/{id}/pause", (c) => this.control(c, "pause"), gated)
    this.route("POST", "/scans/{id}/resume", (c) => this.control(c, "resume"), gated)
    this.route("POST", "/scans/{id}/stop", (c) => this.control(c, "stop"), gated)
    this.route("POST", "/scans/{id}/kill", (c) => this.control(c, "kill"), gated)
    this.route("PUT", "/scans/{id}/folder", (c) => {
      const scan = this.scan(c.params.id)
      const folderId = Number((c.body as { folder_id?: unknown } | undefined)?.folder_id)
      if (!this.folders.some((f) => f.id === folderId)) throw new HttpError(400, "Invalid 'folder_id' field")
      scan.folderId = folderId
      json(c.res, 200)
    })
    this.route("GET", "/scans/{id}/hosts/{host_id}", (c) => this.hostDetails(c))
    this.route("GET", "/scans/{id}/hosts/{host_id}/plugins/{plugin_id}", (c) => this.pluginOutput(c))
    this.route("POST", "/scans/{id}/export", (c) => this.requestExport(c))
    this.route("GET", "/scans/{id}/export/formats", (c) =>
      json(c.res, 200, { nessus: null, csv: null, html: null, pdf: null }))
    this.route("GET", "/scans/{id}/export/{file}/status", (c) => this.exportStatus(c, this.exportByFile(c), "file"))
    this.route("GET", "/scans/{id}/export/{file}/download", (c) => this.download(c, this.exportByFile(c)))
    this.route("GET", "/tokens/{token}/status", (c) => this.exportStatus(c, this.exportByToken(c), "token"))
    this.route("GET", "/tokens/{token}/download", (c) => this.download(c, this.exportByToken(c)))
  }

  // session -----------------------------------------------------------------------------------------------

  private login(c: Ctx): void {
    const b = (c.body ?? {}) as { username?: unknown; password?: unknown }
    const user = this.settings.users.find((u) => u.username === b.username && u.password === b.password)
    if (!user) throw new HttpError(401, "Invalid Credentials")
    const token = hex(24)
    this.sessions.set(token, { username: user.username, lastUsed: Date.now() })
    this.stats.sessions_created++
    json(c.res, 200, { md5sum_wizard_templates: hex(16), token, md5sum_tenable_links: hex(16) })
  }

  private logout(c: Ctx): void {
    const token = /token\s*=\s*([^;\s]+)/.exec(String(c.req.headers["x-cookie"] ?? ""))?.[1]
    if (token !== undefined) this.sessions.delete(token)
    json(c.res, 200)
  }

  private userBody(u: User) {
    return {
      id: this.settings.users.indexOf(u) + 1,
      username: u.username,
      email: null,
      name: u.username,
      type: "local",
      permissions: u.permissions ?? 128,
      lastlogin: epochSeconds(),
      login_fail_count: 0,
      container_id: 0,
      groups: null,
      lockout: 0
    }
  }

  private scanners(c: Ctx): void {
    if ((c.auth!.user.permissions ?? 128) < 64) throw new HttpError(403, "You are not authorized to perform this request")
    json(c.res, 200, {
      scanners: [{
        id: 1,
        uuid: this.serverUuid,
        name: "Local Scanner",
        type: "local",
        status: "on",
        scan_count: this.stats.running_now,
        engine_version: this.settings.nessusVersion,
        engine_build: "20010",
        ui_version: this.settings.nessusVersion,
        ui_build: "20010",
        platform: "LINUX",
        loaded_plugin_set: "202511060226",
        registration_code: null,
        owner: "system",
        owner_id: 1,
        owner_name: "system",
        shared: 1,
        user_permissions: 128,
        linked: 1,
        timestamp: epochSeconds(),
        creation_date: this.bootTime,
        last_modification_date: this.bootTime,
        license: { type: this.settings.edition === "essentials" ? "home" : this.settings.edition, ips: 0, agents: 0, scanners: 0 }
      }]
    })
  }

  private folderList() {
    return this.folders.map((f) => ({
      unread_count: f.type === "trash" ? null : [...this.scans.values()].filter((s) => s.folderId === f.id && !s.read).length,
      custom: f.type === "custom" ? 1 : 0,
      default_tag: f.type === "main" ? 1 : 0,
      type: f.type,
      name: f.name,
      id: f.id
    }))
  }

  // scans -------------------------------------------------------------------------------------------------

  private scan(idText: string | undefined): Scan {
    const id = toInt(idText)
    const scan = id === undefined ? undefined : this.scans.get(id)
    if (!scan) throw new HttpError(404, "The requested file was not found")
    return scan
  }

  private latest(scan: Scan): Run | undefined {
    return scan.runs[scan.runs.length - 1]
  }

  private status(scan: Scan): Status {
    return this.latest(scan)?.status ?? "empty"
  }

  private scanEntry(s: Scan) {
    const run = this.latest(s)
    return {
      folder_id: s.folderId,
      type: "local",
      read: s.read,
      last_modification_date: epochSeconds(s.modifiedMs),
      creation_date: epochSeconds(s.createdMs),
      status: this.status(s),
      uuid: run?.uuid ?? null,
      shared: false,
      user_permissions: 128,
      owner: s.owner,
      timezone: null,
      rrules: null,
      starttime: null,
      enabled: false,
      control: true,
      live_results: 0,
      name: s.name,
      id: s.id
    }
  }

  private listScans(c: Ctx): void {
    const folder = toInt(c.url.searchParams.get("folder_id"))
    const since = toInt(c.url.searchParams.get("last_modification_date"))
    const scans = [...this.scans.values()]
      .filter((s) => folder === undefined || s.folderId === folder)
      .filter((s) => since === undefined || epochSeconds(s.modifiedMs) >= since)
      .map((s) => this.scanEntry(s))
    json(c.res, 200, { folders: this.folderList(), scans: scans.length > 0 ? scans : null, timestamp: epochSeconds() })
  }

  private readSettings(body: unknown, creating: boolean) {
    if (typeof body !== "object" || body === null) throw new HttpError(400, "Invalid JSON body")
    const b = body as { uuid?: unknown; settings?: unknown; credentials?: unknown }
    const template = TEMPLATES.find((t) => t.uuid === b.uuid)
    if (creating && !template) throw new HttpError(400, "Invalid 'uuid' field: no such template")
    const st = (typeof b.settings === "object" && b.settings !== null ? b.settings : {}) as Record<string, unknown>
    if (creating && (typeof st.name !== "string" || st.name.trim() === "")) throw new HttpError(400, "Invalid 'name' field")
    if (creating && (typeof st.text_targets !== "string" || st.text_targets.trim() === "")) {
      throw new HttpError(400, "Invalid 'text_targets' field")
    }
    let targets: Array<string> | undefined
    if (typeof st.text_targets === "string") {
      try {
        targets = expandTargets(st.text_targets, this.settings.maxTargets)
      } catch (e) {
        if (e instanceof TargetError) throw new HttpError(400, `Invalid 'text_targets' field: ${e.message}`)
        throw e
      }
      if (targets.length === 0) throw new HttpError(400, "Invalid 'text_targets' field")
    }
    let folderId: number | undefined
    if (st.folder_id !== undefined) {
      folderId = Number(st.folder_id)
      if (!this.folders.some((f) => f.id === folderId)) throw new HttpError(400, "Invalid 'folder_id' field")
    }
    return {
      template,
      name: typeof st.name === "string" ? st.name : undefined,
      description: typeof st.description === "string" ? st.description : undefined,
      targetsText: typeof st.text_targets === "string" ? st.text_targets : undefined,
      targets,
      folderId,
      launchNow: st.launch_now === true || st.launch_now === "true",
      creds: b.credentials !== undefined ? readCredentials(b.credentials) : undefined
    }
  }

  private createScan(c: Ctx): void {
    const fault = this.faultState.scanCreate412
    if (fault !== false) return this.send412(c.res, fault === "dropBody")
    const s = this.readSettings(c.body, true)
    const now = Date.now()
    const scan: Scan = {
      id: this.nextScanId++,
      templateUuid: s.template!.uuid,
      policyName: s.template!.title,
      name: s.name!,
      description: s.description ?? "",
      folderId: s.folderId ?? 3,
      targetsText: s.targetsText!,
      targets: s.targets!,
      creds: s.creds ?? [],
      owner: c.auth!.user.username,
      createdMs: now,
      modifiedMs: now,
      runs: [],
      read: false
    }
    this.scans.set(scan.id, scan)
    this.stats.scans_created[scan.name] = (this.stats.scans_created[scan.name] ?? 0) + 1
    if (s.launchNow) this.startRun(scan, undefined)
    json(c.res, 200, { scan: this.scanObject(scan) })
  }

  private scanObject(s: Scan) {
    return {
      creation_date: epochSeconds(s.createdMs),
      custom_targets: s.targetsText,
      default_permisssions: 0,
      description: s.description,
      emails: null,
      id: s.id,
      last_modification_date: epochSeconds(s.modifiedMs),
      name: s.name,
      notification_filter_type: "and",
      notification_filters: null,
      owner: s.owner,
      owner_id: 1,
      policy_id: s.id + 1000,
      enabled: false,
      rrules: null,
      scanner_id: 1,
      shared: 0,
      starttime: null,
      tag_id: s.folderId,
      timezone: null,
      type: "local",
      user_permissions: 128,
      uuid: this.latest(s)?.uuid ?? `template-${s.templateUuid.slice(0, 36)}`
    }
  }

  private configure(c: Ctx): void {
    const scan = this.scan(c.params.id)
    const s = this.readSettings(c.body, false)
    if (s.name !== undefined) scan.name = s.name
    if (s.description !== undefined) scan.description = s.description
    if (s.targets !== undefined) {
      scan.targets = s.targets
      scan.targetsText = s.targetsText!
    }
    if (s.folderId !== undefined) scan.folderId = s.folderId
    if (s.creds !== undefined) scan.creds = s.creds
    scan.modifiedMs = Date.now()
    json(c.res, 200, this.scanObject(scan))
  }

  private deleteScan(c: Ctx): void {
    const scan = this.scan(c.params.id)
    if (ACTIVE.has(this.status(scan))) throw new HttpError(409, "Scan is running; stop it before deleting it")
    this.scans.delete(scan.id)
    for (const [file, e] of this.exports) {
      if (e.scanId === scan.id) {
        this.exports.delete(file)
        this.tokens.delete(e.token)
      }
    }
    json(c.res, 200)
  }

  // lifecycle ---------------------------------------------------------------------------------------------

  private launch(c: Ctx): void {
    const scan = this.scan(c.params.id)
    if (ACTIVE.has(this.status(scan))) throw new HttpError(409, "Scan is already running")
    const alt = (c.body as { alt_targets?: unknown } | undefined)?.alt_targets
    let altTargets: Array<string> | undefined
    if (Array.isArray(alt) && alt.length > 0) {
      try {
        altTargets = expandTargets(alt.map(String).join("\n"), this.settings.maxTargets)
      } catch (e) {
        if (e instanceof TargetError) throw new HttpError(400, `Invalid 'alt_targets' field: ${e.message}`)
        throw e
      }
    }
    const run = this.startRun(scan, altTargets)
    json(c.res, 200, { scan_uuid: run.uuid })
  }

  private startRun(scan: Scan, altTargets: ReadonlyArray<string> | undefined): Run {
    const now = Date.now()
    const hosts = altTargets ?? scan.targets
    const historyId = this.nextHistoryId++
    const creds = scan.creds
    const accounts = this.settings.targetAccounts
    const engine: EngineOptions = {
      catalogue: this.settings.catalogue,
      hosts,
      findingsPerHost: this.settings.findingsPerHost,
      seed: mixSeed(mixSeed(this.settings.seed, scan.id), historyId),
      outcome: (_i, host) => evaluate(creds, accounts, host),
      info: {
        scanName: scan.name,
        policyName: scan.policyName,
        nessusVersion: this.settings.nessusVersion,
        edition: this.settings.edition === "essentials" ? "Nessus Home" : "Nessus",
        scannerIp: "192.0.2.10",
        startMs: now,
        durationSec: 0
      },
      targetsText: scan.targetsText,
      chunkSize: 1 << 20
    }
    const run: Run = {
      historyId,
      uuid: uuid(),
      status: "empty",
      createdMs: now,
      modifiedMs: now,
      endedMs: undefined,
      runMs: Math.max(0, this.settings.scanDurationMs - this.settings.pendingMs),
      progressMs: 0,
      runningSince: undefined,
      timer: undefined,
      hosts,
      altTargets: altTargets !== undefined,
      creds,
      engine,
      summary: undefined
    }
    scan.runs.push(run)
    scan.modifiedMs = now
    scan.read = false
    this.stats.scans_launched[scan.name] = (this.stats.scans_launched[scan.name] ?? 0) + 1
    this.setStatus(scan, run, "pending")
    this.after(run, this.settings.pendingMs, () => this.startRunning(scan, run))
    return run
  }

  private after(run: Run, ms: number, f: () => void): void {
    this.clearTimer(run)
    if (ms <= 0) return f()
    run.timer = setTimeout(() => {
      run.timer = undefined
      f()
    }, ms)
  }

  private clearTimer(run: Run): void {
    if (run.timer !== undefined) clearTimeout(run.timer)
    run.timer = undefined
  }

  private setStatus(scan: Scan, run: Run, status: Status): void {
    const was = ACTIVE.has(run.status)
    const is = ACTIVE.has(status)
    run.status = status
    run.modifiedMs = Date.now()
    scan.modifiedMs = run.modifiedMs
    if (!was && is) {
      this.stats.running_now++
      if (this.stats.running_now > this.stats.max_concurrent_running) {
        this.stats.max_concurrent_running = this.stats.running_now
      }
    } else if (was && !is) {
      this.stats.running_now--
    }
  }

  private startRunning(scan: Scan, run: Run): void {
    this.setStatus(scan, run, "running")
    run.runningSince = Date.now()
    this.after(run, run.runMs - run.progressMs, () => {
      run.progressMs = run.runMs
      run.runningSince = undefined
      run.endedMs = Date.now()
      this.setStatus(scan, run, "completed")
    })
  }

  private freeze(run: Run): void {
    if (run.runningSince !== undefined) {
      run.progressMs = Math.min(run.runMs, run.progressMs + (Date.now() - run.runningSince))
      run.runningSince = undefined
    }
  }

  private control(c: Ctx, action: "pause" | "resume" | "stop" | "kill"): void {
    const scan = this.scan(c.params.id)
    const run = this.latest(scan)
    const st = run?.status ?? "empty"
    const t = this.settings.transitionMs
    if (!run) throw new HttpError(409, `Scan is not running (status ${st})`)
    switch (action) {
      case "pause":
        if (st !== "pending" && st !== "running") throw new HttpError(409, `Scan cannot be paused (status ${st})`)
        this.freeze(run)
        this.setStatus(scan, run, "pausing")
        this.after(run, t, () => this.setStatus(scan, run, "paused"))
        break
      case "resume":
        if (st !== "paused") throw new HttpError(409, `Scan is not paused (status ${st})`)
        this.setStatus(scan, run, "resuming")
        this.after(run, t, () => this.startRunning(scan, run))
        break
      case "stop":
        if (!ACTIVE.has(st) || st === "stopping") throw new HttpError(409, `Scan is not running (status ${st})`)
        this.freeze(run)
        this.setStatus(scan, run, "stopping")
        this.after(run, t, () => {
          run.endedMs = Date.now()
          this.setStatus(scan, run, "canceled")
        })
        break
      case "kill":
        if (!ACTIVE.has(st)) throw new HttpError(409, `Scan is not running (status ${st})`)
        this.clearTimer(run)
        this.freeze(run)
        run.endedMs = Date.now()
        this.setStatus(scan, run, "canceled")
        break
    }
    json(c.res, 200)
  }

  // details -----------------------------------------------------------------------------------------------

  private runFor(c: Ctx, scan: Scan): Run | undefined {
    const h = c.url.searchParams.get("history_id")
    if (h === null) return this.latest(scan)
    const run = scan.runs.find((r) => String(r.historyId) === h)
    if (!run) throw new HttpError(404, "The requested file was not found")
    return run
  }

  /** Overall fraction done, 0..1. */
  private fraction(run: Run): number {
    if (run.status === "completed") return 1
    if (run.runMs === 0) return 0
    const live = run.runningSince !== undefined ? Date.now() - run.runningSince : 0
    return Math.min(1, (run.progressMs + live) / run.runMs)
  }

  /** Host i finishes at 60%..100% of the run, so hosts complete one after another. */
  private hostProgress(run: Run, i: number): number {
    if (run.status === "completed") return 100
    const n = run.hosts.length
    const d = 0.6 + 0.4 * ((i + 1) / n)
    return Math.min(100, Math.floor((this.fraction(run) / d) * 100))
  }

  private summary(run: Run): Summary {
    if (run.summary) return run.summary
    const counts = run.hosts.map((_h, i) => {
      const p = planHost(run.engine, i)
      const c: [number, number, number, number, number] = [0, 0, 0, 0, 0]
      for (const g of p.generated) c[g.severity as 0]++
      for (const it of p.items) c[it.severity as 0]++
      return c
    })
    run.summary = { counts }
    return run.summary
  }

  private details(c: Ctx): void {
    const scan = this.scan(c.params.id)
    const run = this.runFor(c, scan)
    scan.read = true
    const status = run?.status ?? "empty"
    const hosts = run
      ? run.hosts.map((h, i) => {
        const p = this.hostProgress(run, i)
        const full = this.summary(run).counts[i]!
        const k = (n: number) => (p >= 100 ? n : Math.floor((n * p) / 100))
        const [info, low, medium, high, critical] = full.map(k) as [number, number, number, number, number]
        return {
          totalchecksconsidered: 100,
          numchecksconsidered: p,
          scanprogresstotal: 100,
          scanprogresscurrent: p,
          host_index: i,
          score: critical * 10000 + high * 1000 + medium * 100 + low * 10 + info,
          severitycount: {
            item: [info, low, medium, high, critical].map((count, severitylevel) => ({ count, severitylevel }))
          },
          progress: `${p}/100`,
          offline_critical: 0,
          offline_high: 0,
          offline_medium: 0,
          offline_low: 0,
          offline_info: 0,
          critical,
          high,
          medium,
          low,
          info,
          severity: info + low + medium + high + critical,
          host_id: i + 1,
          hostname: h
        }
      })
      : []
    const vulns = run?.summary?.vulns ?? new Map<number, { plugin_name: string; plugin_family: string; severity: number; count: number }>()
    if (run && run.summary?.vulns === undefined) {
      run.hosts.forEach((_h, i) => {
        if (this.hostProgress(run, i) < 100) return
        const p = planHost(run.engine, i)
        for (const it of [...p.generated, ...p.items]) {
          const v = vulns.get(it.pluginId)
          if (v) v.count++
          else vulns.set(it.pluginId, { plugin_name: it.pluginName, plugin_family: familyOf(it), severity: it.severity, count: 1 })
        }
      })
      // Terminal runs no longer change: aggregate once (large scans would otherwise re-plan every host per GET).
      if (!ACTIVE.has(run.status)) this.summary(run).vulns = vulns
    }
    const vulnerabilities = [...vulns.entries()]
      .sort((a, b) => b[1].severity - a[1].severity || a[0] - b[0])
      .map(([id, v]) => ({
        count: v.count,
        plugin_name: v.plugin_name,
        vuln_index: id,
        severity: v.severity,
        plugin_id: id,
        severity_index: v.severity,
        plugin_family: v.plugin_family
      }))
    const history = scan.runs.map((r) => ({
      history_id: r.historyId,
      uuid: r.uuid,
      owner_id: 1,
      status: r.status,
      creation_date: epochSeconds(r.createdMs),
      last_modification_date: epochSeconds(r.modifiedMs),
      type: "local",
      alt_targets_used: r.altTargets,
      scheduler: 0,
      node_name: null,
      node_host: null,
      node_id: null,
      is_archived: false
    }))
    json(c.res, 200, {
      info: {
        acls: [
          { permissions: 0, owner: null, display_name: null, name: null, id: null, type: "default" },
          { permissions: 128, owner: 1, display_name: scan.owner, name: scan.owner, id: 1, type: "user" }
        ],
        edit_allowed: true,
        status,
        alt_targets_used: run?.altTargets ?? false,
        scanner_start: run ? epochSeconds(run.createdMs) : null,
        scanner_end: run?.endedMs !== undefined ? epochSeconds(run.endedMs) : null,
        policy: scan.policyName,
        "pci-can-upload": false,
        scan_start: run ? epochSeconds(run.createdMs) : null,
        scan_end: run?.endedMs !== undefined ? epochSeconds(run.endedMs) : null,
        hasaudittrail: true,
        user_permissions: 128,
        folder_id: scan.folderId,
        no_target: false,
        owner: scan.owner,
        targets: scan.targetsText,
        control: true,
        object_id: scan.id,
        scanner_name: "Local Scanner",
        uuid: run?.uuid ?? null,
        haskb: true,
        hostcount: run ? run.hosts.length : 0,
        scan_type: "local",
        name: scan.name,
        timestamp: epochSeconds(),
        schedule_uuid: `template-${scan.templateUuid.slice(0, 36)}`,
        shared: false
      },
      hosts,
      comphosts: [],
      vulnerabilities,
      compliance: [],
      history: history.length > 0 ? history : null,
      notes: null,
      remediations: { num_cves: 0, num_hosts: hosts.length, num_remediated_cves: 0, num_impacted_hosts: 0, remediations: null },
      filters: [],
      prioritization: { plugins: [], threat_level: 0 }
    })
  }

  private hostOf(c: Ctx): { scan: Scan; run: Run; index: number; plan: HostPlan } {
    const scan = this.scan(c.params.id)
    const run = this.runFor(c, scan)
    const id = toInt(c.params.host_id)
    if (!run || id === undefined || id < 1 || id > run.hosts.length) throw new HttpError(404, "Host not found")
    return { scan, run, index: id - 1, plan: planHost(run.engine, id - 1) }
  }

  private hostDetails(c: Ctx): void {
    const { run, index, plan } = this.hostOf(c)
    const done = this.hostProgress(run, index) >= 100
    const items = done ? [...plan.generated, ...plan.items] : []
    const byPlugin = new Map<number, { it: GeneratedItem | ItemTemplate; count: number }>()
    for (const it of items) {
      const v = byPlugin.get(it.pluginId)
      if (v) v.count++
      else byPlugin.set(it.pluginId, { it, count: 1 })
    }
    json(c.res, 200, {
      info: {
        host_start: new Date(run.createdMs).toUTCString(),
        "mac-address": null,
        "host-fqdn": plan.hostIp !== plan.host ? plan.host : null,
        host_end: run.endedMs !== undefined ? new Date(run.endedMs).toUTCString() : null,
        "operating-system": plan.template.os !== undefined ? [plan.template.os] : null,
        "host-ip": plan.hostIp
      },
      vulnerabilities: [...byPlugin.values()]
        .sort((a, b) => b.it.severity - a.it.severity || a.it.pluginId - b.it.pluginId)
        .map(({ it, count }) => ({
          count,
          hostname: plan.host,
          plugin_name: it.pluginName,
          vuln_index: it.pluginId,
          severity: it.severity,
          plugin_id: it.pluginId,
          severity_index: it.severity,
          plugin_family: familyOf(it),
          host_id: index + 1
        })),
      compliance: []
    })
  }

  private pluginOutput(c: Ctx): void {
    const { run, index, plan } = this.hostOf(c)
    const pluginId = toInt(c.params.plugin_id)
    const done = this.hostProgress(run, index) >= 100
    const items = done ? [...plan.generated, ...plan.items].filter((it) => it.pluginId === pluginId) : []
    const first = items[0]
    const xmlOf = (it: GeneratedItem | ItemTemplate) => ("xml" in it ? it.xml : it.raw.split("\u0001").join(plan.host))
    const field = (xml: string, tag: string) => {
      const m = new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`).exec(xml)
      return m ? unescapeXml(m[1]!) : null
    }
    const firstXml = first ? xmlOf(first) : ""
    json(c.res, 200, {
      info: {
        plugindescription: {
          severity: first?.severity ?? 0,
          pluginname: first?.pluginName ?? null,
          pluginattributes: first
            ? {
              synopsis: field(firstXml, "synopsis"),
              description: field(firstXml, "description"),
              solution: field(firstXml, "solution"),
              risk_information: { risk_factor: field(firstXml, "risk_factor") },
              plugin_information: {
                plugin_id: first.pluginId,
                plugin_type: field(firstXml, "plugin_type"),
                plugin_family: familyOf(first),
                plugin_modification_date: field(firstXml, "plugin_modification_date")
              },
              fname: field(firstXml, "fname")
            }
            : null,
          pluginfamily: first ? familyOf(first) : null,
          pluginid: String(pluginId ?? "")
        }
      },
      outputs: items.map((it, j) => {
        const port = "xml" in it ? it.port : plan.ports[plan.items.indexOf(it)] ?? it.port
        return {
          plugin_output: field(xmlOf(it), "plugin_output"),
          hosts: plan.host,
          has_attachment: 0,
          custom_description: null,
          ports: { [`${port} / ${it.protocol} / ${it.svcName}`]: [{ hostname: plan.host }] },
          severity: it.severity,
          index: j
        }
      })
    })
  }

  // exports -----------------------------------------------------------------------------------------------

  private requestExport(c: Ctx): void {
    const scan = this.scan(c.params.id)
    const run = this.runFor(c, scan)
    const format = (c.body as { format?: unknown } | undefined)?.format ?? "nessus"
    if (format !== "nessus") {
      throw new HttpError(400, `Invalid 'format' field: the simulator only produces "nessus" exports (got ${JSON.stringify(format)})`)
    }
    if (!run) throw new HttpError(400, "Scan has no results to export: it was never launched")
    if (ACTIVE.has(run.status)) throw new HttpError(409, "Can not export running scans")
    let file = 0
    while (file === 0 || this.exports.has(file)) file = 100_000_000 + Math.floor(Math.random() * 1_900_000_000)
    const e: Export = {
      file,
      token: hex(32),
      scanId: scan.id,
      run,
      readyAt: Date.now() + this.settings.exportDelayMs,
      failed: false
    }
    this.exports.set(file, e)
    this.tokens.set(e.token, e)
    json(c.res, 200, { token: e.token, file })
  }

  private exportByFile(c: Ctx): Export {
    const scan = this.scan(c.params.id)
    const e = this.exports.get(toInt(c.params.file) ?? -1)
    if (!e || e.scanId !== scan.id) throw new HttpError(404, "The requested file was not found")
    return e
  }

  private exportByToken(c: Ctx): Export {
    const e = this.tokens.get(c.params.token ?? "")
    if (!e) throw new HttpError(404, "The requested file was not found")
    return e
  }

  private exportState(e: Export): "loading" | "ready" | "error" {
    if (e.failed) return "error"
    const f = this.faultState
    if (f.exportError) {
      e.failed = true
      return "error"
    }
    if (f.exportStuckLoading) return "loading"
    return Date.now() >= e.readyAt ? "ready" : "loading"
  }

  private exportStatus(c: Ctx, e: Export, path: "file" | "token"): void {
    const state = this.exportState(e)
    if (state === "error") {
      // Nessus 6.7 answered the /scans path with HTTP 500 {"status":"error"}; pyTenable reads the /tokens
      // path as 200 {"status":"error", "message"}.
      return path === "file"
        ? json(c.res, 500, { status: "error" })
        : json(c.res, 200, { status: "error", message: "The export failed" })
    }
    json(c.res, 200, { status: state })
  }

  private download(c: Ctx, e: Export): void {
    const state = this.exportState(e)
    if (state === "error") throw new HttpError(500, "The export failed")
    if (state === "loading") throw new HttpError(409, "The export is not ready yet")
    const scan = this.scans.get(e.scanId)
    const run = e.run
    const end = run.endedMs ?? Date.now()
    const eo: EngineOptions = {
      ...run.engine,
      info: { ...run.engine.info, durationSec: Math.max(1, Math.round((end - run.createdMs) / 1000)) }
    }
    const name = (scan?.name ?? "scan").replace(/[^A-Za-z0-9_.-]+/g, "_")
    c.res.writeHead(200, {
      "Content-Type": "application/octet-stream",
      "Content-Disposition": `attachment; filename="${name}_${e.file}.nessus"`,
      "Server": "NessusWWW",
      "Cache-Control": "no-cache"
    })
    // Pull chunks only when the socket drained, and recycle each buffer once the socket wrote it: the
    // download costs a few MiB however large the document is.
    const pool = new BufferPool(eo.chunkSize)
    const writer = new ExportWriter(eo, pool.alloc)
    const res = c.res
    let closed = false
    res.on("close", () => (closed = true))
    const pump = (): void => {
      while (!closed) {
        const chunk = writer.next()
        if (chunk === null) {
          res.end()
          return
        }
        if (!res.write(chunk, () => pool.release(chunk))) {
          res.once("drain", pump)
          return
        }
      }
    }
    pump()
  }
}

const pem = (v: string | Uint8Array): string | Buffer => (typeof v === "string" ? v : Buffer.from(v))

const familyOf = (it: GeneratedItem | ItemTemplate): string => it.family

const readBody = (req: IncomingMessage): Promise<unknown> =>
  new Promise((resolve, reject) => {
    const chunks: Array<Buffer> = []
    let size = 0
    req.on("data", (b: Buffer) => {
      size += b.length
      if (size > MAX_BODY) {
        reject(new Error("Request body too large"))
        req.destroy()
        return
      }
      chunks.push(b)
    })
    req.on("error", reject)
    req.on("end", () => {
      const text = Buffer.concat(chunks).toString("utf8").trim()
      if (text === "") return resolve(undefined)
      const type = String(req.headers["content-type"] ?? "")
      if (type.includes("application/x-www-form-urlencoded")) {
        return resolve(Object.fromEntries(new URLSearchParams(text)))
      }
      try {
        resolve(JSON.parse(text))
      } catch {
        reject(new Error("Invalid JSON body"))
      }
    })
  })

const editorBody = (uuid: string, title: string) => ({
  uuid,
  title,
  name: TEMPLATES.find((t) => t.uuid === uuid)?.name,
  is_was: null,
  is_agent: null,
  settings: {
    basic: { inputs: [{ id: "name", type: "entry", required: true }, { id: "text_targets", type: "textarea", required: true }] }
  },
  credentials: {
    data: [{
      name: "Host",
      types: [
        { name: "SSH", instances: [], inputs: [{ id: "auth_method" }, { id: "username" }, { id: "password" }, { id: "elevate_privileges_with" }] },
        { name: "Windows", instances: [], inputs: [{ id: "auth_method" }, { id: "username" }, { id: "password" }, { id: "domain" }] }
      ]
    }]
  },
  plugins: { families: {} },
  compliance: { data: [] }
})
