/**
 * The Nessus REST API's data, as `effect/Schema` codecs: what Nessus 6 to 10.x answers (decoded
 * leniently: unknown keys are ignored, optional keys may be missing or `null`) and what
 * `NessusClient` accepts to create a scan. Types are named after the schemas.
 */
import { Option, Redacted, Schema, SchemaTransformation } from "effect"

const opt = <S extends Schema.Top>(schema: S) => Schema.optionalKey(Schema.NullOr(schema))
const NumberOrString = Schema.Union([Schema.Number, Schema.String])

// ---------------------------------------------------------------------------------------------------
// Scan status

/**
 * Every scan status Nessus is known to report, plus `"unknown"` for anything else (decoding never fails
 * on a new status; treat `"unknown"` as "still going, keep polling").
 *
 * @category models
 */
export const ScanStatusLiteral = Schema.Literals([
  "empty",
  "pending",
  "initializing",
  "running",
  "pausing",
  "paused",
  "resuming",
  "stopping",
  "processing",
  "canceled",
  "completed",
  "aborted",
  "imported",
  "stopped",
  "unknown"
])

/**
 * A scan status.
 *
 * @category models
 */
export type ScanStatus = typeof ScanStatusLiteral.Type

const knownStatuses: ReadonlySet<string> = new Set(ScanStatusLiteral.literals)

/**
 * Decodes Nessus's status string into a `ScanStatus` (unrecognised values become `"unknown"`).
 *
 * @category schemas
 */
export const ScanStatus = Schema.String.pipe(
  Schema.decodeTo(
    ScanStatusLiteral,
    SchemaTransformation.transform({
      decode: (s: string): ScanStatus => (knownStatuses.has(s) ? (s as ScanStatus) : "unknown"),
      encode: (s: ScanStatus): string => s
    })
  )
)

/**
 * Statuses after which a scan run will not change any more: `completed`, `canceled`, `aborted`,
 * `imported`, `stopped`.
 *
 * @category predicates
 */
export const isTerminal = (status: ScanStatus): boolean =>
  status === "completed" || status === "canceled" || status === "aborted" || status === "imported" ||
  status === "stopped"

/**
 * Statuses of a scan that is queued or running and holds a scanner slot: `pending`, `initializing`,
 * `running`, `pausing`, `paused`, `resuming`, `stopping`, `processing`.
 *
 * @category predicates
 */
export const isActive = (status: ScanStatus): boolean =>
  status === "pending" || status === "initializing" || status === "running" || status === "pausing" ||
  status === "paused" || status === "resuming" || status === "stopping" || status === "processing"

// ---------------------------------------------------------------------------------------------------
// Errors and session

/**
 * Nessus's error body, always one key: `{"error": "Invalid Credentials"}`.
 *
 * @category schemas
 */
export const ErrorBody = Schema.Struct({ error: Schema.String })

/**
 * `POST /session` answer. The token is wrapped in `Redacted` as it is decoded.
 *
 * @category schemas
 */
export const SessionToken = Schema.Struct({
  token: Schema.RedactedFromValue(Schema.String),
  md5sum_wizard_templates: opt(Schema.String),
  md5sum_tenable_links: opt(Schema.String)
})

// ---------------------------------------------------------------------------------------------------
// Server

/**
 * `GET /server/status`: `{"status": "ready", "progress": null}` when idle, `"loading"` while starting.
 *
 * @category schemas
 */
export const ServerStatus = Schema.Struct({
  status: Schema.String,
  progress: opt(Schema.Number),
  code: opt(Schema.Number),
  initLevel: opt(Schema.Number),
  pluginSet: opt(Schema.Boolean),
  pluginData: opt(Schema.Boolean)
})
/**
 * A decoded `ServerStatus`.
 *
 * @category models
 */
export type ServerStatus = typeof ServerStatus.Type

/**
 * `license.features` of `GET /server/properties` (Nessus >= 10); `scan_api: false` means scan control
 * through the API answers 412.
 *
 * @category schemas
 */
export const LicenseFeatures = Schema.Struct({
  api: opt(Schema.Boolean),
  scan_api: opt(Schema.Boolean),
  policies: opt(Schema.Boolean),
  report: opt(Schema.Boolean),
  users: opt(Schema.Boolean)
})

/**
 * `license` of `GET /server/properties`.
 *
 * @category schemas
 */
