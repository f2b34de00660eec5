#!/usr/bin/env bash
# bench/bench_live.sh - the live daemon's figures (issue 4):
#   1. latency: a line appended to the log -> its decision saved and printed (p50/p90/p99)
#   2. throughput: a 1 GB log appended at full speed, followed to its end (lines/s)
#   3. restore: 100,000 decisions in force put back into the engine at start (ms)
# Run as root from the repository top. Pinned to one core like bench_parse.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=bench/data
W=$(mktemp -d)
PID=
trap '[ -n "$PID" ] && kill "$PID" 2> /dev/null; rm -rf "$W"' EXIT
CPU=${BENCH_CPU:-1}
[ "$(nproc)" -gt "$CPU" ] || CPU=0
mkdir -p "$DATA"
make -s mxguard bench/genlog
cc -O2 -Wall -Wextra -o bench/latency bench/latency.c
command -v sqlite3 > /dev/null || { echo "bench_live: installing sqlite3 (the command-line tool)"; apt-get install -y -qq sqlite3 > /dev/null; }

echo "== 1. latency: line appended -> decision saved and printed (2000 lines, one every 2 ms)"
printf 'rule "every-connect" {\n    on connect\n    when count >= 1 within 1m\n    do log\n}\n' > "$W/lat.conf"
touch "$W/lat.log"
taskset -c "$CPU" bench/latency "$W/lat.log" 2000 -- ./mxguard run -c "$W/lat.conf" --source "$W/lat.log" \
	--state-dir "$W/lat-state" --socket "$W/lat.sock" 2> /dev/null | sed 's/^/   /'

echo "== 2. throughput: a 1 GB log appended at full speed, default policy"
BIG=$DATA/postfix-6600000.log
[ -s "$BIG" ] || bench/genlog -n 6600000 -s 7 -o "$BIG"
lines=$(wc -l < "$BIG")
touch "$W/big.log"
taskset -c "$CPU" ./mxguard run -c samples/mxguard.conf --source "$W/big.log" --state-dir "$W/big-state" \
	--socket "$W/big.sock" > /dev/null 2> "$W/big.err" &
PID=$!
for _ in $(seq 100); do ./mxguard ctl --socket "$W/big.sock" status > /dev/null 2>&1 && break; sleep 0.1; done
t0=$(date +%s.%N)
cat "$BIG" >> "$W/big.log" &
writer=$!
while :; do
	got=$(./mxguard ctl --socket "$W/big.sock" --json status | jq .lines)
	[ "$got" -ge "$lines" ] && break
	sleep 0.05
done
t1=$(date +%s.%N)
wait "$writer"
kill "$PID"; wait "$PID" || true; PID=
awk -v n="$lines" -v a="$t0" -v b="$t1" -v mb="$(du -m "$BIG" | cut -f1)" \
	'BEGIN { printf "   %d lines (%d MB) followed in %.2f s: %.0f lines/s (writer and daemon on the same machine)\n", n, mb, b - a, n / (b - a) }'

echo "== 3. restore: 100,000 decisions in force at start"
mkdir -p "$W/r-state"
touch "$W/r.log"
./mxguard run -c samples/mxguard.conf --source "$W/r.log" --state-dir "$W/r-state" --socket "$W/r.sock" 2> /dev/null &
PID=$!
for _ in $(seq 100); do ./mxguard ctl --socket "$W/r.sock" status > /dev/null 2>&1 && break; sleep 0.1; done
kill "$PID"; wait "$PID" || true; PID=
now=$(date +%s)
sqlite3 "$W/r-state/state.db" "WITH RECURSIVE n(x) AS (SELECT 0 UNION ALL SELECT x + 1 FROM n WHERE x < 99999)
	INSERT INTO decisions (rule, key, action, ts, until, value, level)
	SELECT 'dha', printf('2001:db8:%x:%x::/64', (x >> 15) + 1, (x & 32767) + 1), 'block', $now, $now + 86400, 20, 0 FROM n;"
taskset -c "$CPU" ./mxguard run -c samples/mxguard.conf --source "$W/r.log" --state-dir "$W/r-state" \
	--socket "$W/r.sock" > /dev/null 2> "$W/r.err" &
PID=$!
for _ in $(seq 100); do ./mxguard ctl --socket "$W/r.sock" status > /dev/null 2>&1 && break; sleep 0.1; done
kill "$PID"; wait "$PID" || true; PID=
grep -o '[0-9]* decision(s) in force restored in [0-9]* ms' "$W/r.err" | sed 's/^/   /'

# restore_into BACKEND COUNT-COMMAND: the 100,000 blocks of step 3 put back into
# a firewall at start, inside a network namespace made for it.
restore_into() {
	local ns=mxg-bench-$$
	if ! ip netns add "$ns" 2> /dev/null; then
		echo "   skipped: cannot create a network namespace"
		return
	fi
	ip netns exec "$ns" ./mxguard run -c samples/mxguard.conf --source "$W/r.log" --state-dir "$W/r-state" \
		--socket "$W/r.sock" --firewall "$1" > /dev/null 2> "$W/$1.err" &
	PID=$!
	for _ in $(seq 100); do ./mxguard ctl --socket "$W/r.sock" status > /dev/null 2>&1 && break; sleep 0.2; done
	echo "   $(ip netns exec "$ns" sh -c "$2") elements in the set"
	kill "$PID"; wait "$PID" || true; PID=
	grep -o "[0-9]* block(s) in force put back into $1 in [0-9]* ms" "$W/$1.err" | sed 's/^/   /'
	ip netns del "$ns"
}

echo "== 4. the same 100,000 blocks put back into nftables at start (in a network namespace)"
restore_into nftables "nft list set inet mxguard v6 | grep -o expires | wc -l"

echo "== 5. the same 100,000 blocks put back into ipset (hash:net sets + iptables rules), in a network namespace"
restore_into ipset "ipset list mxguard6 | grep -c 'timeout [0-9]*\$'"
