#!/usr/bin/env bash
# bench/bench_mta.sh - the headline: what mxguard saves a real mail server
# under attack.
#
#   bench/bench_mta.sh [--mta postfix|exim] [SECONDS]     (as root, from anywhere)
#
# A real Postfix (Debian's) runs in a network namespace of its own, as the
# end-to-end tests run it (tests/sh/postfix_ns.sh), or with --mta exim the
# real Exim 4.96 of the real-MTA tests (tests/sh/mta_real.sh: Debian's
# package unpacked, never installed). From a second namespace
# bench/smtp_load.py offers the same mixed attack at fixed rates in three
# phases of SECONDS each (default 120): four IPv4 directory harvesters, one
# harvesting /64 rotating through 16 IPv6 addresses, a connection flood, a
# bounce flood - and a legitimate sender, a message every two seconds (30
# connections a minute: the default policy counts 60 a minute as a flood), whose
# transaction time (connect to the 250 accepting its message: see smtp_load.py
# for why not to the reply to QUIT) and arrival in the mailbox are measured.
#   none      Postfix alone
#   map       mxguard beside it answering Postfix's socketmap lookups
#             (smtpd_client_restrictions = check_client_access socketmap:...),
#             or keeping Exim's host lists (--map-file exim:, the RCPT ACL
#             of docs/MAPS.md)
#   firewall  mxguard blocking with nftables in Postfix's namespace
# Both mxguard phases run the default policy (samples/mxguard.conf) from the
# log's first line. Measured per phase: the SMTP sessions Postfix served
# to attacker addresses (its "connect from" lines; Exim's "SMTP connection
# from"), the CPU seconds of every MTA process (a cpuacct cgroup holds them
# all, short-lived smtpd and cleanup included), the most smtpd (exim4)
# processes at once (sampled every
# 0.2 s), the queue left when the phase ends, mxguard's CPU seconds and
# peak RSS, and the legitimate sender's delivered messages and latency.
# Prints a table and the line
#   headline: attacker sessions -NN.N%, MTA CPU -NN.N%, legitimate p99 +N.N ms (firewall mode)
# and appends the same to bench/RESULTS.md with the command and the machine.
#
# Safe and bounded: documentation addresses only (198.51.100.0/24,
# 203.0.113.0/24, 2001:db8::/32), every namespace and cgroup is the
# script's own and removed at its end, the load generator stops by itself,
# nothing touches the host's firewall or network.
set -uo pipefail

MTA=postfix
SECS=120
while [[ $# -gt 0 ]]; do
	case $1 in
	--mta) MTA=${2:-}; shift 2 ;;
	--mta=*) MTA=${1#--mta=}; shift ;;
	[1-9]*) SECS=$1; shift ;;
	*) echo "usage: bench/bench_mta.sh [--mta postfix|exim] [SECONDS]" >&2; exit 64 ;;
	esac
done
[[ $SECS =~ ^[1-9][0-9]*$ ]] || { echo "bench_mta: SECONDS must be a whole number" >&2; exit 64; }
case $MTA in
postfix | exim) ;;
*) echo "bench_mta: --mta postfix|exim" >&2; exit 64 ;;
esac
cd "$(dirname "$0")/.."
[[ $EUID == 0 ]] || { echo "bench_mta: run as root (network namespaces, cgroups)" >&2; exit 77; }
need=(python3 nft ip ss)
[[ $MTA == postfix ]] && need+=(postfix)
for t in "${need[@]}"; do
	command -v "$t" > /dev/null || { echo "bench_mta: $t missing (./run test installs it)" >&2; exit 69; }
done
if [[ ${BENCH_BUILD:-1} == 1 ]]; then
	make -s mxguard || { echo "bench_mta: make failed" >&2; exit 1; }
fi
export MXGUARD=$PWD/mxguard
. tests/sh/lib.sh
. tests/sh/postfix_ns.sh
if [[ $MTA == exim ]]; then
	. tests/sh/mta_real.sh
	mr_init exim	# (Debian's Exim and its libraries unpacked under $TMP/root; it says why if it cannot)
fi

# A cpuacct cgroup per phase (v1 here, v2 elsewhere): its usage counts every process started in it.
if [[ -d /sys/fs/cgroup/cpuacct ]]; then
	CGROOT=/sys/fs/cgroup/cpuacct CGUSE=cpuacct.usage
