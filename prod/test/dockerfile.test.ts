/**
 * prod/Dockerfile: linted with dockerfile-utils (the validator behind the VS Code Docker extension's
 * Dockerfile diagnostics), then our policy checked on its syntax tree (dockerfile-ast): one target per app,
 * pinned Node LTS slim base, production-only deploy, a final stage without dev tooling that runs as a
 * non-root user under tini with STOPSIGNAL SIGTERM and a HEALTHCHECK. Plus the build context's ignore file.
 */
import { assert, describe, it } from "@effect/vitest"
import { DockerfileParser, type Instruction } from "dockerfile-ast"
import { validate } from "dockerfile-utils"
import { existsSync } from "node:fs"
import { apps, readText, repoPath } from "./support/repo.js"

const text = readText("prod", "Dockerfile")
const dockerfile = DockerfileParser.parse(text)

interface Stage {
  readonly name: string
  readonly from: string
  readonly instructions: ReadonlyArray<Instruction>
}

const args = new Map(dockerfile.getInitialARGs().map((a) => [a.getProperty()?.getName() ?? "", a.getProperty()?.getValue() ?? ""]))
const expand = (image: string) => image.replace(/\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?/g, (_, name: string) => args.get(name) ?? `<unset ${name}>`)

const stages: ReadonlyArray<Stage> = (() => {
  const out: Array<{ name: string; from: string; instructions: Array<Instruction> }> = []
  for (const instruction of dockerfile.getInstructions()) {
    if (instruction.getKeyword() === "FROM") {
      const from = dockerfile.getFROMs().find((f) => f.getRange().start.line === instruction.getRange().start.line)!
      out.push({ name: from.getBuildStage() ?? `#${out.length}`, from: from.getImage() ?? "", instructions: [] })
    } else {
      out.at(-1)?.instructions.push(instruction)
    }
  }
  return out
})()
const stage = (name: string): Stage => {
  const found = stages.find((s) => s.name === name)
  if (!found) throw new Error(`prod/Dockerfile has no stage "${name}"`)
  return found
}
/** A stage and its ancestors, root first (what the image of that target actually contains). */
const chain = (name: string): ReadonlyArray<Stage> => {
  const s = stage(name)
  return stages.some((p) => p.name === s.from) ? [...chain(s.from), s] : [s]
}
const instructionsOf = (name: string, keyword: string) =>
  chain(name).flatMap((s) => s.instructions.filter((i) => i.getKeyword() === keyword))
