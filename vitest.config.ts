import { defineConfig } from "vitest/config"

export default defineConfig({
  test: {
    projects: ["packages/*", "apps/*", "prod"],
    globalSetup: ["./config/testing/globalSetup.ts"],
    reporters: ["default", "./config/testing/summaryReporter.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000
  }
})
