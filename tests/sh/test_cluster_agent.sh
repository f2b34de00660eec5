#!/usr/bin/env bash
# test_cluster_agent.sh - the MX decides, the gateway drops: `mxguard agent`
# on a gateway namespace between an attacker and an MX namespace, driven by
# the MX node's decisions through a real redis-server (docs/CLUSTER.md).
#
# Three network namespaces this test creates and removes: CLI (the
# attacker, 203.0.113.9), GW (the gateway: forwards between 203.0.113.0/24
# and 198.51.100.0/24, runs Redis and the agent with nftables on its
# forward hook) and MX (198.51.100.2: a TCP listener standing in for the
# MTA, and `mxguard run` reading the MTA's log, with no firewall of its
# own). Checked with real TCP connections from CLI to MX through GW:
#   - the attacker connects before anything;
#   - after the MX node decides a harvest, the gateway drops the
#     attacker's connections (the MX has no firewall: only the agent can);
#     another client still connects; the agent lists the decision with its
#     origin; the delay from decision to drop is printed;
#   - the agent restarted with its set emptied: it puts back what is in
#     force at start (its own state), and reads on from where it was;
#   - `ctl unban` at the MX node lets the attacker through the gateway.
# Redis has an ACL user that may touch only the stream; the MX node gives
# its password in the URL, the agent in a password-file.
. "$(dirname "$0")/lib.sh"
for tool in redis-server redis-cli jq nft ip nc python3; do
	command -v "$tool" > /dev/null || skip_all "$tool is not installed"
done
CLI=mxg-ac$$ GW=mxg-ag$$ MX=mxg-am$$
ip netns add "$GW" 2> /dev/null || skip_all "cannot create network namespaces here"
ip netns add "$CLI"
ip netns add "$MX"
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill -9 "$p" 2> /dev/null; done
	wait 2> /dev/null
	for ns in "$CLI" "$GW" "$MX"; do ip netns del "$ns" 2> /dev/null; done
	rm -rf "$TMP"
}
trap cleanup EXIT
ip link add "ac$$" type veth peer name "ga$$"
ip link add "am$$" type veth peer name "gm$$"
ip link set "ac$$" netns "$CLI"
ip link set "ga$$" netns "$GW"
ip link set "gm$$" netns "$GW"
ip link set "am$$" netns "$MX"
ip -n "$CLI" addr add 203.0.113.9/24 dev "ac$$"
ip -n "$CLI" addr add 203.0.113.10/24 dev "ac$$"
ip -n "$GW" addr add 203.0.113.1/24 dev "ga$$"
ip -n "$GW" addr add 198.51.100.1/24 dev "gm$$"
ip -n "$MX" addr add 198.51.100.2/24 dev "am$$"
for ns in "$CLI" "$GW" "$MX"; do ip -n "$ns" link set lo up; done
ip -n "$CLI" link set "ac$$" up
ip -n "$GW" link set "ga$$" up
ip -n "$GW" link set "gm$$" up
ip -n "$MX" link set "am$$" up
ip -n "$CLI" route add default via 203.0.113.1
ip -n "$MX" route add default via 198.51.100.1
ip netns exec "$GW" sysctl -qw net.ipv4.ip_forward=1
tcp_sink "$MX" 198.51.100.2 2525; PIDS+=($!)
wait_for 10 sh -c "ip netns exec '$MX' ss -Hltn 'sport = :2525' | grep -q ."
# from ADDR: a TCP connection from that source address reaches the MX within a second
from() { ip netns exec "$CLI" nc -z -w 1 -s "$1" 198.51.100.2 2525 2> /dev/null; }
blocked() { ! from "$1"; }
check "the attacker reaches the MX through the gateway before anything" from 203.0.113.9

RPORT=$((20000 + RANDOM % 40000))
mkdir -p "$TMP/redis"
# Redis with an ACL user that may touch the stream only, and no access without a password.
ip netns exec "$GW" redis-server --port "$RPORT" --bind 198.51.100.1 --save '' --appendonly yes \
	--dir "$TMP/redis" --daemonize no --protected-mode no \
	--user default off --user mxg on '>s3cr3t-pw' '~mxguard:*' +xadd +xread +ping +role +auth +select \
	--user admin on '>adm' '~*' '+@all' > "$TMP/redis.log" 2>&1 & PIDS+=($!)
