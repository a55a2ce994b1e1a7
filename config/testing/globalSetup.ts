/**
 * Vitest global setup: one throwaway Redis for the whole run, unless REDIS_URL is already set. Suites
 * isolate themselves by key prefix; suites that restart Redis start their own with `startRedisServer`.
 */
import { startRedisServer, type RedisServer } from "./redis.js"

let server: RedisServer | undefined

export async function setup(): Promise<void> {
  if (process.env["REDIS_URL"]) return
  server = await startRedisServer()
  process.env["REDIS_URL"] = server.url
}

export async function teardown(): Promise<void> {
  await server?.dispose()
}
