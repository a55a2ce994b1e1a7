/**
 * TEST DOUBLE. An in-memory `ScanService` for the MCP server's own tests: one pool with two scanners, a scope
 * allow-list, FIFO tasks that tests move along by hand (`complete`, `start`), paged findings with an opaque
 * cursor. It is deliberately simple and is not the product's backend (that composes the scheduler and the
 * validator); it exists so transports, schemas, errors, metrics and logs can be tested end to end.
 */
import { Targets } from "@nessus-mcp/scheduler"
import { Effect, Layer, Redacted, Result } from "effect"
import { AppError, taskNotFound } from "../../src/AppError.js"
import { type CallContext, ScanService } from "../../src/ScanService.js"
import type * as Tools from "../../src/Tools.js"

interface Task {
  readonly summary: Tools.ScanStatusOutput
  readonly idempotency?: { readonly key: string; readonly fingerprint: string } | undefined
  findings: ReadonlyArray<Record<string, unknown>>
  /** What the double received as the inline password, to prove it arrived Redacted. */
  readonly receivedPassword?: Redacted.Redacted<string> | undefined
}

/** Handles the tests use to drive the double. */
export interface Control {
  readonly tasks: Map<string, Task>
  readonly start: (taskId: string) => void
  readonly complete: (taskId: string, findings: ReadonlyArray<Record<string, unknown>>) => void
}

const allowed = ["192.0.2.0/24", "198.51.100.0/24", "*.example.com"].map((t) => Result.getOrThrow(Targets.parseOne(t, { allowWildcard: true })))
const inScope = (target: Targets.Target): boolean => Targets.isAllowed(target, allowed)

