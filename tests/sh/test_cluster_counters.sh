#!/usr/bin/env bash
# test_cluster_counters.sh - "scope cluster" rules counted across three
# `mxguard run` nodes in a real redis-server (cluster/counters.c,
# docs/CLUSTER.md "Counting across nodes").
#
# Everything runs in a network namespace of its own (unshare -n: only its
# loopback). Each node follows its own log. Checked:
#   (b) a harvest spread over A, B and C (5 + 5 + 4 unknown recipients)
#       stays under every node's own count but reaches the scope cluster
#       rule's threshold of 12: decided once, by one node, enforced
#       at all three; a scope local rule with the same threshold decides
#       nothing;
#   - distinct means distinct across the cluster: the same 6 recipients at
#     A and at B are 6, not 12 (HyperLogLogs merged);
#   - a count rule sums the nodes' counts (the same recipient 4 times at
#     each: count 12, distinct 1);
#   - 20 harvesters at once, each at all three nodes together (15 values
#     each, threshold 12): each decided exactly once in the whole cluster,
#     however the nodes' updates meet in Redis;
#   - what is in Redis: the recipients never leave a node (fingerprints
#     under the cluster's key), the windows expire;
#   - ctl status: the counters' link, updates, round trips (batched: fewer
#     than the events);
#   - Redis gone: a scope cluster rule counts on the node alone and still
#     decides (a harvest of 12 at A); back: counting across nodes again;
#   - Redis refusing the scripts (out of memory): the node's own windows
#     judge what it refused (a harvest of 12 at A is decided), said.
# Test addresses are from 198.51.100.0/24 and 203.0.113.0/24.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cluster_nodes.sh"
for tool in redis-server redis-cli jq; do
	command -v "$tool" > /dev/null || skip_all "$tool is not installed (./run test installs redis-server, redis-tools)"
done
own_netns COUNTERS_NS

trap cluster_cleanup EXIT
start_redis --appendonly no || { failt "redis-server answers on 127.0.0.1:$RPORT" "$(tail -5 "$TMP/redis.log")"; finish; }

cat > "$TMP/node.conf" <<EOF
set cluster "redis://127.0.0.1:$RPORT"
rule "dha-cluster" {
    on rcpt_unknown
    when distinct to >= 12 within 1h
    do block for 1h
    scope cluster
}
rule "dha-local" {
    on rcpt_unknown
    when distinct to >= 12 within 1h
    do log
}
rule "rcpt-flood" {
    on rcpt_unknown
    when count >= 12 within 1h
    do block for 1h
    scope cluster
}
EOF
# unknown ADDR FIRST LAST [RCPT]: unknown recipients uFIRST..uLAST of ADDR (or RCPT each time), as Postfix logs them
unknown() {
	local i r
	for i in $(seq "$2" "$3"); do
		r=${4:-u$i@example.org}
		printf 'Nov 19 10:00:%02d mx1 postfix/smtpd[41]: NOQUEUE: reject: RCPT from unknown[%s]: 550 5.1.1 <%s>: Recipient address rejected: User unknown in local recipient table; from=<x@example.net> to=<%s> proto=ESMTP helo=<x>\n' \
			$((i % 60)) "$1" "$r" "$r"
	done
}
ready() { status "$1" | jq -e '.cluster.counters.ready' > /dev/null; }
# flushed NODE N: NODE handed at least N updates over, and Redis answered all of them
flushed() { status "$1" | jq -e --argjson n "$2" '.cluster.counters | .updates >= $n and .waiting == 0' > /dev/null; }
# decided KEY RULE: the nodes that decided KEY by RULE themselves (origin null), one name a line
decided() {
	local n
	for n in A B C; do
		ctl $n --json decisions | jq -s -e --arg k "$1" --arg r "$2" \
			'any(.[]; .key == $k and .rule == $r and .origin == null)' > /dev/null && echo $n
	done
}
# everywhere KEY RULE: all three list it
everywhere() {
	local n
	for n in A B C; do
		ctl $n --json decisions | jq -s -e --arg k "$1" --arg r "$2" 'any(.[]; .key == $k and .rule == $r)' \
			> /dev/null || return 1
	done
}
for n in A B C; do start $n; done
for n in A B C; do wait_for 20 ready $n; done
check_eq "status: the counters' link is up at every node" "true true true" \
	"$(for n in A B C; do status $n | jq -r .cluster.counters.ready; done | xargs)"

