#!/usr/bin/env bash
# bench/bench_trickle.sh - mxguard's own CPU under a trickle of lines.
#
# A real MTA under attack writes a few hundred lines a second, each with
# its own write(): every line is an inotify wakeup, so what the daemon
# costs there is its cost per wakeup (system calls, commits), not its parse
# speed. This runs the daemon (default policy, Exim's host lists kept
# with --map-file exim: for --mta exim) on a log that a writer appends one
# line per write at RATE lines/s for SECONDS, and prints mxguard's CPU (a
# share of one core, from /proc) and its system calls per line (perf's
# raw_syscalls tracepoint, when perf can count it). --old BINARY runs an
# older mxguard the same way, the runs interleaved (RUNS of each, median).
#
# usage: bench/bench_trickle.sh [--mta exim|postfix] [--old BINARY] [RATE [SECONDS]]
# Run as root from the repository top (or anywhere: it goes there).
set -euo pipefail
cd "$(dirname "$0")/.."
MTA=exim OLD= RATE=200 SECS=30 RUNS=${RUNS:-3} pos=()
while [ $# -gt 0 ]; do
	case $1 in
	--mta) MTA=$2; shift 2 ;;
	--old) OLD=$2; shift 2 ;;
	[1-9]*) pos+=("$1"); shift ;;
	*) echo "usage: bench/bench_trickle.sh [--mta exim|postfix] [--old BINARY] [RATE [SECONDS]]" >&2; exit 64 ;;
	esac
done
[ ${#pos[@]} -ge 1 ] && RATE=${pos[0]}
[ ${#pos[@]} -ge 2 ] && SECS=${pos[1]}
[[ $MTA == exim || $MTA == postfix ]] || { echo "bench_trickle: --mta exim or postfix" >&2; exit 64; }
[[ $RATE =~ ^[0-9]+$ && $SECS =~ ^[0-9]+$ ]] || { echo "bench_trickle: RATE and SECONDS are whole numbers" >&2; exit 64; }
[ -z "$OLD" ] || [ -x "$OLD" ] || { echo "bench_trickle: $OLD is not an executable" >&2; exit 64; }
make -s mxguard bench/genlog
W=$(mktemp -d)
PID=
trap '[ -n "$PID" ] && kill "$PID" 2> /dev/null; rm -rf "$W"' EXIT
bench/genlog --mta "$MTA" -n $((RATE * SECS + RATE)) -s 3 -o "$W/corpus.log"
perf_ok=0
command -v perf > /dev/null && perf stat -e raw_syscalls:sys_enter -x, -- true > /dev/null 2>&1 && perf_ok=1

# one BINARY: prints "CPU_PERCENT SYSCALLS_PER_LINE LINES"
one() {
	local bin=$1 args=() m0 m1 lines sc=- perfpid=
	rm -rf "$W/st" "$W/exmap"* "$W/perf"
	: > "$W/log"
	[[ $MTA == exim ]] && args=(--map-file "exim:$W/exmap")
	"$bin" run -c samples/mxguard.conf --source "$W/log" --from-start --state-dir "$W/st" \
		--socket "$W/s" "${args[@]}" > "$W/dec" 2> "$W/err" &
	PID=$!
	for _ in $(seq 100); do [ -S "$W/s" ] && break; sleep 0.1; done
	[ -S "$W/s" ] || { echo "bench_trickle: mxguard does not start: $(tail -2 "$W/err")" >&2; exit 1; }
	m0=$(awk '{print $14 + $15}' "/proc/$PID/stat")
	if [ "$perf_ok" = 1 ]; then
		perf stat -e raw_syscalls:sys_enter -x, -o "$W/perf" -p "$PID" & perfpid=$!
	fi
	python3 - "$W/corpus.log" "$W/log" "$RATE" "$SECS" << 'EOF'
import os, sys, time
src, dst, rate, secs = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4])
lines = open(src, "rb").read().splitlines(True)
fd = os.open(dst, os.O_WRONLY | os.O_APPEND)
t0 = time.monotonic(); i = 0
while time.monotonic() - t0 < secs:
    due = int((time.monotonic() - t0) * rate)
    while i < due and i < len(lines):
        os.write(fd, lines[i]); i += 1	# one write per line, as Exim and syslog write
    time.sleep(0.001)
EOF
	m1=$(awk '{print $14 + $15}' "/proc/$PID/stat")
	if [ -n "$perfpid" ]; then
		kill -INT "$perfpid"; wait "$perfpid" 2> /dev/null || true
	fi
	kill "$PID"; wait "$PID" 2> /dev/null || true
	PID=
	lines=$(sed -n 's/.*stopping: \([0-9]*\) lines.*/\1/p' "$W/err")
	[ -n "$perfpid" ] && sc=$(awk -F, -v n="$lines" '/raw_syscalls/ { printf "%.1f", $1 / n }' "$W/perf")
	awk -v a="$m0" -v b="$m1" -v hz="$(getconf CLK_TCK)" -v s="$SECS" -v sc="$sc" -v n="$lines" \
		'BEGIN { printf "%.2f %s %d\n", (b - a) / hz / s * 100, sc, n }'
}

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
echo "== mxguard under a trickle: $MTA log, $RATE lines/s, one write a line, $SECS s, $RUNS runs (median)"
: > "$W/new" && : > "$W/old"
for r in $(seq "$RUNS"); do
	one ./mxguard >> "$W/new"
	[ -n "$OLD" ] && one "$OLD" >> "$W/old"
done
report() {
	local name=$1 f=$2
	printf '%-10s mxguard CPU %5.2f%% of one core, %s system calls a line (runs: %s)\n' "$name" \
		"$(cut -d' ' -f1 "$f" | median)" "$(cut -d' ' -f2 "$f" | median)" "$(cut -d' ' -f1 "$f" | paste -sd' ')"
}
report "this" "$W/new"
[ -n "$OLD" ] && report "old" "$W/old"
exit 0
