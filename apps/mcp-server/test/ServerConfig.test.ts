import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit, Option, Redacted } from "effect"
import * as ServerConfig from "../src/ServerConfig.js"

const canary = "canary-bearer-token-91c3f0e2"

describe("ServerConfig", () => {
  it("maps flags to their variables and refuses unknown ones", () => {
    assert.deepStrictEqual(ServerConfig.parseArgs(["--transport", "http", "--port=9000", "--host", "0.0.0.0"]), {
      MCP_TRANSPORT: "http",
      MCP_PORT: "9000",
      MCP_HOST: "0.0.0.0"
    })
    assert.strictEqual(ServerConfig.parseArgs(["--help"]), "help")
    assert.include((ServerConfig.parseArgs(["--verbose"]) as { error: string }).error, "--verbose")
    assert.include((ServerConfig.parseArgs(["--port"]) as { error: string }).error, "--port needs a value")
  })

  it.effect("uses the defaults, and flags win over the environment", () =>
    Effect.gen(function*() {
      const defaults = yield* ServerConfig.load({}, {})
      assert.strictEqual(defaults.transport, "stdio")
      assert.strictEqual(defaults.host, "127.0.0.1")
      assert.strictEqual(defaults.port, 8000)
      assert.strictEqual(defaults.logLevel, "Info")
      assert.isTrue(Option.isNone(defaults.redisUrl))
      assert.deepStrictEqual(defaults.bearerTokens, [])
      const mixed = yield* ServerConfig.load({ MCP_PORT: "9100" }, { MCP_PORT: "9000", MCP_TRANSPORT: "http", LOG_LEVEL: "DEBUG", REDIS_URL: "redis://:pw@127.0.0.1:6379" })
      assert.strictEqual(mixed.port, 9100)
      assert.strictEqual(mixed.transport, "http")
      assert.strictEqual(mixed.logLevel, "Debug")
      assert.notInclude(String(mixed.redisUrl), "pw@")
    }))

  it.effect("keeps bearer tokens Redacted and never prints them", () =>
    Effect.gen(function*() {
      const config = yield* ServerConfig.load({}, { MCP_BEARER_TOKENS: `claude:${canary},ci:another-token-123456789` })
      assert.deepStrictEqual(config.bearerTokens.map((t) => t.name), ["claude", "ci"])
      assert.strictEqual(Redacted.value(config.bearerTokens[0]!.token), canary)
      assert.notInclude(JSON.stringify(config), canary)
      assert.notInclude(String(config.bearerTokens[0]!.token), canary)
    }))

  it.effect("refuses malformed token lists, bad ports and log levels with messages that name the variable, not the token", () =>
    Effect.gen(function*() {
      for (const env of [
        { MCP_BEARER_TOKENS: `justatoken${canary}` },
        { MCP_BEARER_TOKENS: "a:short" },
        { MCP_BEARER_TOKENS: `a:${canary},a:${canary}x` },
        { MCP_BEARER_TOKENS: `a:${canary},b:${canary}` },
        { MCP_PORT: "70000" },
        { LOG_LEVEL: "chatty" },
        { MCP_TRANSPORT: "websocket" }
      ]) {
        const exit = yield* Effect.exit(ServerConfig.load({}, env))
        assert.isTrue(Exit.isFailure(exit), JSON.stringify(Object.keys(env)))
        const message = Exit.isFailure(exit) ? String(exit.cause) : ""
        assert.notInclude(message, canary)
      }
    }))
})
