#!/usr/bin/env bash
# test_audit.sh - the decision log (cli/audit.h) and `mxguard ctl history`
# (cli/history.h), against a running daemon:
#   - start, a rule's ban, a manual ban (who: the ctl process, from the
#     kernel's credentials), its expiry, an unban by containment, a flush,
#     reloads by SIGHUP and by ctl (a broken configuration: ok false), stop;
#     each one JSON line with who or what caused it;
#   - an expiry that came while the daemon was killed (-9) is recorded at the
#     next start, once, and not again at the start after;
#   - logrotate's way (the file moved, a reload, older copies gzipped):
#     `ctl history ADDR` reads the copies oldest first, and still reads them
#     with the daemon stopped (--file);
#   - a key made of client text (a HELO name with a terminal escape) is
#     shown as \x1b, never sent raw to the terminal;
#   - set decision-log off writes nothing; a path that cannot be opened is
#     said and the daemon runs on.
# Test addresses are from 198.51.100.0/24 and 203.0.113.0/24.
. "$(dirname "$0")/lib.sh"
command -v jq > /dev/null || skip_all "jq is not installed (./run test installs it)"
L=$TMP/mail.log
S=$TMP/ctl.sock
A=$TMP/state/decisions.log
{
	cat samples/mxguard.conf
	printf 'rule "helo-spread" {\n    on rcpt_unknown\n    by helo\n    when distinct client >= 3 within 1h\n    do reject for 1h\n}\n'
} > "$TMP/r.conf"
touch "$L"
start() {
	"$MXGUARD" run -c "$TMP/r.conf" --source "$L" --state-dir "$TMP/state" --socket "$S" "$@" \
		>> "$TMP/dec.jsonl" 2>> "$TMP/run.err" &
	PID=$!
	ctl_up 30 "$S"
}
trap 'kill "$PID" 2> /dev/null; rm -rf "$TMP"' EXIT
ctl() { "$MXGUARD" ctl --socket "$S" "$@"; }
# entries EVENT [KEY]: how many lines of the log are that event (about KEY)
entries() { jq -c --arg e "$1" --arg k "${2:-}" 'select(.event == $e and ($k == "" or .key == $k))' "$A" 2> /dev/null | wc -l; }
line() { jq -c --arg e "$1" --arg k "${2:-}" 'select(.event == $e and ($k == "" or .key == $k))' "$A" | tail -1; }

start
check_eq "the default decision log with --state-dir is DIR/decisions.log, and the start is in it" 1 "$(entries start)"
check_eq "... as said by the daemon itself, with the configuration" "daemon $TMP/r.conf" \
	"$(line start | jq -r '"\(.by) \(.config)"')"
check_eq "ctl knows where the log is (decision-log)" "$A" "$(ctl decision-log)"

# a rule's decision
sed -n '13,40p' samples/logs/mx1-attacks.log >> "$L"
wait_for 30 eval '[ "$(entries ban 203.0.113.66)" = 1 ]'
check_eq "a rule's ban: one line, by the rule, with its action, end and reason" "rule dha block true true" \
	"$(line ban 203.0.113.66 | jq -r '"\(.by) \(.rule) \(.action) \(.until | test("Z$")) \(.reason | length > 10)"')"

# a manual ban: who is the ctl process (the kernel says so, not the client)
ctl ban 203.0.113.7 for 2s > /dev/null
B=$(line ban 203.0.113.7)
check_eq "a manual ban: by ctl, uid 0, the ctl's pid, 2 s" "ctl 0 true 2 manual" \
	"$(echo "$B" | jq -r '"\(.by) \(.uid) \(.pid > 1) \(.duration) \(.rule)"')"
wait_for 15 eval '[ "$(entries expire 203.0.113.7)" = 1 ]'
check_eq "its expiry: one line, by expiry, at its end" "expiry $(echo "$B" | jq -r .until)" \
	"$(line expire 203.0.113.7 | jq -r '"\(.by) \(.ts)"')"

# an unban by containment, a flush
ctl ban 198.51.100.0/24 for 1h > /dev/null
ctl unban 198.51.100.9 > /dev/null
check_eq "an unban names the key that held the address, how many, and who" "198.51.100.0/24 1 ctl 0" \
	"$(line unban | jq -r '"\(.key) \(.released) \(.by) \(.uid)"')"
ctl ban 198.51.100.77 for 1h > /dev/null
ctl flush > /dev/null
check_eq "a flush: how many it released (the dha block and the manual ban), and who" "2 ctl" \
	"$(line flush | jq -r '"\(.released) \(.by)"')"
