/** `nessus-admin config validate`: checks scanners.yaml and the environment it refers to. */
import { ScannerConfig } from "@nessus-mcp/scheduler"
import { Result } from "effect"
import { access, readFile } from "node:fs/promises"
import { BaseCommand, CommandError, ExitCode } from "../../BaseCommand.js"
import * as F from "../../Flags.js"
import * as Runtime from "../../Runtime.js"
import * as Views from "../../Views.js"

type Problem = typeof Views.ConfigProblem.Type

const ISSUE = /^\s+(.+?):(\d+): (\S+): (.*)$/

/** The problems listed in a `config_invalid` message (`  file:line: key: problem` lines). */
export const problemsOf = (message: string, file: string): Array<Problem> => {
  const out: Array<Problem> = []
  for (const line of message.split("\n").slice(1)) {
    const m = ISSUE.exec(line)
    if (m !== null) out.push({ file: m[1] ?? file, line: Number(m[2]), key: m[3] ?? "", problem: m[4] ?? "" })
  }
  return out.length > 0 ? out : [{ file, line: 0, key: "", problem: message }]
}

/** Validates a scanners file without starting anything; exit 0 when valid, 1 with every problem when not. */
export default class ConfigValidate extends BaseCommand<typeof ConfigValidate> {
  static override summary = "Check scanners.yaml and the environment variables it refers to; print problems with file and line"

  static override description =
    "Parses the scanners file exactly as the MCP server and the workers do (unknown keys, duplicate instance ids, bad URLs, " +
    "targets and values, ${VAR} references to unset variables) and also checks that every tls.ca_file is readable. Every " +
    "problem is printed as file:line: key: problem. It lists the variables the file refers to and whether each is set (never " +
    "their values), and summarises pools, scanners and named credentials (never a password). Exit codes: 0 valid, 1 not " +
    "valid, 3 the file cannot be read."

  static override examples = [
    "<%= config.bin %> <%= command.id %>",
    "<%= config.bin %> <%= command.id %> --config /etc/nessus-mcp/scanners.yaml",
    "SCANNER_CONFIG=config/scanners.yaml <%= config.bin %> <%= command.id %> --json"
  ]

  static override flags = { config: F.config }

  static override resultSchema = Views.ConfigValidate

  async run(): Promise<typeof Views.ConfigValidate.Type> {
    const file = Runtime.configPath(this.flags.config)
    const text = await readFile(file, "utf8").catch((e: NodeJS.ErrnoException) => {
      throw new CommandError("file_unreadable", `cannot read the scanners file ${file}: ${e.code ?? e.message}`, ExitCode.input)
    })
    const names = ScannerConfig.referencedVariables(text)
    const env: Record<string, string | undefined> = {}
    for (const n of names) env[n] = process.env[n]
    const environment = names.map((name) => ({
      name,
      set: process.env[name] !== undefined && process.env[name] !== "",
      has_default: new RegExp(`\\$\\{${name}:-`).test(text)
    }))
    const parsed = ScannerConfig.parse(text, { file, env })
    const problems: Array<Problem> = []
    let summary: typeof Views.ConfigValidate.Type["summary"] = null
    if (Result.isFailure(parsed)) problems.push(...problemsOf(parsed.failure.message, file))
    else {
      summary = Views.configSummary(parsed.success)
      const lines = text.split("\n")
      for (const s of parsed.success.pools.flatMap((p) => p.scanners)) {
        const ca = s.tls.caFile
        if (ca === undefined) continue
        const readable = await access(ca).then(() => true, () => false)
        if (!readable) {
          const at = lines.findIndex((l) => l.includes("ca_file") && l.includes(ca))
          problems.push({ file, line: at + 1, key: `scanner ${s.instanceId}: tls.ca_file`, problem: `${ca} cannot be read; mount the CA certificate there or fix the path` })
        }
      }
    }
    const result = { valid: problems.length === 0, file, problems, environment, summary }
    if (!result.valid) this.negative()
    if (!this.jsonEnabled()) this.print(result)
    return result
  }

  private print(r: typeof Views.ConfigValidate.Type): void {
    if (!r.valid) {
      this.log(`NOT VALID  ${r.file} (${r.problems.length} problem${r.problems.length === 1 ? "" : "s"})`)
      for (const p of r.problems) this.log(`${p.file}:${p.line}: ${p.key}: ${p.problem}`)
    } else if (r.summary !== null) {
      const scanners = r.summary.pools.flatMap((p) => p.scanners)
      this.log(`VALID  ${r.file}: ${r.summary.pools.length} pool(s), ${scanners.length} scanner(s), ${r.summary.credentials.length} named credential(s); default pool ${r.summary.default_pool}`)
      this.log("")
      this.table(
        ["POOL", "SCANNER", "URL", "AUTH", "API MODE", "MAX", "ENABLED", "TLS"],
        r.summary.pools.flatMap((p) =>
          p.scanners.map((s) => [p.name, s.instance_id, s.url, s.auth, s.api_mode, String(s.max_concurrent_scans), s.enabled ? "yes" : "no", s.tls])
        )
      )
    }
    if (r.environment.length > 0) {
      this.log("")
      this.log("Environment:")
      for (const v of r.environment) this.log(`  ${v.name}: ${v.set ? "set" : v.has_default ? "unset (the file's default applies)" : "UNSET"}`)
    }
  }
}