# (b) a harvest spread over A, B, C: 5 + 5 + 4 unknown recipients (14: two above the threshold, as
# HyperLogLog may count one value fewer now and then; every node's own count far below it)
# (each node's updates in Redis before the next node's events: then C's are the ones that cross)
unknown 203.0.113.60 1 5 >> "$TMP/A.log"
wait_for 20 flushed A 10	# (5 events, 2 scope cluster rules)
unknown 203.0.113.60 6 10 >> "$TMP/B.log"
wait_for 20 flushed B 10
unknown 203.0.113.60 11 14 >> "$TMP/C.log"
wait_for 20 everywhere 203.0.113.60 dha-cluster
check "a harvest spread over three nodes (5 + 5 + 4) is decided by the scope cluster rule, enforced at all three" \
	everywhere 203.0.113.60 dha-cluster
check_eq "... decided once, by one node (the one whose update crossed)" 1 "$(decided 203.0.113.60 dha-cluster | wc -l)"
read -r who value <<< "$(decided 203.0.113.60 dha-cluster) $(jq -r 'select(.key == "203.0.113.60" and .rule == "dha-cluster") | .value' "$TMP/out.C")"
check "... by C, whose 4 made it cross, with the cluster's count ($who, $value of 14 distinct)" \
	test "$who" = C -a "${value:-0}" -ge 12 -a "${value:-0}" -le 14
check_eq "no node's own count reached 12: the scope local rule decided nothing" "" \
	"$(cat "$TMP/out.A" "$TMP/out.B" "$TMP/out.C" | jq -r 'select(.rule == "dha-local") | .key')"
wait_for 10 grep -q '203.0.113.60' "$TMP/map.A"
check "A enforces it through its map" grep -qE '^203\.0\.113\.60(/32)?[[:space:]]' "$TMP/map.A"
check_eq "the rcpt count rule (14 events in all) decided too, once" 1 "$(decided 203.0.113.60 rcpt-flood | wc -l)"

# distinct across the cluster: the same 6 at A and B are 6
unknown 203.0.113.61 1 6 >> "$TMP/A.log"
unknown 203.0.113.61 1 6 >> "$TMP/B.log"
wait_for 20 flushed A 20
wait_for 20 flushed B 20
check_eq "the same 6 recipients at A and at B are 6 distinct: no dha-cluster decision" "" \
	"$(decided 203.0.113.61 dha-cluster)"
check_eq "... but 12 events: rcpt-flood decides, once" 1 "$(decided 203.0.113.61 rcpt-flood | wc -l)"

# a count across nodes: the same recipient 4 times at each node
unknown 198.51.100.62 1 4 same@example.org >> "$TMP/A.log"
unknown 198.51.100.62 1 4 same@example.org >> "$TMP/B.log"
unknown 198.51.100.62 1 4 same@example.org >> "$TMP/C.log"
wait_for 20 everywhere 198.51.100.62 rcpt-flood
check "one recipient 4 times at each node: the count rule decides (12 events in the cluster)" \
	everywhere 198.51.100.62 rcpt-flood
check_eq "... once" 1 "$(decided 198.51.100.62 rcpt-flood | wc -l)"
check_eq "... and distinct counts one value: no harvest" "" "$(decided 198.51.100.62 dha-cluster)"

# 20 harvesters at once at all three nodes: each decided exactly once
for h in $(seq 1 20); do
	unknown "198.51.100.$((100 + h))" 1 5 >> "$TMP/A.x"
	unknown "198.51.100.$((100 + h))" 6 10 >> "$TMP/B.x"
	unknown "198.51.100.$((100 + h))" 11 15 >> "$TMP/C.x"
done
cat "$TMP/A.x" >> "$TMP/A.log" & w1=$!
cat "$TMP/B.x" >> "$TMP/B.log" & w2=$!
cat "$TMP/C.x" >> "$TMP/C.log" & w3=$!
wait $w1 $w2 $w3
all_twenty() { [ "$(ctl C --json decisions | jq -r 'select(.rule == "dha-cluster" and (.key | startswith("198.51.100.1"))) | .key' | sort -u | wc -l)" = 20 ]; }
wait_for 30 all_twenty
check "20 harvesters spread over the three nodes at once: all 20 decided" all_twenty
for n in A B C; do wait_for 20 flushed $n 0; done	# (every reply in: a second decision would be made by now)
once=$(for h in $(seq 1 20); do decided "198.51.100.$((100 + h))" dha-cluster | wc -l; done | sort | uniq -c | xargs)
check_eq "... each exactly once in the whole cluster (how many nodes decided each: count x nodes)" "20 1" "$once"
check_eq "... and every node enforces all 20" "20 20 20" \
	"$(for n in A B C; do ctl $n --json decisions | jq -r 'select(.rule == "dha-cluster" and (.key | startswith("198.51.100.1"))) | .key' | sort -u | wc -l; done | xargs)"

