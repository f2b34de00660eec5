#!/usr/bin/env bash
# test_fw_nft.sh - nftables enforcement with real packets (fw_packets.sh).
BACKEND=nftables TOOLS="nft ping" WHAT="table exists" SHAPES=1 PORTS=1 CONNS=1
fwstate() { ip netns exec "$SRV" nft list ruleset; }
fwexists() { ip netns exec "$SRV" nft list table inet mxguard; }
fwreset() { ip netns exec "$SRV" nft flush table inet mxguard; }
. "$(dirname "$0")/fw_packets.sh"
