# Sourced by scripts/test.sh and scripts/start.sh: toolchain, system packages, dependencies, build.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/toolchain.sh
source scripts/toolchain.sh
if ! command -v redis-server >/dev/null 2>&1; then
  echo "setup: redis-server is missing; installing it with apt-get" >&2
  if [ "$(id -u)" = 0 ]; then apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >&2
  else sudo apt-get update -qq >&2 && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >&2; fi
fi
# The prod tests validate prod/docker-compose*.yml with `docker-compose config` (no Docker engine needed).
if ! command -v docker-compose >/dev/null 2>&1; then
  echo "setup: docker-compose is missing; installing it with apt-get" >&2
  if [ "$(id -u)" = 0 ]; then apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker-compose >&2
  else sudo apt-get update -qq >&2 && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker-compose >&2; fi
fi
pnpm install --frozen-lockfile --reporter=append-only >&2
pnpm build >&2