# what is in Redis
check_eq "no recipient is in Redis (fingerprints only)" 0 \
	"$(redis-cli -p "$RPORT" --scan --pattern '*' | while read -r k; do redis-cli -p "$RPORT" --raw dump "$k"; done | grep -ac 'example.org')"
check "the cluster's key is there, 32 hex digits" grep -qxE '[0-9a-f]{32}' <<< "$(redis-cli -p "$RPORT" get mxguard:key)"
check_eq "a window is named by its rule and key" 1 "$(redis-cli -p "$RPORT" exists mxguard:w:dha-cluster:203.0.113.61)"
ttl=$(redis-cli -p "$RPORT" ttl mxguard:w:dha-cluster:203.0.113.61)
check "the windows expire (TTL $ttl s: the window and two buckets, 1h + 12 min)" test "$ttl" -gt 3000 -a "$ttl" -le 4320
# Emptied at the crossing; C's lines read after the one that crossed (a loaded machine reads them in two
# ticks) count afresh, as a local window does after a decision: at most those 2 may be there.
after=0
for k in $(redis-cli -p "$RPORT" --scan --pattern 'mxguard:w:dha-cluster:203.0.113.60:*'); do
	after=$((after + $(redis-cli -p "$RPORT" pfcount "$k")))
done
check "a crossed window is emptied (203.0.113.60's: $after distinct counted since, at most C's 2 after the crossing)" \
	test "$after" -le 2

# the status: batched updates
read -r upd calls rtt <<< "$(status A | jq -r '.cluster.counters | "\(.updates) \(.calls) \(.round_trips)"')"
check "status: A handed $upd updates over in $calls script calls and $rtt round trips (fewer round trips than updates)" \
	test "$rtt" -gt 0 -a "$rtt" -lt "$upd" -a "$calls" -le "$upd"
check_eq "status: no errors, nothing dropped" "0 0" "$(status A | jq -r '.cluster.counters | "\(.errors) \(.dropped)"')"

# Redis gone: the rule counts on the node alone
kill -9 "$REDIS"; wait "$REDIS" 2> /dev/null; REDIS=
notready() { ! ready A; }
wait_for 20 notready
unknown 203.0.113.63 1 12 >> "$TMP/A.log"
wait_for 20 has A 203.0.113.63 null
check "Redis down: a harvest of 12 at A alone is still decided there (the rule's own window)" has A 203.0.113.63 null
check_eq "... by the scope cluster rule" "A" "$(decided 203.0.113.63 dha-cluster | xargs)"
start_redis --appendonly no || failt "redis-server starts again"
wait_for 30 ready A
wait_for 30 ready C
check "Redis back (empty): the counters are ready again" ready A
u0=$(status A | jq .cluster.counters.updates)
unknown 203.0.113.64 1 7 >> "$TMP/A.log"
wait_for 20 flushed A $((u0 + 14))
unknown 203.0.113.64 8 14 >> "$TMP/C.log"
wait_for 20 everywhere 203.0.113.64 dha-cluster
check "... and count across nodes again (7 at A + 7 at C)" everywhere 203.0.113.64 dha-cluster

# Redis refusing the scripts (out of memory), last (the rules then count locally for 10 s, which nothing
# after this waits for): the events it refused are judged by the node's own windows
redis-cli -p "$RPORT" config set maxmemory-policy noeviction > /dev/null
redis-cli -p "$RPORT" config set maxmemory 1 > /dev/null
unknown 203.0.113.65 1 12 >> "$TMP/A.log"
wait_for 20 has A 203.0.113.65 null
check "Redis out of memory: a harvest of 12 at A alone is decided there (the rule's own window judges what Redis refused)" \
	has A 203.0.113.65 null
check "... and A says why" grep -q "cluster counters: OOM .*count on this node alone" "$TMP/err.A"

for n in A B C; do
	kill "${PID[$n]}"; wait "${PID[$n]}"
	check_eq "node $n exits cleanly" 0 $?
	unset "PID[$n]"
done
finish
