import { defineProject } from "vitest/config"

export default defineProject({
  test: {
    name: "reliability",
    include: ["**/*.test.ts"],
    // The scenario test sets its own bound (240 s; it takes ~60 s on a busy 2-core VM); each check after it
    // reads what the scenario recorded (the findings comparison re-exports ~300 scans: ~10-20 s).
    testTimeout: 120_000,
    hookTimeout: 90_000
  }
})
