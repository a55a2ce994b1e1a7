/**
 * The `--json` contract of every command: an Effect `Schema` per result (snake_case, `null` for absent
 * values, never `undefined`) and the mappers from the libraries' models to it. The schemas are the single
 * source of the committed JSON Schemas in `schemas/` (see the README's "Contract" section), and the tests
 * decode every command's real output with them, rejecting unknown keys.
 */
import type { ScannerConfig, Scheduler, Task } from "@nessus-mcp/scheduler"
import { Schema } from "effect"

const Str = Schema.String
const Num = Schema.Finite
const Bool = Schema.Boolean
const Nullable = <S extends Schema.Top>(s: S) => Schema.NullOr(s)
const nul = <A>(a: A | undefined): A | null => (a === undefined ? null : a)

// ---------------------------------------------------------------------------------------------------
// common

/** The error document every command prints with `--json` when it fails. */
export const ErrorResult = Schema.Struct({
  error: Schema.Struct({ code: Str, message: Str })
})

/** Task states. */
export const State = Schema.Literals(["queued", "running", "completed", "failed", "timeout", "cancelled"])
/** Phases of a running task. */
export const Phase = Schema.Literals(["creating", "launched", "polling", "exporting", "validating"])
/** Scan types. */
export const ScanType = Schema.Literals(["untrusted", "authenticated", "authenticated_privileged"])
/** Circuit states. */
export const CircuitState = Schema.Literals(["closed", "open", "half_open"])

/** One failed attempt of a task. */
export const AttemptError = Schema.Struct({
  attempt: Num,
  at: Str,
  reason: Str,
  message: Str,
  phase: Nullable(Str),
  instance_id: Nullable(Str)
})

/** A task as operators see it: everything the scheduler records except secrets (it holds none). */
export const TaskView = Schema.Struct({
  task_id: Str,
  trace_id: Str,
  name: Str,
  description: Str,
  scan_type: ScanType,
  targets: Schema.Array(Str),
  pool: Str,
  requested_instance: Nullable(Str),
  instance: Nullable(Str),
  nessus_scan_id: Nullable(Num),
  scan_name: Nullable(Str),
  state: State,
  phase: Nullable(Phase),
  /** 0–100 while running (from the task, else the worker's status.json), 100 when completed, else null. */
  progress: Nullable(Num),
  attempt: Num,
  errors: Schema.Array(AttemptError),
  created_at: Str,
  updated_at: Str,
  started_at: Nullable(Str),
  finished_at: Nullable(Str),
  last_access_at: Str,
  retry_at: Nullable(Str),
  authentication_status: Nullable(Str),
  validation: Schema.Unknown,
  artifacts: Nullable(Schema.Record(Str, Str)),
  credential: Nullable(Schema.Union([
    Schema.Struct({ kind: Schema.Literal("named"), name: Str }),
    Schema.Struct({ kind: Schema.Literal("inline"), type: Schema.Literal("ssh"), username: Str, elevate_privileges_with: Str })
  ])),
  idempotency_key: Nullable(Str),
  lease: Nullable(Schema.Struct({ owner: Str, expires_at: Str })),
  cancel_requested: Bool,
  takeovers: Num
})
/** A task as operators see it. */
export type TaskView = typeof TaskView.Type

/** The progress the worker recorded on the task (`setPhase(lease, phase, { progress })`), if any. */
export const recordedProgress = (task: Task.Task): number | undefined => {
  const p = task.progress
  return typeof p === "number" && Number.isFinite(p) ? Math.min(100, Math.max(0, Math.round(p))) : undefined
}

/** Maps a scheduler task to the operator view; `progress` overrides the recorded one (status.json). */
export const taskView = (t: Task.Task, progress?: number | undefined): TaskView => ({
  task_id: t.id,
  trace_id: t.traceId,
  name: t.name,
  description: t.description,
  scan_type: t.scanType,
  targets: [...t.targets],
  pool: t.pool,
  requested_instance: nul(t.requestedInstance),
  instance: nul(t.instance),
  nessus_scan_id: nul(t.nessusScanId),
  scan_name: nul(t.scanName),
  state: t.state,
  phase: nul(t.phase),
  progress: t.state === "completed" ? 100 : t.state === "running" ? nul(progress ?? recordedProgress(t)) : null,
  attempt: t.attempt,
  errors: t.errors.map((e) => ({
    attempt: e.attempt,
    at: e.at,
    reason: e.reason,
    message: e.message,
    phase: nul(e.phase),
    instance_id: nul(e.instanceId)
  })),
  created_at: t.createdAt,
  updated_at: t.updatedAt,
  started_at: nul(t.startedAt),
  finished_at: nul(t.finishedAt),
  last_access_at: t.lastAccessAt,
  retry_at: nul(t.retryAt),
  authentication_status: nul(t.authenticationStatus),
  validation: t.validation ?? null,
  artifacts: t.artifacts === undefined ? null : { ...t.artifacts },
  credential: t.credential === undefined
    ? null
    : t.credential.kind === "named"
    ? { kind: "named", name: t.credential.name }
    : { kind: "inline", type: "ssh", username: t.credential.username, elevate_privileges_with: t.credential.elevatePrivilegesWith },
  idempotency_key: nul(t.idempotencyKey),
  lease: t.lease === undefined ? null : { owner: t.lease.owner, expires_at: t.lease.expiresAt },
  cancel_requested: t.cancelRequested,
  takeovers: t.takeovers
})

