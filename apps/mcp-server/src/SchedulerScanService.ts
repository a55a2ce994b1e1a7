/**
 * The product's `ScanService`: the ten tools answered by `@nessus-mcp/scheduler` (the queue, shared with every
 * worker through Redis) and `@nessus-mcp/validator` (the findings index each worker writes under
 * `DATA_DIR/<task id>/`). Nothing here keeps state of its own, so every figure is live and any number of server
 * replicas can answer. Scheduler and validator errors are mapped onto `AppError` reasons exhaustively, here at the
 * boundary.
 */
import { ScannerConfig, Scheduler, SchedulerError, Targets, Task } from "@nessus-mcp/scheduler"
import { type Findings, FindingsIndex, type ValidatorError, type Verdict } from "@nessus-mcp/validator"
import { Effect, Layer, Option, Result } from "effect"
import { readFile } from "node:fs/promises"
import * as path from "node:path"
import { AppError, taskNotFound } from "./AppError.js"
import { Metrics } from "./Metrics.js"
import { type CallContext, ScanService } from "./ScanService.js"
import { ServerConfig } from "./ServerConfig.js"
import type * as Tools from "./Tools.js"

// ---------------------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------------------

const schedulerReasons: { readonly [R in SchedulerError.Reason]: (e: SchedulerError.SchedulerError) => AppError } = {
  config_invalid: (e) => new AppError({ reason: "Unavailable", message: `The server's scanner configuration is invalid; an operator must fix it. ${e.message}` }),
  invalid_input: (e) => new AppError({ reason: "InvalidArgument", message: e.message }),
  invalid_targets: (e) => new AppError({ reason: "InvalidArgument", field: "targets", message: e.message }),
  targets_not_allowed: (e) => new AppError({ reason: "TargetOutOfScope", field: "targets", message: `${e.message} Remove them, or use a pool that may scan them (list_pools).` }),
  too_many_targets: (e) => new AppError({ reason: "TooManyTargets", field: "targets", message: e.message }),
  unknown_pool: (e) => new AppError({ reason: "PoolNotFound", field: "scanner_pool", message: `${e.message} (see list_pools)` }),
  unknown_scanner: (e) => new AppError({ reason: "ScannerNotFound", field: "scanner_instance", message: `${e.message} (see list_scanners)` }),
  unknown_credential: (e) => new AppError({ reason: "CredentialNotFound", field: "credential", message: e.message }),
  inline_credentials_disabled: (e) => new AppError({ reason: "InlineCredentialsDisabled", field: "ssh_password", message: e.message }),
  credentials_invalid: () =>
    new AppError({ reason: "Internal", message: "A stored credential could not be decrypted on this server (CREDENTIALS_KEY differs between components?)." }),
  idempotency_conflict: (e) => new AppError({ reason: "IdempotencyConflict", field: "idempotency_key", message: e.message }),
  not_found: (e) => e.taskId !== undefined ? taskNotFound(e.taskId) : new AppError({ reason: "TaskNotFound", field: "task_id", message: e.message }),
  invalid_transition: (e) => new AppError({ reason: "NotCancellable", field: "task_id", message: e.message }),
  lease_lost: (e) => new AppError({ reason: "Internal", message: `Unexpected worker-side error: ${e.message}` }),
  task_cancelled: (e) => new AppError({ reason: "Internal", message: `Unexpected worker-side error: ${e.message}` }),
  backend_unavailable: () =>
    new AppError({ reason: "Unavailable", message: "The scan queue (Redis) is unreachable right now; retry in a minute. If it persists, tell the operator." })
}

/**
 * Translates a scheduler error into the tool error an agent sees.
 *
 * @category errors
 */
export const fromSchedulerError = (error: SchedulerError.SchedulerError): AppError => schedulerReasons[error.reason](error)

