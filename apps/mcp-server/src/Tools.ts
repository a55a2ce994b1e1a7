/**
 * The tool contracts of the Nessus MCP server, in one place: names (fixed by the product), descriptions
 * written for an agent, input and output schemas, annotations. The Effect schemas here are the single
 * source: the JSON Schemas in `tools/list` are generated from them, arguments are decoded with them (so an
 * error names the argument), and `structuredContent` is encoded with them. Handlers live behind
 * `ScanService`; the MCP wiring is in `McpServer`.
 */
import { Targets } from "@nessus-mcp/scheduler"
import { Result, Schema } from "effect"

// ---------------------------------------------------------------------------------------------------------
// Shared argument and result pieces
// ---------------------------------------------------------------------------------------------------------

const safeId = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/u

const Identifier = (what: string, example: string) =>
  Schema.String.check(
    Schema.isPattern(safeId, { message: `expected a ${what}: 1-128 letters, digits, "_", ".", ":" or "-" (e.g. ${example})` })
  )

/** A task id as returned by the submission tools. */
export const TaskId = Identifier("task id", "\"t_Xq3...\" as returned by a submission").annotate({
  description: "Task id returned by run_untrusted_scan / run_authenticated_scan (also listed by list_tasks)."
})

/** A scanner pool name from scanners.yaml. */
export const PoolName = Identifier("pool name", "\"nessus\"").annotate({
  description: "Scanner pool name (see list_pools). Omit to use the default pool."
})

/** A scanner instance id inside a pool. */
export const InstanceId = Identifier("scanner instance id", "\"scanner1\"").annotate({
  description: "Pin the scan to one scanner of the pool (see list_scanners). Omit to let the queue pick."
})

const printable = /^[^\u0000-\u001f\u007f]*$/u

/** Length bounds of target arguments (the scheduler bounds entries and the pool bounds the expansion). */
export const targetLimits = { maxLength: 8192, maxEntryLength: 255 } as const

/** The scan targets: IPs, CIDRs, IPv4 ranges and hostnames, separated by commas or whitespace. */
export const TargetList = Schema.String.annotate({
  description: "Hosts to scan, separated by commas or spaces: IPv4/IPv6 addresses (192.0.2.10), CIDRs " +
    "(198.51.100.0/28), IPv4 ranges (192.0.2.1-192.0.2.20 or 192.0.2.1-20) and hostnames (db1.example.com). " +
    "They must lie inside the pool's allowed targets; no ports, URLs or wildcards."
}).check(
  Schema.isMinLength(1),
  Schema.isMaxLength(targetLimits.maxLength),
  // The scheduler's grammar, so a list accepted here is never refused as malformed at submission.
  Schema.makeFilter((s: string) => {
    const parsed = Targets.parse(s)
    return Result.isFailure(parsed) ? parsed.failure : true
  }, { expected: "a list of IPs, CIDRs, IPv4 ranges or hostnames" })
)

const ScanName = Schema.String.check(
  Schema.isMinLength(1),
  Schema.isMaxLength(200),
  Schema.isPattern(printable, { message: "must not contain control characters" })
).annotate({ description: "A short human name for the scan, shown in Nessus and in list_tasks." })

const Description = Schema.String.check(
  Schema.isMaxLength(2000),
  Schema.isPattern(printable, { message: "must not contain control characters" })
).annotate({ description: "Optional longer description stored with the scan." })

const IdempotencyKey = Schema.String.check(
  Schema.isPattern(/^[A-Za-z0-9_.:-]{8,128}$/u, { message: "expected 8-128 letters, digits, \"_\", \".\", \":\" or \"-\"" })
).annotate({
  description: "Optional key that makes retries safe: the same key with the same arguments returns the task " +
    "created first instead of queuing a second scan (a different request under the same key is refused)."
})

/** The scan kinds the product runs. */
export const ScanType = Schema.Literals(["untrusted", "authenticated", "authenticated_privileged"]).annotate({
  description: "untrusted = unauthenticated network scan; authenticated = SSH login; authenticated_privileged = " +
    "SSH login plus privilege escalation (sudo, su, ...)."
})

