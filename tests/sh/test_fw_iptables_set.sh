#!/usr/bin/env bash
# test_fw_iptables_set.sh - iptables through libiptc with ipset there: blocks
# go to hash:net sets matched by one rule per family, limit and tarpit stay
# rules; enforcement with real packets (fw_packets.sh).
BACKEND=iptables TOOLS="iptables-legacy ip6tables-legacy ipset ping" WHAT="chain and sets exist" SHAPES=1 PORTS=1 CONNS=1
fwstate() { ip netns exec "$SRV" sh -c 'iptables-legacy -S; ip6tables-legacy -S; ipset list -n'; }
fwexists() {
	ip netns exec "$SRV" sh -c 'iptables-legacy -S mxguard | grep -q -- "--match-set mxguard4 src -j DROP" &&
		ip6tables-legacy -S mxguard | grep -q -- "--match-set mxguard6 src -j DROP" && ipset list -n mxguard4'
}
fwreset() { ip netns exec "$SRV" sh -c 'ipset flush mxguard4; ipset flush mxguard6'; }
. "$(dirname "$0")/fw_packets.sh"
