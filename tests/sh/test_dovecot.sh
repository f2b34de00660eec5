#!/usr/bin/env bash
# test_dovecot.sh - the shipped Dovecot pattern set (samples/dovecot.conf)
# against a real Dovecot (Debian's dovecot-imapd and dovecot-pop3d, 2.3),
# attacked by a real client (curl's IMAP and POP3, nc).
#
# Dovecot runs in a network namespace of its own (198.51.100.1,
# 2001:db8:d::1), with a private configuration and passwd-file; clients in
# another namespace, on a veth. Two runs, for the two forms Dovecot writes:
#   A. through syslog (a private rsyslogd, Debian's mail.log format), with
#      auth_verbose (a line per attempt from the auth process) and any
#      character allowed in user names (so that a crafted name reaches the
#      auth process's line too);
#   B. its own log_path file, without auth_verbose (the login processes'
#      summaries only), default user-name characters.
# In both, a password guesser on IPv4 (one user name after the other, and
# names made to imitate the address fields: "x>, method=PLAIN,
# rip=198.51.100.9, ...") and a sprayer on IPv6 rotating through its /64.
# mxguard must read every line of Dovecot's, count each attempt once, give
# every event to the address that connected - never to 198.51.100.9, which
# appears only in the client's text - and decide as the policy says: the
# default policy's auth-guess blocks the guesser, the sample's login-spray
# the /64. Then the daemon, with nftables in Dovecot's namespace, reads the
# syslog run's log and the guesser's next connection fails while a
# legitimate user still logs in. Documentation addresses only.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/mta_real.sh"
for tool in dovecot curl nc ip nft unshare; do
	command -v "$tool" > /dev/null || skip_all "$tool missing (./run test installs dovecot-imapd, dovecot-pop3d, curl)"
done
[ "$(id -u)" = 0 ] || skip_all "needs root (network and mount namespaces)"
getent passwd dovenull > /dev/null && getent passwd dovecot > /dev/null || skip_all "no dovecot/dovenull users (the package makes them)"
SRV=mxg-dv$$ CLI=mxg-dvc$$
ip netns add "$SRV" 2> /dev/null || skip_all "cannot create network namespaces here"
ip netns add "$CLI"
mr_at_exit '[ -n "${MXPID:-}" ] && kill "$MXPID" 2> /dev/null; mr_ns_del "$SRV"; mr_ns_del "$CLI"'
unpack_debs "$MR_R" rsyslog libestr0 libfastjson4
missing=$(LD_LIBRARY_PATH=$MR_LIBDIR missing_libs "$MR_R/usr/sbin/rsyslogd")
[ -z "$missing" ] || skip_all "rsyslogd needs $missing (./run test installs it)"
chmod 755 "$TMP"	# (Dovecot's own users walk into it)

GUESSER=198.51.100.20 SPRAY6=2001:db8:d: NOAUTH=198.51.100.22 LEGIT=198.51.100.23 FAKE=198.51.100.9
ip -n "$SRV" link add eth0 type veth peer name eth0 netns "$CLI"
ip -n "$SRV" addr add 198.51.100.1/24 dev eth0
ip -n "$SRV" addr add 2001:db8:d::1/64 dev eth0 nodad
for a in $GUESSER $NOAUTH $LEGIT; do ip -n "$CLI" addr add "$a/24" dev eth0; done
for i in 21 22 23 24 25 26; do ip -n "$CLI" addr add "${SPRAY6}:$i/64" dev eth0 nodad; done
for ns in "$SRV" "$CLI"; do ip -n "$ns" link set lo up; ip -n "$ns" link set eth0 up; done

# dovecot_start DIR LOG VERBOSE CHARS: Dovecot with its base, state and home under DIR, logging to LOG
# ("syslog": through DIR's private rsyslogd to DIR/log/maillog); returns once IMAP and POP3 listen.
dovecot_start() {
	local d=$1
	mkdir -p "$d/base" "$d/state" "$d/home"
	chmod 755 "$d" "$d/home"
	printf 'alice:{PLAIN}secret::::::\n' > "$d/passwd"
	cat > "$d/dovecot.conf" << EOF
base_dir = $d/base
state_dir = $d/state
protocols = imap pop3
listen = 198.51.100.1, 2001:db8:d::1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
auth_verbose = $3
auth_username_chars = $4
log_path = $2
syslog_facility = mail
passdb {
  driver = passwd-file
  args = scheme=PLAIN $d/passwd
}
userdb {
  driver = static
  args = uid=nobody gid=nogroup home=$d/home/%u
}
mail_location = maildir:~/Maildir
# No auth penalty (Dovecot's own delay of an address's next attempt, up to
# 15 s): the test makes dozens of attempts from one address.
service anvil {
  unix_listener anvil-auth-penalty {
    mode = 0
  }
}
EOF
	{
		[ "$2" = syslog ] && mr__syslog "$d"
		echo "exec dovecot -c $d/dovecot.conf"
	} > "$d/start.sh"
	ip netns exec "$SRV" unshare -m sh "$d/start.sh" || return 1
	wait_for 20 sh -c "ip netns exec '$SRV' ss -Hltn | grep -q ':143 ' && ip netns exec '$SRV' ss -Hltn | grep -q ':110 '"
}
dovecot_stop() {
	kill "$(cat "$1/base/master.pid")" 2> /dev/null
	wait_for 10 not test -e "$1/base/master.pid"
	[ -f "$1/run/rsyslogd.pid" ] && mr_kill_pidfile "$1/run/rsyslogd.pid"
	return 0
}

