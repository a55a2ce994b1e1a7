import { parseFile } from "/work/main/packages/validator/dist/internal/parse.js"
import { VerdictBuilder } from "/work/main/packages/validator/dist/internal/verdict.js"
import v8 from "node:v8"
const vb = new VerdictBuilder("authenticated")
let n = 0
const sink = { event: (e) => vb.event(e), item: (r) => { vb.item(r); if (++n % 25000 === 0) { gc(); console.log(n, (v8.getHeapStatistics().used_heap_size / 1048576).toFixed(1)); if (n === 50000) v8.writeHeapSnapshot("/tmp/vbench/mid.heapsnapshot") } } }
gc(); console.log("start", (v8.getHeapStatistics().used_heap_size / 1048576).toFixed(1))
await parseFile(process.argv[2], sink)
