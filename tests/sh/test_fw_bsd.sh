#!/usr/bin/env bash
# test_fw_bsd.sh - pf, ipfw and ipf: there is no BSD kernel here, so
# stand-in pfctl, ipfw and ippool binaries on PATH record their exact
# command lines, and the test checks them: batching, no shell, the table
# name, expiry, flush.
. "$(dirname "$0")/lib.sh"
mkdir -p "$TMP/bin"
printf '#!/bin/sh\necho "ipfw $*" >> "%s/calls"\n' "$TMP" > "$TMP/bin/ipfw"
# pfctl also records what it is given to load (-f -), each line indented.
cat > "$TMP/bin/pfctl" << EOF
#!/bin/sh
echo "pfctl \$*" >> "$TMP/calls"
for a; do last=\$a; done
[ "\$last" = - ] && sed 's/^/  /' >> "$TMP/calls"
exit 0
EOF
chmod +x "$TMP/bin/ipfw" "$TMP/bin/pfctl"
# ippool also answers -l with the pool file's text (ipf's syntax), or fails when there is none.
cat > "$TMP/bin/ippool" << EOF
#!/bin/sh
echo "ippool \$*" >> "$TMP/calls"
[ "\$1" = -l ] && { [ -f "$TMP/pool" ] || exit 1; cat "$TMP/pool"; }
exit 0
EOF
chmod +x "$TMP/bin/ippool"
touch "$TMP/mail.log"
trap 'kill "$PID" 2> /dev/null; rm -rf "$TMP"' EXIT
run_with() {
	rm -f "$TMP/calls" "$TMP/st" -r
	PATH="$TMP/bin:$PATH" "$MXGUARD" run -c "${CONF:-samples/mxguard.conf}" --source "$TMP/mail.log" --state-dir "$TMP/st" \
		--socket "$TMP/s" --firewall "$1" > /dev/null 2>> "$TMP/run.err" &
	PID=$!
	wait_for 30 up_or_gone
}
# the daemon answers, or has exited (a start that must fail)
up_or_gone() { "$MXGUARD" ctl --socket "$TMP/s" status || ! kill -0 "$PID"; }
ctl() { "$MXGUARD" ctl --socket "$TMP/s" "$@" > /dev/null; }

run_with pf
# (the short ban last: its expiry must not race the other commands on a slow machine)
ctl ban 2001:db8:bad:1::9/64
ctl unban 2001:db8:bad:1::/64
ctl ban 203.0.113.7 for 2s
# the 2 s ban expires: pf has no timeouts, the daemon releases it
wait_for 10 grep -q 'delete 203.0.113.7/32' "$TMP/calls"
ctl flush
kill "$PID"; wait "$PID"
check_eq "pf: exact command lines" "pfctl -q -a mxguard -F all
pfctl -q -t mxguard -T flush
pfctl -q -t mxguard -T add 2001:db8:bad:1::/64
pfctl -q -k 2001:db8:bad:1::/64
pfctl -q -t mxguard -T delete 2001:db8:bad:1::/64
pfctl -q -t mxguard -T add 203.0.113.7/32
pfctl -q -k 203.0.113.7/32
pfctl -q -t mxguard -T delete 203.0.113.7/32
pfctl -q -a mxguard -F all
pfctl -q -t mxguard -T flush" "$(cat "$TMP/calls")"

# 'set ports': blocks of some ports go to a table of the anchor, dropped by a rule mxguard loads into it;
# an unban takes the client out of every table.
printf 'include "%s/samples/mxguard.conf"\nset ports 25, 587\n' "$PWD" > "$TMP/ports.conf"
CONF=$TMP/ports.conf run_with pf
ctl ban 203.0.113.8
ctl ban 2001:db8:bad:2::/64
ctl unban 203.0.113.8
kill "$PID"; wait "$PID"
check_eq "pf: a block of ports 25 and 587: exact command lines, the anchor's rule included" "pfctl -q -a mxguard -F all
pfctl -q -t mxguard -T flush
pfctl -q -a mxguard -f -
  block in quick proto tcp from <mxguard_p4421d8f5> to any port { 25 587 }
pfctl -q -a mxguard -t mxguard_p4421d8f5 -T add 203.0.113.8/32
pfctl -q -a mxguard -t mxguard_p4421d8f5 -T add 2001:db8:bad:2::/64
pfctl -q -t mxguard -T delete 203.0.113.8/32
pfctl -q -a mxguard -t mxguard_p4421d8f5 -T delete 203.0.113.8/32" "$(cat "$TMP/calls")"

