#!/usr/bin/env bash
# test_fw_exec_faults.sh - an exec firewall helper that fails, dies, hangs or
# garbles its answers: the daemon stays up and responsive (the helper is
# talked to asynchronously: ctl answers at once even while it hangs), the
# decision shows as pending in ctl until it is in force, the helper is
# restarted, and nothing leaks into it (its only descriptors are 0, 1 and 2).
. "$(dirname "$0")/lib.sh"
# The helper's behaviour for the next request is the word in $TMP/mode:
# ok, error (answers "error ..."), die-once (exits without answering, and
# is fine once restarted), hang (never answers), garble (answers nonsense).
cat > "$TMP/helper.sh" << EOF
#!/usr/bin/env bash
# Listed into a file, not a pipe: a pipe would add descriptors of this shell's own.
ls /proc/\$\$/fd > "$TMP/fds.\$\$"
echo "\$\$" >> "$TMP/pids"
read -r hello; [ "\$hello" = "mxguard-fw 1" ] || exit 1
echo "ok 1"
while read -r verb addr action seconds; do
	mode=\$(cat "$TMP/mode")
	case \$mode in
	error) echo "error appliance unreachable"; continue ;;
	die-once) echo ok > "$TMP/mode"; exit 3 ;;
	hang) exec sleep 600 ;;
	garble) echo "what?"; continue ;;
	esac
	case \$verb in
	block) echo "\$addr" >> "$TMP/fw.list"; echo ok ;;
	release) grep -vx "\$addr" "$TMP/fw.list" > "$TMP/fw.tmp"; mv "$TMP/fw.tmp" "$TMP/fw.list"; echo ok ;;
	flush) : > "$TMP/fw.list"; echo ok ;;
	quit) exit 0 ;;
	esac
done
EOF
chmod +x "$TMP/helper.sh"
echo ok > "$TMP/mode"
touch "$TMP/mail.log" "$TMP/fw.list"
trap 'kill "$PID" 2> /dev/null; for p in $(cat "$TMP/pids" 2> /dev/null); do kill -9 "$p" 2> /dev/null; done; rm -rf "$TMP"' EXIT
ctl() { "$MXGUARD" ctl --socket "$TMP/s" "$@"; }
in_fw() { grep -qx "$1" "$TMP/fw.list"; }
state_of() { ctl decisions | awk -v k="$1" '$1 == k {print ($NF == "pending") ? "pending" : "in-force"}'; }
# The daemon starts with descriptors 0-2 only (not what the test's own parents left open), so
# any other descriptor a helper has is one the daemon leaked.
only_std_fds() {
	local fd
	for fd in $(ls /proc/$BASHPID/fd); do [ "$fd" -gt 2 ] && eval "exec $fd>&-"; done 2> /dev/null
	exec "$@"
}
(only_std_fds "$MXGUARD" run -c samples/mxguard.conf --source "$TMP/mail.log" --state-dir "$TMP/st" --socket "$TMP/s" \
	--events "$TMP/events.jsonl" --firewall "exec:$TMP/helper.sh" > /dev/null 2> "$TMP/run.err") &
PID=$!
wait_for 15 eval 'ctl status > /dev/null 2>&1'

ctl ban 203.0.113.1 > /dev/null
wait_for 15 eval 'in_fw 203.0.113.1/32'
check "a working helper: the block is in force" in_fw 203.0.113.1/32

errors() { grep -c 'appliance unreachable' "$TMP/run.err"; }
echo error > "$TMP/mode"
ctl ban 203.0.113.2 > /dev/null
wait_for 15 eval '[ "$(errors)" -ge 1 ]'
check_eq "a helper that answers error: the decision is pending" "pending" "$(state_of 203.0.113.2)"
check_eq "ctl status counts it" "1 firewall change(s) pending" "$(ctl status | grep -o '[0-9]* firewall change(s) pending')"
check_eq "ctl --json decisions says so" '"pending":true' "$(ctl --json decisions | grep 203.0.113.2 | grep -o '"pending":[a-z]*')"
echo ok > "$TMP/mode"
wait_for 15 eval 'in_fw 203.0.113.2/32'
check "when the helper works again, the retry puts it in force" in_fw 203.0.113.2/32
check_eq "and it is no longer pending" "in-force" "$(state_of 203.0.113.2)"
check_eq "the retry is logged" 1 "$(grep -c '1 pending change(s) now in force' "$TMP/run.err")"

echo die-once > "$TMP/mode"
ctl ban 203.0.113.3 > /dev/null
wait_for 15 eval 'in_fw 203.0.113.3/32'
check "a helper that dies: it is restarted and the block goes in at once" in_fw 203.0.113.3/32
check_eq "two helpers so far (the first, the one started after it died)" 2 "$(wc -l < "$TMP/pids")"
check_eq "the daemon says it restarted it" 1 "$(grep -c 'the helper exited; it is stopped and started again' "$TMP/run.err")"

echo hang > "$TMP/mode"
# Its deadline is 2 s: a daemon that waited for it would take that long. (The daemon's own answers,
# timed on the socket: two ctl processes' start-up under ASan on a loaded machine took 1.6 s by itself.)
PEER="$(dirname "$0")/sockpeer.py"
read -r _ t_ban _ _ < <(python3 "$PEER" rtt "$TMP/s" "ban 203.0.113.4
" 1 "")
read -r _ t_status _ good < <(python3 "$PEER" rtt "$TMP/s" "status
" 1 "mxguard is running")
check_eq "a hung helper does not stall the daemon (ban + status answered within 1.5 s)" "1 1" \
	"$(((t_ban + t_status) < 1500)) $good"
echo "  (a ban to a hung helper took $t_ban ms, status then $t_status ms)"
check_eq "its decision is pending" "pending" "$(state_of 203.0.113.4)"
wait_for 15 eval 'grep -q "did not answer in time" "$TMP/run.err"'
check_eq "the hung helper was killed" 1 "$(grep -c 'did not answer in time' "$TMP/run.err")"
echo ok > "$TMP/mode"
wait_for 15 eval 'in_fw 203.0.113.4/32'
check "a new helper puts it in force" in_fw 203.0.113.4/32
hung=$(sed -n 2p "$TMP/pids")
check_eq "no hung helper is left behind" gone "$(kill -0 "$hung" 2> /dev/null && echo alive || echo gone)"

echo garble > "$TMP/mode"
ctl ban 203.0.113.5 > /dev/null
check_eq "a helper that garbles its answers: pending, the helper replaced" "pending" "$(state_of 203.0.113.5)"
echo ok > "$TMP/mode"
wait_for 15 eval 'in_fw 203.0.113.5/32'
check "then in force" in_fw 203.0.113.5/32

echo error > "$TMP/mode"
before=$(errors)
ctl unban 203.0.113.1 > /dev/null
wait_for 15 eval '[ "$(errors)" -gt "$before" ]'
echo ok > "$TMP/mode"
wait_for 15 eval '! in_fw 203.0.113.1/32'
check_eq "a failed release is retried too" "" "$(grep -x 203.0.113.1/32 "$TMP/fw.list")"

for f in "$TMP"/fds.*; do
	check_eq "helper ${f##*.} had only stdin, stdout, stderr open" "0 1 2" "$(grep -vx 255 "$f" | sort -n | xargs)"
done
check "the daemon is still running" kill -0 "$PID"
kill "$PID"; wait "$PID"
check_eq "clean exit" 0 $?
finish