export const License = Schema.Struct({
  type: opt(Schema.String),
  name: opt(Schema.String),
  restricted: opt(Schema.Boolean),
  ips: opt(NumberOrString),
  expiration_date: opt(Schema.Number),
  features: opt(LicenseFeatures)
})

/**
 * `GET /server/properties` (the fields automation uses; Nessus 6 has no `license.features`).
 *
 * @category schemas
 */
export const ServerProperties = Schema.Struct({
  nessus_type: opt(Schema.String),
  server_version: opt(Schema.String),
  nessus_ui_version: opt(Schema.String),
  server_uuid: opt(Schema.String),
  server_build: opt(Schema.String),
  platform: opt(Schema.String),
  feed: opt(Schema.String),
  loaded_plugin_set: opt(NumberOrString),
  license: opt(License)
})
/**
 * A decoded `ServerProperties`.
 *
 * @category models
 */
export type ServerProperties = typeof ServerProperties.Type

/**
 * Whether the licence allows scan control with API keys or a plain session. Servers that do not say
 * (Nessus 6, Manager) are taken to allow it.
 *
 * @category accessors
 */
export const scanApiAvailable = (properties: ServerProperties): boolean =>
  properties.license?.features?.scan_api ?? true

// ---------------------------------------------------------------------------------------------------
// Editor, scanners, policies, folders

/**
 * A scan template of `GET /editor/scan/templates`; `name` is the short id (`basic`, `advanced`).
 *
 * @category schemas
 */
export const Template = Schema.Struct({
  uuid: Schema.String,
  name: Schema.String,
  title: opt(Schema.String),
  desc: opt(Schema.String),
  cloud_only: opt(Schema.Boolean),
  subscription_only: opt(Schema.Boolean),
  is_agent: opt(Schema.Boolean),
  manager_only: opt(Schema.Boolean),
  unsupported: opt(Schema.Boolean)
})
/**
 * A decoded `Template`.
 *
 * @category models
 */
export type Template = typeof Template.Type

/**
 * `GET /editor/scan/templates`.
 *
 * @category schemas
 */
export const TemplateList = Schema.Struct({ templates: Schema.NullOr(Schema.Array(Template)) })

/**
 * A scanner of `GET /scanners` (the local scanner has id 1).
 *
 * @category schemas
 */
export const Scanner = Schema.Struct({
  id: Schema.Number,
  uuid: opt(Schema.String),
  name: Schema.String,
  type: opt(Schema.String),
  status: opt(Schema.String),
  scan_count: opt(Schema.Number),
  engine_version: opt(Schema.String),
  ui_version: opt(Schema.String),
  platform: opt(Schema.String),
  loaded_plugin_set: opt(NumberOrString)
})
/**
 * A decoded `Scanner`.
 *
 * @category models
 */
export type Scanner = typeof Scanner.Type

/**
 * `GET /scanners`.
 *
 * @category schemas
 */
export const ScannerList = Schema.Struct({ scanners: Schema.NullOr(Schema.Array(Scanner)) })

/**
 * A policy of `GET /policies`; a scan is created from it with `uuid = template_uuid` and `policy_id`.
 *
 * @category schemas
 */
export const Policy = Schema.Struct({
  id: Schema.Number,
  template_uuid: opt(Schema.String),
  name: Schema.String,
  description: opt(Schema.String),
  owner: opt(Schema.String),
  owner_id: opt(Schema.Number),
  visibility: opt(Schema.String),
  creation_date: opt(Schema.Number),
  last_modification_date: opt(Schema.Number)
})
/**
 * A decoded `Policy`.
 *
 * @category models
 */
export type Policy = typeof Policy.Type

/**
 * `GET /policies` (`"policies": null` when there are none).
 *
 * @category schemas
 */
export const PolicyList = Schema.Struct({ policies: Schema.NullOr(Schema.Array(Policy)) })

/**
 * A folder: `type` is `"main"` (My Scans, id 3 by default), `"trash"` (id 2) or `"custom"`.
 *
 * @category schemas
 */
export const Folder = Schema.Struct({
  id: Schema.Number,
  name: Schema.String,
  type: Schema.String,
  custom: opt(Schema.Number),
  default_tag: opt(Schema.Number),
  unread_count: opt(Schema.Number)
})
/**
 * A decoded `Folder`.
 *
 * @category models
 */
