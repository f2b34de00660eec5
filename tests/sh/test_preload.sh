#!/usr/bin/env bash
# test_preload.sh - a feed preloaded into the firewall, proven with real
# packets between two network namespaces this test creates, with each of
# the backends that keep sets (nftables, ipset, iptables; one missing is a
# skip): its entries are blocked from the start, an entry that holds a
# trusted address is never blocked, only entries above the risk asked for
# go in, the set follows the feed when the file changes (added blocked,
# removed released), the blocks come back after `ctl flush`, an entry's
# expiry becomes the firewall's own timeout (where the backend has one)
# and it is let in again then, and --remove-on-exit leaves the
# namespace's ruleset exactly as it was.
. "$(dirname "$0")/lib.sh"
for tool in ip nc python3; do
	command -v "$tool" > /dev/null || skip_all "$tool missing"
done
SRV=mxg-s$$ CLI=mxg-c$$
ip netns add "$SRV" 2> /dev/null || skip_all "cannot create network namespaces here"
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
for a in 2 3 4 5 6 9 10; do ip -n "$CLI" addr add "198.51.100.$a/24" dev "vc$$"; done
ip -n "$SRV" -6 addr add 2001:db8:1::1/64 dev "vs$$" nodad
ip -n "$CLI" -6 addr add 2001:db8:1::2/64 dev "vc$$" nodad
for ns in "$SRV" "$CLI"; do ip -n "$ns" link set lo up; done
ip -n "$SRV" link set "vs$$" up
ip -n "$CLI" link set "vc$$" up
listening() { [ "$(ip netns exec "$SRV" ss -Hltn "sport = :2525" | wc -l)" -ge 2 ]; }
# listen: the two listeners up (again, if one ended: each backend's checks start from a working path)
listen() {
	listening && return
	tcp_sink "$SRV" 198.51.100.1 2525; PIDS+=($!)
	tcp_sink "$SRV" 2001:db8:1::1 2525; PIDS+=($!)
	wait_for 10 listening
}
listen
# from ADDR: a TCP connection from that source address gets through within a second
from() {
	local dst=198.51.100.1
	[[ $1 == *:* ]] && dst=2001:db8:1::1
	ip netns exec "$CLI" nc -z -w 1 -s "$1" "$dst" 2525 2> /dev/null
}
blocked() { ! from "$1"; }
for a in 198.51.100.2 198.51.100.9 2001:db8:1::2; do
	check "$a connects before anything" from "$a"
done

# The namespace's firewall as the backend's tools show it: what --remove-on-exit must leave as it
# found it. (Not nft's view for the iptables backends: Debian's iptables is iptables-nft, which
# leaves its empty base chains behind after a rule is added and deleted, as `iptables -A; -D` by
# hand does.)
fwstate() {
	case $1 in
	nftables) ip netns exec "$SRV" nft list ruleset ;;
	*) ip netns exec "$SRV" sh -c 'iptables -S; ip6tables -S; ipset list -n' ;;
	esac 2> /dev/null
}

# preload_with BACKEND TOOL...: the whole story with --firewall BACKEND.
preload_with() {
	local b=$1 tool exp
	shift
	for tool in "$@"; do
		command -v "$tool" > /dev/null || { skip "preload with $b: $tool missing"; return; }
	done
	# The feed: .2 (risk 10), .4/31 (risk 10, but .5 is trusted), .6 (risk 3: below the preload threshold),
	# 2001:db8:1::2 (risk 9), .9 (risk 10, expires in 12 s).
	mkdir -p "$TMP/feeds"
	rm -rf "$TMP/st"
	listen
	before=$(fwstate "$b")
	exp=$(date -u -d '+12 seconds' +%Y-%m-%dT%H:%M:%SZ)
	cat > "$TMP/feeds/bl.csv" <<- EOF
	prefix,risk,spam,vol,expires
	198.51.100.2,10,,
	198.51.100.4/31,10,,
	198.51.100.6,3,,
	2001:db8:1::2,9,,
	198.51.100.9,10,,,$exp
	EOF
	cat > "$TMP/mxguard.conf" <<- CONF
	table <partners> { 198.51.100.5 }
	trust <partners>
	feed "bl" { file "feeds/bl.csv" format csv preload risk >= 8 }
	CONF
	: > "$TMP/run.err"
	touch "$TMP/mail.log"
	ip netns exec "$SRV" "$MXGUARD" run -c "$TMP/mxguard.conf" --source "$TMP/mail.log" --state-dir "$TMP/st" \
		--socket "$TMP/s" --firewall "$b" --remove-on-exit > /dev/null 2> "$TMP/run.err" &
	PID=$!
	PIDS+=($PID)
	ctl_up 30 "$TMP/s"
	wait_for 10 blocked 198.51.100.2
	check "$b: a preloaded entry is blocked from the start" blocked 198.51.100.2
	check "$b: IPv6 too" blocked 2001:db8:1::2
	check "$b: an entry that holds a trusted address is not blocked (its other address neither)" from 198.51.100.4
	check "$b: ... nor the trusted one" from 198.51.100.5
	check "$b: an entry below the preload risk is not blocked" from 198.51.100.6
	check "$b: an address of no entry connects" from 198.51.100.10
	check "$b: an entry with an expiry is blocked until then" blocked 198.51.100.9
	case $b in
	nftables) check "$b: ... with the firewall's own timeout" \
		sh -c "ip netns exec '$SRV' nft list ruleset | grep -q '198.51.100.9 timeout'" ;;
	ipset) check "$b: ... with the firewall's own timeout" \
		sh -c "ip netns exec '$SRV' ipset list | grep -q '198.51.100.9 timeout'" ;;
	*) pass "$b: (no timeout of its own: the daemon releases it at the expiry)" ;;
	esac
	check "$b: the daemon says what it preloaded" grep -q "preloaded feeds: 3 block(s) in the firewall" "$TMP/run.err"

	# The feed changes: .2 goes, .10 comes.
	sed -i 's/^198.51.100.2,10,,$/198.51.100.10,10,,/' "$TMP/feeds/bl.csv"
	wait_for 20 blocked 198.51.100.10
	check "$b: an entry added to the feed is blocked" blocked 198.51.100.10
	wait_for 10 from 198.51.100.2
	check "$b: an entry gone from the feed is released" from 198.51.100.2
	"$MXGUARD" ctl --socket "$TMP/s" flush > /dev/null
	wait_for 10 blocked 198.51.100.10
	check "$b: after ctl flush the preloaded blocks come back" blocked 198.51.100.10
	wait_for 30 from 198.51.100.9
	check "$b: the entry that expired is let in again" from 198.51.100.9
	kill "$PID"; wait "$PID"
	check_eq "$b: clean exit" 0 $?
	check_eq "$b: --remove-on-exit leaves the namespace's ruleset exactly as before" "$before" "$(fwstate "$b")"
}

preload_with nftables nft
preload_with ipset ipset iptables
preload_with iptables iptables
finish
