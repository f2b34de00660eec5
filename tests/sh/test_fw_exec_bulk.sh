#!/usr/bin/env bash
# test_fw_exec_bulk.sh - the exec helper under a burst of 25,000 decisions
# (one /64 each), and the same 25,000 put back at the next start in one
# batch: more requests than a pipe holds one way (about 1 MB) and more
# answers than it holds the other (75 KB of "ok"). The daemon writes and
# reads the helper's pipes at the same time, without blocking, so neither
# side waits for the other; decisions made while a batch is out queue
# behind it (not one O(n) scan each), and every one reaches the helper
# exactly once. ctl answers throughout.
. "$(dirname "$0")/lib.sh"
N=25000
# A quick helper: no forks per request (the sample's awk per line would take minutes).
cat > "$TMP/helper.sh" << EOF
#!/usr/bin/env bash
read -r hello; [ "\$hello" = "mxguard-fw 1" ] || exit 1
echo "ok 1"
exec 3>> "$TMP/blocks"
while read -r verb addr action seconds; do
	case \$verb in
	block) echo "\$addr" >&3; echo ok ;;
	release | flush) echo ok ;;
	quit) exit 0 ;;
	*) echo "error what is \$verb" ;;
	esac
done
EOF
chmod +x "$TMP/helper.sh"
cat > "$TMP/mxguard.conf" << 'CONF'
rule "each" { on connect when count >= 1 within 1h do block for 1h }
CONF
: > "$TMP/mail.log"
start() {
	"$MXGUARD" run -c "$TMP/mxguard.conf" --source "$TMP/mail.log" --state-dir "$TMP/st" --socket "$TMP/s" \
		--firewall "exec:$TMP/helper.sh" > /dev/null 2>> "$TMP/run.err" &
	PID=$!
	ctl_up 60 "$TMP/s"
}
trap 'kill "$PID" 2> /dev/null; rm -rf "$TMP"' EXIT
ctl() { "$MXGUARD" ctl --socket "$TMP/s" "$@"; }
pending() { ctl status | grep -o '[0-9]* firewall change(s) pending' | cut -d' ' -f1; }
blocks() { wc -l < "$TMP/blocks"; }

start
stamp=$(date '+%b %e %H:%M:%S')
: > "$TMP/blocks"
awk -v n=$N -v s="$stamp" 'BEGIN { for (i = 0; i < n; i++)
	printf "%s mx1 postfix/smtpd[9]: connect from unknown[2001:db8:%x:%x::1]\n", s, int(i / 65536), i % 65536 }' \
	>> "$TMP/mail.log"
wait_for 120 count_at_least $N blocks
check_eq "all $N decisions of a burst reach the helper" $N "$(blocks)"
check_eq "each exactly once" $N "$(sort -u "$TMP/blocks" | wc -l)"
wait_for 30 test "$(pending)" = 0
check_eq "none is left pending" 0 "$(pending)"
check_eq "the helper was never given up on" 0 "$(grep -c 'did not answer in time\|is killed\|exited' "$TMP/run.err")"

kill "$PID"; wait "$PID"
: > "$TMP/blocks"
start
t0=$(date +%s%3N)
ctl status > /dev/null
t1=$(date +%s%3N)
echo "  (ctl status while $N blocks go back: $((t1 - t0)) ms)"
wait_for 120 count_at_least $N blocks
check_eq "at the next start all $N go back in one batch" $N "$(blocks)"
check_eq "one batch: the daemon logs it once" 1 "$(grep -c "$N block(s) in force put back" "$TMP/run.err")"
check_eq "answers were read while requests were written (no deadline missed)" 0 \
	"$(grep -c 'did not answer in time\|is killed' "$TMP/run.err")"
wait_for 30 test "$(pending)" = 0
check_eq "none is left pending" 0 "$(pending)"
kill "$PID"; wait "$PID"
check_eq "clean exit" 0 $?
finish
