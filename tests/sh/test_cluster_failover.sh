#!/usr/bin/env bash
# test_cluster_failover.sh - a Redis Sentinel failover under two mxguard
# nodes (docs/CLUSTER.md): a master, one replica and one sentinel, real
# (redis-server, redis-sentinel), in a network namespace of the test's own.
#
# The nodes find the master through the sentinel (sentinel://). Checked:
#   - a decision at A reaches B through the master;
#   - the master killed (SIGKILL): while the sentinel promotes the replica,
#     A decides again; both nodes follow the new master without anyone's
#     help, and the decision taken around the failover reaches B, once;
#   - nothing published before the failover is lost: A counts an entry as
#     published only once a replica has it (WAIT), so the promoted replica
#     holds every entry A was told about;
#   - the old master restarted comes back as a replica (the sentinel
#     reconfigures it) and is not written to;
#   - a scope cluster rule after all that: 4 + 4 recipients at A and B are
#     decided (by B), counted on the new master.
# Test addresses are from 203.0.113.0/24.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cluster_nodes.sh"
for tool in redis-server redis-sentinel redis-cli jq; do
	command -v "$tool" > /dev/null || skip_all "$tool is not installed (./run test installs redis-server, redis-sentinel, redis-tools)"
done
own_netns FAILOVER_NS