/** Queue position of a queued task. */
export const PositionView = Schema.Struct({
  position: Num,
  ahead: Num,
  capacity: Num,
  running: Num,
  average_scan_seconds: Num,
  average_basis: Schema.Literals(["history", "default"]),
  estimated_wait_seconds: Nullable(Num),
  estimated_start_at: Nullable(Str)
})

/** Maps a queue position. */
export const positionView = (p: Task.QueuePosition): typeof PositionView.Type => ({
  position: p.position,
  ahead: p.ahead,
  capacity: p.capacity,
  running: p.running,
  average_scan_seconds: Math.round(p.averageScanMs / 1000),
  average_basis: p.averageBasis,
  estimated_wait_seconds: p.estimatedWaitMs === undefined ? null : Math.round(p.estimatedWaitMs / 1000),
  estimated_start_at: nul(p.estimatedStartAt)
})

const ageSeconds = (iso: string, now: number) => Math.max(0, Math.round((now - Date.parse(iso)) / 1000))

// ---------------------------------------------------------------------------------------------------
// queue

/** `queue stats`. */
export const QueueStats = Schema.Struct({
  pools: Schema.Array(Schema.Struct({
    pool: Str,
    is_default: Bool,
    queued: Num,
    bound: Num,
    delayed: Num,
    running: Num,
    dead_lettered: Num,
    capacity: Num,
    available: Num,
    /**
     * Running scans / capacity (0 when the pool has no enabled capacity). Slots an open circuit holds back are
     * not busy; it may exceed 1 while a reload has lowered the capacity below the running scans.
     */
    utilisation: Num,
    oldest_queued_age_seconds: Nullable(Num),
    average_scan_seconds: Nullable(Num),
    next: Schema.Array(Schema.Struct({ task_id: Str, name: Str, scan_type: ScanType, created_at: Str, age_seconds: Num }))
  }))
})

/** Maps one pool's figures. */
export const poolStatsView = (s: Scheduler.QueueStats, isDefault: boolean, now: number): typeof QueueStats.Type["pools"][number] => {
  const ages = s.next.map((t) => ageSeconds(t.createdAt, now))
  return {
    pool: s.pool,
    is_default: isDefault,
    queued: s.queued,
    bound: s.bound,
    delayed: s.delayed,
    running: s.running,
    dead_lettered: s.deadLettered,
    capacity: s.capacity,
    available: s.available,
    // Not (capacity - available): an open circuit makes slots unavailable without any scan running in them.
    utilisation: s.capacity === 0 ? 0 : Math.round((s.running / s.capacity) * 1000) / 1000,
    oldest_queued_age_seconds: ages.length === 0 ? null : Math.max(...ages),
    average_scan_seconds: s.averageScanMs === undefined ? null : Math.round(s.averageScanMs / 1000),
    next: s.next.map((t, i) => ({ task_id: t.id, name: t.name, scan_type: t.scanType, created_at: t.createdAt, age_seconds: ages[i] ?? 0 }))
  }
}

// ---------------------------------------------------------------------------------------------------
// dead-letter queue

/** One dead-letter entry in a listing. */
export const DlqRow = Schema.Struct({
  task_id: Str,
  pool: Str,
  name: Str,
  scan_type: ScanType,
  state: State,
  reason: Nullable(Str),
  message: Nullable(Str),
  attempts: Num,
  failed_at: Str
})

/** Maps a dead-letter entry to a listing row. */
export const dlqRow = (e: Scheduler.DlqEntry): typeof DlqRow.Type => ({
  task_id: e.task.id,
  pool: e.task.pool,
  name: e.task.name,
  scan_type: e.task.scanType,
  state: e.task.state,
  reason: nul(e.lastError?.reason),
  message: nul(e.lastError?.message),
  attempts: e.task.attempt,
  failed_at: e.failedAt
})

/** `dlq list`. */
export const DlqList = Schema.Struct({ total: Num, entries: Schema.Array(DlqRow) })

/** `dlq inspect`. */
export const DlqInspect = Schema.Struct({ failed_at: Str, last_error: Nullable(AttemptError), task: TaskView })

