#!/usr/bin/env bash
# test_cluster.sh - decisions shared between three `mxguard run` nodes through
# a real redis-server (cluster/, docs/CLUSTER.md).
#
# Everything runs in a network namespace of its own (unshare -n: only its
# loopback; nothing of the host's network is touched). Redis keeps its
# stream in an append-only file, as a cluster's Redis should. Checked:
#   (a) a harvest at node A is decided there and enforced at B and C (their
#       maps), listed by their `ctl decisions` with origin A, in well under a
#       second; nobody publishes it again (one stream entry);
#   - `ctl ban` at B reaches A and C; `ctl unban` at C releases it at A and B;
#   (c) Redis killed mid-run: A goes on deciding and enforcing alone, says
#       the link is down and what waits; when Redis is back the decision
#       reaches B and C, each once;
#   (f) kill -9 of a node whose outbox holds an unpublished decision (Redis
#       stopped): after its restart the decision is published and applied
#       everywhere exactly once, even though the first attempt reached Redis
#       too (receivers drop repeats by node and number);
#   - a malformed entry written into the stream by hand is skipped and
#     counted, the nodes live on;
#   - a node that joins late learns the decisions still in force, but not
#     one on an address it trusts.
# Test addresses are from 198.51.100.0/24 and 203.0.113.0/24.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cluster_nodes.sh"
for tool in redis-server redis-cli jq rrdtool python3; do
	command -v "$tool" > /dev/null || skip_all "$tool is not installed (./run test installs redis-server, redis-tools)"
done
own_netns CLUSTER_NS

trap cluster_cleanup EXIT
start_redis --appendonly yes || { failt "redis-server answers on 127.0.0.1:$RPORT" "$(tail -5 "$TMP/redis.log")"; finish; }

cat > "$TMP/node.conf" <<EOF
set cluster "redis://127.0.0.1:$RPORT"
rule "dha" {
    on rcpt_unknown
    when distinct to >= 5 within 1h
    do block for 1h
}
rule "bot-helo" {
    on rcpt_unknown
    where helo matches "^win-"
    by helo
    when distinct client >= 2 within 1h
    do reject for 1h
}
EOF
# on_all KEY ORIGIN NODE...: every NODE lists KEY from ORIGIN
on_all() {
	local k=$1 o=$2 n
	shift 2
	for n; do has "$n" "$k" "$o" || { echo "$n lacks $k from $o:"; ctl "$n" --json decisions; return 1; }; done
}
# gone_at KEY NODE...: no NODE lists KEY
gone_at() { local k=$1 n; shift; for n; do [ "$(count "$n" "$k")" = 0 ] || return 1; done; }
# cl_is NODE JQ: NODE's status .cluster satisfies the jq test
cl_is() { status "$1" | jq -e ".cluster | $2" > /dev/null; }
for n in A B C; do start $n; done
check "the nodes say they share" grep -q "node A shares its decisions through Redis" "$TMP/err.A"
wait_for 20 cl_is C .up
check_eq "status: the cluster link is up, node named" "true C" "$(status C | jq -r '"\(.cluster.up) \(.cluster.node)"')"

# (a) a harvest at A
t0=$(date +%s%N)
rcpts 203.0.113.50 6 >> "$TMP/A.log"
wait_for 20 has C 203.0.113.50 A
t1=$(date +%s%N)
wait_for 20 has B 203.0.113.50 A
check "A decided the harvest itself" has A 203.0.113.50 null
check "B enforces it, listed with its origin" has B 203.0.113.50 A
check "C too ($(( (t1 - t0) / 1000000 )) ms from the log line to C's decision, via A's tick)" has C 203.0.113.50 A
wait_for 10 grep -q '203.0.113.50' "$TMP/map.C"
check "... through C's map file, like its own decisions" grep -qE '^203\.0\.113\.50(/32)?[[:space:]]' "$TMP/map.C"
check_eq "C's text listing says where it came from" 1 "$(ctl C decisions | grep -c '203.0.113.50 .* from A')"
check_eq "nobody publishes it again: one entry in the stream" 1 "$(redis-cli -p "$RPORT" XLEN mxguard:decisions)"
check "B prints the remote decision with its origin" \
	sh -c "jq -e 'select(.key == \"203.0.113.50\" and .origin == \"A\")' '$TMP/out.B' > /dev/null"

