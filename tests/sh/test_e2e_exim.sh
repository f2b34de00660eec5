#!/usr/bin/env bash
# test_e2e_exim.sh - the whole product against a real Exim under attack,
# as test_e2e_postfix.sh does for Postfix.
#
# Debian's Exim 4.96 (unpacked, see mta_real.sh) runs in a network
# namespace of its own (the MX, 203.0.113.1 and 198.51.100.1 on a bridge)
# with the ACL snippet of docs/MAPS.md first in its RCPT ACL, writing its
# own mainlog. mxguard runs beside it with the default policy, following
# that mainlog. Clients live in namespaces of their own on the bridge: a
# legitimate sender (198.51.100.10), a directory harvester (203.0.113.66)
# and a second harvester (203.0.113.69) for the firewall mode.
# Documentation addresses only; everything is removed at the end.
#
# Map mode (--map-file exim:PATH): the harvest (25 unknown recipients in
# one session) is detected, and the attacker's next session is refused by
# Exim itself with mxguard's message (Exim reads the host lists at each
# connection). Firewall mode (--firewall nftables, in the MX namespace): the
# second harvester cannot connect any more, the legitimate sender still
# can. The time from the first attack line in the mainlog to enforcement is
# printed for both. The legitimate sender's mail all arrives.
. "$(dirname "$0")/lib.sh" || exit 1
. "$(dirname "$0")/mta_real.sh" || exit 1
for tool in nft nc; do
	command -v "$tool" > /dev/null || skip_all "$tool missing"
done
mr_init exim
MX=mxg-exmx$$
CLIENTS=(leg atk atk2)
declare -A ADDR=([leg]=198.51.100.10 [atk]=203.0.113.66 [atk2]=203.0.113.69)
MXPID=
mr_at_exit '[ -n "$MXPID" ] && kill "$MXPID" 2> /dev/null; wait 2> /dev/null'
for c in "${CLIENTS[@]}"; do mr_at_exit "mr_ns_del mxg-ex$c$$"; done

# --- the network: a bridge in the MX namespace, one veth per client namespace
ip netns add "$MX" || skip_all "cannot create network namespaces here"
MR_SRV_NS[exim]=$MX MR_SRV_IP[exim]=203.0.113.1
bridge_net "$MX" mxg-ex "${CLIENTS[@]}"
on() { local c=$1; shift; ip netns exec "mxg-ex$c$$" "$@"; }

# --- Exim, with docs/MAPS.md's ACL snippet as is (mxguard writes $H.reject, $H.defer, ...)
H=$TMP/exim-hosts
MR_EXIM_IFACES="203.0.113.1.25 : 198.51.100.1.25"
MR_EXIM_ACL=$(mr_exim_map_acl "$H")
mr_config exim || finish
LOG=${MR_LOG[exim]} MAIL=${MR_DIR[exim]}/mail/postmaster
# (mxguard follows the mainlog from its first line: Exim, running as
# Debian-exim, appends to it)
install -o 4401 -g 4401 -m 640 /dev/null "$LOG"

# --- mxguard first: the host lists must exist before Exim's first lookup
start_mxguard() {
	ip netns exec "$MX" "$MXGUARD" run -c samples/mxguard.conf --source "$LOG" --state-dir "$TMP/st" \
		--socket "$TMP/s" --map-file "exim:$H" "$@" >> "$TMP/dec" 2>> "$TMP/run.err" &
	MXPID=$!
	ctl_up 30 "$TMP/s"
}
start_mxguard --from-start
mr_wait 5 test -e "$H.tarpit"
check "mxguard writes Exim's host lists at start" test -e "$H.reject" -a -e "$H.tarpit"
mr_launch exim || finish

# send CLIENT TO [FROM]: one message; prints the server's first error reply, else its last reply
send() {
	local c=$1 to=$2 from=${3:-sender@example.net}
	on "$c" swaks -s "$(MXIP "$c")" --to "$to" --from "$from" --helo "$c.example.net" --timeout 20 \
		> "$TMP/swaks.$c" 2>&1
	grep -m1 '^<\*\*' "$TMP/swaks.$c" || grep '^<-' "$TMP/swaks.$c" | tail -1
}
# (envelope_to_add: one Envelope-to: header per delivered message)
delivered() { grep -c '^Envelope-to: ' "$MAIL" 2> /dev/null || true; }
delivered_ge() { [ "$(delivered)" -ge "$1" ]; }

