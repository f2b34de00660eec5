#!/usr/bin/env bash
# test_counters_kept.sh - the rules' counters outlive a reload, a restart
# and a kill -9. A reload keeps the counters of the rules that count as
# before (a new threshold included); a rule whose counting changed starts
# from zero and the daemon says so: a harvest straddling the reload is
# decided at the new threshold, a connection flood whose window changed
# needs its six connections again. A harvest straddling a restart or a
# kill -9 is decided at its ninth recipient, recipients seen before the
# restart are not counted twice after it (the fingerprints' key is saved
# too), and a rule whose window changed while mxguard was stopped starts
# from zero, said; a damaged saved row is left out, said, and gone after
# the next commit.
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
unknown() {	# $1 $2: recipients u$1..u$2 from ${3:-198.51.100.7}
	for i in $(seq "$1" "$2"); do
		echo "$(now) mx postfix/smtpd[9]: NOQUEUE: reject: RCPT from unknown[${3:-198.51.100.7}]: 550 5.1.1 <u$i@example.org>: Recipient address rejected: User unknown in local recipient table; from=<x@example.net> to=<u$i@example.org> proto=ESMTP helo=<x>"
	done >> "$L"
}
events=0
more() { events=$((events + $1)); wait_events "$events"; "$MXGUARD" ctl --socket "$TMP/s" status > /dev/null; }
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
events=18
stop() { kill "$1" "$PID"; wait "$PID" 2> /dev/null; PID=; }

# A restart (SIGTERM) in the middle of a harvest.
unknown 1 5 198.51.100.9
more 5
stop -TERM
start 2
check "the daemon says it took counters back" grep -q "counter(s) taken back from the last run" "$TMP/run.err"
unknown 6 9 198.51.100.9
more 4
check_eq "a harvest straddling a restart is decided at its 9th recipient" "198.51.100.7 198.51.100.9" "$(decided dha)"

# kill -9 after a commit, in the middle of another.
unknown 1 5 198.51.100.10
more 5
stop -KILL
start 3
unknown 6 9 198.51.100.10
more 4
check_eq "... and one straddling a kill -9" "198.51.100.7 198.51.100.9 198.51.100.10" "$(decided dha)"

# The same recipients again after a restart are the same values, not new ones.
unknown 1 5 198.51.100.11
more 5
stop -TERM
start 4
unknown 1 8 198.51.100.11
more 8
check_eq "recipients seen before the restart are not counted twice after it (8 distinct: none)" \
	"198.51.100.7 198.51.100.9 198.51.100.10" "$(decided dha)"
unknown 9 9 198.51.100.11
more 1
check_eq "the 9th distinct one decides" "198.51.100.7 198.51.100.9 198.51.100.10 198.51.100.11" "$(decided dha)"

# A window changed while mxguard was stopped: that rule starts from zero, said.
unknown 1 5 198.51.100.12
more 5
stop -TERM
sed -i 's/within 1h/within 2h/' "$CONF"
start 5
check "the daemon says the changed rule starts from zero" grep -q \
	'rule "dha": its window changed since its counters were saved: they start again from zero' "$TMP/run.err"
unknown 6 9 198.51.100.12
more 4
check_eq "and it does: 4 more recipients decide nothing" "198.51.100.7 198.51.100.9 198.51.100.10 198.51.100.11" \
	"$(decided dha)"
stop -TERM

# A saved row that is not a window (a damaged state): left out, said, and gone after the next commit.
python3 -c 'import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
k = db.execute("SELECT key FROM windows WHERE rule = \x27dha\x27 LIMIT 1").fetchone()[0]
db.execute("UPDATE windows SET data = x\x27ff\x27 WHERE rule = \x27dha\x27 AND key = ?", (k,))
db.commit()' "$TMP/state/state.db"
start 6
check "a damaged row is left out, and said" grep -q "1 saved counter(s) could not be read and were left out" "$TMP/run.err"
unknown 10 10 198.51.100.12
more 1
stop -TERM
start 7
check_eq "after the next commit it is gone (said once)" 1 "$(grep -c "could not be read and were left out" "$TMP/run.err")"
stop -TERM
finish
