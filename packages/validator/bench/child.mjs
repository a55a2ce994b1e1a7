/**
 * One measurement in its own process (so peak RSS is honest): `node bench/child.mjs <mode> <file> [indexDir]`
 * prints one JSON line. Modes: `validator` (parse + verdict + index, the package's public API),
 * `fast-xml-parser` (whole document), `read` (plain read of the file). Plain JavaScript on purpose:
 * running a .ts file loads Node's type stripper, which adds ~20 MB of RSS to the measurement.
 */
import { readFileSync } from "node:fs"
import { open, rm } from "node:fs/promises"

const [mode, file, indexDir] = process.argv.slice(2)
const baseline = process.memoryUsage().rss
const started = performance.now()
const cpuStart = process.cpuUsage()
let bytes = 0
let findings = 0
let hosts = 0

if (mode === "validator") {
  const Effect = await import("effect/Effect")
  const { FindingsIndex } = await import("../dist/index.js")
  const dir = indexDir ?? `${file}.index`
  const built = await Effect.runPromise(FindingsIndex.build(file, dir, { scanType: "authenticated" }))
  bytes = built.verdict.stats.file_size_bytes
  findings = built.findings
  hosts = built.hosts
  if (indexDir === undefined) await rm(dir, { recursive: true, force: true })
} else if (mode === "fast-xml-parser") {
  const { XMLParser } = await import("fast-xml-parser")
  const text = readFileSync(file, "utf8")
  bytes = Buffer.byteLength(text)
  const doc = new XMLParser({ ignoreAttributes: false, isArray: (name) => name === "ReportHost" || name === "ReportItem" }).parse(text)
  for (const h of doc?.NessusClientData_v2?.Report?.ReportHost ?? []) {
    hosts++
    findings += (h.ReportItem ?? []).length
  }
} else if (mode === "read") {
  const fh = await open(file, "r")
  const buf = Buffer.allocUnsafe(1 << 20)
  for (;;) {
    const { bytesRead } = await fh.read(buf, 0, buf.length, null)
    if (bytesRead === 0) break
    bytes += bytesRead
  }
  await fh.close()
} else {
  throw new Error(`unknown mode ${mode}`)
}

const seconds = (performance.now() - started) / 1000
const cpu = process.cpuUsage(cpuStart)
const cpuSeconds = (cpu.user + cpu.system) / 1e6
console.log(JSON.stringify({
  mode,
  bytes,
  hosts,
  findings,
  seconds,
  mb_per_s: bytes / 1048576 / seconds,
  // CPU time of all threads (GC helpers included): steadier than wall time on a shared machine.
  cpu_mb_per_s: bytes / 1048576 / cpuSeconds,
  peak_rss_mb: process.resourceUsage().maxRSS / 1024,
  baseline_rss_mb: baseline / 1048576
}))
