#!/usr/bin/env bash
# Runs a command with a real, unlocked Secret Service: a fresh gnome-keyring
# on the current D-Bus session. Use it inside `dbus-run-session --`, so the
# daemon ends with the session and nothing outlives the run.
set -euo pipefail
[ -n "${DBUS_SESSION_BUS_ADDRESS:-}" ] || { echo "with-keyring.sh: run me under dbus-run-session" >&2; exit 2; }
keyrings=$(mktemp -d)
trap 'rm -rf "$keyrings"' EXIT
# A throwaway keyring directory, so an existing login keyring with another
# password can never block the unlock.
# Tests that rotate the per-user gateway token check this before they do.
export GATEHOUSE_TESTS_PRIVATE_KEYRING=1
printf 'gatehouse-tests' | XDG_DATA_HOME="$keyrings" gnome-keyring-daemon --unlock --components=secrets --daemonize >/dev/null
"$@"
