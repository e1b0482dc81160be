#!/usr/bin/env bash
# Idle cost of `zipline-tray watch`: CPU time used and RSS over
# BENCH_IDLE_SECS (default 60) seconds of watching a quiet folder, against
# the fake Zipline on loopback. Linux only (reads /proc). Target: < 0.1 s CPU.
set -euo pipefail
cd "$(dirname "$0")/.."

SECS=${BENCH_IDLE_SECS:-60}
tmp=$(mktemp -d)
fake_pid="" watch_pid=""
cleanup() {
  [ -n "$watch_pid" ] && kill "$watch_pid" 2>/dev/null
  [ -n "$fake_pid" ] && kill "$fake_pid" 2>/dev/null
  wait 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

CGO_ENABLED=0 go build -tags migrated_fynedo,nogui -o "$tmp/fakezipline" ./cmd/fakezipline
CGO_ENABLED=0 go build -tags migrated_fynedo,nogui -ldflags "-s -w" -o "$tmp/zipline-tray" .

"$tmp/fakezipline" -user bench -admin -print-token -no-rate-limit -hash-only > "$tmp/fake.out" 2> "$tmp/fake.err" &
fake_pid=$!
for _ in $(seq 100); do [ "$(wc -l < "$tmp/fake.out")" -ge 2 ] && break; sleep 0.1; done
URL=$(sed -n 1p "$tmp/fake.out"); TOKEN=$(sed -n 2p "$tmp/fake.out")
[ -n "$URL" ] && [ -n "$TOKEN" ] || { echo "bench-idle: fakezipline did not start"; cat "$tmp/fake.err"; exit 1; }

mkdir -p "$tmp/shots"
ZIPLINE_TRAY_HOME="$tmp/home" ZIPLINE_SERVER="$URL" ZIPLINE_TOKEN="$TOKEN" \
  "$tmp/zipline-tray" watch --no-copy "$tmp/shots" > "$tmp/watch.out" 2> "$tmp/watch.err" &
watch_pid=$!
for _ in $(seq 100); do grep -q 'watching' "$tmp/watch.err" 2>/dev/null && break; sleep 0.1; done
grep -q 'watching' "$tmp/watch.err" || { echo "bench-idle: watch did not start"; cat "$tmp/watch.err"; exit 1; }
sleep 1 # let start-up work (catch-up scan, first marks) finish before measuring idle

hz=$(getconf CLK_TCK)
ticks() { awk '{print $14 + $15}' "/proc/$watch_pid/stat"; }
t0=$(ticks)
sleep "$SECS"
t1=$(ticks)
rss=$(awk '/VmRSS/ {print $2}' "/proc/$watch_pid/status")
hwm=$(awk '/VmHWM/ {print $2}' "/proc/$watch_pid/status")
cpu=$(awk -v a="$t0" -v b="$t1" -v hz="$hz" 'BEGIN { printf "%.3f", (b - a) / hz }')
echo "watch idle over ${SECS}s: cpu ${cpu}s (target < 0.1s), rss ${rss} KiB, peak rss ${hwm} KiB"
kill -INT "$watch_pid"
wait "$watch_pid" && echo "watch exited 0 on SIGINT" || echo "watch exited $? on SIGINT"
watch_pid=""
