/**
 * `nessus-mcp` executable: the MCP server over the scheduler and the findings the workers index under
 * `DATA_DIR`. With `REDIS_URL` it serves the shared queue (workers run as `nessus-mcp-worker` processes);
 * without, the queue lives in this process and so does a worker driving the scanners of `SCANNER_CONFIG`.
 * It never starts a simulator; `nessus-mcp-all-in-one` is the self-contained demo.
 */
import * as Backend from "./Backend.js"
import * as Main from "./Main.js"

Main.main(process.argv.slice(2), process.env, { scanService: Backend.layer({ worker: "auto" }) })
