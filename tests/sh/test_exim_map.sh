#!/usr/bin/env bash
# test_exim_map.sh - the Exim host lists (--map-file exim:PATH) against a
# real Exim: Debian's exim4-daemon-light, unpacked (apt-get download +
# dpkg -x, not installed: it would replace Postfix), run in a network
# namespace with its own configuration and users (bind-mounted only inside
# its mount namespace). The ACL snippet of docs/MAPS.md is used as is; a
# client under each action gets that action from Exim. Documentation
# addresses only.
. "$(dirname "$0")/lib.sh"
for tool in swaks ip dpkg apt-get; do
	command -v "$tool" > /dev/null || { echo "  skipped: $tool missing"; finish; }
done
chmod 755 "$TMP"
R=$TMP/root
unpack_debs "$R" exim4-daemon-light libidn12
chmod u-s "$R/usr/sbin/exim4"	# setuid would make ld.so ignore LD_LIBRARY_PATH
missing=$(LD_LIBRARY_PATH="$R/usr/lib/x86_64-linux-gnu" missing_libs "$R/usr/sbin/exim4")
[ -z "$missing" ] || { echo "  skipped: exim4 needs $missing (./run test installs it)"; finish; }
MX=mxg-ex$$ CLI=mxg-exc$$
if ! ip netns add "$MX" 2> /dev/null; then echo "  skipped: cannot create network namespaces here"; finish; fi
ip netns add "$CLI"
MXPID=
cleanup() {
	[ -n "$MXPID" ] && kill "$MXPID" 2> /dev/null
	[ -s "$TMP/ex/exim.pid" ] && kill "$(cat "$TMP/ex/exim.pid")" 2> /dev/null
	wait 2> /dev/null
	ip netns del "$CLI" 2> /dev/null
	ip netns del "$MX" 2> /dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT
ip -n "$MX" link add eth0 type veth peer name eth0 netns "$CLI"
ip -n "$MX" addr add 203.0.113.10/24 dev eth0
for a in 110 111 112 113 114 115 121; do ip -n "$CLI" addr add "203.0.113.$a/24" dev eth0; done
for ns in "$MX" "$CLI"; do ip -n "$ns" link set lo up; ip -n "$ns" link set eth0 up; done

# Exim's own users and files.
mkdir -p "$TMP/ex/spool" "$TMP/ex/log" "$TMP/ex/mail" "$TMP/ex/etc"
cp /etc/passwd "$TMP/ex/etc/passwd"
cp /etc/group "$TMP/ex/etc/group"
echo "Debian-exim:x:4401:4401::$TMP/ex/spool:/usr/sbin/nologin" >> "$TMP/ex/etc/passwd"
echo "Debian-exim:x:4401:" >> "$TMP/ex/etc/group"
chown 4401:4401 "$TMP/ex/spool" "$TMP/ex/log" "$TMP/ex/mail"
H=$TMP/hosts	# mxguard writes $H.reject, $H.defer, $H.discard, $H.tarpit
cat > "$TMP/ex/etc/exim.conf" << EOF
primary_hostname = mx.example.com
domainlist local_domains = example.com
local_interfaces = 203.0.113.10.25
exim_user = Debian-exim
exim_group = Debian-exim
exim_path = $R/usr/sbin/exim4
spool_directory = $TMP/ex/spool
log_file_path = $TMP/ex/log/%slog
pid_file_path = $TMP/ex/exim.pid
keep_environment = LD_LIBRARY_PATH
deliver_drop_privilege = true
never_users = root
host_lookup =
tls_advertise_hosts =
acl_smtp_rcpt = acl_check_rcpt

begin acl
acl_check_rcpt:
  # --- mxguard (docs/MAPS.md) ---
  deny    hosts   = net-iplsearch;$H.reject
          message = \${lookup{\$sender_host_address}iplsearch{$H.reject}}
  defer   hosts   = net-iplsearch;$H.defer
          message = \${lookup{\$sender_host_address}iplsearch{$H.defer}}
  discard hosts   = net-iplsearch;$H.discard
  warn    hosts   = net-iplsearch;$H.hold
          control = freeze
  warn    hosts   = net-iplsearch;$H.tarpit
          delay   = 5s
  # --- end of mxguard ---
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
  file = $TMP/ex/mail/\$local_part_data
  user = Debian-exim
  group = Debian-exim
EOF
chmod 644 "$TMP/ex/etc/exim.conf"

# mxguard writes the host lists (the files exist before Exim's first lookup).
touch "$TMP/mail.log"
"$MXGUARD" run -c samples/mxguard.conf --source "$TMP/mail.log" --state-dir "$TMP/st" --socket "$TMP/s" \
	--map-file "exim:$H" > /dev/null 2> "$TMP/run.err" &
MXPID=$!
for _ in $(seq 100); do "$MXGUARD" ctl --socket "$TMP/s" status > /dev/null 2>&1 && break; sleep 0.1; done
ctl() { "$MXGUARD" ctl --socket "$TMP/s" "$@" > /dev/null; }
for _ in $(seq 20); do [ -e "$H.tarpit" ] && break; sleep 0.1; done

ip netns exec "$MX" unshare -m sh -c "mount --bind '$TMP/ex/etc/passwd' /etc/passwd &&
	mount --bind '$TMP/ex/etc/group' /etc/group &&
	LD_LIBRARY_PATH='$R/usr/lib/x86_64-linux-gnu' exec '$R/usr/sbin/exim4' -C '$TMP/ex/etc/exim.conf' -bd -q30m" \
	> "$TMP/exim.out" 2>&1
for _ in $(seq 50); do ip netns exec "$MX" ss -ltn | grep -q '203.0.113.10:25 ' && break; sleep 0.1; done
check "Exim listens in its namespace" sh -c "ip netns exec '$MX' ss -ltn | grep -q '203.0.113.10:25 '"

# send FROM-ADDRESS: one message to postmaster; prints the first error reply, else the last reply
send() {
	ip netns exec "$CLI" swaks -s 203.0.113.10 --li "$1" --to postmaster@example.com --from x@example.net \
		--helo client.example.net --timeout 20 > "$TMP/swaks.out" 2>&1
	grep -m1 '^<\*\*' "$TMP/swaks.out" || grep '^<-' "$TMP/swaks.out" | tail -1
}
ctl ban 203.0.113.110 for 1h reject
ctl ban 203.0.113.111 for 1h defer
ctl ban 203.0.113.112 for 1h tarpit
ctl ban 203.0.113.113 for 1h discard
ctl ban 203.0.113.115 for 1h hold
ctl ban 203.0.113.120/29 for 1h	# a prefix (a block is a reject for the MTA)
sleep 0.5
check_eq "reject: Exim answers 550 with the rule's name" "<** 550 Rejected by mxguard rule manual" "$(send 203.0.113.110)"
check_eq "a prefix covers its clients" "<** 550 Rejected by mxguard rule manual" "$(send 203.0.113.121)"
check_eq "defer: Exim answers 451" "<** 451 Deferred by mxguard rule manual, try again later" "$(send 203.0.113.111)"
t0=$(date +%s%N)
r=$(send 203.0.113.112)
t=$(( ($(date +%s%N) - t0) / 1000000 ))
check "tarpit: the RCPT waits 5 s, then goes on (${t} ms: $r)" test "$t" -ge 5000 -a "$(echo "$r" | cut -c1-8)" = "<-  221 "
check_eq "discard: accepted, then dropped" "<-  221 mx.example.com closing connection" "$(send 203.0.113.113)"
check_eq "hold: accepted ..." "<-  221 mx.example.com closing connection" "$(send 203.0.113.115)"
check "... and frozen in Exim's queue, not delivered" sh -c "grep -l '^-frozen' '$TMP/ex/spool/input/'*-H"
check_eq "a client under no action delivers" "<-  221 mx.example.com closing connection" "$(send 203.0.113.114)"
ctl unban 203.0.113.110
sleep 0.5
check_eq "unban: the rewritten list lets it through" "<-  221 mx.example.com closing connection" "$(send 203.0.113.110)"
delivered=$(grep -c '^Received: ' "$TMP/ex/mail/postmaster" 2> /dev/null)
check_eq "delivered: the tarpitted, the clean and the unbanned client's messages (not the discarded)" 3 "$delivered"
check "no temporary file is left behind" sh -c "! ls '$TMP'/hosts.*.mxguard-new 2> /dev/null"
finish
