/**
 * prod/k8s: every manifest parses; the kustomizations resolve (resources and JSON 6902 patches, applied
 * here the way kustomize applies them); the Deployments have probes on the apps' health endpoints, limits,
 * non-root security contexts and grace periods; Services, PVC, ConfigMaps and the Secret example fit
 * together.
 */
import { assert, describe, it } from "@effect/vitest"
import { existsSync, statSync } from "node:fs"
import { dirname, join } from "node:path"
import { parse as parseYaml } from "yaml"
import { dollarBraceReferences } from "./support/envNames.js"
import { arr, listFiles, obj, readText, readYaml, readYamlDocuments, rel, repoPath } from "./support/repo.js"

type Manifest = Record<string, unknown>

const kindName = (m: Manifest) => `${String(m["kind"])}/${String(obj(m["metadata"])["name"])}`

/** JSON pointer navigation for the patch ops kustomize overlays use here (add, replace). */
const applyPatch = (target: Manifest, ops: ReadonlyArray<Record<string, unknown>>): Manifest => {
  const copy = structuredClone(target)
  for (const op of ops) {
    const path = String(op["path"]).split("/").slice(1).map((p) => p.replace(/~1/g, "/").replace(/~0/g, "~"))
    const last = path.pop()!
    let node: Record<string, unknown> = copy
    for (const key of path) {
      if (!(key in node)) throw new Error(`patch path ${String(op["path"])}: ${key} does not exist`)
      node = node[key] as Record<string, unknown>
    }
    if (op["op"] === "replace" && !(last in node)) throw new Error(`replace of missing ${String(op["path"])}`)
    if (op["op"] !== "add" && op["op"] !== "replace") throw new Error(`unsupported op ${String(op["op"])}`)
    node[last] = structuredClone(op["value"])
  }
  return copy
}

/** Resolves a kustomization directory: its resources (files and directories), namespace, labels and patches. */
const build = (dir: string): ReadonlyArray<Manifest> => {
  const k = obj(readYaml(rel(join(dir, "kustomization.yaml"))))
  let out: Array<Manifest> = []
  for (const resource of arr(k["resources"]).map(String)) {
    const path = join(dir, resource)
    assert.isTrue(existsSync(path), `${rel(dir)}/kustomization.yaml: resource ${resource} exists`)
    out.push(...(statSync(path).isDirectory() ? build(path) : (readYamlDocuments(rel(path)) as Array<Manifest>)))
  }
  const namespace = k["namespace"]
  if (typeof namespace === "string") {
    out = out.map((m) => (m["kind"] === "Namespace" ? m : { ...m, metadata: { ...obj(m["metadata"]), namespace } }))
  }
  for (const entry of arr(k["labels"])) {
    const pairs = obj(obj(entry)["pairs"])
    out = out.map((m) => {
      const withLabels: Manifest = { ...m, metadata: { ...obj(m["metadata"]), labels: { ...obj(obj(m["metadata"])["labels"]), ...pairs } } }
      const template = obj(obj(m["spec"])["template"])
      if (obj(entry)["includeTemplates"] === true && Object.keys(template).length > 0) {
        withLabels["spec"] = { ...obj(m["spec"]), template: { ...template, metadata: { ...obj(template["metadata"]), labels: { ...obj(obj(template["metadata"])["labels"]), ...pairs } } } }
      }
      return withLabels
    })
  }
  for (const patch of arr(k["patches"])) {
    const target = obj(obj(patch)["target"])
    const ops = parseYaml(String(obj(patch)["patch"])) as Array<Record<string, unknown>>
    let matched = 0
    out = out.map((m) => {
      if (m["kind"] !== target["kind"] || obj(m["metadata"])["name"] !== target["name"]) return m
      matched++
      return applyPatch(m, ops)
    })
    assert.strictEqual(matched, 1, `${rel(dir)}: patch target ${String(target["kind"])}/${String(target["name"])} matches one resource`)
  }
  return out
}

const base = build(repoPath("prod", "k8s", "base"))
const overlay = build(repoPath("prod", "k8s", "overlays", "single-node-rwo"))
const redis = build(repoPath("prod", "k8s", "redis"))
const secretExample = readYamlDocuments("prod", "k8s", "base", "secret.example.yaml")[0] as Manifest