# imap SRC USER [PASS]: one IMAP login attempt from SRC (curl's exit status: 67 when refused)
imap() { ip netns exec "$CLI" curl -s --max-time 10 --interface "$1" "imap://198.51.100.1/" --user "$2:${3:-wrong}" -o /dev/null; }
pop3_6() { ip netns exec "$CLI" curl -s --max-time 10 --interface "$1" "pop3://[2001:db8:d::1]/" --user "$2:wrong" -o /dev/null; }
# (no ':' in them: curl's --user ends the name there)
HOSTILE=("x>, method=PLAIN, rip=$FAKE, lip=198.51.100.1, session=<fake>" "a,$FAKE,<zz>)")
# (the sessions at once: each is a login process of its own, and one after
# the other they took most of the test's time)
attack() {
	local u
	for u in u01 u02 u03 u04 u05 u06 u07 u08 u09 u10 u11; do imap "$GUESSER" "$u" & done
	for u in "${HOSTILE[@]}"; do imap "$GUESSER" "$u" & done
	for i in 21 22 23 24 25 26; do pop3_6 "${SPRAY6}:$i" "v$i" & done
	ip netns exec "$CLI" nc -w 5 -s "$NOAUTH" 198.51.100.1 143 < /dev/null > /dev/null &
	imap "$LEGIT" alice secret &
	wait
}
# settle LOG: every session's summary is in LOG (the login processes write them last)
settle() {
	wait_for 30 sh -c "[ \$(grep -cE 'Disconnected|Login: |Aborted login' '$1' 2> /dev/null) -ge 21 ]"
	wait_for 10 file_quiet "$1" 0.3
}
# the events' (type ip) pairs, counted, as "N TYPE IP" lines
events() { "$MXGUARD" parse -c samples/dovecot.conf "$1" | jq -r '"\(.type) \(.ip)"' | sort | uniq -c | awk '{print $1, $2, $3}'; }
printf 'include "%s"\ninclude "%s"\n' "$PWD/samples/mxguard.conf" "$PWD/samples/dovecot.conf" > "$TMP/both.conf"

# ---------------------------------------------------------------- A. syslog
A=$TMP/a
dovecot_start "$A" syslog yes "" || { failt "Dovecot starts (syslog)" "$(tail -5 "$A/log/maillog" 2> /dev/null)"; finish; }
check "imap: the right password logs in (a real Dovecot answers)" imap "$LEGIT" alice secret
rc=0; imap "$GUESSER" nobody || rc=$?
check_eq "imap: a wrong one is refused (curl's 67)" 67 "$rc"
: > "$A/mark"
attack
settle "$A/log/maillog"
dovecot_stop "$A"
LOG=$A/log/maillog
check "the log is rsyslog's mail.log form (host, then 'dovecot:')" grep -qE '^[A-Z][a-z]{2} [ 0-9][0-9] [0-9:]{8} mx dovecot(\[[0-9]+\])?: auth: ' "$LOG"
check "... with the auth process's per-attempt lines and a crafted name in them" grep -qF "passwd-file(a,$FAKE,<zz>),$GUESSER," "$LOG"
"$MXGUARD" parse -c samples/dovecot.conf --stats "$LOG" 2> "$TMP/a.stats" > /dev/null
check_eq "syslog: every line of Dovecot's understood (unmatched)" 0 "$(stat_of "$TMP/a.stats" unmatched)"
ev=$(events "$LOG")
# the guesser: 12 wrong passwords (one before the attack) + 11 names + 2 crafted names, each once
check_eq "syslog: each attempt of the guesser counts once (auth process line; the login summary 'once')" \
	"14 auth_fail $GUESSER" "$(grep " $GUESSER\$" <<< "$ev")"
check_eq "syslog: each IPv6 sprayer address, one attempt each" 6 "$(grep -c "^1 auth_fail ${SPRAY6}:2[1-6]\$" <<< "$ev")"
check_eq "syslog: the client that never tried: lost_conn" "1 lost_conn $NOAUTH" "$(grep " $NOAUTH\$" <<< "$ev")"
check_eq "syslog: nothing given to $FAKE (only in the client's text) or to the legitimate user" "" \
	"$(grep -E " ($FAKE|$LEGIT)\$" <<< "$ev")"
