#!/usr/bin/env bash
# `make bench`: throughput and memory of `zipline-tray upload` against curl,
# on loopback, with the fake Zipline server (cmd/fakezipline) hashing what it
# receives. Figures go to stdout; docs/PERFORMANCE.md records them.
set -euo pipefail
cd "$(dirname "$0")/.."

SIZE_MIB=${BENCH_SIZE_MIB:-1024}
RUNS=${BENCH_RUNS:-3}
tmp=$(mktemp -d)
fake_pid=""
cleanup() { [ -n "$fake_pid" ] && kill "$fake_pid" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT

go build -tags migrated_fynedo,nogui -o "$tmp/fakezipline" ./cmd/fakezipline
cli=bin/zipline-tray-cli
[ -x "$cli" ] || CGO_ENABLED=0 go build -tags migrated_fynedo,nogui -o "$cli" .

echo "bench: writing a ${SIZE_MIB} MiB file"
head -c $((SIZE_MIB * 1024 * 1024)) /dev/urandom > "$tmp/big.bin"

start_fake() { # extra flags...
  [ -n "$fake_pid" ] && { kill "$fake_pid"; wait "$fake_pid" 2>/dev/null || true; }
  "$tmp/fakezipline" -addr 127.0.0.1:0 -user bench -password benchpass -admin -print-token \
    -no-rate-limit -hash-only -max-file-size 2gb "$@" > "$tmp/fake.out" 2> "$tmp/fake.err" &
  fake_pid=$!
  for _ in $(seq 100); do [ "$(wc -l < "$tmp/fake.out")" -ge 2 ] && break; sleep 0.1; done
  URL=$(sed -n 1p "$tmp/fake.out"); TOKEN=$(sed -n 2p "$tmp/fake.out")
  [ -n "$URL" ] && [ -n "$TOKEN" ] || { echo "bench: fakezipline did not start"; cat "$tmp/fake.err"; exit 1; }
}

# best of $RUNS: prints "seconds maxrss_kib"
run_cli() {
  local best="" rss=0
  for _ in $(seq "$RUNS"); do
    ZIPLINE_TRAY_HOME="$tmp/home" ZIPLINE_SERVER="$URL" ZIPLINE_TOKEN="$TOKEN" \
      /usr/bin/time -f '%e %M' -o "$tmp/time" "$cli" upload "$tmp/big.bin" > /dev/null
    read -r s m < "$tmp/time"
    if [ -z "$best" ] || awk "BEGIN{exit !($s < $best)}"; then best=$s; fi
    [ "$m" -gt "$rss" ] && rss=$m
  done
  echo "$best $rss"
}
run_curl() {
  local best=""
  for _ in $(seq "$RUNS"); do
    s=$(curl -sS -o /dev/null -w '%{time_total}' -H "authorization: $TOKEN" \
      -F "file=@$tmp/big.bin;type=application/octet-stream" "$URL/api/upload")
    if [ -z "$best" ] || awk "BEGIN{exit !($s < $best)}"; then best=$s; fi
  done
  echo "$best"
}
mibs() { awk -v n="$SIZE_MIB" -v s="$1" 'BEGIN{printf "%.0f", n/s}'; }

start_fake -no-chunks
read -r cli_s cli_rss < <(run_cli)
curl_s=$(run_curl)
echo
echo "single request, ${SIZE_MIB} MiB, best of $RUNS:"
echo "  curl -F          ${curl_s} s  $(mibs "$curl_s") MiB/s"
echo "  zipline-tray     ${cli_s} s  $(mibs "$cli_s") MiB/s  peak RSS $((cli_rss / 1024)) MiB"
awk -v a="$curl_s" -v b="$cli_s" 'BEGIN{printf "  ratio            %.2f x curl throughput (target >= 0.9)\n", a/b}'

[ -n "${BENCH_SINGLE_ONLY:-}" ] && exit 0
start_fake -chunk-size 25mb -chunk-max 25mb -v
read -r ch_s ch_rss < <(run_cli)
chunks=$(grep -c 'upload/partial' "$tmp/fake.err" || true)
echo
echo "chunked (25 MiB chunks, ${chunks} chunk requests over $RUNS runs), ${SIZE_MIB} MiB, best of $RUNS:"
echo "  zipline-tray     ${ch_s} s  $(mibs "$ch_s") MiB/s  peak RSS $((ch_rss / 1024)) MiB"

echo
echo "engine and watcher (go test -bench):"
go test -tags migrated_fynedo -run '^$' -bench 'WatcherLatency|WatcherIdle|^BenchmarkLatency$' -benchtime 1x ./uploader/ 2>&1 \
  | grep -E '^Benchmark|ms|ratio' || true
# The burst figures are medians over iterations: one run on a shared VM
# varies by ±30%.
go test -tags migrated_fynedo -run '^$' -bench 'Burst500/loopback' -benchtime 12x ./uploader/ 2>&1 | grep -E '^Benchmark' || true
go test -tags migrated_fynedo -run '^$' -bench 'Burst500/rtt' -benchtime 3x ./uploader/ 2>&1 | grep -E '^Benchmark' || true
go test -tags migrated_fynedo -run '^$' -bench 'Upload' -benchtime 3x -benchmem ./zipline/ 2>&1 | grep -E '^Benchmark' || true

echo
BENCH_IDLE_SECS=${BENCH_IDLE_SECS:-60} scripts/bench-idle.sh