/** Task states as tools report them: exactly the scheduler's states. */
export const TaskStatus = Schema.Literals(["queued", "running", "completed", "failed", "timeout", "cancelled"]).annotate({
  description: "queued = waiting for scanner capacity (or for a retry after a transient failure); running = a worker " +
    "drives the scan on Nessus; completed = results are readable; failed = see error_message (and troubleshooting); " +
    "timeout = the scan ran longer than the server allows and was stopped; cancelled = stopped on request."
})

/** Verdict of the credentialed-scan validation (Nessus plugin 19506 and friends). */
export const AuthenticationStatus = Schema.Literals(["not_applicable", "pending", "success", "partial", "failed", "unknown"])
  .annotate({
    description: "not_applicable for untrusted scans; pending until validated; success = credentials worked on " +
      "every host; partial = login worked but escalation or some checks failed (or only some hosts); failed = " +
      "credentials rejected; unknown = the scan ended without evidence either way (e.g. cancelled, no host answered)."
  })

const Timestamp = Schema.String.annotate({ description: "ISO 8601 UTC timestamp." })
const NonNegativeInt = Schema.Int.check(Schema.isGreaterThanOrEqualTo(0))
const Percent = Schema.Finite.check(Schema.isBetween({ minimum: 0, maximum: 100 }))

/** Nessus's privilege escalation methods for SSH credentials. */
export const EscalationMethod = Schema.Literals(["Nothing", "sudo", "su", "su+sudo", "pbrun", "dzdo"]).annotate({
  description: "How Nessus elevates privileges after the SSH login. Required (not \"Nothing\") for " +
    "authenticated_privileged scans."
})

const Secret = (description: string) =>
  Schema.RedactedFromValue(Schema.String.annotate({ description }).check(Schema.isMinLength(1), Schema.isMaxLength(1024)))

// ---------------------------------------------------------------------------------------------------------
// 1-2. Submissions
// ---------------------------------------------------------------------------------------------------------

const submissionFields = {
  targets: TargetList,
  name: ScanName,
  description: Schema.optionalKey(Description),
  scanner_pool: Schema.optionalKey(PoolName),
  scanner_instance: Schema.optionalKey(InstanceId),
  idempotency_key: Schema.optionalKey(IdempotencyKey)
}

/** Arguments of `run_untrusted_scan`. */
export const RunUntrustedScanInput = Schema.Struct(submissionFields)
/** @category models */
export type RunUntrustedScanInput = typeof RunUntrustedScanInput.Type

/** Arguments of `run_authenticated_scan`; passwords are decoded into `Redacted` values. */
export const RunAuthenticatedScanInput = Schema.Struct({
  ...submissionFields,
  scan_type: Schema.Literals(["authenticated", "authenticated_privileged"]).annotate({
    description: "authenticated = SSH login only; authenticated_privileged = SSH login plus escalation " +
      "(requires elevate_privileges_with)."
  }),
  credential: Schema.optionalKey(Identifier("credential name", "\"linux-audit\"").annotate({
    description: "Name of a credential stored on the server (preferred). Give either this or ssh_username + " +
      "ssh_password, not both."
  })),
  ssh_username: Schema.optionalKey(Schema.String.check(
    Schema.isPattern(/^[A-Za-z0-9_.@\\-]{1,128}$/u, { message: "expected 1-128 letters, digits, \"_\", \".\", \"@\", \"\\\" or \"-\"" })
  ).annotate({ description: "SSH user for an inline credential (only when the server allows inline credentials)." })),
  ssh_password: Schema.optionalKey(Secret("SSH password for an inline credential. Never echoed back, logged or stored in clear.")),
  elevate_privileges_with: Schema.optionalKey(EscalationMethod.annotate({
    description: "Escalation after the SSH login, for inline credentials (a stored credential defines its own). " +
      "Required (not \"Nothing\") for authenticated_privileged scans with ssh_username + ssh_password."
  })),
  escalation_account: Schema.optionalKey(Schema.String.check(
    Schema.isPattern(/^[A-Za-z0-9_.@\\-]{1,128}$/u, { message: "expected 1-128 letters, digits, \"_\", \".\", \"@\", \"\\\" or \"-\"" })
  ).annotate({ description: "Account to escalate to (default root)." })),
  escalation_password: Schema.optionalKey(
    Secret("Password for the escalation method (e.g. the sudo password) when it differs from ssh_password.")
  )
})
/** @category models */
export type RunAuthenticatedScanInput = typeof RunAuthenticatedScanInput.Type

