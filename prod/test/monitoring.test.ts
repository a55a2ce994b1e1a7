/**
 * config/prometheus and config/grafana: alert rules and dashboard queries parse as PromQL (Prometheus's
 * own grammar) and use only the metric names and labels of config/prometheus/metric-names.json; that file
 * covers every metric of issue 7 and nothing unused; the Node process metrics it names exist in a real
 * prom-client default registry.
 */
import { assert, describe, it } from "@effect/vitest"
import { readFileSync } from "node:fs"
import * as Prometheus from "prom-client"
import ts from "typescript"
import { check, loadMetricNames, substituteGrafanaVariables } from "./support/metrics.js"
import { apps, arr, listFiles, obj, readText, readYaml } from "./support/repo.js"

const names = loadMetricNames()

/** The metrics issue 7 requires, with their labels. */
const issue7: ReadonlyArray<[string, string, ReadonlyArray<string>]> = [
  ["nessus_scans_total", "counter", ["scan_type", "status"]],
  ["nessus_api_requests_total", "counter", ["tool", "status"]],
  ["nessus_task_duration_seconds", "histogram", ["scan_type", "outcome"]],
  ["nessus_queue_wait_seconds", "histogram", []],
  ["nessus_scanner_active_scans", "gauge", ["pool", "scanner_instance"]],
  ["nessus_scanner_capacity", "gauge", ["pool", "scanner_instance"]],
  ["nessus_scanner_utilization_pct", "gauge", ["pool", "scanner_instance"]],
  ["nessus_scanner_enabled", "gauge", ["pool", "scanner_instance"]],
  ["nessus_scanner_circuit_state", "gauge", ["pool", "scanner_instance"]],
  ["nessus_circuit_opens_total", "counter", []],
  ["nessus_pool_queue_depth", "gauge", ["pool"]],
  ["nessus_pool_dlq_depth", "gauge", ["pool"]],
  ["nessus_instance_queue_depth", "gauge", ["pool", "scanner_instance"]],
  ["nessus_validation_total", "counter", ["pool", "result"]],
  ["nessus_validation_failures_total", "counter", ["pool", "reason"]],
  ["nessus_auth_failures_total", "counter", ["pool", "scan_type"]],
  ["nessus_ttl_deletions_total", "counter", []],
  ["nessus_nessus_api_calls_total", "counter", ["scanner_instance", "endpoint", "status"]],
  ["nessus_retries_total", "counter", ["reason"]]
]

interface Rule {
  readonly alert: string
  readonly expr: string
  readonly for?: string
  readonly labels?: Record<string, string>
  readonly annotations?: Record<string, string>
}

const rules: ReadonlyArray<Rule> = arr(obj(readYaml("config", "prometheus", "alerts.yml"))["groups"]).flatMap((g) => arr(obj(g)["rules"]) as Array<Rule>)

interface Target {
  readonly expr?: string
  readonly datasource?: { readonly uid?: string }
}
interface Panel {
  readonly id: number
  readonly type: string
  readonly title: string
  readonly datasource?: { readonly type?: string; readonly uid?: string }
  readonly gridPos: { readonly h: number; readonly w: number; readonly x: number; readonly y: number }
  readonly targets?: ReadonlyArray<Target>
  readonly panels?: ReadonlyArray<Panel>
}
const dashboard = JSON.parse(readText("config", "grafana", "dashboard.json")) as {
  uid: string
  title: string
  panels: ReadonlyArray<Panel>
  templating: { list: ReadonlyArray<{ name: string; type: string; query?: unknown; definition?: string }> }
}
const panels = dashboard.panels.flatMap((p) => [p, ...(p.panels ?? [])])
const queries = panels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr ?? "" })))

