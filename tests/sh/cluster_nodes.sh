# cluster_nodes.sh - what the cluster tests say to their nodes, sourced after
# lib.sh. Node NAME answers `mxguard ctl` on $TMP/s.NAME.

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
