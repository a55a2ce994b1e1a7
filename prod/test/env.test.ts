/**
 * prod/.env.example is the single list of variables: every variable an app reads (found in the apps'
 * source, apps discovered at run time), every ${VAR} of the compose files and scanners files, and every
 * variable the Kubernetes manifests set must be in it, documented with its meaning and default.
 */
import { assert, describe, it } from "@effect/vitest"
import { readFileSync } from "node:fs"
import { dollarBraceReferences, envReadsInSource, parseEnvFile, type Read, withoutYamlProse } from "./support/envNames.js"
import { apps, arr, listFiles, obj, readText, readYamlDocuments, rel, repoPath } from "./support/repo.js"

const envExample = parseEnvFile(readText("prod", ".env.example"))
const documented = new Set(envExample.map((e) => e.name))

const missing = (names: Iterable<string>) => [...new Set(names)].filter((n) => !documented.has(n)).sort()

/** Variables that belong to third-party images or Kubernetes plumbing, not to Nessus MCP. */
const foreign = new Set([
  "REDISCLI_AUTH", // redis-cli in the Redis container (health checks)
  "REDIS_ADDR", // redis_exporter
  "POD_IP" // Kubernetes downward API, only used to build MCP_ALLOWED_HOSTS
])

/**
 * Operating-system and terminal variables an app may read to fit its surroundings (is this a dumb
 * terminal, may it print colours, is it in CI, where is home or the temp directory). They are set by the
 * shell, the terminal or the CI runner, not by whoever deploys Nessus MCP, so they are not product
 * configuration and do not belong in .env.example. Keep this list short: a variable that changes what the
 * product does (ports, URLs, limits, LOG_LEVEL...) is configuration and must be documented instead.
 */
const operatingSystem = new Set([
  "TERM", // admin CLI: no redrawn progress line on TERM=dumb
  "NO_COLOR",
  "FORCE_COLOR",
  "CI",
  "HOME",
  "PATH",
  "TMPDIR",
  "NODE_ENV" // only as the Node.js convention for "production vs development", never a product setting
])

describe("the env var extractor", () => {
  it("finds reads through Config, process.env, env records and flag options, and ignores comments and strings", () => {
    const source = `
      import { Config as C, Effect } from "effect"
      import * as Cfg from "effect/Config"
      // Config.String("IN_A_COMMENT") and process.env.ALSO_COMMENT do not count
      const text = "Config.String(\\"IN_A_STRING\\")"
      export const config = C.all({
        a: C.String("ALPHA"),
        b: C.Literals(["stdio", "http"], "BRAVO").pipe(C.withDefault("stdio")),
        c: C.option(C.Redacted(\`CHARLIE\`)),
        d: Cfg.Port("DELTA"),
        e: C.nested(C.String("URL"), "ECHO"),
        f: C.all({ g: C.Int("PORT") }).pipe(C.nested("FOXTROT")),
        computed: C.String(\`\${prefix}IGNORED\`)
      })
      const x = process.env.GOLF ?? process.env["HOTEL"]
      const { INDIA, JULIET: j } = process.env
      function load(env: Record<string, string | undefined>, options: { env: Record<string, string> }) {
        return [env["KILO"], env.LIMA, options.env["MIKE"]]
      }
      const flags = { redis: Flags.string({ env: "NOVEMBER", description: "lower case not_an_env" }) }
      const code = "TASK_NOT_FOUND"
      const duration = (variable: string, fallback: string) => C.Duration(variable).pipe(C.withDefault(fallback))
      function list(label: string, variable: string) { return C.option(C.String(variable)).pipe(C.map((s) => label + s)) }
      const listOrEnv = (v: string) => list("x", v)
      const fromRecord = (key: string, env: Record<string, string>) => env[key]
      const settings = { poll: duration("OSCAR", "2 seconds"), pools: list("PAPA_IS_A_LABEL", "QUEBEC"), nested: listOrEnv("ROMEO"), raw: fromRecord("SIERRA", {}) }
      const notAHelper = (message: string) => C.fail(message)
      notAHelper("UNIFORM")
    `
    const names = envReadsInSource("sample.ts", source).map((r) => r.name).sort()
    assert.deepStrictEqual(names, [
      "ALPHA", "BRAVO", "CHARLIE", "DELTA", "ECHO_URL", "FOXTROT_PORT", "GOLF", "HOTEL", "INDIA", "JULIET", "KILO", "LIMA", "MIKE", "NOVEMBER",
      "OSCAR", "QUEBEC", "ROMEO", "SIERRA"
    ])
    const line = envReadsInSource("sample.ts", source).find((r) => r.name === "GOLF")!.line
    assert.strictEqual(source.split("\n")[line - 1]!.includes("GOLF"), true)
  })

  it("finds ${VAR} references with and without defaults, and skips $${ escapes", () => {
    assert.deepStrictEqual(dollarBraceReferences("a ${ONE} ${TWO:-x} ${THREE:?set it} ${FOUR-y} $${LITERAL} ${five}"), ["ONE", "TWO", "THREE", "FOUR", "five"])
    const yaml = "# Every ${PROSE} is documented\nkey: ${REAL} # or ${INLINE_PROSE}\n  # secret_key: ${COMMENTED_SETTING}\n  # - ${NOT_A_SETTING}\n"
    assert.deepStrictEqual(dollarBraceReferences(withoutYamlProse(yaml)), ["REAL", "COMMENTED_SETTING"])
  })
})

