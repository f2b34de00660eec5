#!/usr/bin/env bash
# test_daemon_faults.sh - faults that must not kill or blind the daemon:
# a ctl client that leaves before reading its answer, a stdout whose reader
# is gone or that is closed (SIGPIPE, EPIPE, EBADF), and firewall commands
# (pfctl stand-ins) that fail or hang: the daemon stays up, the commands
# are killed at their deadline, and no descriptor leaks into them or piles
# up in the daemon.
. "$(dirname "$0")/lib.sh"
command -v python3 > /dev/null || skip_all "python3 missing (the early-leaving ctl client; ./run test installs it)"
touch "$TMP/mail.log"
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill "$p" 2> /dev/null; done; rm -rf "$TMP"' EXIT
ctl() { "$MXGUARD" ctl --socket "$TMP/s" "$@"; }
# The daemon starts with descriptors 0-2 only, so any other one a child has is one the daemon leaked.
only_std_fds() {
	local fd
	for fd in $(ls /proc/$BASHPID/fd); do [ "$fd" -gt 2 ] && eval "exec $fd>&-"; done 2> /dev/null
	exec "$@"
}
start() {	# STATE-DIR [run options], stdout as the caller redirects it
	local st=$1
	shift
	(only_std_fds "$MXGUARD" run -c samples/mxguard.conf --source "$TMP/mail.log" --state-dir "$TMP/$st" \
		--socket "$TMP/s" "$@" 2>> "$TMP/run.err") &
	PID=$!
	PIDS+=("$PID")
}
# Each daemon must stop cleanly (exit 0): also what catches a sanitizer's report.
stop() {
	kill "$PID"
	wait "$PID"
	local rc=$?
	[ "$rc" = 0 ] || failt "the daemon stops cleanly (exit $rc)" "$(tail -3 "$TMP/run.err")"
}

# 1. A ctl client that sends its request and closes before the answer is written.
start st1 > /dev/null
wait_for 15 eval 'ctl status > /dev/null 2>&1'
kill -STOP "$PID"	# the client is gone before the daemon even accepts it
python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1]); s.sendall(b"status\n"); s.close()' "$TMP/s"
kill -CONT "$PID"
wait_for 15 eval '! ls /proc/$PID/fd 2> /dev/null | grep -q . || ctl status > /dev/null 2>&1'
check "a ctl client that leaves early does not kill the daemon (SIGPIPE)" kill -0 "$PID"
check "and it still answers" ctl status
stop

# 2. stdout is a pipe whose reader has gone.
mkfifo "$TMP/fifo"
exec 4<> "$TMP/fifo"	# a reader (read-write: the open does not wait for a writer)
start st2 > "$TMP/fifo"
wait_for 15 eval 'ctl status > /dev/null 2>&1'
exec 4<&-		# the only reader leaves
ctl ban 203.0.113.7 > /dev/null
ctl ban 203.0.113.8 > /dev/null
check "stdout's reader gone: the daemon lives on" kill -0 "$PID"
check_eq "the write error is said once" 1 "$(grep -c 'writing decisions to standard output' "$TMP/run.err")"
check_eq "and the decisions are still saved" "203.0.113.7 203.0.113.8" "$(ctl decisions | awk '{print $1}' | sort | xargs)"
stop

# 3. stdout closed (>&-): fd 1 must not become the state database.
start st3 >&-
wait_for 15 eval 'ctl status > /dev/null 2>&1'
check_eq "stdout closed: fd 1 is /dev/null, not a file of the daemon" /dev/null "$(readlink "/proc/$PID/fd/1")"
ctl ban 203.0.113.9 > /dev/null
check "the daemon lives on" kill -0 "$PID"
stop
check_eq "the state database is intact" ok "$(sqlite3 "$TMP/st3/state.db" 'pragma integrity_check')"
check_eq "and holds the ban" 203.0.113.9 "$(sqlite3 "$TMP/st3/state.db" "select key from decisions")"

