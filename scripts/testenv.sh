#!/usr/bin/env bash
# Runs a command inside a throw-away desktop session: a private D-Bus session
# bus, an unlocked gnome-keyring (a real Secret Service), and Xvfb.
# HOME and the XDG folders point into a temporary directory, so no real
# keyring, config or clipboard of the user is touched.
#   scripts/testenv.sh go test ./...
set -euo pipefail

if [ -z "${ZT_IN_TESTENV:-}" ]; then
  export ZT_IN_TESTENV=1
  exec dbus-run-session -- "$0" "$@"
fi

tmp=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$tmp"' EXIT
export GOCACHE="${GOCACHE:-$(go env GOCACHE)}" GOMODCACHE="${GOMODCACHE:-$(go env GOMODCACHE)}" GOPATH="${GOPATH:-$(go env GOPATH)}"
export HOME="$tmp/home" XDG_DATA_HOME="$tmp/home/.local/share" XDG_CONFIG_HOME="$tmp/home/.config"
export XDG_STATE_HOME="$tmp/home/.local/state" XDG_CACHE_HOME="$tmp/home/.cache" XDG_RUNTIME_DIR="$tmp/run"
mkdir -p "$HOME" "$XDG_DATA_HOME" "$XDG_CONFIG_HOME" "$XDG_STATE_HOME" "$XDG_CACHE_HOME" "$XDG_RUNTIME_DIR"
chmod 700 "$XDG_RUNTIME_DIR"

# A real Secret Service, unlocked with a throw-away password.
printf %s testpass | gnome-keyring-daemon --unlock --components=secrets >/dev/null
export ZIPLINE_TRAY_REAL_KEYRING=1

# A virtual display on the first free number.
if [ -z "${DISPLAY:-}" ] && command -v Xvfb >/dev/null 2>&1; then
  for n in $(seq 90 140); do
    [ -e "/tmp/.X11-unix/X$n" ] || [ -e "/tmp/.X$n-lock" ] && continue
    # -noreset: no server reset each time the last client leaves (tests come
    # and go; one connecting during a reset is refused).
    Xvfb ":$n" -screen 0 1280x800x24 -nolisten tcp -noreset >"$tmp/xvfb.log" 2>&1 &
    for _ in $(seq 50); do [ -e "/tmp/.X11-unix/X$n" ] && break; sleep 0.1; done
    export DISPLAY=":$n"
    break
  done
fi

"$@"