run_with ipfw
ctl ban 198.51.100.9
ctl unban 198.51.100.9
kill "$PID"; wait "$PID"
check_eq "ipfw: exact command lines" "ipfw -q table mxguard flush
ipfw -q table mxguard add 198.51.100.9/32
ipfw -q table mxguard delete 198.51.100.9/32" "$(cat "$TMP/calls")"

# A re-ban for longer: the first ban's expiry must not take the address out.
run_with ipfw
ctl ban 198.51.100.11 for 3s
ctl ban 198.51.100.11 for 1h
sleep 4	# on purpose: past the first ban's 3 s, when a wrong expiry would take the address out
kill "$PID"; wait "$PID"
check_eq "ipfw: a longer re-ban outlives the first ban's expiry" "ipfw -q table mxguard flush
ipfw -q table mxguard add 198.51.100.11/32
ipfw -q table mxguard add 198.51.100.11/32" "$(cat "$TMP/calls")"

# 'limit 3 connections': pf's cap is a pass rule of the anchor (max-src-conn), on the ports of 'set ports' only.
cat > "$TMP/cap.conf" << EOF
include "$PWD/samples/mxguard.conf"
set ports 25, 587
table <capme> { 203.0.113.9 }
rule "cap" {
    on connect
    where client in <capme>
    when count >= 1 within 1m
    do limit 3 connections for 1h
}
EOF
CONF=$TMP/cap.conf run_with pf
echo "$(date '+%b %e %H:%M:%S') mx1 postfix/smtpd[9]: connect from unknown[203.0.113.9]" >> "$TMP/mail.log"
wait_for 10 grep -q 'mxguard_c3_p4421d8f5 -T add' "$TMP/calls"
ctl unban 203.0.113.9
kill "$PID"; wait "$PID"
check_eq "pf: a cap of 3 connections on ports 25 and 587: exact command lines, the anchor's pass rule included" \
"pfctl -q -a mxguard -F all
pfctl -q -t mxguard -T flush
pfctl -q -a mxguard -f -
  pass in quick proto tcp from <mxguard_c3_p4421d8f5> to any port { 25 587 } flags S/SA keep state (max-src-conn 3)
pfctl -q -a mxguard -t mxguard_c3_p4421d8f5 -T add 203.0.113.9/32
pfctl -q -t mxguard -T delete 203.0.113.9/32
pfctl -q -a mxguard -t mxguard_c3_p4421d8f5 -T delete 203.0.113.9/32" "$(cat "$TMP/calls")"
# The longest rule: eight five-digit ports, a seven-digit cap, a 12-byte table name (its buffer's bound).
sed -e 's/^set ports .*/set ports 10000, 20000, 30000, 40000, 50000, 60000, 61000, 65535/' \
	-e 's/limit 3 connections/limit 1000000 connections/' "$TMP/cap.conf" > "$TMP/cap-long.conf"
CONF=$TMP/cap-long.conf run_with pf:table=mxguard-tabl
echo "$(date '+%b %e %H:%M:%S') mx1 postfix/smtpd[9]: connect from unknown[203.0.113.9]" >> "$TMP/mail.log"
wait_for 10 grep -q 'max-src-conn 1000000' "$TMP/calls"
kill "$PID"; wait "$PID"
check "the longest cap rule is written whole" grep -q '^  pass in quick proto tcp from <mxguard-tabl_c1000000_p[0-9a-f]\{8\}> to any port { 10000 20000 30000 40000 50000 60000 61000 65535 } flags S/SA keep state (max-src-conn 1000000)$' "$TMP/calls"
grep -v '^set ports' "$TMP/cap.conf" > "$TMP/cap-noports.conf"
printf 'set firewall "pf"\n' >> "$TMP/cap-noports.conf"
"$MXGUARD" check "$TMP/cap-noports.conf" > "$TMP/cap-noports.out" 2>&1
check_eq "pf: a cap without 'set ports' is refused (78): its pass rule would open every port" "78 1" \
	"$? $(grep -c "rule cap: firewall pf caps connections with a pass rule, which must name the ports it lets through: add 'set ports'" "$TMP/cap-noports.out")"

