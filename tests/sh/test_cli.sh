#!/usr/bin/env bash
# test_cli.sh - mxguard parse's command line: inputs, exit codes, stdin, gzip, stats.
. "$(dirname "$0")/lib.sh"
G=tests/golden

# usage errors are EX_USAGE (64)
"$MXGUARD" parse --mta exim4x "$G/headers.log" > /dev/null 2>&1
check_eq "unknown --mta exits 64" 64 $?
"$MXGUARD" parse --year 12 "$G/headers.log" > /dev/null 2>&1
check_eq "bad --year exits 64" 64 $?
"$MXGUARD" nosuchcommand > /dev/null 2>&1
check_eq "unknown command exits 64" 64 $?
"$MXGUARD" parse --help | grep -q -- '--stats'
check_eq "parse --help documents --stats" 0 $?

# a missing input is EX_NOINPUT (66), and the other inputs are still read
"$MXGUARD" parse --year 2024 /nonexistent/maillog "$G/postfix-session.log" > "$TMP/out" 2> "$TMP/err"
check_eq "missing file exits 66" 66 $?
check_eq "other inputs still parsed" 16 "$(wc -l < "$TMP/out")"
grep -q '/nonexistent/maillog' "$TMP/err"
check_eq "missing file named on stderr" 0 $?

# several inputs: events carry "file", line numbers restart per input
"$MXGUARD" parse --year 2024 "$G/postfix-session.log" "$G/postfix-abnormal.log" > "$TMP/two"
check_eq "two inputs: all events" 35 "$(wc -l < "$TMP/two")"
check_eq "two inputs: file key" "$G/postfix-abnormal.log" "$(jq -r 'select(.line == 1) | .file' "$TMP/two" | tail -1)"
check_eq "one input: no file key" "null" "$("$MXGUARD" parse --year 2024 "$G/postfix-session.log" | head -1 | jq -r .file)"

# standard input, by '-' and by default, gives the same events as the file
"$MXGUARD" parse --year 2024 "$G/postfix-queue.log" > "$TMP/file.jsonl"
"$MXGUARD" parse --year 2024 - < "$G/postfix-queue.log" > "$TMP/stdin1.jsonl"
cat "$G/postfix-queue.log" | "$MXGUARD" parse --year 2024 > "$TMP/stdin2.jsonl"
check "stdin '-' equals file" cmp "$TMP/file.jsonl" "$TMP/stdin1.jsonl"
check "stdin pipe equals file" cmp "$TMP/file.jsonl" "$TMP/stdin2.jsonl"

# gzip is found by content, not name; concatenated members are read in turn
gzip -c "$G/postfix-queue.log" > "$TMP/maillog.1"
"$MXGUARD" parse --year 2024 "$TMP/maillog.1" > "$TMP/gz.jsonl"
check "gzip by magic bytes" cmp "$TMP/file.jsonl" "$TMP/gz.jsonl"
gzip -c < "$G/postfix-queue.log" | "$MXGUARD" parse --year 2024 > "$TMP/gzpipe.jsonl"
check "gzip on stdin" cmp "$TMP/file.jsonl" "$TMP/gzpipe.jsonl"
{ gzip -c "$G/postfix-session.log"; gzip -c "$G/postfix-abnormal.log"; } > "$TMP/multi.gz"
cat "$G/postfix-session.log" "$G/postfix-abnormal.log" | "$MXGUARD" parse --year 2024 > "$TMP/plain2.jsonl"
"$MXGUARD" parse --year 2024 "$TMP/multi.gz" > "$TMP/multi.jsonl"
check "concatenated gzip members" cmp "$TMP/plain2.jsonl" "$TMP/multi.jsonl"
head -c 1000 "$TMP/multi.gz" > "$TMP/cut.gz"
"$MXGUARD" parse --year 2024 "$TMP/cut.gz" > "$TMP/cut.jsonl" 2> "$TMP/cut.err"
check_eq "truncated gzip exits 65" 65 $?
grep -q 'gzip data truncated' "$TMP/cut.err"
check_eq "truncated gzip is reported" 0 $?
check "truncated gzip: events before the cut are valid JSON" jq -e . "$TMP/cut.jsonl"

