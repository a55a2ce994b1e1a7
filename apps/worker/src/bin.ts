/**
 * `nessus-mcp-worker`: see `Main`.
 */
import { main } from "./Main.js"

main(process.env)
