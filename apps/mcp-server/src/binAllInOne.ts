/**
 * `nessus-mcp-all-in-one` executable (`pnpm start`): simulator + worker + MCP server in one process.
 */
import * as AllInOne from "./AllInOne.js"

AllInOne.main(process.argv.slice(2), process.env)