# --stats prints no events, and counts per type, lines and lines/s on stderr
"$MXGUARD" parse --stats --year 2024 "$G/postfix-queue.log" > "$TMP/stats.out" 2> "$TMP/stats.err"
check_eq "--stats prints no events" 0 "$(wc -c < "$TMP/stats.out")"
check_eq "--stats lines" 36 "$(stat_of "$TMP/stats.err" lines)"
check_eq "--stats msg_accepted" 5 "$(stat_of "$TMP/stats.err" msg_accepted)"
check_eq "--stats bounce_in" 1 "$(stat_of "$TMP/stats.err" bounce_in)"
grep -Eq '^lines/s: [0-9]+$' "$TMP/stats.err"
check_eq "--stats lines/s" 0 $?

# --mta postfix reads the same Postfix events as auto
"$MXGUARD" parse --mta postfix --year 2024 "$G/postfix-queue.log" > "$TMP/pf.jsonl"
check "--mta postfix equals auto" cmp "$TMP/file.jsonl" "$TMP/pf.jsonl"

# output to a closed pipe or a full disk is an error, not silence
if [ -w /dev/full ]; then
	"$MXGUARD" parse --year 2024 "$G/postfix-queue.log" > /dev/full 2> "$TMP/full.err"
	check_eq "write error exits 74" 74 $?
fi

