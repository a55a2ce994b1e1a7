/**
 * Drives the reader from bytes: strict UTF-8 decoding chunk by chunk (invalid sequences are located and
 * reported with line and column), file reading into one reused buffer (flat memory), and the translation
 * of internal failures into `ValidatorError`.
 */
import { closeSync, openSync, readSync } from "node:fs"
import { open } from "node:fs/promises"
import { ValidatorError } from "../ValidatorError.js"
import type { ReportEvent } from "./model.js"
import { eventSink, FormatError, NessusReader, type Sink } from "./nessus.js"
import { XmlSyntaxError } from "./xml.js"

/** Bytes read per `read` call; large enough to amortise per-chunk costs, small enough to stay flat. */
export const CHUNK_SIZE = 256 * 1024

/** Bytes decoded into one string at a time. */
const DECODE_SLICE = 8 * 1024

/** Offset of the first invalid UTF-8 sequence in `bytes` (or `bytes.length` when only a tail is incomplete). */
const firstInvalidUtf8 = (bytes: Uint8Array): number => {
  let i = 0
  const n = bytes.length
  while (i < n) {
    const b = bytes[i]!
    let need: number
    if (b < 0x80) {
      i++
      continue
    } else if (b >= 0xc2 && b <= 0xdf) need = 1
    else if (b >= 0xe0 && b <= 0xef) need = 2
    else if (b >= 0xf0 && b <= 0xf4) need = 3
    else return i
    if (i + need >= n) return n
    for (let k = 1; k <= need; k++) if ((bytes[i + k]! & 0xc0) !== 0x80) return i
    // Overlong forms (E0 80-9F, F0 80-8F), UTF-16 surrogates (ED A0-BF) and code points above U+10FFFF (F4 90-BF)
    // have valid continuation bytes but are refused by the decoder: locate them here too.
    const second = bytes[i + 1]!
    if ((b === 0xe0 && second < 0xa0) || (b === 0xed && second > 0x9f) || (b === 0xf0 && second < 0x90) || (b === 0xf4 && second > 0x8f)) return i
    i += need + 1
  }
  return n
}

/** Push-mode parser over bytes: `push` chunks, then `finish`. Throws `ValidatorError`. */
export class ByteParser {
  private decoder = new TextDecoder("utf-8", { fatal: true })
  private readonly reader: NessusReader
  private bytes = 0

  constructor(
    sink: Sink,
    private readonly path?: string
  ) {
    this.reader = new NessusReader(sink)
  }

  /** Total bytes pushed so far. */
  get size(): number {
    return this.bytes
  }

  push(chunk: Uint8Array): void {
    // Decoded pieces stay below V8's large-object threshold so they die young in the scavenger instead
    // of piling up in large-object space until a full GC (that is what keeps RSS flat).
    for (let at = 0; at < chunk.length; at += DECODE_SLICE) this.pushSlice(chunk.subarray(at, at + DECODE_SLICE))
  }

  private pushSlice(chunk: Uint8Array): void {
    this.bytes += chunk.length
    let text: string
    try {
      text = this.decoder.decode(chunk, { stream: true })
    } catch {
      this.guard(() => this.invalidUtf8(chunk))
      return
    }
    this.guard(() => this.reader.write(text))
  }

  finish(): void {
    let tail: string
    try {
      tail = this.decoder.decode()
    } catch {
      const { column, line } = this.reader.endPosition()
      throw this.malformed("invalid UTF-8: the file ends inside a multi-byte character (truncated file?)", line, column)
    }
    this.guard(() => {
      if (tail.length > 0) this.reader.write(tail)
      this.reader.end()
    })
  }

  private invalidUtf8(chunk: Uint8Array): void {
    const at = firstInvalidUtf8(chunk)
    this.decoder = new TextDecoder("utf-8", { fatal: true })
    this.reader.write(new TextDecoder("utf-8").decode(chunk.subarray(0, at)))
    const { column, line } = this.reader.endPosition()
    throw this.malformed(`invalid UTF-8 byte sequence (byte offset ${this.bytes - chunk.length + at})`, line, column)
  }

