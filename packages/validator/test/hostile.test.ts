/**
 * Hostile `.nessus` input: truncated files, wrong roots, entity bombs, external entities, a million nested
 * elements, 100 MB single lines, invalid UTF-8, prototype-named elements. Each document is generated as a
 * stream into a temporary file (no large string is kept here) and parsed by `FindingsIndex.build` (what the
 * worker runs on every export) in a child process, so that its peak RSS is measured honestly: every case must
 * end with its error code (or its correct result) within a time bound and with less than 100 MB of RSS growth
 * over the child's baseline (Node + effect loaded).
 */
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { execFile } from "node:child_process"
import { createWriteStream } from "node:fs"
import { readFile } from "node:fs/promises"
import { join, resolve } from "node:path"
import { Readable } from "node:stream"
import { pipeline } from "node:stream/promises"
import { pathToFileURL } from "node:url"
import { tempDir } from "./support.js"

const packageDir = resolve(import.meta.dirname, "..")
const distIndex = pathToFileURL(join(packageDir, "dist/index.js")).href

// Plain JavaScript for the child (a .ts child would load Node's type stripper and inflate RSS).
const childSource = `
const [file, indexDir] = process.argv.slice(1)
const Effect = await import("effect/Effect")
const { FindingsIndex } = await import(${JSON.stringify(distIndex)})
const baseline = process.memoryUsage().rss
const started = performance.now()
const exit = await Effect.runPromiseExit(FindingsIndex.build(file, indexDir, { scanType: "authenticated" }))
const seconds = (performance.now() - started) / 1000
const out = { seconds, peak_rss_mb: process.resourceUsage().maxRSS / 1024, baseline_rss_mb: baseline / 1048576 }
if (exit._tag === "Success") {
  const { findings, hosts, verdict } = exit.value
  Object.assign(out, { ok: true, findings, hosts, valid: verdict.valid })
} else {
  const e = exit.cause.reasons?.find((r) => r._tag === "Fail")?.error
  Object.assign(out, e === undefined
    ? { ok: false, defect: String(exit.cause).slice(0, 500) }
    : { ok: false, reason: e.reason, message: e.message, line: e.line, column: e.column })
}
console.log(JSON.stringify(out))
`

interface Outcome {
  readonly ok: boolean
  readonly seconds: number
  readonly peak_rss_mb: number
  readonly baseline_rss_mb: number
  readonly findings?: number
  readonly hosts?: number
  readonly reason?: string
  readonly message?: string
  readonly line?: number
  readonly column?: number
  readonly defect?: string
}

/** Parses `file` in a child process with a wall-clock limit; a hang or crash fails the test. */
const buildInChild = (file: string, indexDir: string, timeoutMs: number) =>
  Effect.promise(() =>
    new Promise<Outcome>((done, reject) => {
      execFile(
        process.execPath,
        ["--input-type=module", "-e", childSource, file, indexDir],
        { cwd: packageDir, timeout: timeoutMs, maxBuffer: 1 << 20, encoding: "utf8" },
        (error, stdout, stderr) => {
          if (error) reject(new Error(`child failed (${error.signal ?? error.code}): ${stderr.slice(0, 800)}`))
          else done(JSON.parse(stdout.trim().split("\n").at(-1)!) as Outcome)
        }
      )
    })
  )

/** Streams the pieces into a file; pieces may be strings, bytes, or generators of either. */
const writeStreamed = (path: string, pieces: Iterable<string | Uint8Array>) =>
  Effect.promise(() => pipeline(Readable.from(pieces, { objectMode: false }), createWriteStream(path)))

function* repeat(piece: string | Uint8Array, times: number): Generator<string | Uint8Array> {
  // Batches of ~1 MiB so the writer sees few, large chunks.
  const size = typeof piece === "string" ? Buffer.byteLength(piece) : piece.length
  const perChunk = Math.max(1, Math.floor((1 << 20) / Math.max(1, size)))
  const chunk = typeof piece === "string" ? piece.repeat(perChunk) : Buffer.concat(Array.from({ length: perChunk }, () => piece))
  let left = times
  while (left >= perChunk) {
    yield chunk
    left -= perChunk
  }
  if (left > 0) yield typeof piece === "string" ? piece.repeat(left) : Buffer.concat(Array.from({ length: left }, () => piece))
}