# ctl ban and unban go round too
ctl B ban 198.51.100.77 for 2h > /dev/null
wait_for 20 has A 198.51.100.77 B
wait_for 20 has C 198.51.100.77 B
check "ctl ban at B reaches A and C" on_all 198.51.100.77 B A C
ctl C unban 198.51.100.77 > /dev/null
wait_for 20 gone_at 198.51.100.77 A B
check_eq "ctl unban at C releases it at A and B" "0 0 0" \
	"$(count A 198.51.100.77) $(count B 198.51.100.77) $(count C 198.51.100.77)"
check "B's decision log has A's harvest ban as the cluster's, naming node A" \
	grep -q '"event":"ban","key":"203.0.113.50".*"rule":"dha".*"by":"cluster","node":"A"' "$TMP/st.B/decisions.log"
check "A's has C's release as the cluster's, naming node C" \
	grep -q '"event":"unban","key":"198.51.100.77","released":1,"by":"cluster","node":"C"' "$TMP/st.A/decisions.log"

# (c) Redis killed mid-run
kill -9 "$REDIS"; wait "$REDIS" 2> /dev/null; REDIS=
rcpts 203.0.113.51 6 >> "$TMP/A.log"
wait_for 20 has A 203.0.113.51 null
check "Redis down: A still decides alone" has A 203.0.113.51 null
wait_for 20 cl_is A '.backlog == 1 and (.up | not)'
check_eq "... and says the link is down, one decision to publish" "false 1" \
	"$(status A | jq -r '"\(.cluster.up) \(.cluster.backlog)"')"
# (while Redis is away the link is down or, between retries, connecting: either is "not up")
check "... in the text status too" grep -Eq 'cluster (down|connecting) .*1 to publish' <<< "$(ctl A status)"
start_redis --appendonly yes || failt "redis-server starts again"
wait_for 30 has B 203.0.113.51 A
wait_for 30 has C 203.0.113.51 A
check "Redis back: the decision reaches B and C" on_all 203.0.113.51 A B C
check_eq "... each once, and the earlier ones are still known (append-only file)" "1 1 1" \
	"$(count B 203.0.113.51) $(count C 203.0.113.51) $(count C 203.0.113.50)"
wait_for 20 cl_is A '.backlog == 0'
check_eq "A's backlog is empty" 0 "$(status A | jq -r .cluster.backlog)"

# (f) kill -9 of a node with an unpublished decision
kill -STOP "$REDIS"
rcpts 203.0.113.52 6 >> "$TMP/A.log"
wait_for 20 has A 203.0.113.52 null
check_eq "Redis stopped: A's decision waits in its outbox" 1 "$(status A | jq -r .cluster.backlog)"
kill -9 "${PID[A]}"; wait "${PID[A]}" 2> /dev/null
kill -CONT "$REDIS"
start A
wait_for 30 has B 203.0.113.52 A
wait_for 30 has C 203.0.113.52 A
check "after kill -9 and a restart, A's decision reaches B and C" on_all 203.0.113.52 A B C
sleep 1	# (a second entry from the first attempt, if Redis took it, has been read by now)
check_eq "... each once, though the stream may hold it twice ($(redis-cli -p "$RPORT" XLEN mxguard:decisions) entries)" "1 1" \
	"$(count B 203.0.113.52) $(count C 203.0.113.52)"

# A decision on a HELO name goes round too (kind helo), enforced where the rule exists
for ip in 198.51.100.31 198.51.100.32; do
	printf 'Nov 19 10:01:00 mx1 postfix/smtpd[41]: NOQUEUE: reject: RCPT from unknown[%s]: 550 5.1.1 <v1@example.org>: Recipient address rejected: User unknown in local recipient table; from=<x@example.net> to=<v1@example.org> proto=ESMTP helo=<win-3RD8XKQ2LTM>\n' "$ip"
done >> "$TMP/A.log"
wait_for 20 has C win-3rd8xkq2ltm A
check "a decision on a HELO name at A reaches B and C" on_all win-3rd8xkq2ltm A B C
check_eq "... one stream entry, of kind helo" "helo" \
	"$(redis-cli -p "$RPORT" XRANGE mxguard:decisions - + | grep -A1 -x kind | tail -1)"