const validatorReasons: { readonly [R in ValidatorError.Reason]: (e: ValidatorError.ValidatorError, taskId: string) => AppError } = {
  invalid_filter: (e) =>
    new AppError({ reason: "InvalidFilter", field: e.field !== undefined ? `filters.${e.field}` : "filters", message: `Invalid filter: ${e.message}` }),
  invalid_query: (e) =>
    /cursor/i.test(e.message)
      ? new AppError({ reason: "InvalidCursor", field: "cursor", message: `Invalid cursor: ${e.message}` })
      : new AppError({ reason: "InvalidArgument", message: `Invalid results query: ${e.message}` }),
  index_unreadable: (_, taskId) =>
    new AppError({
      reason: "Unavailable",
      message: `The findings of task ${taskId} are not readable on this server (its DATA_DIR lacks the index the worker wrote). ` +
        "Retry later; if it persists, the operator must share DATA_DIR between workers and the MCP server."
    }),
  file_unreadable: (_, taskId) => new AppError({ reason: "Internal", message: `The export of task ${taskId} could not be read.` }),
  malformed_xml: (_, taskId) => new AppError({ reason: "Internal", message: `The export of task ${taskId} is damaged.` }),
  unsupported_format: (_, taskId) => new AppError({ reason: "Internal", message: `The export of task ${taskId} has an unsupported format.` }),
  index_write_failed: (_, taskId) => new AppError({ reason: "Internal", message: `The findings index of task ${taskId} could not be written.` })
}

/**
 * Translates a validator error (from reading a task's findings) into the tool error an agent sees.
 *
 * @category errors
 */
export const fromValidatorError = (error: ValidatorError.ValidatorError, taskId: string): AppError => validatorReasons[error.reason](error, taskId)

// ---------------------------------------------------------------------------------------------------------
// Mapping
// ---------------------------------------------------------------------------------------------------------

const states: { readonly [S in Task.State]: Tools.ScanStatusOutput["status"] } = {
  queued: "queued",
  running: "running",
  completed: "completed",
  failed: "failed",
  timeout: "timeout",
  cancelled: "cancelled"
}

/**
 * The tool status of a scheduler state (one for one; the table makes a new scheduler state a compile error).
 *
 * @category mapping
 */
export const statusOf = (state: Task.State): Tools.ScanStatusOutput["status"] => states[state]

/** How long a found findings index is trusted without looking at its files again, and for how many tasks. */
const metaCacheMs = 1_000
const metaCacheSize = 1_024

const minutes = (ms: number | undefined): number | null => (ms === undefined ? null : Math.round(ms / 6000) / 10)

/**
 * Where a task's findings index can live, in order: `DATA_DIR/<task id>/index` (the worker's layout, valid
 * wherever DATA_DIR is mounted), then the path the worker recorded in `artifacts.index`.
 *
 * @category mapping
 */
export const indexDirsOf = (task: Task.Task, dataDir: string): ReadonlyArray<string> => {
  const own = path.join(dataDir, task.id, "index")
  const recorded = task.artifacts?.["index"]
  return recorded === undefined || path.resolve(dataDir, recorded) === own ? [own] : [own, path.resolve(dataDir, recorded)]
}

const isVerdict = (u: unknown): u is Verdict.Verdict =>
  typeof u === "object" && u !== null && "stats" in u && "authentication_status" in u && "hosts" in u

const lastError = (task: Task.Task): Task.AttemptError | undefined => task.errors[task.errors.length - 1]

/** The profile defaults: a page well under 25 000 tokens even with long plugin descriptions. */
const defaultPageSizes: { readonly [P in Findings.Profile | "custom"]: number } = {
  minimal: 100,
  summary: 50,
  brief: 20,
  full: 10,
  custom: 40
}

/** ~15 000 tokens at ~4 characters per token: above this a default-sized first page is halved. */
const pageBudgetChars = 60_000

/**
 * Keeps a page within the budget whatever its size: the longest text fields (huge `plugin_output`s) are cut,
 * longest first, with a marker, and `truncated_fields` names them on the finding. Filters still applied to the
 * full text.
 *
 * @category mapping
 */
export const fitPage = (
  findings: ReadonlyArray<Record<string, unknown>>,
  budget: number = pageBudgetChars
): ReadonlyArray<Record<string, unknown>> => {
  let size = JSON.stringify(findings).length
  if (size <= budget) return findings
  const out = findings.map((f) => ({ ...f }))
  for (let cap = 16_000; size > budget && cap >= 250; cap = Math.floor(cap / 2)) {
    for (const finding of out) {
      for (const [key, value] of Object.entries(finding)) {
        if (typeof value !== "string" || value.length <= cap) continue
        finding[key] = `${value.slice(0, cap)}… [truncated: ${value.length} characters; ask for fewer findings or fields to read it]`
        const cut = (finding["truncated_fields"] as Array<string> | undefined) ?? []
        if (!cut.includes(key)) finding["truncated_fields"] = [...cut, key]
      }
    }
    size = JSON.stringify(out).length
  }
  return out
}

