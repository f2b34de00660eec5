#!/usr/bin/env bash
# test_counters_kept.sh - a reload keeps the counters of the rules that
# count as before (a new threshold included), and a rule whose counting
# changed starts from zero and the daemon says so: a harvest straddling the
# reload is decided at its tenth recipient, a connection flood whose window
# changed needs its six connections again.
. "$(dirname "$0")/lib.sh"
L=$TMP/mail.log
CONF=$TMP/mxguard.conf
PID=
trap 'kill "$PID" 2> /dev/null; rm -rf "$TMP"' EXIT
touch "$L"
policy() {	# $1: the conn rule's window, $2: the dha rule's threshold
	cat > "$CONF" << EOF
rule "dha" {
    on rcpt_unknown
    when distinct to >= $2 within 1h
    do reject for 1h
}
rule "conn" {
    on connect
    when count >= 6 within $1
    do defer for 10m
}
rule "idle" {
    on auth_fail
    when count >= 3 within 10m
    do reject for 10m
}
EOF
}
start() {
	"$MXGUARD" run -c "$CONF" --source "$L" --state-dir "$TMP/state" --events "$TMP/ev.jsonl" \
		--socket "$TMP/s" >> "$TMP/dec.jsonl" 2>> "$TMP/run.err" &
	PID=$!
	wait_for 20 count_at_least "$1" grep -c "following 1 log" "$TMP/run.err"
}
wait_events() { wait_for 20 lines_at_least "$1" "$TMP/ev.jsonl"; }
now() { date -u '+%b %e %H:%M:%S'; }
unknown() {	# $1 $2: recipients u$1..u$2 from 198.51.100.7
	for i in $(seq "$1" "$2"); do
		echo "$(now) mx postfix/smtpd[9]: NOQUEUE: reject: RCPT from unknown[198.51.100.7]: 550 5.1.1 <u$i@example.org>: Recipient address rejected: User unknown in local recipient table; from=<x@example.net> to=<u$i@example.org> proto=ESMTP helo=<x>"
	done >> "$L"
}
connects() {	# $1: how many connections from 198.51.100.8
	for _ in $(seq "$1"); do echo "$(now) mx postfix/smtpd[9]: connect from unknown[198.51.100.8]"; done >> "$L"
}
decided() { jq -r "select(.rule == \"$1\") | .key" "$TMP/dec.jsonl" | xargs; }

policy 10m 10
start 1
unknown 1 6
connects 3
wait_events 9
"$MXGUARD" ctl --socket "$TMP/s" status > /dev/null	# (past the batch's commit)
check_eq "below both thresholds: no decision yet" "" "$(decided dha)$(decided conn)"

# The reload: dha counts as before (its threshold lowered from 10 to 9), conn's window doubles.
policy 20m 9
kill -HUP "$PID"
wait_for 20 grep -q "reloaded" "$TMP/run.err"
check "the daemon says which rule starts from zero, and why" \
	grep -q 'reload: rule "conn": its window changed: its counters start again from zero' "$TMP/run.err"
check_eq "and names no other rule (dha counts as before; idle had counted nothing)" 1 \
	"$(grep -c 'counters start again from zero' "$TMP/run.err")"
unknown 7 9
wait_events 12
wait_for 10 grep -q '"rule":"dha"' "$TMP/dec.jsonl"
check_eq "dha kept its 6 recipients: the 9th (the new threshold) decides" "198.51.100.7" "$(decided dha)"
connects 3
wait_events 15
"$MXGUARD" ctl --socket "$TMP/s" status > /dev/null
check_eq "conn started from zero: 3 connections after the reload decide nothing" "" "$(decided conn)"
connects 3
wait_for 10 grep -q '"rule":"conn"' "$TMP/dec.jsonl"
check_eq "the 6th connection since the reload does" "198.51.100.8" "$(decided conn)"
kill "$PID"; wait "$PID" 2> /dev/null; PID=
finish
