#!/usr/bin/env bash
# Install the third-party MCP servers that tests/mcp runs, pinned, into $1 (default
# ~/.cache/agentcore-mcp): the npm servers under $1/node_modules, the PyPI servers in their own
# virtualenv $1/venv (they pin their own mcp release; ours stays in .venv). Idempotent: a stamp
# listing the pinned versions skips the work when nothing changed.
set -euo pipefail
dest="${1:-$HOME/.cache/agentcore-mcp}"
NPM_PKGS=("@modelcontextprotocol/server-everything@2026.8.31" "@modelcontextprotocol/server-filesystem@2026.8.31"
          "@modelcontextprotocol/inspector@2.12.0")  # the Inspector's --cli checks agentcore's own server
PY_PKGS=("mcp-server-time==2026.10.19" "mcp-server-git==2026.10.19")
want="$(printf '%s\n' "${NPM_PKGS[@]}" "${PY_PKGS[@]}")"
stamp="$dest/.installed"
mkdir -p "$dest"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] \
    && [ -f "$dest/node_modules/@modelcontextprotocol/server-filesystem/dist/index.js" ] \
    && [ -x "$dest/node_modules/.bin/mcp-inspector" ] && [ -x "$dest/venv/bin/mcp-server-git" ]; then
    echo "MCP servers already installed in $dest"
    exit 0
fi
if ! command -v npm >/dev/null; then
    if [ "$(id -u)" != 0 ]; then echo "run as root to install nodejs and npm" >&2; exit 1; fi
    apt-get -o DPkg::Lock::Timeout=600 update -q && apt-get -o DPkg::Lock::Timeout=600 install -y -q --no-install-recommends nodejs npm >/dev/null
fi
npm install --no-audit --no-fund --loglevel=error --prefix "$dest" "${NPM_PKGS[@]}"
[ -x "$dest/venv/bin/python" ] || "${PYTHON:-python3}" -m venv "$dest/venv"
"$dest/venv/bin/python" -m pip install -q "${PY_PKGS[@]}"
printf '%s\n' "$want" > "$stamp"
echo "MCP servers installed in $dest"