check_eq "syslog: the crafted names are read as the names they are" 2 \
	"$("$MXGUARD" parse -c samples/dovecot.conf "$LOG" | jq -r 'select(.ip == "'"$GUESSER"'") | .user' | grep -cF "$FAKE")"
"$MXGUARD" replay -c "$TMP/both.conf" "$LOG" > "$TMP/a.dec" 2> "$TMP/a.err"
check_eq "replay: the default policy's auth-guess blocks the guesser" 1 \
	"$(jq -r 'select(.rule == "auth-guess") | .key' "$TMP/a.dec" | grep -cx "$GUESSER")"
check_eq "replay: the sample's login-spray blocks the sprayer's /64" 1 \
	"$(jq -r 'select(.rule == "login-spray") | .key' "$TMP/a.dec" | grep -cx "${SPRAY6}:/64")"
check_eq "replay: no decision about anyone else" "" \
	"$(jq -r '.key' "$TMP/a.dec" | grep -vx -e "$GUESSER" -e "${SPRAY6}:/64")"

# --------------------------------------------------------- B. Dovecot's own file
B=$TMP/b
dovecot_start "$B" "$B/dovecot.log" no "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ01234567890.-_@" || { failt "Dovecot starts (log_path)" "$(tail -5 "$B/dovecot.log" 2> /dev/null)"; finish; }
: > "$B/mark"
attack
settle "$B/dovecot.log"
dovecot_stop "$B"
LOG=$B/dovecot.log
check "the log is Dovecot's own form ('imap-login: Info: ...', no host)" grep -qE '^[A-Z][a-z]{2} [0-9]{2} [0-9:]{8} imap-login: Info: ' "$LOG"
"$MXGUARD" parse -c samples/dovecot.conf --stats "$LOG" 2> "$TMP/b.stats" > /dev/null
check_eq "log_path: every line of the claimed programs understood (unmatched)" 0 "$(stat_of "$TMP/b.stats" unmatched)"
ev=$(events "$LOG")
check_eq "log_path: the guesser's sessions, one event each (the login processes' summaries)" \
	"13 auth_fail $GUESSER" "$(grep " $GUESSER\$" <<< "$ev")"
check_eq "log_path: each IPv6 sprayer address, one each" 6 "$(grep -c "^1 auth_fail ${SPRAY6}:2[1-6]\$" <<< "$ev")"
check_eq "log_path: nothing given to $FAKE or to the legitimate user" "" "$(grep -E " ($FAKE|$LEGIT)\$" <<< "$ev")"
check_eq "log_path: every summary carries its attempts (count 1)" 19 \
	"$("$MXGUARD" parse -c samples/dovecot.conf "$LOG" | jq -r 'select(.type == "auth_fail") | .count' | grep -cx 1)"
"$MXGUARD" replay -c "$TMP/both.conf" "$LOG" > "$TMP/b.dec" 2> "$TMP/b.err"
check_eq "replay (log_path): the same two decisions" "$(jq -r '.rule + " " + .key' "$TMP/a.dec" | sort)" \
	"$(jq -r '.rule + " " + .key' "$TMP/b.dec" | sort)"

# ------------------------------------------- the daemon, with nftables beside Dovecot
dovecot_start "$A" syslog yes "" || { failt "Dovecot starts again"; finish; }
ip netns exec "$SRV" "$MXGUARD" run -c "$TMP/both.conf" --source "$A/log/maillog" --from-start \
	--state-dir "$TMP/st" --socket "$TMP/s" --firewall nftables > "$TMP/run.out" 2> "$TMP/run.err" &
MXPID=$!
ctl_up 30 "$TMP/s" || failt "the daemon answers" "$(tail -5 "$TMP/run.err")"
fw_has() { ip netns exec "$SRV" nft list table inet mxguard | grep -qF "$1"; }
wait_for 30 fw_has "$GUESSER"
check "run: the guesser is in the firewall of Dovecot's namespace" fw_has "$GUESSER"
wait_for 30 fw_has "2001:db8:d::/64"
check "run: the sprayer's /64 too" fw_has "2001:db8:d::/64"
rc=0; ip netns exec "$CLI" curl -s --max-time 3 --interface "$GUESSER" imap://198.51.100.1/ --user u99:x -o /dev/null || rc=$?
check_eq "run: the guesser's next connection gets no answer (curl's timeout, 28)" 28 "$rc"
check "run: the legitimate user still logs in" imap "$LEGIT" alice secret
kill "$MXPID"
wait "$MXPID" 2> /dev/null
MXPID=
dovecot_stop "$A"
finish
