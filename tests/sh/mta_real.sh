# mta_real.sh - real Exim 4.96, Sendmail 8.17 and OpenSMTPD 6.8 for the
# shell tests, sourced after lib.sh.
#
# Debian's MTA packages conflict with Postfix (all provide
# mail-transport-agent), so they are never installed: `apt-get download`
# into build/debs, `dpkg -x` into $TMP/root. Each daemon runs in a network
# namespace of its own with a private configuration; whatever it needs at a
# fixed path (its users, /etc/hosts, /dev/log, OpenSMTPD's spool and
# helpers) is mounted only inside the mount namespace that `ip netns exec`
# creates, and goes away with the daemon. Sendmail and OpenSMTPD can only
# log through syslog(3), so each gets a private rsyslogd writing
# RSYSLOG_TraditionalFileFormat (Debian 12's /var/log/mail.log format) to
# a file. Documentation addresses only.
#
#   mr_init MTA...         tools, namespaces, packages and libraries, or skip
#   mr_net MTA             a server + client namespace pair, one veth between
#                          (MR_CLI_EXTRA: more client addresses, ADDR[/LEN]
#                          separated by blanks, /24 by default, so that one
#                          client namespace can be several clients)
#   mr_start MTA           mr_config, then mr_launch
#   mr_config MTA          a fresh configuration, spool and log (MR_SM_LOGLEVEL:
#                          Sendmail's LogLevel, default 9; MR_SM_MC: lines put
#                          into sendmail.mc after the FEATUREs, e.g. an access_db
#                          on a file or a socket map; MR_EXIM_ACL: text put
#                          first in Exim's RCPT ACL; MR_EXIM_IFACES: Exim's
#                          local_interfaces, default the server address;
#                          MR_EXIM_QUEUE: the daemon's queue-runner interval,
#                          -qTIME, default none; MR_EXIM_MAIN: lines for the
#                          main section; MR_EXIM_AUTH: an authenticators section)
#   mr_exim_map_acl PREFIX the ACL snippet of docs/MAPS.md with its host lists
#                          at PREFIX.reject, ... (for MR_EXIM_ACL)
#   mr_launch MTA          start the daemon; returns once port 25 listens
#   mr_sessions MTA        the five client sessions (below) from the client side
#   mr_send MTA SRC        one message to postmaster from client address SRC;
#                          prints the first error reply, else the last reply
#   mr_settle MTA          wait until the log holds every session's end and stops growing
#   mr_stop MTA            stop the daemons by the PIDs they recorded
#   mr_at_exit CMD         run CMD (eval) first in the EXIT trap
#   mr_ns_del NS           end what runs in network namespace NS (by PID), delete NS
#
# MTA is exim, sendmail or opensmtpd. After mr_net/mr_start:
# MR_SRV_NS[MTA] MR_CLI_NS[MTA] MR_SRV_IP[MTA] MR_CLI_IP[MTA] MR_LOG[MTA].
#
# The sessions (swaks, one connection each, in this order):
#   harvest  8 unknown local recipients (MR_HARVEST), QUIT after RCPT  rc 24
#   legit    MR_LEGIT_FROM -> postmaster@example.com, delivered        rc 0
#   bounce   MAIL FROM:<> -> postmaster@example.com, delivered         rc 0
#   relay    RCPT TO:<MR_RELAY_TO> (not a local domain), QUIT after RCPT rc 24
#   drop     reads the banner, closes the TCP connection (no QUIT)     rc 0
# (swaks exits 24 when every recipient was refused.) The drop session is
# last, so its log line marks the end of the client side.

: "${TMP:?source lib.sh first}"	# (every path below is under it)

MR_HARVEST=(admin@example.com info@example.com sales@example.com support@example.com
	john@example.com test@example.com office@example.com webmaster@example.com)
