# fw_packets.sh - a firewall backend's enforcement, proven with real packets
# between two network namespaces this test creates (and removes).
# Documentation addresses only; the host's own firewall is never touched.
# Sourced by test_fw_BACKEND.sh, which sets first:
#   BACKEND    the --firewall name
#   TOOLS      commands that must exist
#   fwstate    prints the namespace's firewall as text (ns in $SRV)
#   fwexists   checks that mxguard's table or sets exist
#   fwreset    empties mxguard's sets, as a firewall reset would
. "$(dirname "$0")/lib.sh"
for tool in $TOOLS ip nc; do
	command -v "$tool" > /dev/null || { echo "  skipped: $tool missing"; finish; }
done
SRV=mxg-s$$ CLI=mxg-c$$
if ! ip netns add "$SRV" 2> /dev/null; then echo "  skipped: cannot create network namespaces here"; finish; fi
ip netns add "$CLI"
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2> /dev/null; done
	wait 2> /dev/null
	ip netns del "$SRV" 2> /dev/null
	ip netns del "$CLI" 2> /dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT
ip link add "vs$$" type veth peer name "vc$$"
ip link set "vs$$" netns "$SRV"
ip link set "vc$$" netns "$CLI"
ip -n "$SRV" addr add 198.51.100.1/24 dev "vs$$"
ip -n "$CLI" addr add 198.51.100.2/24 dev "vc$$"
ip -n "$SRV" -6 addr add 2001:db8:1::1/64 dev "vs$$" nodad
ip -n "$CLI" -6 addr add 2001:db8:1::2/64 dev "vc$$" nodad
for ns in "$SRV" "$CLI"; do ip -n "$ns" link set lo up; done
ip -n "$SRV" link set "vs$$" up
ip -n "$CLI" link set "vc$$" up
ip netns exec "$SRV" nc -lk 198.51.100.1 2525 > /dev/null 2>&1 & PIDS+=($!)
ip netns exec "$SRV" nc -6 -lk 2001:db8:1::1 2525 > /dev/null 2>&1 & PIDS+=($!)
sleep 0.3
# 0 if a TCP connection from the client namespace gets through within a second
conn() { ip netns exec "$CLI" timeout 1 bash -c "exec 3<>/dev/tcp/$1/2525" 2> /dev/null; }
check "IPv4 connect works before any ban" conn 198.51.100.1
check "IPv6 connect works before any ban" conn 2001:db8:1::1
before=$(fwstate)

touch "$TMP/mail.log"
start() {
	ip netns exec "$SRV" "$MXGUARD" run -c samples/mxguard.conf --source "$TMP/mail.log" --state-dir "$TMP/st" \
		--socket "$TMP/s" --firewall "$BACKEND" "$@" > "$TMP/dec" 2>> "$TMP/run.err" &
	PID=$!
	PIDS+=($PID)
	for _ in $(seq 100); do "$MXGUARD" ctl --socket "$TMP/s" status > /dev/null 2>&1 && break; sleep 0.1; done
}
ctl() { "$MXGUARD" ctl --socket "$TMP/s" "$@"; }
start
check "mxguard's $WHAT in the namespace" fwexists
check "a running mxguard with no bans lets connections in" conn 198.51.100.1

ctl ban 198.51.100.2 > /dev/null
conn 198.51.100.1
check_eq "ban: IPv4 connections from the client are dropped" 1 "$(( $? != 0 ))"
check "the other family is untouched by an IPv4 ban" conn 2001:db8:1::1
ctl ban 2001:db8:1::/48 for 10m > /dev/null
conn 2001:db8:1::1
check_eq "an IPv6 prefix ban drops the client's /48" 1 "$(( $? != 0 ))"
ctl unban 198.51.100.2 > /dev/null
check "unban: IPv4 connections get through again" conn 198.51.100.1
ctl ban 198.51.100.2 for 2s > /dev/null
conn 198.51.100.1
check_eq "a short ban holds ..." 1 "$(( $? != 0 ))"
sleep 2.5
check "... and the kernel expires it by itself" conn 198.51.100.1

# A rule decision reaches the firewall like a manual ban: a DHA from the client's address.
for i in $(seq 1 21); do
	echo "$(date '+%b %e %H:%M:%S') mx1 postfix/smtpd[9]: NOQUEUE: reject: RCPT from unknown[198.51.100.2]: 550 5.1.1 <u$i@example.org>: Recipient address rejected: User unknown in local recipient table; from=<x@example.net> to=<u$i@example.org> proto=ESMTP helo=<x>"
done >> "$TMP/mail.log"
for _ in $(seq 30); do grep -q '"rule":"dha"' "$TMP/dec" && break; sleep 0.1; done
conn 198.51.100.1
check_eq "the dha rule's decision drops the client at the firewall" 1 "$(( $? != 0 ))"

# Restart: the blocks in force are put back.
kill "$PID"; wait "$PID" 2> /dev/null
fwreset	# as if the firewall had been reset meanwhile
check "with the table emptied the client gets through" conn 198.51.100.1
start
conn 198.51.100.1
check_eq "after a restart the bans in force are restored" 1 "$(( $? != 0 ))"
grep -q "block(s) in force put back into $BACKEND" "$TMP/run.err"
check_eq "and the daemon says so" 0 $?

# flush, then stop with --remove-on-exit: the ruleset is exactly as before.
ctl flush > /dev/null
check "flush lets the client in again" conn 198.51.100.1
kill "$PID"; wait "$PID" 2> /dev/null
start --remove-on-exit
kill "$PID"; wait "$PID" 2> /dev/null
check_eq "--remove-on-exit leaves the namespace's ruleset exactly as before" "$before" \
	"$(fwstate)"
finish
