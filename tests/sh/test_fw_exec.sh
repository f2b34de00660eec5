#!/usr/bin/env bash
# test_fw_exec.sh - the exec firewall backend with the sample helper.
. "$(dirname "$0")/lib.sh"
export MXG_FW_STATE=$TMP/fw.list
touch "$TMP/mail.log"
start() {
	"$MXGUARD" run -c samples/mxguard.conf --source "$TMP/mail.log" --state-dir "$TMP/st" --socket "$TMP/s" \
		--firewall "exec:$PWD/samples/fw-helper.sh" "$@" > /dev/null 2>> "$TMP/run.err" &
	PID=$!
	for _ in $(seq 100); do "$MXGUARD" ctl --socket "$TMP/s" status > /dev/null 2>&1 && break; sleep 0.1; done
}
trap 'kill "$PID" 2> /dev/null; rm -rf "$TMP"' EXIT
ctl() { "$MXGUARD" ctl --socket "$TMP/s" "$@"; }
start
ctl ban 203.0.113.7 for 1h > /dev/null
ctl ban 2001:db8:bad:1::9/64 > /dev/null
check_eq "the helper got both blocks, canonical" "2001:db8:bad:1::/64 203.0.113.7/32" \
	"$(cut -d' ' -f1 "$MXG_FW_STATE" | sort | xargs)"
ctl unban 203.0.113.7 > /dev/null
check_eq "unban releases at the helper" "2001:db8:bad:1::/64" "$(cut -d' ' -f1 "$MXG_FW_STATE" | xargs)"
kill "$PID"; wait "$PID"
: > "$MXG_FW_STATE"
start
check_eq "at start the blocks in force are sent again" "2001:db8:bad:1::/64" "$(cut -d' ' -f1 "$MXG_FW_STATE" | xargs)"
ctl flush > /dev/null
check_eq "flush empties the helper's list" "" "$(cat "$MXG_FW_STATE")"
kill "$PID"; wait "$PID"
check_eq "clean exit (the helper is told to quit)" 0 $?
"$MXGUARD" run -c samples/mxguard.conf --source "$TMP/mail.log" --state-dir "$TMP/st2" --socket "$TMP/s2" \
	--firewall exec:/bin/false > /dev/null 2> "$TMP/bad.err"
check_eq "a helper that does not speak the protocol: the daemon refuses to start (69)" 69 $?
grep -q "expected 'ok 1'" "$TMP/bad.err"
check_eq "and says why" 0 $?
finish
