/**
 * `pnpm bench:parse`: generates a ~200 MB export (BENCH_SIZE_MB to change; BENCH_1GB=1 adds a 1 GB run)
 * and prints, side by side, this package (parse + verdict + index) against fast-xml-parser on the whole
 * document and a plain read of the file: MB/s, peak RSS and ratios. Each measurement runs in its own
 * child process so that peak RSS is honest; the validator and read rows take the median of 3 runs.
 */
import { execFileSync } from "node:child_process"
import { existsSync, statSync } from "node:fs"
import { tmpdir } from "node:os"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import { writeExportOfSize } from "./generator.ts"

interface Result {
  readonly mode: string
  readonly mb_per_s: number
  readonly cpu_mb_per_s: number
  readonly peak_rss_mb: number
  readonly findings: number
  readonly error?: string
}

const here = dirname(fileURLToPath(import.meta.url))
const child = join(here, "child.mjs")

const measure = (mode: string, file: string): Result => {
  try {
    const out = execFileSync(process.execPath, [child, mode, file], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] })
    return JSON.parse(out.trim().split("\n").at(-1)!) as Result
  } catch (e) {
    const msg = String((e as { stderr?: string }).stderr ?? e).split("\n").find((l) => /Error|error/.test(l)) ?? "failed"
    return { mode, mb_per_s: Number.NaN, cpu_mb_per_s: Number.NaN, peak_rss_mb: Number.NaN, findings: 0, error: msg.trim().slice(0, 80) }
  }
}

const median = (mode: string, file: string, runs: number): Result => {
  const rs = Array.from({ length: runs }, () => measure(mode, file)).sort((a, b) => a.mb_per_s - b.mb_per_s)
  return rs[Math.floor(rs.length / 2)]!
}

const fmt = (n: number, digits = 1) => (Number.isFinite(n) ? n.toFixed(digits) : "n/a")

const run = async (megabytes: number) => {
  const file = join(tmpdir(), `nessus-bench-${megabytes}mb-v2.nessus`)
  if (!existsSync(file)) {
    process.stdout.write(`generating ${file} ... `)
    const g = await writeExportOfSize(file, megabytes)
    console.log(`${g.hosts} hosts, ${g.findings} findings (${g.generator} generator)`)
  }
  const size = statSync(file).size / 1048576
  console.log(`\n${file}: ${size.toFixed(0)} MB`)
  const ours = median("validator", file, 3)
  const fxp = megabytes > 400
    ? { mode: "fast-xml-parser", mb_per_s: Number.NaN, cpu_mb_per_s: Number.NaN, peak_rss_mb: Number.NaN, findings: 0, error: "skipped: the document exceeds V8's maximum string length" }
    : measure("fast-xml-parser", file)
  const read = median("read", file, 3)
  const rows: Array<[string, Result]> = [
    ["validator (parse + verdict + index)", ours],
    ["fast-xml-parser (whole document)", fxp],
    ["plain file read", read]
  ]
  console.log(`${"".padEnd(38)}${"MB/s".padStart(9)}${"MB/CPU-s".padStart(10)}${"peak RSS MB".padStart(13)}${"findings".padStart(10)}`)
  for (const [label, r] of rows) {
    console.log(
      `${label.padEnd(38)}${fmt(r.mb_per_s).padStart(9)}${fmt(r.cpu_mb_per_s).padStart(10)}${fmt(r.peak_rss_mb, 0).padStart(13)}${
        String(r.findings).padStart(10)
      }${r.error ? `  (${r.error})` : ""}`
    )
  }
  const load = (await import("node:os")).loadavg()[0]!
  console.log(`(load average ${load.toFixed(1)} on ${(await import("node:os")).availableParallelism()} cores; MB/s is wall time, MB/CPU-s divides by CPU time of all threads)`)
  console.log(
    `ratios: validator/fast-xml-parser speed ${fmt(ours.mb_per_s / fxp.mb_per_s, 2)}x (CPU ${fmt(ours.cpu_mb_per_s / fxp.cpu_mb_per_s, 2)}x), RSS ${fmt(fxp.peak_rss_mb / ours.peak_rss_mb, 2)}x less; ` +
      `validator/read speed ${fmt(ours.mb_per_s / read.mb_per_s, 2)}x`
  )
  console.log(
    `targets: >= 120 MB/s ${ours.mb_per_s >= 120 ? "ok" : "MISSED"}, >= 4x fast-xml-parser ${
      Number.isFinite(fxp.mb_per_s) ? (ours.mb_per_s >= 4 * fxp.mb_per_s ? "ok" : "MISSED") : "n/a"
    }, peak RSS < 150 MB ${ours.peak_rss_mb < 150 ? "ok" : "MISSED"}`
  )
}

await run(Number(process.env["BENCH_SIZE_MB"] ?? 200))
if (process.env["BENCH_1GB"] === "1") await run(1024)