rcli() { ip netns exec "$GW" redis-cli --no-auth-warning -h 198.51.100.1 -p "$RPORT" --user admin --pass adm "$@"; }
wait_for 20 rcli ping || { failt "redis-server answers" "$(tail -5 "$TMP/redis.log")"; finish; }
URL="redis://mxg:s3cr3t-pw@198.51.100.1:$RPORT"

cat > "$TMP/mx.conf" <<'EOF'
rule "dha" {
    on rcpt_unknown
    when distinct to >= 5 within 1h
    do block for 1h
}
EOF
touch "$TMP/mail.log"
ip netns exec "$MX" "$MXGUARD" run -c "$TMP/mx.conf" --cluster "$URL" --node mx1 --source "$TMP/mail.log" \
	--state-dir "$TMP/st.mx" --socket "$TMP/s.mx" > "$TMP/out.mx" 2> "$TMP/err.mx" & PIDS+=($!)
ctl_up 30 "$TMP/s.mx"
# The agent's password from a file of its own (the configuration names it, relative to itself).
printf 's3cr3t-pw\n' > "$TMP/redis.pass"
chmod 600 "$TMP/redis.pass"
printf 'set cluster "redis://mxg:@198.51.100.1:%s" password-file "redis.pass"\nset node "gw1"\n' "$RPORT" > "$TMP/gw.conf"
agent() {
	ip netns exec "$GW" "$MXGUARD" agent -c "$TMP/gw.conf" --firewall nftables:forward \
		--state-dir "$TMP/st.gw" --socket "$TMP/s.gw" > "$TMP/out.gw" 2>> "$TMP/err.gw" &
	AGENT=$!
	PIDS+=($AGENT)
	ctl_up 30 "$TMP/s.gw"
}
agent
check "the agent says it is one node of the cluster" grep -q "node gw1 shares its decisions through Redis" "$TMP/err.gw"
has_gw() { "$MXGUARD" ctl --socket "$TMP/s.gw" --json decisions | jq -s -e --arg k "$1" 'any(.[]; .key == $k and .origin == "mx1")' > /dev/null; }

for i in 1 2 3 4 5 6; do
	printf 'Nov 19 10:00:%02d mx1 postfix/smtpd[41]: NOQUEUE: reject: RCPT from unknown[203.0.113.9]: 550 5.1.1 <u%d@example.org>: Recipient address rejected: User unknown in local recipient table; from=<x@example.net> to=<u%d@example.org> proto=ESMTP helo=<x>\n' "$i" "$i" "$i"
done >> "$TMP/mail.log"
wait_for 20 grep -q '"key":"203.0.113.9"' "$TMP/out.mx"
t0=$(date +%s%N)
wait_for 20 blocked 203.0.113.9
t1=$(date +%s%N)
check "after the MX decides, the gateway drops the attacker ($(( (t1 - t0) / 1000000 )) ms from the MX's decision on stdout)" \
	blocked 203.0.113.9
check "the MX itself has no firewall rule: the drop is the gateway's" \
	sh -c "! ip netns exec '$MX' nft list ruleset | grep -q 203.0.113.9"
check "another client still gets through" from 203.0.113.10
check "the agent lists the decision with its origin" has_gw 203.0.113.9
check "... in the gateway's nftables set" sh -c "ip netns exec '$GW' nft list ruleset | grep -q 203.0.113.9"
check_eq "the agent publishes nothing (one entry in the stream: the MX's)" 1 \
	"$(rcli XLEN mxguard:decisions)"

# The agent restarted with its firewall emptied: what is in force comes back from its own state.
kill "$AGENT"; wait "$AGENT" 2> /dev/null
ip netns exec "$GW" nft flush ruleset
check "with the gateway's ruleset flushed the attacker gets through" from 203.0.113.9
agent
wait_for 20 blocked 203.0.113.9
check "the agent restarted puts back the block in force (reconciled at start)" blocked 203.0.113.9
check_eq "... without reading it twice (its stream position was saved)" 0 \
	"$("$MXGUARD" ctl --socket "$TMP/s.gw" --json status | jq -r .cluster.applied)"

# An unban at the MX lets the attacker through the gateway again.
"$MXGUARD" ctl --socket "$TMP/s.mx" unban 203.0.113.9 > /dev/null
wait_for 20 from 203.0.113.9
check "ctl unban at the MX node opens the gateway again" from 203.0.113.9
kill "$AGENT"; wait "$AGENT"
check_eq "the agent exits cleanly" 0 $?
finish
