import { Effect, Layer, Option } from "effect"
import { performance } from "node:perf_hooks"
import { Credentials, ScannerConfig, Scheduler } from "../dist/index.js"
const config = `
pools:
  bench:
    allowed_targets: [192.0.2.0/24]
    scanners:
      - { instance_id: b1, url: "http://127.0.0.1:1", username: u, password: p, max_concurrent_scans: 256 }
      - { instance_id: b2, url: "http://127.0.0.1:2", username: u, password: p, max_concurrent_scans: 256 }
`
const layer = Scheduler.layerMemory().pipe(Layer.provideMerge(Credentials.layer()), Layer.provideMerge(ScannerConfig.layerText(config)))
await Effect.runPromise(Effect.gen(function*() {
  const s = yield* Scheduler.Scheduler
  for (let i = 0; i < 20000; i++) yield* s.submit({ scanType: "untrusted", targets: "192.0.2.1", name: `b${i}` })
  for (let r = 0; r < 3; r++) {
    const t = performance.now()
    for (let i = 0; i < 5000; i++) { const c = yield* s.claim({ pool: "bench", worker: "w" }); if (Option.isSome(c)) yield* s.complete(c.value.lease) }
    console.log("memory cycle µs", ((performance.now() - t) / 5000 * 1000).toFixed(1))
  }
}).pipe(Effect.provide(layer)))
