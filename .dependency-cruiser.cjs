/**
 * Import boundaries, checked in CI (`pnpm lint:boundaries`). Libraries never import apps; the client and
 * the validator are independent of each other and of the scheduler; nothing reaches into another
 * package's internals; libraries never pick the runtime (@effect/platform-node) for their users; apps do
 * not import each other, except the worker package's public entry (`@nessus-mcp/worker`, never its
 * modules or internals): the MCP server's all-in-one entry runs a worker in-process through it, and the
 * admin CLI reuses the worker's scanner clients and housekeeping janitor so both clean up the same way.
 */
/** A module of one of our packages, whether written as `@nessus-mcp/x`, resolved to `packages/x/…` or unresolved. */
const ours = (names) => `(^|/)(packages|apps)/(${names})/|^@nessus-mcp/(${names})($|/)`

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: "libraries-never-import-apps",
      severity: "error",
      from: { path: "^packages/" },
      to: { path: ours("mcp-server|worker|admin-cli") }
    },
    {
      name: "client-is-independent",
      severity: "error",
      from: { path: "^packages/nessus-client/src" },
      to: { path: ours("validator|scheduler|nessus-simulator") }
    },
    {
      name: "validator-is-independent",
      severity: "error",
      from: { path: "^packages/validator/src" },
      to: { path: ours("nessus-client|scheduler|nessus-simulator") }
    },
    {
      name: "scheduler-does-not-import-validator-client-or-simulator",
      severity: "error",
      from: { path: "^packages/scheduler/src" },
      to: { path: ours("validator|nessus-client|nessus-simulator") }
    },
    {
      name: "simulator-is-independent",
      severity: "error",
      from: { path: "^packages/nessus-simulator/src" },
      to: { path: ours("validator|nessus-client|scheduler") }
    },
    {
      name: "apps-do-not-import-each-other",
      severity: "error",
      from: { path: "^apps/worker/" },
      to: { path: ours("mcp-server|worker|admin-cli"), pathNot: "^apps/worker/" }
    },
    {
      // The worker package's public entry is the one way into another app: `@nessus-mcp/worker` resolves
      // to apps/worker/dist/index.*; `@nessus-mcp/worker/Janitor` and the like stay forbidden.
      name: "mcp-server-and-admin-cli-import-only-the-worker-entry",
      severity: "error",
      from: { path: "^apps/(mcp-server|admin-cli)/" },
      to: { path: ours("mcp-server|worker|admin-cli"), pathNot: "^apps/$1/|^apps/worker/dist/index\\.(js|d\\.ts)$|^@nessus-mcp/worker$" }
    },
    {
      name: "no-reaching-into-internals",
      severity: "error",
      from: { path: "^(packages|apps)/([^/]+)/" },
      to: { path: "^(packages|apps)/[^/]+/(src|dist)/internal/|^@nessus-mcp/[^/]+/internal/", pathNot: "^(packages|apps)/$2/" }
    },
    {
      name: "libraries-do-not-choose-the-runtime",
      severity: "error",
      from: { path: "^packages/(nessus-client|validator|scheduler)/src" },
      to: { path: "@effect/platform-node" }
    },
    {
      name: "no-unresolvable-imports",
      severity: "error",
      from: {},
      to: { couldNotResolve: true }
    },
    {
      name: "no-circular",
      severity: "error",
      from: {},
      to: { circular: true }
    }
  ],
  options: {
    // Sibling packages resolve to their built dist/ through `exports`: keep those files as edge targets
    // (so the rules see them) without crawling into them.
    doNotFollow: { path: ["node_modules", "(^|/)dist/"] },
    exclude: { path: "(^|/)\\.cache/" },
    tsPreCompilationDeps: true,
    combinedDependencies: true,
    enhancedResolveOptions: { exportsFields: ["exports"], conditionNames: ["import", "types", "default"] }
  }
}
