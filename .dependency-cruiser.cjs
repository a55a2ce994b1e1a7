/**
 * Import boundaries, checked in CI (`pnpm lint:boundaries`). Libraries never import apps; the client and
 * the validator are independent of each other and of the scheduler; nothing reaches into another
 * package's internals; libraries never pick the runtime (@effect/platform-node) for their users.
 */
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: "libraries-never-import-apps",
      severity: "error",
      from: { path: "^packages/" },
      to: { path: "^apps/|@nessus-mcp/(mcp-server|worker|admin-cli)" }
    },
    {
      name: "client-is-independent",
      severity: "error",
      from: { path: "^packages/nessus-client/src" },
      to: { path: "^packages/(validator|scheduler|nessus-simulator)/|node_modules/@nessus-mcp/(validator|scheduler|nessus-simulator)" }
    },
    {
      name: "validator-is-independent",
      severity: "error",
      from: { path: "^packages/validator/src" },
      to: { path: "^packages/(nessus-client|scheduler|nessus-simulator)/|node_modules/@nessus-mcp/(nessus-client|scheduler|nessus-simulator)" }
    },
    {
      name: "scheduler-does-not-import-validator-or-simulator",
      severity: "error",
      from: { path: "^packages/scheduler/src" },
      to: { path: "^packages/(validator|nessus-simulator)/|node_modules/@nessus-mcp/(validator|nessus-simulator)" }
    },
    {
      name: "apps-do-not-import-each-other",
      comment: "One exception: apps/mcp-server may import the public entry of @nessus-mcp/worker (an in-process " +
        "worker for the in-memory queue and nessus-mcp-all-in-one); nothing else of another app.",
      severity: "error",
      from: { path: "^apps/([^/]+)/" },
      to: {
        path: "^apps/([^/]+)/",
        pathNot: ["^apps/$1/", "^apps/worker/(src/index\\.ts|dist/index\\.(js|d\\.ts))$"]
      }
    },
    {
      name: "only-mcp-server-imports-the-worker-entry",
      severity: "error",
      from: { path: "^apps/", pathNot: "^apps/(mcp-server|worker)/" },
      to: { path: "^apps/worker/(src/index\\.ts|dist/index\\.(js|d\\.ts))$" }
    },
    {
      name: "no-reaching-into-internals",
      severity: "error",
      from: { path: "^(packages|apps)/([^/]+)/" },
      to: { path: "^packages/([^/]+)/src/internal/", pathNot: "^packages/$2/" }
    },
    {
      name: "libraries-do-not-choose-the-runtime",
      severity: "error",
      from: { path: "^packages/(nessus-client|validator|scheduler)/src" },
      to: { path: "@effect/platform-node" }
    },
    {
      name: "no-circular",
      severity: "error",
      from: {},
      to: { circular: true }
    }
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    exclude: { path: "(^|/)(dist|node_modules|\\.cache)/" },
    tsPreCompilationDeps: true,
    combinedDependencies: true,
    enhancedResolveOptions: { exportsFields: ["exports"], conditionNames: ["import", "types", "default"] }
  }
}
