import { defineProject } from "vitest/config"

export default defineProject({ test: { name: "admin-cli", include: ["test/**/*.test.ts"] } })