const find = (manifests: ReadonlyArray<Manifest>, kind: string, name: string): Manifest => {
  const m = manifests.find((x) => x["kind"] === kind && obj(x["metadata"])["name"] === name)
  if (!m) throw new Error(`${kind}/${name} is missing (have ${manifests.map(kindName).join(", ")})`)
  return m
}
const podSpec = (m: Manifest) => obj(obj(obj(m["spec"])["template"])["spec"])
const container = (m: Manifest) => obj(arr(podSpec(m)["containers"])[0])
const envOf = (c: Record<string, unknown>) => new Map(arr(c["env"]).map((e) => [String(obj(e)["name"]), obj(e)["value"]]))

const deployments = { "mcp-server": find(base, "Deployment", "nessus-mcp-server"), worker: find(base, "Deployment", "nessus-mcp-worker") }

describe("prod/k8s manifests", () => {
  it("parse, each with apiVersion, kind and name, and the kustomizations list only existing files", () => {
    const files = listFiles(repoPath("prod", "k8s"), (n) => n.endsWith(".yaml"))
    assert.isAbove(files.length, 8)
    for (const file of files) {
      for (const doc of readYamlDocuments(rel(file))) {
        const m = obj(doc)
        if (m["kind"] === "Kustomization") continue
        assert.isString(m["apiVersion"], rel(file))
        assert.isString(obj(m["metadata"])["name"], rel(file))
      }
    }
    assert.includeMembers(base.map(kindName), [
      "Namespace/nessus-mcp", "ConfigMap/nessus-mcp-env", "ConfigMap/nessus-mcp-scanners", "PersistentVolumeClaim/nessus-mcp-artifacts",
      "Deployment/nessus-mcp-server", "Service/nessus-mcp", "Deployment/nessus-mcp-worker", "Service/nessus-mcp-worker-metrics"
    ])
    assert.notInclude(base.map((m) => m["kind"]), "Secret", "real secrets are created out of band, never from this directory")
    for (const m of base.filter((x) => x["kind"] !== "Namespace")) assert.strictEqual(obj(m["metadata"])["namespace"], "nessus-mcp", kindName(m))
  })

  for (const [name, deployment] of Object.entries(deployments)) {
    describe(`Deployment ${name}`, () => {
      const c = container(deployment)
      const ports = new Map(arr(c["ports"]).map((p) => [String(obj(p)["name"]), Number(obj(p)["containerPort"])]))

      it("has startup, liveness (/health/live) and readiness (/health/ready) probes on a declared port", () => {
        for (const [probe, path] of [["startupProbe", "/health/live"], ["livenessProbe", "/health/live"], ["readinessProbe", "/health/ready"]] as const) {
          const http = obj(obj(c[probe])["httpGet"])
          assert.strictEqual(http["path"], path, `${name} ${probe}`)
          assert.isTrue(ports.has(String(http["port"])), `${name} ${probe} port ${String(http["port"])} is a named container port`)
        }
        const env = envOf(c)
        const portVariable = name === "mcp-server" ? "MCP_PORT" : "METRICS_PORT"
        assert.strictEqual(env.get(name === "mcp-server" ? "MCP_HOST" : "METRICS_HOST"), "0.0.0.0", "reachable by the kubelet and Prometheus")
        assert.strictEqual(Number(env.get(portVariable)), [...ports.values()][0], `${portVariable} = the probed port`)
        const annotations = obj(obj(obj(obj(deployment["spec"])["template"])["metadata"])["annotations"])
        assert.strictEqual(Number(annotations["prometheus.io/port"]), [...ports.values()][0], "Prometheus scrapes the metrics port")
      })

      it("has replicas, resource requests and limits, a grace period, and a restricted security context", () => {
        assert.isAtLeast(Number(obj(deployment["spec"])["replicas"]), 1)
        const resources = obj(c["resources"])
        for (const k of ["cpu", "memory"]) {
          assert.isDefined(obj(resources["requests"])[k], `${name} requests.${k}`)
          assert.isDefined(obj(resources["limits"])[k], `${name} limits.${k}`)
        }
        const spec = podSpec(deployment)
        assert.isAtLeast(Number(spec["terminationGracePeriodSeconds"]), name === "worker" ? 60 : 20)
        assert.strictEqual(obj(spec["securityContext"])["runAsNonRoot"], true)
        assert.strictEqual(obj(spec["securityContext"])["fsGroup"], 1000, "the artifacts volume is writable by the image's uid 1000")
        const sc = obj(c["securityContext"])
        assert.strictEqual(sc["allowPrivilegeEscalation"], false)
        assert.strictEqual(sc["readOnlyRootFilesystem"], true)
        assert.deepStrictEqual(obj(sc["capabilities"])["drop"], ["ALL"])
      })

      it("reads its settings and secrets from the ConfigMap and Secret, scanners.yaml read-only, artifacts on the shared PVC", () => {
        const refs = arr(c["envFrom"]).map((e) => obj(e))
        assert.deepStrictEqual(refs.map((r) => String(obj(r["configMapRef"] ?? r["secretRef"])["name"])), ["nessus-mcp-env", "nessus-mcp-secrets"])
        find(base, "ConfigMap", "nessus-mcp-env")
        assert.strictEqual(obj(secretExample["metadata"])["name"], "nessus-mcp-secrets")
        const env = envOf(c)
        const mounts = arr(c["volumeMounts"]).map((v) => obj(v))
        const volumes = new Map(arr(podSpec(deployment)["volumes"]).map((v) => [String(obj(v)["name"]), obj(v)]))
        const scanners = mounts.find((m) => String(env.get("SCANNER_CONFIG")).startsWith(`${String(m["mountPath"])}/`))
        assert.isDefined(scanners, "SCANNER_CONFIG lies inside a mount")
        assert.strictEqual(scanners!["readOnly"], true)
        assert.strictEqual(obj(volumes.get(String(scanners!["name"]))?.["configMap"])["name"], "nessus-mcp-scanners")
        const data = mounts.find((m) => m["mountPath"] === env.get("DATA_DIR"))
        assert.isDefined(data, "DATA_DIR is a mount")
        assert.strictEqual(obj(volumes.get(String(data!["name"]))?.["persistentVolumeClaim"])["claimName"], "nessus-mcp-artifacts")
        assert.isTrue(mounts.some((m) => m["mountPath"] === "/tmp"), "a writable /tmp beside the read-only root")
      })

      it("is selected by its own labels only", () => {
        const selector = obj(obj(deployment["spec"])["selector"])["matchLabels"]
        const labels = obj(obj(obj(deployment["spec"])["template"])["metadata"])["labels"]
        for (const [k, v] of Object.entries(obj(selector))) assert.strictEqual(obj(labels)[k], v)
        assert.notProperty(obj(selector), "app.kubernetes.io/part-of", "kustomize labels must not change selectors (immutable)")
      })
    })
  }

  it("runs the MCP server on HTTP on all interfaces, accepting the Host names probes, Prometheus and the Ingress use", () => {
    const env = envOf(container(deployments["mcp-server"]))
    assert.strictEqual(env.get("MCP_TRANSPORT"), "http")
    assert.strictEqual(env.get("MCP_HOST"), "0.0.0.0")
    const allowed = String(env.get("MCP_ALLOWED_HOSTS")).split(",")
    assert.include(allowed, "$(POD_IP)", "Prometheus scrapes by pod IP")
    assert.include(allowed, "nessus-mcp", "the Service name")
    const names = [...envOf(container(deployments["mcp-server"])).keys()]
    assert.isBelow(names.indexOf("POD_IP"), names.indexOf("MCP_ALLOWED_HOSTS"), "$(POD_IP) must be defined before it is referenced")
    const ingress = readYamlDocuments("prod", "k8s", "base", "ingress.example.yaml")[0] as Manifest
    for (const rule of arr(obj(ingress["spec"])["rules"])) assert.include(allowed, String(obj(rule)["host"]), "the Ingress host is allowed")
    for (const probe of ["startupProbe", "livenessProbe", "readinessProbe"]) {
      const headers = arr(obj(obj(container(deployments["mcp-server"])[probe])["httpGet"])["httpHeaders"]).map((h) => obj(h))
      assert.deepInclude(headers, { name: "Host", value: "localhost" }, `${probe} passes the DNS-rebinding check`)
    }
  })

  it("keeps liveness independent of scanners and Redis: only readiness checks dependencies", () => {
    for (const d of Object.values(deployments)) {
      assert.strictEqual(obj(obj(container(d)["livenessProbe"])["httpGet"])["path"], "/health/live")
    }
  })

  it("exposes the pods through Services whose selectors and target ports match", () => {
    for (const [serviceName, deployment] of [["nessus-mcp", deployments["mcp-server"]], ["nessus-mcp-worker-metrics", deployments.worker]] as const) {
      const service = find(base, "Service", serviceName)
      const labels = obj(obj(obj(deployment["spec"])["template"])["metadata"])["labels"]
      for (const [k, v] of Object.entries(obj(obj(service["spec"])["selector"]))) assert.strictEqual(obj(labels)[k], v, `${serviceName} selects ${k}`)
      const portNames = arr(container(deployment)["ports"]).map((p) => String(obj(p)["name"]))
      for (const p of arr(obj(service["spec"])["ports"])) assert.include(portNames, String(obj(p)["targetPort"]), `${serviceName} targetPort`)
    }
    assert.strictEqual(obj(find(base, "Service", "nessus-mcp-worker-metrics")["spec"])["clusterIP"], "None", "headless: one record per worker")
    for (const pdb of base.filter((m) => m["kind"] === "PodDisruptionBudget")) {
      const selector = obj(obj(obj(pdb["spec"])["selector"])["matchLabels"])
      assert.isTrue(Object.values(deployments).some((d) => Object.entries(selector).every(([k, v]) => obj(obj(obj(obj(d["spec"])["template"])["metadata"])["labels"])[k] === v)), kindName(pdb))
    }
  })

  it("shares the artifacts PVC ReadWriteMany, and the single-node overlay switches to ReadWriteOnce with pod affinity", () => {
    assert.deepStrictEqual(obj(find(base, "PersistentVolumeClaim", "nessus-mcp-artifacts")["spec"])["accessModes"], ["ReadWriteMany"])
    assert.deepStrictEqual(obj(find(overlay, "PersistentVolumeClaim", "nessus-mcp-artifacts")["spec"])["accessModes"], ["ReadWriteOnce"])
    for (const name of ["nessus-mcp-server", "nessus-mcp-worker"]) {
      const d = find(overlay, "Deployment", name)
      const term = obj(arr(obj(obj(podSpec(d)["affinity"])["podAffinity"])["requiredDuringSchedulingIgnoredDuringExecution"])[0])
      assert.strictEqual(term["topologyKey"], "kubernetes.io/hostname")
      const selector = obj(obj(term["labelSelector"])["matchLabels"])
      const labels = obj(obj(obj(d["spec"])["template"])["metadata"])["labels"]
      for (const [k, v] of Object.entries(selector)) assert.strictEqual(obj(labels)[k], v, `${name}: pods carry the affinity label ${k}`)
    }
  })

  it("ships a scanners.yaml whose ${VAR}s are all keys of the Secret example", () => {
    const scanners = String(obj(find(base, "ConfigMap", "nessus-mcp-scanners")["data"])["scanners.yaml"])
    const parsed = obj(parseYaml(scanners))
    assert.isAbove(Object.keys(obj(parsed["pools"])).length, 0)
    const keys = new Set(Object.keys(obj(secretExample["stringData"])))
    for (const name of dollarBraceReferences(scanners)) assert.isTrue(keys.has(name), `${name} is a key of secret.example.yaml`)
    assert.isTrue(keys.has("MCP_BEARER_TOKENS") && keys.has("REDIS_URL"))
  })

  it("offers a single Redis with AOF, noeviction, a volume and probes, its password from the Secret", () => {
    const statefulSet = find(redis, "StatefulSet", "redis")
    const c = container(statefulSet)
    const args = arr(c["args"]).map(String).join(" ")
    assert.include(args, "--appendonly yes")
    assert.include(args, "--appendfsync everysec")
    assert.include(args, "--maxmemory-policy noeviction")
    assert.include(args, "--requirepass $(REDIS_PASSWORD)")
    const password = arr(c["env"]).map((e) => obj(e)).find((e) => e["name"] === "REDIS_PASSWORD")
    assert.strictEqual(obj(obj(password?.["valueFrom"])["secretKeyRef"])["key"], "REDIS_PASSWORD")
    assert.isTrue(Object.keys(obj(secretExample["stringData"])).includes("REDIS_PASSWORD"))
    assert.isDefined(c["livenessProbe"])
    assert.isDefined(c["readinessProbe"])
    assert.strictEqual(arr(obj(statefulSet["spec"])["volumeClaimTemplates"]).length, 1)
    assert.strictEqual(obj(find(redis, "Service", "redis")["metadata"])["namespace"], "nessus-mcp")
    assert.include(String(obj(secretExample["stringData"])["REDIS_URL"]), "redis.nessus-mcp.svc:6379")
  })

  it("documents every manifest in docs/deployment.md", () => {
    const doc = readText("docs", "deployment.md")
    for (const file of listFiles(repoPath("prod", "k8s"), (n) => n.endsWith(".yaml"))) {
      const path = rel(file)
      const mentioned = doc.includes(path) || doc.includes(`${rel(dirname(file))}/`)
      assert.isTrue(mentioned, `docs/deployment.md mentions ${path}`)
    }
  })
})
