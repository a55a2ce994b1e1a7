/** Authentication signals (plugin 19506, host properties, auth plugins) and their aggregation. */
export * as Authentication from "./Authentication.js"
/** Findings for agents: profiles, filters, projection, JSON-NL rendering. */
export * as Findings from "./Findings.js"
/** The on-disk findings index: built once per scan, pages served in milliseconds. */
export * as FindingsIndex from "./FindingsIndex.js"
/** Streaming `.nessus` parser: hosts and findings one by one, in flat memory. */
export * as Report from "./Report.js"
/** The single tagged error of the package. */
export * as ValidatorError from "./ValidatorError.js"
/** The verdict on a scan export: validity, authentication status, counts. */
export * as Verdict from "./Verdict.js"
