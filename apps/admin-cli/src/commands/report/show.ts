/** `nessus-admin report show <task_id>`: a task's findings, as the MCP tool get_scan_results serves them. */
import { Args, Flags } from "@oclif/core"
import { Scheduler, type Task } from "@nessus-mcp/scheduler"
import { Findings, FindingsIndex } from "@nessus-mcp/validator"
import { Effect, Option } from "effect"
import * as path from "node:path"
import { BaseCommand, CommandError, ExitCode } from "../../BaseCommand.js"
import * as F from "../../Flags.js"
import * as Format from "../../Format.js"
import * as Runtime from "../../Runtime.js"
import * as Views from "../../Views.js"

const SEVERITY = ["info", "low", "medium", "high", "critical"]

/** Where a task's findings index can live: `DATA_DIR/<task>/index`, then the path the worker recorded. */
export const indexDirsOf = (task: Task.Task, dataDir: string): ReadonlyArray<string> => {
  const own = path.resolve(dataDir, task.id, "index")
  const recorded = task.artifacts?.["index"]
  return recorded === undefined || path.resolve(dataDir, recorded) === own ? [own] : [own, path.resolve(dataDir, recorded)]
}

/** `k=v` flags as validator filters; a repeated key matches any of its values. */
export const filtersOf = (items: ReadonlyArray<string>): Record<string, string | Array<string>> => {
  const out: Record<string, string | Array<string>> = {}
  for (const item of items) {
    const i = item.indexOf("=")
    if (i <= 0) throw new CommandError("usage_error", `--filter ${item}: expected field=value, e.g. severity=>=3, cve=CVE-2021, host=10.0.0.0/24.`, ExitCode.usage)
    const key = item.slice(0, i).trim()
    const value = item.slice(i + 1)
    const prev = out[key]
    out[key] = prev === undefined ? value : Array.isArray(prev) ? [...prev, value] : [prev, value]
  }
  return out
}

/** Shows one page of a task's findings (profiles, filters, paging) from the index the worker wrote. */
export default class ReportShow extends BaseCommand<typeof ReportShow> {
  static override summary = "Show a task's findings as the MCP tool get_scan_results serves them (table or JSON)"

  static override description =
    "Reads the findings index the worker wrote under DATA_DIR/<task>/index (the same index and query the MCP server uses), " +
    "applies the filters before the profile's projection, and prints one page. Profiles: minimal (host, plugin, severity, " +
    "CVEs, CVSS, exploit), summary (+ name, CVSS3, synopsis), brief (+ description, solution; the default), full (every " +
    "field). Filters (all must match; repeat a field to match any of its values): severity=>=3, port=443, cve=CVE-2021, " +
    "host=10.0.0.0/24, exploit_available=true, plugin_name=openssh. Exit codes: 0 shown, 2 bad filter, 3 no such task or " +
    "no readable index, 6 the task has no findings yet."

  static override examples = [
    "<%= config.bin %> <%= command.id %> t_3q2l0Xl9v1Gm0m6uJcQm2A",
    "<%= config.bin %> <%= command.id %> t_3q2l0Xl9v1Gm0m6uJcQm2A --profile minimal --filter severity=>=3",
    "<%= config.bin %> <%= command.id %> t_3q2l0Xl9v1Gm0m6uJcQm2A --filter cve=CVE-2021 --filter host=192.0.2.0/24 --page 2 --json"
  ]

  static override args = {
    task_id: Args.string({ description: "task id (t_…)", required: true })
  }

  static override flags = {
    ...F.queue,
    "data-dir": F.dataDir,
    profile: Flags.option({ summary: "Which fields to return.", options: ["minimal", "summary", "brief", "full"] as const, default: "brief" as const })(),
    filter: Flags.string({ char: "f", summary: "field=value filter (repeatable).", multiple: true, default: [] }),
    "page-size": Flags.integer({ summary: "Findings per page (1-1000; default 20, like get_scan_results with the brief profile).", min: 1, max: 1000, default: 20 }),
    page: Flags.integer({ summary: "Page number (1-based).", min: 1, exclusive: ["cursor"] }),
    cursor: Flags.string({ summary: "next_cursor of the previous page.", exclusive: ["page"] })
  }

