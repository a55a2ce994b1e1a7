/**
 * The on-disk findings index. Layout of an index directory (format version 1):
 *
 * - `meta.json`: format/version, source file (path, size, mtime), counts, verdict, scan metadata, and the
 *   protocol/service dictionaries.
 * - `findings.bin`: one 32-byte little-endian row per finding, in document order:
 *   template u32 | host u32 | port u32 | severity u8 | protocol u8 | service u16 | output offset f64 |
 *   output length u32 | reserved u32.
 * - `templates.ndjson` + `templates.idx` (f64 byte offsets, n+1): the plugin-level fields shared by the
 *   findings of one plugin (name, family, description, solution, cve, scores, …), stored once. A finding
 *   whose plugin-level fields match none of its plugin's 8 most recent templates (compliance items) gets a
 *   new one.
 * - `outputs.txt`: each finding's `plugin_output`, raw UTF-8, addressed from its row.
 * - `hosts.json`: name, ip, fqdn, os per host (rows point here).
 *
 * Filters on host, severity, port, protocol and service run on the rows; filters on plugin-level fields
 * run once per template (cached); only `plugin_output` filters read outputs. A page then reads its
 * few templates and outputs by offset, so serving a page never re-parses the XML.
 */
import { closeSync, fstatSync, mkdirSync, openSync, readFileSync, readSync, renameSync, rmSync, statSync, writeFileSync, writeSync } from "node:fs"
import { dirname } from "node:path"
import type { ScanType } from "../Authentication.js"
import type { Page, ResolvedSelection, Selection } from "../Findings.js"
import { resolveSelectionUnsafe } from "../Findings.js"
import { ValidatorError } from "../ValidatorError.js"
import { type Compiled, compileFilters, type Filters, type HostKey } from "./filters.js"
import type { FieldValue, Host, ScanMetadata } from "./model.js"
import { emptyMeta, materialize, type RawItem, rawField, setField, type Sink } from "./nessus.js"
import { parseFile, unreadable } from "./parse.js"
import { type Verdict, VerdictBuilder } from "./verdict.js"

/** Format name and version written to `meta.json`. */
export const FORMAT = "nessus-mcp-findings-index"
export const VERSION = 1
const ROW = 32
const BLOCK_ROWS = 32768
const FLUSH = 1 << 20
/** Recent templates compared per plugin: findings of one plugin often alternate between a few variants. */
const TEMPLATES_PER_PLUGIN = 8

/** Fields stored per finding (rows/outputs) rather than in the plugin template. */
const PER_FINDING = new Set(["host", "severity", "port", "protocol", "svc_name", "plugin_output"])

/** What `build` reports. */
export interface BuildSummary {
  readonly index_dir: string
  readonly verdict: Verdict
  readonly metadata: ScanMetadata
  readonly hosts: number
  readonly findings: number
  readonly templates: number
  readonly index_bytes: number
}

/** Contents of `meta.json`. */
export interface IndexMeta {
  readonly format: string
  readonly version: number
  readonly id: string
  readonly created_at: string
  readonly source: { readonly path: string; readonly size: number; readonly mtime_ms: number }
  readonly scan_type: ScanType
  readonly hosts: number
  readonly findings: number
  readonly templates: number
  readonly protocols: ReadonlyArray<string>
  readonly services: ReadonlyArray<string>
  readonly metadata: ScanMetadata
  readonly verdict: Verdict
}

type Template = Record<string, FieldValue>

/** A template's raw identity: the plugin-level attributes and child texts, copied off the input. */
interface RawTemplate {
  readonly idx: number
  readonly pluginName: string
  readonly family: string
  readonly names: ReadonlyArray<string>
  readonly values: ReadonlyArray<string>
}