export type Folder = typeof Folder.Type

/**
 * `GET /folders`.
 *
 * @category schemas
 */
export const FolderList = Schema.Struct({ folders: Schema.NullOr(Schema.Array(Folder)) })

/**
 * `POST /folders` answer.
 *
 * @category schemas
 */
export const FolderCreated = Schema.Struct({ id: Schema.Number })

// ---------------------------------------------------------------------------------------------------
// Scans

/**
 * A scan in `GET /scans` (`uuid` is `null` before the first launch).
 *
 * @category schemas
 */
export const ScanSummary = Schema.Struct({
  id: Schema.Number,
  uuid: opt(Schema.String),
  name: Schema.String,
  status: ScanStatus,
  folder_id: opt(Schema.Number),
  owner: opt(Schema.String),
  type: opt(Schema.String),
  read: opt(Schema.Boolean),
  shared: opt(Schema.Boolean),
  enabled: opt(Schema.Boolean),
  control: opt(Schema.Boolean),
  user_permissions: opt(Schema.Number),
  creation_date: opt(Schema.Number),
  last_modification_date: opt(Schema.Number)
})
/**
 * A decoded `ScanSummary`.
 *
 * @category models
 */
export type ScanSummary = typeof ScanSummary.Type

/**
 * `GET /scans` (`"scans": null` when there are none).
 *
 * @category schemas
 */
export const ScanList = Schema.Struct({
  folders: opt(Schema.Array(Folder)),
  scans: opt(Schema.Array(ScanSummary)),
  timestamp: opt(Schema.Number)
})

/**
 * The `scan` of `POST /scans` (`uuid` is `"template-…"` until the first launch).
 *
 * @category schemas
 */
export const CreatedScan = Schema.Struct({
  id: Schema.Number,
  uuid: opt(Schema.String),
  name: Schema.String,
  description: opt(Schema.String),
  folder_id: opt(Schema.Number),
  scanner_id: opt(NumberOrString),
  policy_id: opt(Schema.Number),
  owner: opt(Schema.String),
  enabled: opt(Schema.Boolean),
  custom_targets: opt(Schema.String),
  creation_date: opt(Schema.Number),
  last_modification_date: opt(Schema.Number)
})
/**
 * A decoded `CreatedScan`.
 *
 * @category models
 */
export type CreatedScan = typeof CreatedScan.Type

/**
 * `POST /scans`.
 *
 * @category schemas
 */
export const ScanCreated = Schema.Struct({ scan: CreatedScan })

/**
 * `POST /scans/{id}/launch`: the run's uuid, equal to `history[].uuid` and the list's `uuid`.
 *
 * @category schemas
 */
export const ScanLaunched = Schema.Struct({ scan_uuid: Schema.String })

/**
 * `info` of `GET /scans/{id}` (there is no numeric progress here: see `progressPercent`).
 *
 * @category schemas
 */
export const ScanInfo = Schema.Struct({
  status: ScanStatus,
  name: opt(Schema.String),
  uuid: opt(Schema.String),
  folder_id: opt(Schema.Number),
  targets: opt(Schema.String),
  policy: opt(Schema.String),
  scanner_name: opt(Schema.String),
  hostcount: opt(Schema.Number),
  scan_start: opt(Schema.Number),
  scan_end: opt(Schema.Number),
  timestamp: opt(Schema.Number),
  object_id: opt(Schema.Number),
  schedule_uuid: opt(Schema.String),
  edit_allowed: opt(Schema.Boolean),
  control: opt(Schema.Boolean)
})
/**
 * A decoded `ScanInfo`.
 *
 * @category models
 */
export type ScanInfo = typeof ScanInfo.Type

/**
 * A host of `GET /scans/{id}` with its progress (`scanprogresscurrent` of `scanprogresstotal`, 0–100)
 * and severity counts.
 *
 * @category schemas
 */
export const ScanHost = Schema.Struct({
  host_id: Schema.Number,
  hostname: Schema.String,
  host_index: opt(Schema.Number),
  progress: opt(Schema.String),
  scanprogresscurrent: opt(Schema.Number),
  scanprogresstotal: opt(Schema.Number),
  numchecksconsidered: opt(Schema.Number),
  totalchecksconsidered: opt(Schema.Number),
  critical: opt(Schema.Number),
  high: opt(Schema.Number),
  medium: opt(Schema.Number),
  low: opt(Schema.Number),
  info: opt(Schema.Number),
  severity: opt(Schema.Number),
  score: opt(Schema.Number)
})
/**
 * A decoded `ScanHost`.
 *
 * @category models
 */
