#!/usr/bin/env bash
# test_daemon_held.sh - Sendmail's bare "User unknown" lines wait for the
# line that names their client; mxguard is killed (-9) in between. After the
# restart the client's line releases them: the three rcpt_unknown events
# come out once, with the client's address and their own times.
. "$(dirname "$0")/lib.sh"
L=$TMP/mail.log
PID=
trap 'kill "$PID" 2> /dev/null; rm -rf "$TMP"' EXIT
touch "$L"
start() {
	"$MXGUARD" run -c samples/mxguard.conf --source "$L" --state-dir "$TMP/state" --events "$TMP/ev.jsonl" \
		--socket "$TMP/s" >> "$TMP/dec.jsonl" 2>> "$TMP/run.err" &
	PID=$!
	wait_for 20 count_at_least "$1" grep -c "following 1 log" "$TMP/run.err"
}
wait_events() { wait_for 20 lines_at_least "$1" "$TMP/ev.jsonl"; }
now() { date -u '+%b %e %H:%M:%S' | sed 's/  / /; s/^\([A-Z][a-z]*\) \([0-9]\) /\1  \2 /'; }

start 1
for u in ann bob cy; do echo "$(now) mx sm-mta[700]: 6AS9bWJO000700: <$u@example.com>... User unknown" >> "$L"; done
# Another session's line, which yields an event at once: once it is saved, so is all before it.
echo "$(now) mx sm-mta[701]: 6AS9bWJO000701: [203.0.113.9] did not issue MAIL/EXPN/VRFY/ETRN during connection to MTA" >> "$L"
wait_events 1
# Past the commit of that batch: the daemon commits before it answers a ctl request.
"$MXGUARD" ctl --socket "$TMP/s" status > /dev/null
check_eq "before the client is known, only the other session's event is out" "disconnect" "$(jq -r .type "$TMP/ev.jsonl" | xargs)"
kill -9 "$PID"; wait "$PID" 2> /dev/null
echo "$(now) mx sm-mta[700]: 6AS9bWJO000700: from=<h@example.net>, size=0, class=0, nrcpts=0, proto=ESMTP, daemon=MTA, relay=[203.0.113.66]" >> "$L"
start 2
wait_events 4
sleep 0.5	# on purpose: an event released twice would show up meanwhile
check_eq "after kill -9 and restart the client's line releases the held events" \
	"rcpt_unknown 203.0.113.66 ann@example.com|rcpt_unknown 203.0.113.66 bob@example.com|rcpt_unknown 203.0.113.66 cy@example.com" \
	"$(jq -r 'select(.type == "rcpt_unknown") | "\(.type) \(.ip) \(.to)"' "$TMP/ev.jsonl" | paste -sd'|')"
check_eq "each event once" 4 "$(wc -l < "$TMP/ev.jsonl")"
kill "$PID"; wait "$PID" 2> /dev/null; PID=
finish
