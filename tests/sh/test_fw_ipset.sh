#!/usr/bin/env bash
# test_fw_ipset.sh - ipset + iptables enforcement with real packets (fw_packets.sh).
BACKEND=ipset TOOLS="ipset iptables" WHAT="sets exist" PORTS=1 CONNS=1
fwstate() { ip netns exec "$SRV" sh -c 'iptables -S; ip6tables -S; ipset list -n'; }
fwexists() { ip netns exec "$SRV" ipset list -n mxguard4; }
fwreset() { ip netns exec "$SRV" sh -c 'for s in $(ipset list -n | grep "^mxguard"); do ipset flush "$s"; done'; }
. "$(dirname "$0")/fw_packets.sh"
