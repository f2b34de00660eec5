#!/usr/bin/env bash
# bench/bench_mta.sh - the headline: what mxguard saves a real mail server
# under attack.
#
#   bench/bench_mta.sh [--mta postfix|exim] [SECONDS]     (as root, from anywhere)
#
# A real Postfix (Debian's) runs in a network namespace of its own, as the
# end-to-end tests run it (tests/sh/postfix_ns.sh). From a second namespace
# bench/smtp_load.py offers the same mixed attack at fixed rates in three
# phases of SECONDS each (default 120): four IPv4 directory harvesters, one
# harvesting /64 rotating through 16 IPv6 addresses, a connection flood, a
# bounce flood - and a legitimate sender, a message every two seconds (30
# connections a minute: the default policy counts 60 a minute as a flood), whose
# transaction time and arrival in the mailbox are measured.
#   none      Postfix alone
#   map       mxguard beside it answering Postfix's socketmap lookups
#             (smtpd_client_restrictions = check_client_access socketmap:...)
#   firewall  mxguard blocking with nftables in Postfix's namespace
# Both mxguard phases run the default policy (samples/mxguard.conf) from the
# log's first line. Measured per phase: the SMTP sessions Postfix served
# to attacker addresses (its "connect from" lines), the CPU seconds of every
# Postfix process (a cpuacct cgroup holds them all, short-lived smtpd and
# cleanup included), the most smtpd processes at once (sampled every
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
postfix) ;;
exim) echo "bench_mta: --mta exim is not measured yet: only Postfix has a socketmap to answer and a harness here" \
	"(the end-to-end Exim tests use tests/sh/mta_real.sh's unpacked Exim, without a load harness)" >&2; exit 69 ;;
*) echo "bench_mta: --mta postfix|exim" >&2; exit 64 ;;
esac
cd "$(dirname "$0")/.."
[[ $EUID == 0 ]] || { echo "bench_mta: run as root (network namespaces, cgroups)" >&2; exit 77; }
for t in postfix python3 nft ip ss; do
	command -v "$t" > /dev/null || { echo "bench_mta: $t missing (./run test installs it)" >&2; exit 69; }
done
if [[ ${BENCH_BUILD:-1} == 1 ]]; then
	make -s mxguard || { echo "bench_mta: make failed" >&2; exit 1; }
fi
export MXGUARD=$PWD/mxguard
. tests/sh/lib.sh
. tests/sh/postfix_ns.sh

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
	pf postfix stop > /dev/null 2>&1
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

ATTACK_RE='connect from [^ ]*\[(203\.0\.113\.|2001:db8:bad:)'
declare -A R	# R[phase.key] = figure

# smtpd_count: Postfix's smtpd processes in the MX namespace now
smtpd_count() {
	local n=0 p
	for p in $(ip netns pids "$MX" 2> /dev/null); do
		[[ $(cat "/proc/$p/comm" 2> /dev/null) == smtpd ]] && n=$((n + 1))
	done
	echo "$n"
}

