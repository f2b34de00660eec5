#!/usr/bin/env bash
# bench/saved_counters_bench.sh - the rules' counters saved with the state
# and taken back at start (issue 16 target: 1,000,000 tracked keys saved
# and restored in <= 2 s each).
#
#   bench/saved_counters_bench.sh [KEYS]
#
# A rule counts connections per client (/64); KEYS (default 1,000,000)
# clients connect once each, appended at once to a followed log: every key
# is new, one row each, written with the commits that follow the batches
# read (`ctl --json status`: counters_saved rows, counters_save_ms, the
# commits' time). Then the daemon is stopped and started again, and takes
# them back ("taken back ... in", its log). Prints those, the state's size
# and the peak RSS.
# Run from the repository top; pinned to one core like the other benches.
# PERF=PREFIX records each daemon with `perf record -e cpu-clock` into
# PREFIX.1 (counting) and PREFIX.2 (taking back).
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-1000000}
CPU=${BENCH_CPU:-1}
[ "$(nproc)" -gt "$CPU" ] || CPU=0
W=$(mktemp -d)
PID=
trap '[ -n "$PID" ] && kill "$PID" 2> /dev/null; rm -rf "$W"' EXIT
make -s mxguard
printf 'rule "conn" {\n    on connect\n    when count >= 5 within 1h\n    do log\n}\n' > "$W/c.conf"
touch "$W/mail.log"
awk -v n="$N" -v ts="$(date -u '+%b %e %H:%M:%S')" 'BEGIN {
	for (i = 0; i < n; i++)
		printf "%s mx postfix/smtpd[9]: connect from unknown[2001:db8:%x:%x::1]\n", ts, int(i / 65536), i % 65536
}' > "$W/lines"
start() {
	taskset -c "$CPU" ${PERF:+perf record -q -e cpu-clock -F 1000 -g -o "$PERF.$1"} ./mxguard run -c "$W/c.conf" --source "$W/mail.log" \
		--state-dir "$W/st" --socket "$W/s" > /dev/null 2>> "$W/err" &
	PID=$!
	for _ in $(seq 600); do ./mxguard ctl --socket "$W/s" status > /dev/null 2>&1 && return; sleep 0.1; done
	echo "the daemon did not start" >&2
	exit 1
}
# stop N: the peak RSS noted, then SIGTERM (the last commit)
stop() {
	awk '/^VmHWM/ { print $2 }' "/proc/$PID/status" > "$W/rss.$1"
	kill "$PID"
	wait "$PID" || true
	PID=
}
start 1
cat "$W/lines" >> "$W/mail.log"
while [ "$(./mxguard ctl --socket "$W/s" --json status | jq .lines)" -lt "$N" ]; do sleep 0.2; done
./mxguard ctl --socket "$W/s" --json status > "$W/status"	# (after the last batch's commit)
stop 1
echo "keys: $N (one rule, one connection per client /64)"
jq -r '"save:    \(.counters_saved) rows written in \(.counters_save_ms) ms (the commits that held them)"' "$W/status"
grep -o "counters: [0-9]* key(s) saved in [0-9]* ms" "$W/err" | sed 's/^/         one commit: /' || true
start 2
stop 2
grep -o "[0-9]* counter(s) taken back from the last run in [0-9]* ms" "$W/err" | sed 's/^/restore: /'
echo "state: $(du -m "$W/st/state.db" | cut -f1) MB (state.db after the restart's checkpoint)"
echo "peak RSS: $(( $(cat "$W/rss.1") / 1024 )) MB while counting, $(( $(cat "$W/rss.2") / 1024 )) MB after taking them back"
