/**
 * A 200 MB `.nessus` export streamed from the simulator to a file with flat memory: the resident set
 * is sampled during the download and may not grow by more than a fraction of the file size.
 */
import { NodeFileSystem } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { mkdtempSync, rmSync, statSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { HttpLive, keysClient, simulator, waitForStatus } from "./support.js"

const MB = 1024 * 1024

/** Samples `process.memoryUsage().rss` every 5 ms until stopped; returns the peak. */
const rssSampler = () => {
  let peak = process.memoryUsage().rss
  const timer = setInterval(() => {
    const rss = process.memoryUsage().rss
    if (rss > peak) peak = rss
  }, 5)
  return {
    stop: () => {
      clearInterval(timer)
      return Math.max(peak, process.memoryUsage().rss)
    }
  }
}

describe("export streaming", () => {
  it.live("a 200 MB export is written to a file with flat memory", () =>
    Effect.gen(function*() {
      // ~1022 hosts × 110 findings × ~1.9 KB per ReportItem ≈ 208 MiB
      const sim = yield* simulator({ scanDurationMs: 0, exportDelayMs: 0, findingsPerHost: 110 })
      const nessus = yield* keysClient(sim.scanners[0]!.url, { requestTimeout: "60 seconds" })
      const scan = yield* nessus.createScan({ name: "big", targets: "10.20.0.0/22" })
      yield* nessus.launchScan(scan.id)
      yield* waitForStatus(nessus, scan.id, ["completed"])
      const dir = mkdtempSync(join(tmpdir(), "nessus-big-"))
      yield* Effect.addFinalizer(() => Effect.sync(() => rmSync(dir, { recursive: true, force: true })))
      const path = join(dir, "big.nessus")

      const baseline = process.memoryUsage().rss
      const sampler = rssSampler()
      const started = Date.now()
      const { bytes } = yield* nessus.exportScanToFile(scan.id, path).pipe(
        Effect.provide(NodeFileSystem.layer),
        Effect.ensuring(Effect.sync(() => void sampler.stop()))
      )
      const peak = sampler.stop()
      const growth = peak - baseline
      const seconds = (Date.now() - started) / 1000
      console.log(
        `export: ${(bytes / MB).toFixed(1)} MB in ${seconds.toFixed(2)} s ` +
          `(${(bytes / MB / seconds).toFixed(0)} MB/s), RSS baseline ${(baseline / MB).toFixed(0)} MB, ` +
          `peak growth ${(growth / MB).toFixed(1)} MB`
      )
      assert.isAtLeast(bytes, 200 * MB)
      assert.strictEqual(statSync(path).size, bytes)
      assert.isBelow(growth, 60 * MB, `RSS grew by ${(growth / MB).toFixed(1)} MB while streaming ${(bytes / MB).toFixed(0)} MB`)
    }).pipe(Effect.provide(HttpLive)), 120_000)
})