const cursorOf = (offset: number) => Buffer.from(JSON.stringify({ o: offset })).toString("base64url")
const offsetOf = (cursor: string): number | undefined => {
  try {
    const o = (JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")) as { o?: unknown }).o
    return typeof o === "number" && Number.isInteger(o) && o >= 0 ? o : undefined
  } catch {
    return undefined
  }
}

const profiles: Readonly<Record<string, ReadonlyArray<string>>> = {
  minimal: ["host", "plugin_id", "severity", "cve", "cvss3_base_score", "exploit_available"],
  summary: ["host", "plugin_id", "severity", "cve", "cvss3_base_score", "exploit_available", "plugin_name", "synopsis"],
  brief: ["host", "plugin_id", "severity", "cve", "cvss3_base_score", "exploit_available", "plugin_name", "synopsis", "description", "solution"]
}

/** Builds the double and its control handles. */
export const make = (options: { readonly allowInlineCredentials?: boolean } = {}): { readonly layer: Layer.Layer<ScanService>; readonly control: Control } => {
  const tasks = new Map<string, Task>()
  let counter = 0
  const now = () => new Date().toISOString()
  const queued = () => [...tasks.values()].filter((t) => t.summary.status === "queued")

  const submit = (
    input: Tools.RunUntrustedScanInput,
    scanType: Tools.SubmitScanOutput["scan_type"],
    call: CallContext,
    receivedPassword?: Redacted.Redacted<string>
  ): Effect.Effect<Tools.SubmitScanOutput, AppError> =>
    Effect.suspend(() => {
      const pool = input.scanner_pool ?? "nessus"
      if (pool !== "nessus") return Effect.fail(new AppError({ reason: "PoolNotFound", field: "scanner_pool", message: `Pool "${pool}" does not exist; call list_pools.` }))
      const parsed = Targets.parse(input.targets)
      if (Result.isFailure(parsed)) return Effect.die(new Error("targets reached the service unvalidated"))
      const outside = parsed.success.filter((t) => !inScope(t)).map((t) => t.text)
      if (outside.length > 0) {
        return Effect.fail(new AppError({
          reason: "TargetOutOfScope",
          field: "targets",
          message: `Targets outside pool "nessus"'s allowed scope: ${outside.join(", ")}. Remove them or use a pool that allows them.`,
          details: { out_of_scope: outside }
        }))
      }
      const fingerprint = JSON.stringify([input.targets, input.name, scanType, pool])
      if (input.idempotency_key !== undefined) {
        const previous = [...tasks.values()].find((t) => t.idempotency?.key === input.idempotency_key)
        if (previous) {
          if (previous.idempotency?.fingerprint !== fingerprint) {
            return Effect.fail(new AppError({ reason: "IdempotencyConflict", field: "idempotency_key", message: "This idempotency key was used with different arguments." }))
          }
          return Effect.succeed(submission(previous.summary, true))
        }
      }
      counter += 1
      const taskId = `task_${String(counter).padStart(4, "0")}`
      const summary: Tools.ScanStatusOutput = {
        task_id: taskId,
        trace_id: call.traceId,
        name: input.name,
        scan_type: scanType,
        status: "queued",
        phase: null,
        progress: null,
        queue_position: queued().length + 1,
        estimated_wait_minutes: queued().length * 5,
        targets: input.targets,
        scanner_pool: pool,
        scanner_instance: input.scanner_instance ?? null,
        nessus_scan_id: null,
        created_at: now(),
        started_at: null,
        completed_at: null,
        authentication_status: scanType === "untrusted" ? "not_applicable" : "pending",
        warnings: [],
        error_message: null,
        results_summary: null,
        troubleshooting: null
      }
      tasks.set(taskId, {
        summary,
        idempotency: input.idempotency_key === undefined ? undefined : { key: input.idempotency_key, fingerprint },
        findings: [],
        receivedPassword
      })
      return Effect.succeed(submission(summary, false))
    })

  const submission = (summary: Tools.ScanStatusOutput, replay: boolean): Tools.SubmitScanOutput => ({
    task_id: summary.task_id,
    trace_id: summary.trace_id,
    status: summary.status,
    scan_type: summary.scan_type,
    scanner_pool: summary.scanner_pool,
    scanner_instance: summary.scanner_instance,
    scanner_url: summary.scanner_instance === null ? null : `https://127.0.0.1:8834`,
    queue_position: summary.queue_position,
    estimated_wait_minutes: summary.estimated_wait_minutes,
    idempotent_replay: replay,
    message: replay ? "Returning the task created earlier with this idempotency key." : "Scan queued."
  })

  const find = (taskId: string) => {
    const task = tasks.get(taskId)
    return task ? Effect.succeed(task) : Effect.fail(taskNotFound(taskId))
  }

  const scanners = (): ReadonlyArray<Tools.ListScannersOutput["scanners"][number]> => {
    const running = [...tasks.values()].filter((t) => t.summary.status === "running").length
    return [
      { pool: "nessus", id: "scanner1", name: "Scanner 1", url: "https://127.0.0.1:8834", enabled: true, capacity: 2, running_scans: Math.min(running, 2), utilization_pct: Math.min(running, 2) * 50, circuit_state: "closed" },
      { pool: "nessus", id: "scanner2", name: "Scanner 2", url: "https://127.0.0.1:8835", enabled: true, capacity: 2, running_scans: Math.max(0, running - 2), utilization_pct: Math.max(0, running - 2) * 50, circuit_state: "closed" }
    ]
  }

  const pool = (name: string | undefined) =>
    name === undefined || name === "nessus"
      ? Effect.succeed("nessus")
      : Effect.fail(new AppError({ reason: "PoolNotFound", field: "scanner_pool", message: `Pool "${name}" does not exist; call list_pools.` }))

  const service = ScanService.of({
    runUntrustedScan: (input, call) => submit(input, "untrusted", call),
    runAuthenticatedScan: (input, call) => {
      if (input.ssh_password !== undefined && !options.allowInlineCredentials) {
        return Effect.fail(new AppError({
          reason: "InlineCredentialsDisabled",
          field: "ssh_password",
          message: "This server does not accept inline passwords (no CREDENTIALS_KEY). Use a stored credential name."
        }))
      }
      return submit(input, input.scan_type, call, input.ssh_password)
    },
    getScanStatus: (input) => Effect.map(find(input.task_id), (task) => task.summary),
    getScanResults: (input) =>
      Effect.flatMap(find(input.task_id), (task) => {
        if (task.summary.status !== "completed") {
          return Effect.fail(new AppError({ reason: "ResultsNotReady", field: "task_id", message: `Task ${input.task_id} is ${task.summary.status}; poll get_scan_status until completed.` }))
        }
        const profile = input.fields ? "custom" : input.profile ?? "brief"
        const fields = input.fields ?? profiles[profile] ?? []
        const filters = input.filters ?? {}
        for (const key of Object.keys(filters)) {
          if (!task.findings.some((f) => key in f)) {
            return Effect.fail(new AppError({ reason: "InvalidFilter", field: `filters.${key}`, message: `No finding has a field "${key}".` }))
          }
        }
        const matching = task.findings.filter((f) =>
          Object.entries(filters).every(([key, value]) => {
            const v = f[key]
            if (typeof value === "string" && /^(>=|<=|>|<|=)/.test(value)) {
              const [, op, num] = /^(>=|<=|>|<|=)\s*(.*)$/.exec(value)!
              const a = Number(v), b = Number(num)
              return op === ">=" ? a >= b : op === "<=" ? a <= b : op === ">" ? a > b : op === "<" ? a < b : a === b
            }
            return typeof value === "string" ? String(v).toLowerCase().includes(value.toLowerCase()) : v === value
          }))
        const pageSize = input.page_size ?? 40
        const offset = input.cursor !== undefined ? offsetOf(input.cursor) : ((input.page ?? 1) - 1) * pageSize
        if (offset === undefined) return Effect.fail(new AppError({ reason: "InvalidCursor", field: "cursor", message: "The cursor is not one this server issued; start again without it." }))
        const page = matching.slice(offset, offset + pageSize).map((f) =>
          profile === "full" ? f : Object.fromEntries(Object.entries(f).filter(([k]) => fields.includes(k))))
        const next = offset + pageSize < matching.length ? cursorOf(offset + pageSize) : null
        return Effect.succeed({
          task_id: input.task_id,
          scan_name: task.summary.name,
          profile,
          fields: profile === "full" ? Object.keys(task.findings[0] ?? {}) : [...fields],
          filters_applied: filters,
          total: matching.length,
          page: Math.floor(offset / pageSize) + 1,
          page_size: pageSize,
          findings: page,
          next_cursor: next
        })
      }),
    listScanners: (input) => Effect.map(pool(input.scanner_pool), () => ({ scanners: scanners(), total: 2 })),
    listPools: () => Effect.succeed({ pools: [{ pool: "nessus", scanners: 2, capacity: 4, is_default: true }], default_pool: "nessus" }),
    getPoolStatus: (input) =>
      Effect.map(pool(input.scanner_pool), (name) => {
        const list = scanners()
        const running = list.reduce((n, s) => n + s.running_scans, 0)
        return {
          pool: name,
          total_scanners: 2,
          enabled_scanners: 2,
          total_capacity: 4,
          running_scans: running,
          available_capacity: 4 - running,
          utilization_pct: running * 25,
          queue_depth: queued().length,
          scanners: list
        }
      }),
    getQueueStatus: (input) =>
      Effect.map(pool(input.scanner_pool), (name) => ({
        pool: name,
        queue_depth: queued().length,
        dlq_size: 0,
        next_tasks: queued().slice(0, 5).map((t) => ({ task_id: t.summary.task_id, name: t.summary.name, scan_type: t.summary.scan_type })),
        timestamp: now()
      })),
    listTasks: (input) =>
      Effect.sync(() => {
        const all = [...tasks.values()].map((t) => t.summary).reverse()
          .filter((t) => input.status === undefined || t.status === input.status)
          .filter((t) => input.target === undefined || t.targets.includes(input.target))
        const limit = input.limit ?? 20
        const offset = input.cursor === undefined ? 0 : offsetOf(input.cursor) ?? 0
        return {
          tasks: all.slice(offset, offset + limit).map((t) => ({
            task_id: t.task_id,
            trace_id: t.trace_id,
            name: t.name,
            scan_type: t.scan_type,
            status: t.status,
            scanner_pool: t.scanner_pool,
            scanner_instance: t.scanner_instance,
            targets: t.targets,
            nessus_scan_id: t.nessus_scan_id,
            created_at: t.created_at,
            started_at: t.started_at,
            completed_at: t.completed_at
          })),
          next_cursor: offset + limit < all.length ? cursorOf(offset + limit) : null
        }
      }),
    cancelScan: (input) =>
      Effect.flatMap(find(input.task_id), (task) => {
        const previous = task.summary.status
        if (previous !== "queued" && previous !== "running") {
          return Effect.fail(new AppError({ reason: "NotCancellable", field: "task_id", message: `Task ${input.task_id} is already ${previous}.` }))
        }
        tasks.set(input.task_id, { ...task, summary: { ...task.summary, status: previous === "queued" ? "cancelled" : "running" } })
        return Effect.succeed({
          task_id: input.task_id,
          previous_status: previous,
          outcome: previous === "queued" ? "cancelled" as const : "stop_requested" as const,
          message: previous === "queued" ? "Removed from the queue." : "The worker will stop the Nessus scan."
        })
      })
  })

  const control: Control = {
    tasks,
    start: (taskId) => {
      const task = tasks.get(taskId)!
      tasks.set(taskId, { ...task, summary: { ...task.summary, status: "running", phase: "poll", progress: 10, queue_position: null, started_at: now(), nessus_scan_id: 42 } })
    },
    complete: (taskId, findings) => {
      const task = tasks.get(taskId)!
      const count = (sev: number) => findings.filter((f) => Number(f["severity"]) === sev).length
      tasks.set(taskId, {
        ...task,
        findings,
        summary: {
          ...task.summary,
          status: "completed",
          phase: "validate",
          progress: 100,
          queue_position: null,
          completed_at: now(),
          authentication_status: task.summary.scan_type === "untrusted" ? "not_applicable" : "success",
          results_summary: {
            hosts_scanned: new Set(findings.map((f) => f["host"])).size,
            total_vulnerabilities: findings.length,
            severity_breakdown: { critical: count(4), high: count(3), medium: count(2), low: count(1), info: count(0) },
            file_size_kb: 12.5
          }
        }
      })
    }
  }

  return { layer: Layer.succeed(ScanService, service), control }
}
