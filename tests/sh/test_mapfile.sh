#!/usr/bin/env bash
# test_mapfile.sh - the Postfix access table file mode (--map-file): a cidr
# table and a hash table (built by Postfix's postmap), read back with
# Postfix's own lookups; atomic rewrites on ban, unban and expiry.
. "$(dirname "$0")/lib.sh"
command -v postmap > /dev/null || skip_all "postmap missing (Postfix not installed)"
postmap_conf "$TMP/pf"
export MAIL_CONFIG=$TMP/pf	# postmap (ours and the daemon's) reads this configuration
touch "$TMP/mail.log"
PID=
trap 'kill "$PID" 2> /dev/null; rm -rf "$TMP"' EXIT
start() {
	"$MXGUARD" run -c samples/mxguard.conf --source "$TMP/mail.log" --state-dir "$TMP/st.$1" --socket "$TMP/s" \
		--map-file "$1:$TMP/access.$1" > /dev/null 2>> "$TMP/err" &
	PID=$!
	ctl_up 30 "$TMP/s"
}
ctl() { "$MXGUARD" ctl --socket "$TMP/s" "$@" > /dev/null; }
# q TYPE KEY: what Postfix finds in the table (waits a moment for the rewrite)
q() {
	local r
	for _ in $(seq 20); do
		r=$(postmap -q "$2" "$1:$TMP/access.$1" 2> /dev/null) && break
		r="(not found)"
		nap 0.05
	done
	echo "$r"
}

start cidr
ctl ban 203.0.113.8 for 2s
ctl ban 203.0.113.7 for 1h
ctl ban 2001:db8:bad::/48 for 1h defer
ctl ban 198.51.100.0/23 for 1h tarpit
check_eq "cidr: a block is a REJECT naming the rule" "REJECT 5.7.1 Rejected by mxguard rule manual" "$(q cidr 203.0.113.7)"
check_eq "cidr: an IPv6 prefix covers its addresses" "DEFER 4.7.1 Deferred by mxguard rule manual, try again later" \
	"$(q cidr 2001:db8:bad:1::9)"
check_eq "cidr: a /23 covers both its /24s" "sleep 5|sleep 5" "$(q cidr 198.51.100.1)|$(q cidr 198.51.101.254)"
ctl unban 2001:db8:bad::/48
wait_for 10 not grep -qF 2001:db8:bad "$TMP/access.cidr"
check_eq "cidr: unban rewrites the table" "(not found)" "$(q cidr 2001:db8:bad:1::9)"
wait_for 10 not grep -qw 203.0.113.8 "$TMP/access.cidr"	# its 2 s are over
check_eq "cidr: an ended decision leaves the table (and only it)" "(not found)|REJECT 5.7.1 Rejected by mxguard rule manual" \
	"$(q cidr 203.0.113.8)|$(q cidr 203.0.113.7)"
check_eq "cidr: no temporary file or directory is left behind" "" "$(ls -A "$TMP" | grep -e mxguard-new -e '^\.mxguard-')"
kill "$PID"; wait "$PID"

start hash
ctl ban 203.0.113.7 for 1h
ctl ban 198.51.100.0/23 for 1h reject
ctl ban 2001:db8:bad::/48 for 1h defer
ctl ban 2001:db8:ba::/63 for 1h discard
check_eq "hash: an address" "REJECT 5.7.1 Rejected by mxguard rule manual" "$(q hash 203.0.113.7)"
check_eq "hash: a /23 is spelled as its two /24 keys" "REJECT 5.7.1 Rejected by mxguard rule manual|REJECT 5.7.1 Rejected by mxguard rule manual" \
	"$(q hash 198.51.100)|$(q hash 198.51.101)"
check_eq "hash: an IPv6 /48 is the key Postfix asks for" "DEFER 4.7.1 Deferred by mxguard rule manual, try again later" \
	"$(q hash 2001:db8:bad)"
check_eq "hash: a /63 is its two /64 keys" "DISCARD mxguard rule manual|DISCARD mxguard rule manual|(not found)" \
	"$(q hash 2001:db8:ba:0)|$(q hash 2001:db8:ba:1)|$(q hash 2001:db8:ba:2)"
check "hash: the database is next to the text" test -s "$TMP/access.hash.db"
check_eq "hash: postmap's temporaries are gone too" "" "$(ls -A "$TMP" | grep -e mxguard-new -e '^\.mxguard-')"
ctl ban 203.0.113.124/30 for 1h
ctl ban 203.0.113.126 for 1h hold
check_eq "hash: overlapping keys (a /30 spelled out, an address in it): one key, the strongest action" \
	"REJECT 5.7.1 Rejected by mxguard rule manual|1" \
	"$(q hash 203.0.113.126)|$(grep -c '^203.0.113.126 ' "$TMP/access.hash")"
kill "$PID"; wait "$PID"
check_eq "clean exit" 0 $?

# A table that cannot be written (postmap fails while $TMP/postmap.fail
# exists): the old file stays, the decisions it lacks show as pending, the
# rewrite is retried with backoff and succeeds once postmap works again.
mkdir -p "$TMP/bin"
printf '#!/bin/sh
[ -e "%s/postmap.fail" ] && exit 1
exec %s "$@"
' "$TMP" "$(command -v postmap)" > "$TMP/bin/postmap"
chmod +x "$TMP/bin/postmap"
touch "$TMP/postmap.fail"
oldpath=$PATH
export PATH=$TMP/bin:$PATH
start hash
export PATH=$oldpath
ctl ban 203.0.113.50 for 1h
pending() { "$MXGUARD" ctl --socket "$TMP/s" --json decisions | grep -c '"pending":true'; }
wait_for 10 count_at_least 1 pending
check "a failed rewrite: the decisions in force show as pending ($(pending))" count_at_least 1 pending
check_eq "... the map is said not to be ok" 1 "$("$MXGUARD" ctl --socket "$TMP/s" --json status | grep -c '"map_ok":false')"
check_eq "... and the old table is still there, without the new ban" "(not found)" "$(q hash 203.0.113.50)"
rm "$TMP/postmap.fail"
wait_for 20 eval '[ "$(pending)" = 0 ]'
check_eq "postmap works again: the rewrite is retried, nothing pending" 0 "$(pending)"
check_eq "... and the new ban is in the table" "REJECT 5.7.1 Rejected by mxguard rule manual" "$(q hash 203.0.113.50)"
kill "$PID"; wait "$PID"
check_eq "clean exit" 0 $?
finish
