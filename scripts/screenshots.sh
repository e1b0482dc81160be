#!/usr/bin/env bash
# Takes PNGs of the app's windows for the docs, headless: inside
# scripts/testenv.sh (private bus, keyring, Xvfb) it runs the fake Zipline,
# a fake tray host (cmd/faketray), and the real app, opens each window
# through the tray menu as a user would, and captures it.
#   make screenshots   (or: scripts/screenshots.sh [path/to/zipline-tray])
# Output: docs/screenshots/{signin,dropzone,settings,queue,about}.png and tray-menu.txt
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

if [ -z "${ZT_IN_TESTENV:-}" ]; then
  exec scripts/testenv.sh "$0" "$@"
fi

bin=${1:-bin/zipline-tray}
case $bin in /*) ;; *) bin="$root/$bin" ;; esac
[ -x "$bin" ] || { echo "screenshots: $bin is missing; run make build first" >&2; exit 1; }
for tool in xdotool import; do
  command -v $tool >/dev/null || { echo "screenshots: $tool is missing (make deps installs it)" >&2; exit 1; }
done
out="$root/docs/screenshots"
mkdir -p "$out" "$root/bin"
go build -o "$root/bin/fakezipline" ./cmd/fakezipline
go build -o "$root/bin/faketray" ./cmd/faketray

work=$(mktemp -d)
export ZIPLINE_TRAY_HOME="$work/profile"
folder="$HOME/Pictures/Screenshots"
mkdir -p "$ZIPLINE_TRAY_HOME" "$folder"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

fail() {
  echo "screenshots: $*" >&2
  for f in "$work"/*.log; do echo "--- $f" >&2; tail -n 30 "$f" >&2; done
  exit 1
}

# until SECONDS CMD...: run CMD every 0.1 s until it succeeds.
until_ok() {
  local n=$(( $1 * 10 )); shift
  for _ in $(seq "$n"); do "$@" && return 0; sleep 0.1; done
  return 1
}

"$root/bin/faketray" serve >"$work/tray.log" 2>&1 &
pids+=($!)
until_ok 10 grep -q serving "$work/tray.log" || fail "faketray did not start"

user=demo password=demo
"$root/bin/fakezipline" -user "$user" -password "$password" -no-rate-limit >"$work/fake.out" 2>"$work/fake.log" &
pids+=($!)
until_ok 10 test -s "$work/fake.out" || fail "fakezipline did not start"
url=$(head -n1 "$work/fake.out")

app=""
start_app() {
  "$bin" >"$work/app-$1.log" 2>&1 &
  app=$!
  pids+=("$app")
}
stop_app() {
  kill "$app" 2>/dev/null || true
  wait "$app" 2>/dev/null || true
}

win=""
# wait_window TITLE: the app's visible window with exactly this title.
find_window() {
  local id
  for id in $(xdotool search --onlyvisible --pid "$app" --name . 2>/dev/null); do
    if [ "$(xdotool getwindowname "$id" 2>/dev/null)" = "$1" ]; then win=$id; return 0; fi
  done
  return 1
}
wait_window() {
  until_ok 30 find_window "$1" || fail "no window \"$1\" appeared"
}

# shoot NAME TITLE: capture the window once it is drawn (not one flat colour).
shoot() {
  local file="$out/$1.png"
  wait_window "$2"
  drawn() {
    import -window "$win" "$file" 2>/dev/null &&
      [ "$(convert "$file" -format %k info:)" -gt 16 ]
  }
  until_ok 20 drawn || fail "window \"$2\" never drew"
  # One more capture after the layout settles (fonts, async content).
  sleep 1
  import -window "$win" "$file"
  echo "screenshots: $file ($(identify -format '%wx%h' "$file"))"
}

# 1. Fresh profile: the app opens the sign-in window by itself.
start_app signin
shoot signin "Sign in to Zipline"
stop_app

# 2. Sign in with the CLI, watch the folder, restart the app.
esc=$(printf '%s' "$folder" | sed 's/\\/\\\\/g; s/"/\\"/g')
printf '{"version": 1, "watch": {"folders": [{"path": "%s", "recursive": false}]}}\n' "$esc" \
  >"$ZIPLINE_TRAY_HOME/config.json"
printf '%s\n' "$password" | "$bin" login --server "$url" --username "$user" --password-stdin
start_app main
"$root/bin/faketray" menu >/dev/null || fail "the app's tray item did not appear"

# 3. Drop zone with a finished upload: a screenshot lands in the watched folder.
"$root/bin/faketray" click "Open drop zone"
wait_window "Zipline Tray"
convert -size 640x400 gradient:'#3b82f6-#9333ea' -gravity center -pointsize 42 -fill white \
  -annotate 0 'zipline-tray demo' "$work/.shot.png"
mv "$work/.shot.png" "$folder/Screenshot From 2026-01-05 10-42-17.png"
until_ok 30 grep -Eq "^notification .*\"Summary\":\"(Link copied|Uploaded)\".*\"SenderPID\":$app}" "$work/tray.log" ||
  fail "no upload notification from the app"
shoot dropzone "Zipline Tray"

# 4. Settings, queue & history, About.
"$root/bin/faketray" click "Settings…"
shoot settings "Zipline Tray Settings"
"$root/bin/faketray" click "Queue & history…"
shoot queue "Queue & history"
"$root/bin/faketray" click "About"
shoot about "About Zipline Tray"

# 5. The tray menu as a panel receives it (text: there is no panel to draw it).
"$root/bin/faketray" menu | sed -E "s/ #[0-9]+//" >"$out/tray-menu.txt"
echo "screenshots: $out/tray-menu.txt"

stop_app
echo "screenshots: done; look at them before committing."