const head = `<?xml version="1.0" ?>\n<NessusClientData_v2>\n<Policy><policyName>hostile</policyName></Policy>\n<Report name="hostile" xmlns:cm="http://www.nessus.org/cm">\n`
const tail = `</Report>\n</NessusClientData_v2>\n`
const hostOpen = `<ReportHost name="192.0.2.10"><HostProperties><tag name="host-ip">192.0.2.10</tag></HostProperties>\n`
const item = (id: number, children = "<description>d</description>") =>
  `<ReportItem port="22" svc_name="ssh" protocol="tcp" severity="2" pluginID="${id}" pluginName="P${id}" pluginFamily="General">${children}</ReportItem>`

const MB = 1024 * 1024
const rssLimitMb = 100

/** Runs one case: writes it, parses it in a child, checks time and memory, returns the outcome. */
const hostile = (name: string, pieces: () => Iterable<string | Uint8Array>, timeoutMs = 20_000) =>
  Effect.acquireUseRelease(
    Effect.sync(tempDir),
    ({ dir }) =>
      Effect.gen(function*() {
        const file = join(dir, `${name}.nessus`)
        yield* writeStreamed(file, pieces())
        const outcome = yield* buildInChild(file, join(dir, "index"), timeoutMs)
        assert.isUndefined(outcome.defect, `${name}: crashed instead of a ValidatorError: ${outcome.defect}`)
        const growth = outcome.peak_rss_mb - outcome.baseline_rss_mb
        assert.isBelow(growth, rssLimitMb, `${name}: RSS grew by ${growth.toFixed(0)} MB (peak ${outcome.peak_rss_mb.toFixed(0)} MB)`)
        assert.isBelow(outcome.seconds, timeoutMs / 1000)
        return outcome
      }),
    ({ dispose }) => Effect.sync(dispose)
  )

const expectError = (outcome: Outcome, reason: string, pattern?: RegExp) => {
  assert.isFalse(outcome.ok, `expected ${reason}, got success ${JSON.stringify(outcome)}`)
  assert.strictEqual(outcome.reason, reason, outcome.message)
  if (pattern !== undefined) assert.match(outcome.message ?? "", pattern)
  if (reason === "malformed_xml") {
    assert.isNumber(outcome.line, "malformed_xml names a line")
    assert.isNumber(outcome.column, "malformed_xml names a column")
  }
}

