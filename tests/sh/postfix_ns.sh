# postfix_ns.sh - Debian's Postfix in a network namespace, for the shell tests.
#
# postfix_start MX [MAIN.CF LINES...]: Postfix runs in the namespace MX with
# a private configuration in $TMP/pf (bind-mounted over /etc/postfix in a
# mount namespace of its own: the host's files are untouched), its queue in
# $TMP/q and its log in $TMP/maillog. Two virtual mailboxes exist,
# alice@example.org and bob@example.org (delivered under $TMP/mail); the
# extra lines are appended to main.cf. Returns non-zero if smtpd does not
# listen within 20 s. pf CMD...: a Postfix command inside MX with that
# configuration. The caller stops it (pf postfix stop) in its EXIT trap.
postfix_start() {
	PF_MX=$1
	shift
	mkdir -p "$TMP/pf" "$TMP/q" "$TMP/data" "$TMP/mail"
	chmod 755 "$TMP"	# Postfix's own users walk into it
	cp -a /etc/postfix/. "$TMP/pf/"
	chown postfix "$TMP/data"
	chown nobody "$TMP/mail"
	cat > "$TMP/pf/main.cf" <<- EOF
	compatibility_level = 3.6
	queue_directory = $TMP/q
	data_directory = $TMP/data
	maillog_file_prefixes = $TMP
	maillog_file = $TMP/maillog
	myhostname = mx.example.org
	mydestination =
	inet_interfaces = all
	inet_protocols = ipv4
	mynetworks = 127.0.0.0/8
	alias_maps =
	alias_database =
	smtpd_banner = \$myhostname ESMTP
	virtual_mailbox_domains = example.org
	virtual_mailbox_base = $TMP/mail
	virtual_mailbox_maps = inline:{ alice@example.org=alice/, bob@example.org=bob/ }
	virtual_uid_maps = static:65534
	virtual_gid_maps = static:65534
	EOF
	printf '%s\n' "$@" >> "$TMP/pf/main.cf"
	cat > "$TMP/pf/master.cf" <<- 'EOF'
	smtp      inet  n       -       n       -       -       smtpd
	pickup    unix  n       -       n       60      1       pickup
	cleanup   unix  n       -       n       -       0       cleanup
	qmgr      unix  n       -       n       300     1       qmgr
	rewrite   unix  -       -       n       -       -       trivial-rewrite
	bounce    unix  -       -       n       -       0       bounce
	defer     unix  -       -       n       -       0       bounce
	trace     unix  -       -       n       -       0       bounce
	verify    unix  -       -       n       -       1       verify
	flush     unix  n       -       n       1000?   0       flush
	proxymap  unix  -       -       n       -       -       proxymap
	smtp      unix  -       -       n       -       -       smtp
	relay     unix  -       -       n       -       -       smtp
	showq     unix  n       -       n       -       -       showq
	error     unix  -       -       n       -       -       error
	retry     unix  -       -       n       -       -       error
	discard   unix  -       -       n       -       -       discard
	virtual   unix  -       n       n       -       -       virtual
	anvil     unix  -       -       n       -       1       anvil
	scache    unix  -       -       n       -       1       scache
	postlog   unix-dgram n  -       n       -       1       postlogd
	EOF
	pf postfix start > "$TMP/postfix.out" 2>&1
	wait_for 20 eval "ip netns exec '$PF_MX' ss -ltn | grep -q ':25 '"
}

pf() { ip netns exec "$PF_MX" unshare -m bash -c "mount --bind '$TMP/pf' /etc/postfix && exec \"\$@\"" pf "$@"; }