P1=$((20000 + RANDOM % 20000)) P2=$((40001 + RANDOM % 10000)) PS=$((50002 + RANDOM % 10000))
mkdir -p "$TMP/r1" "$TMP/r2" "$TMP/s"
declare -A PID
cleanup() {
	for n in "${!PID[@]}"; do kill -9 "${PID[$n]}" 2> /dev/null; done
	wait 2> /dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT
redis() {	# NAME PORT [ARGS...]
	local n=$1 p=$2
	shift 2
	redis-server --port "$p" --bind 127.0.0.1 --save '' --appendonly yes --dir "$TMP/$n" --daemonize no \
		"$@" >> "$TMP/$n.log" 2>&1 &
	PID[$n]=$!
}
redis r1 "$P1"
redis r2 "$P2" --replicaof 127.0.0.1 "$P1"
wait_for 20 sh -c "redis-cli -p $P2 INFO replication | grep -q 'master_link_status:up'" ||
	{ failt "the replica follows the master" "$(tail -5 "$TMP/r2.log")"; finish; }
# (down-after 2 s: at 500 ms, Debian's sentinel (Redis 7.0) took live masters for down -
# its log: +sdown, a failover, -sdown, again, about every 1.2 s from the start - so the
# test's story held by luck, and once, with four tests at once, it did not)
cat > "$TMP/s/sentinel.conf" <<EOF
port $PS
bind 127.0.0.1
sentinel monitor mxg 127.0.0.1 $P1 1
sentinel down-after-milliseconds mxg 2000
sentinel failover-timeout mxg 3000
sentinel parallel-syncs mxg 1
EOF
redis-sentinel "$TMP/s/sentinel.conf" > "$TMP/sentinel.log" 2>&1 &
PID[s]=$!
wait_for 20 sh -c "redis-cli -p $PS SENTINEL get-master-addr-by-name mxg | grep -q $P1" ||
	{ failt "the sentinel watches the master" "$(tail -5 "$TMP/sentinel.log")"; finish; }

cat > "$TMP/node.conf" <<EOF
set cluster "sentinel://127.0.0.1:$PS/mxg"
rule "dha" {
    on rcpt_unknown
    when distinct to >= 5 within 1h
    do block for 1h
}
rule "spread" {
    on rcpt_unknown
    where to matches "^[ab][0-9]"
    when distinct to >= 6 within 1h
    do block for 1h
    scope cluster
}
EOF
start() {
	touch "$TMP/$1.log"
	"$MXGUARD" run -c "$TMP/node.conf" --node "$1" --source "$TMP/$1.log" --state-dir "$TMP/st.$1" \
		--socket "$TMP/s.$1" >> "$TMP/out.$1" 2>> "$TMP/err.$1" &
	PID[$1]=$!
	ctl_up 30 "$TMP/s.$1"
}
up() { ctl "$1" --json status | jq -e '.cluster.up' > /dev/null; }
start A
start B
wait_for 20 up A
wait_for 20 up B
check "the nodes found the master through the sentinel" grep -q "connected to Redis 127.0.0.1:$P1" "$TMP/err.A"
rcpts 203.0.113.60 6 >> "$TMP/A.log"
wait_for 20 has B 203.0.113.60 A
check "before the failover: A's decision reaches B" has B 203.0.113.60 A
# (B reads the master, maybe before the replica has it; A counts it published only once WAIT says a replica has it)
acked() { ctl A --json status | jq -e '.cluster.backlog == 0 and .cluster.published >= 1' > /dev/null; }
wait_for 20 acked
check_eq "... and once A counts it published, the replica has it (A waited for it)" 1 "$(redis-cli -p "$P2" XLEN mxguard:decisions)"

{ kill -9 "${PID[r1]}"; wait "${PID[r1]}"; } 2> /dev/null; unset "PID[r1]"
rcpts 203.0.113.61 6 >> "$TMP/A.log"	# decided while there is no master
wait_for 20 has A 203.0.113.61 null
check "the master killed: A decides alone meanwhile" has A 203.0.113.61 null
wait_for 30 sh -c "redis-cli -p $PS SENTINEL get-master-addr-by-name mxg | grep -q $P2"
check "the sentinel promotes the replica" sh -c "redis-cli -p $PS SENTINEL get-master-addr-by-name mxg | grep -q $P2"
wait_for 30 has B 203.0.113.61 A
check "both nodes follow the new master; the decision taken around the failover reaches B" has B 203.0.113.61 A
check "A says where it is now" grep -q "connected to Redis 127.0.0.1:$P2" "$TMP/err.A"
check_eq "... once, and nothing from before is lost (B still lists the first, once)" "1 1" \
	"$(count B 203.0.113.61) $(count B 203.0.113.60)"
check_eq "the new master's stream holds both entries" 2 "$(redis-cli -p "$P2" XLEN mxguard:decisions)"

# The old master comes back: the sentinel makes it a replica; the nodes stay with the new master.
redis r1 "$P1"
# what the nodes and the sentinel saw: the detail of a failure from here on (it happened once, in
# a CI with four tests at once on two cores, and could not be read without them)
story() {
	echo "roles: old $(redis-cli -p "$P1" ROLE 2>&1 | head -1), new $(redis-cli -p "$P2" ROLE 2>&1 | head -1)"
	echo "sentinel names: $(redis-cli -p "$PS" SENTINEL get-master-addr-by-name mxg 2>&1 | xargs)"
	echo "sentinel's log, last lines:"; tail -12 "$TMP/sentinel.log"
	for n in A B; do echo "node $n's cluster lines, last:"; grep "cluster" "$TMP/err.$n" | tail -6; done
}
if wait_for 60 sh -c "redis-cli -p $P1 ROLE | head -1 | grep -q slave"; then
	pass "the old master restarted is made a replica"
else
	failt "the old master restarted is made a replica" "$(story)"
fi
rcpts 203.0.113.62 6 >> "$TMP/A.log"
wait_for 20 has B 203.0.113.62 A
check "after it: decisions still go round, through the new master" has B 203.0.113.62 A
check_eq "... written there (3 entries), and replicated to the old one" "3 3" \
	"$(redis-cli -p "$P2" XLEN mxguard:decisions) $(wait_for 10 sh -c "[ \$(redis-cli -p $P1 XLEN mxguard:decisions) = 3 ]"; redis-cli -p "$P1" XLEN mxguard:decisions)" \
	"$(story)"
# a scope cluster rule after the failover: its windows are on the new master (the script loaded there again)
cready() { ctl "$1" --json status | jq -e '.cluster.counters.ready and .cluster.counters.waiting == 0' > /dev/null; }
wait_for 30 cready A
wait_for 30 cready B
# (4 + 4 for a threshold of 6: HyperLogLog may count one fewer now and then)
rcpts 203.0.113.63 4 | sed 's/<u\([0-9]*\)@/<a\1@/g' >> "$TMP/A.log"
aflushed() { ctl A --json status | jq -e '.cluster.counters.updates >= 4 and .cluster.counters.waiting == 0' > /dev/null; }
wait_for 20 aflushed
rcpts 203.0.113.63 4 | sed 's/<u\([0-9]*\)@/<b\1@/g' >> "$TMP/B.log"
wait_for 20 has A 203.0.113.63 B
check "after the failover, a harvest of 4 + 4 at A and B is decided by the scope cluster rule (at B), enforced at A" \
	has A 203.0.113.63 B
check "... counted on the new master, which holds the cluster's key" sh -c "redis-cli -p $P2 GET mxguard:key | grep -qxE '[0-9a-f]{32}'"
for n in A B; do
	kill "${PID[$n]}"; wait "${PID[$n]}"
	check_eq "node $n exits cleanly" 0 $?
	unset "PID[$n]"
done
finish
