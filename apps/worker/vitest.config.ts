import { defineProject } from "vitest/config"

export default defineProject({
  test: {
    name: "worker",
    include: ["test/**/*.test.ts"],
    // Integration tests drive the simulator over real HTTP and a real Redis; scans last well under a second.
    testTimeout: 60_000,
    hookTimeout: 60_000
  }
})