const argumentText = (i: Instruction) => i.getArguments().map((a) => a.getValue()).join(" ")
/** The program of each command in a shell line (`a && b | c; d` -> a, b, c, d). */
const commands = (shell: string): ReadonlyArray<string> =>
  shell.split(/&&|\|\||;|\|/).map((c) => c.trim().split(/\s+/)[0]!.replace(/^.*\//, "")).filter((c) => c.length > 0)
/** The stage a COPY copies from (`--from=`), if any. */
const fromFlag = (i: Instruction): string | undefined =>
  "getFlags" in i ? ((i as unknown as { getFlags(): ReadonlyArray<{ getName(): string; getValue(): string | null }> }).getFlags().find((f) => f.getName() === "from")?.getValue() ?? undefined) : undefined
const devTools = ["pnpm", "npm", "npx", "yarn", "corepack", "tsc", "turbo", "vitest"]
const jsonArgs = (i: Instruction): ReadonlyArray<string> => JSON.parse(i.getRawArgumentsContent() ?? "[]") as Array<string>

/** Apps and the command each image runs: every app with a bin gets a target named after its directory. */
const appTargets = apps()
  .filter((a) => typeof a.pkg["bin"] === "object" && a.pkg["bin"] !== null)
  .map((a) => ({ target: a.name, pkgName: String(a.pkg["name"]), bins: Object.keys(a.pkg["bin"] as object) }))
const targets = ["mcp-server", "worker", "admin-cli"] as const
const services = ["mcp-server", "worker"] as const

describe("prod/Dockerfile", () => {
  it("passes the dockerfile-utils linter without any diagnostic", () => {
    const diagnostics = validate(text)
    assert.deepStrictEqual(diagnostics.map((d) => `line ${d.range.start.line + 1}: ${d.message}`), [])
  })

  it("has a target per app, and every app with a bin under apps/ has one (apps discovered at run time)", () => {
    for (const t of targets) assert.isDefined(stage(t))
    assert.include(appTargets.map((a) => a.target), "mcp-server")
    for (const app of appTargets) {
      const deploy = chain(app.target).length > 0 ? stage(`deploy-${app.target}`) : undefined
      const run = deploy!.instructions.filter((i) => i.getKeyword() === "RUN").map(argumentText).join(" ")
      assert.include(run, `--filter ${app.pkgName} deploy`, `deploy-${app.target} deploys ${app.pkgName}`)
      const linked = /link-bins\.mjs \/out (\S+)/.exec(run)?.[1]
      assert.include(app.bins, linked, `deploy-${app.target} links a bin of ${app.pkgName}`)
      const entrypoint = jsonArgs(instructionsOf(app.target, "ENTRYPOINT").at(-1)!)
      assert.strictEqual(entrypoint[2], linked, `${app.target} runs its bin`)
    }
  })

  it("builds every stage on a pinned Node LTS bookworm-slim image matching .node-version", () => {
    const nodeVersion = readText(".node-version").trim()
    const major = Number(nodeVersion.split(".")[0])
    assert.strictEqual(major % 2, 0, "even Node majors are the LTS lines")
    const bases = stages.filter((s) => !stages.some((p) => p.name === s.from)).map((s) => expand(s.from))
    assert.isAbove(bases.length, 0)
    for (const base of bases) assert.strictEqual(base.replace(/@sha256:[0-9a-f]{64}$/, ""), `node:${nodeVersion}-bookworm-slim`)
    assert.notMatch(text, /:latest\b/)
  })

  it("installs from the lockfile with the pnpm pinned in package.json, and deploys production dependencies only", () => {
    const pkg = JSON.parse(readText("package.json")) as { packageManager?: string }
    assert.match(pkg.packageManager ?? "", /^pnpm@\d+\.\d+\.\d+/, "corepack installs the exact packageManager release")
    const build = stage("build").instructions.filter((i) => i.getKeyword() === "RUN").map(argumentText)
    assert.isTrue(build.some((r) => r.includes("corepack enable")))
    assert.isTrue(build.some((r) => /pnpm install .*--frozen-lockfile/.test(r)))
    for (const t of targets) {
      const run = stage(`deploy-${t}`).instructions.map(argumentText).join(" ")
      assert.match(run, /pnpm --filter \S+ deploy --prod /, `deploy-${t} uses pnpm deploy --prod`)
    }
  })

  for (const t of targets) {
    describe(`final stage ${t}`, () => {
      it("runs as a non-root user", () => {
        const users = instructionsOf(t, "USER").map(argumentText)
        assert.isAbove(users.length, 0)
        assert.notMatch(users.at(-1)!, /^(root|0)(:|$)/)
      })

      it("stops with SIGTERM, forwarded by tini as PID 1", () => {
        assert.strictEqual(argumentText(instructionsOf(t, "STOPSIGNAL").at(-1)!), "SIGTERM")
        const entrypoint = jsonArgs(instructionsOf(t, "ENTRYPOINT").at(-1)!)
        assert.deepStrictEqual(entrypoint.slice(0, 2), ["/usr/bin/tini", "--"], "exec-form ENTRYPOINT under tini")
        assert.isTrue(chain(t).some((s) => s.instructions.some((i) => i.getKeyword() === "RUN" && argumentText(i).includes("install -y --no-install-recommends tini"))))
      })

      it("declares a HEALTHCHECK (services probe /health/ready)", () => {
        const check = instructionsOf(t, "HEALTHCHECK").at(-1)
        assert.isDefined(check)
        const raw = check!.getRawArgumentsContent() ?? ""
        if ((services as ReadonlyArray<string>).includes(t)) {
          assert.include(raw, "/opt/nessus-mcp/healthcheck.mjs")
          assert.include(raw, "/health/ready")
          const port = /"(MCP_PORT|METRICS_PORT)", "(\d+)"/.exec(raw)
          assert.isNotNull(port)
          const env = instructionsOf(t, "ENV").map(argumentText).join(" ")
          assert.include(env, `${port![1]}=${port![2]}`, "the probed port is the port the image configures")
          assert.include(instructionsOf(t, "EXPOSE").map(argumentText), port![2])
        } else {
          assert.strictEqual(raw.trim(), "NONE", "one-shot CLI: explicit HEALTHCHECK NONE")
        }
      })

      it("contains no development tooling: no package manager runs, only the deploy output and runtime files are copied", () => {
        for (const s of chain(t)) {
          for (const i of s.instructions) {
            const content = argumentText(i)
            if (i.getKeyword() === "RUN") {
              for (const program of commands(content)) assert.notInclude(devTools, program, `${s.name} runs ${program}`)
            }
            if (i.getKeyword() === "COPY" || i.getKeyword() === "ADD") {
              assert.strictEqual(i.getKeyword(), "COPY")
              const from = fromFlag(i)
              if (from) assert.strictEqual(from, `deploy-${t}`, `${s.name} copies only from its deploy stage`)
              else assert.match(content, /^prod\/docker\/\S+\.mjs /, `${s.name} copies only runtime helper scripts from the context`)
            }
          }
        }
        const runtimeRun = stage("runtime").instructions.filter((i) => i.getKeyword() === "RUN").map(argumentText).join(" ")
        for (const removed of ["/usr/local/lib/node_modules/npm", "/usr/local/lib/node_modules/corepack", "/usr/local/bin/npx"]) {
          assert.include(runtimeRun, removed, "the runtime removes the base image's package managers")
        }
        assert.include(instructionsOf(t, "ENV").map(argumentText).join(" "), "NODE_ENV=production")
      })
    })
  }

  it("copies only files that exist and that the ignore file lets through", () => {
    const ignore = readText("prod", "Dockerfile.dockerignore").split("\n").map((l) => l.trim()).filter((l) => l && !l.startsWith("#"))
    for (const pattern of ["**/node_modules", "**/dist", ".git", "**/.env", ".toolchain", "prod/scanners.yaml", "prod/certs"]) {
      assert.include(ignore, pattern, `Dockerfile.dockerignore must exclude ${pattern}`)
    }
    const copies = stages.flatMap((s) => s.instructions).filter((i) => i.getKeyword() === "COPY" && fromFlag(i) === undefined)
    for (const copy of copies) {
      const sources = argumentText(copy).split(" ").slice(0, -1).filter((s) => s !== ".")
      for (const source of sources) {
        assert.isTrue(existsSync(repoPath(source)), `COPY source ${source} exists`)
        assert.isFalse(ignore.some((p) => !p.startsWith("!") && (source === p || source.startsWith(`${p}/`))), `COPY source ${source} is not ignored`)
      }
    }
    const runScripts = stages.flatMap((s) => s.instructions).map(argumentText).flatMap((c) => [...c.matchAll(/prod\/docker\/[\w.-]+/g)].map((m) => m[0]))
    for (const script of runScripts) {
      assert.isTrue(existsSync(repoPath(script)), `${script} exists`)
      assert.isFalse(ignore.some((p) => script.startsWith(`${p}/`) || script === p), `${script} is in the build context`)
    }
  })
})
