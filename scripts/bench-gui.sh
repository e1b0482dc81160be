#!/usr/bin/env bash
# `make bench-gui`: issue 5's desktop figures, zipline-tray beside
# cmd/minitray (a Fyne app with only a tray icon: the floor Fyne sets).
#  - start-up to tray ready: exec to the StatusNotifierItem registering at
#    the tray host (median and max of BENCH_GUI_RUNS starts, default 5);
#  - idle: CPU seconds and RSS over BENCH_GUI_SECS (default 60) seconds,
#    after BENCH_GUI_SETTLE (default 5) seconds of settling, no window open.
# Runs itself inside scripts/testenv.sh (private bus, keyring, Xvfb); the
# tray host is cmd/benchgui, which also does the timing and sampling.
# zipline-tray is signed in (keyring login, fresh ZIPLINE_TRAY_HOME) to
# cmd/fakezipline on loopback, so no sign-in window opens. Linux only.
# To see what holds the memory: build with -tags migrated_fynedo,benchpprof
# and run with ZIPLINE_TRAY_PPROF=127.0.0.1:6060 (see pprof_debug.go).
set -euo pipefail
cd "$(dirname "$0")/.."

SECS=${BENCH_GUI_SECS:-60}
RUNS=${BENCH_GUI_RUNS:-5}
SETTLE=${BENCH_GUI_SETTLE:-5}

if [ -z "${BENCH_GUI_BIN:-}" ]; then
  bin=$(mktemp -d)
  trap 'rm -rf "$bin"' EXIT
  echo "bench-gui: building (same flags for both apps: -tags migrated_fynedo -ldflags '-s -w')" >&2
  go build -tags migrated_fynedo -ldflags "-s -w" -o "$bin/zipline-tray" .
  go build -tags migrated_fynedo -ldflags "-s -w" -o "$bin/minitray" ./cmd/minitray
  CGO_ENABLED=0 go build -tags migrated_fynedo,nogui -o "$bin/benchgui" ./cmd/benchgui
  CGO_ENABLED=0 go build -tags migrated_fynedo,nogui -o "$bin/fakezipline" ./cmd/fakezipline
  BENCH_GUI_BIN=$bin scripts/testenv.sh "$0" "$@"
  exit
fi

# Inside the test session.
bin=$BENCH_GUI_BIN
tmp=$(mktemp -d)
fake_pid=""
cleanup() { [ -n "$fake_pid" ] && kill "$fake_pid" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT

"$bin/fakezipline" -user bench -admin -print-token -no-rate-limit -hash-only > "$tmp/fake.out" 2> "$tmp/fake.err" &
fake_pid=$!
for _ in $(seq 100); do [ "$(wc -l < "$tmp/fake.out")" -ge 2 ] && break; sleep 0.1; done
URL=$(sed -n 1p "$tmp/fake.out"); TOKEN=$(sed -n 2p "$tmp/fake.out")
[ -n "$URL" ] && [ -n "$TOKEN" ] || { echo "bench-gui: fakezipline did not start"; cat "$tmp/fake.err"; exit 1; }

# A fresh profile, signed in the way a user does it (token in the keyring).
export ZIPLINE_TRAY_HOME="$tmp/profile"
unset ZIPLINE_SERVER ZIPLINE_TOKEN ZIPLINE_TRAY_SHOW
printf %s "$TOKEN" | "$bin/zipline-tray" login --server "$URL" --token-stdin >&2

echo "bench-gui: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "bench-gui: Xvfb $DISPLAY, ${RUNS} timed starts each (after 1 warm-up), ${SETTLE} s settling, ${SECS} s idle (both apps at once)"
"$bin/benchgui" -runs "$RUNS" -settle "${SETTLE}s" -idle "${SECS}s" \
  minitray="$bin/minitray" zipline-tray="$bin/zipline-tray"
echo "bench-gui: load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