export type ScanHost = typeof ScanHost.Type

/**
 * A plugin row of `GET /scans/{id}` (`vulnerabilities[]`).
 *
 * @category schemas
 */
export const ScanVulnerability = Schema.Struct({
  plugin_id: Schema.Number,
  plugin_name: Schema.String,
  plugin_family: opt(Schema.String),
  count: opt(Schema.Number),
  severity: opt(Schema.Number),
  severity_index: opt(Schema.Number),
  vuln_index: opt(Schema.Number)
})
/**
 * A decoded `ScanVulnerability`.
 *
 * @category models
 */
export type ScanVulnerability = typeof ScanVulnerability.Type

/**
 * A run of the scan (`history[]` of `GET /scans/{id}`).
 *
 * @category schemas
 */
export const ScanHistory = Schema.Struct({
  history_id: Schema.Number,
  uuid: opt(Schema.String),
  status: ScanStatus,
  owner_id: opt(Schema.Number),
  creation_date: opt(Schema.Number),
  last_modification_date: opt(Schema.Number)
})
/**
 * A decoded `ScanHistory`.
 *
 * @category models
 */
export type ScanHistory = typeof ScanHistory.Type

/**
 * `GET /scans/{id}`.
 *
 * @category schemas
 */
export const ScanDetails = Schema.Struct({
  info: ScanInfo,
  hosts: opt(Schema.Array(ScanHost)),
  vulnerabilities: opt(Schema.Array(ScanVulnerability)),
  history: opt(Schema.Array(ScanHistory))
})
/**
 * A decoded `ScanDetails`.
 *
 * @category models
 */
export type ScanDetails = typeof ScanDetails.Type

/**
 * One overall percentage (0–100, whole number) for a scan: 100 once it completed or was imported,
 * otherwise the sum of the hosts' `scanprogresscurrent` over the sum of their `scanprogresstotal`
 * (a missing or zero total counts as 100), 0 before any host shows up.
 *
 * @category accessors
 */
export const progressPercent = (details: ScanDetails): number => {
  const status = details.info.status
  if (status === "completed" || status === "imported") return 100
  const hosts = details.hosts ?? []
  if (hosts.length === 0) return 0
  let current = 0
  let total = 0
  for (const host of hosts) {
    const hostTotal = host.scanprogresstotal && host.scanprogresstotal > 0 ? host.scanprogresstotal : 100
    current += Math.min(Math.max(host.scanprogresscurrent ?? 0, 0), hostTotal)
    total += hostTotal
  }
  return Math.min(100, Math.max(0, Math.floor((current / total) * 100)))
}

/**
 * `info` of `GET /scans/{id}/hosts/{host_id}`; the dashed keys are Nessus's.
 *
 * @category schemas
 */
export const HostInfo = Schema.Struct({
  "host-ip": opt(Schema.String),
  "host-fqdn": opt(Schema.String),
  "netbios-name": opt(Schema.String),
  "mac-address": opt(Schema.String),
  "operating-system": opt(Schema.Union([Schema.String, Schema.Array(Schema.String)])),
  host_start: opt(NumberOrString),
  host_end: opt(NumberOrString)
})

/**
 * A plugin row of a host (`vulnerabilities[]` of `GET /scans/{id}/hosts/{host_id}`).
 *
 * @category schemas
 */
export const HostVulnerability = Schema.Struct({
  plugin_id: Schema.Number,
  plugin_name: Schema.String,
  plugin_family: opt(Schema.String),
  severity: opt(Schema.Number),
  severity_index: opt(Schema.Number),
  count: opt(Schema.Number),
  host_id: opt(Schema.Number),
  hostname: opt(Schema.String),
  vuln_index: opt(Schema.Number)
})
/**
 * A decoded `HostVulnerability`.
 *
 * @category models
 */
export type HostVulnerability = typeof HostVulnerability.Type

/**
 * `GET /scans/{id}/hosts/{host_id}`.
 *
 * @category schemas
 */