// Round-tripping through JSON gives flat copies, so a kept template does not pin the parser's chunks.
const rawCopy = (raw: RawItem, idx: number): RawTemplate => {
  const names: Array<string> = []
  const values: Array<string> = []
  for (let i = 0; i < raw.count; i++) {
    if (raw.names[i] === "plugin_output") continue
    names.push(raw.names[i]!)
    values.push(raw.values[i]!)
  }
  const [pluginName, family] = JSON.parse(JSON.stringify([raw.pluginName, raw.family])) as [string, string]
  return { idx, pluginName, family, names: JSON.parse(JSON.stringify(names)), values: JSON.parse(JSON.stringify(values)) }
}

const sameTemplate = (t: RawTemplate, raw: RawItem): boolean => {
  if (t.pluginName !== raw.pluginName || t.family !== raw.family) return false
  let j = 0
  for (let i = 0; i < raw.count; i++) {
    const name = raw.names[i]!
    if (name === "plugin_output") continue
    if (t.names[j] !== name || t.values[j] !== raw.values[i]) return false
    j++
  }
  return j === t.names.length
}

const writeFailed = (dir: string, e: unknown): ValidatorError =>
  new ValidatorError({
    reason: "index_write_failed",
    message: `cannot write the findings index in ${dir}: ${(e as Error)?.message ?? String(e)}. Check free disk space and permissions.`,
    path: dir
  })

/**
 * Appends text to a file through one reused off-heap buffer: copying right away (instead of keeping
 * the strings until a flush) lets the parser's input chunks die young, which keeps the heap small.
 */
class Writer {
  readonly fd: number
  private readonly block = Buffer.allocUnsafe(FLUSH)
  private used = 0
  offset = 0

  constructor(path: string) {
    this.fd = openSync(path, "w")
  }

  /** Appends text; returns its byte length. */
  append(s: string): number {
    if (s.length * 3 > FLUSH - this.used) {
      this.flush()
      if (s.length * 3 > FLUSH) {
        const b = Buffer.from(s)
        writeSync(this.fd, b)
        this.offset += b.length
        return b.length
      }
    }
    const n = this.block.write(s, this.used)
    this.used += n
    this.offset += n
    return n
  }

  flush(): void {
    if (this.used > 0) writeSync(this.fd, this.block, 0, this.used)
    this.used = 0
  }

  close(): void {
    this.flush()
    closeSync(this.fd)
  }
}

