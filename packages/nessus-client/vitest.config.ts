import { defineProject } from "vitest/config"

export default defineProject({
  test: {
    name: "nessus-client",
    include: ["test/**/*.test.ts"],
    // Integration tests talk to the simulator over real HTTP; keep a margin over vitest's 5 s default.
    testTimeout: 30_000,
    // Small V8 semi-spaces make the young generation collect streamed chunks promptly, so the RSS measured
    // by the 200 MB export test reflects what the stream retains rather than V8's sizing of its nursery
    // (which alone grows by ~50 MB under a 100+ MB/s allocation rate).
    execArgv: ["--max-semi-space-size=2"]
  }
})
