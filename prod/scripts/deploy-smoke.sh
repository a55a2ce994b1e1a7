#!/usr/bin/env bash
# Runs the Dockerfile's deploy stages on this machine (no Docker engine needed): for each app that exists,
# `pnpm deploy --prod --legacy --offline` into a temporary directory exactly as the deploy-<app> stage
# does, links its bin like prod/docker/link-bins.mjs, then checks that no development tooling was shipped
# and that the command starts (`--help`). Build first: pnpm build.
#   pnpm --filter @nessus-mcp/prod run smoke:deploy
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
source scripts/toolchain.sh
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
status=0
for entry in mcp-server:nessus-mcp worker:nessus-mcp-worker admin-cli:nessus-admin; do
  app="${entry%%:*}" bin="${entry#*:}"
  if [ ! -f "apps/$app/package.json" ]; then echo "smoke: apps/$app does not exist yet, skipped" >&2; continue; fi
  start=$(date +%s%N)
  pnpm --filter "@nessus-mcp/$app" deploy --prod --legacy --offline "$out/$app" >/dev/null 2>&1 \
    || { echo "smoke: pnpm deploy of $app failed" >&2; status=1; continue; }
  node prod/docker/link-bins.mjs "$out/$app" "$bin" >/dev/null || { status=1; continue; }
  ms=$(( ($(date +%s%N) - start) / 1000000 ))
  dev=$(ls "$out/$app/node_modules/.pnpm" | grep -E '^(vitest|typescript|turbo|@effect\+vitest|dependency-cruiser)@' || true)
  if [ -n "$dev" ]; then echo "smoke: $app ships development tooling: $dev" >&2; status=1; fi
  if (cd /tmp && NODE_ENV=production "$out/$app/.bin/$bin" --help >/dev/null 2>&1); then help=ok; else help=FAILED; status=1; fi
  size=$(du -sh "$out/$app" | cut -f1)
  printf 'smoke: %-11s deploy %5d ms  size %6s  packages %3d  %s --help: %s\n' "$app" "$ms" "$size" \
    "$(ls "$out/$app/node_modules/.pnpm" | wc -l)" "$bin" "$help"
done
exit $status
