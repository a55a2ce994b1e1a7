import { Effect } from "effect"
import v8 from "node:v8"
import { FindingsIndex } from "/work/main/packages/validator/dist/index.js"
let peak = {}
const iv = setInterval(() => { for (const s of v8.getHeapSpaceStatistics()) peak[s.space_name] = Math.max(peak[s.space_name] ?? 0, s.physical_space_size / 1048576 | 0); peak.rss = Math.max(peak.rss ?? 0, process.memoryUsage().rss / 1048576 | 0); peak.ext = Math.max(peak.ext ?? 0, process.memoryUsage().external / 1048576 | 0); peak.ab = Math.max(peak.ab ?? 0, process.memoryUsage().arrayBuffers / 1048576 | 0) }, 5)
console.log("start rss", process.memoryUsage().rss / 1048576 | 0)
const r = await Effect.runPromise(FindingsIndex.build(process.argv[2], "/tmp/vbench/idx", { scanType: "authenticated" }))
clearInterval(iv)
console.log(JSON.stringify(peak), "maxRSS", process.resourceUsage().maxRSS / 1024 | 0)