/** Parses the export once and writes the index (into a temporary directory, renamed at the end). */
export const buildIndex = async (nessusPath: string, indexDir: string, scanType: ScanType): Promise<BuildSummary> => {
  let source: { size: number; mtimeMs: number }
  try {
    const st = statSync(nessusPath)
    source = st
    if (st.isDirectory()) throw Object.assign(new Error("is a directory"), { code: "EISDIR" })
  } catch (e) {
    throw unreadable(nessusPath, e)
  }
  const tmp = `${indexDir}.tmp-${process.pid}-${Date.now()}`
  let rowsFd: number
  let templates: Writer
  let outputs: Writer
  try {
    mkdirSync(dirname(indexDir), { recursive: true })
    mkdirSync(tmp, { recursive: true })
    rowsFd = openSync(`${tmp}/findings.bin`, "w")
    templates = new Writer(`${tmp}/templates.ndjson`)
    outputs = new Writer(`${tmp}/outputs.txt`)
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true })
    throw writeFailed(indexDir, e)
  }
  const block = Buffer.alloc(BLOCK_ROWS * ROW)
  let inBlock = 0
  const templateOffsets: Array<number> = [0]
  const last = new Map<number, Array<RawTemplate>>()
  const hosts: Array<{ name: string; ip: string | null; fqdn: string | null; os: string | null }> = []
  const protocols = new Map<string, number>()
  const services = new Map<string, number>()
  let hostIdx = -1
  let findings = 0
  let metadata: ScanMetadata | null = null
  const verdict = new VerdictBuilder(scanType)

  const code = (dict: Map<string, number>, v: string, max: number): number => {
    let c = dict.get(v)
    if (c === undefined) {
      c = dict.size < max ? dict.size : max
      if (c < max) dict.set(v, c)
    }
    return c
  }

  const flushRows = () => {
    if (inBlock > 0) writeSync(rowsFd, block, 0, inBlock * ROW)
    inBlock = 0
  }

  const sink: Sink = {
    event(e) {
      verdict.event(e)
      if (e._tag === "HostStarted") {
        const h: Host = e.host
        hosts.push({ name: h.name, ip: h.ip, fqdn: h.fqdn, os: h.os })
        hostIdx = hosts.length - 1
      } else if (e._tag === "ScanEnded") metadata = e.metadata
    },
    item(raw) {
      verdict.item(raw)
      let recent = last.get(raw.pluginId)
      if (recent === undefined) {
        recent = []
        last.set(raw.pluginId, recent)
      }
      let tpl = -1
      for (let k = 0; k < recent.length; k++) {
        const t = recent[k]!
        if (sameTemplate(t, raw)) {
          tpl = t.idx
          if (k > 0) {
            recent.splice(k, 1)
            recent.unshift(t)
          }
          break
        }
      }
      if (tpl === -1) {
        const fields: Record<string, FieldValue> = {}
        const f = materialize(raw)
        for (const k of Object.keys(f)) if (!PER_FINDING.has(k)) setField(fields, k, f[k])
        const line = JSON.stringify(fields)
        templates.append(line + "\n")
        templateOffsets.push(templates.offset)
        tpl = templateOffsets.length - 2
        recent.unshift(rawCopy(raw, tpl))
        if (recent.length > TEMPLATES_PER_PLUGIN) recent.pop()
      }
      let outOffset = 0
      let outLength = 0
      const out = rawField(raw, "plugin_output")
      if (out !== undefined) {
        outOffset = outputs.offset
        outLength = outputs.append(out)
      }
      const base = inBlock * ROW
      block.writeUInt32LE(tpl, base)
      block.writeUInt32LE(hostIdx < 0 ? 0 : hostIdx, base + 4)
      block.writeUInt32LE(raw.port >>> 0, base + 8)
      block.writeUInt8(raw.severity & 0xff, base + 12)
      block.writeUInt8(code(protocols, raw.protocol, 255), base + 13)
      block.writeUInt16LE(code(services, raw.svc, 65535), base + 14)
      block.writeDoubleLE(outOffset, base + 16)
      block.writeUInt32LE(outLength, base + 24)
      findings++
      if (++inBlock === BLOCK_ROWS) flushRows()
    }
  }

  let size: number
  try {
    size = await parseFile(nessusPath, sink)
  } catch (e) {
    try {
      closeSync(rowsFd)
      templates.close()
      outputs.close()
    } finally {
      rmSync(tmp, { recursive: true, force: true })
    }
    throw e
  }
  try {
    flushRows()
    closeSync(rowsFd)
    templates.close()
    outputs.close()
    writeFileSync(`${tmp}/templates.idx`, new Uint8Array(new Float64Array(templateOffsets).buffer))
    writeFileSync(`${tmp}/hosts.json`, JSON.stringify(hosts))
    const v = verdict.finish(size)
    const meta: IndexMeta = {
      format: FORMAT,
      version: VERSION,
      id: `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}`,
      created_at: new Date().toISOString(),
      source: { path: nessusPath, size: source.size, mtime_ms: source.mtimeMs },
      scan_type: scanType,
      hosts: hosts.length,
      findings,
      templates: templateOffsets.length - 1,
      protocols: [...protocols.keys()],
      services: [...services.keys()],
      metadata: metadata ?? emptyMetadata,
      verdict: v
    }
    writeFileSync(`${tmp}/meta.json`, JSON.stringify(meta))
    rmSync(indexDir, { recursive: true, force: true })
    renameSync(tmp, indexDir)
    let bytes = 0
    for (const f of ["meta.json", "findings.bin", "templates.ndjson", "templates.idx", "outputs.txt", "hosts.json"]) {
      bytes += statSync(`${indexDir}/${f}`).size
    }
    handles.delete(indexDir)
    return {
      index_dir: indexDir,
      verdict: v,
      metadata: meta.metadata,
      hosts: hosts.length,
      findings,
      templates: meta.templates,
      index_bytes: bytes
    }
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true })
    throw writeFailed(indexDir, e)
  }
}

