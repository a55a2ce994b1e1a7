#!/usr/bin/env bash
# The README's test command: installs what is missing, builds, checks types and import boundaries, tests.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/setup.sh
pnpm typecheck
pnpm lint:boundaries
pnpm test