/** `dlq retry`. */
export const DlqRetry = Schema.Struct({
  retried: Schema.Array(Schema.Struct({ task_id: Str, pool: Str, state: State })),
  failed: Schema.Array(Schema.Struct({ task_id: Str, code: Str, message: Str }))
})

/** `dlq purge`. */
export const DlqPurge = Schema.Struct({
  purged: Num,
  older_than: Nullable(Str),
  pools: Schema.Array(Schema.Struct({ pool: Str, purged: Num }))
})

// ---------------------------------------------------------------------------------------------------
// tasks

/** `tasks list`. */
export const TaskList = Schema.Struct({ tasks: Schema.Array(TaskView), next_cursor: Nullable(Str) })

/** `tasks show`. */
export const TaskShow = Schema.Struct({ task: TaskView, position: Nullable(PositionView) })

/** `tasks cancel`. */
export const TaskCancel = Schema.Struct({
  task_id: Str,
  previous_state: State,
  state: State,
  outcome: Schema.Literals(["cancelled", "stop_requested"])
})

/** `tasks wait`. */
export const TaskWait = Schema.Struct({ task: TaskView, waited_seconds: Num })

// ---------------------------------------------------------------------------------------------------
// scanners and circuits

/** A circuit breaker. */
export const CircuitView = Schema.Struct({
  instance_id: Str,
  state: CircuitState,
  consecutive_failures: Num,
  retry_at: Nullable(Str),
  probe_task_id: Nullable(Str),
  changed_at: Nullable(Str)
})

/** Maps a circuit. */
export const circuitView = (c: Scheduler.CircuitStatus): typeof CircuitView.Type => ({
  instance_id: c.instanceId,
  state: c.state,
  consecutive_failures: c.consecutiveFailures,
  retry_at: nul(c.retryAt),
  probe_task_id: nul(c.probeTaskId),
  changed_at: nul(c.changedAt)
})

/** `circuits list`. */
export const CircuitList = Schema.Struct({
  circuits: Schema.Array(CircuitView),
  transitions: Schema.Array(Schema.Struct({ instance_id: Str, from: CircuitState, to: CircuitState, at: Str, reason: Str }))
})

/** `circuits reset`. */
export const CircuitReset = Schema.Struct({ previous_state: CircuitState, circuit: CircuitView })

/** `scanners list`. */
export const ScannerList = Schema.Struct({
  scanners: Schema.Array(Schema.Struct({
    instance_id: Str,
    name: Str,
    pool: Str,
    url: Str,
    api_mode: Schema.Literals(["auto", "api", "web-ui"]),
    enabled: Bool,
    max_concurrent_scans: Num,
    running: Num,
    available: Num,
    utilisation: Num,
    queued: Num,
    circuit_state: CircuitState
  }))
})

/** Maps a scanner with its live figures. */
export const scannerRow = (s: Scheduler.ScannerStatus): typeof ScannerList.Type["scanners"][number] => ({
  instance_id: s.instanceId,
  name: s.name,
  pool: s.pool,
  url: s.url,
  api_mode: s.apiMode,
  enabled: s.enabled,
  max_concurrent_scans: s.maxConcurrentScans,
  running: s.running,
  available: s.available,
  utilisation: Math.round(s.utilisation * 1000) / 1000,
  queued: s.queued,
  circuit_state: s.circuit.state
})

/** The outcome of one check of `scanners check`. */
export const CheckStep = Schema.Literals(["ok", "failed", "skipped"])

/** `scanners check`: one verdict per scanner. */
export const ScannerCheck = Schema.Struct({
  ok: Bool,
  scanners: Schema.Array(Schema.Struct({
    instance_id: Str,
    name: Str,
    pool: Str,
    url: Str,
    enabled: Bool,
    verdict: Schema.Literals(["ok", "warning", "failed"]),
    reachable: CheckStep,
    tls: Schema.Struct({ result: CheckStep, mode: Str }),
    login: CheckStep,
    server_status: Nullable(Str),
    nessus_version: Nullable(Str),
    nessus_type: Nullable(Str),
    scan_api: Nullable(Bool),
    api_mode_configured: Schema.Literals(["auto", "api", "web-ui"]),
    api_mode_used: Nullable(Schema.Literals(["api-keys", "session", "web-ui"])),
    problems: Schema.Array(Str),
    notes: Schema.Array(Str),
    elapsed_ms: Num
  }))
})

// ---------------------------------------------------------------------------------------------------
// configuration, housekeeping, reports

/** A problem in the scanners file. */
export const ConfigProblem = Schema.Struct({ file: Str, line: Num, key: Str, problem: Str })

/** `config reload`. */
export const ConfigReload = Schema.Struct({
  /** The admin's copy of the scanners file, validated before the request was sent. */
  file: Str,
  request: Schema.Struct({ id: Str, requested_at: Str, requested_by: Nullable(Str) }),
  /** Processes (subscriptions) that received the request: each reloads its own scanners file. */
  listeners: Num,
  /** Set when nobody received the request (nothing was reloaded). */
  warning: Nullable(Str)
})