sleep_until_next() { local t=$1; wait_for 10 eval "[ \$EPOCHSECONDS -gt $t ]"; }
# nothing released is recorded as expired later (released early is not an expiry): .78 is released
# long before its end; .79's expiry, a few seconds later, is the event to wait for (.78's would come first)
ctl ban 198.51.100.78 for 1h > /dev/null
ctl unban 198.51.100.78 > /dev/null
ctl ban 198.51.100.79 for 2s > /dev/null
wait_for 15 eval '[ "$(entries expire 198.51.100.79)" = 1 ]'
check_eq "a decision released early has no expiry line (only its unban)" "0 1 1" \
	"$(entries expire 198.51.100.78) $(entries unban 198.51.100.78) $(line unban 198.51.100.78 | jq .released)"
# ... nor one a later decision on the key extends (its end is the later one's): the first ends after
# 4 s, well after the second ban (even on a loaded machine); .81's end, later still, is waited for
ctl ban 198.51.100.80 for 4s > /dev/null
ctl ban 198.51.100.80 for 1h > /dev/null
ctl ban 198.51.100.81 for 5s > /dev/null
wait_for 30 eval '[ "$(entries expire 198.51.100.81)" = 1 ]'
check_eq "a ban extended by a later one has no expiry line while the later holds" "2 0" \
	"$(entries ban 198.51.100.80) $(entries expire 198.51.100.80)"

# reloads
kill -HUP "$PID"
wait_for 30 eval '[ "$(entries reload)" = 1 ]'	# (30: a reload under ASan on a loaded machine once took over 10 s)
check_eq "a reload by SIGHUP" "true signal HUP" "$(line reload | jq -r '"\(.ok) \(.by) \(.signal)"')"
cp "$TMP/r.conf" "$TMP/r.conf.good"
echo 'rule "broken" { on nothing }' >> "$TMP/r.conf"
ctl reload > /dev/null 2>&1
check_eq "a reload of a broken configuration by ctl: ok false, why, who" "false true ctl" \
	"$(line reload | jq -r '"\(.ok) \(.error | length > 0) \(.by)"')"
printf 'set user "nobody"\nset decision-log "%s/elsewhere.log"\n' "$TMP" >> "$TMP/r.conf.good2"
cat "$TMP/r.conf.good" >> "$TMP/r.conf.good2"
cp "$TMP/r.conf.good2" "$TMP/r.conf"
ctl reload > /dev/null
check "a reload that changes 'set user' or 'set decision-log' says they wait for a restart" sh -c \
	"grep -q \"'set user' changed; it takes effect at the next restart\" '$TMP/run.err' &&
	 grep -q \"'set decision-log' changed; it takes effect at the next restart\" '$TMP/run.err'"
check "... and the log stays where it was" test ! -e "$TMP/elsewhere.log"
cp "$TMP/r.conf.good" "$TMP/r.conf"
ctl reload > /dev/null

# a HELO name with a terminal escape as a key
for i in 1 2 3; do
	printf '%s mx1 postfix/smtpd[42]: NOQUEUE: reject: RCPT from unknown[203.0.113.%d]: 550 5.1.1 <e%d@example.org>: Recipient address rejected: User unknown in local recipient table; from=<x@example.net> to=<e%d@example.org> proto=ESMTP helo=<evil\033[2Jname>\n' \
		"$(date '+%b %e %H:%M:%S')" "$((150 + i))" "$i" "$i"
done >> "$L"
wait_for 30 eval '[ "$(jq -r "select(.rule == \"helo-spread\") | .event" "$A" | head -1)" = ban ]'
check "the HELO key is in the log JSON-escaped (\\u001b)" grep -q 'evil\\u001b\[2jname' "$A"
ctl history helo-spread > "$TMP/h.helo"
check "ctl history shows it as \\x1b, no raw escape reaches the terminal" sh -c \
	"grep -q 'evil\\\\x1b\\[2jname' '$TMP/h.helo' && ! grep -q \"\$(printf '\\033')\" '$TMP/h.helo'"

# killed: an expiry that comes while it is down is recorded at the next start, once
ctl ban 203.0.113.8 for 2s > /dev/null
U=$(line ban 203.0.113.8 | jq -r .until)
kill -9 "$PID"
wait "$PID" 2> /dev/null
sleep_until_next "$(date -d "$U" +%s)"
start
wait_for 30 eval '[ "$(entries expire 203.0.113.8)" = 1 ]'
check_eq "an expiry while killed is recorded at the next start" "1 $U" \
	"$(entries expire 203.0.113.8) $(line expire 203.0.113.8 | jq -r .ts)"