run_with pf:table=blk
ctl ban 198.51.100.9
kill "$PID"; wait "$PID"
check_eq "pf: table=NAME names the table (and the anchor)" "pfctl -q -a blk -F all
pfctl -q -t blk -T flush
pfctl -q -t blk -T add 198.51.100.9/32
pfctl -q -k 198.51.100.9/32" "$(cat "$TMP/calls")"

# ipf: the pool is there with two stale entries from before; the start's flush removes them.
printf 'table role=ipf type=tree number=mxg\n\t{ 203.0.113.50/32; !2001:db8:bad::/48; };\n' > "$TMP/pool"
run_with ipf:pool=mxg
ctl ban 203.0.113.7 for 2s
wait_for 10 grep -q 'ippool -r -m mxg -o ipf -i 203.0.113.7/32' "$TMP/calls"	# expiry by the daemon, as for pf
kill "$PID"; wait "$PID"
check_eq "ipf: exact command lines" "ippool -l -m mxg -o ipf
ippool -l -m mxg -o ipf
ippool -r -m mxg -o ipf -i 203.0.113.50/32
ippool -r -m mxg -o ipf -i 2001:db8:bad::/48
ippool -a -m mxg -o ipf -i 203.0.113.7/32
ippool -r -m mxg -o ipf -i 203.0.113.7/32" "$(cat "$TMP/calls")"
rm "$TMP/pool"
run_with ipf
kill "$PID"; wait "$PID"
check_eq "ipf: a missing pool is created" "ippool -l -m mxguard -o ipf
ippool -A -m mxguard -o ipf -t tree" "$(head -2 "$TMP/calls")"

run_with ipfw:table=x,bogus
wait "$PID"
check_eq "an unknown backend option stops the start (exit 64)" 64 $?
grep -q "run: --firewall: ipfw: unknown option 'bogus' (options: table=NAME)" "$TMP/run.err"
check_eq "and says which option and what is allowed" 0 $?

# The configuration can choose the firewall ("set firewall"); --firewall overrides it.
printf 'include "%s/samples/mxguard.conf"\nset firewall "pf:table=cfg" remove-on-exit\n' "$PWD" > "$TMP/fw.conf"
"$MXGUARD" check "$TMP/fw.conf" > /dev/null
check_eq "set firewall: a valid backend passes mxguard check" 0 $?
rm -rf "$TMP/calls" "$TMP/st"
PATH="$TMP/bin:$PATH" "$MXGUARD" run -c "$TMP/fw.conf" --source "$TMP/mail.log" --state-dir "$TMP/st" \
	--socket "$TMP/s" > /dev/null 2>> "$TMP/run.err" &
PID=$!
ctl_up 30 "$TMP/s"
ctl ban 198.51.100.9
kill "$PID"; wait "$PID"
check_eq "set firewall ... remove-on-exit: the backend, its table and the removal at exit" "pfctl -q -a cfg -F all
pfctl -q -t cfg -T flush
pfctl -q -t cfg -T add 198.51.100.9/32
pfctl -q -k 198.51.100.9/32
pfctl -q -a cfg -F all
pfctl -q -t cfg -T flush" "$(cat "$TMP/calls")"
printf '# a comment\nset firewall "ipfw:bogus"\n' > "$TMP/bad.conf"
"$MXGUARD" check "$TMP/bad.conf" 2> "$TMP/check.err"
check_eq "set firewall with a bad option: mxguard check fails (78)" 78 $?
check_eq "... with FILE:LINE:COL and the reason" \
	"$TMP/bad.conf:2:14: ipfw: unknown option 'bogus' (options: table=NAME)" "$(cat "$TMP/check.err")"
printf 'set firewall "iptabels"\n' > "$TMP/bad.conf"
"$MXGUARD" run -c "$TMP/bad.conf" --source "$TMP/mail.log" --state-dir "$TMP/st" 2> "$TMP/check.err"
check_eq "an unknown backend in the configuration stops mxguard run (78)" 78 $?
grep -q "^$TMP/bad.conf:1:14: unknown firewall backend 'iptabels'" "$TMP/check.err"
check_eq "... with FILE:LINE:COL" 0 $?

# A missing firewall command is reported, not fatal.
rm "$TMP/bin/ipfw"
run_with ipfw
ctl ban 198.51.100.10
kill -0 "$PID"
check_eq "a failing firewall command does not stop the daemon" 0 $?
kill "$PID"; wait "$PID"
grep -q "command failed (not found): ipfw -q table mxguard add 198.51.100.10/32" "$TMP/run.err"
check_eq "and is reported with its command line" 0 $?
finish
