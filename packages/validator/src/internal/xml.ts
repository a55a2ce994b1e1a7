/**
 * A streaming XML tokenizer specialised for what `.nessus` exports contain: elements, attributes, text,
 * the five predefined entities and character references, CDATA, comments, processing instructions. It
 * works on decoded string chunks with `indexOf` (native, vectorised) instead of a per-character state
 * machine, keeps only the unfinished tail of the input, and captures text only for the elements the
 * handler asks for, which is what makes it several times faster than generic SAX parsers.
 *
 * Security: a DOCTYPE that declares entities or names an external DTD is refused outright, and entity
 * references other than the predefined ones are errors, so no expansion (billion laughs) and no external
 * fetch can ever happen. Memory is bounded by the largest single text node the handler captures.
 */

/** Thrown by the tokenizer; the parser turns it into a `ValidatorError` at the boundary. */
export class XmlSyntaxError extends Error {
  constructor(
    readonly detail: string,
    readonly line: number,
    readonly column: number
  ) {
    super(`${detail} (line ${line}, column ${column})`)
  }
}

/** Receives the document structure; attribute names and values are in `attrs[0..count)` as k, v, k, v. */
export interface XmlHandler {
  /** Returns true when the text content of this element is wanted in `close`. */
  open(name: string, attrs: Array<string>, count: number, depth: number): boolean
  close(name: string, text: string, depth: number): void
}

const NAME_START = new Uint8Array(128)
const NAME_CHAR = new Uint8Array(128)
for (let c = 0; c < 128; c++) {
  const ch = String.fromCharCode(c)
  if (/[A-Za-z_:]/.test(ch)) NAME_START[c] = 1
  if (/[A-Za-z0-9_:.-]/.test(ch)) NAME_CHAR[c] = 1
}
const isNameStart = (c: number): boolean => c >= 128 || NAME_START[c] === 1
const isNameChar = (c: number): boolean => c >= 128 || NAME_CHAR[c] === 1
const isSpace = (c: number): boolean => c === 32 || c === 10 || c === 9 || c === 13

const LT = 60
const GT = 62
const SLASH = 47
const BANG = 33
const QUESTION = 63

/** Unfinished markup longer than this makes the tokenizer wait for the input to double before retrying. */
const STALL = 64 * 1024
/**
 * The longest single tag, comment, CDATA section or processing instruction accepted. Buffering one costs
 * several times its size (the pending chunks, their join, the re-scan), so this bounds the parser's memory
 * on hostile input; real exports have tags of a few hundred bytes.
 */
const MAX_MARKUP = 8 * 1024 * 1024

/**
 * The longest text value of one captured element (e.g. a `plugin_output`), in characters. A captured value is
 * kept whole and copied a few times on its way into a finding and the index, so this bounds memory too; real
 * plugin outputs reach hundreds of KiB.
 */
const MAX_TEXT = 8 * 1024 * 1024

/** The largest DOCTYPE we skip; real exports have none, so anything bigger is hostile. */
const MAX_DOCTYPE = 64 * 1024

/** Decodes the predefined entities and character references; anything else is refused. */
export const decodeEntities = (s: string, where: (offset: number) => never): string => {
  // Pieces are joined once into a flat string: appending them one by one would build a rope with a node per
  // entity, which costs tens of bytes per "&amp;" until it is flattened (hundreds of MB on hostile input).
  const out: Array<string> = []
  let last = 0
  let amp = s.indexOf("&")
  while (amp !== -1) {
    const semi = s.indexOf(";", amp + 1)
    if (semi === -1 || semi - amp > 12) where(amp)
    const ref = s.slice(amp + 1, semi)
    let rep: string
    switch (ref) {
      case "lt":
        rep = "<"
        break
      case "gt":
        rep = ">"
        break
      case "amp":
        rep = "&"
        break
      case "apos":
        rep = "'"
        break
      case "quot":
        rep = "\""
        break
      default: {
        let code = Number.NaN
        if (ref.charCodeAt(0) === 35 /* # */) {
          code = ref.charCodeAt(1) === 120 /* x */
            ? (/^x[0-9A-Fa-f]+$/.test(ref.slice(1)) ? Number.parseInt(ref.slice(2), 16) : Number.NaN)
            : (/^[0-9]+$/.test(ref.slice(1)) ? Number.parseInt(ref.slice(1), 10) : Number.NaN)
        }
        if (!(code > 0 && code <= 0x10ffff) || (code >= 0xd800 && code <= 0xdfff)) where(amp)
        rep = String.fromCodePoint(code)
      }
    }
    out.push(s.slice(last, amp), rep)
    last = semi + 1
    amp = s.indexOf("&", last)
  }
  if (last === 0) return s
  out.push(s.slice(last))
  return out.join("")
}