/** Result of both submission tools. */
export const SubmitScanOutput = Schema.Struct({
  task_id: Schema.String,
  trace_id: Schema.String,
  status: TaskStatus,
  scan_type: ScanType,
  scanner_pool: Schema.String,
  scanner_instance: Schema.NullOr(Schema.String),
  scanner_url: Schema.NullOr(Schema.String),
  queue_position: Schema.NullOr(NonNegativeInt),
  estimated_wait_minutes: Schema.NullOr(Schema.Finite.check(Schema.isGreaterThanOrEqualTo(0))),
  idempotent_replay: Schema.Boolean,
  message: Schema.String
})
/** @category models */
export type SubmitScanOutput = typeof SubmitScanOutput.Type

// ---------------------------------------------------------------------------------------------------------
// 3. get_scan_status
// ---------------------------------------------------------------------------------------------------------

/** Arguments of `get_scan_status` and `cancel_scan`. */
export const TaskIdInput = Schema.Struct({ task_id: TaskId })
/** @category models */
export type TaskIdInput = typeof TaskIdInput.Type

/** Finding counts by Nessus severity. */
export const SeverityBreakdown = Schema.Struct({
  critical: NonNegativeInt,
  high: NonNegativeInt,
  medium: NonNegativeInt,
  low: NonNegativeInt,
  info: NonNegativeInt
})

/** Result of `get_scan_status`. */
export const ScanStatusOutput = Schema.Struct({
  task_id: Schema.String,
  trace_id: Schema.String,
  name: Schema.String,
  scan_type: ScanType,
  status: TaskStatus,
  phase: Schema.NullOr(Schema.String).annotate({
    description: "Step a running task reached: creating, launched, polling, exporting or validating."
  }),
  progress: Schema.NullOr(Percent).annotate({ description: "Scan progress in percent while running (100 when completed)." }),
  queue_position: Schema.NullOr(NonNegativeInt),
  estimated_wait_minutes: Schema.NullOr(Schema.Finite.check(Schema.isGreaterThanOrEqualTo(0))),
  targets: Schema.String,
  scanner_pool: Schema.String,
  scanner_instance: Schema.NullOr(Schema.String),
  nessus_scan_id: Schema.NullOr(NonNegativeInt),
  created_at: Timestamp,
  started_at: Schema.NullOr(Timestamp),
  completed_at: Schema.NullOr(Timestamp),
  authentication_status: AuthenticationStatus,
  warnings: Schema.Array(Schema.String),
  error_message: Schema.NullOr(Schema.String),
  results_summary: Schema.NullOr(Schema.Struct({
    hosts_scanned: NonNegativeInt,
    total_vulnerabilities: NonNegativeInt,
    severity_breakdown: SeverityBreakdown,
    file_size_kb: Schema.Finite.check(Schema.isGreaterThanOrEqualTo(0))
  })),
  troubleshooting: Schema.NullOr(Schema.Struct({
    likely_cause: Schema.String,
    affected_hosts: Schema.Array(Schema.String),
    next_steps: Schema.Array(Schema.String)
  }))
})
/** @category models */
export type ScanStatusOutput = typeof ScanStatusOutput.Type

// ---------------------------------------------------------------------------------------------------------
// 4. get_scan_results
// ---------------------------------------------------------------------------------------------------------

/** The validator's field profiles, smallest first. */
export const ResultsProfile = Schema.Literals(["minimal", "summary", "brief", "full"]).annotate({
  description: "Which fields each finding carries: minimal (host, plugin_id, severity, cve, cvss, exploit) < " +
    "summary (+ plugin_name, synopsis) < brief (+ description, solution; the default) < full (every field)."
})

