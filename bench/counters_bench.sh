#!/usr/bin/env bash
# bench/counters_bench.sh - what a "scope cluster" rule costs (issue 14):
#   1. replay of a 2,000,000-line Postfix log (bench/genlog) with the
#      policy below counted locally, then with --cluster against a local
#      redis-server: lines/s, peak RSS, Redis round trips and script calls;
#   2. the live daemon (`mxguard run`) following the same log appended at
#      once, with the same rules counted in Redis: lines/s until it has read
#      it all and Redis has answered every batch, and round trips per 50 ms
#      tick (at most 1 is the target, whatever the rate).
# A real redis-server on 127.0.0.1 (a free port, no persistence, flushed
# between runs); nothing of the host's network is changed. Best of RUNS
# (default 3) for the rates. Run from the repository top.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-3}
DATA=bench/data
W=$(mktemp -d)
REDIS= PID=
trap '[ -n "$PID" ] && kill "$PID" 2> /dev/null; [ -n "$REDIS" ] && kill "$REDIS" 2> /dev/null; rm -rf "$W"' EXIT
command -v redis-server > /dev/null || { echo "counters_bench: needs redis-server (apt-get install redis-server redis-tools)"; exit 1; }
mkdir -p "$DATA"
make -s mxguard bench/genlog
LOG=$DATA/postfix-2000000.log
[ -s "$LOG" ] || bench/genlog -n 2000000 -s 11 -o "$LOG"
lines=$(wc -l < "$LOG")

PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
redis-server --port "$PORT" --bind 127.0.0.1 --save '' --appendonly no --daemonize no > "$W/redis.log" 2>&1 &
REDIS=$!
for _ in $(seq 100); do redis-cli -p "$PORT" ping > /dev/null 2>&1 && break; sleep 0.05; done
URL=redis://127.0.0.1:$PORT

cat > "$W/cluster.conf" <<'EOF'
rule "dha" {
    on rcpt_unknown
    when distinct to >= 20 within 10m
    do block for 1h
    scope cluster
}
rule "conn-flood" {
    on connect
    when count >= 60 within 1m
    do block for 10m
    scope cluster
}
rule "auth" {
    on auth_fail
    when count >= 10 within 10m
    do block for 1h
}
EOF
sed '/scope cluster/d' "$W/cluster.conf" > "$W/local.conf"

# best LABEL CMD...: the best lines/s of RUNS runs (replay --summary's figure) and the peak RSS
best() {
	local label=$1 r rate rss bestrate=0 bestrss=0
	shift
	for r in $(seq "$RUNS"); do
		redis-cli -p "$PORT" flushall > /dev/null
		/usr/bin/time -f '%M' -o "$W/rss" "$@" > "$W/out" 2> "$W/err"
		rate=$(sed -n 's/.* \([0-9]*\) lines\/s$/\1/p' "$W/err")
		rss=$(cat "$W/rss")
		if [ "$rate" -gt "$bestrate" ]; then bestrate=$rate bestrss=$rss; cp "$W/err" "$W/err.best"; cp "$W/out" "$W/out.best"; fi
	done
	printf '   %-34s %9d lines/s  %6.1f MB peak  %d decisions\n' "$label" "$bestrate" "$(echo "$bestrss / 1024" | bc -l)" \
		"$(wc -l < "$W/out.best")"
	echo "$bestrate" > "$W/rate.$label"
}
echo "== 1. replay, $lines lines ($LOG), best of $RUNS"
best local ./mxguard replay -c "$W/local.conf" --summary "$LOG"
best cluster ./mxguard replay -c "$W/cluster.conf" --cluster "$URL" --summary "$LOG"
sed -n 's/^cluster counters: /   (cluster: /p' "$W/err.best" | sed 's/$/)/'
echo "   scope cluster / local: $(echo "scale=2; $(cat "$W/rate.cluster") / $(cat "$W/rate.local")" | bc)"

echo "== 2. mxguard run following the log appended at once (scope cluster rules in Redis), best of $RUNS"
bestrate=0
for r in $(seq "$RUNS"); do
	redis-cli -p "$PORT" flushall > /dev/null
	rm -rf "$W/st" "$W/follow.log"
	touch "$W/follow.log"
	./mxguard run -c "$W/cluster.conf" --cluster "$URL" --node bench --source "$W/follow.log" --state-dir "$W/st" \
		--socket "$W/s" > /dev/null 2> "$W/run.err" &
	PID=$!
	for _ in $(seq 200); do ./mxguard ctl --socket "$W/s" --json status 2> /dev/null |
		jq -e '.cluster.counters.ready' > /dev/null 2>&1 && break; sleep 0.05; done
	t0=$(date +%s%N)
	cat "$LOG" >> "$W/follow.log"
	while :; do
		st=$(./mxguard ctl --socket "$W/s" --json status)
		[ "$(jq -r '.lines' <<< "$st")" -ge "$lines" ] && [ "$(jq -r '.cluster.counters.waiting' <<< "$st")" = 0 ] && break
		sleep 0.02
	done
	t1=$(date +%s%N)
	kill "$PID"; wait "$PID" || true; PID=
	ms=$(( (t1 - t0) / 1000000 ))
	rate=$(( lines * 1000 / ms ))
	read -r rt calls upd crossed dropped <<< "$(jq -r '.cluster.counters | "\(.round_trips) \(.calls) \(.updates) \(.crossed) \(.dropped)"' <<< "$st")"
	printf '   run %d: %d lines in %d ms: %d lines/s; %d updates in %d script calls, %d round trips = %.2f per 50 ms tick; %d crossed, %d dropped\n' \
		"$r" "$lines" "$ms" "$rate" "$upd" "$calls" "$rt" "$(echo "$rt * 50 / $ms" | bc -l)" "$crossed" "$dropped"
	[ "$rate" -gt "$bestrate" ] && bestrate=$rate
done
echo "   best: $bestrate lines/s"