MR_LEGIT_FROM=alice@example.net
MR_RELAY_FROM=mallory@example.net
MR_RELAY_TO=victim@example.net
MR_SESSIONS=(harvest legit bounce relay drop)
declare -A MR_SWAKS_RC=([harvest]=24 [legit]=0 [bounce]=0 [relay]=24 [drop]=0)

# Addresses of each MTA's pair; the client's is the one every event must carry.
declare -A MR_SRV_IP=([exim]=203.0.113.10 [sendmail]=203.0.113.20 [opensmtpd]=203.0.113.30)
declare -A MR_CLI_IP=([exim]=203.0.113.110 [sendmail]=203.0.113.120 [opensmtpd]=203.0.113.130)
declare -A MR_SHORT=([exim]=ex [sendmail]=sm [opensmtpd]=os)
declare -A MR_SRV_NS MR_CLI_NS MR_LOG MR_DIR
MR_R=$TMP/root
MR_LIBDIR=$MR_R/usr/lib/x86_64-linux-gnu
MR_EXIT=()

mr_at_exit() { MR_EXIT+=("$1"); }

# mr_wait SECONDS COMMAND...: poll (every 20 ms) until COMMAND succeeds; 1 on timeout
mr_wait() { wait_for "$@"; }

# mr_pid_gone PID: the process has exited. A daemon's parent is PID 1, which
# may reap it only a second or two later: a zombie counts as gone.
mr_pid_gone() {
	local st
	st=$(cat "/proc/$1/stat" 2> /dev/null) || return 0
	st=${st##*) }	# (the state follows the command name, which may hold blanks)
	[ -z "$st" ] || [ "${st%% *}" = Z ]
}

# mr_kill_pidfile FILE: SIGTERM to the PID on FILE's first line, wait up to 5 s for it to exit
mr_kill_pidfile() {
	local pid
	[ -s "$1" ] || return 0
	pid=$(head -1 "$1")
	case $pid in '' | *[!0-9]*) return 0 ;; esac
	kill "$pid" 2> /dev/null && mr_wait 5 mr_pid_gone "$pid"
	rm -f "$1"
}

# mr_ns_del NS: whatever still runs in NS was started by this test (e.g. a
# delivery process): end it by its PID, then delete NS
mr_ns_del() {
	local pid
	for pid in $(ip netns pids "$1" 2> /dev/null); do kill "$pid" 2> /dev/null; done
	ip netns del "$1" 2> /dev/null
}

mr_cleanup() {
	local c m
	for c in "${MR_EXIT[@]}"; do eval "$c"; done
	for m in "${!MR_DIR[@]}"; do mr_stop "$m"; done
	wait 2> /dev/null
	for m in "${!MR_CLI_NS[@]}"; do mr_ns_del "${MR_CLI_NS[$m]}"; done
	for m in "${!MR_SRV_NS[@]}"; do mr_ns_del "${MR_SRV_NS[$m]}"; done
	[ -n "${KEEP_TMP:-}" ] && cp -r "$TMP" /tmp/keep.$$; rm -rf "$TMP"
}
trap mr_cleanup EXIT
trap 'exit 130' INT TERM	# so that the EXIT trap runs

