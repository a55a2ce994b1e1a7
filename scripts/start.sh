#!/usr/bin/env bash
# The README's run command (also `pnpm start`): installs what is missing and builds (scripts/setup.sh), then
# runs Nessus MCP in one process: a Nessus simulator with two scanners (config/scanners.yaml: 8834, 8835),
# a worker, and the MCP server on http://127.0.0.1:8000/mcp. It prints the MCP URL, a fresh bearer token and
# the lines to paste into an MCP client. The queue is in memory; set REDIS_URL to use Redis instead.
# Arguments go to nessus-mcp-all-in-one (e.g. --port 8001, or --transport stdio); --help lists them.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/setup.sh
source scripts/setup.sh
exec node apps/mcp-server/bin/nessus-mcp-all-in-one.js "$@"