export const HostDetails = Schema.Struct({
  info: HostInfo,
  vulnerabilities: opt(Schema.Array(HostVulnerability))
})
/**
 * A decoded `HostDetails`.
 *
 * @category models
 */
export type HostDetails = typeof HostDetails.Type

/**
 * One entry of `outputs[]` of `GET /scans/{id}/hosts/{host_id}/plugins/{plugin_id}`.
 *
 * @category schemas
 */
export const PluginOutputEntry = Schema.Struct({
  plugin_output: opt(Schema.String),
  hosts: opt(Schema.String),
  severity: opt(Schema.Number),
  ports: opt(Schema.Record(Schema.String, Schema.Unknown)),
  has_attachment: opt(Schema.Number)
})
/**
 * A decoded `PluginOutputEntry`.
 *
 * @category models
 */
export type PluginOutputEntry = typeof PluginOutputEntry.Type

/**
 * `GET /scans/{id}/hosts/{host_id}/plugins/{plugin_id}` (`info` carries the plugin description).
 *
 * @category schemas
 */
export const PluginOutput = Schema.Struct({
  info: opt(Schema.Record(Schema.String, Schema.Unknown)),
  outputs: opt(Schema.Array(PluginOutputEntry))
})
/**
 * A decoded `PluginOutput`.
 *
 * @category models
 */
export type PluginOutput = typeof PluginOutput.Type

/**
 * The text of the first `plugin_output` of a plugin answer, if any.
 *
 * @category accessors
 */
export const firstPluginOutput = (output: PluginOutput): Option.Option<string> =>
  Option.fromNullishOr((output.outputs ?? []).find((o) => typeof o.plugin_output === "string")?.plugin_output)

// ---------------------------------------------------------------------------------------------------
// Exports

/**
 * `POST /scans/{id}/export`: Nessus >= 8 answers `{"token", "file"}`, Nessus 6/7 only `{"file"}`.
 * The token is a download capability, so it is wrapped in `Redacted`.
 *
 * @category schemas
 */
export const ExportRequested = Schema.Struct({
  file: Schema.Number,
  token: Schema.optionalKey(Schema.RedactedFromValue(Schema.String))
})
/**
 * A decoded `ExportRequested`.
 *
 * @category models
 */
export type ExportRequested = typeof ExportRequested.Type

/**
 * State of an export: `loading` until the file is built, then `ready` or `error`.
 *
 * @category models
 */
export type ExportState = "loading" | "ready" | "error"

/**
 * `GET /scans/{id}/export/{file}/status` and `GET /tokens/{token}/status`: `{"status": "loading"}`,
 * `"ready"`, `"error"` (token status may say `"pending"`/`"processing"`, read as loading).
 *
 * @category schemas
 */
export const ExportStatus = Schema.Struct({
  status: Schema.String,
  message: opt(Schema.String)
})

/**
 * Reads an export status body as an `ExportState`.
 *
 * @category accessors
 */
export const exportState = (status: typeof ExportStatus.Type): ExportState =>
  status.status === "ready" ? "ready" : status.status === "error" ? "error" : "loading"

// ---------------------------------------------------------------------------------------------------
// Scan creation input

/**
 * Privilege escalation methods of Nessus's SSH credential (`elevate_privileges_with`).
 *
 * @category models
 */
export const Escalation = Schema.Literals([
  "Nothing",
  "sudo",
  "su",
  "su+sudo",
  "pbrun",
  "dzdo",
  ".k5login",
  "Cisco 'enable'",
  "Checkpoint Gaia 'expert'"
])
/**
 * A decoded `Escalation`.
 *
 * @category models
 */
export type Escalation = typeof Escalation.Type

const Secret = Schema.Redacted(Schema.String)
const NonEmpty = Schema.String.check(Schema.isNonEmpty())

/**
 * SSH password credential; `escalationAccount`/`escalationPassword` apply when `escalation` is not
 * `"Nothing"` (e.g. sudo user `root` and the sudo password).
 *
 * @category schemas
 */
export const SshCredential = Schema.Struct({
  username: NonEmpty,
  password: Secret,
  escalation: Schema.optionalKey(Escalation),
  escalationAccount: Schema.optionalKey(Schema.String),
  escalationPassword: Schema.optionalKey(Secret)
})
/**
 * A decoded `SshCredential`.
 *
 * @category models
 */
export type SshCredential = typeof SshCredential.Type

