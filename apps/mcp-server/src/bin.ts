/**
 * `nessus-mcp` executable. Until the scheduler-backed `ScanService` is wired in, tool calls answer
 * UNAVAILABLE; transports, health and metrics work.
 */
import * as Main from "./Main.js"
import * as ScanService from "./ScanService.js"

Main.main(process.argv.slice(2), process.env, { scanService: ScanService.layerUnavailable })