  static override resultSchema = Views.ReportShow

  async run(): Promise<typeof Views.ReportShow.Type> {
    const id = this.args.task_id
    const { profile, page, cursor } = this.flags
    const dataDir = this.flags["data-dir"]
    const pageSize = this.flags["page-size"]
    const filters = filtersOf(this.flags.filter)
    const result = await this.runEffect(
      Effect.gen(function*() {
        const scheduler = yield* Scheduler.Scheduler
        const task = yield* scheduler.get(id)
        if (task.state !== "completed" && task.state !== "failed") {
          return yield* Effect.fail(
            new CommandError(
              "results_not_ready",
              task.state === "queued" || task.state === "running"
                ? `Task ${task.id} is ${task.state}; its findings are readable once it completed (nessus-admin tasks wait ${task.id}).`
                : `Task ${task.id} ended ${task.state} without findings.`,
              ExitCode.conflict
            )
          )
        }
        let dir: string | undefined
        for (const d of indexDirsOf(task, dataDir)) {
          if (Option.isSome(yield* Effect.option(FindingsIndex.meta(d)))) {
            dir = d
            break
          }
        }
        if (dir === undefined) {
          return yield* Effect.fail(
            new CommandError(
              "index_unreadable",
              `No readable findings index for task ${task.id} under ${indexDirsOf(task, dataDir).join(" or ")}; point --data-dir (DATA_DIR) at the workers' artifact root.`,
              ExitCode.input
            )
          )
        }
        const p = yield* FindingsIndex.query(dir, {
          profile,
          filters,
          page_size: pageSize,
          ...(page !== undefined ? { page } : {}),
          ...(cursor !== undefined ? { cursor } : {})
        })
        yield* Effect.ignore(scheduler.touch(task.id))
        return {
          task_id: task.id,
          scan_name: task.name,
          state: task.state,
          profile: p.profile,
          fields: p.fields === null ? null : [...p.fields],
          filters_applied: { ...p.filters_applied } as Record<string, unknown>,
          total: p.total,
          page: p.page,
          page_size: p.page_size,
          total_pages: p.total_pages,
          findings: p.findings.map((f) => ({ ...f })),
          next_cursor: p.next_cursor
        }
      }),
      Runtime.queue(this.flags)
    )
    if (!this.jsonEnabled()) this.print(result)
    return result
  }

  private print(r: typeof Views.ReportShow.Type): void {
    const filters = Object.entries(r.filters_applied).map(([k, v]) => `${k}=${Array.isArray(v) ? v.join("|") : String(v)}`).join(" ")
    this.log(`${r.scan_name} (${r.task_id}, ${r.state}): ${r.total} finding(s)${filters !== "" ? ` matching ${filters}` : ""}, page ${r.page} of ${Math.max(1, r.total_pages)}, profile ${r.profile}`)
    if (r.findings.length === 0) return
    this.log("")
    const text = (v: unknown) => (v === undefined || v === null ? "-" : Array.isArray(v) ? v.slice(0, 2).join(",") + (v.length > 2 ? ",…" : "") : String(v))
    this.table(
      ["HOST", "PORT", "SEVERITY", "PLUGIN", "CVSS", "CVE", "NAME"],
      r.findings.map((f) => [
        text(f["host"]),
        f["port"] === undefined ? "-" : `${text(f["port"])}${f["protocol"] !== undefined ? `/${text(f["protocol"])}` : ""}`,
        typeof f["severity"] === "number" ? SEVERITY[f["severity"]] ?? String(f["severity"]) : "-",
        text(f["plugin_id"]),
        text(f["cvss3_base_score"] ?? f["cvss_base_score"]),
        text(f["cve"]),
        Format.cut(text(f["plugin_name"] ?? f["synopsis"]), 60)
      ])
    )
    if (r.next_cursor !== null) this.log(`More: --page ${r.page + 1} (or --cursor ${r.next_cursor})`)
    if (Findings.profiles.includes(r.profile as Findings.Profile) && r.profile !== "minimal") this.log("Descriptions, solutions and outputs: --json")
  }
}
