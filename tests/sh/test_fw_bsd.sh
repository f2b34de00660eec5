#!/usr/bin/env bash
# test_fw_bsd.sh - pf and ipfw: there is no BSD kernel here, so stand-in
# pfctl and ipfw binaries on PATH record their exact command lines, and the
# test checks them: batching, no shell, the table name, expiry, flush.
. "$(dirname "$0")/lib.sh"
mkdir -p "$TMP/bin"
for tool in pfctl ipfw; do
	printf '#!/bin/sh\necho "%s $*" >> "%s/calls"\n' "$tool" "$TMP" > "$TMP/bin/$tool"
	chmod +x "$TMP/bin/$tool"
done
touch "$TMP/mail.log"
trap 'kill "$PID" 2> /dev/null; rm -rf "$TMP"' EXIT
run_with() {
	rm -f "$TMP/calls" "$TMP/st" -r
	PATH="$TMP/bin:$PATH" "$MXGUARD" run -c samples/mxguard.conf --source "$TMP/mail.log" --state-dir "$TMP/st" \
		--socket "$TMP/s" --firewall "$1" > /dev/null 2>> "$TMP/run.err" &
	PID=$!
	for _ in $(seq 100); do "$MXGUARD" ctl --socket "$TMP/s" status > /dev/null 2>&1 && break; sleep 0.1; done
}
ctl() { "$MXGUARD" ctl --socket "$TMP/s" "$@" > /dev/null; }

run_with pf
ctl ban 203.0.113.7 for 2s
ctl ban 2001:db8:bad:1::9/64
ctl unban 2001:db8:bad:1::/64
sleep 3	# the 2 s ban expires: pf has no timeouts, the daemon releases it
ctl flush
kill "$PID"; wait "$PID"
check_eq "pf: exact command lines" "pfctl -q -t mxguard -T flush
pfctl -q -t mxguard -T add 203.0.113.7/32
pfctl -q -k 203.0.113.7/32
pfctl -q -t mxguard -T add 2001:db8:bad:1::/64
pfctl -q -k 2001:db8:bad:1::/64
pfctl -q -t mxguard -T delete 2001:db8:bad:1::/64
pfctl -q -t mxguard -T delete 203.0.113.7/32
pfctl -q -t mxguard -T flush" "$(cat "$TMP/calls")"

run_with ipfw
ctl ban 198.51.100.9
ctl unban 198.51.100.9
kill "$PID"; wait "$PID"
check_eq "ipfw: exact command lines" "ipfw -q table mxguard flush
ipfw -q table mxguard add 198.51.100.9/32
ipfw -q table mxguard delete 198.51.100.9/32" "$(cat "$TMP/calls")"

# A missing firewall command is reported, not fatal.
rm "$TMP/bin/ipfw"
run_with ipfw
ctl ban 198.51.100.10
kill -0 "$PID"
check_eq "a failing firewall command does not stop the daemon" 0 $?
kill "$PID"; wait "$PID"
grep -q "firewall command failed (not found): ipfw -q table mxguard add 198.51.100.10/32" "$TMP/run.err"
check_eq "and is reported with its command line" 0 $?
finish
