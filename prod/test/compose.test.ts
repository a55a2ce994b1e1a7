/**
 * prod/docker-compose*.yml validated by docker-compose itself (`config`), then the resolved configuration
 * checked against the deployment requirements: scalable workers, durable Redis, limits, restart policies,
 * read-only config, health checks on /health/ready, shared artifacts, secrets from the env file.
 */
import { assert, beforeAll, describe, it } from "@effect/vitest"
import { existsSync } from "node:fs"
import { isAbsolute } from "node:path"
import { composeConfig, runCompose } from "./support/compose.js"
import { arr, obj, readYaml } from "./support/repo.js"

type Config = Record<string, unknown>

let main: Config
let shared: Config
let workerHost: Config

const services = (config: Config) => obj(config["services"])
const service = (config: Config, name: string) => {
  const s = services(config)[name]
  if (s === undefined) throw new Error(`service ${name} is missing`)
  return obj(s)
}
const environment = (s: Record<string, unknown>) => obj(s["environment"])
const volumes = (s: Record<string, unknown>) => arr(s["volumes"]).map(String)
const appServices = ["mcp-server", "worker", "admin"] as const
const longRunning = ["redis", "mcp-server", "worker", "prometheus", "redis-exporter", "grafana"] as const

describe("docker-compose config", () => {
  beforeAll(async () => {
    const version = await runCompose(["version", "--short"])
    if (version.code !== 0) throw new Error(`docker-compose does not run: ${version.stderr}`)
    const [a, b, c] = await Promise.all([
      composeConfig(["docker-compose.yml"], { profiles: ["monitoring", "tools"] }),
      composeConfig(["docker-compose.yml", "docker-compose.shared-artifacts.yml"], { env: { ARTIFACTS_HOST_PATH: "/mnt/nessus-mcp-artifacts" } }),
      composeConfig(["docker-compose.worker-host.yml"], {
        env: { ARTIFACTS_HOST_PATH: "/mnt/nessus-mcp-artifacts", REDIS_URL: "redis://:secret@10.0.0.5:6379/0" }
      })
    ])
    for (const [name, run] of [["docker-compose.yml", a], ["+ shared-artifacts", b], ["worker-host", c]] as const) {
      if (!run.config) throw new Error(`docker-compose config (${name}) failed:\n${run.stderr}`)
    }
    main = a.config!
    shared = b.config!
    workerHost = c.config!
  })

  it("validates every compose file and combination", () => {
    assert.deepStrictEqual(Object.keys(services(main)).sort(), ["admin", "grafana", "mcp-server", "prometheus", "redis", "redis-exporter", "worker"])
    assert.deepStrictEqual(Object.keys(services(workerHost)), ["worker"])
    assert.strictEqual(obj(obj(obj(shared["volumes"])["artifacts"])["driver_opts"])["device"], "/mnt/nessus-mcp-artifacts")
  })

  it("refuses to start without the required secrets and settings, naming them", async () => {
    const noRedis = await runCompose(["--env-file", ".env.example", "-f", "docker-compose.worker-host.yml", "config"], {
      ENV_FILE: ".env.example",
      ARTIFACTS_HOST_PATH: "/mnt/x"
    })
    assert.notStrictEqual(noRedis.code, 0)
    assert.include(noRedis.stderr, "set REDIS_URL")
    const noEnvFile = await runCompose(["-f", "docker-compose.yml", "config"], { ENV_FILE: "does-not-exist.env" })
    assert.notStrictEqual(noEnvFile.code, 0)
    assert.match(noEnvFile.stderr, /does-not-exist\.env|REDIS_PASSWORD/)
  })

  it("scales the worker service: no container_name, no host ports", () => {
    for (const config of [main, workerHost]) {
      const worker = service(config, "worker")
      assert.isUndefined(worker["container_name"], "container_name would make --scale worker=N collide")
      assert.isUndefined(worker["ports"], "a published host port would make --scale worker=N collide")
    }
    for (const [name, s] of Object.entries(services(main))) assert.isUndefined(obj(s)["container_name"], `${name} has a container_name`)
  })

  it("runs Redis 7 with AOF every second, noeviction, a volume and a health check", () => {
    const redis = service(main, "redis")
    assert.match(String(redis["image"]), /^redis:7(\.\d+)*(-[a-z0-9.]+)?$/)
    const command = arr(redis["command"]).map(String).join(" ")
    assert.include(command, "--appendonly yes")
    assert.include(command, "--appendfsync everysec")
    assert.include(command, "--maxmemory-policy noeviction")
    assert.include(command, "--requirepass")
    assert.isTrue(volumes(redis).some((v) => v.startsWith("redis-data:/data")), "redis-data volume on /data")
    assert.property(obj(main["volumes"]), "redis-data")
    assert.include(arr(obj(redis["healthcheck"])["test"]).join(" "), "redis-cli ping")
  })

  it("gives every long-running service a restart policy, resource limits, a stop grace period and (where the image allows) a health check", () => {
    for (const name of longRunning) {
      const s = service(main, name)
      assert.oneOf(s["restart"], ["unless-stopped", "always"], `${name} restart`)
      const limits = obj(obj(obj(s["deploy"])["resources"])["limits"])
      assert.isDefined(limits["memory"], `${name} memory limit`)
      assert.isDefined(limits["cpus"], `${name} cpu limit`)
      assert.match(String(s["stop_grace_period"]), /^\d+s$/, `${name} stop_grace_period`)
      // redis_exporter's image has no shell or HTTP client to probe itself with.
      if (name !== "redis-exporter") assert.isDefined(obj(s["healthcheck"])["test"], `${name} healthcheck`)
    }
  })

  it("probes the MCP server and the workers on /health/ready with the image's health check script", () => {
    for (const config of [main, workerHost]) {
      for (const name of ["mcp-server", "worker"]) {
        if (!(name in services(config))) continue
        const test = arr(obj(service(config, name)["healthcheck"])["test"]).map(String)
        assert.strictEqual(test[0], "CMD")
        assert.include(test, "/opt/nessus-mcp/healthcheck.mjs")
        assert.include(test, "/health/ready")
        const portVariable = test[test.indexOf("/opt/nessus-mcp/healthcheck.mjs") + 1]!
        assert.strictEqual(environment(service(config, name))[portVariable], test[test.indexOf(portVariable) + 1], `${name}: probed port = ${portVariable}`)
      }
    }
  })

  it("lets Prometheus reach the workers: metrics on all interfaces of the container, on the port it scrapes", () => {
    for (const config of [main, workerHost]) {
      const env = environment(service(config, "worker"))
      assert.strictEqual(env["METRICS_HOST"], "0.0.0.0")
      assert.include(arr(service(config, "worker")["expose"]).map(String), env["METRICS_PORT"])
    }
  })

  it("waits for the workers' hand-over on stop: worker grace period >= MCP server's", () => {
    const seconds = (s: Record<string, unknown>) => Number(String(s["stop_grace_period"]).replace(/s$/, ""))
    assert.isAtLeast(seconds(service(main, "worker")), 60)
    assert.isAtLeast(seconds(service(main, "worker")), seconds(service(main, "mcp-server")))
    assert.strictEqual(seconds(service(workerHost, "worker")), seconds(service(main, "worker")))
  })

  it("runs the MCP server on HTTP on all interfaces with bearer tokens from the env file", () => {
    const env = environment(service(main, "mcp-server"))
    assert.strictEqual(env["MCP_TRANSPORT"], "http")
    assert.strictEqual(env["MCP_HOST"], "0.0.0.0")
    // From env_file (.env.example here): the server refuses 0.0.0.0 without tokens.
    assert.match(String(env["MCP_BEARER_TOKENS"]), /^[A-Za-z0-9_.-]+:\S{16,}/)
    assert.include(String(env["MCP_ALLOWED_HOSTS"]).split(","), "mcp-server", "Prometheus scrapes by the service name")
    const ports = arr(service(main, "mcp-server")["ports"]).map(String)
    assert.deepStrictEqual(ports, [`127.0.0.1:8000:${env["MCP_PORT"]}/tcp`], "published on loopback by default")
  })

  it("mounts configuration read-only and shares one artifacts volume as DATA_DIR", () => {
    for (const config of [main, shared, workerHost]) {
      for (const [name, raw] of Object.entries(services(config))) {
        for (const volume of volumes(obj(raw))) {
          const [source] = volume.split(":")
          if (isAbsolute(source!)) assert.match(volume, /:ro$/, `${name}: bind mount ${volume} must be read-only`)
        }
      }
    }
    for (const name of appServices) {
      const s = service(main, name)
      const env = environment(s)
      assert.include(volumes(s), `artifacts:${env["DATA_DIR"]}:rw`, `${name}: DATA_DIR on the shared volume`)
      assert.isTrue(volumes(s).some((v) => v.endsWith(`:${env["SCANNER_CONFIG"]}:ro`)), `${name}: SCANNER_CONFIG mounted read-only`)
      assert.strictEqual(s["read_only"], true, `${name}: read-only root filesystem`)
      assert.match(String(env["REDIS_URL"]), /^redis:\/\/:[^@]+@redis:6379\/\d+$/, `${name}: REDIS_URL to the bundled Redis`)
    }
    const worker = service(workerHost, "worker")
    assert.strictEqual(environment(worker)["REDIS_URL"], "redis://:secret@10.0.0.5:6379/0")
    assert.strictEqual(obj(obj(obj(workerHost["volumes"])["artifacts"])["driver_opts"])["o"], "bind")
  })

  it("puts the monitoring stack and the admin CLI behind profiles", () => {
    for (const name of ["prometheus", "grafana", "redis-exporter"]) assert.deepStrictEqual(service(main, name)["profiles"], ["monitoring"])
    assert.deepStrictEqual(service(main, "admin")["profiles"], ["tools"])
    for (const name of ["redis", "mcp-server", "worker"]) assert.isUndefined(service(main, name)["profiles"])
  })

  it("wires Prometheus and Grafana to the files in config/ and to the services' real names and ports", () => {
    const prometheus = service(main, "prometheus")
    const mounts = new Map(volumes(prometheus).map((v) => [v.split(":")[1]!, v.split(":")[0]!]))
    const prometheusYml = mounts.get("/etc/prometheus/prometheus.yml")
    assert.isTrue(prometheusYml !== undefined && existsSync(prometheusYml), "prometheus.yml mounted from config/prometheus")
    const promConfig = obj(readYaml("config", "prometheus", "prometheus.yml"))
    for (const ruleFile of arr(promConfig["rule_files"]).map(String)) {
      const source = mounts.get(ruleFile)
      assert.isTrue(source !== undefined && existsSync(source), `rule file ${ruleFile} is mounted from an existing file`)
    }
    const jobs = new Map(arr(promConfig["scrape_configs"]).map((j) => [String(obj(j)["job_name"]), obj(j)]))
    const mcpEnv = environment(service(main, "mcp-server"))
    const mcpTargets = arr(obj(arr(jobs.get("nessus-mcp-server")?.["static_configs"])[0])["targets"])
    assert.deepStrictEqual(mcpTargets, [`mcp-server:${mcpEnv["MCP_PORT"]}`])
    const workerSd = obj(arr(jobs.get("nessus-worker")?.["dns_sd_configs"])[0])
    assert.deepStrictEqual(workerSd["names"], ["worker"], "DNS service discovery finds every worker replica")
    assert.strictEqual(String(workerSd["port"]), environment(service(main, "worker"))["METRICS_PORT"])
    const exporterTarget = String(arr(obj(arr(jobs.get("redis")?.["static_configs"])[0])["targets"])[0])
    assert.include(arr(service(main, "redis-exporter")["expose"]).map(String), exporterTarget.split(":")[1])

    const grafana = service(main, "grafana")
    const gMounts = new Map(volumes(grafana).map((v) => [v.split(":")[1]!, v.split(":")[0]!]))
    const provider = obj(arr(obj(readYaml("config", "grafana", "provisioning", "dashboards", "nessus-mcp.yml"))["providers"])[0])
    const dashboardDir = String(obj(provider["options"])["path"])
    const dashboardSource = gMounts.get(`${dashboardDir}/dashboard.json`)
    assert.isTrue(dashboardSource !== undefined && existsSync(dashboardSource), "dashboard.json mounted where the provider looks")
    assert.isTrue(existsSync(gMounts.get("/etc/grafana/provisioning") ?? "/nonexistent"), "provisioning directory mounted")
    const datasource = obj(arr(obj(readYaml("config", "grafana", "provisioning", "datasources", "prometheus.yml"))["datasources"])[0])
    assert.strictEqual(datasource["url"], "http://prometheus:9090")
  })
})