# run_phase NAME: one phase (none, map, firewall) from a fresh Postfix
run_phase() {
	local name=$1 lines=("inet_protocols = all") args=() t0 t1 c0 c1 m0 m1 i
	echo "== phase $name: $SECS s of attack"
	pf postfix stop > /dev/null 2>&1
	wait_for 20 not sh -c "ip netns exec '$MX' ss -ltn | grep -q ':25 '"
	rm -rf "$TMP/q" "$TMP/mail" "$TMP/maillog" "$TMP/data"
	[[ $name == map ]] && lines+=("smtpd_client_restrictions = check_client_access socketmap:unix:$TMP/map:client")
	CG=$CGROOT/mxg-bench$$-$name
	mkdir -p "$CG"
	# (Postfix starts inside the cgroup: every process it forks is counted there)
	( echo "$BASHPID" > "$CG/cgroup.procs" && postfix_start "$MX" "${lines[@]}" ) ||
		{ echo "bench_mta: Postfix does not start ($(tail -3 "$TMP/postfix.out"))" >&2; exit 1; }
	wait_for 10 test -e "$TMP/maillog"
	MXPID=
	if [[ $name != none ]]; then
		[[ $name == map ]] && args=(--socketmap "$TMP/map") || args=(--firewall nftables --remove-on-exit)
		rm -rf "$TMP/st-$name"
		ip netns exec "$MX" "$MXGUARD" run -c samples/mxguard.conf --source "$TMP/maillog" --from-start \
			--state-dir "$TMP/st-$name" --socket "$TMP/s-$name" "${args[@]}" \
			> "$TMP/dec-$name" 2> "$TMP/run-$name.err" &
		MXPID=$!
		ctl_up 30 "$TMP/s-$name" || { echo "bench_mta: mxguard does not start: $(tail -3 "$TMP/run-$name.err")" >&2; exit 1; }
		[[ $name == map ]] && { wait_for 10 test -S "$TMP/map" || { echo "bench_mta: no socketmap" >&2; exit 1; }; }
	fi
	( peak=0; while :; do n=$(smtpd_count); ((n > peak)) && { peak=$n; echo "$peak" > "$TMP/peak-$name"; }; sleep 0.2; done ) &
	SAMPLER=$!
	echo 0 > "$TMP/peak-$name"
	c0=$(cg_ns "$CG")
	[[ -n $MXPID ]] && m0=$(awk '{print $14 + $15}' "/proc/$MXPID/stat")
	t0=$(date +%s.%N)
	ip netns exec "$CL" python3 bench/smtp_load.py --mx4 "$MX4" --mx6 "$MX6" --seconds "$SECS" \
		--out "$TMP/load-$name.json" \
		"harvest:8:$(IFS=,; echo "${HARV[*]}")" "harvest:2:$(IFS=,; echo "${HARV6[*]}")" \
		"connflood:10:$FLOOD" "bounce:2:$BOUNCE" "legit:0.5:$LEGIT" ||
		{ echo "bench_mta: the load generator failed" >&2; exit 1; }
	# the legitimate messages still queued are delivered (at most 30 s more)
	wait_for 30 sh -c "[ -z \"\$(find '$TMP/q/incoming' '$TMP/q/active' -type f 2> /dev/null)\" ]"
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
	R[$name.attack_sessions]=$(grep -cE "postfix/smtpd\[[0-9]+\]: $ATTACK_RE" "$TMP/maillog")
	R[$name.legit_sessions]=$(grep -cE "postfix/smtpd\[[0-9]+\]: connect from [^ ]*\[$LEGIT\]" "$TMP/maillog")
	R[$name.harvest_sessions]=$(grep -cE "postfix/smtpd\[[0-9]+\]: connect from [^ ]*\[(203\.0\.113\.1[1-4]|2001:db8:bad:)" "$TMP/maillog")
	R[$name.flood_sessions]=$(grep -cE "postfix/smtpd\[[0-9]+\]: connect from [^ ]*\[${FLOOD//./\\.}\]" "$TMP/maillog")
	R[$name.bounce_sessions]=$(grep -cE "postfix/smtpd\[[0-9]+\]: connect from [^ ]*\[${BOUNCE//./\\.}\]" "$TMP/maillog")
	R[$name.peak_smtpd]=$(cat "$TMP/peak-$name")
	R[$name.queue]=$(find "$TMP/q/incoming" "$TMP/q/active" "$TMP/q/deferred" "$TMP/q/hold" -type f 2> /dev/null | wc -l)
	python3 - "$TMP/load-$name.json" "$TMP/mail/alice" > "$TMP/sum-$name" << 'EOF'
import json, os, re, sys
st = json.load(open(sys.argv[1]))
def tot(kind, k): return sum(a[k] for a in st.get(kind, []))
lat = sorted(sum((a["latency_ms"] for a in st.get("legit", [])), []))
def pct(v, p): return v[min(len(v) - 1, int(round(p / 100.0 * (len(v) - 1))))] if v else float("nan")
arr = []
for sub in ("new", "cur"):
    d = os.path.join(sys.argv[2], sub)
    for f in os.listdir(d) if os.path.isdir(d) else []:
        path = os.path.join(d, f)
        m = re.search(rb"^X-Bench-Sent: (\d+)", open(path, "rb").read(4096), re.M)
        if m:
            arr.append(os.stat(path).st_mtime * 1000 - int(m.group(1)))
arr.sort()
offered = sum(tot(k, "attempted") for k in ("harvest", "connflood", "bounce"))
print("offered_attack", offered)
print("legit_sent", tot("legit", "attempted"))
print("legit_accepted", tot("legit", "accepted"))
print("legit_delivered", len(arr))
print("legit_p50", "%.1f" % pct(lat, 50))
print("legit_p99", "%.1f" % pct(lat, 99))
print("arrival_p50", "%.1f" % pct(arr, 50))
print("arrival_p99", "%.1f" % pct(arr, 99))
EOF
	while read -r k v; do R[$name.$k]=$v; done < "$TMP/sum-$name"
	pf postfix stop > /dev/null 2>&1
	wait_for 20 not sh -c "ip netns exec '$MX' ss -ltn | grep -q ':25 '"
	for i in 1 2 3 4 5; do rmdir "$CG" 2> /dev/null && break; sleep 1; done
}

