/**
 * The CLI's public contract, generated from the built commands: every command's id, args and flags
 * (`command-snapshot.json`) and the JSON Schema of its `--json` result (`schemas/<topic>-<verb>.json`, plus
 * `schemas/error.json` for failures). The test `contract.test.ts` fails when the committed files differ from
 * what the code produces; after a deliberate change, regenerate them:
 *
 *   pnpm --filter @nessus-mcp/admin-cli build && pnpm --filter @nessus-mcp/admin-cli contract:update
 */
import { Config } from "@oclif/core"
import { Schema } from "effect"
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"

/** The package root (apps/admin-cli). */
export const root: string = join(dirname(fileURLToPath(import.meta.url)), "..")

/** One command's entry in `command-snapshot.json`. */
export interface CommandSnapshot {
  readonly id: string
  readonly summary: string | undefined
  readonly args: Record<string, { readonly required: boolean; readonly description: string | undefined }>
  readonly flags: Record<string, {
    readonly type: string
    readonly char: string | undefined
    readonly required: boolean
    readonly multiple: boolean
    readonly env: string | undefined
    readonly options: ReadonlyArray<string> | undefined
    readonly default: unknown
    readonly exclusive: ReadonlyArray<string> | undefined
    readonly dependsOn: ReadonlyArray<string> | undefined
  }>
  readonly examples: number
}

/** A standalone draft 2020-12 JSON Schema file for a result schema (unknown keys rejected). */
const jsonSchema = (title: string, schema: Schema.Top): string => {
  const doc = Schema.toJsonSchemaDocument(schema, { onExcessProperty: "error" })
  const defs = Object.keys(doc.definitions).length > 0 ? { $defs: doc.definitions } : {}
  return `${JSON.stringify({ $schema: "https://json-schema.org/draft/2020-12/schema", title, ...doc.schema, ...defs }, null, 2)}\n`
}

/** What `contract:update` writes: file name → content. */
export const generate = async (): Promise<Map<string, string>> => {
  const config = await Config.load(root)
  const files = new Map<string, string>()
  const snapshot: Array<CommandSnapshot> = []
  const errorSchema = (await import(join(root, "dist/Views.js"))).ErrorResult as Schema.Top
  files.set("schemas/error.json", jsonSchema("nessus-admin error (any command, --json)", errorSchema))
  for (const id of [...config.commandIDs].sort()) {
    const cmd = config.findCommand(id)
    if (cmd === undefined) continue
    const flags: Record<string, CommandSnapshot["flags"][string]> = {}
    for (const name of Object.keys(cmd.flags).sort()) {
      const f = cmd.flags[name] as unknown as Record<string, unknown>
      flags[name] = {
        type: String(f["type"]),
        char: f["char"] as string | undefined,
        required: f["required"] === true,
        multiple: f["multiple"] === true,
        env: f["env"] as string | undefined,
        options: f["options"] as ReadonlyArray<string> | undefined,
        default: f["default"],
        exclusive: f["exclusive"] as ReadonlyArray<string> | undefined,
        dependsOn: f["dependsOn"] as ReadonlyArray<string> | undefined
      }
    }
    const args: CommandSnapshot["args"] = {}
    for (const [name, a] of Object.entries(cmd.args)) args[name] = { required: a.required === true, description: a.description }
    snapshot.push({ id: id.replace(/:/g, " "), summary: cmd.summary, args, flags, examples: (cmd.examples ?? []).length })
    const loaded = (await cmd.load()) as unknown as { readonly resultSchema?: Schema.Top }
    if (loaded.resultSchema === undefined) throw new Error(`command ${id} declares no resultSchema`)
    files.set(`schemas/${id.replace(/:/g, "-")}.json`, jsonSchema(`nessus-admin ${id.replace(/:/g, " ")} --json`, loaded.resultSchema))
  }
  files.set("command-snapshot.json", `${JSON.stringify(snapshot, null, 2)}\n`)
  return files
}

/** The committed files of the contract. */
export const committed = (): Map<string, string> => {
  const out = new Map<string, string>()
  const read = (rel: string) => {
    try {
      out.set(rel, readFileSync(join(root, rel), "utf8"))
    } catch {
      // absent: reported as a difference
    }
  }
  read("command-snapshot.json")
  let names: Array<string> = []
  try {
    names = readdirSync(join(root, "schemas"))
  } catch {
    names = []
  }
  for (const n of names) read(`schemas/${n}`)
  return out
}

/** Writes the generated contract, replacing `schemas/`. */
export const update = async (): Promise<ReadonlyArray<string>> => {
  const files = await generate()
  rmSync(join(root, "schemas"), { recursive: true, force: true })
  mkdirSync(join(root, "schemas"), { recursive: true })
  for (const [rel, text] of files) writeFileSync(join(root, rel), text)
  return [...files.keys()]
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1] && process.argv.includes("--update")) {
  const written = await update()
  console.log(`wrote ${written.length} files: ${written.join(", ")}`)
}