const FilterValue = Schema.Union([Schema.String.check(Schema.isMaxLength(256)), Schema.Finite, Schema.Boolean])

/** Arguments of `get_scan_results`. */
export const GetScanResultsInput = Schema.Struct({
  task_id: TaskId,
  profile: Schema.optionalKey(ResultsProfile),
  fields: Schema.optionalKey(
    Schema.Array(Schema.String.check(Schema.isPattern(/^[a-z][a-z0-9_]{0,63}$/u, { message: "expected a field name like \"plugin_name\"" })))
      .check(Schema.isMinLength(1), Schema.isMaxLength(64))
      .annotate({ description: "Exact fields to return instead of a profile (e.g. [\"host\", \"plugin_id\", \"severity\"])." })
  ),
  filters: Schema.optionalKey(
    Schema.Record(Schema.String, FilterValue).check(Schema.isMaxProperties(16)).annotate({
      description: "AND of conditions by field: strings match case-insensitively as substrings; \">=3\", \"<7.5\", " +
        "\"=4\" compare numbers (e.g. {\"severity\": \">=3\"}); booleans and numbers match exactly."
    })
  ),
  page_size: Schema.optionalKey(Schema.Int.check(Schema.isBetween({ minimum: 1, maximum: 200 })).annotate({
    description: "Findings per page. Default by profile, sized well under 25 000 tokens: minimal 100, summary 50, " +
      "brief 20, full 10, explicit fields 40. Keep the same page_size (or omit it) when following next_cursor."
  })),
  cursor: Schema.optionalKey(Schema.String.check(Schema.isMinLength(1), Schema.isMaxLength(512)).annotate({
    description: "next_cursor from the previous page. Omit for the first page."
  })),
  page: Schema.optionalKey(Schema.Int.check(Schema.isBetween({ minimum: 1, maximum: 100000 })).annotate({
    description: "1-based page number, as an alternative to cursor."
  })),
  format: Schema.optionalKey(Schema.Literals(["json", "jsonl"]).annotate({
    description: "json (default): findings in structured content. jsonl: additionally renders the text content " +
      "as JSON lines (schema line, scan metadata line, one line per finding, pagination line)."
  }))
})
/** @category models */
export type GetScanResultsInput = typeof GetScanResultsInput.Type

/** Result of `get_scan_results`. */
export const ScanResultsOutput = Schema.Struct({
  task_id: Schema.String,
  scan_name: Schema.String,
  profile: Schema.String.annotate({ description: "The profile used, or \"custom\" when fields were given." }),
  fields: Schema.Array(Schema.String),
  filters_applied: Schema.Record(Schema.String, FilterValue),
  total: NonNegativeInt.annotate({ description: "Findings matching the filters, over all pages." }),
  page: Schema.Int.check(Schema.isGreaterThanOrEqualTo(1)),
  page_size: Schema.Int.check(Schema.isGreaterThanOrEqualTo(1)),
  findings: Schema.Array(Schema.Record(Schema.String, Schema.Unknown)),
  next_cursor: Schema.NullOr(Schema.String).annotate({ description: "Pass as cursor for the next page; null on the last page." })
})
/** @category models */
export type ScanResultsOutput = typeof ScanResultsOutput.Type

// ---------------------------------------------------------------------------------------------------------
// 5-8. Scanners, pools, queues
// ---------------------------------------------------------------------------------------------------------

/** Arguments of the pool-scoped reads. */
export const PoolInput = Schema.Struct({ scanner_pool: Schema.optionalKey(PoolName) })
/** @category models */
export type PoolInput = typeof PoolInput.Type

/** Circuit breaker state of a scanner. */
export const CircuitState = Schema.Literals(["closed", "open", "half_open"]).annotate({
  description: "closed = healthy; open = recent failures, no new scans are sent until it cools down; half_open = probing."
})

/** One scanner with live figures. */
export const Scanner = Schema.Struct({
  pool: Schema.String,
  id: Schema.String,
  name: Schema.String,
  url: Schema.String,
  enabled: Schema.Boolean,
  capacity: NonNegativeInt,
  running_scans: NonNegativeInt,
  utilization_pct: Percent,
  circuit_state: CircuitState
})

