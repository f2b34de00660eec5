#!/usr/bin/env bash
# bench/privsep_bench.sh - what privilege separation costs (issue 16 targets),
# the same daemon side by side without and with `--user nobody`, its firewall
# nftables in a network namespace this script creates (and removes):
#   1. latency: a connect line appended -> its block decision saved and
#      printed (bench/latency: 2,000 lines, one every 2 ms, each from a new
#      address, each decided `block`: every one a firewall change sent to
#      the privileged part); p50, p99.
#   2. throughput: the 1,000,000-line corpus (genlog -n 1000000 -s 7, its
#      attackers blocked through the firewall) appended at full speed and
#      followed to its end, default policy; RUNS interleaved runs each,
#      best and median lines/s.
# Run as root from the repository top; the daemon pinned to one core.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "privsep_bench: needs root (namespaces, --user)" >&2; exit 1; }
RUNS=${RUNS:-3}
CPU=${BENCH_CPU:-1}
[ "$(nproc)" -gt "$CPU" ] || CPU=0
DATA=bench/data
NS=mxg-bench$$
W=$(mktemp -d)
PID=
cleanup() {
	[ -n "$PID" ] && kill "$PID" 2> /dev/null
	wait 2> /dev/null || true
	ip netns del "$NS" 2> /dev/null || true
	rm -rf "$W"
}
trap cleanup EXIT
mkdir -p "$DATA"
make -s mxguard bench/genlog
cc -O2 -Wall -Wextra -o bench/latency bench/latency.c
ONE=$DATA/postfix-1000000.log
[ -s "$ONE" ] || bench/genlog -n 1000000 -s 7 -o "$ONE"
ip netns add "$NS"
ip -n "$NS" link set lo up
chmod 755 "$W"
# fresh DIR: a state and socket directory the worker's user owns
fresh() { rm -rf "$1"; mkdir -p "$1"; chown nobody: "$1"; }
# daemon MODE: the daemon's command line in the namespace; MODE "user" adds --user nobody
daemon() {
	D=(ip netns exec "$NS" taskset -c "$CPU" ./mxguard run --firewall nftables)
	if [ "$1" = user ]; then D+=(--user nobody); fi
}
label() { if [ "$1" = user ]; then echo "with --user (privsep)      "; else echo "without (one root process) "; fi; }

echo "== 1. latency: connect line -> block decision printed (2000 lines, one every 2 ms)"
printf 'rule "every-connect" {\n    on connect\n    when count >= 1 within 1m\n    do block for 1m\n}\n' > "$W/lat.conf"
for mode in root user; do
	fresh "$W/lat"
	: > "$W/lat.log"
	chmod 644 "$W/lat.log"
	daemon "$mode"
	printf '   %s ' "$(label "$mode")"
	bench/latency "$W/lat.log" 2000 -- "${D[@]}" -c "$W/lat.conf" --source "$W/lat.log" --state-dir "$W/lat/st" \
		--socket "$W/lat/s" 2> /dev/null | tr '\n' ' '
	echo
done

echo "== 2. throughput: $(wc -l < "$ONE") lines appended at full speed, default policy, nftables; $RUNS runs each, interleaved"
lines=$(wc -l < "$ONE")
follow() {
	local mode=$1 t0 t1 got
	fresh "$W/tp"
	: > "$W/tp.log"
	chmod 644 "$W/tp.log"
	daemon "$mode"
	"${D[@]}" -c samples/mxguard.conf --source "$W/tp.log" --state-dir "$W/tp/st" --socket "$W/tp/s" \
		> /dev/null 2> "$W/tp.err" &
	PID=$!
	for _ in $(seq 100); do ./mxguard ctl --socket "$W/tp/s" status > /dev/null 2>&1 && break; sleep 0.1; done
	t0=$(date +%s.%N)
	cat "$ONE" >> "$W/tp.log"
	while :; do
		got=$(./mxguard ctl --socket "$W/tp/s" --json status | python3 -c 'import json,sys; print(json.load(sys.stdin)["lines"])')
		[ "$got" -ge "$lines" ] && break
		sleep 0.02
	done
	t1=$(date +%s.%N)
	kill "$PID"
	wait "$PID" || true
	PID=
	echo "$lines $t0 $t1" | awk '{ printf "%.0f\n", $1 / ($3 - $2) }'
}
for _ in $(seq "$RUNS"); do
	follow root >> "$W/tp.root"
	follow user >> "$W/tp.user"
done
stats() { sort -n "$1" | awk '{ v[NR] = $1 } END { printf "best %d, median %d lines/s", v[NR], v[int((NR + 1) / 2)] }'; }
printf '   %s %s\n' "$(label root)" "$(stats "$W/tp.root")"
printf '   %s %s\n' "$(label user)" "$(stats "$W/tp.user")"
awk -v a="$(sort -n "$W/tp.root" | tail -1)" -v b="$(sort -n "$W/tp.user" | tail -1)" \
	'BEGIN { printf "   privsep: %+.1f %% (best against best)\n", (b - a) * 100 / a }'
echo "   blocks in the firewall after the last run: $(ip netns exec "$NS" nft list table inet mxguard | grep -o expires | wc -l)"
