#!/usr/bin/env bash
# test_sendmail_map.sh - the Sendmail access database (--map-file
# sendmail:PATH) against a real Sendmail: Debian's Sendmail 8.17, unpacked
# and run in a network namespace with its own configuration (mta_real.sh),
# with FEATURE(access_db) on the file mxguard keeps; then the same Sendmail
# with FEATURE(access_db) on mxguard's socket map; last, the file again
# under --user nobody: refused while Sendmail's TrustedUser is not nobody
# (Sendmail would ignore the database), honoured once it is. The clients
# are addresses of the one client namespace, each chosen by swaks --li.
# Documentation addresses only.
. "$(dirname "$0")/lib.sh" || exit 1
. "$(dirname "$0")/mta_real.sh" || exit 1
mr_init sendmail
# 203.0.113.120 (the pair's own client address) to .123: one client per
# action and one under none; .125: inside the banned /30
MR_CLI_EXTRA="203.0.113.121 203.0.113.122 203.0.113.123 203.0.113.125" mr_net sendmail
MXPID=
mr_at_exit '[ -n "$MXPID" ] && kill "$MXPID" 2> /dev/null; wait 2> /dev/null'
A=$TMP/access	# the access database's text; makemap writes $A.db
# start_mxguard ARGS...: mxguard in the background (MXPID), once its control socket answers
start_mxguard() {
	"$MXGUARD" run -c samples/mxguard.conf --source "$TMP/mail.log" --state-dir "$TMP/st" --socket "$TMP/s" \
		"$@" > /dev/null 2>> "$TMP/run.err" &
	MXPID=$!
	ctl_up 30 "$TMP/s"
}
ctl() { "$MXGUARD" ctl --socket "$TMP/s" "$@" > /dev/null; }
delivered() { grep -c '^From MAILER-DAEMON' "${MR_DIR[sendmail]}/mail/postmaster" 2> /dev/null; }
delivered_ge() { [ "$(delivered)" -ge "$1" ]; }

# Sendmail's configuration first: makemap reads it.
MR_SM_MC="FEATURE(\`access_db', \`hash -T<TMPF> -o $A')dnl" mr_config sendmail || finish
# mxguard keeps $A and $A.db with the makemap it finds on PATH: here the
# unpacked package's, told where this Sendmail's configuration is (a real host has /etc/mail).
mkdir -p "$TMP/bin"
printf '#!/bin/sh\nexport LD_LIBRARY_PATH=%s\nexec %s/makemap -C %s/etc/sendmail.cf "$@"\n' \
	"$MR_LIBDIR" "$MR_R/usr/libexec/sendmail" "${MR_DIR[sendmail]}" > "$TMP/bin/makemap"
chmod 755 "$TMP/bin/makemap"
touch "$TMP/mail.log"
PATH="$TMP/bin:$PATH" start_mxguard --map-file "sendmail:$A"
mr_wait 2 test -e "$A.db"
check "the access database is built at start" test -s "$A.db"
mr_launch sendmail || finish
pass "Sendmail listens in its namespace"	# (mr_launch waited for port 25 in LISTEN)

ctl ban 203.0.113.120 for 1h reject
ctl ban 203.0.113.121 for 1h defer
ctl ban 203.0.113.122 for 1h discard
ctl ban 203.0.113.124/30 for 1h	# a prefix off an octet boundary: four Connect: keys
wait_for 10 grep -qw Connect:203.0.113.127 "$A"	# (the text is renamed into place after the database)
check_eq "reject: 550 with the rule's name" "<** 550 5.7.1 Rejected by mxguard rule manual" "$(mr_send sendmail 203.0.113.120)"
check_eq "defer: 451" "<** 451 4.7.1 Deferred by mxguard rule manual" "$(mr_send sendmail 203.0.113.121)"
check_eq "a /30 prefix covers its clients" "<** 550 5.7.1 Rejected by mxguard rule manual" "$(mr_send sendmail 203.0.113.125)"
r=$(mr_send sendmail 203.0.113.122)
check "discard: accepted, then dropped ($r)" sh -c "echo '$r' | grep -q '^<-  221'"
r=$(mr_send sendmail 203.0.113.123)
check "a client under no action delivers ($r)" sh -c "echo '$r' | grep -q '^<-  221'"
ctl unban 203.0.113.120
wait_for 10 not grep -qw Connect:203.0.113.120 "$A"
r=$(mr_send sendmail 203.0.113.120)
check "unban: the rebuilt database lets it through ($r)" sh -c "echo '$r' | grep -q '^<-  221'"
check_eq "the text beside the database is mxguard's" "Connect:203.0.113.121 ERROR:4.7.1:451 Deferred by mxguard rule manual" \
	"$(grep -m1 'Connect:203.0.113.121' "$A")"
