#!/usr/bin/env bash
# test_fw_iptables.sh - iptables/ip6tables through libiptc (legacy tables), one rule per client,
# enforcement with real packets (fw_packets.sh), limit and tarpit included.
BACKEND=iptables:rules TOOLS="iptables-legacy ip6tables-legacy ping" WHAT="chain exists in both families" SHAPES=1 PORTS=1 CONNS=1
fwstate() { ip netns exec "$SRV" sh -c 'iptables-legacy -S; ip6tables-legacy -S'; }
fwexists() { ip netns exec "$SRV" sh -c 'iptables-legacy -S mxguard && ip6tables-legacy -S mxguard && iptables-legacy -S INPUT | grep -q -- "-j mxguard"'; }
fwreset() { ip netns exec "$SRV" sh -c 'iptables-legacy -F mxguard; ip6tables-legacy -F mxguard'; }
. "$(dirname "$0")/fw_packets.sh"