printf 'set cluster "redis://127.0.0.1:%s"\n' "$RPORT" > "$TMP/e.conf"
start E "$TMP/e.conf"
wait_for 30 sh -c "'$MXGUARD' ctl --socket '$TMP/s.E' --json status | jq -e '.cluster.no_rule >= 1' > /dev/null"
check_eq "a node without rule bot-helo does not enforce it (counted as no_rule), said" "0 1" \
	"$(count E win-3rd8xkq2ltm) $(status E | jq -r .cluster.no_rule)"
check "... with the reason" grep -q "decided reject on helo win-3rd8xkq2ltm by rule bot-helo, which this node has not" "$TMP/err.E"
check "... while it takes the client decisions" has E 203.0.113.50 A
kill "${PID[E]}"; wait "${PID[E]}"; unset "PID[E]"

# A malformed entry: skipped, counted, nobody dies.
redis-cli -p "$RPORT" XADD mxguard:decisions '*' v 1 node X seq 1 op decide key 'not-an-address' rule r \
	action block ts 1 until 99999999999 > /dev/null
wait_for 20 cl_is B '.malformed == 1'
check_eq "a malformed entry is skipped and counted" "1 1" \
	"$(status B | jq -r .cluster.malformed) $(status C | jq -r .cluster.malformed)"
check "and it says why" grep -q "stream entry .*key: not an address or prefix; skipped" "$TMP/err.B"
for n in A B C; do check "node $n is alive" kill -0 "${PID[$n]}"; done

# A node that joins late learns what is still in force; it trusts 198.51.100.0/24, where A bans one.
ctl A ban 198.51.100.88 for 1h > /dev/null
{ cat "$TMP/node.conf"; printf 'table <ours> { 198.51.100.0/24 }\ntrust <ours>\nset report-dir "%s"\n' "$TMP/rep.D"; } \
	> "$TMP/d.conf"
start D "$TMP/d.conf"
wait_for 30 has D 203.0.113.52 A
late_knows() { on_all 203.0.113.50 A D && on_all 203.0.113.51 A D && on_all 203.0.113.52 A D; }
check "a late node learns the decisions in force" late_knows
check_eq "... but not the ban that was lifted" 0 "$(count D 198.51.100.77)"
wait_for 20 cl_is D '.refused_trusted == 2'
check_eq "a remote decision on an address D trusts is not enforced there (counted: this and B's old ban, said)" "0 2" \
	"$(count D 198.51.100.88) $(status D | jq -r .cluster.refused_trusted)"
check "... with the reason" grep -q "node A decided block on 198.51.100.88, which holds a trusted address here" "$TMP/err.D"
check "while the other nodes enforce it" on_all 198.51.100.88 A B C
# D reports (set report-dir): the decisions it received are among its bans in force (the RRD's
# bans gauge, row by row as D's own log moves on), though D decided none of them
nd=$(ctl D --json decisions | jq -s length)
for m in 05 06 07; do
	printf 'Nov 19 10:%s:00 mx1 postfix/smtpd[42]: connect from unknown[203.0.113.90]\n' "$m" >> "$TMP/D.log"
done
wait_for 20 sh -c "[ \"\$('$MXGUARD' ctl --socket '$TMP/s.D' --json status | jq -r .lines)\" = 3 ]"
kill "${PID[D]}"; wait "${PID[D]}"
last=$(rrdtool last "$TMP/rep.D/mxguard.rrd")
rrdtool fetch "$TMP/rep.D/mxguard.rrd" MAX -r 60 -s $((last - 180)) -e "$last" > "$TMP/fetch.D" 2>&1
check_eq "a reporting node counts the decisions it received among its bans in force ($nd)" "$nd" \
	"$(python3 -c 'import sys; sys.path.insert(0, sys.argv[2])
from report_rows import fetch_rows
head, rows = fetch_rows(sys.argv[1])
print(*sorted({int(v[head.index("bans")]) for v in rows.values() if v[head.index("bans")] is not None}))' \
		"$TMP/fetch.D" "$(dirname "$0")" 2>&1)"
start D "$TMP/d.conf"

for n in A B C D; do
	kill "${PID[$n]}"; wait "${PID[$n]}"
	check_eq "node $n exits cleanly" 0 $?
	unset "PID[$n]"
done
finish