const encodeCursor = (inner: string, pageSize: number): string => Buffer.from(JSON.stringify({ c: inner, s: pageSize })).toString("base64url")

const decodeCursor = (cursor: string): { readonly inner: string; readonly pageSize: number } | undefined => {
  try {
    const c = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")) as { c?: unknown; s?: unknown }
    return typeof c.c === "string" && typeof c.s === "number" && Number.isInteger(c.s) && c.s >= 1 ? { inner: c.c, pageSize: c.s } : undefined
  } catch {
    return undefined
  }
}

const invalidCursor = (problem: string) =>
  new AppError({ reason: "InvalidCursor", field: "cursor", message: `Invalid cursor: ${problem}. Pass next_cursor from the previous page unchanged, or start again without one.` })

const troubleshootingOf = (
  task: Task.Task,
  authentication: Tools.ScanStatusOutput["authentication_status"],
  verdict: Verdict.Verdict | undefined
): Tools.ScanStatusOutput["troubleshooting"] => {
  if (authentication !== "failed" && authentication !== "partial") return null
  const affected = (verdict?.hosts ?? []).filter((h) => h.authentication_status === authentication || h.authentication_status === "failed")
  const evidence = affected.flatMap((h) => h.evidence).slice(0, 3)
  const credential = task.credential?.kind === "named"
    ? `the stored credential "${task.credential.name}"`
    : task.credential?.kind === "inline"
    ? `the SSH account "${task.credential.username}"`
    : "the supplied credentials"
  if (authentication === "failed") {
    return {
      likely_cause: `Nessus could not log in with ${credential} on ${affected.length > 0 ? "any scanned host" : "the targets"}` +
        (evidence.length > 0 ? ` (${evidence.join("; ")})` : "") + ". The findings are network-only and miss local checks.",
      affected_hosts: affected.map((h) => h.name),
      next_steps: [
        `Check the username and password of ${credential} with a manual login: ssh <user>@<host>.`,
        "Make sure sshd accepts password logins for that account (PasswordAuthentication, AllowUsers/AllowGroups, account not locked or expired).",
        "Make sure the scanner can reach TCP port 22 of every target (firewalls, security groups).",
        "Fix the credential and submit the scan again with run_authenticated_scan."
      ]
    }
  }
  return {
    likely_cause: `The login with ${credential} worked, but privilege escalation or some checks did not on ` +
      `${affected.length > 0 ? affected.length : "some"} host(s)` + (evidence.length > 0 ? ` (${evidence.join("; ")})` : "") +
      ". Findings that need root are missing there.",
    affected_hosts: affected.map((h) => h.name),
    next_steps: [
      "Check the escalation method and password (e.g. `sudo -v` as the scan account on an affected host).",
      "Make sure the account may run commands as root without a TTY (sudoers: no requiretty) and is not restricted to specific commands.",
      "Fix the credential and submit the scan again."
    ]
  }
}

// ---------------------------------------------------------------------------------------------------------
// The service
// ---------------------------------------------------------------------------------------------------------

/**
 * Builds the service over the scheduler and the configuration (`DATA_DIR` for the findings).
 *
 * @category constructors
 */
