/** Static response bodies shaped after shared/reference/nessus-rest-api.md. */

/** A scan template as listed by GET /editor/scan/templates. */
export interface Template {
  readonly name: string
  readonly title: string
  readonly uuid: string
  readonly desc: string
}

/** The templates with their real, installation-independent 52-char uuids. */
export const TEMPLATES: ReadonlyArray<Template> = [
  {
    name: "advanced",
    title: "Advanced Scan",
    uuid: "ad629e16-03b6-8c1d-cef6-ef8c9dd3c658d24bd260ef5f9e66",
    desc: "Configure a scan without using any recommendations."
  },
  {
    name: "basic",
    title: "Basic Network Scan",
    uuid: "731a8e52-3ea6-a291-ec0a-d2ff0619c19d7bd788d6be818b65",
    desc: "A full system scan suitable for any host."
  },
  {
    name: "discovery",
    title: "Host Discovery",
    uuid: "bbd4f805-3966-d464-b2d1-0079eb89d69708c3a05ec2812bcf",
    desc: "A simple scan to discover live hosts and open ports."
  }
]

/** GET /editor/scan/templates body. */
export const templatesBody = () => ({
  templates: TEMPLATES.map((t, i) => ({
    unsupported: false,
    cloud_only: false,
    desc: t.desc,
    order: i + 1,
    subscription_only: false,
    is_was: null,
    title: t.title,
    is_agent: null,
    uuid: t.uuid,
    dynamic_scan: null,
    icon: t.name,
    manager_only: false,
    category: "Discovery",
    name: t.name,
    more_info: null,
    license_fulfilled: true
  }))
})

/** Licence block for an edition. */
export const licence = (edition: string, scanApi: boolean) => {
  const names: Record<string, [string, string]> = {
    professional: ["professional", "Nessus Professional"],
    expert: ["expert", "Nessus Expert"],
    essentials: ["home", "Nessus Essentials"],
    manager: ["manager", "Nessus Manager"]
  }
  const [type, name] = names[edition] ?? names.professional!
  return {
    type,
    name,
    restricted: edition === "essentials",
    ips: edition === "essentials" ? 16 : "unlimited",
    agents: 0,
    scanners: 0,
    mode: 3,
    expiration_date: 1924905600,
    features: {
      api: true,
      scan_api: scanApi,
      policies: true,
      report: true,
      remote_link: true,
      cluster: false,
      users: edition === "manager",
      vpr: true,
      offline: false,
      plugin_rules: true,
      folders: true,
      local_scanner: true,
      logs: true,
      smtp: true
    }
  }
}

/** GET /server/properties body. */
export const propertiesBody = (o: {
  version: string
  edition: string
  scanApi: boolean
  serverUuid: string
  bootTime: number
  users: number
}) => ({
  nessus_type: o.edition === "essentials" ? "Nessus Essentials" : o.edition === "manager" ? "Nessus Manager" : "Nessus",
  server_version: o.version,
  nessus_ui_version: o.version,
  server_build: "20010",
  nessus_ui_build: "20010",
  server_uuid: o.serverUuid,
  platform: "LINUX",
  loaded_plugin_set: "202511060226",
  plugin_set: "202511060226",
  feed: "ProFeed",
  idle_timeout: 30,
  scanner_boottime: o.bootTime,
  login_banner: null,
  expiration: 1924905600,
  expiration_time: 3650,
  is_offline: false,
  restarting: false,
  restart_pending: { reason: null, type: null },
  feed_error: null,
  ui_theme: "light",
  template_version: "202511060226",
  used_ip_count: 0,
  users_count: o.users,
  update: { href: null, new_version: 0, restart: 0 },
  notifications: [],
  capabilities: { multi_scanner: o.edition === "manager", report_email_config: false, tags: false },
  tenable_links: [],
  features: licence(o.edition, o.scanApi).features,
  license: licence(o.edition, o.scanApi)
})

/** GET /server/status body when ready. */
export const statusBody = () => ({
  detailed_status: {
    login_status: "allow",
    feed_status: { progress: 100, status: "ready" },
    db_status: { progress: 100, status: "ready" },
    engine_status: { progress: 100, status: "ready" }
  },
  pluginSet: true,
  pluginData: true,
  initLevel: 0,
  progress: null,
  status: "ready",
  code: 200
})

/**
 * /nessus6.js: the token is the first UUID in the file and appears exactly as
 * `return g(a,[{key:"getApiToken",value:function(){return"<UUID>"}},{key:"...` so every public extraction
 * regex (greedy ones included) finds it; the custom-template constant comes after it.
 */
export const nessus6Js = (token: string) =>
  `/*! nessus6.js (simulated) */\n!function(e){var t={};function n(r){if(t[r])return t[r].exports;var o=t[r]={i:r,l:!1,exports:{}};return e[r].call(o.exports,o,o.exports,n),o.l=!0,o.exports}n.m=e,n.c=t}([function(e,t,n){"use strict";` +
  `var a=function(){function e(){}return e}();` +
  `function g(a,b){for(var i=0;i<b.length;i++){var d=b[i];Object.defineProperty(a,d.key,d)}return a}` +
  `var Api=function(){function a(){}` +
  `return g(a,[{key:"getApiToken",value:function(){return"${token}"}},{key:"getVersion",value:function(){return"10"}}]),a}();` +
  `var Tpl=function(){this.CUSTOM_SCAN_TEMPLATE="ab4bacd2-05f6-425c-9d79-3ba3940ad1c24e51e1f403febe40",this.CUSTOM_AGENT_TEMPLATE="d16c51fa-597f-67a8-9add-74d5ab066b49a918400c42a035f7"};` +
  `e.exports=Api}]);\n`
