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
		>> "$TMP/dec.jsonl" 2>> "$TMP/run.err" &
	PID=$!
	for _ in $(seq 100); do [ "$(grep -c "following 1 log" "$TMP/run.err")" -ge "$1" ] && return; sleep 0.1; done
}
wait_events() { for _ in $(seq 100); do [ "$(wc -l < "$TMP/ev.jsonl" 2> /dev/null || echo 0)" -ge "$1" ] && return; sleep 0.1; done; }
now() { date -u '+%b %e %H:%M:%S' | sed 's/  / /; s/^\([A-Z][a-z]*\) \([0-9]\) /\1  \2 /'; }

start 1
for u in ann bob cy; do echo "$(now) mx sm-mta[700]: 6AS9bWJO000700: <$u@example.com>... User unknown" >> "$L"; done
# Another session's line, which yields an event at once: once it is saved, so is all before it.
echo "$(now) mx sm-mta[701]: 6AS9bWJO000701: [203.0.113.9] did not issue MAIL/EXPN/VRFY/ETRN during connection to MTA" >> "$L"
wait_events 1
sleep 1.5	# past the commit of that batch
check_eq "before the client is known, only the other session's event is out" "disconnect" "$(jq -r .type "$TMP/ev.jsonl" | xargs)"
kill -9 "$PID"; wait "$PID" 2> /dev/null
echo "$(now) mx sm-mta[700]: 6AS9bWJO000700: from=<h@example.net>, size=0, class=0, nrcpts=0, proto=ESMTP, daemon=MTA, relay=[203.0.113.66]" >> "$L"
start 2
wait_events 4
sleep 0.5
check_eq "after kill -9 and restart the client's line releases the held events" \
	"rcpt_unknown 203.0.113.66 ann@example.com|rcpt_unknown 203.0.113.66 bob@example.com|rcpt_unknown 203.0.113.66 cy@example.com" \
	"$(jq -r 'select(.type == "rcpt_unknown") | "\(.type) \(.ip) \(.to)"' "$TMP/ev.jsonl" | paste -sd'|')"
check_eq "each event once" 4 "$(wc -l < "$TMP/ev.jsonl")"
kill "$PID"; wait "$PID" 2> /dev/null; PID=
finish