/**
 * Push-mode tokenizer: `write` decoded chunks, then `end`. Throws `XmlSyntaxError` with a 1-based line and
 * column (columns count UTF-16 code units).
 */
export class XmlTokenizer {
  private buf = ""
  private lineBase = 0
  private colBase = 0
  private readonly names: Array<string> = []
  private depth = 0
  private rootSeen = false
  private rootClosed = false
  private captureDepth = -1
  private text = ""
  private readonly attrs: Array<string> = []
  private pending: Array<string> = []
  private pendingLength = 0
  private waitFor = 0

  constructor(private readonly handler: XmlHandler) {}

  /** Feeds the next decoded chunk. */
  write(chunk: string): void {
    if (this.waitFor > 0) {
      // A long piece of markup is still open: retry only once the input has doubled, so that re-scanning
      // it stays linear overall instead of quadratic.
      this.pending.push(chunk)
      this.pendingLength += chunk.length
      if (this.pendingLength < this.waitFor) return
      chunk = this.takePending()
    }
    this.buf = this.buf.length === 0 ? chunk : this.buf + chunk
    this.run()
    const left = this.buf.length
    if (left > MAX_MARKUP) this.fail(0, `a single piece of markup is larger than ${MAX_MARKUP >> 20} MiB; refusing to buffer it`)
    this.waitFor = left > STALL ? left : 0
  }

  /** Signals end of input; throws when the document is incomplete. */
  end(): void {
    if (this.pending.length > 0) this.buf += this.takePending()
    this.run()
    const s = this.buf
    if (this.depth > 0) {
      // Name the open elements, but not a million of them: a hostile file can nest that deep.
      const open = this.depth <= 8
        ? this.names.slice(0, this.depth).join("> <")
        : `${this.names.slice(0, 4).join("> <")}> … ${this.depth - 7} more … <${this.names.slice(this.depth - 3, this.depth).join("> <")}`
      this.fail(s.length, `unexpected end of file: <${open}> not closed (truncated file?)`)
    }
    for (let i = 0; i < s.length; i++) {
      if (!isSpace(s.charCodeAt(i))) {
        this.fail(i, s.charCodeAt(i) === LT ? "unexpected end of file inside markup (truncated file?)" : "text after the root element")
      }
    }
    if (!this.rootSeen) this.fail(s.length, "no root element (empty or truncated file)")
  }

  /** Line and column (1-based) of an offset in the current buffer. */
  position(offset: number): { line: number; column: number } {
    const s = this.buf
    let line = this.lineBase
    let lastNl = -1
    let i = s.indexOf("\n")
    while (i !== -1 && i < offset) {
      line++
      lastNl = i
      i = s.indexOf("\n", i + 1)
    }
    return { line: line + 1, column: lastNl === -1 ? this.colBase + offset + 1 : offset - lastNl }
  }

  /** Line and column of the end of everything fed so far. */
  endPosition(): { line: number; column: number } {
    return this.position(this.buf.length)
  }

  private takePending(): string {
    const joined = this.pending.join("")
    this.pending = []
    this.pendingLength = 0
    this.waitFor = 0
    return joined
  }

  private fail(offset: number, detail: string): never {
    const { column, line } = this.position(offset)
    throw new XmlSyntaxError(detail, line, column)
  }

  private discard(upTo: number): void {
    const s = this.buf
    let i = s.indexOf("\n")
    let lastNl = -1
    while (i !== -1 && i < upTo) {
      this.lineBase++
      lastNl = i
      i = s.indexOf("\n", i + 1)
    }
    this.colBase = lastNl === -1 ? this.colBase + upTo : upTo - lastNl - 1
    this.buf = s.slice(upTo)
  }