/** Result of `list_scanners`. */
export const ListScannersOutput = Schema.Struct({ scanners: Schema.Array(Scanner), total: NonNegativeInt })
/** @category models */
export type ListScannersOutput = typeof ListScannersOutput.Type

/** Arguments of `list_pools` (none). */
export const NoInput = Schema.Struct({})
/** @category models */
export type NoInput = typeof NoInput.Type

/** Result of `list_pools`. */
export const ListPoolsOutput = Schema.Struct({
  pools: Schema.Array(Schema.Struct({
    pool: Schema.String,
    scanners: NonNegativeInt,
    capacity: NonNegativeInt,
    is_default: Schema.Boolean
  })),
  default_pool: Schema.String
})
/** @category models */
export type ListPoolsOutput = typeof ListPoolsOutput.Type

/** Result of `get_pool_status`. */
export const PoolStatusOutput = Schema.Struct({
  pool: Schema.String,
  total_scanners: NonNegativeInt,
  enabled_scanners: NonNegativeInt,
  total_capacity: NonNegativeInt,
  running_scans: NonNegativeInt,
  available_capacity: NonNegativeInt,
  utilization_pct: Percent,
  queue_depth: NonNegativeInt,
  scanners: Schema.Array(Scanner)
})
/** @category models */
export type PoolStatusOutput = typeof PoolStatusOutput.Type

/** Result of `get_queue_status`: no arguments of queued tasks beyond ids, names and types. */
export const QueueStatusOutput = Schema.Struct({
  pool: Schema.String,
  queue_depth: NonNegativeInt,
  dlq_size: NonNegativeInt,
  next_tasks: Schema.Array(Schema.Struct({ task_id: Schema.String, name: Schema.String, scan_type: ScanType })),
  timestamp: Timestamp
})
/** @category models */
export type QueueStatusOutput = typeof QueueStatusOutput.Type

// ---------------------------------------------------------------------------------------------------------
// 9. list_tasks
// ---------------------------------------------------------------------------------------------------------

/** Arguments of `list_tasks`. */
export const ListTasksInput = Schema.Struct({
  limit: Schema.optionalKey(Schema.Int.check(Schema.isBetween({ minimum: 1, maximum: 100 })).annotate({
    description: "Tasks per page (default 20)."
  })),
  status: Schema.optionalKey(TaskStatus),
  scanner_pool: Schema.optionalKey(PoolName),
  target: Schema.optionalKey(Schema.String.annotate({
    description: "Only tasks whose targets contain, are contained in, or overlap this IP/CIDR/range, or name this host."
  }).check(
    Schema.isMaxLength(targetLimits.maxEntryLength),
    Schema.makeFilter((s: string) => {
      const parsed = Targets.parseOne(s)
      return Result.isFailure(parsed) ? parsed.failure : true
    }, { expected: "one IP, CIDR, IPv4 range or hostname" })
  )),
  cursor: Schema.optionalKey(Schema.String.check(Schema.isMinLength(1), Schema.isMaxLength(512)).annotate({
    description: "next_cursor from the previous page."
  }))
})
/** @category models */
export type ListTasksInput = typeof ListTasksInput.Type

/** One task in `list_tasks`. */
export const TaskSummary = Schema.Struct({
  task_id: Schema.String,
  trace_id: Schema.String,
  name: Schema.String,
  scan_type: ScanType,
  status: TaskStatus,
  scanner_pool: Schema.String,
  scanner_instance: Schema.NullOr(Schema.String),
  targets: Schema.String,
  nessus_scan_id: Schema.NullOr(NonNegativeInt),
  created_at: Timestamp,
  started_at: Schema.NullOr(Timestamp),
  completed_at: Schema.NullOr(Timestamp)
})

/** Result of `list_tasks`, newest first. */
export const ListTasksOutput = Schema.Struct({
  tasks: Schema.Array(TaskSummary),
  next_cursor: Schema.NullOr(Schema.String)
})
/** @category models */
export type ListTasksOutput = typeof ListTasksOutput.Type

