import { defineProject } from "vitest/config"

export default defineProject({ test: { name: "nessus-client", include: ["test/**/*.test.ts"] } })
