#!/usr/bin/env bash
# bench/bench_live.sh - the live daemon's figures (issue 4):
#   1. latency: a line appended to the log -> its decision saved and printed (p50/p90/p99)
#   2. throughput: a 1 GB log appended at full speed, followed to its end (lines/s)
#   3. restore: 100,000 decisions in force put back into the engine at start (ms)
#   4, 5. the same 100,000 blocks put back into nftables, ipset
#   6. iptables (libiptc) with 1,000 / 10,000 / 30,000 rules (iptables:rules)
#   7. the same 100,000 blocks put back into iptables with sets (libiptc + ipset)
# Run as root from the repository top. Pinned to one core like bench_parse.sh.
# BENCH_STEPS=16 runs only steps 1 and 6 (4, 5 and 7 need 3).
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=bench/data
W=$(mktemp -d)
PID=
trap '[ -n "$PID" ] && kill "$PID" 2> /dev/null; rm -rf "$W"' EXIT
CPU=${BENCH_CPU:-1}
[ "$(nproc)" -gt "$CPU" ] || CPU=0
STEPS=${BENCH_STEPS:-1234567}
want() { [[ $STEPS == *$1* ]]; }
mkdir -p "$DATA"
make -s mxguard bench/genlog
cc -O2 -Wall -Wextra -o bench/latency bench/latency.c
command -v sqlite3 > /dev/null || { echo "bench_live: installing sqlite3 (the command-line tool)"; apt-get install -y -qq sqlite3 > /dev/null; }

if want 1; then
echo "== 1. latency: line appended -> decision saved and printed (2000 lines, one every 2 ms)"
printf 'rule "every-connect" {\n    on connect\n    when count >= 1 within 1m\n    do log\n}\n' > "$W/lat.conf"
touch "$W/lat.log"
taskset -c "$CPU" bench/latency "$W/lat.log" 2000 -- ./mxguard run -c "$W/lat.conf" --source "$W/lat.log" \
	--state-dir "$W/lat-state" --socket "$W/lat.sock" 2> /dev/null | sed 's/^/   /'
fi

if want 2; then
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
fi

if want 3; then
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
fi

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
	ip netns exec "$ns" ip link set lo up
	echo "   ping ::1 round trip with them: $(ip netns exec "$ns" ping -6 -q -n -c 2000 -i 0 ::1 |
		sed -n 's|.* = [0-9.]*/\([0-9.]*\)/.*|\1|p') ms"
	kill "$PID"; wait "$PID" || true; PID=
	grep -o "[0-9]* block(s) in force put back into $1 in [0-9]* ms" "$W/$1.err" | sed 's/^/   /'
	ip netns del "$ns"
}

if want 4; then
echo "== 4. the same 100,000 blocks put back into nftables at start (in a network namespace)"
restore_into nftables "nft list set inet mxguard v6 | grep -o expires | wc -l"
fi

if want 5; then
echo "== 5. the same 100,000 blocks put back into ipset (hash:net sets + iptables rules), in a network namespace"
restore_into ipset "ipset list mxguard6 | grep -c 'timeout [0-9]*\$'"
fi

# iptables_at N: libiptc's per-rule mode with N blocks (IPv6 prefixes: one
# ip6tables rule each) in a network namespace: the time to put them back at
# start, and what one more ban costs then (libiptc reads and writes the
# whole table on every change).
iptables_at() {
	local ns=mxg-bench-$$ st=$W/ipt-$1 now
	ip netns add "$ns" 2> /dev/null || { echo "   skipped: cannot create a network namespace"; return; }
	mkdir -p "$st"
	./mxguard run -c samples/mxguard.conf --source "$W/r.log" --state-dir "$st" --socket "$W/i.sock" 2> /dev/null &
	PID=$!
	for _ in $(seq 100); do ./mxguard ctl --socket "$W/i.sock" status > /dev/null 2>&1 && break; sleep 0.1; done
	kill "$PID"; wait "$PID" || true; PID=
	now=$(date +%s)
	sqlite3 "$st/state.db" "WITH RECURSIVE n(x) AS (SELECT 0 UNION ALL SELECT x + 1 FROM n WHERE x < $1 - 1)
		INSERT INTO decisions (rule, key, action, ts, until, value, level)
		SELECT 'dha', printf('2001:db8:%x:%x::/64', (x >> 15) + 1, (x & 32767) + 1), 'block', $now, $now + 86400, 20, 0 FROM n;"
	ip netns exec "$ns" taskset -c "$CPU" ./mxguard run -c samples/mxguard.conf --source "$W/r.log" --state-dir "$st" \
		--socket "$W/i.sock" --firewall iptables:rules --remove-on-exit > /dev/null 2> "$W/i.err" &
	PID=$!
	for _ in $(seq 600); do ./mxguard ctl --socket "$W/i.sock" status > /dev/null 2>&1 && break; sleep 0.1; done
	local rules t0 t1 rtt
	rules=$(ip netns exec "$ns" ip6tables-legacy -S mxguard | grep -c -- '-j DROP')
	# Every IPv6 packet that is not blocked walks all the rules: a ping's round trip shows it.
	ip netns exec "$ns" ip link set lo up
	rtt=$(ip netns exec "$ns" ping -6 -q -n -c 2000 -i 0 ::1 | sed -n 's|.* = [0-9.]*/\([0-9.]*\)/.*|\1|p')
	t0=$(date +%s%N)
	for i in 1 2 3 4 5; do ./mxguard ctl --socket "$W/i.sock" ban "2001:db8:ffff:$i::/64" > /dev/null; done
	t1=$(date +%s%N)
	kill "$PID"; wait "$PID" || true; PID=
	echo "   $1 decisions: $rules ip6tables rules; $(grep -o 'put back into iptables in [0-9]* ms' "$W/i.err");" \
		"one more ban then takes $(( (t1 - t0) / 5000000 )) ms; ping ::1 round trip $rtt ms"
	ip netns del "$ns"
}

if want 6; then
touch "$W/r.log"
echo "== 6. iptables (libiptc, one rule per block): put back at start, the cost of one more ban, and of a packet"
for n in 1 1000 10000 30000; do iptables_at "$n"; done
fi

if want 7; then
echo "== 7. the same 100,000 blocks put back into iptables with ipset there (one rule per family matching a set)"
restore_into iptables "ipset list mxguard6 | grep -c 'timeout [0-9]*\$'"
fi