const emptyMetadata: ScanMetadata = { report_name: null, policy_name: null, ...emptyMeta }

// ---------------------------------------------------------------------------------------------------
// Reading

/** A query for one page. */
export interface Query extends Selection {
  readonly filters?: Filters | undefined
  /** Findings per page, 1…1000 (default 40). */
  readonly page_size?: number | undefined
  /** Opaque cursor from a previous page's `next_cursor`. */
  readonly cursor?: string | undefined
  /** 1-based page number (alternative to `cursor`). */
  readonly page?: number | undefined
}

interface Handle {
  readonly dir: string
  readonly meta: IndexMeta
  readonly rows: Buffer
  readonly hosts: ReadonlyArray<HostKey & { os: string | null }>
  readonly templateOffsets: Float64Array
  readonly templateCache: Map<number, Template>
  readonly stamp: number
}

const handles = new Map<string, Handle>()
const MAX_HANDLES = 8
const MAX_CACHED_TEMPLATES = 20000
const WINDOW = 4 << 20

const unreadableIndex = (dir: string, why: string): ValidatorError =>
  new ValidatorError({
    reason: "index_unreadable",
    message: `the findings index in ${dir} cannot be used: ${why}. Build it again with FindingsIndex.build.`,
    path: dir
  })

/** Opens (or reuses from a small in-process cache) the index in `dir`. */
export const openIndex = (dir: string): Handle => {
  let stamp: number
  try {
    stamp = statSync(`${dir}/meta.json`).mtimeMs
  } catch {
    throw unreadableIndex(dir, "meta.json is missing (no index here)")
  }
  const cached = handles.get(dir)
  if (cached !== undefined && cached.stamp === stamp) {
    handles.delete(dir)
    handles.set(dir, cached)
    return cached
  }
  try {
    const meta = JSON.parse(readFileSync(`${dir}/meta.json`, "utf8")) as IndexMeta
    if (meta.format !== FORMAT || meta.version !== VERSION) {
      throw unreadableIndex(dir, `format ${meta.format} v${meta.version} is not ${FORMAT} v${VERSION}`)
    }
    const rows = readFileSync(`${dir}/findings.bin`)
    const idx = readFileSync(`${dir}/templates.idx`)
    const templateOffsets = new Float64Array(idx.buffer.slice(idx.byteOffset, idx.byteOffset + idx.byteLength))
    const hosts = JSON.parse(readFileSync(`${dir}/hosts.json`, "utf8")) as Handle["hosts"]
    if (rows.length !== meta.findings * ROW || templateOffsets.length !== meta.templates + 1 || hosts.length !== meta.hosts) {
      throw unreadableIndex(dir, "its files do not match meta.json (damaged or partially copied)")
    }
    const handle: Handle = { dir, meta, rows, hosts, templateOffsets, templateCache: new Map(), stamp }
    handles.set(dir, handle)
    if (handles.size > MAX_HANDLES) handles.delete(handles.keys().next().value!)
    return handle
  } catch (e) {
    if (e instanceof ValidatorError) throw e
    throw unreadableIndex(dir, (e as Error)?.message ?? String(e))
  }
}

class Reader {
  private tplFd = -1
  private outFd = -1
  private outSize = 0
  private win = Buffer.alloc(0)
  private winStart = 0
  private winLength = 0

  constructor(private readonly h: Handle) {}

  template(i: number): Template {
    const cached = this.h.templateCache.get(i)
    if (cached !== undefined) return cached
    if (this.tplFd === -1) this.tplFd = openSync(`${this.h.dir}/templates.ndjson`, "r")
    const start = this.h.templateOffsets[i]!
    const length = this.h.templateOffsets[i + 1]! - start
    const buf = Buffer.allocUnsafe(length)
    readSync(this.tplFd, buf, 0, length, start)
    const t = JSON.parse(buf.toString("utf8")) as Template
    if (this.h.templateCache.size >= MAX_CACHED_TEMPLATES) this.h.templateCache.clear()
    this.h.templateCache.set(i, t)
    return t
  }

