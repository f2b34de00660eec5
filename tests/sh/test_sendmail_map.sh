#!/usr/bin/env bash
# test_sendmail_map.sh - the Sendmail access database (--map-file
# sendmail:PATH) against a real Sendmail: Debian's sendmail-bin and
# sendmail-cf, unpacked (apt-get download + dpkg -x, not installed: it
# would replace Postfix), with FEATURE(access_db) on the file mxguard
# keeps, run in a network namespace with its own configuration (files
# bind-mounted only inside its mount namespace). Documentation addresses.
. "$(dirname "$0")/lib.sh"
for tool in swaks ip dpkg apt-get; do
	command -v "$tool" > /dev/null || { echo "  skipped: $tool missing"; finish; }
done
chmod 755 "$TMP"
R=$TMP/root B=$TMP/sm
unpack_debs "$R" sendmail-bin sendmail-cf m4 libwrap0
SMBIN=$R/usr/libexec/sendmail
chmod g-s "$SMBIN/sendmail" "$SMBIN/mailstats" 2> /dev/null	# setgid would make ld.so ignore LD_LIBRARY_PATH
export LD_LIBRARY_PATH=$R/usr/lib/x86_64-linux-gnu
missing=$(missing_libs "$SMBIN/sendmail" "$SMBIN/makemap")
[ -z "$missing" ] || { echo "  skipped: sendmail needs $missing (./run test installs it)"; finish; }
MX=mxg-sm$$ CLI=mxg-smc$$
if ! ip netns add "$MX" 2> /dev/null; then echo "  skipped: cannot create network namespaces here"; finish; fi
ip netns add "$CLI"
MXPID=
cleanup() {
	[ -n "$MXPID" ] && kill "$MXPID" 2> /dev/null
	[ -s "$B/run/sendmail.pid" ] && kill "$(head -1 "$B/run/sendmail.pid")" 2> /dev/null
	wait 2> /dev/null
	ip netns del "$CLI" 2> /dev/null
	ip netns del "$MX" 2> /dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT
ip -n "$MX" link add eth0 type veth peer name eth0 netns "$CLI"
ip -n "$MX" addr add 203.0.113.20/24 dev eth0
for a in 120 121 122 123 125; do ip -n "$CLI" addr add "203.0.113.$a/24" dev eth0; done
for ns in "$MX" "$CLI"; do ip -n "$ns" link set lo up; ip -n "$ns" link set eth0 up; done

mkdir -p "$B/etc" "$B/run" "$B/mqueue" "$B/mail" "$B/bin"
chmod 700 "$B/mqueue"
cp /etc/passwd "$B/etc/passwd"
cp /etc/group "$B/etc/group"
echo "postmaster:x:4412:4412:the mailbox:/nonexistent:/usr/sbin/nologin" >> "$B/etc/passwd"
echo "postmaster:x:4412:" >> "$B/etc/group"
printf '127.0.0.1 localhost\n203.0.113.20 mx.example.com mx\n' > "$B/etc/hosts"
printf 'hosts\tfiles\naliases\tfiles\n' > "$B/etc/service.switch"
printf 'MAILER-DAEMON: postmaster\n' > "$B/etc/aliases"
touch "$B/run/statistics" "$B/etc/local-host-names" "$B/etc/relay-domains"
cp "$R/etc/mail/helpfile" "$B/etc/helpfile" 2> /dev/null || touch "$B/etc/helpfile"
cat > "$B/bin/deliver" << EOF
#!/bin/sh
umask 077
{ echo "From MAILER-DAEMON \$(date)"; cat; echo; } >> $B/mail/"\$1"
EOF
chmod 755 "$B/bin/deliver"
cat > "$B/etc/sendmail.mc" << EOF
divert(-1)dnl
divert(0)dnl
include(\`$R/usr/share/sendmail/cf/m4/cf.m4')dnl
VERSIONID(\`mxguard-test')dnl
OSTYPE(\`linux')dnl
define(\`LOCAL_MAILER_PATH', \`$B/bin/deliver')dnl
define(\`LOCAL_MAILER_ARGS', \`deliver \$u')dnl
define(\`LOCAL_MAILER_FLAGS', \`SPhn9')dnl
define(\`confDOMAIN_NAME', \`mx.example.com')dnl
define(\`QUEUE_DIR', \`$B/mqueue')dnl
define(\`ALIAS_FILE', \`$B/etc/aliases')dnl
define(\`HELP_FILE', \`$B/etc/helpfile')dnl
define(\`STATUS_FILE', \`$B/run/statistics')dnl
define(\`confPID_FILE', \`$B/run/sendmail.pid')dnl
define(\`confSERVICE_SWITCH_FILE', \`$B/etc/service.switch')dnl
define(\`confHOSTS_FILE', \`$B/etc/hosts')dnl
define(\`confCW_FILE', \`-o $B/etc/local-host-names')dnl
define(\`confCR_FILE', \`-o $B/etc/relay-domains')dnl
define(\`confDONT_PROBE_INTERFACES', \`True')dnl
define(\`confTO_IDENT', \`0s')dnl
define(\`confDONT_BLAME_SENDMAIL', \`TrustStickyBit')dnl
FEATURE(\`nouucp', \`reject')dnl
FEATURE(\`no_default_msa')dnl
FEATURE(\`accept_unresolvable_domains')dnl
FEATURE(\`access_db', \`hash -T<TMPF> -o $TMP/access')dnl
DAEMON_OPTIONS(\`Family=inet, Name=MTA, Port=smtp, Addr=203.0.113.20')dnl
LOCAL_DOMAIN(\`example.com')dnl
MAILER(\`local')dnl
MAILER(\`smtp')dnl
EOF
(cd "$B/etc" && "$R/usr/bin/m4" sendmail.mc > sendmail.cf)

# mxguard keeps $TMP/access and $TMP/access.db with the makemap it finds on PATH: here the
# unpacked package's, told where this Sendmail's configuration is (a real host has /etc/mail).
mkdir -p "$TMP/bin"
printf '#!/bin/sh\nexec %s/makemap -C %s/etc/sendmail.cf "$@"\n' "$SMBIN" "$B" > "$TMP/bin/makemap"
chmod 755 "$TMP/bin/makemap"
touch "$TMP/mail.log"
PATH="$TMP/bin:$PATH" "$MXGUARD" run -c samples/mxguard.conf --source "$TMP/mail.log" --state-dir "$TMP/st" \
	--socket "$TMP/s" --map-file "sendmail:$TMP/access" > /dev/null 2> "$TMP/run.err" &
MXPID=$!
for _ in $(seq 100); do "$MXGUARD" ctl --socket "$TMP/s" status > /dev/null 2>&1 && break; sleep 0.1; done
ctl() { "$MXGUARD" ctl --socket "$TMP/s" "$@" > /dev/null; }
for _ in $(seq 20); do [ -e "$TMP/access.db" ] && break; sleep 0.1; done
check "the access database is built at start" test -s "$TMP/access.db"

ip netns exec "$MX" unshare -m --uts sh -c "hostname mx.example.com && mount --bind '$B/etc/passwd' /etc/passwd &&
	mount --bind '$B/etc/group' /etc/group && mount --bind '$B/etc/hosts' /etc/hosts &&
	'$SMBIN/sendmail' -C '$B/etc/sendmail.cf' -bi && exec '$SMBIN/sendmail' -C '$B/etc/sendmail.cf' -bd" \
	> "$TMP/sendmail.out" 2>&1
for _ in $(seq 50); do ip netns exec "$MX" ss -ltn | grep -q '203.0.113.20:25 ' && break; sleep 0.1; done
check "Sendmail listens in its namespace" sh -c "ip netns exec '$MX' ss -ltn | grep -q '203.0.113.20:25 '"

# send FROM-ADDRESS: one message to postmaster; the first error reply, else the last reply
send() {
	ip netns exec "$CLI" swaks -s 203.0.113.20 --li "$1" --to postmaster@example.com --from x@example.net \
		--helo client.example.net --timeout 20 > "$TMP/swaks.out" 2>&1
	grep -m1 '^<\*\*' "$TMP/swaks.out" || grep '^<-' "$TMP/swaks.out" | tail -1
}
ctl ban 203.0.113.120 for 1h reject
ctl ban 203.0.113.121 for 1h defer
ctl ban 203.0.113.122 for 1h discard
ctl ban 203.0.113.124/30 for 1h	# a prefix off an octet boundary: four Connect: keys
sleep 0.6
check_eq "reject: 550 with the rule's name" "<** 550 5.7.1 Rejected by mxguard rule manual" "$(send 203.0.113.120)"
check_eq "defer: 451" "<** 451 4.7.1 Deferred by mxguard rule manual" "$(send 203.0.113.121)"
check_eq "a /30 prefix covers its clients" "<** 550 5.7.1 Rejected by mxguard rule manual" "$(send 203.0.113.125)"
r=$(send 203.0.113.122)
check "discard: accepted, then dropped ($r)" sh -c "echo '$r' | grep -q '^<-  221'"
r=$(send 203.0.113.123)
check "a client under no action delivers ($r)" sh -c "echo '$r' | grep -q '^<-  221'"
ctl unban 203.0.113.120
sleep 0.6
r=$(send 203.0.113.120)
check "unban: the rebuilt database lets it through ($r)" sh -c "echo '$r' | grep -q '^<-  221'"
check_eq "the text beside the database is mxguard's" "Connect:203.0.113.121 ERROR:4.7.1:451 Deferred by mxguard rule manual" \
	"$(grep -m1 'Connect:203.0.113.121' "$TMP/access")"
for _ in $(seq 50); do [ "$(grep -c '^From MAILER-DAEMON' "$B/mail/postmaster" 2> /dev/null)" -ge 2 ] && break; sleep 0.1; done
check_eq "delivered: the clean and the unbanned client's messages (not the discarded)" 2 \
	"$(grep -c '^From MAILER-DAEMON' "$B/mail/postmaster" 2> /dev/null)"

# The same Sendmail on mxguard's socketmap (FEATURE(access_db) on a socket map): no file at all.
kill "$(head -1 "$B/run/sendmail.pid")"
for _ in $(seq 50); do ip netns exec "$MX" ss -ltn | grep -q '203.0.113.20:25 ' || break; sleep 0.1; done
kill "$MXPID"; wait "$MXPID"
"$MXGUARD" run -c samples/mxguard.conf --source "$TMP/mail.log" --state-dir "$TMP/st" --socket "$TMP/s" \
	--socketmap "$TMP/map" > /dev/null 2>> "$TMP/run.err" &
MXPID=$!
for _ in $(seq 100); do "$MXGUARD" ctl --socket "$TMP/s" status > /dev/null 2>&1 && break; sleep 0.1; done
sed -i "s|FEATURE(\`access_db', \`hash -T<TMPF> -o $TMP/access')dnl|FEATURE(\`access_db', \`socket -T<TMPF> unix:$TMP/map')dnl|" \
	"$B/etc/sendmail.mc"
(cd "$B/etc" && "$R/usr/bin/m4" sendmail.mc > sendmail.cf)
check "sendmail.cf now asks the socket map" grep -q "^Kaccess socket -T<TMPF> unix:$TMP/map" "$B/etc/sendmail.cf"
ip netns exec "$MX" unshare -m --uts sh -c "hostname mx.example.com && mount --bind '$B/etc/passwd' /etc/passwd &&
	mount --bind '$B/etc/group' /etc/group && mount --bind '$B/etc/hosts' /etc/hosts &&
	exec '$SMBIN/sendmail' -C '$B/etc/sendmail.cf' -bd" >> "$TMP/sendmail.out" 2>&1
for _ in $(seq 50); do ip netns exec "$MX" ss -ltn | grep -q '203.0.113.20:25 ' && break; sleep 0.1; done
ctl ban 203.0.113.123 for 1h reject
check_eq "socket map: a decision is Sendmail's at once" "<** 550 5.7.1 Rejected by mxguard rule manual" \
	"$(send 203.0.113.123)"
check_eq "socket map: decisions in force before the restart too" "<** 451 4.7.1 Deferred by mxguard rule manual" \
	"$(send 203.0.113.121)"
ctl unban 203.0.113.123
r=$(send 203.0.113.123)
check "socket map: unban lets it through at once ($r)" sh -c "echo '$r' | grep -q '^<-  221'"
finish
