#!/usr/bin/env bash
# test_parser_blocks.sh - parser blocks from the command line and in the
# daemon: `mxguard check` says where a block is wrong (FILE:LINE:COL, exit
# 78); `parse -c` reads with a configuration's blocks; the daemon takes a
# block added at a reload from the next line on; a block's session table
# survives kill -9 (a session's summary after the restart is not counted
# again when its attempt was counted before); a block removed at a reload
# stops counting.
. "$(dirname "$0")/lib.sh"

# --- check
cat > "$TMP/bad.conf" << 'EOF'
parser "dove" {
    program "dovecot"
    pattern auth_fail 'auth: x\((?<user>.*,(?<ip>[0-9.]+)$'
    pattern auth_fail 'dovecot: auth: (?<ip>\S+)'
    pattern auth_fial 'y (?<ip>\S+)'
}
EOF
"$MXGUARD" check "$TMP/bad.conf" 2> "$TMP/bad.err"
check_eq "check: a broken parser block exits 78" 78 $?
check "check: a regex PCRE2 refuses, at the byte it names (its end: a ')' missing)" \
	grep -q "bad.conf:3:59: parser \"dove\": pattern: missing closing parenthesis" "$TMP/bad.err"
check "check: a pattern written against the whole line, at its first byte" \
	grep -q "bad.conf:4:24: parser \"dove\": pattern: this pattern can never match" "$TMP/bad.err"
check "check: an unknown event type, at the word" grep -q "bad.conf:5:13: parser \"dove\": pattern: unknown event type auth_fial" "$TMP/bad.err"
"$MXGUARD" check samples/dovecot.conf > /dev/null 2> "$TMP/ok.err"
check_eq "check: samples/dovecot.conf is valid, no warnings" "0 " "$? $(cat "$TMP/ok.err")"
"$MXGUARD" check samples/cyrus.conf > /dev/null 2> "$TMP/ok.err"
check_eq "check: samples/cyrus.conf is valid, no warnings" "0 " "$? $(cat "$TMP/ok.err")"

# --- parse -c
L=$TMP/mail.log
line() { printf '%s mx dovecot: %s\n' "$(date -u '+%b %e %H:%M:%S')" "$1"; }
line "auth: passwd-file(u1,203.0.113.7,<S1S1S1S1S1S1S1S1>): unknown user" > "$TMP/one.log"
check_eq "parse without -c: a Dovecot line is another program's" 0 "$("$MXGUARD" parse "$TMP/one.log" | wc -l)"
check_eq "parse -c samples/dovecot.conf: an auth_fail of 203.0.113.7" "auth_fail 203.0.113.7 dovecot" \
	"$("$MXGUARD" parse -c samples/dovecot.conf "$TMP/one.log" | jq -r '"\(.type) \(.ip) \(.mta)"')"
printf 'rule "x" { on connect when count >= 5 within 1m do log }\n' > "$TMP/rules-only.conf"
"$MXGUARD" parse -c "$TMP/rules-only.conf" "$TMP/one.log" > /dev/null 2> "$TMP/ro.err"
check "parse -c with no parser block says so" grep -q "has no parser block" "$TMP/ro.err"

# --- the daemon: a block added at a reload, kept sessions across kill -9, removed at a reload
printf 'rule "guess" { on auth_fail when count >= 100 within 10m do log }\n' > "$TMP/rules.conf"
printf 'include "%s"\n' "$TMP/rules.conf" > "$TMP/mx.conf"
: > "$L"
start() {
	"$MXGUARD" run -c "$TMP/mx.conf" --source "$L" --state-dir "$TMP/state" --events "$TMP/ev.jsonl" \
		--socket "$TMP/s" >> "$TMP/dec.jsonl" 2>> "$TMP/run.err" &
	PID=$!
	ctl_up 20 "$TMP/s"
}
trap 'kill -9 "$PID" 2> /dev/null; rm -rf "$TMP"' EXIT
lines_read() { "$MXGUARD" ctl --socket "$TMP/s" --json status | jq .lines; }	# (by this daemon since it started)
start
line "auth: passwd-file(u1,203.0.113.7,<S1S1S1S1S1S1S1S1>): unknown user" >> "$L"
wait_for 10 count_at_least 1 lines_read
check_eq "run without the block: no event from Dovecot's line" 0 "$(wc -l < "$TMP/ev.jsonl" 2> /dev/null || echo 0)"
printf 'include "%s"\ninclude "%s"\n' "$TMP/rules.conf" "$PWD/samples/dovecot.conf" > "$TMP/mx.conf"
"$MXGUARD" ctl --socket "$TMP/s" reload > /dev/null
check_eq "ctl reload with the block: accepted" 0 $?
line "auth: passwd-file(u2,203.0.113.8,<S2S2S2S2S2S2S2S2>): unknown user" >> "$L"
wait_for 10 lines_at_least 1 "$TMP/ev.jsonl"
check_eq "after the reload: the next line is read by the block" "auth_fail 203.0.113.8 dovecot" \
	"$(jq -r '"\(.type) \(.ip) \(.mta)"' "$TMP/ev.jsonl" 2> /dev/null)"
# (a session ID longer than the table's keys, as Dovecot's are for IPv6 clients: kept as its keyed hash)
LONG=AbCdEfGhIjKlMnOpQrStUvWxYz0123456789
line "auth: passwd-file(u6,2001:db8::6,<$LONG>): unknown user" >> "$L"
wait_for 10 lines_at_least 2 "$TMP/ev.jsonl"
# the summaries of sessions S2 and LONG later are not counted again, across a kill -9
kill -9 "$PID"
wait "$PID" 2> /dev/null
start
line "imap-login: Disconnected (auth failed, 1 attempts in 2 secs): user=<u2>, method=PLAIN, rip=203.0.113.8, lip=198.51.100.1, session=<S2S2S2S2S2S2S2S2>" >> "$L"
line "imap-login: Disconnected (auth failed, 1 attempts in 2 secs): user=<u6>, method=PLAIN, rip=2001:db8::6, lip=2001:db8::1, session=<$LONG>" >> "$L"
line "imap-login: Disconnected (auth failed, 1 attempts in 2 secs): user=<u3>, method=PLAIN, rip=203.0.113.9, lip=198.51.100.1, session=<S3S3S3S3S3S3S3S3>" >> "$L"
wait_for 10 lines_at_least 3 "$TMP/ev.jsonl"
check_eq "after kill -9: the sessions counted before (a long ID too) are not counted again; a new one is" \
	"auth_fail 203.0.113.8|auth_fail 2001:db8::6|auth_fail 203.0.113.9" \
	"$(jq -r '"\(.type) \(.ip)"' "$TMP/ev.jsonl" | paste -sd'|')"
printf 'include "%s"\n' "$TMP/rules.conf" > "$TMP/mx.conf"
"$MXGUARD" ctl --socket "$TMP/s" reload > /dev/null
line "auth: passwd-file(u4,203.0.113.10,<S4S4S4S4S4S4S4S4>): unknown user" >> "$L"
line "auth: passwd-file(u5,203.0.113.11,<S5S5S5S5S5S5S5S5>): unknown user" >> "$L"
wait_for 10 count_at_least 4 lines_read
check_eq "a block removed at a reload counts no more" 3 "$(wc -l < "$TMP/ev.jsonl")"
kill "$PID"
wait "$PID" 2> /dev/null
check_eq "the daemon stops cleanly" 0 $?
finish
