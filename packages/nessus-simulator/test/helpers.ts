import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"

/** Repository root (this file is packages/nessus-simulator/test/helpers.ts). */
export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..")
/** The shared fixtures, read in place (never copied). */
export const fixturesDir = join(repoRoot, "..", "shared", "fixtures", "nessus")
/** The shared large-export tool. */
export const genTool = join(repoRoot, "..", "shared", "tools", "gen-large-nessus.py")

export const ADVANCED = "ad629e16-03b6-8c1d-cef6-ef8c9dd3c658d24bd260ef5f9e66"
export const BASIC = "731a8e52-3ea6-a291-ec0a-d2ff0619c19d7bd788d6be818b65"

export interface Reply {
  readonly status: number
  readonly headers: Headers
  readonly text: string
  readonly json: any
}

/** One HTTP call with plain fetch (not our client). */
export const call = async (
  base: string,
  method: string,
  path: string,
  options: { body?: unknown; headers?: Record<string, string> } = {}
): Promise<Reply> => {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { ...(options.body !== undefined ? { "Content-Type": "application/json" } : {}), ...options.headers },
    ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {})
  })
  const text = await res.text()
  let json: unknown
  try {
    json = text === "" ? undefined : JSON.parse(text)
  } catch {
    json = undefined
  }
  return { status: res.status, headers: res.headers, text, json }
}

/** Logs in and returns the X-Cookie header. */
export const login = async (base: string, username = "nessus", password = "nessus"): Promise<Record<string, string>> => {
  const r = await call(base, "POST", "/session", { body: { username, password } })
  if (r.status !== 200) throw new Error(`login failed: ${r.status} ${r.text}`)
  return { "X-Cookie": `token=${r.json.token}` }
}

/** Creates a scan and returns its id. */
export const createScan = async (
  base: string,
  auth: Record<string, string>,
  name: string,
  targets: string,
  credentials?: unknown
): Promise<number> => {
  const r = await call(base, "POST", "/scans", {
    headers: auth,
    body: {
      uuid: ADVANCED,
      settings: { name, text_targets: targets, launch_now: false, folder_id: 3, scanner_id: 1 },
      ...(credentials !== undefined ? { credentials } : {})
    }
  })
  if (r.status !== 200) throw new Error(`create failed: ${r.status} ${r.text}`)
  return r.json.scan.id as number
}

/** SSH credentials in the `credentials.add` shape Nessus takes. */
export const ssh = (c: { username: string; password: string; elevate?: string; escalationPassword?: string }) => ({
  add: {
    Host: {
      SSH: [{
        auth_method: "password",
        username: c.username,
        password: c.password,
        elevate_privileges_with: c.elevate ?? "Nothing",
        ...(c.escalationPassword !== undefined ? { escalation_password: c.escalationPassword, escalation_account: "root" } : {})
      }]
    }
  },
  edit: {},
  delete: []
})

/** Polls GET /scans/{id} until the status is one of `statuses`. */
export const waitStatus = async (
  base: string,
  auth: Record<string, string>,
  id: number,
  statuses: ReadonlyArray<string>,
  timeoutMs = 5000
): Promise<any> => {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const r = await call(base, "GET", `/scans/${id}`, { headers: auth })
    if (statuses.includes(r.json?.info?.status)) return r.json
    if (Date.now() > deadline) throw new Error(`scan ${id} stuck in ${r.json?.info?.status}, wanted ${statuses.join("|")}`)
    await new Promise((r) => setTimeout(r, 10))
  }
}

/** Requests an export, waits for ready on the given path, downloads it as text. */
export const exportText = async (
  base: string,
  auth: Record<string, string>,
  id: number,
  via: "file" | "token" = "file"
): Promise<string> => {
  const e = await call(base, "POST", `/scans/${id}/export`, { headers: auth, body: { format: "nessus" } })
  if (e.status !== 200) throw new Error(`export failed: ${e.status} ${e.text}`)
  const statusPath = via === "file" ? `/scans/${id}/export/${e.json.file}/status` : `/tokens/${e.json.token}/status`
  const downloadPath = via === "file" ? `/scans/${id}/export/${e.json.file}/download` : `/tokens/${e.json.token}/download`
  const deadline = Date.now() + 5000
  for (;;) {
    const s = await call(base, "GET", statusPath, { headers: auth })
    if (s.json?.status === "ready") break
    if (Date.now() > deadline) throw new Error(`export stuck: ${s.text}`)
    await new Promise((r) => setTimeout(r, 10))
  }
  return (await call(base, "GET", downloadPath, { headers: auth })).text
}