# mr_init MTA...: everything the MTAs need, or skip the test (finish) saying what is missing
mr_init() {
	local m t pkgs=() bins=() missing
	for t in swaks ip ss unshare dpkg apt-get; do
		command -v "$t" > /dev/null || skip_all "$t missing"
	done
	[ "$(id -u)" = 0 ] || skip_all "needs root (network and mount namespaces)"
	if ! ip netns add "mxg-probe$$" 2> /dev/null; then skip_all "cannot create network namespaces here"; fi
	ip netns del "mxg-probe$$"
	chmod 755 "$TMP"	# the MTAs' own users walk into it
	for m in "$@"; do
		case $m in
		exim) pkgs+=(exim4-daemon-light libidn12) ;;
		sendmail) pkgs+=(sendmail-bin sendmail-cf m4 libwrap0 rsyslog libestr0 libfastjson4) ;;
		opensmtpd)
			pkgs+=(opensmtpd rsyslog libestr0 libfastjson4)
			grep -qw overlay /proc/filesystems ||
				skip_all "no overlayfs (OpenSMTPD's helpers are mounted with it)"
			;;
		*) echo "mr_init: unknown MTA $m" >&2; exit 2 ;;
		esac
	done
	# (one root for all: no package shares a file with another)
	unpack_debs "$MR_R" $(printf '%s\n' "${pkgs[@]}" | sort -u)
	# Setid bits would put ld.so in secure mode, where it ignores LD_LIBRARY_PATH.
	chmod u-s "$MR_R/usr/sbin/exim4" 2> /dev/null
	chmod g-s "$MR_R/usr/libexec/sendmail/"* 2> /dev/null
	for m in "$@"; do
		case $m in
		exim) bins+=("$MR_R/usr/sbin/exim4") ;;
		# (makemap: for a test that has mxguard keep an access database)
		sendmail) bins+=("$MR_R/usr/libexec/sendmail/"{sendmail,makemap} "$MR_R/usr/sbin/rsyslogd") ;;
		opensmtpd) bins+=("$MR_R/usr/sbin/smtpd" "$MR_R/usr/sbin/rsyslogd") ;;
		esac
	done
	missing=$(LD_LIBRARY_PATH=$MR_LIBDIR missing_libs "${bins[@]}")
	[ -z "$missing" ] || skip_all "the MTAs need $missing (./run test installs them)"
}