  private malformed(detail: string, line: number, column: number): ValidatorError {
    return new ValidatorError({
      reason: "malformed_xml",
      message: `${this.where()}is not well-formed XML at line ${line}, column ${column}: ${detail}. Re-export the scan; the file is damaged or was cut short.`,
      line,
      column,
      ...(this.path === undefined ? {} : { path: this.path })
    })
  }

  private where(): string {
    return this.path === undefined ? "the .nessus document " : `${this.path} `
  }

  private guard(f: () => void): void {
    try {
      f()
    } catch (e) {
      throw this.translate(e)
    }
  }

  private translate(e: unknown): unknown {
    if (e instanceof XmlSyntaxError) return this.malformed(e.detail, e.line, e.column)
    if (e instanceof FormatError) {
      return new ValidatorError({
        reason: "unsupported_format",
        message: `${this.where()}is not a supported .nessus export: ${e.detail}.`,
        ...(this.path === undefined ? {} : { path: this.path })
      })
    }
    return e
  }
}

/** Maps a Node fs error to `file_unreadable` with a message that names the file and the cause. */
export const unreadable = (path: string, cause: unknown): ValidatorError => {
  const code = (cause as { code?: string } | undefined)?.code
  const why = code === "ENOENT"
    ? "no such file"
    : code === "EISDIR"
    ? "it is a directory"
    : code === "EACCES" || code === "EPERM"
    ? "permission denied"
    : String((cause as Error | undefined)?.message ?? cause)
  return new ValidatorError({
    reason: "file_unreadable",
    message: `cannot read ${path}: ${why}. Check the path and that the export finished downloading.`,
    path
  })
}

/**
 * Parses a file, calling `emit` for every event; resolves with the file size. Rejects with `ValidatorError`.
 * Reads through one reused buffer, so memory does not grow with the file.
 */
export const parseFile = async (path: string, sink: Sink): Promise<number> => {
  let fd: number
  try {
    fd = openSync(path, "r")
  } catch (e) {
    throw unreadable(path, e)
  }
  try {
    const parser = new ByteParser(sink, path)
    const buffer = Buffer.allocUnsafe(CHUNK_SIZE)
    for (;;) {
      let bytesRead: number
      try {
        // Synchronous reads of page-cache-sized chunks cost microseconds and avoid a libuv threadpool
        // round trip per chunk (which stalls the parse when the machine is busy); the event loop still
        // gets a turn after every chunk.
        bytesRead = readSync(fd, buffer, 0, CHUNK_SIZE, null)
      } catch (e) {
        throw unreadable(path, e)
      }
      if (bytesRead === 0) break
      parser.push(buffer.subarray(0, bytesRead))
      await yieldToEventLoop()
    }
    parser.finish()
    return parser.size
  } finally {
    closeSync(fd)
  }
}

const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

/** Async iterator of event batches (one array per chunk read), for streaming consumers. */
export async function* fileBatches(path: string): AsyncGenerator<Array<ReportEvent>> {
  let fh
  try {
    fh = await open(path, "r")
  } catch (e) {
    throw unreadable(path, e)
  }
  try {
    let batch: Array<ReportEvent> = []
    const parser = new ByteParser(eventSink((e) => batch.push(e)), path)
    const buffer = Buffer.allocUnsafe(CHUNK_SIZE)
    for (;;) {
      let bytesRead: number
      try {
        bytesRead = (await fh.read(buffer, 0, CHUNK_SIZE, null)).bytesRead
      } catch (e) {
        throw unreadable(path, e)
      }
      if (bytesRead === 0) break
      parser.push(buffer.subarray(0, bytesRead))
      if (batch.length > 0) {
        yield batch
        batch = []
      }
    }
    parser.finish()
    if (batch.length > 0) yield batch
  } finally {
    await fh.close()
  }
}