// ---------------------------------------------------------------------------------------------------------
// 10. cancel_scan
// ---------------------------------------------------------------------------------------------------------

/** Result of `cancel_scan`. */
export const CancelScanOutput = Schema.Struct({
  task_id: Schema.String,
  previous_status: TaskStatus,
  outcome: Schema.Literals(["cancelled", "stop_requested"]).annotate({
    description: "cancelled = the queued task was removed before anything ran; stop_requested = the task was running: " +
      "it is cancelled now and its worker stops the Nessus scan within seconds."
  }),
  message: Schema.String
})
/** @category models */
export type CancelScanOutput = typeof CancelScanOutput.Type

// ---------------------------------------------------------------------------------------------------------
// Definitions
// ---------------------------------------------------------------------------------------------------------

/** MCP tool annotations (hints for clients; never trusted for security). */
export interface Annotations {
  readonly title: string
  readonly readOnlyHint: boolean
  readonly destructiveHint: boolean
  readonly idempotentHint: boolean
  readonly openWorldHint: boolean
}

/** One tool: its contract, without the handler. */
export interface Definition<I, IE, O, OE> {
  readonly name: string
  readonly title: string
  readonly description: string
  readonly input: Schema.Codec<I, IE>
  readonly output: Schema.Codec<O, OE>
  readonly annotations: Annotations
  /** Rules that tie several arguments together; returns the offending argument and the problem. */
  readonly crossCheck?: (input: I) => { readonly field: string; readonly problem: string } | undefined
  /** The text content block; JSON of the structured content unless overridden. */
  readonly renderText?: (input: I, output: OE) => string | undefined
}

const read = (title: string): Annotations => ({
  title,
  readOnlyHint: true,
  destructiveHint: false,
  idempotentHint: true,
  openWorldHint: false
})

const submission = (title: string): Annotations => ({
  title,
  readOnlyHint: false,
  destructiveHint: false,
  idempotentHint: false,
  openWorldHint: true
})

const submissionDescription = "Returns at once with a task_id (status queued): poll get_scan_status until completed, " +
  "then read findings with get_scan_results. Scans run on the pool's Nessus scanners in FIFO order as capacity frees up."

/** `run_untrusted_scan`. */
export const runUntrustedScan: Definition<RunUntrustedScanInput, typeof RunUntrustedScanInput.Encoded, SubmitScanOutput, typeof SubmitScanOutput.Encoded> = {
  name: "run_untrusted_scan",
  title: "Run an unauthenticated network scan",
  description: "Queue an unauthenticated (network-only) Nessus vulnerability scan of the given targets. " +
    submissionDescription + " Targets outside the pool's allowed scope are refused with TARGET_OUT_OF_SCOPE.",
  input: RunUntrustedScanInput,
  output: SubmitScanOutput,
  annotations: submission("Run untrusted scan")
}