describe("prod/.env.example", () => {
  it("lists each variable once, each with a comment that gives its meaning and its default (or says it is required)", () => {
    const seen = new Map<string, number>()
    for (const entry of envExample) {
      assert.isFalse(seen.has(entry.name), `${entry.name} is listed twice (lines ${seen.get(entry.name)} and ${entry.line})`)
      seen.set(entry.name, entry.line)
      const doc = entry.doc.join(" ")
      assert.isAbove(entry.doc.length, 1, `${entry.name} (line ${entry.line}) needs a comment: meaning, then "Default: ..." or "Required"`)
      assert.match(doc, /Default:|Required/, `${entry.name} (line ${entry.line}) must state its default or that it is required`)
    }
    assert.isAbove(envExample.length, 30)
  })

  it("contains every variable the apps read (apps discovered under apps/*/src)", () => {
    const found = apps()
    assert.include(found.map((a) => a.name), "mcp-server")
    const reads: Array<Read> = []
    for (const app of found) {
      for (const file of listFiles(`${app.dir}/src`, (n) => n.endsWith(".ts") && !n.endsWith(".d.ts"))) {
        reads.push(...envReadsInSource(rel(file), readFileSync(file, "utf8")))
      }
    }
    const byName = new Map<string, Array<string>>()
    for (const r of reads) byName.set(r.name, [...(byName.get(r.name) ?? []), `${r.file}:${r.line}`])
    // The MCP server's documented configuration must be found, or the extractor has gone blind.
    for (const name of ["MCP_TRANSPORT", "MCP_HOST", "MCP_PORT", "MCP_BEARER_TOKENS", "REDIS_URL", "SCANNER_CONFIG", "DATA_DIR", "CREDENTIALS_KEY", "LOG_LEVEL"]) {
      assert.isTrue(byName.has(name), `extractor did not find ${name} in apps/mcp-server`)
    }
    // The allow-list only ever holds operating-system variables: none of them is product configuration.
    assert.deepStrictEqual([...operatingSystem].filter((n) => documented.has(n)), [], "an allow-listed OS variable is documented as configuration")
    const absent = missing([...byName.keys()].filter((n) => !operatingSystem.has(n))).map((n) => `${n} (read at ${byName.get(n)!.join(", ")})`)
    assert.deepStrictEqual(absent, [], "add these to prod/.env.example with their meaning and default")
  })

  it("contains every ${VAR} of the compose files", () => {
    for (const file of ["docker-compose.yml", "docker-compose.shared-artifacts.yml", "docker-compose.worker-host.yml"]) {
      const refs = dollarBraceReferences(withoutYamlProse(readText("prod", file)))
      assert.isAbove(refs.length, 0, file)
      assert.deepStrictEqual(missing(refs), [], `prod/${file} references variables missing from .env.example`)
    }
  })

  it("contains every ${VAR} of the scanners files (example, local, Kubernetes ConfigMap)", () => {
    const texts: Array<[string, string]> = [
      ["config/scanners.example.yaml", readText("config", "scanners.example.yaml")],
      ["config/scanners.yaml", readText("config", "scanners.yaml")]
    ]
    for (const doc of readYamlDocuments("prod", "k8s", "base", "scanners-configmap.yaml")) {
      texts.push(["prod/k8s/base/scanners-configmap.yaml", String(obj(obj(doc)["data"])["scanners.yaml"])])
    }
    for (const [name, text] of texts) {
      const refs = dollarBraceReferences(withoutYamlProse(text))
      assert.isAbove(refs.length, 0, name)
      assert.deepStrictEqual(missing(refs), [], `${name} references variables missing from .env.example`)
    }
  })

  it("contains every variable the compose app services and the Kubernetes manifests set", () => {
    const names: Array<string> = []
    for (const file of listFiles(repoPath("prod", "k8s"), (n) => n.endsWith(".yaml") && n !== "kustomization.yaml")) {
      for (const doc of readYamlDocuments(rel(file))) {
        const o = obj(doc)
        if (o["kind"] === "Secret") names.push(...Object.keys(obj(o["stringData"])), ...Object.keys(obj(o["data"])))
        if (o["kind"] === "ConfigMap" && obj(o["metadata"])["name"] === "nessus-mcp-env") names.push(...Object.keys(obj(o["data"])))
        const containers = arr(obj(obj(obj(o["spec"])["template"])["spec"])["containers"])
        for (const c of containers) names.push(...arr(obj(c)["env"]).map((e) => String(obj(e)["name"])))
      }
    }
    assert.include(names, "MCP_BEARER_TOKENS")
    for (const file of ["docker-compose.yml", "docker-compose.worker-host.yml"]) {
      const services = obj(obj(readYamlDocuments("prod", file)[0])["services"])
      for (const name of ["mcp-server", "worker", "admin"]) names.push(...Object.keys(obj(obj(services[name])["environment"])))
    }
    assert.include(names, "METRICS_PORT")
    assert.deepStrictEqual(missing(names.filter((n) => !foreign.has(n))), [], "prod/k8s sets variables missing from .env.example")
  })
})
