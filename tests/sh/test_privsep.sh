#!/usr/bin/env bash
# test_privsep.sh - `mxguard run --user`: the process that reads and judges
# the logs runs without privileges; only the privileged part holds the
# firewall, takes nothing from the worker unchecked, and starts a killed
# worker again without losing a line or the flood it was counting.
# Proven from /proc, with forged messages on the worker's real channel,
# and with real packets between two network namespaces this test creates
# (nftables inside them; the host's firewall is never touched).
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" = 0 ] || skip_all "needs root (privilege separation, network namespaces)"
for tool in ip nft python3 pgrep setpriv postmap; do
	command -v "$tool" > /dev/null || skip_all "$tool missing"
done
getent passwd nobody > /dev/null || skip_all "no user 'nobody' here"
SRV=mxg-ps$$ CLI=mxg-pc$$
if ! ip netns add "$SRV" 2> /dev/null; then skip_all "cannot create network namespaces here"; fi
ip netns add "$CLI"
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2> /dev/null; done
	wait 2> /dev/null
	ip netns del "$SRV" 2> /dev/null
	ip netns del "$CLI" 2> /dev/null
	[ -n "${KEEP:-}" ] && echo "kept $TMP" || rm -rf "$TMP"
}
trap cleanup EXIT
ip link add "vs$$" type veth peer name "vc$$"
ip link set "vs$$" netns "$SRV"
ip link set "vc$$" netns "$CLI"
ip -n "$SRV" addr add 198.51.100.1/24 dev "vs$$"
ip -n "$CLI" addr add 198.51.100.2/24 dev "vc$$"	# the attacker
ip -n "$CLI" addr add 198.51.100.5/24 dev "vc$$"	# an innocent client
for ns in "$SRV" "$CLI"; do ip -n "$ns" link set lo up; done
ip -n "$SRV" link set "vs$$" up
ip -n "$CLI" link set "vc$$" up
tcp_sink "$SRV" 198.51.100.1 2525; PIDS+=($!)
listening() { [ "$(ip netns exec "$SRV" ss -Hltn "sport = :2525" | wc -l)" -ge 1 ]; }
wait_for 10 listening
# conn SRC: a TCP connection from SRC gets through within a second
conn() { ip netns exec "$CLI" python3 -c '
import socket, sys
s = socket.socket(); s.settimeout(1); s.bind((sys.argv[1], 0)); s.connect(("198.51.100.1", 2525))' "$1" 2> /dev/null; }

# The worker's user must reach its files: a directory of its own for the state and the sockets.
chmod 755 "$TMP"
D=$TMP/d
mkdir -p "$D/st" "$D/run" "$D/maps" "$D/rep" "$D/met" "$TMP/elsewhere" "$TMP/bin"
chown nobody: "$D" "$D/st" "$D/run" "$D/maps" "$D/rep" "$D/met" "$TMP/elsewhere"
# A program the worker runs (postmap, for the map file) tries to write where the worker's user may
# (a directory nobody owns) but the worker does not write: the sandbox must stop it, not the permissions.
cat > "$TMP/bin/postmap" << EOF
#!/bin/sh
if echo escaped 2> /dev/null > "$TMP/elsewhere/escaped"; then r=written; else r=denied; fi
echo "\$r" > "$D/maps/probe"
exec "$(command -v postmap)" "\$@"
EOF
chmod 755 "$TMP/bin/postmap"
postmap_conf "$TMP/pf"
export MAIL_CONFIG=$TMP/pf	# the configuration postmap reads
L=$TMP/mail.log
touch "$L"
chmod 600 "$L"		# root's only: the privileged part opens it for the worker
echo "planted" > "$TMP/other.log"
ln -s /etc/shadow "$TMP/mail.log.9"	# a link planted under a rotated name
ctl() { "$MXGUARD" ctl --socket "$D/run/s" "$@"; }
PATH="$TMP/bin:$PATH" ip netns exec "$SRV" "$MXGUARD" run -c "$PWD/samples/mxguard.conf" --source "$L" \
	--state-dir "$D/st" --socket "$D/run/s" --events "$D/events" --firewall nftables --user nobody \
	--map-file "hash:$D/maps/access" --report-dir "$D/rep" --metrics-file "$D/met/mxguard.prom" \
	> "$TMP/dec" 2> "$TMP/err" &
P=$!
PIDS+=($P)
ctl_up 30 "$D/run/s"
W=$(pgrep -P "$P")
check "the daemon split in two: a privileged part and one worker, its child" test -n "$W"
field() { awk -v k="$2:" '$1 == k { $1 = ""; print substr($0, 2) }' "/proc/$1/status"; }
check_eq "the privileged part is root" "0 0 0 0" "$(field "$P" Uid | tr -s '\t ' ' ')"
check_eq "the worker runs as nobody (real, effective, saved, fs uid)" \
	"$(id -u nobody) $(id -u nobody) $(id -u nobody) $(id -u nobody)" "$(field "$W" Uid | tr -s '\t ' ' ')"
check_eq "... in nobody's group" "$(id -g nobody)" "$(field "$W" Gid | awk '{print $2}')"
for set in CapInh CapPrm CapEff CapBnd CapAmb; do
	check_eq "the worker has no capability: $set" 0000000000000000 "$(field "$W" $set)"
done
check_eq "the worker can gain none (no_new_privs)" 1 "$(field "$W" NoNewPrivs)"
# Who reads the log: the worker has it open, the privileged part neither it nor the state.
fds() { ls -l "/proc/$1/fd" 2> /dev/null | awk '{print $NF}'; }
check "the worker's user cannot open the log itself" not setpriv --reuid=nobody --regid="$(id -g nobody)" \
	--clear-groups cat "$L"
check "the worker is the one reading the log (a descriptor the privileged part opened)" grep -qx "$L" <(fds "$W")
check "the privileged part has no log and no state open" not grep -qE "mail.log|state.db|events" <(fds "$P")
check "the worker keeps the state" grep -q "$D/st/state.db" <(fds "$W")
check "the firewall is set up (by the privileged part, on the worker's request)" \
	ip netns exec "$SRV" nft list table inet mxguard

# A worker taken over: forged and malformed messages on its real channel. Each is refused.
python3 "$(dirname "$0")/privsep_forge.py" "$W" "$TMP" > "$TMP/forged" 2> "$TMP/forge.err"
check "forged messages were sent on the worker's channels" test -s "$TMP/forged"
while read -r chan name rc; do
	# (a refusal is -1 on the firewall's channel, -EACCES on the files')
	check_eq "forged '$name' on the $chan channel: refused" "$([ "$chan" = files ] && echo rc=-13 || echo rc=-1)" "$rc"
done < "$TMP/forged"
check_eq "every forged message got its answer (32 firewall, 10 files)" "32 10" \
	"$(grep -c ^firewall "$TMP/forged") $(grep -c ^files "$TMP/forged")"
for why in "wider than the /8" "wider than the /16" "loopback" "host bits set" "longer than any" \
	"without the magic" "a duration of -5" "set up a second time" "does not hold the 100000 entries" \
	"open of /etc/shadow: not a source" "other.log: not a source" "mail.log.9: a symbolic link" \
	"a firewall request on the files' channel" "an open on the firewall's channel" \
	"not a header and a path of 0 bytes" "a port 0 or bytes past its end" "ports on an entry that cannot have them"; do
	check "the privileged part logged the refusal: $why" grep -q "refused a message from the worker.*$why" "$TMP/err"
done
check "no forged entry reached the firewall" not grep -qE "0\.0\.0\.0/0|127\.0\.0\.1|16\.0\.0\.0|203\.0\.113\.5" \
	<(ip netns exec "$SRV" nft list ruleset)
inset() { ip netns exec "$SRV" nft list set inet mxguard v4 | grep -q "$1"; }
ctl ban 203.0.113.9 > /dev/null
check "after them the worker's own requests still work: a manual ban goes through the privileged part into the firewall" \
	wait_for 10 inset 203.0.113.9
check "the worker writes the decision log (the ban, by ctl, in the state directory's decisions.log)" \
	grep -q '"event":"ban","key":"203.0.113.9".*"by":"ctl","uid":0' "$D/st/decisions.log"

# The sandbox (Landlock): the worker and what it runs write only in its own directories.
if grep -q "no Landlock" "$TMP/err"; then
	skip "the worker's Landlock sandbox" "this kernel has no Landlock"
else
	check "the worker entered its sandbox (state, sockets, maps, reports, metrics)" \
		grep -q "the worker writes only in its 5 directories (Landlock" "$TMP/err"
	check "the map file was written by the worker (postmap run) with the ban" wait_for 10 test -s "$D/maps/probe"
	check_eq "a program the worker runs cannot write outside the worker's directories" denied \
		"$(cat "$D/maps/probe" 2> /dev/null)"
	check "... though the permissions would let the worker's user write there" \
		setpriv --reuid=nobody --regid="$(id -g nobody)" --clear-groups sh -c "echo x > '$TMP/elsewhere/control'"
	# (the probe is written as postmap starts; the table is renamed into place after it ends: wait)
	check "the map file holds the ban (renamed from the worker's temporary directory)" \
		wait_for 10 grep -q "^203.0.113.9[[:space:]]" "$D/maps/access"
	check "the map's database was rebuilt into place" test -s "$D/maps/access.db"
	check "the metrics file is written in the sandbox" wait_for 20 grep -q "^mxguard_" "$D/met/mxguard.prom"
	# (a minute ended in event time: the report's RRD gets its first rows)
	for ago in "-3 min" "now"; do
		echo "$(date -d "$ago" '+%b %e %H:%M:%S') mx1 postfix/smtpd[9]: connect from unknown[198.51.100.7]"
	done >> "$L"
	check "the report directory is written in the sandbox (its RRD)" wait_for 20 test -s "$D/rep/mxguard.rrd"
fi

# A flood, and the worker killed in its middle: nothing is lost, the flood is decided.
check "the attacker connects before the flood" conn 198.51.100.2
dha() {
	for i in $(seq "$1" "$2"); do
		echo "$(date '+%b %e %H:%M:%S') mx1 postfix/smtpd[9]: NOQUEUE: reject: RCPT from unknown[198.51.100.2]: 550 5.1.1 <u$i@example.org>: Recipient address rejected: User unknown in local recipient table; from=<x@example.net> to=<u$i@example.org> proto=ESMTP helo=<x>"
	done >> "$L"
}
read_at_least() { [ "$(ctl --json status | python3 -c 'import json,sys; print(json.load(sys.stdin)["lines"])')" -ge "$1" ]; }
dha 1 12
wait_for 20 read_at_least 12
check_eq "the worker read the first 12 lines of the flood" 0 $?
if [ -n "${VALGRIND:-}" ]; then
	# The privileged part starts a new worker by running /proc/self/exe, which under valgrind is
	# valgrind's own program, not mxguard; the flood goes on with the first worker.
	skip "the privileged part starts a new worker after kill -9" \
		"under valgrind /proc/self/exe is valgrind itself (the worker is not killed in this run)"
	W2=$W
else
	kill -9 "$W"
	new_worker() { W2=$(pgrep -P "$P") && [ -n "$W2" ] && [ "$W2" != "$W" ] && [ -e "$D/run/s" ] && ctl status; }
	wait_for 30 new_worker
	check_eq "the privileged part started a new worker after kill -9" 0 $?
	W2=$(pgrep -P "$P")
	check "it said so" grep -q "killed by signal 9; starting it again" "$TMP/err"
	check_eq "the new worker runs as nobody too, without capabilities" "$(id -u nobody) 0000000000000000 1" \
		"$(field "$W2" Uid | awk '{print $2}') $(field "$W2" CapEff) $(field "$W2" NoNewPrivs)"
fi
check "the manual ban stayed in the firewall meanwhile" inset 203.0.113.9
dha 13 22
wait_for 20 grep -q '"rule":"dha".*"key":"198.51.100.2"' "$TMP/dec"
check_eq "the flood straddling the kill is decided (20 distinct recipients)" 0 $?
blocked() { ! conn "$1"; }
wait_for 10 blocked 198.51.100.2
check_eq "its decision drops the attacker's packets at the firewall" 0 $?
check "the innocent client still connects" conn 198.51.100.5
wait_for 10 lines_at_least 22 "$D/events"
check_eq "every line of the flood is one event, none lost, none twice (--events)" "22 22" \
	"$(grep -c rcpt_unknown "$D/events") $(grep rcpt_unknown "$D/events" | grep -o '"to":"u[0-9]*@' | sort -u | wc -l)"

# Rotation: the new file and the rotated one are opened by the privileged part too.
mv "$L" "$L.1"
echo "$(date '+%b %e %H:%M:%S') mx1 postfix/smtpd[9]: connect from unknown[198.51.100.5]" >> "$L.1"
install -m 600 /dev/null "$L"
echo "$(date '+%b %e %H:%M:%S') mx1 postfix/smtpd[9]: connect from unknown[198.51.100.6]" >> "$L"
wait_for 20 grep -q '"ip":"198.51.100.6"' "$D/events"
check_eq "after a rotation the new log (root's only) is followed" 0 $?
check "... and the rest of the rotated one read" grep -q '"ip":"198.51.100.5"' "$D/events"
has_fd() { fds "$1" | grep -qx "$2"; }
check "the worker holds the new log's descriptor" wait_for 10 has_fd "$W2" "$L"

# SIGHUP to the daemon (the privileged part's pid, as systemd sends it) reaches the worker, which
# reloads its configuration inside the sandbox.
kill -HUP "$P"
wait_for 20 grep -q "run: reloaded $PWD/samples/mxguard.conf" "$TMP/err"
check_eq "SIGHUP to the privileged part: the worker reloads (in its sandbox)" 0 $?
check "... and it is still the same worker" test "$(pgrep -P "$P")" = "$W2"

# Stopping: SIGTERM to the privileged part stops the worker; both end, status 0; the blocks stay.
kill -TERM "$P"
wait "$P"
check_eq "SIGTERM to the privileged part: the daemon stops with status 0" 0 $?
check "the worker ended too" not pgrep -P "$P"
check "the blocks in force stay in the firewall after a stop (no --remove-on-exit)" inset 198.51.100.2
check "the worker said it stopped" grep -q "run: stopping" "$TMP/err"
check "the worker removed its control socket when it stopped (the sandbox lets it)" not test -e "$D/run/s"

# "set user" in the configuration does what --user does.
printf 'include "%s"\nset user "nobody"\n' "$PWD/samples/mxguard.conf" > "$TMP/user.conf"
"$MXGUARD" run -c "$TMP/user.conf" --source "$L" --state-dir "$D/st" --socket "$D/run/s4" > /dev/null 2> "$TMP/setuser" &
P2=$!
PIDS+=($P2)
ctl_up 30 "$D/run/s4"
W4=$(pgrep -P "$P2")
check_eq "set user \"nobody\": the worker runs as nobody" "$(id -u nobody)" "$(field "$W4" Uid | awk '{print $2}')"
kill -TERM "$P2"
wait "$P2"
check_eq "... and stops with status 0" 0 $?
# A block of some ports only ('set ports') crosses to the privileged part whole.
printf 'include "%s"\nset user "nobody"\nset ports 2525, smtp\n' "$PWD/samples/mxguard.conf" > "$TMP/ports.conf"
ip netns exec "$SRV" "$MXGUARD" run -c "$TMP/ports.conf" --source "$L" --state-dir "$D/st" --socket "$D/run/s6" \
	--firewall nftables > /dev/null 2> "$TMP/pports" &
P3=$!
PIDS+=($P3)
ctl_up 30 "$D/run/s6"
"$MXGUARD" ctl --socket "$D/run/s6" ban 203.0.113.10 > /dev/null
inports() { ip netns exec "$SRV" nft list set inet mxguard v4_p0 | grep -q "$1"; }
check "set ports under --user: the worker's ban reaches the set of its ports through the privileged part" \
	wait_for 10 inports 203.0.113.10
check "... whose rule drops only those ports (2525, 25)" sh -c \
	"ip netns exec '$SRV' nft list chain inet mxguard clients | grep -q 'ip saddr @v4_p0 tcp dport { 25, 2525 } drop'"
check "... and not the set of every port" not sh -c "ip netns exec '$SRV' nft list set inet mxguard v4 | grep -q 203.0.113.10"
kill -TERM "$P3"
wait "$P3"
printf 'include "%s"\nset user "no-such-user-mxg"\n' "$PWD/samples/mxguard.conf" > "$TMP/nouser.conf"
"$MXGUARD" run -c "$TMP/nouser.conf" --source "$L" --state-dir "$D/st" --socket "$D/run/s5" > /dev/null 2> "$TMP/setnouser"
check_eq "set user of a user this host has not: exit 78" 78 $?
check "... with its place: FILE:LINE:COL" grep -q "nouser.conf:2:10: set user: no-such-user-mxg: no such user" "$TMP/setnouser"
"$MXGUARD" check "$TMP/nouser.conf" > /dev/null 2> "$TMP/checknouser"
check "mxguard check warns about it" grep -q "nouser.conf:2:10: warning: set user: no-such-user-mxg: no such user" \
	"$TMP/checknouser"

# Users that cannot be the worker's.
run_as() {
	local u=$1
	shift
	"$MXGUARD" run -c "$PWD/samples/mxguard.conf" --source "$L" --state-dir "$D/st" --socket "$D/run/s2" --user "$u" "$@"
}
run_as no-such-user-mxg > /dev/null 2> "$TMP/nouser"
check_eq "--user of a user that does not exist: exit 67" 67 $?
check "... and it says so" grep -q "no-such-user-mxg: no such user" "$TMP/nouser"
run_as nobody --socketmap "$D/run/smap" > /dev/null 2> "$TMP/smap"
check_eq "--user and a socketmap whose group (postfix) the user is not in: exit 69" 69 $?
check "... and it says how to fix it" grep -q "not a member (add it: usermod -aG postfix USER)" "$TMP/smap"
# A drop that cannot be done (started without root: no capability to give up the bounding set) ends the worker.
setpriv --reuid=nobody --regid="$(id -g nobody)" --clear-groups "$MXGUARD" run -c "$PWD/samples/mxguard.conf" \
	--source "$L" --state-dir "$D/st" --socket "$D/run/s3" --user nobody > /dev/null 2> "$TMP/nodrop"
check_eq "a privilege drop that fails is fatal: exit 77, before a log is read" 77 $?
check "... and it says what failed" grep -q "privilege drop: .*Operation not permitted" "$TMP/nodrop"
run_as root > /dev/null 2> "$TMP/root"
check_eq "--user root is refused: exit 67" 67 $?
check "... and it says why" grep -q "must not run as root" "$TMP/root"
finish
