#!/usr/bin/env bash
# Runs the WebDriver end-to-end tests. Expects to be started by `make e2e`,
# i.e. under `xvfb-run -a dbus-run-session --`, with target/debug/gatehouse and gatehouse-app built.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)

scratch=$(mktemp -d)
# A throwaway home: WebKit, mesa and gnome-keyring all write below $HOME.
export HOME="$scratch/home" GATEHOUSE_HOME="$scratch/gatehouse" XDG_DATA_HOME="$scratch/home/.local/share"
mkdir -p "$HOME" "$XDG_DATA_HOME"
echo -n e2e | gnome-keyring-daemon --unlock --components=secrets --daemonize >/dev/null

driver="${TAURI_DRIVER:-$root/.tools/bin/tauri-driver}"
"$driver" --port 4444 >"$scratch/tauri-driver.log" 2>&1 &
driver_pid=$!
cleanup() {
  kill "$driver_pid" 2>/dev/null || true
  wait "$driver_pid" 2>/dev/null || true
  [ -n "${KEEP_E2E_LOG:-}" ] && cp "$scratch/tauri-driver.log" /tmp/e2e-driver.log
  rm -rf "$scratch"
}
trap cleanup EXIT

for _ in $(seq 100); do
  curl -fsS http://127.0.0.1:4444/status >/dev/null 2>&1 && break
  sleep 0.1
done
curl -fsS http://127.0.0.1:4444/status >/dev/null || { cat "$scratch/tauri-driver.log"; exit 1; }

cd "$here"
if ! npm test; then
  echo "--- tauri-driver log ---"; tail -50 "$scratch/tauri-driver.log"
  exit 1
fi
# What WebDriver cannot show: closing the window, a second launch, SIGTERM.
"$root/.tools/venv/bin/pytest" -q -p no:cacheprovider "$here/test_lifecycle.py"
