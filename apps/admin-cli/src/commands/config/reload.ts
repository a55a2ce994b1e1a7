/** `nessus-admin config reload`: asks every MCP server and worker on the queue to reload its scanners file. */
import { ScannerConfig, Scheduler } from "@nessus-mcp/scheduler"
import { Effect } from "effect"
import { access } from "node:fs/promises"
import { hostname } from "node:os"
import { BaseCommand, CommandError, ExitCode } from "../../BaseCommand.js"
import * as F from "../../Flags.js"
import * as Runtime from "../../Runtime.js"
import * as Views from "../../Views.js"

/** Validates the admin's copy of the scanners file, then publishes a reload request on the queue's Redis. */
export default class ConfigReload extends BaseCommand<typeof ConfigReload> {
  static override summary = "Make every MCP server and worker on this queue reload its scanners.yaml (like SIGHUP to each)"

  static override description =
    "First validates the scanners file given with --config (or SCANNER_CONFIG, or config/scanners.yaml found upwards) the way " +
    "the processes parse it; if it is not valid, nothing is sent, every problem is listed as file:line: key: problem and the " +
    "exit code is 1. Then it publishes a reload request on the queue's Redis: every nessus-mcp and nessus-mcp-worker process on " +
    "the same Redis and REDIS_KEY_PREFIX re-reads ITS OWN scanners file (so update the file every process reads first, e.g. the " +
    "ConfigMap). Each process logs the outcome (event config_reloaded, or config_reload_failed naming file, line and key, in " +
    "which case it keeps its previous configuration). Running scans, leases and circuits are not affected. The command prints " +
    "the request id and how many processes received it; it does not wait for the reloads. Exit codes: 0 sent and received, 1 " +
    "the file is not valid or no process is listening (check REDIS_URL and REDIS_KEY_PREFIX), 3 the file cannot be read, 4 " +
    "Redis is unavailable."

  static override examples = [
    "<%= config.bin %> <%= command.id %>",
    "<%= config.bin %> <%= command.id %> --config /etc/nessus-mcp/scanners.yaml",
    "<%= config.bin %> <%= command.id %> --json"
  ]

  static override flags = { ...F.queue }

  static override resultSchema = Views.ConfigReload

  async run(): Promise<typeof Views.ConfigReload.Type> {
    const file = Runtime.configPath(this.flags.config)
    await access(file).catch((e: NodeJS.ErrnoException) => {
      throw new CommandError("file_unreadable", `cannot read the scanners file ${file}: ${e.code ?? e.message}`, ExitCode.input)
    })
    const config = await this.runEffect(
      ScannerConfig.load(file).pipe(
        Effect.mapError((e) =>
          e.reason === "config_invalid"
            ? new CommandError("config_invalid", `Not sending a reload request: ${e.message}`, ExitCode.negative)
            : e
        )
      )
    )
    const requestedBy = `nessus-admin@${hostname()}`
    const result = await this.runEffect(
      Effect.gen(function*() {
        return yield* (yield* Scheduler.Scheduler).requestReload({ requestedBy })
      }),
      Runtime.queue(this.flags)
    )
    const warning = result.listeners === 0
      ? `No process received the reload request: no MCP server or worker listens on this Redis with key prefix ${this.flags.prefix}. ` +
        "Nothing was reloaded; check that REDIS_URL and REDIS_KEY_PREFIX match theirs, or send SIGHUP to each process."
      : undefined
    if (warning !== undefined) this.negative()
    const view = Views.configReloadView(file, result, warning)
    if (!this.jsonEnabled()) {
      const scanners = config.pools.reduce((n, p) => n + p.scanners.length, 0)
      this.log(`Validated ${file}: ${config.pools.length} pool(s), ${scanners} scanner(s).`)
      this.log(`Reload request ${view.request.id} sent at ${view.request.requested_at} by ${requestedBy}: received by ${view.listeners} process(es).`)
      if (warning !== undefined) this.logToStderr(`Warning: ${warning}`)
      else this.log("Each process re-reads its own scanners file and logs config_reloaded, or config_reload_failed (keeping its previous configuration).")
    }
    return view
  }
}