# mr_net MTA: namespaces mxg-rXX$$ (server) and mxg-rXXc$$ (client) with one
# veth, both ends created inside the namespaces (nothing appears on the host).
# The client's eth0 also gets the addresses of MR_CLI_EXTRA: a test that
# needs clients under different decisions picks one per session (swaks --li).
mr_net() {
	local m=$1 s=mxg-r${MR_SHORT[$1]}$$ c=mxg-r${MR_SHORT[$1]}c$$ a
	ip netns add "$s" || skip_all "cannot create network namespaces here"
	MR_SRV_NS[$m]=$s
	ip netns add "$c"
	MR_CLI_NS[$m]=$c
	ip -n "$s" link add eth0 type veth peer name eth0 netns "$c"
	ip -n "$s" addr add "${MR_SRV_IP[$m]}/24" dev eth0
	ip -n "$c" addr add "${MR_CLI_IP[$m]}/24" dev eth0
	for a in ${MR_CLI_EXTRA:-}; do
		case $a in */*) ;; *) a=$a/24 ;; esac
		ip -n "$c" addr add "$a" dev eth0
	done
	for ns in "$s" "$c"; do ip -n "$ns" link set lo up; ip -n "$ns" link set eth0 up; done
}

# mr__users DIR NAME:UID...: DIR/etc/passwd and group with root, daemon,
# nobody and the users named. Not a copy of the host's: a host account
# named like a harvested address (admin, test, ...) would be a valid local
# part for Sendmail and OpenSMTPD.
mr__users() {
	local d=$1 u name id home
	shift
	mkdir -p "$d/etc"
	grep -E '^(root|daemon|nobody):' /etc/passwd > "$d/etc/passwd"
	grep -E '^(root|daemon|nogroup|mail):' /etc/group > "$d/etc/group"
	for u in "$@"; do
		IFS=: read -r name id home <<< "$u"
		echo "$name:x:$id:$id:mxguard test:${home:-/nonexistent}:/usr/sbin/nologin" >> "$d/etc/passwd"
		echo "$name:x:$id:" >> "$d/etc/group"
	done
}

# mr__syslog DIR: the start of a script (run in the daemon's mount namespace)
# that gives it a private /dev whose /dev/log is DIR/run/log.sock, and a
# private rsyslogd on that socket. Mail lines go to DIR/log/maillog, the rest
# (rsyslogd's own start line, which it writes about 1 s after it starts and
# would land among the MTA's lines) to DIR/log/other.log, as Debian splits
# mail.log from syslog.
mr__syslog() {
	local d=$1
	mkdir -p "$d/run/rsyslog-work" "$d/log"
	cat > "$d/run/rsyslog.conf" << EOF
global(workDirectory="$d/run/rsyslog-work" localHostName="mx")
module(load="imuxsock" SysSock.Use="off")
input(type="imuxsock" Socket="$d/run/log.sock" RateLimit.Interval="0")
module(load="builtin:omfile" Template="RSYSLOG_TraditionalFileFormat")
mail.* action(type="omfile" file="$d/log/maillog")
*.*;mail.none action(type="omfile" file="$d/log/other.log")
EOF
	cat << EOF
mount --make-rslave /
mount -t tmpfs -o mode=0755,size=1m mxgdev /dev
mknod -m 666 /dev/null c 1 3; mknod -m 666 /dev/zero c 1 5; mknod -m 666 /dev/full c 1 7
mknod -m 666 /dev/random c 1 8; mknod -m 666 /dev/urandom c 1 9; mknod -m 666 /dev/tty c 5 0
ln -s /proc/self/fd /dev/fd; ln -s /proc/self/fd/0 /dev/stdin
ln -s /proc/self/fd/1 /dev/stdout; ln -s /proc/self/fd/2 /dev/stderr
mkdir /dev/shm /dev/pts; mount -t tmpfs -o mode=1777,size=1m mxgshm /dev/shm
ln -s $d/run/log.sock /dev/log	# connect() follows the link, as with systemd's /dev/log
LD_LIBRARY_PATH=$MR_LIBDIR $MR_R/usr/sbin/rsyslogd -f $d/run/rsyslog.conf -i $d/run/rsyslogd.pid \\
	-M $MR_LIBDIR/rsyslog
# (rsyslogd daemonizes; messages sent once the socket exists are queued on it)
i=0; while [ ! -S $d/run/log.sock ] && [ \$i -lt 250 ]; do sleep 0.02; i=\$((i + 1)); done
[ -S $d/run/log.sock ] || { echo "rsyslogd did not start" >&2; exit 1; }
EOF
}

# mr__listening MTA: port 25 of the server address is in LISTEN
mr__listening() {
	ip netns exec "${MR_SRV_NS[$1]}" ss -Hltn "src ${MR_SRV_IP[$1]} and sport = :25" | grep -q LISTEN
}

# mr_config MTA: a fresh configuration, spool and log, and the start script
# DIR/run/start.sh that mr_launch runs in the server's namespace
mr_config() {
	local m=$1 d=$TMP/${MR_SHORT[$1]}
	rm -rf "$d"
	mkdir -p "$d/run" "$d/log" "$d/mail"
	MR_DIR[$m]=$d
	"mr__config_$m" "$d" > "$d/run/config.out" 2>&1 || { failt "$m: configured" "$(tail -5 "$d/run/config.out")"; return 1; }
}

# mr_launch MTA: run the start script (its own mount and UTS namespaces, in
# the server's network namespace); wait (10 s at most) for port 25
mr_launch() {
	local m=$1 d=${MR_DIR[$1]}
	ip netns exec "${MR_SRV_NS[$m]}" unshare --uts sh "$d/run/start.sh" >> "$d/run/start.out" 2>&1 ||
		{ failt "$m starts" "$(tail -5 "$d/run/start.out")"; return 1; }
	mr_wait 10 mr__listening "$m" || { failt "$m listens on ${MR_SRV_IP[$m]}:25" "$(tail -5 "$d/run/start.out")"; return 1; }
}

mr_start() { mr_config "$1" && mr_launch "$1"; }

mr__config_exim() {
	local d=$1
	mr__users "$d" Debian-exim:4401:"$d/spool"
	mkdir -p "$d/spool"
	chown 4401:4401 "$d/spool" "$d/log" "$d/mail"
	cat > "$d/exim.conf" << EOF
primary_hostname = mx.example.com
domainlist local_domains = example.com
local_interfaces = ${MR_EXIM_IFACES:-${MR_SRV_IP[exim]}.25}
exim_user = Debian-exim
exim_group = Debian-exim
# Exim re-executes itself for deliveries: its compiled-in path is not ours.
exim_path = $MR_R/usr/sbin/exim4
spool_directory = $d/spool
log_file_path = $d/log/%slog
pid_file_path = $d/run/exim.pid
keep_environment = LD_LIBRARY_PATH
# Deliveries as Debian-exim: with -C, root deliveries log "exim user lost
# privilege for using -C option" on every message.
deliver_drop_privilege = true
never_users = root
host_lookup =
tls_advertise_hosts =
log_selector = +smtp_connection +smtp_no_mail +smtp_protocol_error +smtp_syntax_error \\
               +incoming_interface +received_recipients +pid
acl_smtp_rcpt = acl_check_rcpt
${MR_EXIM_MAIN:-}

begin acl
acl_check_rcpt:
${MR_EXIM_ACL:-}
  accept  hosts = :
  deny    domains = !+local_domains
          message = relay not permitted
  require verify  = recipient
  accept

begin routers
postmaster:
  driver = accept
  domains = +local_domains
  local_parts = postmaster
  transport = mailbox

begin transports
mailbox:
  driver = appendfile
  file = $d/mail/\$local_part_data
  user = Debian-exim
  group = Debian-exim
  mode = 0600
  delivery_date_add
  envelope_to_add
  return_path_add

begin retry
*   *   F,2h,15m; G,16h,1h,1.5; F,4d,6h
${MR_EXIM_AUTH:+
begin authenticators
$MR_EXIM_AUTH}
EOF
	chmod 644 "$d/exim.conf"	# Exim refuses a group- or world-writable configuration
	# Exim looks its compiled-in user Debian-exim up before it reads the configuration.
	cat > "$d/run/start.sh" << EOF
set -e
mount --make-rslave /
mount --bind $d/etc/passwd /etc/passwd
mount --bind $d/etc/group /etc/group
export LD_LIBRARY_PATH=$MR_LIBDIR
exec $MR_R/usr/sbin/exim4 -C $d/exim.conf -bd${MR_EXIM_QUEUE:+ -q$MR_EXIM_QUEUE}
EOF
	MR_LOG[exim]=$d/log/mainlog
}

# mr_exim_map_acl PREFIX: the RCPT ACL snippet of docs/MAPS.md for mxguard's
# host lists (--map-file exim:PATH), word for word but for the lists' path,
# PREFIX instead of /var/lib/mxguard/exim: the tests put it in MR_EXIM_ACL
# and check that Exim does with it what the documentation says
mr_exim_map_acl() {
	sed "s|/var/lib/mxguard/exim|$1|g" << 'EOF'
  deny    hosts   = net-iplsearch;/var/lib/mxguard/exim.reject
          message = ${lookup{$sender_host_address}iplsearch{/var/lib/mxguard/exim.reject}}
  defer   hosts   = net-iplsearch;/var/lib/mxguard/exim.defer
          message = ${lookup{$sender_host_address}iplsearch{/var/lib/mxguard/exim.defer}}
  discard hosts   = net-iplsearch;/var/lib/mxguard/exim.discard
  warn    hosts   = net-iplsearch;/var/lib/mxguard/exim.hold
          control = freeze
  warn    hosts   = net-iplsearch;/var/lib/mxguard/exim.tarpit
          delay   = 5s
EOF
}

mr__config_sendmail() {
	local d=$1 sm=$MR_R/usr/libexec/sendmail/sendmail
	mr__users "$d" postmaster:4412
	mkdir -p "$d/mqueue" "$d/bin"
	chmod 700 "$d/mqueue"
	printf '127.0.0.1 localhost\n%s mx.example.com mx\n' "${MR_SRV_IP[sendmail]}" > "$d/etc/hosts"
	printf 'hosts\tfiles\naliases\tfiles\n' > "$d/etc/service.switch"
	printf 'MAILER-DAEMON: postmaster\nabuse: postmaster\n' > "$d/etc/aliases"
	touch "$d/run/statistics" "$d/etc/local-host-names" "$d/etc/relay-domains"	# (no statistics file: LogLevel 12 complains after every message)
	cp "$MR_R/etc/mail/helpfile" "$d/etc/helpfile" 2> /dev/null || touch "$d/etc/helpfile"
	# The local mailer: sendmail gives mailers a bare environment, so a script that needs no library.
	cat > "$d/bin/deliver" << EOF
#!/bin/sh
umask 077
{ echo "From MAILER-DAEMON \$(date)"; cat; echo; } >> $d/mail/"\$1"
EOF
	chmod 755 "$d/bin/deliver"
	# OSTYPE(linux) asks for procmail: the LOCAL_MAILER_* after it replace it.
	# The local mailer's w flag checks local parts against passwd at RCPT
	# time ("User unknown"). TrustStickyBit: $TMP is under /tmp (mode 1777),
	# which sendmail's file checks refuse otherwise. There is no DNS in the
	# namespace: accept_unresolvable_domains, or every sender gets 553.
	# MR_SM_MC goes after the FEATUREs, where sendmail.mc files have theirs
	# (before MAILER, which some FEATUREs must precede).
	{
		cat << EOF
divert(-1)dnl
divert(0)dnl
include(\`$MR_R/usr/share/sendmail/cf/m4/cf.m4')dnl
VERSIONID(\`mxguard-test')dnl
OSTYPE(\`linux')dnl
define(\`LOCAL_MAILER_PATH', \`$d/bin/deliver')dnl
define(\`LOCAL_MAILER_ARGS', \`deliver \$u')dnl
define(\`LOCAL_MAILER_FLAGS', \`SPhn9')dnl
define(\`confDOMAIN_NAME', \`mx.example.com')dnl
define(\`confLOG_LEVEL', \`9')dnl
define(\`QUEUE_DIR', \`$d/mqueue')dnl
define(\`ALIAS_FILE', \`$d/etc/aliases')dnl
define(\`HELP_FILE', \`$d/etc/helpfile')dnl
define(\`STATUS_FILE', \`$d/run/statistics')dnl
define(\`confPID_FILE', \`$d/run/sendmail.pid')dnl
define(\`confSERVICE_SWITCH_FILE', \`$d/etc/service.switch')dnl
define(\`confHOSTS_FILE', \`$d/etc/hosts')dnl
define(\`confCW_FILE', \`-o $d/etc/local-host-names')dnl
define(\`confCR_FILE', \`-o $d/etc/relay-domains')dnl
define(\`confDONT_PROBE_INTERFACES', \`True')dnl
define(\`confTO_IDENT', \`0s')dnl
define(\`confDONT_BLAME_SENDMAIL', \`TrustStickyBit')dnl
FEATURE(\`nouucp', \`reject')dnl
FEATURE(\`no_default_msa')dnl
FEATURE(\`accept_unresolvable_domains')dnl
EOF
		[ -z "${MR_SM_MC:-}" ] || printf '%s\n' "$MR_SM_MC"
		cat << EOF
DAEMON_OPTIONS(\`Family=inet, Name=MTA, Port=smtp, Addr=${MR_SRV_IP[sendmail]}')dnl
LOCAL_DOMAIN(\`example.com')dnl
MAILER(\`local')dnl
MAILER(\`smtp')dnl
EOF
	} > "$d/etc/sendmail.mc"
	(cd "$d/etc" && "$MR_R/usr/bin/m4" sendmail.mc > sendmail.cf) || return 1
	# -L sm-mta: the program tag Debian's init script gives the daemon.
	{
		echo "set -e"
		mr__syslog "$d"
		cat << EOF
hostname mx.example.com	# (a private UTS namespace)
mount --bind $d/etc/passwd /etc/passwd
mount --bind $d/etc/group /etc/group
mount --bind $d/etc/hosts /etc/hosts
export LD_LIBRARY_PATH=$MR_LIBDIR
$sm -C $d/etc/sendmail.cf -bi
$sm -C $d/etc/sendmail.cf -L sm-mta ${MR_SM_LOGLEVEL:+-OLogLevel=$MR_SM_LOGLEVEL} -bd
EOF
	} > "$d/run/start.sh"
	MR_LOG[sendmail]=$d/log/maillog
}

mr__config_opensmtpd() {
	local d=$1 p=$MR_R
	mr__users "$d" opensmtpd:4403:/var/lib/opensmtpd/empty opensmtpq:4404:/var/lib/opensmtpd/empty \
		postmaster:4412:"$d/mail/postmaster"
	mkdir -p "$d/spool" "$d/varlib/opensmtpd/empty" "$d/mail/postmaster"
	chmod 755 "$d/varlib/opensmtpd/empty"
	chown 4412:4412 "$d/mail/postmaster"
	chmod 700 "$d/mail/postmaster"
	printf '127.0.0.1 localhost\n%s mx.example.com mx\n' "${MR_SRV_IP[opensmtpd]}" > "$d/etc/hosts"
	cat > "$d/etc/smtpd.conf" << EOF
listen on ${MR_SRV_IP[opensmtpd]} port 25 hostname mx.example.com
action "local_mail" maildir "$d/mail/%{user.username}"
match from any for domain "example.com" action "local_mail"
EOF
	chmod 644 "$d/etc/smtpd.conf"
	# smtpd has its spool (/var/spool/smtpd), control socket (/var/run/smtpd.sock),
	# chroot (/var/lib/opensmtpd/empty) and delivery helpers (/usr/libexec/opensmtpd)
	# compiled in. The first two get private directories mounted over their
	# parents; the others don't exist on the host, so their parents get
	# read-only overlays (the package's files over the host's).
	# -F: foreground, logging to syslog (-d would log to stderr); 6.8 writes no pidfile.
	{
		echo "set -e"
		mr__syslog "$d"
		cat << EOF
hostname mx.example.com
mount --bind $d/etc/passwd /etc/passwd
mount --bind $d/etc/group /etc/group
mount --bind $d/etc/hosts /etc/hosts
mount --bind $d/spool /var/spool
mount --bind $d/run /run
mount -t overlay mxglibexec -o lowerdir=$p/usr/libexec:/usr/libexec /usr/libexec
mount -t overlay mxgvarlib -o lowerdir=$d/varlib:/var/lib /var/lib
$p/usr/sbin/smtpd -f $d/etc/smtpd.conf -n
nohup $p/usr/sbin/smtpd -F -f $d/etc/smtpd.conf < /dev/null >> $d/run/smtpd.stderr 2>&1 &
echo \$! > $d/run/smtpd.pid
EOF
	} > "$d/run/start.sh"
	MR_LOG[opensmtpd]=$d/log/maillog
}

# mr_stop MTA: the daemon, then its rsyslogd (which has written every line by then)
mr_stop() {
	local d=${MR_DIR[$1]:-}
	[ -n "$d" ] || return 0
	case $1 in
	exim) mr_kill_pidfile "$d/run/exim.pid" ;;
	sendmail) mr_kill_pidfile "$d/run/sendmail.pid" ;;
	opensmtpd) mr_kill_pidfile "$d/run/smtpd.pid" ;;
	esac
	mr_kill_pidfile "$d/run/rsyslogd.pid"
}

# mr_swaks MTA NAME ARGS...: one session from the client namespace; its
# transcript in DIR/swaks.NAME, its exit code appended to DIR/swaks.rc
mr_swaks() {
	local m=$1 n=$2 rc
	shift 2
	ip netns exec "${MR_CLI_NS[$m]}" swaks --server "${MR_SRV_IP[$m]}" --port 25 --helo client.example.net \
		--timeout 20 "$@" > "${MR_DIR[$m]}/swaks.$n" 2>&1
	rc=$?
	echo "$n $rc" >> "${MR_DIR[$m]}/swaks.rc"
}

# mr_send MTA SRC: one message from SRC (an address of the client namespace,
# see MR_CLI_EXTRA) to postmaster@example.com; prints the server's first
# error reply (swaks' "<**" lines), else its last reply. The transcript is
# DIR/swaks.send.
mr_send() {
	local m=$1 out=${MR_DIR[$1]}/swaks.send
	ip netns exec "${MR_CLI_NS[$m]}" swaks --server "${MR_SRV_IP[$m]}" --port 25 --li "$2" \
		--to postmaster@example.com --from x@example.net --helo client.example.net --timeout 20 > "$out" 2>&1
	grep -m1 '^<\*\*' "$out" || grep '^<-' "$out" | tail -1
}

# mr_sessions MTA: the five sessions, one after the other (they only write
# files, so several MTAs' sessions can run at once in the background)
mr_sessions() {
	local m=$1 to
	to=$(IFS=,; echo "${MR_HARVEST[*]}")
	: > "${MR_DIR[$m]}/swaks.rc"
	# swaks sends every RCPT even after 550s, then QUIT
	mr_swaks "$m" harvest --from harvester@example.net --to "$to" --quit-after RCPT
	mr_swaks "$m" legit --from "$MR_LEGIT_FROM" --to postmaster@example.com \
		--header 'Subject: legit test' --body 'hello postmaster'
	mr_swaks "$m" bounce --from '<>' --to postmaster@example.com \
		--header 'Subject: Undelivered Mail Returned to Sender' --body 'a bounce'
	mr_swaks "$m" relay --from "$MR_RELAY_FROM" --to "$MR_RELAY_TO" --quit-after RCPT
	mr_swaks "$m" drop --drop-after CONNECT
}

# mr__ended MTA: the log has both deliveries to postmaster and the drop session's line
mr__ended() {
	local f=${MR_LOG[$1]}
	case $1 in
	exim) [ "$(grep -c '=> postmaster <postmaster@example.com>' "$f")" -ge 2 ] &&
		grep -q "no MAIL in SMTP connection from .*\[${MR_CLI_IP[$1]}\]" "$f" ;;
	sendmail) [ "$(grep -c 'stat=Sent' "$f")" -ge 2 ] && grep -q "\[${MR_CLI_IP[$1]}\] did not issue MAIL" "$f" ;;
	opensmtpd) [ "$(grep -c 'stat=Delivered' "$f")" -ge 2 ] && grep -q 'reason=disconnect' "$f" ;;
	esac
}

# mr__quiet FILE: FILE has not grown for 300 ms
mr__quiet() { file_quiet "$1" 0.3; }

# mr_settle MTA: wait (15 s at most) for the end of the sessions in the log, then
# for the log to stop growing (lines a delivery writes after its status line)
mr_settle() {
	mr_wait 15 mr__ended "$1" || { failt "$1: the log shows the end of every session" "$(tail -3 "${MR_LOG[$1]}")"; return 1; }
	mr_wait 5 mr__quiet "${MR_LOG[$1]}"
}

# mr_check_sessions MTA: each session's swaks exit code was the expected one
mr_check_sessions() {
	local m=$1 want got s
	want=$(for s in "${MR_SESSIONS[@]}"; do echo "$s ${MR_SWAKS_RC[$s]}"; done)
	got=$(cat "${MR_DIR[$m]}/swaks.rc")
	check_eq "$m: the sessions ran (swaks exit codes)" "$want" "$got"
}