  private capture(piece: string, at: number): void {
    this.text += piece
    if (this.text.length > MAX_TEXT) {
      this.fail(at, `the text of <${this.names[this.captureDepth] ?? "?"}> is longer than ${MAX_TEXT >> 20} MiB characters; refusing to keep it`)
    }
  }

  private decode(s: string, base: number): string {
    return decodeEntities(s, (off) =>
      this.fail(
        base + off,
        "unsupported entity reference (only &lt; &gt; &amp; &apos; &quot; and character references are allowed; DTD entities are never expanded)"
      ))
  }

  private run(): void {
    const s = this.buf
    const n = s.length
    let p = 0
    while (p < n) {
      if (s.charCodeAt(p) !== LT) {
        const lt = s.indexOf("<", p)
        if (lt === -1) {
          p = this.partialText(s, p)
          break
        }
        if (this.captureDepth !== -1) {
          const t = s.slice(p, lt)
          this.capture(t.indexOf("&") === -1 ? t : this.decode(t, p), p)
        } else if (this.depth === 0) {
          for (let i = p; i < lt; i++) {
            if (!isSpace(s.charCodeAt(i))) this.fail(i, this.rootSeen ? "text after the root element" : "text before the root element")
          }
        }
        p = lt
      }
      if (p + 1 >= n) break
      const c = s.charCodeAt(p + 1)
      let next: number
      if (c === SLASH) next = this.endTag(s, p)
      else if (c === BANG) next = this.bang(s, p)
      else if (c === QUESTION) {
        const e = s.indexOf("?>", p + 2)
        next = e === -1 ? -1 : e + 2
      } else next = this.startTag(s, p)
      if (next === -1) break
      p = next
    }
    if (p > 0) this.discard(p)
  }

  /** Consumes text that runs to the end of the buffer, keeping only an unfinished entity reference. */
  private partialText(s: string, p: number): number {
    const n = s.length
    if (this.captureDepth !== -1) {
      let end = n
      const amp = s.lastIndexOf("&")
      if (amp >= p && s.indexOf(";", amp) === -1 && n - amp < 12) end = amp
      const t = s.slice(p, end)
      this.capture(t.indexOf("&") === -1 ? t : this.decode(t, p), p)
      return end
    }
    if (this.depth === 0) {
      for (let i = p; i < n; i++) {
        if (!isSpace(s.charCodeAt(i))) this.fail(i, this.rootSeen ? "text after the root element" : "text before the root element")
      }
    }
    return n
  }

  private startTag(s: string, p: number): number {
    const n = s.length
    let i = p + 1
    if (!isNameStart(s.charCodeAt(i))) this.fail(i, `invalid character '${s[i]}' after '<' (not well-formed)`)
    i++
    while (i < n && isNameChar(s.charCodeAt(i))) i++
    if (i >= n) return -1
    const name = s.slice(p + 1, i)
    const attrs = this.attrs
    let count = 0
    for (;;) {
      const ws = i
      while (i < n && isSpace(s.charCodeAt(i))) i++
      if (i >= n) return -1
      const c = s.charCodeAt(i)
      if (c === GT) {
        this.openElement(name, count, false)
        attrs.fill("", 0, count)
        return i + 1
      }
      if (c === SLASH) {
        if (i + 1 >= n) return -1
        if (s.charCodeAt(i + 1) !== GT) this.fail(i, `expected '>' after '/' in <${name}>`)
        this.openElement(name, count, true)
        attrs.fill("", 0, count)
        return i + 2
      }
      if (ws === i || !isNameStart(c)) this.fail(i, `malformed attribute in <${name}>`)
      const an = i
      i++
      while (i < n && isNameChar(s.charCodeAt(i))) i++
      const ae = i
      while (i < n && isSpace(s.charCodeAt(i))) i++
      if (i >= n) return -1
      if (s.charCodeAt(i) !== 61 /* = */) this.fail(i, `expected '=' after attribute name in <${name}>`)
      i++
      while (i < n && isSpace(s.charCodeAt(i))) i++
      if (i >= n) return -1
      const q = s.charCodeAt(i)
      if (q !== 34 && q !== 39) this.fail(i, `attribute value must be quoted in <${name}>`)
      const ve = s.indexOf(q === 34 ? "\"" : "'", i + 1)
      if (ve === -1) return -1
      let v = s.slice(i + 1, ve)
      if (v.indexOf("<") !== -1) this.fail(i + 1 + v.indexOf("<"), `'<' in an attribute value of <${name}>`)
      if (v.indexOf("&") !== -1) v = this.decode(v, i + 1)
      attrs[count++] = s.slice(an, ae)
      attrs[count++] = v
      i = ve + 1
    }
  }

