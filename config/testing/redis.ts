/**
 * Throwaway `redis-server` processes for tests and benchmarks. Tests never mock Redis: they start a real
 * server on a free loopback port with its own temporary directory, and the global setup in
 * `vitest.config.ts` shares one across the whole run through `REDIS_URL` unless the caller set one.
 */
import { spawn, type ChildProcess } from "node:child_process"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { createConnection, createServer } from "node:net"

/** A running throwaway Redis. */
export interface RedisServer {
  /** `redis://127.0.0.1:PORT`, as REDIS_URL takes it. */
  readonly url: string
  readonly port: number
  readonly dir: string
  /** Stops the server (SIGTERM, or SIGKILL when `hard`), keeping its directory. */
  readonly stop: (hard?: boolean) => Promise<void>
  /** Stops and starts it again on the same port and directory (AOF, if on, is replayed). */
  readonly restart: (hard?: boolean) => Promise<void>
  /** Stops it and removes its directory. */
  readonly dispose: () => Promise<void>
}

/** Options for {@link startRedisServer}. */
export interface RedisServerOptions {
  readonly appendonly?: boolean
  readonly appendfsync?: "always" | "everysec" | "no"
  readonly maxmemoryPolicy?: string
}

/** A port that was free a moment ago on 127.0.0.1. */
export const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const s = createServer()
    s.once("error", reject)
    s.listen(0, "127.0.0.1", () => {
      const address = s.address()
      const port = typeof address === "object" && address ? address.port : 0
      s.close(() => resolve(port))
    })
  })

const ping = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const c = createConnection({ host: "127.0.0.1", port })
    c.once("error", () => resolve(false))
    c.once("connect", () => c.write("PING\r\n"))
    c.once("data", (d) => {
      c.destroy()
      resolve(d.toString().startsWith("+PONG"))
    })
  })

const waitUntil = async (check: () => Promise<boolean>, what: string, limitMs = 10_000): Promise<void> => {
  const start = Date.now()
  while (Date.now() - start < limitMs) {
    if (await check()) return
    await new Promise((r) => setTimeout(r, 20))
  }
  throw new Error(`redis-server: ${what} within ${limitMs} ms`)
}

/** Starts a `redis-server` on a free 127.0.0.1 port with a fresh temporary directory. */
export const startRedisServer = async (options: RedisServerOptions = {}): Promise<RedisServer> => {
  const dir = mkdtempSync(join(tmpdir(), "nessus-mcp-redis-"))
  const port = await freePort()
  let child: ChildProcess | undefined
  const args = [
    "--bind", "127.0.0.1",
    "--port", String(port),
    "--dir", dir,
    "--save", "",
    "--appendonly", options.appendonly ? "yes" : "no",
    "--appendfsync", options.appendfsync ?? "everysec",
    "--maxmemory-policy", options.maxmemoryPolicy ?? "noeviction",
    "--logfile", join(dir, "redis.log")
  ]
  const launch = async () => {
    child = spawn("redis-server", args, { stdio: "ignore" })
    child.once("error", (e) => {
      throw new Error(`redis-server could not be started (${e.message}); install it (apt-get install redis-server)`)
    })
    await waitUntil(() => ping(port), "did not answer PING")
  }
  const stop = async (hard = false) => {
    const c = child
    child = undefined
    if (!c || c.exitCode !== null) return
    await new Promise<void>((resolve) => {
      c.once("exit", () => resolve())
      c.kill(hard ? "SIGKILL" : "SIGTERM")
    })
  }
  await launch()
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    dir,
    stop,
    restart: async (hard) => {
      await stop(hard)
      await launch()
    },
    dispose: async () => {
      await stop()
      rmSync(dir, { recursive: true, force: true })
    }
  }
}

/** The few ioredis commands {@link dumpKeys} reads with (structural, so this folder needs no dependency). */
export interface DumpableRedis {
  scan(cursor: string, count: "COUNT", n: number): Promise<[string, Array<string>]>
  type(key: string): Promise<string>
  get(key: string): Promise<string | null>
  hgetall(key: string): Promise<Record<string, string>>
  lrange(key: string, start: number, stop: number): Promise<Array<string>>
  smembers(key: string): Promise<Array<string>>
  zrange(key: string, start: string, stop: string, withScores: "WITHSCORES"): Promise<Array<string>>
  xrange(key: string, start: string, end: string): Promise<unknown>
}

/**
 * Every key of the database with its value, whatever its type, as text lines `key value`: what secret-leak
 * checks grep for a canary.
 */
export const dumpKeys = async (redis: DumpableRedis): Promise<string> => {
  const out: Array<string> = []
  let cursor = "0"
  do {
    const [next, keys] = await redis.scan(cursor, "COUNT", 1000)
    cursor = next
    for (const key of keys) {
      const type = await redis.type(key)
      const value = type === "string"
        ? await redis.get(key)
        : type === "hash"
        ? await redis.hgetall(key)
        : type === "list"
        ? await redis.lrange(key, 0, -1)
        : type === "set"
        ? await redis.smembers(key)
        : type === "zset"
        ? await redis.zrange(key, "0", "-1", "WITHSCORES")
        : type === "stream"
        ? await redis.xrange(key, "-", "+")
        : `<unreadable type ${type}>`
      out.push(`${key} ${JSON.stringify(value)}`)
    }
  } while (cursor !== "0")
  return out.join("\n")
}