check_eq "... and the kill left no stop line (only the clean stops do)" 0 "$(entries stop)"
kill "$PID"
wait "$PID"
check_eq "a clean stop: exit 0 (no sanitizer finding), and recorded" "0 1" "$? $(entries stop)"
start
check_eq "... and a second start records that expiry no second time" 1 "$(entries expire 203.0.113.8)"

# logrotate's way: moved, reload (postrotate), the older copy compressed
ctl ban 203.0.113.9 for 1h > /dev/null
mv "$A" "$A.1"
ctl reload > /dev/null
check_eq "after the log was moved, a reload starts a new file (with the reload in it)" 1 "$(entries reload)"
ctl unban 203.0.113.9 > /dev/null
mv "$A.1" "$A.2" && gzip "$A.2"
mv "$A" "$A.1"
ctl reload > /dev/null
ctl ban 203.0.113.9 for 2h > /dev/null
ctl history 203.0.113.9 > "$TMP/h.9"
check_eq "ctl history ADDR reads the rotated copies too, oldest first (.2.gz, .1, the log), the flush with them" \
	"flush ban unban ban" \
	"$(awk '{ print $3 }' "$TMP/h.9" | xargs)"
check "... in a table a person reads (when, event, key, what and who)" \
	grep -q '^20[0-9-]* [0-9:]*  ban      203.0.113.9      block for 1h by ctl (uid 0, pid [0-9]*): manual ban' "$TMP/h.9"
ctl history 203.0.113.0/24 > "$TMP/h.24"
check "ctl history PREFIX: the keys inside it, and the flushes" sh -c \
	"grep -q ' 203.0.113.66 ' '$TMP/h.24' && grep -q ' 203.0.113.9 ' '$TMP/h.24' && grep -q ' flush ' '$TMP/h.24' && ! grep -q '198.51.100' '$TMP/h.24'"
check_eq "ctl --json history: the log's own lines" "flush ban unban ban" \
	"$(ctl --json history 203.0.113.9 | jq -r .event | xargs)"
ctl history dha > "$TMP/h.dha"
check "ctl history RULE: that rule's bans and expiries" sh -c "grep -q 'by rule dha' '$TMP/h.dha' && ! grep -q manual '$TMP/h.dha'"
ctl history --bogus > /dev/null 2>&1
check_eq "a word history does not take is a usage error (64)" 64 $?
kill "$PID"
wait "$PID"
check_eq "the daemon stops cleanly after all that (exit 0)" 0 $?
"$MXGUARD" ctl --socket "$TMP/none.sock" history --file "$A" 203.0.113.9 > "$TMP/h.down"
check "with the daemon stopped, history --file reads the same" cmp -s "$TMP/h.9" "$TMP/h.down"
echo '{"ts":"2026-' >> "$A"	# (a torn last line, as a crash may leave)
"$MXGUARD" ctl --socket "$TMP/none.sock" history --file "$A" 203.0.113.9 > /dev/null 2> "$TMP/h.torn"
check "a torn line is passed over and said" grep -q '1 line(s) that are not entries passed over' "$TMP/h.torn"

# off, and a path that cannot be opened
rm -rf "$TMP/state2"
"$MXGUARD" run -c "$TMP/r.conf" --source "$L" --state-dir "$TMP/state2" --socket "$S" --decision-log off \
	> /dev/null 2> "$TMP/off.err" &
PID=$!
ctl_up 30 "$S"
check "--decision-log off: no log is written" test ! -e "$TMP/state2/decisions.log"
ctl decision-log > /dev/null 2>&1
check_eq "... and ctl decision-log says so (65)" 65 $?
kill "$PID"
wait "$PID"
"$MXGUARD" run -c "$TMP/r.conf" --source "$L" --state-dir "$TMP/state2" --socket "$S" \
	--decision-log "$TMP/no/such/dir/d.log" > /dev/null 2> "$TMP/bad.err" &
PID=$!
ctl_up 30 "$S"
check "a decision log that cannot be opened is said, and the daemon runs on" sh -c \
	"grep -q 'decision log: .*no/such/dir.*not recorded' '$TMP/bad.err' && '$MXGUARD' ctl --socket '$S' status > /dev/null"
kill "$PID"
wait "$PID"
finish
