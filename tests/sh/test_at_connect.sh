#!/usr/bin/env bash
# test_at_connect.sh - prevention at the first connection: the socketmap
# answers a client that has done nothing yet from its reputation (the
# at-connect policy), from memory. First through Postfix's own socketmap
# client (postmap -q) for every action, Sendmail's access map, trusted
# clients and the strongest-action rule; then a real Postfix in a network
# namespace rejects a high-risk client at its first RCPT while a clean one
# is delivered — with no decision taken, since the client did nothing.
. "$(dirname "$0")/lib.sh"
command -v postmap > /dev/null || skip_all "postmap missing (Postfix not installed)"
mkdir -p "$TMP/feeds"
postmap_conf "$TMP/pf"
printf '203.0.113.0/25\n' > "$TMP/feeds/drop.txt"
printf 'prefix,risk,spam,vol\n198.51.100.50,7,,\n198.51.100.60,2,95,\n2001:db8:bad::/48,10,,\n' > "$TMP/feeds/vendor.csv"
cat > "$TMP/mxguard.conf" << CONF
include "$PWD/samples/mxguard.conf"
table <partners> { 203.0.113.9 }
trust <partners>
feed "drop" { file "feeds/drop.txt" format list risk 10 }
feed "vendor" { file "feeds/vendor.csv" format csv }
at-connect reject where rep.risk >= 9
at-connect defer where rep.risk >= 7
at-connect tarpit where rep.spam >= 90
CONF
touch "$TMP/mail.log"
"$MXGUARD" run -c "$TMP/mxguard.conf" --source "$TMP/mail.log" --state-dir "$TMP/st" --socket "$TMP/s" \
	--socketmap "$TMP/map" > "$TMP/dec" 2> "$TMP/err" &
PID=$!
cleanup() { kill "$PID" 2> /dev/null; [ -n "${MXPID:-}" ] && kill "$MXPID" 2> /dev/null; }
trap 'cleanup; rm -rf "$TMP"' EXIT
ctl_up 30 "$TMP/s"
q() { postmap -c "$TMP/pf" -q "$2" "socketmap:unix:$TMP/map:$1" 2> /dev/null || echo "(not found)"; }

check_eq "a client in DROP is rejected at its first lookup, naming the reputation" \
	"REJECT 5.7.1 Rejected by mxguard rule reputation" "$(q client 203.0.113.5)"
check_eq "IPv6" "REJECT 5.7.1 Rejected by mxguard rule reputation" "$(q client 2001:db8:bad:3::1)"
check_eq "risk 7: deferred" "DEFER 4.7.1 Deferred by mxguard rule reputation, try again later" "$(q client 198.51.100.50)"
check_eq "spam 95: tarpitted" "sleep 5" "$(q client 198.51.100.60)"
check_eq "a client nobody knows: not found" "(not found)" "$(q client 198.51.100.1)"
check_eq "a trusted client inside a DROP prefix: never answered" "(not found)" "$(q client 203.0.113.9)"
check_eq "Sendmail's access map gets the same answer in its words" "ERROR:5.7.1:550 Rejected by mxguard rule reputation" \
	"$(q access Connect:203.0.113.5)"
"$MXGUARD" ctl --socket "$TMP/s" ban 198.51.100.50 for 1h > /dev/null
check_eq "a decision stronger than the reputation's answer wins" "REJECT 5.7.1 Rejected by mxguard rule manual" \
	"$(q client 198.51.100.50)"
check_eq "the daemon counts its at-connect answers" 6 \
	"$("$MXGUARD" ctl --socket "$TMP/s" --json status | jq .at_connect_answers)"
check_eq "no decision was taken for them" "" "$(grep reputation "$TMP/dec")"
kill "$PID"; wait "$PID"
check_eq "clean exit" 0 $?
printf 'at-connect reject where rep.risk >= 9\n' > "$TMP/nomap.conf"
"$MXGUARD" run -c "$TMP/nomap.conf" --source "$TMP/mail.log" --state-dir "$TMP/st2" --socket "$TMP/s2" \
	> /dev/null 2> "$TMP/err2" &
PID=$!
ctl_up 30 "$TMP/s2"
check "at-connect without a socketmap is said to do nothing" grep -q "at-connect answers through the socketmap only" "$TMP/err2"
kill "$PID"; wait "$PID"

# --- A real Postfix: the high-risk client is refused at its first RCPT, the clean one delivered.
for tool in postfix swaks ip; do
	command -v "$tool" > /dev/null || skip_all "$tool missing (./run test installs Postfix and swaks)"
done
getent passwd postfix > /dev/null || skip_all "no postfix user"
MX=mxg-mx$$
ip netns add "$MX" 2> /dev/null || skip_all "cannot create network namespaces here"
CLIENTS=(leg atk)
declare -A ADDR=([leg]=198.51.100.10 [atk]=203.0.113.66)
cleanup() {
	kill "$PID" 2> /dev/null
	[ -n "${MXPID:-}" ] && kill "$MXPID" 2> /dev/null
	pf postfix stop > /dev/null 2>&1
	wait 2> /dev/null
	for c in "${CLIENTS[@]}"; do ip netns del "mxg-$c$$" 2> /dev/null; done
	ip netns del "$MX" 2> /dev/null
}
bridge_net "$MX" mxg- "${CLIENTS[@]}"
on() { local c=$1; shift; ip netns exec "mxg-$c$$" "$@"; }
. "$(dirname "$0")/postfix_ns.sh"
postfix_start "$MX" "smtpd_client_restrictions = check_client_access socketmap:unix:$TMP/map2:client"
check "Postfix listens in the MX namespace" sh -c "ip netns exec '$MX' ss -ltn | grep -q ':25 '"
touch "$TMP/maillog"
ip netns exec "$MX" "$MXGUARD" run -c "$TMP/mxguard.conf" --source "$TMP/maillog" --state-dir "$TMP/st3" \
	--socket "$TMP/s3" --socketmap "$TMP/map2" > "$TMP/dec3" 2> "$TMP/run3.err" &
MXPID=$!
ctl_up 30 "$TMP/s3"
send() {
	on "$1" swaks -s "$(MXIP "$1")" --to "$2" --from sender@example.net --helo "$1.example.net" --timeout 20 \
		> "$TMP/swaks.$1" 2>&1
	grep -m1 '^<\*\*' "$TMP/swaks.$1" || grep '^<-' "$TMP/swaks.$1" | tail -1
}
delivered() { find "$TMP/mail/$1/new" -type f 2> /dev/null | wc -l; }
check_eq "the high-risk client is refused at its first RCPT by Postfix itself" \
	"<** 554 5.7.1 <unknown[203.0.113.66]>: Client host rejected: Rejected by mxguard rule reputation" \
	"$(send atk alice@example.org)"
send leg bob@example.org > /dev/null
wait_for 20 count_at_least 1 delivered bob
check_eq "the clean client's message is delivered" 1 "$(delivered bob)"
check_eq "nothing reached alice" 0 "$(delivered alice)"
check_eq "no decision was taken: the client had done nothing" "" "$(cat "$TMP/dec3")"
finish
