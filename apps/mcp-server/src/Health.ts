/**
 * Liveness and readiness. Liveness only says the process answers. Readiness runs every configured check
 * (Redis reachable, config loaded, data directory writable, ...) with a time bound and reports each one; the
 * checks are plain effects supplied by the app so the HTTP layer knows nothing about Redis or files.
 */
import { Duration, Effect } from "effect"
import { randomUUID } from "node:crypto"
import { rm, writeFile } from "node:fs/promises"
import { join } from "node:path"
import { connect } from "node:net"

/**
 * One readiness check: fails with a short, secret-free reason.
 *
 * @category models
 */
export interface Check {
  readonly name: string
  readonly run: Effect.Effect<void, string>
}

/**
 * The readiness report served by `/health/ready`.
 *
 * @category models
 */
export interface Report {
  readonly status: "ok" | "fail"
  readonly checks: Readonly<Record<string, { readonly status: "ok" | "fail"; readonly reason?: string }>>
}

/**
 * Runs all checks concurrently, each bounded by `timeout`.
 *
 * @category combinators
 */
export const ready = (checks: ReadonlyArray<Check>, timeout: Duration.Input = "2 seconds"): Effect.Effect<Report> =>
  Effect.forEach(checks, (check) =>
    check.run.pipe(
      Effect.timeoutOrElse({ duration: timeout, orElse: () => Effect.fail(`no answer within ${Duration.format(Duration.fromInputUnsafe(timeout))}`) }),
      Effect.match({
        onFailure: (reason) => [check.name, { status: "fail" as const, reason }] as const,
        onSuccess: () => [check.name, { status: "ok" as const }] as const
      })
    ), { concurrency: "unbounded" }).pipe(
      Effect.map((results) => ({
        status: results.every(([, r]) => r.status === "ok") ? "ok" as const : "fail" as const,
        checks: Object.fromEntries(results)
      }))
    )

/**
 * Always passes: the configuration was decoded before the server started.
 *
 * @category checks
 */
export const configLoaded: Check = { name: "config", run: Effect.void }

/**
 * Writes and removes a probe file in `dir`.
 *
 * @category checks
 */
export const dataDirWritable = (dir: string): Check => ({
  name: "data_dir",
  run: Effect.tryPromise({
    try: async () => {
      const probe = join(dir, `.health-${randomUUID()}`)
      await writeFile(probe, "ok")
      await rm(probe)
    },
    catch: (error) => `data directory is not writable (${(error as NodeJS.ErrnoException).code ?? "error"})`
  })
})

/**
 * Sends `PING` (after `AUTH` when the URL carries a password) and expects `+PONG`. The URL is never echoed.
 *
 * @category checks
 */
export const redisReachable = (redisUrl: URL): Check => ({
  name: "redis",
  run: Effect.callback<void, string>((resume) => {
    const port = redisUrl.port === "" ? 6379 : Number(redisUrl.port)
    const host = redisUrl.hostname.replace(/^\[|\]$/g, "")
    const socket = connect({ host, port })
    const password = decodeURIComponent(redisUrl.password)
    const user = decodeURIComponent(redisUrl.username)
    let buffer = ""
    socket.once("error", (error: NodeJS.ErrnoException) => {
      socket.destroy()
      resume(Effect.fail(`redis unreachable (${error.code ?? "error"})`))
    })
    socket.on("connect", () => {
      const auth = password === "" ? "" : user === "" ? `AUTH ${password}\r\n` : `AUTH ${user} ${password}\r\n`
      socket.write(`${auth}PING\r\n`)
    })
    socket.on("data", (chunk) => {
      buffer += chunk.toString("utf8")
      if (buffer.includes("+PONG")) {
        socket.end()
        resume(Effect.void)
      } else if (buffer.startsWith("-") || buffer.includes("\r\n-")) {
        socket.destroy()
        resume(Effect.fail("redis refused the connection (authentication or state error)"))
      }
    })
    return Effect.sync(() => socket.destroy())
  })
})
