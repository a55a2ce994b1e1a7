/**
 * Paths and file loading shared by the deployment checks. Everything is resolved from this file's
 * location, so the tests run the same from the repository root (vitest projects) or from prod/.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs"
import { dirname, join, relative, resolve } from "node:path"
import { fileURLToPath } from "node:url"
import { parseAllDocuments, parse as parseYaml } from "yaml"

/** The repository root (`/work/main` in the workspace). */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../../..")

/** `prod/` */
export const prodDir = join(repoRoot, "prod")

/** Absolute path of a repository-relative path. */
export const repoPath = (...parts: ReadonlyArray<string>): string => join(repoRoot, ...parts)

/** Repository-relative form of an absolute path, for messages. */
export const rel = (path: string): string => relative(repoRoot, path)

/** Text of a repository-relative file. */
export const readText = (...parts: ReadonlyArray<string>): string => readFileSync(repoPath(...parts), "utf8")

/** One YAML document, parsed strictly (duplicate keys and syntax errors throw, naming the file). */
export const readYaml = (...parts: ReadonlyArray<string>): unknown => {
  try {
    return parseYaml(readText(...parts), { merge: true, uniqueKeys: true, prettyErrors: true })
  } catch (error) {
    throw new Error(`${join(...parts)}: ${error instanceof Error ? error.message : String(error)}`)
  }
}

/** Every document of a multi-document YAML file; a document with errors throws, naming the file. */
export const readYamlDocuments = (...parts: ReadonlyArray<string>): ReadonlyArray<unknown> =>
  parseAllDocuments(readText(...parts), { merge: true, uniqueKeys: true, prettyErrors: true }).flatMap((doc) => {
    if ("errors" in doc && doc.errors.length > 0) throw new Error(`${join(...parts)}: ${doc.errors.map((e) => e.message).join("; ")}`)
    const value = "toJS" in doc ? doc.toJS() : undefined
    return value === null || value === undefined ? [] : [value]
  })

/** Files under a directory (recursively) whose name passes `keep`, skipping node_modules and dist. */
export const listFiles = (dir: string, keep: (name: string) => boolean): ReadonlyArray<string> => {
  if (!existsSync(dir)) return []
  const out: Array<string> = []
  for (const entry of readdirSync(dir)) {
    if (entry === "node_modules" || entry === "dist") continue
    const path = join(dir, entry)
    if (statSync(path).isDirectory()) out.push(...listFiles(path, keep))
    else if (keep(entry)) out.push(path)
  }
  return out.sort()
}

/** The apps present right now: `apps/<name>` directories with a package.json (discovered, not listed). */
export const apps = (): ReadonlyArray<{ readonly name: string; readonly dir: string; readonly pkg: Record<string, unknown> }> =>
  readdirSync(repoPath("apps"))
    .filter((name) => existsSync(repoPath("apps", name, "package.json")))
    .sort()
    .map((name) => ({ name, dir: repoPath("apps", name), pkg: JSON.parse(readText("apps", name, "package.json")) as Record<string, unknown> }))

/** A plain-object view of an unknown value (for walking parsed YAML/JSON without `any`). */
export const obj = (value: unknown): Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {}

/** An array view of an unknown value. */
export const arr = (value: unknown): ReadonlyArray<unknown> => (Array.isArray(value) ? value : [])