elif [[ -f /sys/fs/cgroup/cgroup.controllers ]]; then
	CGROOT=/sys/fs/cgroup CGUSE=cpu.stat
else
	echo "bench_mta: no cpuacct cgroup to count Postfix's CPU with" >&2
	exit 69
fi
cg_ns() {	# the cgroup's CPU so far, in nanoseconds
	if [[ $CGUSE == cpuacct.usage ]]; then cat "$1/cpuacct.usage"; else awk '/^usage_usec/ {print $2 * 1000}' "$1/cpu.stat"; fi
}

MX=mxg-bmx$$ CL=mxg-bcl$$
MX4=198.51.100.1 MX6=2001:db8:bad::1 LEGIT=198.51.100.10
HARV=(203.0.113.11 203.0.113.12 203.0.113.13 203.0.113.14) FLOOD=203.0.113.21 BOUNCE=203.0.113.31
HARV6=()
for i in $(seq 256 271); do HARV6+=("2001:db8:bad::$(printf %x "$i")"); done
PF_MX=$MX MXPID= SAMPLER= CG=
cleanup() {
	[[ -n $MXPID ]] && kill "$MXPID" 2> /dev/null
	[[ -n $SAMPLER ]] && kill "$SAMPLER" 2> /dev/null
	[[ $MTA == postfix ]] && pf postfix stop > /dev/null 2>&1
	[[ $MTA == exim && -n ${MR_DIR[exim]:-} ]] && mr_stop exim
	wait 2> /dev/null
	for ns in "$MX" "$CL"; do
		for p in $(ip netns pids "$ns" 2> /dev/null); do kill -9 "$p" 2> /dev/null; done
		ip netns del "$ns" 2> /dev/null
	done
	for d in "$CGROOT"/mxg-bench$$-*; do [[ -d $d ]] && rmdir "$d" 2> /dev/null; done
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ip netns add "$MX" || { echo "bench_mta: cannot create network namespaces" >&2; exit 69; }
ip netns add "$CL"
ip -n "$MX" link add eth0 type veth peer name eth0 netns "$CL"
for a in $MX4/24 203.0.113.1/24; do ip -n "$MX" addr add "$a" dev eth0; done
ip -n "$MX" addr add "$MX6/64" dev eth0 nodad
for a in "$LEGIT" "${HARV[@]}" "$FLOOD" "$BOUNCE"; do ip -n "$CL" addr add "$a/24" dev eth0; done
for a in "${HARV6[@]}"; do ip -n "$CL" addr add "$a/64" dev eth0 nodad; done
for ns in "$MX" "$CL"; do ip -n "$ns" link set lo up; ip -n "$ns" link set eth0 up; done

# The MTA's words for a session it served (Postfix: "connect from", Exim:
# "SMTP connection from ... (TCP/IP connection count"), its log, its
# processes' name, its recipients, what mxguard's map mode needs.
if [[ $MTA == postfix ]]; then
	LOG=$TMP/maillog PROC=smtpd DOMAIN=(--domain example.org --legit-rcpt alice --bounce-rcpt bob)
	served() { grep -cE "postfix/smtpd\[[0-9]+\]: connect from [^ ]*\[($1)" "$LOG"; }
	queued() { find "$TMP/q/incoming" "$TMP/q/active" -type f 2> /dev/null; }
	queued_all() { find "$TMP/q/incoming" "$TMP/q/active" "$TMP/q/deferred" "$TMP/q/hold" -type f 2> /dev/null; }
	mta_stop() {
		pf postfix stop > /dev/null 2>&1
		wait_for 20 not sh -c "ip netns exec '$MX' ss -ltn | grep -q ':25 '"
	}
	MAILBOX=$TMP/mail/alice
else
	MR_SRV_NS[exim]=$MX MR_CLI_NS[exim]=$CL MR_SRV_IP[exim]=$MX4
	LOG=$TMP/ex/log/mainlog PROC=exim4 DOMAIN=(--domain example.com --legit-rcpt postmaster --bounce-rcpt postmaster)
	served() { grep -E "SMTP connection from [^[]*\[($1)" "$LOG" | grep -c '(TCP/IP connection count = '; }
	queued() { find "$TMP/ex/spool/input" -name '*-H' 2> /dev/null | grep -v frozen; }
	queued_all() { find "$TMP/ex/spool/input" -name '*-H' 2> /dev/null; }
	mta_stop() { [[ -n ${MR_DIR[exim]:-} ]] && mr_stop exim; return 0; }
	MAILBOX=$TMP/ex/mail/postmaster
fi
declare -A R	# R[phase.key] = figure

# smtpd_count: Postfix's smtpd processes in the MX namespace now
smtpd_count() {
	local n=0 p
	for p in $(ip netns pids "$MX" 2> /dev/null); do
		[[ $(cat "/proc/$p/comm" 2> /dev/null) == "$PROC" ]] && n=$((n + 1))
	done
	echo "$n"
}

# run_phase NAME: one phase (none, map, firewall) from a fresh Postfix
run_phase() {
	local name=$1 lines=("inet_protocols = all") args=() t0 t1 c0 c1 m0 m1 i
	echo "== phase $name: $SECS s of attack ($MTA)"
	CG=$CGROOT/mxg-bench$$-$name
	mkdir -p "$CG"
	mta_stop
	if [[ $MTA == postfix ]]; then
		rm -rf "$TMP/q" "$TMP/mail" "$TMP/maillog" "$TMP/data"
		[[ $name == map ]] && lines+=("smtpd_client_restrictions = check_client_access socketmap:unix:$TMP/map:client")
		# (Postfix starts inside the cgroup: every process it forks is counted there)
		( echo "$BASHPID" > "$CG/cgroup.procs" && postfix_start "$MX" "${lines[@]}" ) ||
			{ echo "bench_mta: Postfix does not start ($(tail -3 "$TMP/postfix.out"))" >&2; exit 1; }
		wait_for 10 test -e "$LOG"
	else
		MR_EXIM_IFACES="<; $MX4.25 ; $MX6.25"
		MR_EXIM_ACL=
		[[ $name == map ]] && MR_EXIM_ACL=$(mr_exim_map_acl "$TMP/exmap")
		MR_EXIM_IFACES=$MR_EXIM_IFACES MR_EXIM_ACL=$MR_EXIM_ACL mr_config exim ||
			{ echo "bench_mta: Exim is not configured" >&2; exit 1; }
		touch "$LOG" && chown 4401:4401 "$LOG"
	fi
	MXPID=
	if [[ $name != none ]]; then
		if [[ $name == map && $MTA == postfix ]]; then args=(--socketmap "$TMP/map")
		elif [[ $name == map ]]; then args=(--map-file "exim:$TMP/exmap")
		else args=(--firewall nftables --remove-on-exit); fi
		rm -rf "$TMP/st-$name"
		ip netns exec "$MX" "$MXGUARD" run -c samples/mxguard.conf --source "$LOG" --from-start \
			--state-dir "$TMP/st-$name" --socket "$TMP/s-$name" "${args[@]}" \
			> "$TMP/dec-$name" 2> "$TMP/run-$name.err" &
		MXPID=$!
		ctl_up 30 "$TMP/s-$name" || { echo "bench_mta: mxguard does not start: $(tail -3 "$TMP/run-$name.err")" >&2; exit 1; }
		[[ $name == map && $MTA == postfix ]] && { wait_for 10 test -S "$TMP/map" || { echo "bench_mta: no socketmap" >&2; exit 1; }; }
		[[ $name == map && $MTA == exim ]] && { wait_for 10 test -e "$TMP/exmap.reject" || { echo "bench_mta: no host lists" >&2; exit 1; }; }
	fi
	if [[ $MTA == exim ]]; then
		( echo "$BASHPID" > "$CG/cgroup.procs" && MR_EXIM_IFACES=$MR_EXIM_IFACES mr_launch exim ) > "$TMP/exim-start.out" ||
			{ echo "bench_mta: Exim does not start: $(cat "$TMP/exim-start.out")" >&2; exit 1; }
	fi
	( peak=0; while :; do n=$(smtpd_count); ((n > peak)) && { peak=$n; echo "$peak" > "$TMP/peak-$name"; }; sleep 0.2; done ) &
	SAMPLER=$!
	echo 0 > "$TMP/peak-$name"
	c0=$(cg_ns "$CG")
	[[ -n $MXPID ]] && m0=$(awk '{print $14 + $15}' "/proc/$MXPID/stat")
	t0=$(date +%s.%N)
	ip netns exec "$CL" python3 bench/smtp_load.py --mx4 "$MX4" --mx6 "$MX6" --seconds "$SECS" \
		--out "$TMP/load-$name.json" "${DOMAIN[@]}" \
		"harvest:8:$(IFS=,; echo "${HARV[*]}")" "harvest:2:$(IFS=,; echo "${HARV6[*]}")" \
		"connflood:10:$FLOOD" "bounce:2:$BOUNCE" "legit:0.5:$LEGIT" ||
		{ echo "bench_mta: the load generator failed" >&2; exit 1; }
	# the legitimate messages still queued are delivered (at most 30 s more)
	queue_empty() { [ -z "$(queued)" ]; }
	wait_for 30 queue_empty
	t1=$(date +%s.%N)
	c1=$(cg_ns "$CG")
	kill "$SAMPLER"; wait "$SAMPLER" 2> /dev/null; SAMPLER=
	if [[ -n $MXPID ]]; then
		m1=$(awk '{print $14 + $15}' "/proc/$MXPID/stat")
		R[$name.mxg_cpu]=$(awk -v a="$m0" -v b="$m1" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.2f", (b - a) / hz }')
		R[$name.mxg_rss]=$(awk '/^VmHWM/ {printf "%.1f", $2 / 1024}' "/proc/$MXPID/status")
		R[$name.decisions]=$(wc -l < "$TMP/dec-$name")
		kill "$MXPID"; wait "$MXPID" 2> /dev/null; MXPID=
	fi
	R[$name.secs]=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
	R[$name.mta_cpu]=$(awk -v a="$c0" -v b="$c1" 'BEGIN { printf "%.2f", (b - a) / 1e9 }')
	R[$name.attack_sessions]=$(served '203\.0\.113\.(1[1-4]|21|31)\]|2001:db8:bad:')
	R[$name.harvest_sessions]=$(served '203\.0\.113\.1[1-4]\]|2001:db8:bad:')
	R[$name.flood_sessions]=$(served "${FLOOD//./\\.}\\]")
	R[$name.bounce_sessions]=$(served "${BOUNCE//./\\.}\\]")
	R[$name.peak_smtpd]=$(cat "$TMP/peak-$name")
	R[$name.queue]=$(queued_all | wc -l)
	python3 - "$TMP/load-$name.json" "$MAILBOX" > "$TMP/sum-$name" << 'EOF'
import json, os, re, sys
st = json.load(open(sys.argv[1]))
def tot(kind, k): return sum(a[k] for a in st.get(kind, []))
lat = sorted(sum((a["latency_ms"] for a in st.get("legit", [])), []))
def pct(v, p): return v[min(len(v) - 1, int(round(p / 100.0 * (len(v) - 1))))] if v else float("nan")
arr = []
def legit_sent(text):
    if not re.search(rb"^X-Bench-Kind: legit", text, re.M):
        return None
    m = re.search(rb"^X-Bench-Sent: (\d+)", text, re.M)
    return int(m.group(1)) if m else None
if os.path.isdir(sys.argv[2]):	# Postfix: a maildir, a file per message, its time the arrival
    for sub in ("new", "cur"):
        d = os.path.join(sys.argv[2], sub)
        for f in os.listdir(d) if os.path.isdir(d) else []:
            path = os.path.join(d, f)
            sent = legit_sent(open(path, "rb").read(4096))
            if sent is not None:
                arr.append(os.stat(path).st_mtime * 1000 - sent)
elif os.path.isfile(sys.argv[2]):	# Exim: an mbox, whose dates are whole seconds: counted, no arrival time
    for msg in re.split(rb"\n(?=From )", open(sys.argv[2], "rb").read()):
        if legit_sent(msg) is not None:
            arr.append(float("nan"))
arr.sort()
offered = sum(tot(k, "attempted") for k in ("harvest", "connflood", "bounce"))
print("offered_attack", offered)
print("legit_sent", tot("legit", "attempted"))
print("legit_accepted", tot("legit", "accepted"))
print("legit_delivered", len(arr))
print("legit_p50", "%.1f" % pct(lat, 50))
print("legit_p99", "%.1f" % pct(lat, 99))
timed = sorted(a for a in arr if a == a)
print("arrival_p50", "%.1f" % pct(timed, 50) if timed else "-")
print("arrival_p99", "%.1f" % pct(timed, 99) if timed else "-")
EOF
	while read -r k v; do R[$name.$k]=$v; done < "$TMP/sum-$name"
	mta_stop
	for i in 1 2 3 4 5; do rmdir "$CG" 2> /dev/null && break; sleep 1; done
}

for phase in none map firewall; do run_phase "$phase"; done

pct() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == 0) { print "n/a"; exit } printf "%+.1f%%", (b - a) * 100 / a }'; }
row() {
	printf '| %-44s | %12s | %12s | %12s |\n' "$1" "${R[none.$2]:--}" "${R[map.$2]:--}" "${R[firewall.$2]:--}"
}
CPU_MODEL=$(grep -m1 '^model name' /proc/cpuinfo | sed 's/^[^:]*: *//')
if [[ $MTA == postfix ]]; then
	MTA_NAME=Postfix MTA_VERSION=$(postconf -d -h mail_version 2> /dev/null)