mr_wait 5 delivered_ge 2
check_eq "delivered: the clean and the unbanned client's messages (not the discarded)" 2 "$(delivered)"

# The same Sendmail on mxguard's socketmap (FEATURE(access_db) on a socket map): no file at all.
mr_stop sendmail
kill "$MXPID"; wait "$MXPID"
start_mxguard --socketmap "$TMP/map"
MR_SM_MC="FEATURE(\`access_db', \`socket -T<TMPF> unix:$TMP/map')dnl" mr_config sendmail || finish
check "sendmail.cf now asks the socket map" grep -q "^Kaccess socket -T<TMPF> unix:$TMP/map" "${MR_DIR[sendmail]}/etc/sendmail.cf"
mr_launch sendmail || finish
ctl ban 203.0.113.123 for 1h reject
check_eq "socket map: a decision is Sendmail's at once" "<** 550 5.7.1 Rejected by mxguard rule manual" \
	"$(mr_send sendmail 203.0.113.123)"
check_eq "socket map: decisions in force before the restart too" "<** 451 4.7.1 Deferred by mxguard rule manual" \
	"$(mr_send sendmail 203.0.113.121)"
ctl unban 203.0.113.123
r=$(mr_send sendmail 203.0.113.123)
check "socket map: unban lets it through at once ($r)" sh -c "echo '$r' | grep -q '^<-  221'"

# Under --user the worker writes the access database as its user, and
# Sendmail ignores, without a word, a map that neither root nor its
# TrustedUser owns: mxguard refuses to start so, and works once Sendmail
# trusts that user (confTRUSTED_USER).
if ! getent passwd nobody > /dev/null; then
	skip "--user nobody with the access database" "no user 'nobody' here"
	finish
fi
mr_stop sendmail
kill "$MXPID"; wait "$MXPID"; MXPID=
chmod 755 "$TMP"	# the worker (nobody) goes through it to its directories
U=$TMP/u
mkdir -p "$U/maps" "$U/st" "$U/run"
chown nobody: "$U/maps" "$U/st" "$U/run"
# (exec: started in the background, $! is the daemon itself, which the test kills at its end)
ustart() {
	PATH="$TMP/bin:$PATH" MXGUARD_SENDMAIL_CF="${MR_DIR[sendmail]}/etc/sendmail.cf" exec "$MXGUARD" run \
		-c samples/mxguard.conf --source "$TMP/mail.log" --state-dir "$U/st" --socket "$U/run/s" --user nobody \
		--map-file "sendmail:$U/maps/access"
}
rc=0
(ustart) > /dev/null 2> "$TMP/user.err" || rc=$?
check_eq "--user nobody, and Sendmail's TrustedUser is not nobody: refused (78, EX_CONFIG)" 78 "$rc"
check "... saying why, and what to add to sendmail.mc" \
	grep -q "neither root nor its TrustedUser owns.*confTRUSTED_USER', \`nobody')dnl to sendmail.mc" "$TMP/user.err"
check "... before the database is written" not test -e "$U/maps/access.db"
MR_SM_MC="define(\`confTRUSTED_USER', \`nobody')dnl
FEATURE(\`access_db', \`hash -T<TMPF> -o $U/maps/access')dnl" mr_config sendmail || finish
ustart > /dev/null 2>> "$TMP/run.err" &
MXPID=$!
ctl_up 30 "$U/run/s"
mr_launch sendmail || finish
"$MXGUARD" ctl --socket "$U/run/s" ban 203.0.113.123 for 1h reject > /dev/null
wait_for 10 grep -qw Connect:203.0.113.123 "$U/maps/access"
check_eq "the database is written by the worker, as nobody" nobody "$(stat -c %U "$U/maps/access.db")"
check_eq "Sendmail with TrustedUser nobody honours it: 550" "<** 550 5.7.1 Rejected by mxguard rule manual" \
	"$(mr_send sendmail 203.0.113.123)"
finish
