# lib.sh - assertions for the shell tests. Each prints "ok NAME", "FAIL NAME"
# (plus details indented by two spaces) or "skip NAME: REASON"; run_all.sh
# counts them. A skip is never a pass: it is counted and listed apart, and
# under MXG_STRICT=1 (what .ci/run sets) it is a failure.
: "${MXGUARD:?}"
export TZ=UTC LC_ALL=C
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
# nap SECONDS: a pause without a process, for polling loops. `sleep` is a
# fork and an exec, about 5 ms of CPU on a small VM: a test polling every
# 20 ms spent a quarter of a core on its sleeps, and the suite runs three
# at once on two cores. read's timeout on a FIFO opened for reading and
# writing (so it never sees an end) and closed again with the command:
# no descriptor is left for the daemons the tests start.
_NAP=$TMP/.nap
mkfifo "$_NAP"
nap() { read -r -t "$1" _ <> "$_NAP" || :; }
_failures=0

pass() { echo "ok $1"; }
# failt NAME [DETAIL...]: every line of every detail indented (run_all.sh keeps only
# the lines that are indented, after the ok/FAIL/skip ones)
failt() {
	local l x
	echo "FAIL $1"
	shift
	for l in "$@"; do
		while IFS= read -r x; do echo "  $x"; done <<< "$l"
	done
	_failures=$((_failures + 1))
}

# check_eq NAME EXPECTED ACTUAL [DETAIL...]: the details are printed only on a failure
check_eq() {
	if [ "$2" == "$3" ]; then pass "$1"; else failt "$1" "expected: $(printf %s "$2" | head -c 300)" "actual:   $(printf %s "$3" | head -c 300)" "${@:4}"; fi
}

# check NAME COMMAND...: the command must succeed
check() {
	local name=$1
	shift
	if "$@" > "$TMP/.out" 2>&1; then pass "$name"; else failt "$name" "command failed: $*" "$(head -5 "$TMP/.out")"; fi
}

# stat_of FILE KEY: the value of "KEY: N" in mxguard --stats output
stat_of() {
	sed -n "s/^ *$2: //p" "$1" | head -1
}

finish() { exit $((_failures > 0)); }

# skip NAME REASON: NAME could not be tested here, and why (a missing tool,
# no namespaces, no network). Under MXG_STRICT=1 this is a failure instead:
# the run must prove everything it claims to test.
skip() {
	if [ "${MXG_STRICT:-0}" = 1 ]; then
		failt "$1: skipped in strict mode (MXG_STRICT=1): $2"
	else
		echo "skip $1: $2"
	fi
}

# skip_env NAME REASON: a step this environment cannot take at all (no way to
# the Debian mirror for a debootstrap root): a skip even under MXG_STRICT=1,
# counted and listed apart as such. Only for what an issue allows CI to skip.
skip_env() {
	echo "skip-env $1: $2"
}

# skip_all REASON: the whole test (named after its script) is skipped; ends it.
skip_all() {
	skip "$(basename "$0" .sh)" "$1"
	finish
}