  /** Reads an output; a 4 MiB window makes the sequential scans of output filters cheap. */
  output(offset: number, length: number): string {
    if (this.outFd === -1) {
      this.outFd = openSync(`${this.h.dir}/outputs.txt`, "r")
      this.outSize = fstatSync(this.outFd).size
    }
    if (offset + length > this.outSize) throw unreadableIndex(this.h.dir, "outputs.txt is truncated")
    if (offset < this.winStart || offset + length > this.winStart + this.winLength) {
      const size = Math.max(WINDOW, length)
      if (this.win.length < size) this.win = Buffer.allocUnsafe(size)
      this.winStart = offset
      this.winLength = readSync(this.outFd, this.win, 0, Math.min(size, this.outSize - offset), offset)
    }
    return this.win.toString("utf8", offset - this.winStart, offset - this.winStart + length)
  }

  close(): void {
    if (this.tplFd !== -1) closeSync(this.tplFd)
    if (this.outFd !== -1) closeSync(this.outFd)
  }
}

const invalidQuery = (message: string): ValidatorError => new ValidatorError({ reason: "invalid_query", message })

const hashText = (s: string): string => {
  let h = 0x811c9dc5
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193)
  return (h >>> 0).toString(36)
}

const encodeCursor = (c: { m: number; h: string }): string => Buffer.from(JSON.stringify({ v: 1, ...c })).toString("base64url")

const decodeCursor = (cursor: string, expectedHash: string): number => {
  let c: { v?: unknown; m?: unknown; h?: unknown }
  try {
    c = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")) as typeof c
  } catch {
    throw invalidQuery("the cursor is not valid; pass next_cursor from the previous page unchanged")
  }
  if (c?.v !== 1 || typeof c.m !== "number" || !Number.isInteger(c.m) || c.m < 0) {
    throw invalidQuery("the cursor is not valid; pass next_cursor from the previous page unchanged")
  }
  if (c.h !== expectedHash) {
    throw invalidQuery("the cursor belongs to another query or index; keep the same filters and page_size when paging, or start again without a cursor")
  }
  return c.m
}

