import { defineProject } from "vitest/config"

export default defineProject({
  test: {
    name: "reliability",
    include: ["**/*.test.ts"],
    // One scenario of ~2 minutes on a shared 2-core machine; the bound below is what CI tolerates, not the target.
    testTimeout: 300_000,
    hookTimeout: 90_000
  }
})
