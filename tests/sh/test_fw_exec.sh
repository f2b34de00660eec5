#!/usr/bin/env bash
# test_fw_exec.sh - the exec firewall backend with the sample helper.
. "$(dirname "$0")/lib.sh"
export MXG_FW_STATE=$TMP/fw.list
touch "$TMP/mail.log"
cat > "$TMP/mxguard.conf" << CONF
include "$PWD/samples/mxguard.conf"
table <limitme> { 203.0.113.9 }
table <slowme> { 203.0.113.10 }
rule "limit-test" { on connect where client in <limitme> when count >= 1 within 1m do limit 3 per 1m for 10m }
rule "tarpit-test" { on connect where client in <slowme> when count >= 1 within 1m do tarpit for 10m }
CONF
start() {
	"$MXGUARD" run -c "$TMP/mxguard.conf" --source "$TMP/mail.log" --state-dir "$TMP/st" --socket "$TMP/s" \
		--firewall "exec:$PWD/samples/fw-helper.sh" "$@" > /dev/null 2>> "$TMP/run.err" &
	PID=$!
	ctl_up 30 "$TMP/s"
}
trap 'kill "$PID" 2> /dev/null; rm -rf "$TMP"' EXIT
ctl() { "$MXGUARD" ctl --socket "$TMP/s" "$@"; }
start
ctl ban 203.0.113.7 for 1h > /dev/null
ctl ban 2001:db8:bad:1::9/64 > /dev/null
# The helper is talked to asynchronously: ctl answers before the helper has.
wait_for 10 lines_at_least 2 "$MXG_FW_STATE"
check_eq "the helper got both blocks, canonical" "2001:db8:bad:1::/64 203.0.113.7/32" \
	"$(cut -d' ' -f1 "$MXG_FW_STATE" | sort | xargs)"
ctl unban 203.0.113.7 > /dev/null
wait_for 10 not grep -q '^203.0.113.7/' "$MXG_FW_STATE"
check_eq "unban releases at the helper" "2001:db8:bad:1::/64" "$(cut -d' ' -f1 "$MXG_FW_STATE" | xargs)"
for a in 203.0.113.9 203.0.113.10; do
	echo "$(date '+%b %e %H:%M:%S') mx1 postfix/smtpd[9]: connect from unknown[$a]"
done >> "$TMP/mail.log"
wait_for 10 lines_at_least 3 "$MXG_FW_STATE"
check_eq "limit and tarpit decisions reach the helper with their action" \
	"2001:db8:bad:1::/64 block|203.0.113.10/32 tarpit|203.0.113.9/32 limit:3/60" \
	"$(cut -d' ' -f1,2 "$MXG_FW_STATE" | sort | paste -sd'|')"
ctl unban 203.0.113.9 > /dev/null
ctl unban 203.0.113.10 > /dev/null
kill "$PID"; wait "$PID"
: > "$MXG_FW_STATE"
start
wait_for 10 lines_at_least 1 "$MXG_FW_STATE"
check_eq "at start the blocks in force are sent again" "2001:db8:bad:1::/64" "$(cut -d' ' -f1 "$MXG_FW_STATE" | xargs)"
ctl flush > /dev/null
wait_for 10 not test -s "$MXG_FW_STATE"
check_eq "flush empties the helper's list" "" "$(cat "$MXG_FW_STATE")"
kill "$PID"; wait "$PID"
check_eq "clean exit (the helper is told to quit)" 0 $?
"$MXGUARD" run -c samples/mxguard.conf --source "$TMP/mail.log" --state-dir "$TMP/st2" --socket "$TMP/s2" \
	--firewall exec:/bin/false > /dev/null 2> "$TMP/bad.err"
check_eq "a helper that does not speak the protocol: the daemon refuses to start (69)" 69 $?
grep -q "expected 'ok 1'" "$TMP/bad.err"
check_eq "and says why" 0 $?
finish