/** Serves one page from an index. Throws `ValidatorError`. */
export const queryIndex = (dir: string, q: Query): Page => {
  const sel: ResolvedSelection = resolveSelectionUnsafe(q)
  const compiled = compileFilters(q.filters)
  const pageSize = q.page_size ?? 40
  if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > 1000) {
    throw invalidQuery(`page_size must be an integer from 1 to 1000 (got ${JSON.stringify(q.page_size)})`)
  }
  if (q.cursor !== undefined && q.page !== undefined) throw invalidQuery("give either cursor or page, not both")
  if (q.page !== undefined && (!Number.isInteger(q.page) || q.page < 1)) {
    throw invalidQuery(`page must be an integer >= 1 (got ${JSON.stringify(q.page)})`)
  }
  const h = openIndex(dir)
  const hash = hashText(`${h.meta.id}|${pageSize}|${JSON.stringify(q.filters ?? {})}`)
  const start = q.cursor !== undefined ? decodeCursor(q.cursor, hash) : ((q.page ?? 1) - 1) * pageSize

  const reader = new Reader(h)
  try {
    const hostOk = new Uint8Array(h.hosts.length).fill(1)
    const protocolOk = new Uint8Array(256).fill(1)
    const serviceOk = new Uint8Array(65536).fill(1)
    const rowTests: Array<(row: number) => boolean> = []
    const templateTests: Array<Extract<Compiled, { scope: "field" }>> = []
    const outputTests: Array<Extract<Compiled, { scope: "field" }>> = []
    const rows = h.rows
    for (const c of compiled) {
      if (c.scope === "host") {
        for (let i = 0; i < h.hosts.length; i++) if (!c.test(h.hosts[i]!)) hostOk[i] = 0
      } else if (c.field === "protocol") {
        h.meta.protocols.forEach((p, i) => {
          if (!c.test(p)) protocolOk[i] = 0
        })
      } else if (c.field === "svc_name") {
        h.meta.services.forEach((p, i) => {
          if (!c.test(p)) serviceOk[i] = 0
        })
      } else if (c.field === "severity") rowTests.push((r) => c.test(rows.readUInt8(r + 12)))
      else if (c.field === "port") rowTests.push((r) => c.test(rows.readUInt32LE(r + 8)))
      else if (c.field === "plugin_output") outputTests.push(c)
      else templateTests.push(c)
    }
    const templateOk = new Int8Array(h.meta.templates)
    const templateMatches = (t: number): boolean => {
      const known = templateOk[t]!
      if (known !== 0) return known === 1
      const tpl = reader.template(t)
      let ok = true
      for (const c of templateTests) {
        if (!c.test(Object.hasOwn(tpl, c.field) ? tpl[c.field] : undefined)) {
          ok = false
          break
        }
      }
      templateOk[t] = ok ? 1 : -1
      return ok
    }
    const picked: Array<number> = []
    let total = 0
    const n = h.meta.findings
    for (let i = 0; i < n; i++) {
      const r = i * ROW
      if (hostOk[rows.readUInt32LE(r + 4)] !== 1) continue
      if (protocolOk[rows.readUInt8(r + 13)] !== 1 || serviceOk[rows.readUInt16LE(r + 14)] !== 1) continue
      let ok = true
      for (const t of rowTests) {
        if (!t(r)) {
          ok = false
          break
        }
      }
      if (!ok) continue
      if (templateTests.length > 0 && !templateMatches(rows.readUInt32LE(r))) continue
      if (outputTests.length > 0) {
        const len = rows.readUInt32LE(r + 24)
        const out = len === 0 ? undefined : reader.output(rows.readDoubleLE(r + 16), len)
        if (!outputTests.every((c) => c.test(out))) continue
      }
      if (total >= start && total < start + pageSize) picked.push(r)
      total++
    }
    const totalPages = Math.max(1, Math.ceil(total / pageSize))
    if (q.page !== undefined && q.page > totalPages) {
      throw invalidQuery(`page ${q.page} is past the last page (${totalPages}) for ${total} matching findings`)
    }
    const wantsOutput = sel.fields === null || sel.fields.includes("plugin_output")
    const findings = picked.map((r) => {
      const tpl = reader.template(rows.readUInt32LE(r))
      const host = h.hosts[rows.readUInt32LE(r + 4)]
      const full: Record<string, FieldValue> = {
        host: host?.name ?? "",
        plugin_id: tpl["plugin_id"] ?? 0,
        plugin_name: tpl["plugin_name"] ?? "",
        plugin_family: tpl["plugin_family"] ?? "",
        severity: rows.readUInt8(r + 12),
        port: rows.readUInt32LE(r + 8),
        protocol: h.meta.protocols[rows.readUInt8(r + 13)] ?? "",
        svc_name: h.meta.services[rows.readUInt16LE(r + 14)] ?? ""
      }
      for (const k of Object.keys(tpl)) if (!Object.hasOwn(full, k)) setField(full, k, tpl[k])
      const len = rows.readUInt32LE(r + 24)
      if (wantsOutput && len > 0) full["plugin_output"] = reader.output(rows.readDoubleLE(r + 16), len)
      if (sel.fields === null) return full
      const out: Record<string, FieldValue> = {}
      for (const k of sel.fields) {
        // Own fields only: a requested field named "constructor" must not pick up Object.prototype's.
        const v = Object.hasOwn(full, k) ? full[k] : undefined
        if (v !== undefined) out[k] = v
      }
      return out
    })
    return {
      profile: sel.profile,
      fields: sel.fields,
      filters_applied: q.filters ?? {},
      total,
      page: Math.floor(start / pageSize) + 1,
      page_size: pageSize,
      total_pages: totalPages,
      findings,
      next_cursor: start + pageSize < total ? encodeCursor({ m: start + pageSize, h: hash }) : null
    }
  } finally {
    reader.close()
  }
}