# A configuration that says how it is enforced ('set socketmap' here): check
# names the rules none of it can carry out (the default policy's global
# defer); one that does not say stays quiet (run's command line decides).
{ cat samples/mxguard.conf; echo 'set socketmap "/run/mxguard/map"'; } > "$TMP/sm.conf"
"$MXGUARD" check "$TMP/sm.conf" > /dev/null 2> "$TMP/sm.err"
check_eq "check with set socketmap: the rules it cannot enforce" "backscatter" \
	"$(sed -n 's/.*warning: rule "\([^"]*\)": .*only recorded$/\1/p' "$TMP/sm.err" | xargs)"
"$MXGUARD" check samples/mxguard.conf > /dev/null 2> "$TMP/plain.err"
check_eq "... and without enforcement settings, no rule is named" 0 "$(grep -c 'warning: rule' "$TMP/plain.err")"

# 'set log syslog' where there is no syslog socket would lose every message:
# check warns, run says so and keeps stderr. In a mount namespace of our own
# whose /dev is empty, then holds a socket at /dev/log.
{ cat samples/mxguard.conf; echo 'set log syslog'; } > "$TMP/sl.conf"
if unshare -m true 2> /dev/null; then
	nolog() { unshare -m sh -c 'mount -t tmpfs none /dev && exec "$@"' sh "$@"; }
	nolog "$MXGUARD" check "$TMP/sl.conf" > /dev/null 2> "$TMP/sl.err"
	check_eq "set log syslog with no syslog socket: still valid (0)" 0 $?
	check "... with a warning at the setting's position" \
		grep -q "sl.conf:$(grep -c '' samples/mxguard.conf | awk '{print $1 + 1}'):1: warning: set log syslog: no syslog socket at /dev/log" "$TMP/sl.err"
	touch "$TMP/sl.log"
	# (not through the function: $! must be the daemon itself - unshare and sh exec it - for the kill below)
	unshare -m sh -c 'mount -t tmpfs none /dev && exec "$@"' sh "$MXGUARD" run -c "$TMP/sl.conf" \
		--source "$TMP/sl.log" --state-dir "$TMP/slst" --socket "$TMP/sl.sock" > /dev/null 2> "$TMP/slrun.err" &
	slpid=$!
	wait_for 20 grep -q "run: following 1 log" "$TMP/slrun.err"
	check "run says so, and its messages stay on stderr" grep -q "run: set log syslog: no syslog socket at /dev/log" "$TMP/slrun.err"
	check "... (its start is there too)" grep -q "run: following 1 log" "$TMP/slrun.err"
	kill "$slpid"; wait "$slpid"
	unshare -m sh -c 'mount -t tmpfs none /dev && python3 -c "import socket; s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); s.bind(\"/dev/log\")" && exec "$@"' sh \
		"$MXGUARD" check "$TMP/sl.conf" > /dev/null 2> "$TMP/sl.err"
	check "with a syslog socket: no warning" not grep -q "set log syslog" "$TMP/sl.err"
else
	skip "set log syslog without a syslog socket" "cannot make a mount namespace (unshare -m)"
fi

# 'ports': TCP ports by number or name; what cannot take effect is refused, not run as a block of every port
cat > "$TMP/ports.conf" <<'EOF'
set ports smtp, submission, submissions
rule "dha" {
    on rcpt_unknown
    when distinct to >= 20 within 10m
    do block for 1h
    ports 25, imaps
}
rule "gone" {
    on rcpt_unknown
    when distinct to >= 5 within 10m
    do reject for 1h
    ports 25
}
rule "typo" {
    on connect
    when count >= 50 within 1m
    do block for 1h
    ports smpt
}
EOF
"$MXGUARD" check "$TMP/ports.conf" > "$TMP/ports.out" 2>&1
check_eq "ports: a rule that does not block, and an unknown service, are errors (78)" 78 $?
check "... each at FILE:LINE:COL" sh -c "grep -q 'ports.conf:8:1: rule gone: .ports. limits a firewall block to those ports, and this rule does not block (it does reject)' '$TMP/ports.out' &&
	grep -q \"ports.conf:18:11: ports: unknown service 'smpt'\" '$TMP/ports.out'"
printf 'set firewall "ipfw"\nset ports 25\nrule "r" {\n    on connect\n    when count >= 50 within 1m\n    do block for 1h\n}\n' > "$TMP/ports-fw.conf"
"$MXGUARD" check "$TMP/ports-fw.conf" > "$TMP/ports-fw.out" 2>&1
check_eq "ports with a firewall that cannot hold ports (ipfw) is refused by check (78), saying which can" "78 1" \
	"$? $(grep -c 'set ports (.*ports-fw.conf:2:1): firewall ipfw cannot limit a block to some ports (iptables, nftables, pf, ipset can): refused rather than blocking every port' "$TMP/ports-fw.out")"
grep -v '^set firewall' "$TMP/ports-fw.conf" > "$TMP/ports-run.conf"
touch "$TMP/ports.log"
"$MXGUARD" run -c "$TMP/ports-run.conf" --source "$TMP/ports.log" --state-dir "$TMP/pst" --socket "$TMP/ps.sock" \
	--firewall ipf > /dev/null 2> "$TMP/ports-run.err"
check_eq "... and by run, before it touches the firewall (78)" "78 1" "$? $(grep -c 'firewall ipf cannot limit a block' "$TMP/ports-run.err")"
# 'limit N connections': a cap only a firewall that counts connections can hold
printf 'set firewall "ipfw"\nrule "cap" {\n    on connect\n    when count >= 50 within 1m\n    do limit 3 connections for 1h\n}\n' > "$TMP/cap.conf"
"$MXGUARD" check "$TMP/cap.conf" > "$TMP/cap.out" 2>&1
check_eq "limit N connections with a firewall that cannot count them (ipfw) is refused (78), saying which can" "78 1" \
	"$? $(grep -c 'rule cap: firewall ipfw cannot cap a client.s connections open at once (iptables, nftables, pf, ipset can)' "$TMP/cap.out")"
printf 'rule "c" {\n    on connect\n    when count >= 50 within 1m\n    do limit 3 conections for 1h\n}\n' > "$TMP/cap2.conf"
"$MXGUARD" check "$TMP/cap2.conf" > "$TMP/cap2.out" 2>&1
check "a misspelt 'connections' is an error naming both forms" grep -q "cap2.conf:4:16: expected 'per DURATION' (a rate) or 'connections'" "$TMP/cap2.out"
finish