/** `run_authenticated_scan`. */
export const runAuthenticatedScan: Definition<RunAuthenticatedScanInput, typeof RunAuthenticatedScanInput.Encoded, SubmitScanOutput, typeof SubmitScanOutput.Encoded> = {
  name: "run_authenticated_scan",
  title: "Run a credentialed (SSH) scan",
  description: "Queue a credentialed Nessus scan that logs in over SSH, optionally escalating privileges " +
    "(scan_type authenticated_privileged). Use a stored credential by name (it defines its own escalation), or " +
    "ssh_username + ssh_password (+ elevate_privileges_with, required for authenticated_privileged) when the server " +
    "allows inline credentials. " + submissionDescription +
    " get_scan_status reports authentication_status (success / partial / failed) once the scan is validated.",
  input: RunAuthenticatedScanInput,
  output: SubmitScanOutput,
  annotations: submission("Run authenticated scan"),
  crossCheck: (input) => {
    const inline = input.ssh_username !== undefined || input.ssh_password !== undefined
    if (input.credential !== undefined && inline) {
      return { field: "credential", problem: "give either credential or ssh_username + ssh_password, not both" }
    }
    if (input.credential === undefined && !inline) {
      return { field: "credential", problem: "a credential name, or ssh_username + ssh_password, is required" }
    }
    if (inline && input.ssh_username === undefined) return { field: "ssh_username", problem: "required with ssh_password" }
    if (inline && input.ssh_password === undefined) return { field: "ssh_password", problem: "required with ssh_username" }
    if (!inline) {
      // A stored credential carries its own escalation method and passwords (checked by the scheduler).
      const given = (["elevate_privileges_with", "escalation_account", "escalation_password"] as const).find((f) => input[f] !== undefined)
      return given === undefined ? undefined : {
        field: given,
        problem: "a stored credential defines its own privilege escalation; give it only with ssh_username + ssh_password"
      }
    }
    const method = input.elevate_privileges_with ?? "Nothing"
    if (input.scan_type === "authenticated_privileged" && method === "Nothing") {
      return {
        field: "elevate_privileges_with",
        problem: "authenticated_privileged scans need an escalation method (sudo, su, su+sudo, pbrun or dzdo)"
      }
    }
    if (method === "Nothing" && (input.escalation_account !== undefined || input.escalation_password !== undefined)) {
      return {
        field: input.escalation_account !== undefined ? "escalation_account" : "escalation_password",
        problem: "only meaningful with elevate_privileges_with (and scan_type authenticated_privileged)"
      }
    }
    if (input.scan_type === "authenticated" && method !== "Nothing") {
      return { field: "scan_type", problem: "use authenticated_privileged when elevate_privileges_with is set" }
    }
    return undefined
  }
}

/** `get_scan_status`. */
export const getScanStatus: Definition<TaskIdInput, typeof TaskIdInput.Encoded, ScanStatusOutput, typeof ScanStatusOutput.Encoded> = {
  name: "get_scan_status",
  title: "Get scan status",
  description: "Status of one scan task: status, phase and progress, queue position and estimated wait while " +
    "queued, scanner and Nessus scan id, timestamps, authentication_status and warnings. When completed it adds " +
    "results_summary (hosts, findings by severity); when authentication failed it adds troubleshooting steps. " +
    "Poll every 30-60 s; scans take minutes to hours.",
  input: TaskIdInput,
  output: ScanStatusOutput,
  annotations: read("Get scan status")
}

/** `get_scan_results`. */
export const getScanResults: Definition<GetScanResultsInput, typeof GetScanResultsInput.Encoded, ScanResultsOutput, typeof ScanResultsOutput.Encoded> = {
  name: "get_scan_results",
  title: "Get scan findings",
  description: "Findings of a completed scan, one page at a time, sized for an agent. Choose fields with a " +
    "profile (minimal, summary, brief = default, full) or an explicit fields list, narrow with filters (e.g. " +
    "{\"severity\": \">=3\"} for high and critical, {\"exploit_available\": true}, {\"host\": \"10.0.0.5\"}), and " +
    "follow next_cursor until it is null. total counts all matching findings. A page stays under ~15 000 tokens: " +
    "very long texts (e.g. plugin_output) are cut with a marker and listed in the finding's truncated_fields.",
  input: GetScanResultsInput,
  output: ScanResultsOutput,
  annotations: read("Get scan results"),
  crossCheck: (input) => {
    if (input.profile !== undefined && input.fields !== undefined) {
      return { field: "fields", problem: "give either profile or fields, not both" }
    }
    if (input.cursor !== undefined && input.page !== undefined) {
      return { field: "page", problem: "give either cursor or page, not both" }
    }
    return undefined
  },
  renderText: (input, output) => (input.format === "jsonl" ? renderJsonLines(output) : undefined)
}

/** `list_scanners`. */
export const listScanners: Definition<PoolInput, typeof PoolInput.Encoded, ListScannersOutput, typeof ListScannersOutput.Encoded> = {
  name: "list_scanners",
  title: "List scanners",
  description: "Every Nessus scanner (optionally of one pool) with live figures shared by all workers: enabled, " +
    "capacity, running scans, utilization and circuit breaker state.",
  input: PoolInput,
  output: ListScannersOutput,
  annotations: read("List scanners")
}

