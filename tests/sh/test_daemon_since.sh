#!/usr/bin/env bash
# test_daemon_since.sh - first start options: from the end (default), from
# the beginning, or from a time ago.
. "$(dirname "$0")/lib.sh"
L=$TMP/mail.log
now=$(date +%s)
for ago in 7200 5400 1800 600 60; do
	echo "$(date -d "@$((now - ago))" '+%b %e %H:%M:%S') mx1 postfix/smtpd[1]: connect from a.example.net[198.51.100.$((ago / 60))]"
done > "$L"
lines_read() { "$MXGUARD" ctl --socket "$TMP/s" --json status | jq .lines; }
# run_once end|all OPTIONS...: the events of one run. Once started, an end
# mark (a line that is no event) is appended; the run ends when the daemon
# has read it: 1 line when it starts at the end, every line when at the start.
run_once() {
	local upto=$1 n
	shift
	rm -rf "$TMP/state" "$TMP/ev.jsonl"
	"$MXGUARD" run -c samples/mxguard.conf --source "$L" --state-dir "$TMP/state" --socket "$TMP/s" \
		--events "$TMP/ev.jsonl" "$@" > /dev/null 2> "$TMP/run.err" &
	local pid=$!
	wait_for 20 grep -q following "$TMP/run.err"
	echo "$(date '+%b %e %H:%M:%S') mx1 mxguard-test[1]: end mark" >> "$L"
	n=1
	[ "$upto" = all ] && n=$(wc -l < "$L")
	wait_for 20 count_at_least "$n" lines_read
	kill "$pid"; wait "$pid"
	wc -l < "$TMP/ev.jsonl"
}
check_eq "first start: from the end" 0 "$(run_once end)"
check_eq "--from-start: everything" 5 "$(run_once all --from-start)"
check_eq "--since 1h: the last hour only" 3 "$(run_once all --since 1h)"
"$MXGUARD" run -c samples/mxguard.conf --source "$L" --since soon > /dev/null 2>&1
check_eq "--since with a bad duration is a usage error" 64 $?
finish
