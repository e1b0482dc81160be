#!/usr/bin/env bash
# The whole app without a Zipline server: starts the fake Zipline
# (cmd/fakezipline) on loopback, signs a throw-away profile in, watches a
# demo folder and opens zipline-tray on your desktop. Drop files on the drop
# zone or into the demo folder and watch them upload. Ctrl-C stops
# everything and removes the demo sign-in from your keyring.
#   make demo            (or: scripts/demo.sh [path/to/zipline-tray])
set -euo pipefail
cd "$(dirname "$0")/.."

bin=${1:-bin/zipline-tray}
if [ ! -x "$bin" ]; then
  echo "demo: $bin is missing; run make build first (make demo does)" >&2
  exit 1
fi
if [ -z "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]; then
  echo "demo: no display (DISPLAY / WAYLAND_DISPLAY unset). Run it on a desktop;" >&2
  echo "      headless, 'make screenshots' shows the windows as PNGs instead." >&2
  exit 1
fi
if [ -z "${DBUS_SESSION_BUS_ADDRESS:-}" ]; then
  echo "demo: no D-Bus session bus, so no keyring and no tray. Run it inside your desktop session." >&2
  exit 1
fi

mkdir -p bin
go build -o bin/fakezipline ./cmd/fakezipline

tmp=$(mktemp -d)
export ZIPLINE_TRAY_HOME="$tmp/profile"
folder="$tmp/Demo screenshots"
mkdir -p "$ZIPLINE_TRAY_HOME" "$folder"
fake="" app="" signed_in=""
cleanup() {
  trap - EXIT INT TERM
  if [ -n "$app" ]; then kill "$app" 2>/dev/null || true; wait "$app" 2>/dev/null || true; fi
  # The token went into your real keyring; take it out again.
  if [ -n "$signed_in" ]; then "$bin" logout >/dev/null 2>&1 || true; fi
  if [ -n "$fake" ]; then kill "$fake" 2>/dev/null || true; wait "$fake" 2>/dev/null || true; fi
  rm -rf "$tmp"
  echo "demo: stopped, demo profile removed."
}
trap cleanup EXIT
trap 'exit 130' INT TERM

user=demo password=demo
bin/fakezipline -user "$user" -password "$password" -no-rate-limit >"$tmp/fake.out" 2>"$tmp/fake.log" &
fake=$!
url=""
for _ in $(seq 100); do
  url=$(head -n1 "$tmp/fake.out" 2>/dev/null || true)
  [ -n "$url" ] && break
  kill -0 "$fake" 2>/dev/null || { cat "$tmp/fake.log" >&2; exit 1; }
  sleep 0.1
done
[ -n "$url" ] || { echo "demo: the fake server did not start" >&2; exit 1; }

# Settings first (missing fields keep their defaults), then sign in: login
# keeps the watched folder and adds the account.
esc=$(printf '%s' "$folder" | sed 's/\\/\\\\/g; s/"/\\"/g')
printf '{"version": 1, "watch": {"folders": [{"path": "%s", "recursive": false}]}}\n' "$esc" \
  >"$ZIPLINE_TRAY_HOME/config.json"
printf '%s\n' "$password" | "$bin" login --server "$url" --username "$user" --password-stdin
signed_in=1

cat <<EOF

  Fake Zipline:   $url   (user $user, password $password)
  Demo profile:   $ZIPLINE_TRAY_HOME
  Watched folder: $folder

  Copy a screenshot into the watched folder, or drop files on the drop zone
  (tray menu → Open drop zone). Links go to your clipboard.
  Ctrl-C stops the demo.

EOF

"$bin" &
app=$!
wait "$app" || true