  private openElement(name: string, count: number, selfClosing: boolean): void {
    if (this.depth === 0) {
      if (this.rootSeen) this.fail(0, `a second root element <${name}>`)
      this.rootSeen = true
    }
    const depth = this.depth
    this.names[depth] = name
    this.depth = depth + 1
    const want = this.handler.open(name, this.attrs, count, depth)
    if (want && this.captureDepth === -1) {
      this.captureDepth = depth
      this.text = ""
    }
    if (selfClosing) this.closeElement(name)
  }

  private closeElement(name: string): void {
    const depth = --this.depth
    let text = ""
    if (this.captureDepth === depth) {
      text = this.text
      this.text = ""
      this.captureDepth = -1
    }
    this.handler.close(name, text, depth)
    this.names[depth] = ""
    if (depth === 0) this.rootClosed = true
  }

  private endTag(s: string, p: number): number {
    const gt = s.indexOf(">", p + 2)
    if (gt === -1) return -1
    if (this.depth === 0) this.fail(p, "closing tag without an open element")
    const expected = this.names[this.depth - 1]!
    let e = p + 2 + expected.length
    if (!s.startsWith(expected, p + 2) || (e < gt && !isSpace(s.charCodeAt(e)))) {
      let nameEnd = p + 2
      while (nameEnd < gt && !isSpace(s.charCodeAt(nameEnd))) nameEnd++
      this.fail(p, `mismatched tag: expected </${expected}>, found </${s.slice(p + 2, nameEnd)}>`)
    }
    while (e < gt) {
      if (!isSpace(s.charCodeAt(e))) this.fail(e, `malformed closing tag </${expected}>`)
      e++
    }
    this.closeElement(expected)
    return gt + 1
  }

  private bang(s: string, p: number): number {
    if (s.startsWith("<!--", p)) {
      const e = s.indexOf("-->", p + 4)
      return e === -1 ? -1 : e + 3
    }
    if (s.startsWith("<![CDATA[", p)) {
      if (this.depth === 0) this.fail(p, "CDATA section outside the root element")
      const e = s.indexOf("]]>", p + 9)
      if (e === -1) return -1
      if (this.captureDepth !== -1) this.capture(s.slice(p + 9, e), p)
      return e + 3
    }
    if (s.length - p < 9) return -1
    if (s.startsWith("<!DOCTYPE", p)) return this.doctype(s, p)
    return this.fail(p, "unexpected '<!' markup")
  }

  private doctype(s: string, p: number): number {
    if (this.rootSeen) this.fail(p, "DOCTYPE after the root element")
    const limit = Math.min(s.length, p + MAX_DOCTYPE)
    let i = p + 9
    let inSubset = false
    let quote = 0
    for (; i < limit; i++) {
      const c = s.charCodeAt(i)
      if (quote !== 0) {
        if (c === quote) quote = 0
      } else if (c === 34 || c === 39) quote = c
      else if (c === 91 /* [ */) inSubset = true
      else if (c === 93 /* ] */) inSubset = false
      else if (c === GT && !inSubset) break
    }
    if (i >= limit) {
      if (limit - p >= MAX_DOCTYPE) this.fail(p, "DOCTYPE larger than 64 KiB refused (.nessus exports have no DOCTYPE)")
      return -1
    }
    const decl = s.slice(p, i + 1)
    if (/<!ENTITY/i.test(decl)) {
      this.fail(p, "DOCTYPE declares entities; entity declarations are refused and never expanded (.nessus exports have no DOCTYPE)")
    }
    if (/\b(SYSTEM|PUBLIC)\b/.test(decl.replace(/\[[\s\S]*\]/, ""))) {
      this.fail(p, "DOCTYPE names an external DTD; external entities are never fetched (.nessus exports have no DOCTYPE)")
    }
    return i + 1
  }

  /** True once the root element has been closed. */
  get done(): boolean {
    return this.rootClosed
  }
}
