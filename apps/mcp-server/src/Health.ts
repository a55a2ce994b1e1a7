/**
 * Liveness and readiness of the MCP server, with the worker's implementation (`@nessus-mcp/worker`'s
 * `Health`): liveness only says the process answers; readiness runs every check concurrently, each bounded
 * in time, and reports each one with a short, secret-free reason. The HTTP layer knows nothing about Redis or
 * files: it runs the checks it is given.
 *
 * The server's checks: `config` (the configuration was decoded; with the scheduler backend, the scanners file
 * is loaded and has pools), `data_dir` (writable), and with `REDIS_URL` `redis` (Redis answers and runs with
 * `maxmemory-policy noeviction`, which the queue needs: an evicting Redis silently drops tasks). The backend
 * contributes its checks through the {@link Readiness} service.
 */
import { Health as Shared } from "@nessus-mcp/worker"
import { Context, Effect } from "effect"

/**
 * One readiness check: fails with a short, secret-free reason.
 *
 * @category models
 */
export type Check = Shared.Check

/**
 * The readiness report served by `/health/ready`.
 *
 * @category models
 */
export type Report = Shared.Report

/**
 * Readiness checks contributed by the backend (e.g. Redis with its eviction policy, the scanners file),
 * run next to the server's own. Optional: without it only the server's checks run.
 *
 * @category services
 */
export class Readiness extends Context.Service<Readiness, ReadonlyArray<Check>>()("@nessus-mcp/mcp-server/Readiness") {}

/**
 * Runs all checks concurrently, each bounded by `timeout` (default 2 s).
 *
 * @category combinators
 */
export const ready = (checks: ReadonlyArray<Check>, timeout: Parameters<typeof Shared.ready>[1] = "2 seconds"): Effect.Effect<Report> =>
  Shared.ready(checks, timeout)

/**
 * Always passes: the configuration was decoded before the server started.
 *
 * @category checks
 */
export const configLoaded: Check = { name: "config", run: Effect.void }

/**
 * Writes and removes a probe file in `dir` (creating `dir` if needed).
 *
 * @category checks
 */
export const dataDirWritable = (dir: string): Check => Shared.dataDirWritable(dir)
