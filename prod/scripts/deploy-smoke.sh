#!/usr/bin/env bash
# Runs the Dockerfile's deploy stages on this machine (no Docker engine needed): for each app that exists,
# `pnpm deploy --prod --legacy --offline` into a temporary directory exactly as the deploy-<app> stage
# does, links its bin like prod/docker/link-bins.mjs, then checks that no development tooling was shipped
# and that the command loads
# all its modules (`--help`, or any exit that is not a module-resolution error). Build first: pnpm build.
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
  node prod/docker/link-bins.mjs "$out/$app" "$bin" >/dev/null || { echo "smoke: linking $bin of $app failed" >&2; status=1; continue; }
  ms=$(( ($(date +%s%N) - start) / 1000000 ))
  dev=$(ls "$out/$app/node_modules/.pnpm" | grep -E '^(vitest|typescript|turbo|@effect\+vitest|dependency-cruiser)@' || true)
  if [ -n "$dev" ]; then echo "smoke: $app ships development tooling: $dev" >&2; status=1; fi
  # What the deploy can break is the dependency closure: the command must load all its modules. Exit 0 on
  # --help is best; another exit (e.g. "no scanners.yaml here") still proves the modules resolved.
  log="$out/$app.log"
  if (cd /tmp && NODE_ENV=production timeout 20 "$out/$app/.bin/$bin" --help >"$log" 2>&1); then help=ok
  elif grep -qE 'ERR_MODULE_NOT_FOUND|Cannot find (module|package)|ERR_PACKAGE_PATH_NOT_EXPORTED' "$log"; then
    help="FAILED: $(grep -m1 -E 'ERR_MODULE_NOT_FOUND|Cannot find|ERR_PACKAGE_PATH' "$log")"; status=1
  else help="loads (exits $(cd /tmp && NODE_ENV=production timeout 20 "$out/$app/.bin/$bin" --help >/dev/null 2>&1; echo $?) without --help support)"; fi
  size=$(du -sh "$out/$app" | cut -f1)
  printf 'smoke: %-11s deploy %5d ms  size %6s  packages %3d  %s --help: %s\n' "$app" "$ms" "$size" \
    "$(ls "$out/$app/node_modules/.pnpm" | wc -l)" "$bin" "$help"
done
exit $status