/**
 * Windows (SMB) password credential.
 *
 * @category schemas
 */
export const WindowsCredential = Schema.Struct({
  username: NonEmpty,
  password: Secret,
  domain: Schema.optionalKey(Schema.String)
})
/**
 * A decoded `WindowsCredential`.
 *
 * @category models
 */
export type WindowsCredential = typeof WindowsCredential.Type

/**
 * What to create: `targets` (one string, comma/newline separated, or a list), `template` as a short
 * name (`"basic"`, default) or a template uuid, optional folder, scanner (default: Nessus picks the
 * local one), policy, and credentials. Passwords must be `Redacted`.
 *
 * @category schemas
 */
export const CreateScan = Schema.Struct({
  name: NonEmpty,
  targets: Schema.Union([NonEmpty, Schema.Array(NonEmpty).check(Schema.isMinLength(1))]),
  description: Schema.optionalKey(Schema.String),
  template: Schema.optionalKey(NonEmpty),
  folderId: Schema.optionalKey(Schema.Number),
  scannerId: Schema.optionalKey(Schema.Number),
  policyId: Schema.optionalKey(Schema.Number),
  credentials: Schema.optionalKey(Schema.Struct({
    ssh: Schema.optionalKey(Schema.Array(SshCredential)),
    windows: Schema.optionalKey(Schema.Array(WindowsCredential))
  }))
})
/**
 * A decoded `CreateScan`.
 *
 * @category models
 */
export type CreateScan = typeof CreateScan.Type

/**
 * Whether a template reference is a Nessus template uuid (52 characters: a uuid and 16 hex digits)
 * rather than a short name.
 *
 * @category predicates
 */
export const isTemplateUuid = (s: string): boolean =>
  /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{28}$/i.test(s)

/**
 * Builds the JSON body of `POST /scans` (the one place credentials leave `Redacted`).
 *
 * @category constructors
 */
export const createScanBody = (spec: CreateScan, templateUuid: string): Record<string, unknown> => {
  const targets = typeof spec.targets === "string" ? spec.targets : spec.targets.join("\n")
  const settings: Record<string, unknown> = {
    name: spec.name,
    description: spec.description ?? "",
    text_targets: targets,
    enabled: false,
    launch: "ON_DEMAND",
    launch_now: false
  }
  if (spec.folderId !== undefined) settings["folder_id"] = spec.folderId
  if (spec.scannerId !== undefined) settings["scanner_id"] = spec.scannerId
  if (spec.policyId !== undefined) settings["policy_id"] = spec.policyId
  const body: Record<string, unknown> = { uuid: templateUuid, settings }
  const ssh = spec.credentials?.ssh ?? []
  const windows = spec.credentials?.windows ?? []
  if (ssh.length > 0 || windows.length > 0) {
    const host: Record<string, unknown> = {}
    if (ssh.length > 0) {
      host["SSH"] = ssh.map((c) => {
        const method = c.escalation ?? "Nothing"
        const entry: Record<string, unknown> = {
          auth_method: "password",
          username: c.username,
          password: Redacted.value(c.password),
          elevate_privileges_with: method,
          custom_password_prompt: "",
          target_priority_list: ""
        }
        if (method !== "Nothing") {
          if (c.escalationAccount !== undefined) entry["escalation_account"] = c.escalationAccount
          if (c.escalationPassword !== undefined) entry["escalation_password"] = Redacted.value(c.escalationPassword)
        }
        return entry
      })
    }
    if (windows.length > 0) {
      host["Windows"] = windows.map((c) => ({
        auth_method: "Password",
        username: c.username,
        password: Redacted.value(c.password),
        domain: c.domain ?? ""
      }))
    }
    body["credentials"] = { add: { Host: host }, edit: {}, delete: [] }
  }
  return body
}

/**
 * Extracts the web UI's `X-API-Token` from the `/nessus6.js` bundle: the uuid returned by
 * `getApiToken`, else the first uuid in the file.
 *
 * @category accessors
 */
export const extractApiToken = (script: string): Option.Option<string> => {
  const uuid = "[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}"
  const keyed = new RegExp(`getApiToken[^}]*?return\\s*["'](${uuid})["']`).exec(script)
  if (keyed?.[1] !== undefined) return Option.some(keyed[1])
  const first = new RegExp(uuid).exec(script)
  return Option.fromNullishOr(first?.[0])
}