/** Maps what `Scheduler.requestReload` returned. */
export const configReloadView = (file: string, r: Scheduler.ReloadRequested, warning: string | undefined): typeof ConfigReload.Type => ({
  file,
  request: { id: r.request.id, requested_at: r.request.requestedAt, requested_by: nul(r.request.requestedBy) },
  listeners: r.listeners,
  warning: nul(warning)
})

/** `config validate`. */
export const ConfigValidate = Schema.Struct({
  valid: Bool,
  file: Str,
  problems: Schema.Array(ConfigProblem),
  environment: Schema.Array(Schema.Struct({ name: Str, set: Bool, has_default: Bool })),
  summary: Nullable(Schema.Struct({
    default_pool: Str,
    pools: Schema.Array(Schema.Struct({
      name: Str,
      allowed_targets: Schema.Array(Str),
      max_targets: Num,
      scanners: Schema.Array(Schema.Struct({
        instance_id: Str,
        name: Str,
        url: Str,
        auth: Str,
        api_mode: Str,
        max_concurrent_scans: Num,
        enabled: Bool,
        tls: Str
      }))
    })),
    credentials: Schema.Array(Schema.Struct({ name: Str, type: Str, username: Str, elevate_privileges_with: Str }))
  }))
})

/** Maps a loaded configuration to the summary of `config validate` (no secrets). */
export const configSummary = (c: ScannerConfig.Config): NonNullable<typeof ConfigValidate.Type["summary"]> => ({
  default_pool: c.defaultPool,
  pools: c.pools.map((p) => ({
    name: p.name,
    allowed_targets: p.allowedTargets.map((t) => t.text),
    max_targets: p.maxTargets,
    scanners: p.scanners.map((s) => ({
      instance_id: s.instanceId,
      name: s.name,
      url: s.url,
      auth: s.auth._tag === "Password" ? `password (user ${s.auth.username})` : "api keys",
      api_mode: s.apiMode,
      max_concurrent_scans: s.maxConcurrentScans,
      enabled: s.enabled,
      tls: s.url.startsWith("http:")
        ? "none (plain http)"
        : s.tls.caFile !== undefined
        ? `ca_file ${s.tls.caFile}`
        : s.tls.fingerprint !== undefined
        ? "pinned fingerprint"
        : s.tls.insecure
        ? "insecure"
        : "system CAs"
    }))
  })),
  credentials: c.credentials.map((x) => ({ name: x.name, type: x.type, username: x.username, elevate_privileges_with: x.elevatePrivilegesWith }))
})

/** `housekeeping run`. */
export const Housekeeping = Schema.Struct({
  dry_run: Bool,
  expired: Schema.Array(Schema.Struct({ task_id: Str, state: State, last_access_at: Str })),
  timed_out: Schema.Array(Schema.Struct({ task_id: Str, instance_id: Nullable(Str), nessus_scan_id: Nullable(Num), started_at: Nullable(Str) })),
  scanner_scans: Schema.Array(Schema.Struct({ instance_id: Str, deleted: Num })),
  errors: Schema.Array(Str)
})

/** `report show`: the page `get_scan_results` serves, with the task it belongs to. */
export const ReportShow = Schema.Struct({
  task_id: Str,
  scan_name: Str,
  state: State,
  profile: Str,
  fields: Nullable(Schema.Array(Str)),
  filters_applied: Schema.Record(Str, Schema.Unknown),
  total: Num,
  page: Num,
  page_size: Num,
  total_pages: Num,
  findings: Schema.Array(Schema.Record(Str, Schema.Unknown)),
  next_cursor: Nullable(Str)
})

const AuthStatus = Schema.Literals(["success", "partial", "failed", "not_applicable", "unknown"])

/** `report validate`: the validator's `Verdict`, field for field. */
export const ReportValidate = Schema.Struct({
  valid: Bool,
  error: Nullable(Schema.Struct({ code: Schema.Literals(["authentication_failed", "no_hosts", "malformed_xml", "unsupported_format"]), message: Str })),
  warnings: Schema.Array(Str),
  authentication_status: AuthStatus,
  stats: Schema.Struct({
    file_size_bytes: Num,
    hosts_scanned: Num,
    findings_total: Num,
    severity_counts: Schema.Struct({ critical: Num, high: Num, medium: Num, low: Num, info: Num }),
    total_vulnerabilities: Num,
    credentialed_hosts: Num
  }),
  hosts: Schema.Array(Schema.Struct({
    name: Str,
    authentication_status: AuthStatus,
    credentialed_checks: Nullable(Schema.Literals(["yes", "no"])),
    evidence: Schema.Array(Str)
  }))
})
