import { defineProject } from "vitest/config"

export default defineProject({
  test: {
    name: "prod",
    include: ["test/**/*.test.ts"],
    // docker-compose 1.29 is a Python program: each `config` run takes about a second on a busy machine.
    testTimeout: 30_000
  }
})
