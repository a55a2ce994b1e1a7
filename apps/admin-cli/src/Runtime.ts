/**
 * The runtime module: turns a command's connection flags into the Effect layers it runs on, built once
 * per command run (`BaseCommand.runEffect`). The Redis URL is `Redacted` from the moment it is read; the
 * CLI never needs `CREDENTIALS_KEY` (it neither seals nor opens scan credentials).
 */
import { Credentials, Redis, ScannerConfig, Scheduler, type SchedulerError } from "@nessus-mcp/scheduler"
import { Layer, Logger, Redacted } from "effect"
import { existsSync } from "node:fs"
import * as path from "node:path"
import { CommandError, ExitCode } from "./Errors.js"

/** The connection settings of a queue command (the parsed `--redis-url`, `--prefix`, `--config`). */
export interface QueueSettings {
  readonly "redis-url"?: string | undefined
  readonly prefix: string
  readonly config?: string | undefined
}

/** Everything a queue command can use. */
export type QueueServices = Scheduler.Scheduler | ScannerConfig.ScannerConfig | Credentials.Credentials | Redis.Redis

/**
 * The scanners file: `--config` / `SCANNER_CONFIG`, else `config/scanners.yaml` in the working directory or
 * an ancestor (as the worker and the MCP server find it).
 */
export const configPath = (flag: string | undefined, from: string = process.cwd()): string => {
  if (flag !== undefined && flag !== "") return path.resolve(flag)
  for (let dir = path.resolve(from);; dir = path.dirname(dir)) {
    const candidate = path.join(dir, "config", "scanners.yaml")
    if (existsSync(candidate)) return candidate
    if (path.dirname(dir) === dir) break
  }
  throw new CommandError(
    "missing_config",
    "No scanners file: pass --config FILE or set SCANNER_CONFIG (no config/scanners.yaml in the working directory or above it).",
    ExitCode.usage
  )
}

/** The Redis URL of `--redis-url` / `REDIS_URL`, redacted. */
export const redisUrl = (flag: string | undefined): Redacted.Redacted<string> => {
  if (flag === undefined || flag.trim() === "") {
    throw new CommandError("missing_redis_url", "No Redis URL: pass --redis-url or set REDIS_URL (e.g. redis://127.0.0.1:6379).", ExitCode.usage)
  }
  return Redacted.make(flag.trim())
}

/**
 * The scheduler over Redis with the scanners file, as the MCP server and the workers build it. The
 * connection fails fast (no reconnection loop) so an unreachable Redis is an immediate, clear error.
 */
export const queue = (settings: QueueSettings): Layer.Layer<QueueServices, SchedulerError.SchedulerError> => {
  const url = redisUrl(settings["redis-url"])
  const file = configPath(settings.config)
  return Scheduler.layerRedis({ prefix: settings.prefix }).pipe(
    Layer.provideMerge(Credentials.layer()),
    Layer.provideMerge(ScannerConfig.layer({ path: file })),
    Layer.provideMerge(Redis.layer({
      url,
      options: { connectTimeout: 5000, maxRetriesPerRequest: 1, retryStrategy: () => null, enableOfflineQueue: false }
    }))
  )
}

/** Just the scanners file (commands that talk to scanners, not to the queue). */
export const scannerConfig = (flag: string | undefined): Layer.Layer<ScannerConfig.ScannerConfig, SchedulerError.SchedulerError> =>
  ScannerConfig.layer({ path: configPath(flag) })

/** Log lines (e.g. the scheduler's eviction-policy warning) go to stderr, so stdout stays one document. */
export const logger: Layer.Layer<never> = Logger.layer([Logger.withConsoleError(Logger.formatSimple)])
