/** Small formatting helpers for the human (table) output. */

/** `42s`, `5m 03s`, `2h 10m`, `3d 4h`. */
export const duration = (seconds: number): string => {
  const s = Math.max(0, Math.round(seconds))
  if (s < 60) return `${s}s`
  if (s < 3600) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, "0")}s`
  if (s < 86_400) return `${Math.floor(s / 3600)}h ${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`
  return `${Math.floor(s / 86_400)}d ${Math.floor((s % 86_400) / 3600)}h`
}

/** How long ago an ISO timestamp was, e.g. `5m 03s ago`. */
export const ago = (iso: string | null | undefined, now = Date.now()): string =>
  iso === null || iso === undefined ? "-" : `${duration((now - Date.parse(iso)) / 1000)} ago`

/** A value or `-`. */
export const dash = (v: string | number | null | undefined): string => (v === null || v === undefined || v === "" ? "-" : String(v))

/** Cuts a string to `max` characters with an ellipsis; newlines become spaces. */
export const cut = (s: string, max: number): string => {
  const flat = s.replace(/\s+/g, " ").trim()
  return flat.length <= max ? flat : `${flat.slice(0, Math.max(0, max - 1))}…`
}

/** `0.5` → `50%`. */
export const percent = (ratio: number): string => `${Math.round(ratio * 100)}%`

/** A task's targets for a table cell. */
export const targets = (list: ReadonlyArray<string>, max = 32): string => cut(list.join(","), max)

/** Lines of an aligned table (the last column is not padded). */
export const table = (headers: ReadonlyArray<string>, rows: ReadonlyArray<ReadonlyArray<string>>): Array<string> => {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)))
  const line = (cells: ReadonlyArray<string>) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join("  ").trimEnd()
  return [line(headers), ...rows.map(line)]
}

/** Lines of aligned `key: value` pairs. */
export const fields = (pairs: ReadonlyArray<readonly [string, string]>): Array<string> => {
  const width = Math.max(0, ...pairs.map(([k]) => k.length)) + 1
  return pairs.map(([k, v]) => `${`${k}:`.padEnd(width)} ${v}`)
}

/** A task in full, for people (`tasks show`, `dlq inspect`). */
export const taskLines = (t: {
  readonly task_id: string
  readonly name: string
  readonly state: string
  readonly phase: string | null
  readonly progress: number | null
  readonly scan_type: string
  readonly targets: ReadonlyArray<string>
  readonly pool: string
  readonly requested_instance: string | null
  readonly instance: string | null
  readonly nessus_scan_id: number | null
  readonly scan_name: string | null
  readonly attempt: number
  readonly created_at: string
  readonly started_at: string | null
  readonly finished_at: string | null
  readonly retry_at: string | null
  readonly authentication_status: string | null
  readonly credential: { readonly kind: "named"; readonly name: string } | { readonly kind: "inline"; readonly username: string; readonly elevate_privileges_with: string } | null
  readonly lease: { readonly owner: string; readonly expires_at: string } | null
  readonly cancel_requested: boolean
  readonly takeovers: number
  readonly trace_id: string
  readonly artifacts: Readonly<Record<string, string>> | null
  readonly errors: ReadonlyArray<{ readonly attempt: number; readonly at: string; readonly reason: string; readonly message: string; readonly phase: string | null; readonly instance_id: string | null }>
}): Array<string> => {
  const lines = fields([
    ["Task", t.task_id],
    ["Name", t.name],
    ["State", `${t.state}${t.phase !== null && t.state === "running" ? ` (${t.phase}${t.progress !== null ? `, ${t.progress}%` : ""})` : ""}${t.cancel_requested ? ", cancel requested" : ""}`],
    ["Scan type", t.scan_type],
    ["Targets", t.targets.join(", ")],
    ["Pool", t.pool],
    ["Scanner", t.instance ?? (t.requested_instance !== null ? `${t.requested_instance} (requested)` : "-")],
    ["Nessus scan", t.nessus_scan_id === null ? "-" : `${t.nessus_scan_id}${t.scan_name !== null ? ` (${t.scan_name})` : ""}`],
    ["Attempts", String(t.attempt)],
    ["Credential", t.credential === null ? "-" : t.credential.kind === "named" ? `named "${t.credential.name}"` : `inline ssh user ${t.credential.username} (elevation ${t.credential.elevate_privileges_with})`],
    ["Authentication", dash(t.authentication_status)],
    ["Created", `${t.created_at} (${ago(t.created_at)})`],
    ["Started", t.started_at === null ? "-" : `${t.started_at} (${ago(t.started_at)})`],
    ["Finished", t.finished_at === null ? "-" : `${t.finished_at} (${ago(t.finished_at)})`],
    ...(t.retry_at !== null ? [["Retry at", t.retry_at] as const] : []),
    ...(t.lease !== null ? [["Lease", `${t.lease.owner} until ${t.lease.expires_at}`] as const] : []),
    ...(t.takeovers > 0 ? [["Takeovers", String(t.takeovers)] as const] : []),
    ["Trace id", t.trace_id],
    ...Object.entries(t.artifacts ?? {}).map(([k, v]) => [`Artifact ${k}`, v] as const)
  ])
  if (t.errors.length > 0) {
    lines.push("", "Failed attempts:")
    lines.push(...table(
      ["ATTEMPT", "AT", "REASON", "PHASE", "SCANNER", "MESSAGE"],
      t.errors.map((e) => [String(e.attempt), e.at, e.reason, dash(e.phase), dash(e.instance_id), e.message.replace(/\s+/g, " ")])
    ).map((l) => `  ${l}`))
  }
  return lines
}
