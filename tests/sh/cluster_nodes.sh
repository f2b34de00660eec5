# cluster_nodes.sh - what the cluster tests say to their nodes, sourced after
# lib.sh. Node NAME answers `mxguard ctl` on $TMP/s.NAME.

RPORT=$((20000 + RANDOM % 40000))
REDIS=
declare -A PID	# node name (or a server's) -> its process
# start_redis [ARGS...]: a redis-server on 127.0.0.1:$RPORT (files in $TMP/redis, no snapshots), ARGS added; waits until it answers
start_redis() {
	mkdir -p "$TMP/redis"
	redis-server --port "$RPORT" --bind 127.0.0.1 --save '' --dir "$TMP/redis" --daemonize no "$@" \
		>> "$TMP/redis.log" 2>&1 &
	REDIS=$!
	wait_for 20 redis-cli -p "$RPORT" ping
}
# (the EXIT trap of the tests that use start_redis)
cluster_cleanup() {
	for n in "${!PID[@]}"; do kill -9 "${PID[$n]}" 2> /dev/null; done
	[ -n "$REDIS" ] && { kill -CONT "$REDIS"; kill -9 "$REDIS"; } 2> /dev/null
	wait 2> /dev/null
	rm -rf "$TMP"
}
# start NODE [CONFIG]: mxguard run NODE beside its own log $TMP/NODE.log, its map file $TMP/map.NODE; waits for its socket
start() {
	touch "$TMP/$1.log"
	"$MXGUARD" run -c "${2:-$TMP/node.conf}" --node "$1" --source "$TMP/$1.log" --state-dir "$TMP/st.$1" \
		--socket "$TMP/s.$1" --map-file "cidr:$TMP/map.$1" >> "$TMP/out.$1" 2>> "$TMP/err.$1" &
	PID[$1]=$!
	ctl_up 30 "$TMP/s.$1"
}

# ctl NODE ARGS...: mxguard ctl of that node
ctl() { local n=$1; shift; "$MXGUARD" ctl --socket "$TMP/s.$n" "$@"; }
# has NODE KEY ORIGIN: NODE lists a decision in force on KEY from ORIGIN ("null": its own)
has() { ctl "$1" --json decisions | jq -s -e --arg k "$2" --arg o "$3" \
	'any(.[]; .key == $k and ((.origin // "null") == $o))' > /dev/null; }
# count NODE KEY: how many decisions in force NODE lists on KEY
count() { ctl "$1" --json decisions | jq -r --arg k "$2" 'select(.key == $k) | .key' | wc -l; }
status() { ctl "$1" --json status; }
# rcpts ADDR N: N unknown recipients of ADDR, as Postfix logs them (one line each)
rcpts() {
	local i
	for i in $(seq 1 "$2"); do
		printf 'Nov 19 10:00:%02d mx1 postfix/smtpd[41]: NOQUEUE: reject: RCPT from unknown[%s]: 550 5.1.1 <u%d@example.org>: Recipient address rejected: User unknown in local recipient table; from=<x@example.net> to=<u%d@example.org> proto=ESMTP helo=<x>\n' \
			"$i" "$1" "$i" "$i"
	done
}