# --- the legitimate sender, before the attack
send leg postmaster@example.com legit@example.net > /dev/null
mr_wait 5 delivered_ge 1
check_eq "legitimate mail is delivered before the attack" 1 "$(delivered)"

# --- map mode: a directory harvest (25 unknown recipients in one session) from 203.0.113.66
rcpts=$(for i in $(seq 1 25); do printf 'nobody%02d@example.com,' "$i"; done)
# the harvester's refusals in the mainlog (the attack's lines)
refusals() { echo "\\[$1\\] .*rejected RCPT <[^>]*>: Unrouteable address"; }
# listed ADDR: ADDR is in the reject list Exim reads at its next connection
listed() { grep -q "^$1\(/32\)\?:" "$H.reject"; }
send atk "${rcpts%,}" harvester@example.net > /dev/null & attack=$!
enforce_latency "$LOG" "$(refusals 203.0.113.66)" listed 203.0.113.66
wait "$attack"
check "the harvest is detected (a dha decision for 203.0.113.66 on mxguard's output)" \
	grep -q '"rule":"dha","key":"203.0.113.66"' "$TMP/dec"
echo "  map mode: first attack line in the mainlog -> client in Exim's reject list: $LAT_MS ms" \
	"(from the 20th unknown recipient, the one that crosses the threshold: $LAT20_MS ms)"
echo "exim-map $LAT_MS $LAT20_MS" >> "${E2E_TIMES:-/dev/null}"
check "map mode: enforced within 1 s of the first attack line ($LAT_MS ms)" test "$LAT_OK" = 1 -a "$LAT_MS" -le 1000
check_eq "map mode: the harvester's next session is refused by Exim with mxguard's message" \
	"<** 550 Rejected by mxguard rule dha" "$(send atk postmaster@example.com harvester@example.net)"
check "... and Exim logs the refusal" grep -q "\[203.0.113.66\] .*rejected RCPT <postmaster@example.com>: Rejected by mxguard rule dha" "$LOG"

# --- firewall mode: restart with nftables; a second harvester is refused at the kernel
kill "$MXPID"; wait "$MXPID" 2> /dev/null
start_mxguard --firewall nftables --remove-on-exit
check "firewall mode: before its attack the second harvester connects" on atk2 nc -z -w 2 203.0.113.1 25
# (once dropped, its session waits for replies that never come: it is ended
# below by its PID, which is swaks' own: ip netns exec execs it)
ip netns exec "mxg-exatk2$$" swaks -s 203.0.113.1 --to "${rcpts%,}" --from harvester2@example.net \
	--helo atk2.example.net --timeout 20 > "$TMP/swaks.atk2" 2>&1 & attack=$!
# (enforced = the address is in the kernel's set; the refused connection is checked below)
enforce_latency "$LOG" "$(refusals 203.0.113.69)" ip netns exec "$MX" nft get element inet mxguard v4 '{ 203.0.113.69 }'
check "firewall mode: the second harvest is detected" grep -q '"rule":"dha","key":"203.0.113.69"' "$TMP/dec"
echo "  firewall mode: first attack line in the mainlog -> client dropped by the kernel: $LAT_MS ms" \
	"(from the 20th unknown recipient: $LAT20_MS ms)"
echo "exim-firewall $LAT_MS $LAT20_MS" >> "${E2E_TIMES:-/dev/null}"
check "firewall mode: enforced within 1 s of the first attack line ($LAT_MS ms)" test "$LAT_OK" = 1 -a "$LAT_MS" -le 1000
on atk2 nc -z -w 2 203.0.113.1 25
check_eq "firewall mode: the second harvester cannot connect any more" 1 "$(($? != 0))"
check "firewall mode: the legitimate sender still connects" on leg nc -z -w 2 198.51.100.1 25
kill "$attack" 2> /dev/null; wait "$attack" 2> /dev/null

# --- the legitimate sender after the attacks; every message arrived
send leg postmaster@example.com legit@example.net > /dev/null
mr_wait 5 delivered_ge 2
check_eq "every legitimate message arrived (before and after the attacks)" 2 "$(delivered)"
check "the legitimate sender was never decided on" sh -c "! grep -q '198.51.100.10' '$TMP/dec'"
kill "$MXPID"; wait "$MXPID" 2> /dev/null; MXPID=
check_eq "--remove-on-exit took mxguard's table out of the MX" "" "$(ip netns exec "$MX" nft list tables)"
finish
