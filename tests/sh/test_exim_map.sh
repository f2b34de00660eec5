#!/usr/bin/env bash
# test_exim_map.sh - the Exim host lists (--map-file exim:PATH) against a
# real Exim: Debian's Exim 4.96, unpacked and run in a network namespace
# with its own configuration and users (mta_real.sh). The ACL snippet of
# docs/MAPS.md is used as is; a client under each action gets that action
# from Exim. The clients are addresses of the one client namespace, each
# chosen by swaks --li. Documentation addresses only.
. "$(dirname "$0")/lib.sh" || exit 1
. "$(dirname "$0")/mta_real.sh" || exit 1
mr_init exim
# 203.0.113.110 (the pair's own client address) to .115: one client per
# action and one under none; .121: inside the banned prefix
MR_CLI_EXTRA="203.0.113.111 203.0.113.112 203.0.113.113 203.0.113.114 203.0.113.115 203.0.113.121" mr_net exim
MXPID=
mr_at_exit '[ -n "$MXPID" ] && kill "$MXPID" 2> /dev/null; wait 2> /dev/null'
H=$TMP/hosts	# mxguard writes $H.reject, $H.defer, $H.discard, $H.hold, $H.tarpit

# mxguard writes the host lists (the files exist before Exim's first lookup).
touch "$TMP/mail.log"
"$MXGUARD" run -c samples/mxguard.conf --source "$TMP/mail.log" --state-dir "$TMP/st" --socket "$TMP/s" \
	--map-file "exim:$H" > /dev/null 2> "$TMP/run.err" &
MXPID=$!
ctl_up 30 "$TMP/s"
ctl() { "$MXGUARD" ctl --socket "$TMP/s" "$@" > /dev/null; }
mr_wait 2 test -e "$H.tarpit"

# -q30m: the daemon as Debian starts it, with a queue runner (the held
# message must stay frozen in the queue all the same)
MR_EXIM_ACL=$(mr_exim_map_acl "$H") MR_EXIM_QUEUE=30m mr_start exim || finish
pass "Exim listens in its namespace"	# (mr_launch waited for port 25 in LISTEN)

ctl ban 203.0.113.110 for 1h reject
ctl ban 203.0.113.111 for 1h defer
ctl ban 203.0.113.112 for 1h tarpit
ctl ban 203.0.113.113 for 1h discard
ctl ban 203.0.113.115 for 1h hold
ctl ban 203.0.113.120/29 for 1h	# a prefix (a block is a reject for the MTA)
in_lists() {
	grep -qF 203.0.113.110 "$H.reject" && grep -qF 203.0.113.111 "$H.defer" && grep -qF 203.0.113.112 "$H.tarpit" &&
		grep -qF 203.0.113.113 "$H.discard" && grep -qF 203.0.113.115 "$H.hold" && grep -qF 203.0.113.120 "$H.reject"
}
wait_for 10 in_lists	# every list rewritten
check_eq "reject: Exim answers 550 with the rule's name" "<** 550 Rejected by mxguard rule manual" "$(mr_send exim 203.0.113.110)"
check_eq "a prefix covers its clients" "<** 550 Rejected by mxguard rule manual" "$(mr_send exim 203.0.113.121)"
check_eq "defer: Exim answers 451" "<** 451 Deferred by mxguard rule manual, try again later" "$(mr_send exim 203.0.113.111)"
t0=$(date +%s%N)
r=$(mr_send exim 203.0.113.112)
t=$(( ($(date +%s%N) - t0) / 1000000 ))
check "tarpit: the RCPT waits 5 s, then goes on (${t} ms: $r)" test "$t" -ge 5000 -a "$(echo "$r" | cut -c1-8)" = "<-  221 "
check_eq "discard: accepted, then dropped" "<-  221 mx.example.com closing connection" "$(mr_send exim 203.0.113.113)"
check_eq "hold: accepted ..." "<-  221 mx.example.com closing connection" "$(mr_send exim 203.0.113.115)"
check "... and frozen in Exim's queue, not delivered" sh -c "grep -l '^-frozen' '${MR_DIR[exim]}/spool/input/'*-H"
check_eq "a client under no action delivers" "<-  221 mx.example.com closing connection" "$(mr_send exim 203.0.113.114)"
ctl unban 203.0.113.110
wait_for 10 not grep -qw 203.0.113.110 "$H.reject"
check_eq "unban: the rewritten list lets it through" "<-  221 mx.example.com closing connection" "$(mr_send exim 203.0.113.110)"
delivered=$(grep -c '^Received: ' "${MR_DIR[exim]}/mail/postmaster" 2> /dev/null)
check_eq "delivered: the tarpitted, the clean and the unbanned client's messages (not the discarded)" 3 "$delivered"
check "no temporary file is left behind" sh -c "! ls '$TMP'/hosts.*.mxguard-new 2> /dev/null"
finish