# wait_for SECONDS COMMAND...: poll COMMAND (its output discarded) every 20 ms
# until it succeeds; 1 once SECONDS have passed without success. The bound
# is a deadline, not a pause: a fast machine returns at once, a loaded one
# gets the whole budget. Callers that must fail on a timeout check $?.
wait_for() {
	local s=${1%%.*} f=
	[[ $1 == *.* ]] && f=${1#*.}
	f=${f}000000
	local end=$((${EPOCHREALTIME/./} + ${s:-0} * 1000000 + 10#${f:0:6})) ms=10 pause left
	shift
	# Looked at after 10, 30, 70, 150 ms, then every 160 ms: a condition is
	# often a process or two (ctl, jq, grep), and each costs ~4 ms of CPU
	# here; a long wait should not spend a processor on asking.
	# (never past the deadline by more than a last look: a pause ends there)
	until "$@" > /dev/null 2>&1; do
		left=$(((end - ${EPOCHREALTIME/./}) / 1000))
		[ "$left" -gt 0 ] || return 1
		printf -v pause '0.%03d' "$((ms < left ? ms : left))"
		nap "$pause"
		ms=$((ms < 80 ? ms * 2 : 160))
	done
}

# file_quiet FILE SECONDS: FILE did not grow over SECONDS (a log whose writers are done).
file_quiet() {
	local a b
	a=$(stat -c %s "$1")
	sleep "$2"	# on purpose: "quiet" is no growth over a span of time
	b=$(stat -c %s "$1")
	[ "$a" = "$b" ]
}

# ctl_up SECONDS SOCKET: wait until the daemon answers "ctl status" on SOCKET
ctl_up() { wait_for "$1" "$MXGUARD" ctl --socket "$2" status; }

# not COMMAND...: COMMAND fails (for wait_for: wait until something is gone)
not() { ! "$@"; }

# lines_at_least N FILE: FILE exists and has at least N lines
lines_at_least() { [ -f "$2" ] && [ "$(wc -l < "$2")" -ge "$1" ]; }

# count_at_least N COMMAND...: COMMAND prints a number (grep -c, wc -l) that is at least N
count_at_least() {
	local n=$1 got
	shift
	got=$("$@" 2> /dev/null)
	[ "${got:-0}" -ge "$n" ] 2> /dev/null
}

# released PID FILE: process PID holds no descriptor on FILE any more
# (whatever its name by now) - the daemon has finished a rotated or deleted
# log. FILE's identity is taken when called; or pass -i "$(file_id FILE)"
# taken before FILE was renamed or deleted.
file_id() { stat -L -c %d:%i "$1"; }
released() {
	local pid=$1 id fd
	if [ "$2" = -i ]; then id=$3; else id=$(file_id "$2") || return 1; fi
	for fd in /proc/"$pid"/fd/*; do
		[ "$(file_id "$fd" 2> /dev/null)" = "$id" ] && return 1
	done
	[ -d /proc/"$pid" ]	# (a dead process released everything, but that is no success)
}

# unpack_debs ROOT PKG...: Debian packages unpacked (never installed) into
# ROOT, downloaded once into $MXG_DEB_CACHE (default build/debs); without a
# network the test is skipped.
unpack_debs() {
	local root=$1 cache=${MXG_DEB_CACHE:-$PWD/build/debs} p
	shift
	mkdir -p "$cache" && chmod 777 "$cache"	# apt's download user writes there
	for p in "$@"; do
		# (under the cache's lock: tests run side by side (MXG_JOBS) must not see a download half written)
		(flock 9; ls "$cache/${p}"_*.deb > /dev/null 2>&1 || (cd "$cache" && apt-get download "$p" > /dev/null 2>&1)) \
			9> "$cache/.lock" || skip_all "cannot download the Debian package $p (no network?)"
		dpkg -x "$(ls "$cache/${p}"_*.deb | head -1)" "$root"
	done
}

# missing_libs FILE...: the shared libraries the FILEs need and the loader cannot find, or nothing
missing_libs() { ldd "$@" | awk '/not found/ {print $1}' | sort -u | xargs; }

# enforce_latency LOG ERE CMD...: the time from an attack's first line to its
# enforcement. Polls every 5 ms (at most 5 s): counts the lines of LOG that
# match ERE (the attack's lines) and runs CMD (succeeds once enforced).
# Sets LAT_OK (1 if both were seen), LAT_MS (first attack line ->
# enforcement) and LAT20_MS (from the 20th line, the one that crosses a
# threshold of 20). Both ends seen in one poll count as 0 ms apart.
enforce_latency() {
	local log=$1 re=$2 n t0= t20= t1=
	shift 2
	_lat_marks() {
		n=$(grep -cE "$re" "$log")
		[ -z "$t0" ] && [ "$n" -ge 1 ] && t0=$((${EPOCHREALTIME/./} / 1000))
		[ -z "$t20" ] && [ "$n" -ge 20 ] && t20=$((${EPOCHREALTIME/./} / 1000))
		return 0
	}
	for _ in $(seq 1000); do
		_lat_marks
		"$@" > /dev/null 2>&1 && { t1=$((${EPOCHREALTIME/./} / 1000)); _lat_marks; break; }
		nap 0.005
	done
	[ -n "$t0" ] && [ -n "$t1" ] && [ "$t0" -gt "$t1" ] && t0=$t1
	[ -n "$t20" ] && [ -n "$t1" ] && [ "$t20" -gt "$t1" ] && t20=$t1
	LAT_OK=0
	[ -n "$t0" ] && [ -n "$t1" ] && LAT_OK=1
	LAT_MS=$((${t1:-0} - ${t0:-0})) LAT20_MS=$((${t1:-0} - ${t20:-${t1:-0}}))
}

# postmap_conf DIR: a minimal Postfix configuration in DIR for postmap (MAIL_CONFIG
# or -c DIR), dated a minute ago: Postfix will not read a main.cf changed within
# the last second (it sleeps 300 ms and reads again, up to a second), which
# would add to the first lookup's time whatever the map answers.
postmap_conf() {
	mkdir -p "$1"
	printf 'compatibility_level = 3.6\n' > "$1/main.cf"
	touch -d '1 minute ago' "$1/main.cf"
}

# tcp_sink NS ADDR PORT: in namespace NS, accept TCP connections on ADDR:PORT
# and close them, in the background (its pid in $!). Not `nc -lk`: it listens
# with a backlog of 1 and serves one connection at a time, so on a loaded
# machine a third quick client's SYN is dropped and counted as blocked.
tcp_sink() {
	ip netns exec "$1" python3 -c '
import socket, sys
a = sys.argv[1]
s = socket.socket(socket.AF_INET6 if ":" in a else socket.AF_INET)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((a, int(sys.argv[2])))
s.listen(1024)
while True:
    s.accept()[0].close()
' "$2" "$3" > /dev/null 2>&1 &
}

# bridge_net MX PREFIX CLIENT...: the end-to-end tests' network. The MX
# namespace (already added) gets a bridge holding 203.0.113.1 and
# 198.51.100.1; each CLIENT gets a namespace PREFIX$CLIENT$$ with one veth on
# the bridge and the address ${ADDR[CLIENT]}/24 (ADDR: an associative array
# of the caller). Removing the namespaces is the caller's (its EXIT trap).
bridge_net() {
	local mx=$1 prefix=$2 c ns
	shift 2
	ip -n "$mx" link add br0 type bridge
	ip -n "$mx" link set br0 up
	ip -n "$mx" link set lo up
	ip -n "$mx" addr add 203.0.113.1/24 dev br0
	ip -n "$mx" addr add 198.51.100.1/24 dev br0
	for c in "$@"; do
		ns=$prefix$c$$
		ip netns add "$ns"
		ip -n "$mx" link add "v$c" type veth peer name eth0 netns "$ns"
		ip -n "$mx" link set "v$c" master br0 up
		ip -n "$ns" link set lo up
		ip -n "$ns" link set eth0 up
		ip -n "$ns" addr add "${ADDR[$c]}/24" dev eth0
	done
}
# MXIP CLIENT: the MX address on the client's network
MXIP() { case ${ADDR[$1]} in 198.*) echo 198.51.100.1 ;; *) echo 203.0.113.1 ;; esac; }

# own_netns VAR: the test runs again inside a network namespace of its own
# (unshare -n: only its loopback, which is brought up; nothing of the
# host's network is seen or touched), with VAR=1 in its environment; or a
# skip (not root, no namespaces). Returns in the namespace only.
own_netns() {
	local var=$1
	[ "$(id -u)" = 0 ] || skip_all "needs root for a network namespace (unshare -n)"
	if [ -z "${!var:-}" ]; then
		unshare -n true 2> /dev/null || skip_all "cannot create a network namespace (unshare -n)"
		rm -rf "$TMP"
		export "$var=1"
		exec unshare -n bash "$0"
	fi
	ip link set lo up || { failt "loopback up in the namespace"; finish; }
}

# rbldnsd_ns VAR TOOL: what a test against the real rbldnsd needs (its
# test TOOL, rbldnsd, dig, python3, ip, root and the rbldns user), or a
# skip; then the test runs again inside a network namespace of its own
# (unshare -n, loopback up) with VAR=1 in its environment. Returns in the
# namespace only.
rbldnsd_ns() {
	local var=$1 tool=$2
	[ -x "$tool" ] || skip_all "no $(basename "$tool") at $tool (make check builds it next to the unit tests)"
	command -v rbldnsd > /dev/null || skip_all "rbldnsd is not installed (apt-get install rbldnsd)"
	command -v dig > /dev/null || skip_all "dig is not installed (apt-get install dnsutils)"
	command -v python3 > /dev/null || skip_all "python3 is not installed"
	command -v ip > /dev/null || skip_all "ip is not installed (apt-get install iproute2)"
	[ "$(id -u)" = 0 ] || skip_all "needs root for a network namespace (unshare -n)"
	id rbldns > /dev/null 2>&1 || skip_all "no user rbldns (rbldnsd refuses to run as root; the Debian package adds it)"
	own_netns "$var"
	chmod 755 "$TMP"	# rbldnsd reads the zones as user rbldns
	PORT=$((20000 + RANDOM % 40000))	# (a fresh namespace: every port is free)
}

# rbldnsd_start [OPTION...] ZONE:TYPE:FILE...: the real rbldnsd on 127.0.0.1:$PORT (after
# rbldnsd_ns), its log in $TMP/rbldnsd.log and its pid in RBLDNSD; 0 once it answers.
rbldnsd_start() {
	rbldnsd -n -c 0 -u rbldns -b "127.0.0.1/$PORT" "$@" > "$TMP/rbldnsd.log" 2>&1 &
	RBLDNSD=$!
	wait_for 20 dig +short +tries=1 +time=1 -p "$PORT" @127.0.0.1 version.bind CH TXT
}
