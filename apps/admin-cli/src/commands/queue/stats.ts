/** `nessus-admin queue stats`: depth, running, DLQ size, capacity and utilisation per pool, and the next tasks. */
import { Flags } from "@oclif/core"
import { Scheduler } from "@nessus-mcp/scheduler"
import { Clock, Effect } from "effect"
import { BaseCommand } from "../../BaseCommand.js"
import * as F from "../../Flags.js"
import * as Format from "../../Format.js"
import * as Runtime from "../../Runtime.js"
import * as Views from "../../Views.js"

/** Queue figures of one pool (default) or of every pool. */
export default class QueueStats extends BaseCommand<typeof QueueStats> {
  static override summary = "Show queue depth, running scans, dead letters, capacity and utilisation per pool"

  static override description =
    "Answers \"is anything stuck?\": per pool, the queued tasks (including instance-bound and those waiting for a retry's " +
    "backoff), running tasks, dead-lettered tasks, capacity of the enabled scanners and how much of it is busy, the age of " +
    "the oldest queued task and the next tasks to run. Without --pool or --all it shows the default pool."

  static override examples = [
    "<%= config.bin %> <%= command.id %>",
    "<%= config.bin %> <%= command.id %> --pool nessus",
    "<%= config.bin %> <%= command.id %> --all --json"
  ]

  static override flags = {
    ...F.queue,
    pool: Flags.string({ char: "p", summary: "Pool to show (default: the default pool).", exclusive: ["all"] }),
    all: Flags.boolean({ summary: "Show every pool.", exclusive: ["pool"] })
  }

  static override resultSchema = Views.QueueStats

  async run(): Promise<typeof Views.QueueStats.Type> {
    const { pool, all } = this.flags
    const result = await this.runEffect(
      Effect.gen(function*() {
        const scheduler = yield* Scheduler.Scheduler
        const { defaultPool, pools } = yield* scheduler.pools
        const names = all ? pools.map((p) => p.name) : [pool ?? defaultPool]
        const now = yield* Clock.currentTimeMillis
        const out = []
        for (const name of names) out.push(Views.poolStatsView(yield* scheduler.queueStats(name), name === defaultPool, now))
        return { pools: out }
      }),
      Runtime.queue(this.flags)
    )
    if (!this.jsonEnabled()) this.print(result)
    return result
  }

  private print(r: typeof Views.QueueStats.Type): void {
    this.table(
      ["POOL", "QUEUED", "DELAYED", "RUNNING", "DLQ", "CAPACITY", "AVAILABLE", "UTILISATION", "OLDEST QUEUED", "AVG SCAN"],
      r.pools.map((p) => [
        p.is_default ? `${p.pool} (default)` : p.pool,
        String(p.queued),
        String(p.delayed),
        String(p.running),
        String(p.dead_lettered),
        String(p.capacity),
        String(p.available),
        Format.percent(p.utilisation),
        p.oldest_queued_age_seconds === null ? "-" : Format.duration(p.oldest_queued_age_seconds),
        p.average_scan_seconds === null ? "-" : Format.duration(p.average_scan_seconds)
      ])
    )
    for (const p of r.pools) {
      if (p.next.length === 0) continue
      this.log("")
      this.log(`Next in ${p.pool}:`)
      this.table(["TASK", "TYPE", "AGE", "NAME"], p.next.map((t) => [t.task_id, t.scan_type, Format.duration(t.age_seconds), Format.cut(t.name, 60)]))
    }
    for (const p of r.pools) {
      const hint = p.queued + p.delayed === 0
        ? undefined
        : p.capacity === 0
        ? `pool ${p.pool} has queued tasks but no enabled scanner (enabled: false everywhere?); see \`nessus-admin scanners list\`.`
        : p.available > 0 && (p.oldest_queued_age_seconds ?? 0) > 120
        ? `pool ${p.pool} has ${p.available} free slot(s) yet its oldest task waits ${Format.duration(p.oldest_queued_age_seconds ?? 0)}: are workers running for this pool, and are circuits closed (\`nessus-admin circuits list\`)?`
        : undefined
      if (hint === undefined) continue
      this.log("")
      this.log(`Note: ${hint}`)
    }
  }
}