/** `list_pools`. */
export const listPools: Definition<NoInput, typeof NoInput.Encoded, ListPoolsOutput, typeof ListPoolsOutput.Encoded> = {
  name: "list_pools",
  title: "List scanner pools",
  description: "The scanner pools scans can be sent to, with their scanner count and capacity, and the default pool.",
  input: NoInput,
  output: ListPoolsOutput,
  annotations: read("List pools")
}

/** `get_pool_status`. */
export const getPoolStatus: Definition<PoolInput, typeof PoolInput.Encoded, PoolStatusOutput, typeof PoolStatusOutput.Encoded> = {
  name: "get_pool_status",
  title: "Get pool status",
  description: "Capacity and load of one pool (default pool when omitted): scanners, total and available " +
    "capacity, running scans, utilization and queue depth.",
  input: PoolInput,
  output: PoolStatusOutput,
  annotations: read("Get pool status")
}

/** `get_queue_status`. */
export const getQueueStatus: Definition<PoolInput, typeof PoolInput.Encoded, QueueStatusOutput, typeof QueueStatusOutput.Encoded> = {
  name: "get_queue_status",
  title: "Get queue status",
  description: "Queue of one pool (default pool when omitted): depth, dead-letter queue size and the next tasks " +
    "to run (ids, names and scan types only).",
  input: PoolInput,
  output: QueueStatusOutput,
  annotations: read("Get queue status")
}

/** `list_tasks`. */
export const listTasks: Definition<ListTasksInput, typeof ListTasksInput.Encoded, ListTasksOutput, typeof ListTasksOutput.Encoded> = {
  name: "list_tasks",
  title: "List scan tasks",
  description: "Scan tasks, newest first, optionally filtered by status, pool, or a target (an IP, CIDR, range or " +
    "hostname that matches tasks whose targets contain, are contained in, or overlap it). Follow next_cursor for more.",
  input: ListTasksInput,
  output: ListTasksOutput,
  annotations: read("List tasks")
}

/** `cancel_scan`. */
export const cancelScan: Definition<TaskIdInput, typeof TaskIdInput.Encoded, CancelScanOutput, typeof CancelScanOutput.Encoded> = {
  name: "cancel_scan",
  title: "Cancel a scan",
  description: "Cancel a scan task: a queued task is removed from the queue; a running scan is stopped on Nessus " +
    "(partial results are discarded). Tasks that already ended (completed, failed, timeout, cancelled) give NOT_CANCELLABLE.",
  input: TaskIdInput,
  output: CancelScanOutput,
  annotations: {
    title: "Cancel scan",
    readOnlyHint: false,
    destructiveHint: true,
    idempotentHint: true,
    openWorldHint: true
  }
}

/** All ten tools, in the order `tools/list` shows them. */
export const all = [
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
] as const

/** The fixed tool names. */
export type Name = (typeof all)[number]["name"]

/**
 * Renders a results page as the predecessor's JSON lines: a schema line, a scan metadata line, one line per
 * finding and a pagination line, for clients built for that format.
 */
export const renderJsonLines = (output: typeof ScanResultsOutput.Encoded): string => {
  const totalPages = Math.max(1, Math.ceil(output.total / output.page_size))
  const hasNext = output.next_cursor !== null
  const lines: Array<unknown> = [
    {
      type: "schema",
      profile: output.profile,
      fields: output.profile === "full" ? "all" : output.fields,
      filters_applied: output.filters_applied,
      total_vulnerabilities: output.total,
      total_pages: totalPages
    },
    { type: "scan_metadata", scan_name: output.scan_name },
    ...output.findings.map((finding) => ({ type: "vulnerability", ...finding })),
    {
      type: "pagination",
      page: output.page,
      page_size: output.page_size,
      total_pages: totalPages,
      has_next: hasNext,
      next_page: hasNext ? output.page + 1 : null,
      next_cursor: output.next_cursor
    }
  ]
  return lines.map((line) => JSON.stringify(line)).join("\n")
}
