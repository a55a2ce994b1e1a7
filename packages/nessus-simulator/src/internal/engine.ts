/**
 * The export engine: plans each host deterministically from (seed, host index) and writes the `.nessus`
 * text as a sequence of ~1 MiB chunks. Findings are pre-encoded byte segments copied with `Buffer.set`,
 * so throughput is memcpy-bound and memory stays flat whatever the document size.
 */
import { type CatalogueData, HOST, type HostTemplate, type ItemTemplate, PORT } from "./catalogue.js"
import {
  type CredentialOutcome,
  evidenceItems,
  type GeneratedItem,
  isCredentialed,
  plugin19506,
  type ScanInfo
} from "./evidence.js"
import { intToIp, isIpv4 } from "./targets.js"
import { ctime, escapeXml, mixSeed, rng } from "./util.js"

/** Engine inputs, already resolved to concrete values. */
export interface EngineOptions {
  readonly catalogue: CatalogueData
  readonly hosts: ReadonlyArray<string>
  /** ReportItems per host including 19506 and evidence; undefined = replay the source host's items. */
  readonly findingsPerHost: number | undefined
  readonly seed: number
  readonly outcome: (index: number, host: string) => CredentialOutcome
  readonly info: ScanInfo
  readonly targetsText: string
  readonly chunkSize: number
}

/** Counts of what was written; exact by construction. */
export interface Truth {
  bytes: number
  hosts: number
  findings: number
  severityCounts: [number, number, number, number, number]
  credentialedHosts: number
  outcomes: { none: number; success: number; failed: number; escalationFailed: number }
}

/** One host's content. */
export interface HostPlan {
  readonly index: number
  readonly host: string
  readonly hostIp: string
  readonly outcome: CredentialOutcome
  readonly template: HostTemplate
  readonly generated: ReadonlyArray<GeneratedItem>
  readonly items: ReadonlyArray<ItemTemplate>
  /** Port overrides for repeated draws (same length as items; undefined = the template's own port). */
  readonly ports: ReadonlyArray<string | undefined>
}

const REPEAT_PORT_BASE = 40000

/** A stable address for a target that is a host name (10.254.x.y from a hash of the name). */
export const addressOf = (host: string): string => {
  if (isIpv4(host) || host.includes(":")) return host
  let h = 2166136261
  for (let i = 0; i < host.length; i++) h = Math.imul(h ^ host.charCodeAt(i), 16777619)
  return intToIp(((10 << 24) | (254 << 16) | (h & 0xffff)) >>> 0)
}

/** Plans host `index`: which template, which findings, which generated evidence. */
export const planHost = (o: EngineOptions, index: number, scratch?: Int32Array): HostPlan => {
  const cat = o.catalogue
  const host = o.hosts[index]!
  const outcome = o.outcome(index, host)
  const template = cat.hosts[index % cat.hosts.length]!
  const generated = [plugin19506(o.info, outcome), ...evidenceItems(outcome)]
  const credentialed = outcome.status === "success"
  let items: Array<ItemTemplate>
  const ports: Array<string | undefined> = []
  if (o.findingsPerHost === undefined) {
    items = credentialed ? [...template.items, ...template.localItems] : [...template.items]
  } else {
    const pool = credentialed ? poolWithLocal(cat) : cat.pool
    const k = Math.max(0, o.findingsPerHost - generated.length)
    items = []
    const n = pool.length
    if (n > 0 && k > 0) {
      const next = rng(mixSeed(o.seed, index))
      const perm = scratch && scratch.length >= n ? scratch : new Int32Array(n)
      for (let drawn = 0, round = 0; drawn < k; round++) {
        for (let j = 0; j < n; j++) perm[j] = j
        const take = Math.min(n, k - drawn)
        for (let j = 0; j < take; j++) {
          const r = j + Math.floor(next() * (n - j))
          const t = perm[r]!
          perm[r] = perm[j]!
          perm[j] = t
          items.push(pool[t]!)
          ports.push(round === 0 ? undefined : String(REPEAT_PORT_BASE + round))
        }
        drawn += take
      }
    }
  }
  return { index, host, hostIp: addressOf(host), outcome, template, generated, items, ports }
}

const combined = new WeakMap<CatalogueData, ReadonlyArray<ItemTemplate>>()
const poolWithLocal = (cat: CatalogueData): ReadonlyArray<ItemTemplate> => {
  let p = combined.get(cat)
  if (!p) {
    p = [...cat.pool, ...cat.localPool]
    combined.set(cat, p)
  }
  return p
}

const encoder = new TextEncoder()

/** Produces the document chunk by chunk; `truth` is complete once `next()` returned null. */
export class ExportWriter {
  readonly truth: Truth = {
    bytes: 0,
    hosts: 0,
    findings: 0,
    severityCounts: [0, 0, 0, 0, 0],
    credentialedHosts: 0,
    outcomes: { none: 0, success: 0, failed: 0, escalationFailed: 0 }
  }
  private buf: Buffer
  private pos = 0
  private readonly out: Array<Buffer> = []
  private state: "head" | "hosts" | "done" = "head"
  private index = 0
  private readonly scratch: Int32Array

  /**
   * @param alloc where chunk buffers come from; a caller that knows when a chunk has been written (socket or
   * file callback) can recycle them, which keeps memory flat without waiting for the GC to free external memory.
   */
  constructor(private readonly o: EngineOptions, private readonly alloc: () => Buffer = () => Buffer.allocUnsafeSlow(o.chunkSize)) {
    this.buf = alloc()
    this.scratch = new Int32Array(Math.max(1, o.catalogue.pool.length + o.catalogue.localPool.length))
  }