# 4. pf commands that fail: retried, nothing leaks; one that hangs is killed at its deadline.
mkdir -p "$TMP/bin"
cat > "$TMP/bin/pfctl" << EOF
#!/usr/bin/env bash
# Listed into a file, not a pipe: a pipe would add descriptors of this shell's own.
ls /proc/\$\$/fd > "$TMP/pf-fds.\$\$"
echo "pfctl \$*" >> "$TMP/calls"
case \$(cat "$TMP/pf-mode") in
fail) exit 1 ;;
hang) echo \$\$ > "$TMP/hung-pid"; exec sleep 600 ;;
esac
exit 0
EOF
chmod +x "$TMP/bin/pfctl"
echo ok > "$TMP/pf-mode"
PATH="$TMP/bin:$PATH" start st4 --firewall pf > /dev/null
wait_for 15 eval 'ctl status > /dev/null 2>&1'
echo fail > "$TMP/pf-mode"
ctl ban 198.51.100.1 > /dev/null
nfd0=$(ls "/proc/$PID/fd" | wc -l)
for i in 2 3 4 5 6; do ctl ban 198.51.100.$i > /dev/null; done
check_eq "failing pfctl runs leave no descriptor behind in the daemon" "$nfd0" "$(ls "/proc/$PID/fd" | wc -l)"
check_eq "the six blocks are pending" 6 "$(ctl decisions | grep -c ' pending$')"
echo ok > "$TMP/pf-mode"
wait_for 15 eval '[ "$(ctl decisions | grep -c " pending$")" = 0 ]'
check_eq "once pfctl works, the retry puts all six in, in one batch" \
	"198.51.100.1/32 198.51.100.2/32 198.51.100.3/32 198.51.100.4/32 198.51.100.5/32 198.51.100.6/32" \
	"$(grep -- '-T add' "$TMP/calls" | tail -1 | grep -o '198[.0-9]*/32' | sort -V | xargs)"
echo hang > "$TMP/pf-mode"
t0=$(date +%s)
ctl ban 198.51.100.7 > /dev/null
t1=$(date +%s)
check_eq "the ban took one deadline, not two" 1 $(((t1 - t0) < 15))
check_eq "a hung pfctl is killed at its deadline (10 s), and its block is not followed by a kill of states" 1 "$(grep -c 'command failed (timed out: killed): pfctl -q -t mxguard -T add 198.51.100.7/32' "$TMP/run.err")"
echo "  (a ban with a hung pfctl took $((t1 - t0)) s)"
check "the daemon answers again" ctl status
check_eq "no hung pfctl is left" gone "$(kill -0 "$(cat "$TMP/hung-pid")" 2> /dev/null && echo alive || echo gone)"
echo ok > "$TMP/pf-mode"
fds_of() { grep -vx 255 "$1" | sort -n | xargs; }	# 255: bash's own descriptor of the script
leaks=$(for f in "$TMP"/pf-fds.*; do [ "$(fds_of "$f")" = "0 1 2" ] || echo "${f##*.}: $(fds_of "$f")"; done)
check_eq "every pfctl had only stdin, stdout, stderr open ($(ls "$TMP"/pf-fds.* | wc -l) runs)" "" "$leaks"
stop

# 5. An ipset that exits without reading its input (100 KiB of it): EPIPE, not SIGPIPE.
mkdir -p "$TMP/bin5"
for tool in iptables ip6tables; do printf '#!/bin/sh\nexit 0\n' > "$TMP/bin5/$tool"; chmod +x "$TMP/bin5/$tool"; done
cat > "$TMP/bin5/ipset" << EOF
#!/bin/sh
[ "\$1" = restore ] || exit 0
[ "\$(cat "$TMP/ipset-mode")" = ok ] || exit 1	# gone before reading a byte
wc -l >> "$TMP/ipset-lines"
EOF
chmod +x "$TMP/bin5/ipset"
echo dead > "$TMP/ipset-mode"
mkdir -p "$TMP/st5"
sqlite3 "$TMP/st4/state.db" .schema | sqlite3 "$TMP/st5/state.db"
now=$(date +%s)
for i in $(seq 0 7); do for j in $(seq 1 250); do
	echo "INSERT INTO decisions (rule, key, action, ts, until, value, level) VALUES ('manual', '198.51.$i.$j', 'block', $now, $((now + 3600)), 0, 0);"
done; done | { echo "BEGIN;"; cat; echo "COMMIT;"; } | sqlite3 "$TMP/st5/state.db"
PATH="$TMP/bin5:$PATH" start st5 --firewall ipset > /dev/null
wait_for 15 eval 'ctl status > /dev/null 2>&1'
check "2000 blocks put back into an ipset that died at once: the daemon lives (SIGPIPE ignored)" kill -0 "$PID"
check_eq "they are pending" "2000 firewall change(s) pending" "$(ctl status | grep -o '[0-9]* firewall change(s) pending')"
check_eq "ctl decisions marks each of them pending" 2000 "$(ctl decisions | grep -c ' pending$')"
echo ok > "$TMP/ipset-mode"
wait_for 15 eval '[ -s "$TMP/ipset-lines" ]'
check_eq "when ipset works, one retry puts all 2000 in" 2000 "$(tail -1 "$TMP/ipset-lines")"
wait_for 15 eval 'ctl status | grep -q " 0 firewall change(s) pending"'
check_eq "nothing is pending then" "0 firewall change(s) pending" "$(ctl status | grep -o '[0-9]* firewall change(s) pending')"
stop
finish