export const make: Effect.Effect<ScanService["Service"], never, Scheduler.Scheduler | ScannerConfig.ScannerConfig | ServerConfig> = Effect.gen(function*() {
  const scheduler = yield* Scheduler.Scheduler
  const scannerConfig = yield* ScannerConfig.ScannerConfig
  const { dataDir } = yield* ServerConfig

  const sched = <A>(effect: Effect.Effect<A, SchedulerError.SchedulerError>) => Effect.mapError(effect, fromSchedulerError)

  /** A task by id; ids that cannot be task ids are unknown ids too, not argument errors. */
  const taskOf = (id: string) =>
    Task.decodeId(id).pipe(
      Effect.mapError(() => taskNotFound(id)),
      Effect.flatMap((taskId) => sched(scheduler.get(taskId)))
    )

  /** The readable index of a task and its metadata, if the worker wrote one. */
  const readMeta = (task: Task.Task) =>
    Effect.gen(function*() {
      for (const dir of indexDirsOf(task, dataDir)) {
        const meta = yield* Effect.option(FindingsIndex.meta(dir))
        if (Option.isSome(meta)) return Option.some({ dir, meta: meta.value })
      }
      return Option.none<{ readonly dir: string; readonly meta: FindingsIndex.IndexMeta }>()
    })

  // Agents poll get_scan_status, and FindingsIndex.meta stats meta.json on every call (a syscall, most of the
  // handler's time on a busy machine). A finished task's index does not change once written (the worker builds
  // it before completing the task), so a found index is trusted for a second per completion (`finishedAt` is
  // in the key, for a task run again); a missing one is looked for again on every call.
  const metaCache = new Map<string, { readonly at: number; readonly found: { readonly dir: string; readonly meta: FindingsIndex.IndexMeta } }>()
  const metaOf = (task: Task.Task) =>
    Effect.clockWith((clock) => {
      const key = `${task.id}@${task.finishedAt ?? ""}`
      const now = clock.currentTimeMillisUnsafe()
      const cached = metaCache.get(key)
      if (cached !== undefined && now - cached.at < metaCacheMs) return Effect.succeed(Option.some(cached.found))
      return Effect.map(readMeta(task), (found) => {
        metaCache.delete(key)
        if (Option.isSome(found)) {
          metaCache.set(key, { at: now, found: found.value })
          if (metaCache.size > metaCacheSize) metaCache.delete(metaCache.keys().next().value!)
        }
        return found
      })
    })

  /** Progress of a running task: on the task when the scheduler records it, else the worker's status.json. */
  const progressOf = (task: Task.Task) =>
    Effect.gen(function*() {
      const onTask = percent((task as unknown as { readonly progress?: unknown }).progress)
      if (onTask !== null) return onTask
      const status = yield* Effect.option(Effect.tryPromise(() => readFile(path.join(dataDir, task.id, "status.json"), "utf8")))
      if (Option.isNone(status)) return null
      try {
        return percent((JSON.parse(status.value) as { readonly progress?: unknown }).progress)
      } catch {
        return null
      }
    })

  const positionOf = (task: Task.Task) =>
    task.state === "queued" ? sched(scheduler.position(task.id)) : Effect.succeed(Option.none<Task.QueuePosition>())

  const scannerUrl = (instance: string | undefined) =>
    instance === undefined
      ? Effect.succeed(null)
      : Effect.map(scannerConfig.current, (c) => ScannerConfig.scannerOf(c, instance)?.url ?? null)

  // The tool layer serves every call with the server's Metrics; an implementation used on its own counts nothing.
  const count = (scanType: string, status: "queued" | "cancelled") =>
    Effect.flatMap(Effect.serviceOption(Metrics), Option.match({ onNone: () => Effect.void, onSome: (m) => m.recordScan(scanType, status) }))

  const submit = (request: Task.SubmitRequest, call: CallContext) =>
    Effect.gen(function*() {
      const submitted = yield* sched(scheduler.submit({ ...request, traceId: call.traceId }))
      const task = submitted.task
      const position = submitted.position
      const wait = minutes(position?.estimatedWaitMs)
      const where = position === undefined
        ? `it is already ${task.state}`
        : `position ${position.position} in pool "${task.pool}"${wait === null ? "" : `, estimated wait about ${Math.ceil(wait)} min`}`
      if (submitted.created) yield* count(task.scanType, "queued")
      yield* Effect.logInfo("scan submitted").pipe(
        Effect.annotateLogs({ task_id: task.id, pool: task.pool, scan_type: task.scanType, created: submitted.created })
      )
      return {
        task_id: task.id,
        trace_id: task.traceId,
        status: statusOf(task.state),
        scan_type: task.scanType,
        scanner_pool: task.pool,
        scanner_instance: task.requestedInstance ?? null,
        scanner_url: yield* scannerUrl(task.requestedInstance),
        queue_position: position?.position ?? null,
        estimated_wait_minutes: wait,
        idempotent_replay: !submitted.created,
        message: `${submitted.created ? "Scan queued" : "Existing task returned for this idempotency key"} as ${task.id} (${where}). ` +
          "Poll get_scan_status every 30-60 s; read findings with get_scan_results once it is completed."
      } satisfies Tools.SubmitScanOutput
    })

  const runUntrustedScan: ScanService["Service"]["runUntrustedScan"] = (input, call) =>
    submit({
      scanType: "untrusted",
      targets: input.targets,
      name: input.name,
      description: input.description,
      pool: input.scanner_pool,
      instance: input.scanner_instance,
      idempotencyKey: input.idempotency_key
    }, call)

  const runAuthenticatedScan: ScanService["Service"]["runAuthenticatedScan"] = (input, call) =>
    submit({
      scanType: input.scan_type,
      targets: input.targets,
      name: input.name,
      description: input.description,
      pool: input.scanner_pool,
      instance: input.scanner_instance,
      idempotencyKey: input.idempotency_key,
      credential: input.credential,
      inlineCredential: input.ssh_username !== undefined && input.ssh_password !== undefined
        ? {
          type: "ssh",
          username: input.ssh_username,
          password: input.ssh_password,
          elevatePrivilegesWith: input.elevate_privileges_with,
          escalationAccount: input.escalation_account,
          escalationPassword: input.escalation_password
        }
        : undefined
    }, call)

  const getScanStatus: ScanService["Service"]["getScanStatus"] = (input) =>
    Effect.gen(function*() {
      const task = yield* taskOf(input.task_id)
      const position = yield* positionOf(task)
      const meta = task.state === "completed" || task.state === "failed" ? yield* metaOf(task) : Option.none()
      const verdict = Option.isSome(meta) ? meta.value.meta.verdict : isVerdict(task.validation) ? task.validation : undefined
      const failure = lastError(task)
      const authentication: Tools.ScanStatusOutput["authentication_status"] = task.scanType === "untrusted"
        ? "not_applicable"
        : task.authenticationStatus ?? verdict?.authentication_status ??
          (failure?.reason === "authentication_failed" ? "failed" : Task.isTerminal(task.state) ? "unknown" : "pending")
      const warnings: Array<string> = [...(verdict?.warnings ?? [])]
      if (task.state === "queued" && failure !== undefined) {
        warnings.push(`Attempt ${failure.attempt} failed (${failure.reason}: ${failure.message}); the task is queued for a retry` +
          (task.retryAt !== undefined ? ` at ${task.retryAt}.` : "."))
      }
      if (task.cancelRequested) warnings.push("Cancelled while running: its worker stops the Nessus scan and discards the findings.")
      if (task.takeovers > 0) warnings.push(`Resumed by another worker ${task.takeovers} time(s) after a worker stopped.`)
      const readable = verdict !== undefined && (task.state === "completed" || (task.state === "failed" && Option.isSome(meta)))
      const progress = task.state === "completed" ? 100 : task.state === "running" ? yield* progressOf(task) : null
      return {
        task_id: task.id,
        trace_id: task.traceId,
        name: task.name,
        scan_type: task.scanType,
        status: statusOf(task.state),
        phase: task.phase ?? null,
        progress,
        queue_position: Option.match(position, { onNone: () => null, onSome: (p) => p.position }),
        estimated_wait_minutes: Option.match(position, { onNone: () => null, onSome: (p) => minutes(p.estimatedWaitMs) }),
        targets: task.targets.join(", "),
        scanner_pool: task.pool,
        scanner_instance: task.instance ?? task.requestedInstance ?? null,
        nessus_scan_id: task.nessusScanId ?? null,
        created_at: task.createdAt,
        started_at: task.startedAt ?? null,
        completed_at: task.finishedAt ?? null,
        authentication_status: authentication,
        warnings,
        error_message: task.state === "failed" || task.state === "timeout"
          ? failure?.message ?? verdict?.error?.message ?? "The task failed without a recorded reason."
          : null,
        results_summary: readable && verdict !== undefined
          ? {
            hosts_scanned: verdict.stats.hosts_scanned,
            total_vulnerabilities: verdict.stats.total_vulnerabilities,
            severity_breakdown: { ...verdict.stats.severity_counts },
            file_size_kb: Math.round(verdict.stats.file_size_bytes / 102.4) / 10
          }
          : null,
        troubleshooting: troubleshootingOf(task, authentication, verdict)
      } satisfies Tools.ScanStatusOutput
    })

  const getScanResults: ScanService["Service"]["getScanResults"] = (input) =>
    Effect.gen(function*() {
      const task = yield* taskOf(input.task_id)
      const meta = task.state === "completed" || task.state === "failed" ? yield* metaOf(task) : Option.none()
      if (Option.isNone(meta)) {
        if (task.state === "completed") return yield* Effect.fail(validatorReasons.index_unreadable(undefined as never, task.id))
        return yield* Effect.fail(new AppError({
          reason: "ResultsNotReady",
          field: "task_id",
          message: task.state === "queued" || task.state === "running"
            ? `Task ${task.id} is ${task.state}; findings are readable once it is completed. Poll get_scan_status.`
            : `Task ${task.id} ended ${task.state} without findings. See get_scan_status for why.`
        }))
      }
      const dir = meta.value.dir
      const profileKey: Findings.Profile | "custom" = input.fields !== undefined ? "custom" : input.profile ?? "brief"
      const fromCursor = input.cursor === undefined ? undefined : decodeCursor(input.cursor)
      if (input.cursor !== undefined && fromCursor === undefined) return yield* Effect.fail(invalidCursor("it was not issued by this server"))
      if (fromCursor !== undefined && input.page_size !== undefined && input.page_size !== fromCursor.pageSize) {
        return yield* Effect.fail(invalidCursor(`it belongs to pages of ${fromCursor.pageSize} findings, not ${input.page_size}`))
      }
      const selection = input.fields !== undefined ? { fields: input.fields } : { profile: input.profile ?? "brief" }
      const query = (pageSize: number) =>
        FindingsIndex.query(dir, {
          ...selection,
          ...(input.filters !== undefined ? { filters: input.filters } : {}),
          page_size: pageSize,
          ...(fromCursor !== undefined ? { cursor: fromCursor.inner } : {}),
          ...(input.page !== undefined ? { page: input.page } : {})
        }).pipe(Effect.mapError((e) => fromValidatorError(e, task.id)))
      let pageSize = fromCursor?.pageSize ?? input.page_size ?? defaultPageSizes[profileKey]
      let page = yield* query(pageSize)
      // Only a default-sized first page may shrink: later pages must keep the size their cursor was made for.
      while (input.page_size === undefined && fromCursor === undefined && input.page === undefined && pageSize > 1 &&
        JSON.stringify(page.findings).length > pageBudgetChars) {
        pageSize = Math.max(1, Math.floor(pageSize / 2))
        page = yield* query(pageSize)
      }
      yield* Effect.ignore(scheduler.touch(task.id))
      const fields = page.fields ?? [...new Set(page.findings.flatMap((f) => Object.keys(f)))].sort()
      return {
        task_id: task.id,
        scan_name: task.name,
        profile: page.profile,
        fields,
        filters_applied: (input.filters ?? {}),
        total: page.total,
        page: page.page,
        page_size: page.page_size,
        findings: fitPage(page.findings as ReadonlyArray<Record<string, unknown>>),
        next_cursor: page.next_cursor === null ? null : encodeCursor(page.next_cursor, page.page_size)
      } satisfies Tools.ScanResultsOutput
    })

  const scannerView = (s: Scheduler.ScannerStatus): Tools.ListScannersOutput["scanners"][number] => ({
    pool: s.pool,
    id: s.instanceId,
    name: s.name,
    url: s.url,
    enabled: s.enabled,
    capacity: s.maxConcurrentScans,
    running_scans: s.running,
    utilization_pct: Math.min(100, Math.round(s.utilisation * 1000) / 10),
    circuit_state: s.circuit.state
  })

  const listScanners: ScanService["Service"]["listScanners"] = (input) =>
    Effect.map(sched(scheduler.scanners(input.scanner_pool)), (scanners) => ({
      scanners: scanners.map(scannerView),
      total: scanners.length
    }))

  const listPools: ScanService["Service"]["listPools"] = () =>
    Effect.map(sched(scheduler.pools), ({ defaultPool, pools }) => ({
      pools: pools.map((p) => ({ pool: p.name, scanners: p.scanners, capacity: p.capacity, is_default: p.isDefault })),
      default_pool: defaultPool
    }))

  const getPoolStatus: ScanService["Service"]["getPoolStatus"] = (input) =>
    Effect.gen(function*() {
      const stats = yield* sched(scheduler.queueStats(input.scanner_pool))
      const scanners = yield* sched(scheduler.scanners(stats.pool))
      const running = scanners.reduce((n, s) => n + s.running, 0)
      return {
        pool: stats.pool,
        total_scanners: scanners.length,
        enabled_scanners: scanners.filter((s) => s.enabled).length,
        total_capacity: stats.capacity,
        running_scans: running,
        available_capacity: stats.available,
        utilization_pct: stats.capacity === 0 ? 0 : Math.min(100, Math.round((running / stats.capacity) * 1000) / 10),
        queue_depth: stats.queued + stats.delayed,
        scanners: scanners.map(scannerView)
      } satisfies Tools.PoolStatusOutput
    })

  const getQueueStatus: ScanService["Service"]["getQueueStatus"] = (input) =>
    Effect.gen(function*() {
      const stats = yield* sched(scheduler.queueStats(input.scanner_pool))
      return {
        pool: stats.pool,
        queue_depth: stats.queued + stats.delayed,
        dlq_size: stats.deadLettered,
        next_tasks: stats.next.map((t) => ({ task_id: t.id, name: t.name, scan_type: t.scanType })),
        timestamp: new Date().toISOString()
      } satisfies Tools.QueueStatusOutput
    })

  const listTasks: ScanService["Service"]["listTasks"] = (input) =>
    Effect.gen(function*() {
      if (input.cursor !== undefined && !/^\d{1,12}$/.test(input.cursor)) {
        return yield* Effect.fail(new AppError({ reason: "InvalidCursor", field: "cursor", message: "Invalid cursor: pass next_cursor from the previous list_tasks page unchanged." }))
      }
      if (input.target !== undefined && Result.isFailure(Targets.parseOne(input.target))) {
        return yield* Effect.fail(new AppError({ reason: "InvalidArgument", field: "target", message: "Invalid argument \"target\": expected one IP, CIDR, range or hostname." }))
      }
      const page = yield* sched(scheduler.list({
        state: input.status,
        pool: input.scanner_pool,
        target: input.target,
        limit: input.limit ?? 20,
        cursor: input.cursor
      }))
      return {
        tasks: page.tasks.map((t) => ({
          task_id: t.id,
          trace_id: t.traceId,
          name: t.name,
          scan_type: t.scanType,
          status: statusOf(t.state),
          scanner_pool: t.pool,
          scanner_instance: t.instance ?? t.requestedInstance ?? null,
          targets: t.targets.join(", "),
          nessus_scan_id: t.nessusScanId ?? null,
          created_at: t.createdAt,
          started_at: t.startedAt ?? null,
          completed_at: t.finishedAt ?? null
        })),
        next_cursor: page.cursor ?? null
      } satisfies Tools.ListTasksOutput
    })

  const cancelScan: ScanService["Service"]["cancelScan"] = (input) =>
    Effect.gen(function*() {
      const before = yield* taskOf(input.task_id)
      if (Task.isTerminal(before.state)) {
        return yield* Effect.fail(new AppError({
          reason: "NotCancellable",
          field: "task_id",
          message: `Task ${before.id} already ended (${before.state}); only queued or running tasks can be cancelled.`
        }))
      }
      const after = yield* sched(scheduler.cancel(before.id))
      // A running task turns cancelled at once; its worker sees the request, stops the Nessus scan and frees the slot.
      const stopping = before.state === "running"
      // A running task's end is counted by its worker once the scan is stopped; a queued one ends here.
      if (!stopping && after.state === "cancelled") yield* count(before.scanType, "cancelled")
      yield* Effect.logInfo("scan cancelled").pipe(Effect.annotateLogs({ task_id: after.id, previous_status: before.state }))
      return {
        task_id: after.id,
        previous_status: statusOf(before.state),
        outcome: stopping ? "stop_requested" : "cancelled",
        message: stopping
          ? `Task ${after.id} is cancelled; its worker is stopping the running Nessus scan (findings are discarded).`
          : `Task ${after.id} was removed from the queue; nothing ran on Nessus.`
      } satisfies Tools.CancelScanOutput
    })

  return ScanService.of({
    runUntrustedScan,
    runAuthenticatedScan,
    getScanStatus,
    getScanResults,
    listScanners,
    listPools,
    getPoolStatus,
    getQueueStatus,
    listTasks,
    cancelScan
  })
})

const percent = (value: unknown): number | null =>
  typeof value === "number" && Number.isFinite(value) ? Math.min(100, Math.max(0, value)) : null

/**
 * The service over an existing scheduler (e.g. the one an in-process worker shares).
 *
 * @category layers
 */
export const layer: Layer.Layer<ScanService, never, Scheduler.Scheduler | ScannerConfig.ScannerConfig | ServerConfig> = Layer.effect(ScanService, make)
