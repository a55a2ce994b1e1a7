/**
 * Where exported findings come from: real `.nessus` exports (the shared fixtures, or files you name) or the
 * small built-in catalogue that ships with the package.
 *
 * @since 0.1.0
 */
import { existsSync, statSync } from "node:fs"
import { dirname, join, resolve as resolvePath } from "node:path"
import { fileURLToPath } from "node:url"
import { builtinCatalogue } from "./internal/builtin.js"
import { type CatalogueData, catalogueRegistry as registry, loadFixtures } from "./internal/catalogue.js"
import { SimulatorError } from "./SimulatorError.js"

/**
 * A loaded catalogue. Opaque apart from a few descriptive fields.
 *
 * @since 0.1.0
 */
export interface Catalogue {
  /** `fixtures` when built from real exports, `builtin` for the package's own templates. */
  readonly source: "fixtures" | "builtin"
  /** The export files it was read from (empty for `builtin`). */
  readonly files: ReadonlyArray<string>
  /** Host templates (one per ReportHost of the sources). */
  readonly hosts: number
  /** Distinct findings that need no credentials. */
  readonly findings: number
  /** Distinct findings only a credentialed scan yields (Local Security Checks families...). */
  readonly localFindings: number
  /** The `<policyName>` of the first source. */
  readonly policyName: string
}

const wrap = (data: CatalogueData): Catalogue => {
  const c: Catalogue = {
    source: data.source,
    files: data.files,
    hosts: data.hosts.length,
    findings: data.pool.length,
    localFindings: data.localPool.length,
    policyName: data.policyName
  }
  registry.set(c, data)
  return c
}

/**
 * Fixture files used when a fixtures directory is given or found: modern (10.x) exports first (the first one
 * supplies the `<Policy>` block), then older real exports that add variety, including credentialed hosts
 * whose Local Security Checks findings are replayed only on hosts whose credentials worked.
 *
 * @since 0.1.0
 */
export const DEFAULT_FIXTURES: ReadonlyArray<string> = [
  "eafonin__sample_scan.nessus",
  "defectdojo__nessus_with_cvssv3.nessus",
  "libnessus__nessus_report_localpci.nessus",
  "rubynessus__example_v3.nessus",
  "libnessus__nessus_report_local_3.nessus",
  "defectdojo__nessus_v_unknown.nessus"
]

/**
 * The built-in catalogue: ~30 hand-written findings on one Linux host template (works without fixtures).
 *
 * @since 0.1.0
 */
export const builtin = (): Catalogue => wrap(builtinCatalogue())

/**
 * Loads real exports. A directory means {@link DEFAULT_FIXTURES} inside it. Throws `SimulatorError`
 * (`Fixture`) when a file is missing or none is a `.nessus` v2 export.
 *
 * @since 0.1.0
 */
export const fromFiles = (paths: string | ReadonlyArray<string>): Catalogue => {
  const list = typeof paths === "string" ? [paths] : [...paths]
  const files = list.flatMap((p) => {
    const abs = resolvePath(p)
    if (existsSync(abs) && statSync(abs).isDirectory()) {
      return DEFAULT_FIXTURES.map((f) => join(abs, f)).filter((f) => existsSync(f))
    }
    return [abs]
  })
  try {
    return wrap(loadFixtures(files))
  } catch (cause) {
    throw new SimulatorError({
      reason: "Fixture",
      message: `Cannot load the fixture exports (${list.join(", ")}): ${(cause as Error).message}. ` +
        "Pass paths to real .nessus v2 files, or use the built-in catalogue (fixture: false).",
      cause
    })
  }
}

/**
 * Finds the shared fixtures directory (`shared/fixtures/nessus`) by walking up from `from` (default: this
 * package's location, then the working directory). Undefined when there is none, as in a published install.
 *
 * @since 0.1.0
 */
export const findFixturesDir = (from?: string): string | undefined => {
  const starts = from !== undefined ? [from] : [dirname(fileURLToPath(import.meta.url)), process.cwd()]
  for (const start of starts) {
    let dir = resolvePath(start)
    for (;;) {
      const candidate = join(dir, "shared", "fixtures", "nessus")
      if (existsSync(join(candidate, DEFAULT_FIXTURES[0]!))) return candidate
      const parent = dirname(dir)
      if (parent === dir) break
      dir = parent
    }
  }
  return undefined
}

/**
 * Resolves the `fixture` option used by the simulator and the generator: `false` → built-in; a path or paths →
 * those exports; `undefined` → the shared fixtures when found, else built-in.
 *
 * @since 0.1.0
 */
export const resolve = (fixture?: string | ReadonlyArray<string> | false | Catalogue): Catalogue => {
  if (fixture === false) return builtin()
  if (fixture === undefined) {
    const dir = findFixturesDir()
    return dir === undefined ? builtin() : fromFiles(dir)
  }
  if (typeof fixture === "object" && !Array.isArray(fixture) && "source" in fixture) return fixture as Catalogue
  return fromFiles(fixture as string | ReadonlyArray<string>)
}
