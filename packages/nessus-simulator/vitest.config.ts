import { defineProject } from "vitest/config"

export default defineProject({ test: { name: "nessus-simulator", include: ["test/**/*.test.ts"] } })
