/**
 * PromQL analysis with Prometheus's own grammar (`@prometheus-io/lezer-promql`, the parser of the
 * Prometheus web UI): syntax errors, the metric names an expression selects, and the label names it relies
 * on. Also the registry of allowed names, `config/prometheus/metric-names.json`.
 */
import { parser } from "@prometheus-io/lezer-promql"
import { readText } from "./repo.js"

/** One metric of metric-names.json. */
export interface MetricSpec {
  readonly type?: "counter" | "gauge" | "histogram" | "summary"
  readonly exposed_by?: "all" | "any" | "worker"
  readonly source?: string
  readonly labels: ReadonlyArray<string>
  readonly help: string
}

/** metric-names.json */
export interface MetricNames {
  readonly application: Readonly<Record<string, MetricSpec>>
  readonly external: Readonly<Record<string, MetricSpec>>
}

/** Parsed config/prometheus/metric-names.json. */
export const loadMetricNames = (): MetricNames => JSON.parse(readText("config", "prometheus", "metric-names.json")) as MetricNames

/** A selector in an expression: metric name (as written) and the labels it matches on. */
export interface Selector {
  readonly metric: string
  readonly labels: ReadonlyArray<string>
}

/** What an expression uses. */
export interface Analysis {
  /** Syntax errors as "offset: text" (empty when the expression parses). */
  readonly errors: ReadonlyArray<string>
  readonly selectors: ReadonlyArray<Selector>
  /** Labels named in by/without/on/ignoring/group_left/group_right lists. */
  readonly groupingLabels: ReadonlyArray<string>
}

/**
 * Grafana substitutes its variables before the query reaches Prometheus; replace them with values of the
 * same syntactic kind so the expression can be checked as Prometheus will see it.
 */
export const substituteGrafanaVariables = (expr: string): string =>
  expr
    .replace(/\$__(rate_interval|interval|range)\b/g, "5m")
    .replace(/\$\{__(rate_interval|interval|range)\}/g, "5m")
    .replace(/\$__range_s\b/g, "300")

/** Parses one PromQL expression. */
export const analyze = (expr: string): Analysis => {
  const tree = parser.parse(expr)
  const errors: Array<string> = []
  const selectors: Array<Selector> = []
  const groupingLabels: Array<string> = []
  const cursor = tree.cursor()
  do {
    const node = cursor.node
    if (node.type.isError) errors.push(`${node.from}: "${expr.slice(Math.max(0, node.from - 10), node.to + 10)}"`)
    if (node.name === "VectorSelector") {
      const identifier = node.getChild("Identifier")
      const matchers = node.getChild("LabelMatchers")
      const labels: Array<string> = []
      if (matchers) {
        const inner = matchers.cursor()
        do {
          if (inner.name === "LabelName") labels.push(expr.slice(inner.from, inner.to))
        } while (inner.next() && inner.from < matchers.to)
      }
      if (identifier) selectors.push({ metric: expr.slice(identifier.from, identifier.to), labels })
      else errors.push(`${node.from}: selector without a metric name`)
    }
    if (node.name === "GroupingLabels") {
      for (const label of node.getChildren("LabelName")) groupingLabels.push(expr.slice(label.from, label.to))
    }
  } while (cursor.next())
  return { errors, selectors, groupingLabels }
}

const histogramSuffix = /_(bucket|sum|count)$/

/** The metric-names.json entry a written name refers to (histogram series map to their base name). */
export const resolveMetric = (names: MetricNames, written: string): { readonly name: string; readonly spec: MetricSpec } | undefined => {
  const direct = names.application[written] ?? names.external[written]
  if (direct) return { name: written, spec: direct }
  const base = written.replace(histogramSuffix, "")
  const spec = names.application[base]
  return base !== written && spec && (spec.type === "histogram" || spec.type === "summary") ? { name: base, spec } : undefined
}

/** Labels every Prometheus series may carry besides its own: target labels, and `le` on histogram buckets. */
const universalLabels = new Set(["job", "instance", "le", "__name__"])

/**
 * Problems of one expression against metric-names.json: syntax errors, unknown metric names, and label
 * names that no selected metric declares. Returns the resolved metric names as well.
 */
export const check = (names: MetricNames, expr: string): { readonly problems: ReadonlyArray<string>; readonly metrics: ReadonlySet<string> } => {
  const analysis = analyze(expr)
  const problems = analysis.errors.map((e) => `syntax error at ${e}`)
  const metrics = new Set<string>()
  const known = new Set(universalLabels)
  for (const selector of analysis.selectors) {
    const resolved = resolveMetric(names, selector.metric)
    if (!resolved) {
      problems.push(`unknown metric "${selector.metric}" (not in config/prometheus/metric-names.json)`)
      continue
    }
    metrics.add(resolved.name)
    resolved.spec.labels.forEach((l) => known.add(l))
    for (const label of selector.labels) {
      if (!universalLabels.has(label) && !resolved.spec.labels.includes(label)) {
        problems.push(`label "${label}" is not declared for ${resolved.name} in metric-names.json`)
      }
    }
  }
  for (const label of analysis.groupingLabels) {
    if (!known.has(label)) problems.push(`grouping label "${label}" is not a label of any metric in the expression`)
  }
  return { problems, metrics }
}
