#!/usr/bin/env bash
# test_service.sh - the daemon as a systemd service (cli/service.h), seen
# from the manager's side without systemd: a socket of the test's own as
# NOTIFY_SOCKET collects what the daemon says (the sd_notify protocol):
#   - READY=1 once it follows its logs, with a STATUS line; STATUS kept
#     current (lines read); WATCHDOG=1 at half WATCHDOG_USEC, from the loop;
#     RELOADING=1 then READY=1 on SIGHUP; STOPPING=1 at the end;
#   - under --user (privilege separation) the worker runs the loop: it is
#     the one that says READY and feeds the watchdog;
#   - with stderr as the journal's stream (JOURNAL_STREAM names it), every
#     line carries its priority (<6> info, <4> warning, <3> error).
. "$(dirname "$0")/lib.sh"
command -v python3 > /dev/null || skip_all "python3 is not installed"
L=$TMP/mail.log
touch "$L"
chmod 755 "$TMP"
# listen NAME: a datagram socket at $TMP/NAME.sock whose messages go, one per line, to $TMP/NAME.msgs
listen() {
	python3 - "$TMP/$1.sock" "$TMP/$1.msgs" <<'EOF' &
import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
os.chmod(sys.argv[1], 0o777)
with open(sys.argv[2], 'a', buffering=1) as out:
    while True:
        m = s.recv(4096).decode()
        out.write(m.replace('\n', ' | ') + '\n')
EOF
	LISTENER=$!
	wait_for 10 test -S "$TMP/$1.sock"
}
count() { grep -c -- "$2" "$TMP/$1.msgs" 2> /dev/null || true; }
trap 'kill "$PID" "$LISTENER" 2> /dev/null; rm -rf "$TMP"' EXIT

listen n
NOTIFY_SOCKET=$TMP/n.sock WATCHDOG_USEC=600000 "$MXGUARD" run -c samples/mxguard.conf --source "$L" \
	--state-dir "$TMP/st" --socket "$TMP/ctl.sock" > /dev/null 2> "$TMP/err" &
PID=$!
wait_for 20 eval '[ "$(count n READY=1)" -ge 1 ]'
check "READY=1 once it follows its logs, with a status line" grep -q '^READY=1 | STATUS=following 1 log(s)$' "$TMP/n.msgs"
wait_for 10 eval '[ "$(count n WATCHDOG=1)" -ge 3 ]'
check "WATCHDOG=1 keeps coming (every 300 ms for WATCHDOG_USEC=600000)" test "$(count n WATCHDOG=1)" -ge 3
sed -n '13,40p' samples/logs/mx1-attacks.log >> "$L"
wait_for 15 eval '[ "$(count n "STATUS=following 1 log(s): 28 lines")" -ge 1 ]'
check "the STATUS line follows the lines read and the decisions" \
	grep -q '^STATUS=following 1 log(s): 28 lines, [0-9]* events, 1 decisions$' "$TMP/n.msgs"
kill -HUP "$PID"
wait_for 10 eval '[ "$(count n "^READY=1 | STATUS=reloaded")" -ge 1 ]'
# (the next message but the watchdog's, which may come between on a loaded machine)
check "SIGHUP: RELOADING=1 (with MONOTONIC_USEC), then READY=1 again" \
	sh -c "grep -v '^WATCHDOG=1$' '$TMP/n.msgs' | grep -A1 '^RELOADING=1 | MONOTONIC_USEC=[0-9]*$' | grep -q '^READY=1 | STATUS=reloaded'"
kill "$PID"
wait "$PID"
check_eq "a clean stop (exit 0), and STOPPING=1 said" "0 1" "$? $(count n STOPPING=1)"
kill "$LISTENER"
wait "$LISTENER" 2> /dev/null

# privilege separation: the worker (not the main process) says READY and feeds the watchdog
if id nobody > /dev/null 2>&1; then
	listen p
	mkdir -p "$TMP/pst" "$TMP/prun"
	chown nobody "$TMP/pst" "$TMP/prun"
	chmod 644 "$L"
	NOTIFY_SOCKET=$TMP/p.sock WATCHDOG_USEC=600000 WATCHDOG_PID=$$ "$MXGUARD" run -c samples/mxguard.conf \
		--source "$L" --state-dir "$TMP/pst" --socket "$TMP/prun/ctl.sock" --user nobody > /dev/null 2> "$TMP/perr" &
	PID=$!
	wait_for 20 eval '[ "$(count p WATCHDOG=1)" -ge 3 ]'
	check "under --user: READY=1 and the watchdog from the worker (WATCHDOG_PID naming another process)" \
		sh -c "grep -q '^READY=1' '$TMP/p.msgs' && [ \$(grep -c WATCHDOG=1 '$TMP/p.msgs') -ge 3 ]"
	kill "$PID"
	wait "$PID"
	kill "$LISTENER"
	wait "$LISTENER" 2> /dev/null
else
	skip "the watchdog under --user" "no user nobody"
fi

# the journal: priorities on stderr lines when stderr is its stream
: > "$TMP/j.err"
JOURNAL_STREAM=$(stat -c '%d:%i' "$TMP/j.err") "$MXGUARD" run -c samples/mxguard.conf --source "$L" \
	--source "$TMP/missing.log" --state-dir "$TMP/st" --socket "$TMP/ctl.sock" > /dev/null 2>> "$TMP/j.err" &
PID=$!
ctl_up 30 "$TMP/ctl.sock"
kill "$PID"
wait "$PID"
check "on the journal's stream: info lines as <6>, without the program name" grep -q '^<6>run: following 2 log(s)' "$TMP/j.err"
check "... warnings as <4>" grep -q '^<4>.*missing.log' "$TMP/j.err"
check "... and no line without its priority" test "$(grep -vc '^<[0-7]>' "$TMP/j.err")" = 0
JOURNAL_STREAM=$(stat -c '%d:%i' "$TMP/j.err") "$MXGUARD" run -c "$TMP/none.conf" > /dev/null 2>> "$TMP/j.err"
check "... errors as <3>" grep -q '^<3>' "$TMP/j.err"
"$MXGUARD" run -c samples/mxguard.conf --source "$L" --state-dir "$TMP/st" --socket "$TMP/ctl.sock" \
	> /dev/null 2> "$TMP/plain.err" &
PID=$!
ctl_up 30 "$TMP/ctl.sock"
kill "$PID"
wait "$PID"
check "elsewhere (stderr not the journal's): the program name, no priority" grep -q '^mxguard: run: following 1 log(s)' "$TMP/plain.err"
finish
