/**
 * Decoding of real Nessus response shapes (as quoted in the REST API reference) and the pure helpers
 * of NessusModel: progress, status, token extraction, scan creation body.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Option, Redacted, Schema } from "effect"
import * as NessusModel from "../src/NessusModel.js"

const decode = <S extends Schema.Top & { readonly DecodingServices: never }>(schema: S, input: unknown) =>
  Schema.decodeUnknownEffect(schema)(input) as Effect.Effect<S["Type"], Schema.SchemaError>

describe("NessusModel decoding", () => {
  it.effect("export request: Nessus 8+ {token, file}", () =>
    Effect.gen(function*() {
      const body = yield* decode(NessusModel.ExportRequested, {
        token: "ce2d5454a6e0a6bbd2c35c5e4df9fa0cb75b1c7e5f0fb1c3f3b19a1f01207c37",
        file: 1911844196
      })
      assert.strictEqual(body.file, 1911844196)
      assert.isTrue(body.token !== undefined && Redacted.isRedacted(body.token))
      assert.strictEqual(
        Redacted.value(body.token!),
        "ce2d5454a6e0a6bbd2c35c5e4df9fa0cb75b1c7e5f0fb1c3f3b19a1f01207c37"
      )
      assert.notInclude(String(body.token), "ce2d5454")
    }))

  it.effect("export request: Nessus 6/7 {file} without token", () =>
    Effect.gen(function*() {
      const body = yield* decode(NessusModel.ExportRequested, { file: 1235941936 })
      assert.strictEqual(body.file, 1235941936)
      assert.isUndefined(body.token)
    }))

  it.effect("export request without a file id is a decode failure", () =>
    Effect.gen(function*() {
      const result = yield* Effect.result(decode(NessusModel.ExportRequested, { token: "abc" }))
      assert.strictEqual(result._tag, "Failure")
    }))

  it.effect("export status: loading, ready, error, token pending", () =>
    Effect.gen(function*() {
      const states = yield* Effect.forEach(
        [{ status: "loading" }, { status: "ready" }, { status: "error" }, { status: "pending", message: "x" }],
        (b) => Effect.map(decode(NessusModel.ExportStatus, b), NessusModel.exportState)
      )
      assert.deepStrictEqual(states, ["loading", "ready", "error", "loading"])
    }))

  it.effect("GET /folders + GET /scans of a real Nessus 7 (seccubus #631)", () =>
    Effect.gen(function*() {
      const body = yield* decode(NessusModel.ScanList, {
        folders: [
          { unread_count: null, custom: 0, default_tag: 0, type: "trash", name: "Trash", id: 2 },
          { unread_count: null, custom: 0, default_tag: 1, type: "main", name: "My Scans", id: 3 }
        ],
        scans: [{
          folder_id: 3,
          type: null,
          read: true,
          last_modification_date: 0,
          creation_date: 0,
          status: "empty",
          uuid: null,
          shared: false,
          user_permissions: 128,
          owner: "benjamin",
          timezone: null,
          rrules: null,
          starttime: null,
          enabled: false,
          control: true,
          name: "test",
          id: 5
        }],
        timestamp: 1513847657
      })
      assert.strictEqual(body.folders?.length, 2)
      assert.strictEqual(body.scans?.[0]?.status, "empty")
      assert.strictEqual(body.scans?.[0]?.uuid, null)
      assert.strictEqual(body.scans?.[0]?.id, 5)
    }))

  it.effect("GET /scans with \"scans\": null and policies null", () =>
    Effect.gen(function*() {
      const scans = yield* decode(NessusModel.ScanList, { folders: [], scans: null, timestamp: 1 })
      assert.strictEqual(scans.scans, null)
      const policies = yield* decode(NessusModel.PolicyList, { policies: null })
      assert.strictEqual(policies.policies, null)
    }))

  it.effect("unknown scan statuses decode to \"unknown\", known ones stay", () =>
    Effect.gen(function*() {
      const known = yield* decode(NessusModel.ScanStatus, "canceled")
      const odd = yield* decode(NessusModel.ScanStatus, "canceling")
      assert.strictEqual(known, "canceled")
      assert.strictEqual(odd, "unknown")
      assert.isTrue(NessusModel.isTerminal("canceled"))
      assert.isTrue(NessusModel.isActive("paused"))
      assert.isFalse(NessusModel.isActive("unknown"))
    }))

  it.effect("session: 48-hex token (+ Nessus 10 md5sums), redacted on decode", () =>
    Effect.gen(function*() {
      const body = yield* decode(NessusModel.SessionToken, {
        token: "50168808199c1a2197d180fa62fb9cc3cb9108054911476a",
        md5sum_wizard_templates: "4a5f1a2b",
        md5sum_tenable_links: "8a7b"
      })
      assert.strictEqual(Redacted.value(body.token), "50168808199c1a2197d180fa62fb9cc3cb9108054911476a")
      assert.notInclude(JSON.stringify(body), "50168808")
    }))

  it.effect("server status (idle, starting) and Essentials properties with scan_api false", () =>
    Effect.gen(function*() {
      const idle = yield* decode(NessusModel.ServerStatus, { status: "ready", progress: null })
      assert.strictEqual(idle.status, "ready")
      const starting = yield* decode(NessusModel.ServerStatus, { status: "loading", progress: 50 })
      assert.strictEqual(starting.progress, 50)
      const essentials = yield* decode(NessusModel.ServerProperties, {
        nessus_type: "Nessus Essentials",
        server_version: "10.7.2",
        license: {
          type: "home",
          name: "Nessus Essentials",
          restricted: true,
          ips: 16,
          features: { api: true, scan_api: false }
        }
      })
      assert.isFalse(NessusModel.scanApiAvailable(essentials))
      const nessus6 = yield* decode(NessusModel.ServerProperties, {
        loaded_plugin_set: 201502021615,
        server_uuid: "9b7b6864-d654-345f-57f2-aeaa5438654421ba99bb9f34e2b5",
        nessus_ui_version: "6.0.2",
        nessus_type: "Nessus",
        server_version: "6.0.2",
        feed: "ProFeed",
        capabilities: { multi_scanner: true, report_email_config: false },
        license: { type: "professional", name: "Nessus Professional", mode: 2 }
      })
      assert.isTrue(NessusModel.scanApiAvailable(nessus6))
    }))

  it.effect("templates, scanners, policies, created scan, launch", () =>
    Effect.gen(function*() {
      const templates = yield* decode(NessusModel.TemplateList, {
        templates: [
          {
            name: "basic",
            title: "Basic Network Scan",
            uuid: "731a8e52-3ea6-a291-ec0a-d2ff0619c19d7bd788d6be818b65",
            desc: "A full system scan",
            cloud_only: false,
            subscription_only: false,
            is_agent: null,
            more_info: "x"
          }
        ]
      })
      assert.isTrue(NessusModel.isTemplateUuid(templates.templates?.[0]?.uuid ?? ""))
      assert.isFalse(NessusModel.isTemplateUuid("basic"))
      const scanners = yield* decode(NessusModel.ScannerList, {
        scanners: [{ id: 1, uuid: "00000000-0000-0000-0000-00000000000000000000000000001", name: "Local Scanner", type: "local", status: "on", loaded_plugin_set: "202401011234" }]
      })
      assert.strictEqual(scanners.scanners?.[0]?.type, "local")
      const policies = yield* decode(NessusModel.PolicyList, {
        policies: [{ id: 4, template_uuid: "ad629e16-03b6-8c1d-cef6-ef8c9dd3c658d24bd260ef5f9e66", name: "adv_sshcred", no_target: "false", visibility: "private" }]
      })
      assert.strictEqual(policies.policies?.[0]?.id, 4)
      const created = yield* decode(NessusModel.ScanCreated, {
        scan: {
          id: 12,
          uuid: "template-2a48d3bb-6d6b-b0e8-e5c3-1a5b0c8f39b0c7c8b0d6b6a3f4e2",
          name: "My scan",
          owner: "nessus",
          user_permissions: 128,
          enabled: false,
          creation_date: 1700000000,
          last_modification_date: 1700000000,
          custom_targets: "10.0.0.5",
          rrules: null,
          scanner_id: "1"
        }
      })
      assert.strictEqual(created.scan.id, 12)
      const launched = yield* decode(NessusModel.ScanLaunched, { scan_uuid: "4f3a0c9e-2cd5-4a39-9d5c-bc7f3f0d9e21" })
      assert.strictEqual(launched.scan_uuid.length, 36)
    }))

  it.effect("scan details: per-host progress to one percentage; completed is 100", () =>
    Effect.gen(function*() {
      const running = yield* decode(NessusModel.ScanDetails, {
        info: { status: "running", name: "x", uuid: "u", scan_start: 1700000000, scan_end: null, hostcount: 2, policy: "Advanced Scan" },
        hosts: [
          { host_id: 1, hostname: "10.0.0.5", progress: "40-100/100-100", scanprogresscurrent: 40, scanprogresstotal: 100, critical: 0, high: 1, medium: 2, low: 0, info: 10, severity: 13 },
          { host_id: 2, hostname: "10.0.0.6", scanprogresscurrent: 10, scanprogresstotal: 100 }
        ],
        vulnerabilities: [{ plugin_id: 19506, plugin_name: "Nessus Scan Information", plugin_family: "Settings", count: 2, severity: 0 }],
        history: [{ history_id: 7, uuid: "u", status: "running", owner_id: 1, creation_date: 1, last_modification_date: 2 }],
        comphosts: [],
        remediations: { remediations: null }
      })
      assert.strictEqual(NessusModel.progressPercent(running), 25)
      const none = yield* decode(NessusModel.ScanDetails, { info: { status: "pending" }, hosts: [] })
      assert.strictEqual(NessusModel.progressPercent(none), 0)
      const done = yield* decode(NessusModel.ScanDetails, {
        info: { status: "completed" },
        hosts: [{ host_id: 1, hostname: "h", scanprogresscurrent: 0, scanprogresstotal: 0 }]
      })
      assert.strictEqual(NessusModel.progressPercent(done), 100)
    }))

  it.effect("host details and plugin 19506 output", () =>
    Effect.gen(function*() {
      const host = yield* decode(NessusModel.HostDetails, {
        info: { "host-ip": "10.0.0.5", "operating-system": "Linux Kernel 5.15", host_start: "Mon Jan  1 10:00:00 2024", host_end: "Mon Jan  1 10:10:00 2024" },
        vulnerabilities: [{ plugin_id: 19506, plugin_name: "Nessus Scan Information", severity: 0, count: 1, host_id: 1, hostname: "10.0.0.5" }],
        compliance: []
      })
      assert.strictEqual(host.info["host-ip"], "10.0.0.5")
      const output = yield* decode(NessusModel.PluginOutput, {
        info: { plugindescription: { pluginattributes: { plugin_name: "Nessus Scan Information" } } },
        outputs: [{
          plugin_output: "Information about this scan : \n\nCredentialed checks : yes, as 'scanuser' via ssh\n",
          hosts: "10.0.0.5",
          severity: 0,
          ports: { "0 / tcp / ": [{ hostname: "10.0.0.5" }] },
          has_attachment: 0
        }]
      })
      const text = NessusModel.firstPluginOutput(output)
      assert.isTrue(Option.isSome(text) && text.value.includes("Credentialed checks : yes, as 'scanuser' via ssh"))
      const empty = yield* decode(NessusModel.PluginOutput, { outputs: [] })
      assert.isTrue(Option.isNone(NessusModel.firstPluginOutput(empty)))
    }))

  it.effect("error body is one key", () =>
    Effect.gen(function*() {
      const body = yield* decode(NessusModel.ErrorBody, { error: "API is not available" })
      assert.strictEqual(body.error, "API is not available")
    }))
})

describe("NessusModel helpers", () => {
  it("extracts the X-API-Token from a nessus6.js bundle", () => {
    const bundle = "var a=1;function g(a,b){return b};" +
      "return g(a,[{key:\"getApiToken\",value:function(){return\"778F4A9C-D797-4817-B110-EC427B724486\"}},{key:\"other\",value:1}]);" +
      "CUSTOM_SCAN_TEMPLATE=\"ad629e16-03b6-8c1d-cef6-ef8c9dd3c658d24bd260ef5f9e66\""
    assert.deepStrictEqual(NessusModel.extractApiToken(bundle), Option.some("778F4A9C-D797-4817-B110-EC427B724486"))
    assert.deepStrictEqual(
      NessusModel.extractApiToken("x af824aba-e642-4e63-a49b-0810542ad8a5 y"),
      Option.some("af824aba-e642-4e63-a49b-0810542ad8a5")
    )
    assert.isTrue(Option.isNone(NessusModel.extractApiToken("no token here")))
  })

  it("builds the POST /scans body with SSH escalation and Windows credentials", () => {
    const body = NessusModel.createScanBody({
      name: "n",
      targets: ["10.0.0.5", "10.0.0.6"],
      description: "d",
      folderId: 3,
      scannerId: 1,
      credentials: {
        ssh: [
          {
            username: "scanuser",
            password: Redacted.make("p1"),
            escalation: "sudo",
            escalationAccount: "root",
            escalationPassword: Redacted.make("p2")
          },
          { username: "plain", password: Redacted.make("p3"), escalationPassword: Redacted.make("ignored") }
        ],
        windows: [{ username: "admin", password: Redacted.make("p4"), domain: "CORP" }]
      }
    }, "uuid-1") as {
      uuid: string
      settings: Record<string, unknown>
      credentials: { add: { Host: { SSH: Array<Record<string, unknown>>; Windows: Array<Record<string, unknown>> } } }
    }
    assert.strictEqual(body.uuid, "uuid-1")
    assert.strictEqual(body.settings["text_targets"], "10.0.0.5\n10.0.0.6")
    assert.strictEqual(body.settings["folder_id"], 3)
    assert.strictEqual(body.settings["launch_now"], false)
    const [sudo, plain] = body.credentials.add.Host.SSH
    assert.deepInclude(sudo, {
      auth_method: "password",
      username: "scanuser",
      password: "p1",
      elevate_privileges_with: "sudo",
      escalation_account: "root",
      escalation_password: "p2"
    })
    assert.strictEqual(plain?.["elevate_privileges_with"], "Nothing")
    assert.isUndefined(plain?.["escalation_password"])
    assert.deepStrictEqual(body.credentials.add.Host.Windows[0], {
      auth_method: "Password",
      username: "admin",
      password: "p4",
      domain: "CORP"
    })
  })

  it.effect("the scan spec rejects unknown escalation methods and plain-string passwords", () =>
    Effect.gen(function*() {
      const bad = yield* Effect.result(decode(NessusModel.CreateScan, {
        name: "n",
        targets: "10.0.0.5",
        credentials: { ssh: [{ username: "u", password: Redacted.make("p"), escalation: "doas" }] }
      }))
      assert.strictEqual(bad._tag, "Failure")
      const plain = yield* Effect.result(decode(NessusModel.CreateScan, {
        name: "n",
        targets: "10.0.0.5",
        credentials: { windows: [{ username: "u", password: "plain" }] }
      }))
      assert.strictEqual(plain._tag, "Failure")
      const good = yield* decode(NessusModel.CreateScan, {
        name: "n",
        targets: "10.0.0.5",
        credentials: { ssh: [{ username: "u", password: Redacted.make("p"), escalation: "Checkpoint Gaia 'expert'" }] }
      })
      assert.strictEqual(good.credentials?.ssh?.[0]?.escalation, "Checkpoint Gaia 'expert'")
    }))
})
