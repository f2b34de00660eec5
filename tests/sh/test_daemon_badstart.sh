#!/usr/bin/env bash
# test_daemon_badstart.sh - a start that fails touches nothing: with a
# daemon running (nftables, in a network namespace this test creates, with
# a ban in its set; a control socket and a socketmap), second starts with a
# bad option, a bad map path, a bad firewall, or the running daemon's own
# sockets all fail, and leave its table, its set and its socket files as
# they were; a start whose firewall cannot be set up removes the socket it
# made.
. "$(dirname "$0")/lib.sh"
for tool in nft ip; do
	command -v "$tool" > /dev/null || skip_all "$tool missing"
done
NS=mxg-bad$$
ip netns add "$NS" 2> /dev/null || skip_all "cannot create a network namespace"
trap 'kill "$PID" 2> /dev/null; wait 2> /dev/null; ip netns del "$NS"; rm -rf "$TMP"' EXIT
touch "$TMP/mail.log"
ctl() { "$MXGUARD" ctl --socket "$TMP/s" "$@"; }
set_v4() { ip netns exec "$NS" nft list set inet mxguard v4 2> /dev/null | grep -o '203\.0\.113\.[0-9]*' | xargs; }
ip netns exec "$NS" "$MXGUARD" run -c samples/mxguard.conf --source "$TMP/mail.log" --state-dir "$TMP/st" \
	--socket "$TMP/s" --socketmap "$TMP/sm" --firewall nftables > /dev/null 2> "$TMP/a.err" &
PID=$!
for _ in $(seq 200); do ctl status > /dev/null 2>&1 && break; nap 0.05; done
ctl ban 203.0.113.7 > /dev/null
check_eq "the running daemon's set holds its ban" "203.0.113.7" "$(set_v4)"
table0=$(ip netns exec "$NS" nft list table inet mxguard | sed 's/ expires [0-9hms]*//')
inode() { stat -c %i "$1" 2> /dev/null; }
s0=$(inode "$TMP/s") sm0=$(inode "$TMP/sm")

# bad start: NAME, expected exit code, then its run options
bad() {
	local name=$1 code=$2
	shift 2
	# A start that is not refused would run on: it is stopped after 60 s (exit 124). (A refused
	# start exits at once; under ASan its leak check of the map's table alone takes 7 s.)
	timeout 60 ip netns exec "$NS" "$MXGUARD" run -c samples/mxguard.conf --source "$TMP/mail.log" \
		--state-dir "$TMP/st2" "$@" > /dev/null 2> "$TMP/b.err"
	local rc=$?
	check_eq "$name: refused (exit $code)" "$code" "$rc"
	[ "$rc" = "$code" ] || sed 's/^/  /' "$TMP/b.err"
	check_eq "$name: the running daemon's table and set are untouched" "$table0" \
		"$(ip netns exec "$NS" nft list table inet mxguard 2>&1 | sed 's/ expires [0-9hms]*//')"
	check_eq "$name: its sockets are the same files" "$s0 $sm0" "$(inode "$TMP/s") $(inode "$TMP/sm")"
	check "$name: and it still answers" ctl status
}
bad "an unknown option" 64 --socket "$TMP/s2" --firewall nftables --bogus
bad "a bad --since" 64 --socket "$TMP/s2" --firewall nftables --since soon
bad "a bad firewall option" 64 --socket "$TMP/s2" --firewall nftables:bogus
bad "a map file in a missing directory" 73 --socket "$TMP/s2" --firewall nftables --map-file "cidr:$TMP/nodir/access"
bad "a bad map file type" 64 --socket "$TMP/s2" --firewall nftables --map-file "bogus:$TMP/access"
bad "the running daemon's control socket" 69 --socket "$TMP/s" --firewall nftables
bad "the running daemon's socketmap" 69 --socket "$TMP/s2" --socketmap "$TMP/sm" --firewall nftables
bad "a firewall that cannot be set up" 69 --socket "$TMP/s2" --socketmap "$TMP/sm2" --firewall exec:/bin/false
check_eq "a failed firewall set-up leaves no socket of its own behind" "" "$(ls "$TMP/s2" "$TMP/sm2" 2> /dev/null)"
check_eq "nothing was created in the new state directory's place by refused options" "" \
	"$(ls "$TMP/st2" 2> /dev/null | grep -v '^state.db')"
check_eq "the ban is still in the set" "203.0.113.7" "$(set_v4)"
kill "$PID"; wait "$PID"
check_eq "the running daemon then stops cleanly" 0 $?

# What no enforcement of a daemon can carry out is said at its start, never
# silent: with nftables and the socketmap, only the default policy's global
# defer (nothing a firewall or an MTA lookup matches); with nothing to
# enforce, that once; a HELO rule's block with only a map file.
check_eq "firewall and socketmap: the one rule said is the global one" \
	"backscatter" "$(sed -n 's/.*run: rule "\([^"]*\)": .*only recorded$/\1/p' "$TMP/a.err" | xargs)"
check "... saying why" grep -q "rule \"backscatter\": 'defer' keyed by global has nothing a firewall or an MTA lookup can match" "$TMP/a.err"
startlog() {	# NAME ARGS...: a daemon until it follows its log, its messages in $TMP/NAME.err
	local n=$1
	shift
	"$MXGUARD" run --source "$TMP/mail.log" --state-dir "$TMP/st-$n" --socket "$TMP/s-$n" "$@" > /dev/null 2> "$TMP/$n.err" &
	local p=$!
	wait_for 20 grep -q "run: following" "$TMP/$n.err"
	kill "$p"; wait "$p"
}
startlog bare -c samples/mxguard.conf
check_eq "no firewall, socketmap or map file: said once" 1 "$(grep -c 'no firewall, socketmap or map file: decisions are printed and saved, and nothing enforces them' "$TMP/bare.err")"
check_eq "... and no rule one by one" 0 "$(grep -c 'run: rule "' "$TMP/bare.err")"
printf 'rule "helo-flood" {\n on connect\n by helo\n when count >= 5 within 1m\n do block for 1h\n}\n' > "$TMP/helo.conf"
mkdir -p "$TMP/maps"
startlog helo -c "$TMP/helo.conf" --map-file "cidr:$TMP/maps/access.cidr"
check "a HELO rule's block with only a map file: said" \
	grep -q "rule \"helo-flood\": 'block' keyed by helo takes effect only through the socketmap" "$TMP/helo.err"
finish
