import { defineConfig } from "vitest/config"

export default defineConfig({
  test: {
    projects: ["packages/*", "apps/*", "prod", "prod/reliability"],
    globalSetup: ["./config/testing/globalSetup.ts"],
    reporters: ["default", "./config/testing/summaryReporter.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000
  }
})