  /** The next chunk, or null at the end. */
  next(): Buffer | null {
    while (this.out.length === 0 && this.state !== "done") this.step()
    return this.out.shift() ?? null
  }

  private step(): void {
    if (this.state === "head") {
      this.putString(this.head())
      this.state = "hosts"
      return
    }
    // A few hosts per step keeps chunk production cheap without looping per byte.
    const until = this.pos + this.o.chunkSize
    while (this.index < this.o.hosts.length && this.pos < until && this.out.length === 0) {
      this.writeHost(planHost(this.o, this.index, this.scratch))
      this.index++
    }
    if (this.index >= this.o.hosts.length && this.out.length === 0) {
      this.putString("</Report>\n</NessusClientData_v2>\n")
      this.flush()
      this.state = "done"
    }
  }

  private head(): string {
    const o = this.o
    let head = o.catalogue.head.replace(
      /<policyName>[^<]*<\/policyName>/,
      `<policyName>${escapeXml(o.info.policyName)}</policyName>`
    )
    head = head.replace(
      /(<preference><name>TARGET<\/name>\s*<value>)[^<]*(<\/value>)/,
      (_m, a: string, b: string) => `${a}${escapeXml(o.targetsText)}${b}`
    )
    return `${head}<Report name="${escapeXml(o.info.scanName)}" xmlns:cm="http://www.nessus.org/cm">\n`
  }

  private writeHost(p: HostPlan): void {
    const t = this.truth
    const start = this.o.info.startMs + p.index * 1000
    const end = start + this.o.info.durationSec * 1000
    const cred = isCredentialed(p.outcome)
    const name = escapeXml(p.host)
    let tags = ""
    tags += `<tag name="HOST_END_TIMESTAMP">${Math.floor(end / 1000)}</tag>\n<tag name="HOST_END">${ctime(end)}</tag>\n`
    tags += cred
      ? `<tag name="LastAuthenticatedResults">${Math.floor(end / 1000)}</tag>\n<tag name="Credentialed_Scan">true</tag>\n`
      : `<tag name="LastUnauthenticatedResults">${Math.floor(end / 1000)}</tag>\n<tag name="Credentialed_Scan">false</tag>\n`
    if (cred && p.outcome.status !== "none") {
      const user = escapeXml((p.outcome as { username: string }).username)
      if ((p.outcome as { protocol: string }).protocol === "ssh") {
        tags += `<tag name="local-checks-proto">ssh</tag>\n<tag name="ssh-login-used">${user}</tag>\n<tag name="ssh-auth-meth">password</tag>\n`
      } else {
        tags += `<tag name="local-checks-proto">smb</tag>\n<tag name="smb-login-used">${user}</tag>\n`
      }
    }
    tags += `<tag name="policy-used">${escapeXml(this.o.info.policyName)}</tag>\n`
    if (p.hostIp !== p.host) tags += `<tag name="host-fqdn">${name}</tag>\n`
    tags += `<tag name="host-ip">${p.hostIp}</tag>\n<tag name="HOST_START_TIMESTAMP">${
      Math.floor(start / 1000)
    }</tag>\n<tag name="HOST_START">${ctime(start)}</tag>\n`
    this.putString(`<ReportHost name="${name}"><HostProperties>\n`)
    this.putBytes(p.template.props)
    this.putString(`${tags}</HostProperties>\n`)
    for (const g of p.generated) {
      this.putString(g.xml)
      t.severityCounts[g.severity as 0]++
    }
    const hostBytes = encoder.encode(name)
    for (let j = 0; j < p.items.length; j++) {
      const it = p.items[j]!
      const port = p.ports[j]
      for (const seg of it.segments) {
        if (seg === HOST) this.putBytes(hostBytes)
        else if (seg === PORT) this.putString(port ?? it.port)
        else this.putBytes(seg)
      }
      this.putString("\n")
      t.severityCounts[it.severity as 0]++
    }
    this.putString("</ReportHost>\n")
    t.hosts++
    t.findings += p.generated.length + p.items.length
    if (cred) t.credentialedHosts++
    t.outcomes[p.outcome.status]++
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return
    this.flush()
    if (n > this.buf.length) this.buf = Buffer.allocUnsafeSlow(n)
  }

  private flush(): void {
    if (this.pos === 0) return
    this.out.push(this.buf.subarray(0, this.pos))
    this.truth.bytes += this.pos
    this.buf = this.alloc()
    this.pos = 0
  }

  private putBytes(b: Uint8Array): void {
    this.ensure(b.length)
    this.buf.set(b, this.pos)
    this.pos += b.length
  }

  private putString(s: string): void {
    if (s.length === 0) return
    // ASCII fast path: one byte per UTF-16 unit is the common case; byteLength is exact otherwise.
    const n = Buffer.byteLength(s, "utf8")
    this.ensure(n)
    this.pos += this.buf.write(s, this.pos, "utf8")
  }
}

/** A small free list of chunk buffers: `release` a chunk once its bytes have been written. */
export class BufferPool {
  private readonly free: Array<Buffer> = []
  constructor(private readonly size: number, private readonly keep = 8) {}
  readonly alloc = (): Buffer => this.free.pop() ?? Buffer.allocUnsafeSlow(this.size)
  readonly release = (chunk: Uint8Array): void => {
    // Chunks are views from offset 0 of a pooled buffer; oversize one-off buffers are left to the GC.
    if (chunk.byteOffset !== 0 || chunk.buffer.byteLength !== this.size || this.free.length >= this.keep) return
    this.free.push(Buffer.from(chunk.buffer, 0, this.size))
  }
}