for phase in none map firewall; do run_phase "$phase"; done

pct() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == 0) { print "n/a"; exit } printf "%+.1f%%", (b - a) * 100 / a }'; }
row() {
	printf '| %-44s | %12s | %12s | %12s |\n' "$1" "${R[none.$2]:--}" "${R[map.$2]:--}" "${R[firewall.$2]:--}"
}
CPU_MODEL=$(grep -m1 '^model name' /proc/cpuinfo | sed 's/^[^:]*: *//')
{
	echo "mxguard $(git rev-parse --short HEAD 2> /dev/null || echo ?), Postfix $(postconf -d -h mail_version 2> /dev/null), $(nproc) CPUs ($CPU_MODEL), kernel $(uname -r)"
	echo "offered per phase: 4 IPv4 harvesters (2 sessions/s each, 5 unknown RCPT per session), an IPv6 /64 harvester"
	echo "(2/s over 16 addresses), a connection flood (10/s), a bounce flood (2/s), a legitimate sender (a message every 2 s)"
	echo
	printf '| %-44s | %12s | %12s | %12s |\n' "$SECS s per phase" "no mxguard" "map mode" "firewall"
	printf '|%s|%s|%s|%s|\n' "$(printf -- '-%.0s' {1..46})" "--------------" "--------------" "--------------"
	row "attacker sessions offered" offered_attack
	row "attacker SMTP sessions Postfix served" attack_sessions
	row "... of the harvesters (IPv4 and the /64)" harvest_sessions
	row "... of the connection flood" flood_sessions
	row "... of the bounce flood" bounce_sessions
	row "Postfix CPU seconds (all its processes)" mta_cpu
	row "peak smtpd processes" peak_smtpd
	row "messages left in the queue" queue
	row "legitimate messages sent" legit_sent
	row "legitimate messages accepted (250 after DATA)" legit_accepted
	row "legitimate messages delivered to the mailbox" legit_delivered
	row "legitimate SMTP transaction p50 ms" legit_p50
	row "legitimate SMTP transaction p99 ms" legit_p99
	row "legitimate arrival in the mailbox p99 ms" arrival_p99
	row "mxguard CPU seconds" mxg_cpu
	row "mxguard peak RSS MB" mxg_rss
	row "mxguard decisions" decisions
	echo
	echo "mxguard's CPU: map $(awk -v c="${R[map.mxg_cpu]}" -v s="${R[map.secs]}" 'BEGIN { printf "%.2f", c * 100 / s }')%," \
		"firewall $(awk -v c="${R[firewall.mxg_cpu]}" -v s="${R[firewall.secs]}" 'BEGIN { printf "%.2f", c * 100 / s }')% of one core"
	echo "map mode: attacker sessions $(pct "${R[none.attack_sessions]}" "${R[map.attack_sessions]}"), Postfix CPU $(pct "${R[none.mta_cpu]}" "${R[map.mta_cpu]}")"
	printf 'headline: attacker sessions %s, MTA CPU %s, legitimate p99 %+.1f ms (firewall mode)\n' \
		"$(pct "${R[none.attack_sessions]}" "${R[firewall.attack_sessions]}")" \
		"$(pct "${R[none.mta_cpu]}" "${R[firewall.mta_cpu]}")" \
		"$(awk -v a="${R[none.legit_p99]}" -v b="${R[firewall.legit_p99]}" 'BEGIN { print b - a }')"
} > "$TMP/table"
cat "$TMP/table"
{
	echo
	echo "## The headline: a real Postfix under attack, without and with mxguard ($(date -u +%Y-%m-%d))"
	echo
	echo "\`bench/bench_mta.sh $SECS\`"
	echo
	cat "$TMP/table"
} >> bench/RESULTS.md