/** Metric names used by the rules and the dashboard (template variables included). */
const usedNames = (): ReadonlySet<string> => {
  const used = new Set<string>()
  for (const expr of [...rules.map((r) => r.expr), ...queries.map((q) => substituteGrafanaVariables(q.expr))]) {
    check(names, expr).metrics.forEach((m) => used.add(m))
  }
  for (const v of dashboard.templating.list) {
    const m = /^label_values\((\w+),/.exec(v.definition ?? "")
    if (m) used.add(m[1]!)
  }
  return used
}

describe("config/prometheus/metric-names.json", () => {
  it("declares every metric of issue 7 with its type and labels, and a worker heartbeat", () => {
    for (const [name, type, labels] of issue7) {
      const spec = names.application[name]
      assert.isDefined(spec, `${name} is missing`)
      assert.strictEqual(spec!.type, type, `${name} type`)
      for (const label of labels) {
        if (spec!.labels.length > 0) assert.include(spec!.labels, label, `${name} label ${label}`)
      }
    }
    const heartbeat = names.application["nessus_worker_last_heartbeat_timestamp_seconds"]
    assert.deepInclude(heartbeat, { type: "gauge", exposed_by: "worker" })
  })

  it("follows Prometheus naming: counters end in _total, others in a base unit or a plain quantity", () => {
    for (const [name, spec] of Object.entries(names.application)) {
      assert.match(name, /^[a-z_][a-z0-9_]*$/)
      if (spec.type === "counter") assert.match(name, /_total$/, name)
      else assert.notMatch(name, /_total$/, name)
      if (spec.type === "histogram") assert.match(name, /_seconds$/, name)
      assert.isAbove(spec.help.length, 10, `${name} help`)
    }
  })

  it("names only process metrics that prom-client's collectDefaultMetrics really registers, with the declared type", async () => {
    const registry = new Prometheus.Registry()
    Prometheus.collectDefaultMetrics({ register: registry })
    const defaults = new Map((await registry.getMetricsAsJSON()).map((m) => [m.name, String(m.type)]))
    const declared = Object.entries(names.application).filter(([, spec]) => spec.exposed_by === "all")
    assert.isAbove(declared.length, 3)
    for (const [name, spec] of declared) {
      assert.isTrue(defaults.has(name), `${name} is not a prom-client default metric (have: ${[...defaults.keys()].join(", ")})`)
      assert.strictEqual(defaults.get(name), spec.type, `${name} type`)
    }
    registry.clear()
  })
})

/** String literals of the apps' sources (apps discovered at run time), where metric names are registered. */
const appStringLiterals = (): ReadonlySet<string> => {
  const out = new Set<string>()
  for (const app of apps()) {
    for (const file of listFiles(`${app.dir}/src`, (n) => n.endsWith(".ts") && !n.endsWith(".d.ts"))) {
      const source = ts.createSourceFile(file, readFileSync(file, "utf8"), ts.ScriptTarget.Latest, true)
      const visit = (node: ts.Node): void => {
        if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) out.add(node.text)
        ts.forEachChild(node, visit)
      }
      visit(source)
    }
  }
  return out
}

describe("the apps' sources", () => {
  it("name every nessus_* metric of metric-names.json (the apps' own tests check their registries at run time)", () => {
    const literals = appStringLiterals()
    const unregistered = Object.keys(names.application).filter((n) => n.startsWith("nessus_") && !literals.has(n))
    assert.deepStrictEqual(unregistered, [], "metrics the rules and dashboard use but no app registers")
  })
})