describe("hostile .nessus input (child process: bounded time, RSS growth < 100 MB)", () => {
  it.effect("a large export truncated mid-element is malformed_xml at the end of the file", () =>
    Effect.gen(function*() {
      const outcome = yield* hostile("truncated", function*() {
        yield head + hostOpen
        yield* repeat(item(10_000, `<description>${"d".repeat(200)}</description><plugin_output>out</plugin_output>`), 60_000)
        yield `<ReportItem port="22" svc_name="ssh" protocol="tcp" severity="2" pluginID="1" pluginName="cut here`
      })
      expectError(outcome, "malformed_xml")
      assert.isAbove(outcome.line!, 1)
    }), 60_000)

  it.effect("wrong roots are unsupported_format at once, however large the document", () =>
    Effect.gen(function*() {
      for (const root of ["html", "NessusClientData", "svg", "NessusClientData_v3"]) {
        const outcome = yield* hostile(`root-${root}`, function*() {
          yield `<?xml version="1.0"?>\n<${root}>`
          yield* repeat("<p>filler filler filler filler</p>\n", 500_000)
          yield `</${root}>`
        })
        expectError(outcome, "unsupported_format")
        assert.isBelow(outcome.seconds, 2, `${root}: ${outcome.seconds} s`)
      }
    }), 60_000)

  it.effect("entity bombs (billion laughs, quadratic blowup, parameter entities) are refused at the DOCTYPE", () =>
    Effect.gen(function*() {
      let laughs = `<!DOCTYPE lolz [\n<!ENTITY lol "lol">\n`
      for (let i = 1; i <= 12; i++) laughs += `<!ENTITY lol${i} "${`&lol${i - 1 || ""};`.repeat(10)}">\n`
      laughs += "]>\n"
      const bombs: ReadonlyArray<readonly [string, () => Iterable<string | Uint8Array>]> = [
        ["billion-laughs", function*() {
          yield `<?xml version="1.0"?>\n${laughs}<NessusClientData_v2><Report name="&lol12;"></Report></NessusClientData_v2>`
        }],
        ["quadratic", function*() {
          yield `<?xml version="1.0"?>\n<!DOCTYPE q [<!ENTITY a "${"a".repeat(50_000)}">]>\n<NessusClientData_v2><Report name="x">${hostOpen}<ReportItem port="0" svc_name="x" protocol="tcp" severity="0" pluginID="1" pluginName="p" pluginFamily="f"><description>`
          yield* repeat("&a;", 2_000_000)
          yield `</description></ReportItem></ReportHost></Report></NessusClientData_v2>`
        }],
        ["parameter-entity", function*() {
          yield `<?xml version="1.0"?>\n<!DOCTYPE p [<!ENTITY % pe SYSTEM "http://127.0.0.1:1/evil.dtd"> %pe;]>\n<NessusClientData_v2/>`
        }],
        ["oversized-doctype", function*() {
          yield `<?xml version="1.0"?>\n<!DOCTYPE d [<!-- `
          yield* repeat("x", 80 * MB)
          yield ` -->]>\n<NessusClientData_v2/>`
        }]
      ]
      for (const [name, pieces] of bombs) {
        const outcome = yield* hostile(name, pieces)
        expectError(outcome, "malformed_xml")
        assert.isBelow(outcome.seconds, 5, `${name}: ${outcome.seconds} s`)
      }
    }), 90_000)

  it.effect("external entities (SYSTEM, PUBLIC, file and http URLs) are refused without being fetched", () =>
    Effect.gen(function*() {
      const docs = [
        `<!DOCTYPE x SYSTEM "file:///etc/passwd"><NessusClientData_v2/>`,
        `<!DOCTYPE x PUBLIC "-//X//Y" "http://127.0.0.1:1/x.dtd"><NessusClientData_v2/>`,
        `<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><NessusClientData_v2><Report name="&xxe;"/></NessusClientData_v2>`,
        `<!DOCTYPE x [<!ENTITY xxe SYSTEM "../../../../etc/shadow">]><NessusClientData_v2><Report name="&xxe;"/></NessusClientData_v2>`,
        `<NessusClientData_v2><Report name="x">${hostOpen}${item(1, "<description>&xxe;</description>")}</ReportHost></Report></NessusClientData_v2>`
      ]
      for (const [i, doc] of docs.entries()) {
        const outcome = yield* hostile(`xxe-${i}`, () => [`<?xml version="1.0"?>\n${doc}`])
        expectError(outcome, "malformed_xml", /entit|DTD|DOCTYPE/i)
        assert.notInclude(outcome.message ?? "", "root:")
      }
    }), 60_000)

  it.effect("a million nested elements: well-formed nesting parses, unclosed nesting is malformed_xml, never a stack overflow", () =>
    Effect.gen(function*() {
      const depth = 1_000_000
      const cases: ReadonlyArray<readonly [string, () => Iterable<string | Uint8Array>]> = [
        ["nested-in-item", function*() {
          yield head + hostOpen + `<ReportItem port="0" svc_name="x" protocol="tcp" severity="0" pluginID="1" pluginName="p" pluginFamily="f">`
          yield* repeat("<a>", depth)
          yield* repeat("</a>", depth)
          yield `</ReportItem></ReportHost>${tail}`
        }],
        ["nested-in-report", function*() {
          yield head
          yield* repeat("<x>", depth)
          yield* repeat("</x>", depth)
          yield tail
        }],
        ["nested-unclosed", function*() {
          yield head + hostOpen
          yield* repeat("<ReportItem>", depth)
        }]
      ]
      const outcomes = []
      for (const [name, pieces] of cases) outcomes.push(yield* hostile(name, pieces))
      const [inItem, inReport, unclosed] = outcomes
      // Well-formed nesting inside a finding is legal XML: unknown children are skipped, the finding survives.
      assert.isTrue(inItem!.ok, JSON.stringify(inItem))
      assert.strictEqual(inItem!.findings, 1)
      assert.isTrue(inReport!.ok, JSON.stringify(inReport))
      assert.strictEqual(inReport!.findings, 0)
      expectError(unclosed!, "malformed_xml", /not closed|end of file/)
    }), 90_000)

  it.effect("100 MB on a single line: a valid export parses in flat memory; a 100 MB attribute, text value or comment is refused", () =>
    Effect.gen(function*() {
      // ~100 MB of findings without one newline.
      const one = item(20_000, `<description>${"x".repeat(150)}</description><plugin_output>o</plugin_output>`)
      const count = Math.ceil((100 * MB) / Buffer.byteLength(one))
      const valid = yield* hostile("single-line-valid", function*() {
        yield head.replace(/\n/g, "") + hostOpen.replace(/\n/g, "")
        yield* repeat(one, count)
        yield `</ReportHost>${tail.replace(/\n/g, "")}`
      }, 60_000)
      assert.isTrue(valid.ok, JSON.stringify(valid))
      assert.strictEqual(valid.findings, count)

      const attribute = yield* hostile("single-line-attribute", function*() {
        yield `${head}<ReportHost name="`
        yield* repeat("h", 100 * MB)
        yield `"></ReportHost>${tail}`
      }, 60_000)
      expectError(attribute, "malformed_xml", /MiB|too long|exceed/i)

      const output = yield* hostile("single-line-plugin-output", function*() {
        yield `${head}${hostOpen}<ReportItem port="0" svc_name="x" protocol="tcp" severity="0" pluginID="1" pluginName="p" pluginFamily="f"><plugin_output>`
        yield* repeat("o", 100 * MB)
        yield `</plugin_output></ReportItem></ReportHost>${tail}`
      }, 60_000)
      expectError(output, "malformed_xml", /plugin_output.*MiB/)

      const description = yield* hostile("single-line-description", function*() {
        yield `${head}${hostOpen}<ReportItem port="0" svc_name="x" protocol="tcp" severity="0" pluginID="1" pluginName="p" pluginFamily="f"><description>`
        yield* repeat("&amp;", 20 * MB)
        yield `</description></ReportItem></ReportHost>${tail}`
      }, 60_000)
      expectError(description, "malformed_xml", /description.*MiB/)

      const comment = yield* hostile("single-line-comment", function*() {
        yield `${head}<!--`
        yield* repeat("c", 100 * MB)
        yield `-->${tail}`
      }, 60_000)
      expectError(comment, "malformed_xml", /MiB|too long|exceed/i)

      const garbage = yield* hostile("single-line-no-markup", function*() {
        yield* repeat("A", 100 * MB)
      }, 60_000)
      expectError(garbage, "malformed_xml")
    }), 240_000)

  it.effect("invalid UTF-8 deep inside a large file is malformed_xml with its line", () =>
    Effect.gen(function*() {
      const line = `${item(30_000)}\n`
      const before = 50_000
      for (const bad of [[0xff], [0xc3, 0x28], [0xe2, 0x82], [0xed, 0xa0, 0x80], [0xf8, 0x88, 0x80, 0x80, 0x80], [0xc0, 0xaf]]) {
        const outcome = yield* hostile(`utf8-${bad.join("-")}`, function*() {
          yield head + hostOpen
          yield* repeat(line, before)
          yield `<ReportItem port="22" svc_name="ssh" protocol="tcp" severity="2" pluginID="1" pluginName="P" pluginFamily="F"><description>`
          yield new Uint8Array(bad)
          yield `</description></ReportItem></ReportHost>${tail}`
        })
        expectError(outcome, "malformed_xml", /UTF-8/)
        // head (4 lines) + host (1) + the items, each on its own line
        assert.strictEqual(outcome.line, 4 + 1 + before + 1, `bytes ${bad.join(",")}`)
      }
    }), 90_000)

  it.effect("elements named like Object.prototype members neither crash nor leak into other fields", () =>
    Effect.gen(function*() {
      const children = "<description>d</description><__proto__>p1</__proto__><__proto__>p2</__proto__><constructor>c</constructor>" +
        "<toString>t</toString><hasOwnProperty>h</hasOwnProperty><valueOf>v</valueOf>"
      const { dir, dispose } = tempDir()
      try {
        const file = join(dir, "proto.nessus")
        yield* writeStreamed(file, [head, hostOpen, item(1, children), item(2), "</ReportHost>", tail])
        const outcome = yield* buildInChild(file, join(dir, "index"), 20_000)
        assert.isTrue(outcome.ok, JSON.stringify(outcome))
        assert.strictEqual(outcome.findings, 2)
        const templates = (yield* Effect.promise(() => readFile(join(dir, "index", "templates.ndjson"), "utf8")))
          .split("\n").filter((l) => l.trim().length > 0).map((l) => JSON.parse(l) as Record<string, unknown>)
        for (const t of templates) {
          // No numeric keys from an array smuggled in as a prototype, and no stringified functions.
          assert.isFalse(Object.keys(t).some((k) => /^\d+$/.test(k)), JSON.stringify(t))
          assert.notInclude(JSON.stringify(t), "[native code]")
        }
        const first = templates.find((t) => t["plugin_id"] === 1)!
        assert.strictEqual(first["constructor"], "c")
        assert.strictEqual(first["toString"], "t")
      } finally {
        dispose()
      }
    }), 30_000)
})