else
	MTA_NAME=Exim MTA_VERSION=$(sed -n 's/.* exim \([0-9][0-9.]*\) daemon started.*/\1/p' "$LOG" | head -1)
fi
{
	echo "mxguard $(git rev-parse --short HEAD 2> /dev/null || echo ?), $MTA_NAME $MTA_VERSION, $(nproc) CPUs ($CPU_MODEL), kernel $(uname -r)"
	echo "offered per phase: 4 IPv4 harvesters (2 sessions/s each, 5 unknown RCPT per session), an IPv6 /64 harvester"
	echo "(2/s over 16 addresses), a connection flood (10/s), a bounce flood (2/s), a legitimate sender (a message every 2 s)"
	echo
	printf '| %-44s | %12s | %12s | %12s |\n' "$SECS s per phase" "no mxguard" "map mode" "firewall"
	printf '|%s|%s|%s|%s|\n' "$(printf -- '-%.0s' {1..46})" "--------------" "--------------" "--------------"
	row "attacker sessions offered" offered_attack
	row "attacker SMTP sessions $MTA_NAME served" attack_sessions
	row "... of the harvesters (IPv4 and the /64)" harvest_sessions
	row "... of the connection flood" flood_sessions
	row "... of the bounce flood" bounce_sessions
	row "$MTA_NAME CPU seconds (all its processes)" mta_cpu
	row "peak $PROC processes" peak_smtpd
	row "messages left in the queue" queue
	row "legitimate messages sent" legit_sent
	row "legitimate messages accepted (250 after DATA)" legit_accepted
	row "legitimate messages delivered to the mailbox" legit_delivered
	row "legitimate transaction p50 ms (to 250)" legit_p50
	row "legitimate transaction p99 ms (to 250)" legit_p99
	row "legitimate arrival in the mailbox p99 ms" arrival_p99	# (Exim's mbox: whole seconds, not shown)
	row "mxguard CPU seconds" mxg_cpu
	row "mxguard peak RSS MB" mxg_rss
	row "mxguard decisions" decisions
	echo
	echo "mxguard's CPU: map $(awk -v c="${R[map.mxg_cpu]}" -v s="${R[map.secs]}" 'BEGIN { printf "%.2f", c * 100 / s }')%," \
		"firewall $(awk -v c="${R[firewall.mxg_cpu]}" -v s="${R[firewall.secs]}" 'BEGIN { printf "%.2f", c * 100 / s }')% of one core"
	echo "map mode: attacker sessions $(pct "${R[none.attack_sessions]}" "${R[map.attack_sessions]}"), $MTA_NAME CPU $(pct "${R[none.mta_cpu]}" "${R[map.mta_cpu]}")"
	printf 'headline: attacker sessions %s, MTA CPU %s, legitimate p99 %+.1f ms (firewall mode)\n' \
		"$(pct "${R[none.attack_sessions]}" "${R[firewall.attack_sessions]}")" \
		"$(pct "${R[none.mta_cpu]}" "${R[firewall.mta_cpu]}")" \
		"$(awk -v a="${R[none.legit_p99]}" -v b="${R[firewall.legit_p99]}" 'BEGIN { print b - a }')"
} > "$TMP/table"
cat "$TMP/table"
{
	echo
	echo "## The headline: a real $MTA_NAME under attack, without and with mxguard ($(date -u +%Y-%m-%d))"
	echo
	echo "\`bench/bench_mta.sh --mta $MTA $SECS\`"
	echo
	cat "$TMP/table"
} >> bench/RESULTS.md
