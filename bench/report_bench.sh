#!/usr/bin/env bash
# bench/report_bench.sh - what reporting costs (issue 15 targets):
#   1. `mxguard report` against `mxguard replay` on the 1,000,000-line
#      corpus (bench/genlog -n 1000000 -s 7), best of RUNS, pinned to one
#      core: the report's time includes the RRD, the interval files, the
#      graphs and the dashboard; the fixed part (graphs, dashboard: a
#      2,000-line report less its replay) is shown apart from the per-line;
#   2. `mxguard report` over a 30-day log (30,000,000 lines, genlog's
#      2 days per 2 M lines), one core, graphs included;
#   3. the live daemon's CPU at 10,000 lines/s for 60 s (a writer appends
#      the 1 M corpus at that rate, each line's time stamp set to now, as a
#      live MTA writes them), without and with --report-dir: CPU seconds
#      from /proc (the drawing children's included), as a share of the
#      wall time.
# Run from the repository top. STEPS=12 runs only 1 and 2; RUNS (default 3).
# BENCH_CPUS=0,1: the commands may use those processors instead of one (a
# report draws its pictures on every processor it may use; replay uses one
# whatever it is given).
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-3}
STEPS=${STEPS:-123}
CPU=${BENCH_CPU:-1}
[ "$(nproc)" -gt "$CPU" ] || CPU=0
CPU=${BENCH_CPUS:-$CPU}
DATA=bench/data
W=$(mktemp -d)
PID=
trap '[ -n "$PID" ] && kill "$PID" 2> /dev/null; rm -rf "$W"' EXIT
want() { [[ $STEPS == *$1* ]]; }
mkdir -p "$DATA"
make -s mxguard bench/genlog
ONE=$DATA/postfix-1000000.log
[ -s "$ONE" ] || bench/genlog -n 1000000 -s 7 -o "$ONE"

# best SECONDS-FILE CMD...: the best wall time of RUNS runs
best() {
	local out=$1 t b=999999
	shift
	for _ in $(seq "$RUNS"); do
		rm -rf "$W/rep"
		/usr/bin/time -f '%e' -o "$W/time" taskset -c "$CPU" "$@" > /dev/null 2>&1
		t=$(cat "$W/time")
		b=$(echo "if ($t < $b) $t else $b" | bc)
	done
	echo "$b" > "$out"
}
if want 1; then
	echo "== 1. report vs replay, $(wc -l < "$ONE") lines, best of $RUNS, on processor(s) $CPU"
	best "$W/t.replay" ./mxguard replay -c samples/mxguard.conf "$ONE"
	best "$W/t.report" ./mxguard report -c samples/mxguard.conf --out "$W/rep" "$ONE"
	head -2000 "$ONE" > "$W/small.log"
	best "$W/t.fixed" ./mxguard report -c samples/mxguard.conf --out "$W/rep" "$W/small.log"
	best "$W/t.small" ./mxguard replay -c samples/mxguard.conf "$W/small.log"
	a=$(cat "$W/t.replay") b=$(cat "$W/t.report") f=$(echo "$(cat "$W/t.fixed") - $(cat "$W/t.small")" | bc)
	echo "   replay $a s, report $b s: +$(echo "scale=1; ($b - $a) * 100 / $a" | bc) %"
	echo "   of which fixed (12 graphs, the dashboard; a 2,000-line report less its replay): $f s"
	[[ $CPU == *,* ]] && echo "   (on two processors or more a long report loads librrd and the fonts while it reads, a short one" \
		"cannot: this fixed part overstates a long report's, and the per-line part understates it)"
	echo "   per line (the rest): +$(echo "scale=1; ($b - $f - $a) * 100 / $a" | bc) %"
fi
if want 2; then
	BIG=$DATA/postfix-30000000.log
	[ -s "$BIG" ] || bench/genlog -n 30000000 -s 9 -o "$BIG"
	echo "== 2. report over $(head -c 15 "$BIG") .. $(tail -1 "$BIG" | head -c 15): $(wc -l < "$BIG") lines, one core"
	rm -rf "$W/rep"
	/usr/bin/time -f '   %e s wall, %U s user, %M KB peak' taskset -c "$CPU" ./mxguard report -c samples/mxguard.conf \
		--out "$W/rep" "$BIG" 2>&1 | grep -v '^mxguard report:'
	echo "   $(ls "$W"/rep/*/day.json | wc -l) day files, $(ls "$W"/rep/*/[0-9]*.json | wc -l) interval files, $(ls "$W"/rep/*.png | wc -l) graphs"
fi
if want 3; then
	echo "== 3. the live daemon at 10,000 lines/s for 60 s: CPU share, without and with --report-dir"
	for mode in plain report; do
		rm -rf "$W/st" "$W/live.log" "$W/rep"
		touch "$W/live.log"
		args=()
		[ "$mode" = report ] && args=(--report-dir "$W/rep")
		taskset -c "$CPU" ./mxguard run -c samples/mxguard.conf --source "$W/live.log" --state-dir "$W/st" \
			--socket "$W/s" "${args[@]}" > /dev/null 2> /dev/null &
		PID=$!
		for _ in $(seq 100); do ./mxguard ctl --socket "$W/s" status > /dev/null 2>&1 && break; sleep 0.1; done
		c0=$(awk '{ print $14 + $15 + $16 + $17 }' "/proc/$PID/stat")
		t0=$(date +%s.%N)
		python3 - "$ONE" "$W/live.log" <<'EOF'
import sys, time
src, dst = open(sys.argv[1], 'rb'), open(sys.argv[2], 'ab', buffering=0)
start = time.monotonic()
for tick in range(600):			# 60 s, 100 ms at a time, 1,000 lines each, stamped now
    stamp = time.strftime('%b %e %H:%M:%S').encode()
    dst.write(b''.join(stamp + src.readline()[15:] for _ in range(1000)))
    time.sleep(max(0, start + (tick + 1) * 0.1 - time.monotonic()))
EOF
		sleep 1
		c1=$(awk '{ print $14 + $15 + $16 + $17 }' "/proc/$PID/stat")
		t1=$(date +%s.%N)
		kill "$PID"; wait "$PID" || true; PID=
		hz=$(getconf CLK_TCK)
		awk -v c="$((c1 - c0))" -v hz="$hz" -v a="$t0" -v b="$t1" -v m="$mode" \
			'BEGIN { printf "   %-7s %.2f CPU s in %.1f s: %.2f %% of a core\n", m, c / hz, b - a, 100 * c / hz / (b - a) }'
	done
fi
