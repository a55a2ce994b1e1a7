/**
 * The CLI's contract: the committed flag snapshot (`command-snapshot.json`) and `--json` JSON Schemas
 * (`schemas/*.json`) must match what the code produces, so changes to them are deliberate (update with
 * `pnpm --filter @nessus-mcp/admin-cli contract:update` after a build); and the help reads well: the root
 * help lists every topic and the common workflows, each topic lists its commands, each command shows its
 * usage with spaces between topic and command, its flags and examples.
 */
import { assert, describe, it } from "@effect/vitest"
import { committed, generate } from "../scripts/contract.js"
import { cli, root, spawnCli } from "./support.js"

const TOPICS = ["circuits", "config", "dlq", "housekeeping", "queue", "report", "scanners", "tasks"]
const COMMANDS = [
  "circuits list", "circuits reset", "config reload", "config validate", "dlq inspect", "dlq list", "dlq purge", "dlq retry", "housekeeping run",
  "queue stats", "report show", "report validate", "scanners check", "scanners list", "tasks cancel", "tasks list", "tasks show", "tasks wait"
]

describe("contract snapshot", () => {
  it("command-snapshot.json and schemas/*.json match the code (regenerate deliberately with contract:update)", async () => {
    const generated = await generate()
    const files = committed()
    const hint = "The CLI contract changed. If that is deliberate, run: pnpm --filter @nessus-mcp/admin-cli build && pnpm --filter @nessus-mcp/admin-cli contract:update"
    assert.deepStrictEqual([...files.keys()].sort(), [...generated.keys()].sort(), hint)
    for (const [name, text] of generated) assert.strictEqual(files.get(name), text, `${name}: ${hint}`)
  })

  it("every command has a summary, examples, --json, and a result schema", async () => {
    const snapshot = JSON.parse((await generate()).get("command-snapshot.json")!) as Array<{ id: string; summary: string; examples: number; flags: Record<string, { env?: string }> }>
    assert.deepStrictEqual(snapshot.map((c) => c.id), COMMANDS)
    for (const c of snapshot) {
      assert.isAbove(c.summary.length, 20, c.id)
      assert.isAtLeast(c.examples, 2, c.id)
      assert.property(c.flags, "json", c.id)
      if ("redis-url" in c.flags) {
        assert.strictEqual(c.flags["redis-url"]!.env, "REDIS_URL")
        assert.strictEqual(c.flags["prefix"]!.env, "REDIS_KEY_PREFIX")
        assert.strictEqual(c.flags["config"]!.env, "SCANNER_CONFIG")
      }
      if ("data-dir" in c.flags) assert.strictEqual(c.flags["data-dir"]!.env, "DATA_DIR")
    }
    const queueCommands = snapshot.filter((c) => "redis-url" in c.flags).map((c) => c.id)
    assert.includeMembers(queueCommands, ["queue stats", "dlq list", "dlq retry", "dlq purge", "tasks wait", "circuits reset", "config reload", "housekeeping run", "report show"])
  })
})

describe("help", () => {
  it("nessus-admin --help (the binary) lists every topic and the common operator workflows", async () => {
    const r = await spawnCli(["--help"])
    assert.strictEqual(r.code, 0)
    for (const t of TOPICS) assert.match(r.stdout, new RegExp(`^  ${t}\\s+\\S`, "m"), t)
    assert.match(r.stdout, /What is stuck\?\s+queue stats --all/)
    assert.match(r.stdout, /Why did it fail\? dlq list; dlq inspect <task_id>/)
    assert.match(r.stdout, /Retry it:\s+dlq retry <task_id>; tasks wait <task_id>/)
    assert.match(r.stdout, /Clean up:\s+dlq purge --older-than 7d; housekeeping run --dry-run/)
    assert.match(r.stdout, /Exit codes: 0 ok, 1 negative answer, 2 usage/)
  })

  it("each topic's help lists its commands; each command's help shows usage, flags and examples", async () => {
    for (const t of TOPICS) {
      const r = await cli(t, "--help")
      assert.strictEqual(r.code, 0, t)
      assert.match(r.stdout, new RegExp(`USAGE\\n  \\$ nessus-admin ${t} COMMAND`), t)
      for (const c of COMMANDS.filter((c) => c.startsWith(`${t} `))) assert.match(r.stdout, new RegExp(`^  ${c}\\s+\\S`, "m"), c)
    }
    for (const c of COMMANDS) {
      const r = await cli(...c.split(" "), "--help")
      assert.strictEqual(r.code, 0, `${c}: ${r.stderr}`)
      assert.include(r.stdout, `USAGE\n  $ nessus-admin ${c}`, c)
      assert.match(r.stdout, /--json\s+Format output as json\./, c)
      assert.match(r.stdout, new RegExp(`EXAMPLES\\n  \\$ nessus-admin ${c}`), c)
      assert.match(r.stdout, /DESCRIPTION\n/, c)
    }
    const wait = await cli("tasks", "wait", "--help")
    assert.match(wait.stdout, /--redis-url=<value>\s+\[env: REDIS_URL\]/)
    assert.match(wait.stdout, /--data-dir=<value>\s+\[default: data, env: DATA_DIR\]/)
    assert.match(wait.stdout, /Exit codes: 0 completed; 1 failed, timed out or cancelled/)
    // duration flags show their default as an operator types it, not in milliseconds
    assert.match(wait.stdout, /--interval=<value>\s+\[default: 2s\]/)
    const housekeeping = await cli("housekeeping", "run", "--help")
    assert.match(housekeeping.stdout, /--scan-retention=<value>\s+\[default: 24h\]/)
    assert.notInclude(housekeeping.stdout, "86400000")
    assert.match((await cli("scanners", "check", "--help")).stdout, /--timeout=<value>\s+\[default: 10s\]/)
    // ...and still run with that default in milliseconds
    const run = (await import("../src/commands/housekeeping/run.js")).default
    assert.strictEqual(run.flags["scan-retention"].default, 86_400_000)
  })
})

describe("exit codes and streams of the binary", () => {
  it("usage errors exit 2; a missing object exits 3 with one JSON error document on stdout, or a message on stderr", async () => {
    const [unknownFlag, missingJson, missingHuman] = await Promise.all([
      spawnCli(["queue", "stats", "--colour", "red"]),
      // no --config: config/scanners.yaml is found upwards from the working directory
      spawnCli(["tasks", "show", "t_0000000000000000000000", "--prefix", "{adm-exit}:", "--json"], { cwd: root }),
      spawnCli(["tasks", "show", "t_0000000000000000000000", "--prefix", "{adm-exit}:"], { cwd: root })
    ])
    assert.strictEqual(unknownFlag.code, 2)
    assert.match(unknownFlag.stderr, /Nonexistent flag: --colour/)
    assert.strictEqual(missingJson.code, 3, missingJson.stderr)
    assert.deepStrictEqual(Object.keys(JSON.parse(missingJson.stdout)), ["error"])
    assert.strictEqual(JSON.parse(missingJson.stdout).error.code, "not_found")
    assert.strictEqual(missingHuman.code, 3)
    assert.strictEqual(missingHuman.stdout, "")
    assert.match(missingHuman.stderr, /Error: No task t_0000000000000000000000/)
    assert.match(missingHuman.stderr, /Code: not_found/)
    assert.notMatch(missingHuman.stderr, /UnparsedCommand/)
  })
})