describe("config/prometheus/alerts.yml", () => {
  it("has the required alerts, each with severity, summary and description", () => {
    const alerts = rules.map((r) => r.alert)
    for (const required of [
      "NessusScannerCircuitOpen",
      "NessusDLQGrowing",
      "NessusQueueDepthHigh",
      "NessusAuthenticationFailureSpike",
      "NessusNoWorkerHeartbeat",
      "NessusRedisDown"
    ]) assert.include(alerts, required)
    assert.strictEqual(new Set(alerts).size, alerts.length, "alert names are unique")
    for (const rule of rules) {
      assert.oneOf(rule.labels?.["severity"], ["critical", "warning", "info"], `${rule.alert} severity`)
      assert.isAbove((rule.annotations?.["summary"] ?? "").length, 10, `${rule.alert} summary`)
      assert.isAbove((rule.annotations?.["description"] ?? "").length, 10, `${rule.alert} description`)
      if (rule.for !== undefined) assert.match(rule.for, /^\d+[smh]$/, `${rule.alert} for`)
    }
  })

  it("parses every expr as PromQL using only declared metric names and labels", () => {
    for (const rule of rules) {
      const result = check(names, rule.expr)
      assert.deepStrictEqual(result.problems, [], `${rule.alert}: ${rule.expr}`)
      assert.isAbove(result.metrics.size, 0, rule.alert)
    }
  })

  it("alerts on the metrics each required alert is about", () => {
    const about = (alert: string, metric: string) => {
      const rule = rules.find((r) => r.alert === alert)!
      assert.isTrue(check(names, rule.expr).metrics.has(metric), `${alert} uses ${metric}`)
    }
    about("NessusScannerCircuitOpen", "nessus_scanner_circuit_state")
    about("NessusDLQGrowing", "nessus_pool_dlq_depth")
    about("NessusQueueDepthHigh", "nessus_pool_queue_depth")
    about("NessusAuthenticationFailureSpike", "nessus_auth_failures_total")
    about("NessusNoWorkerHeartbeat", "nessus_worker_last_heartbeat_timestamp_seconds")
    about("NessusRedisDown", "redis_up")
  })

  it("refers to scrape jobs that prometheus.yml defines", () => {
    const jobs = new Set(arr(obj(readYaml("config", "prometheus", "prometheus.yml"))["scrape_configs"]).map((j) => String(obj(j)["job_name"])))
    for (const rule of rules) {
      for (const m of rule.expr.matchAll(/job=~?"([^"]+)"/g)) {
        for (const job of m[1]!.split("|")) assert.isTrue(jobs.has(job), `${rule.alert} refers to job ${job}`)
      }
    }
  })

  it("rejects an expression with an unknown metric, a bad label or a syntax error (the checker can fail)", () => {
    assert.include(check(names, "nessus_no_such_metric > 0").problems.join(), "unknown metric")
    assert.include(check(names, `nessus_pool_queue_depth{scanner="x"}`).problems.join(), `label "scanner"`)
    assert.include(check(names, "sum by (tenant) (nessus_pool_queue_depth)").problems.join(), `grouping label "tenant"`)
    assert.include(check(names, "sum(rate(nessus_scans_total[5m])").problems.join(), "syntax error")
    assert.deepStrictEqual(check(names, "histogram_quantile(0.9, sum by (le) (rate(nessus_queue_wait_seconds_bucket[5m])))").problems, [])
  })
})

describe("config/grafana/dashboard.json", () => {
  it("is a provisionable dashboard whose panels all query Prometheus through the datasource variable", () => {
    assert.strictEqual(dashboard.uid, "nessus-mcp")
    assert.isAbove(queries.length, 20)
    const variable = dashboard.templating.list.find((v) => v.type === "datasource")
    assert.isDefined(variable)
    for (const panel of panels.filter((p) => p.type !== "row")) {
      assert.strictEqual(panel.datasource?.uid, `\${${variable!.name}}`, `${panel.title} datasource`)
      assert.isAbove(panel.targets?.length ?? 0, 0, `${panel.title} has queries`)
    }
    assert.strictEqual(new Set(panels.map((p) => p.id)).size, panels.length, "panel ids are unique")
  })

  it("lays panels out without overlaps on the 24-column grid", () => {
    const cells = new Set<string>()
    for (const panel of panels) {
      const { h, w, x, y } = panel.gridPos
      assert.isAtMost(x + w, 24, panel.title)
      for (let i = x; i < x + w; i++) for (let j = y; j < y + h; j++) {
        assert.isFalse(cells.has(`${i},${j}`), `${panel.title} overlaps another panel at ${i},${j}`)
        cells.add(`${i},${j}`)
      }
    }
  })

  it("parses every query as PromQL using only declared metric names and labels", () => {
    for (const query of queries) {
      const result = check(names, substituteGrafanaVariables(query.expr))
      assert.deepStrictEqual(result.problems, [], `${query.panel}: ${query.expr}`)
    }
  })

  it("fills its template variables from declared metrics and labels", () => {
    for (const variable of dashboard.templating.list.filter((v) => v.type === "query")) {
      const m = /^label_values\((\w+),\s*(\w+)\)$/.exec(variable.definition ?? "")
      assert.isNotNull(m, `${variable.name}: label_values(metric, label)`)
      assert.include(names.application[m![1]!]?.labels ?? [], m![2], `${variable.name} reads a declared label`)
      assert.strictEqual(obj(variable.query)["query"], variable.definition)
    }
  })
})

describe("rules and dashboard together", () => {
  it("use every metric of metric-names.json (no stale names for the apps' registry check)", () => {
    const used = usedNames()
    const unused = [...Object.keys(names.application), ...Object.keys(names.external)].filter((n) => !used.has(n))
    assert.deepStrictEqual(unused, [])
    for (const [name] of issue7) assert.isTrue(used.has(name), `${name} appears on the dashboard or in a rule`)
  })
})
