#!/usr/bin/env bash
# bench/bench_parse.sh - time `mxguard parse` against its peers on one core.
#
#   bench/bench_parse.sh [--mta postfix|sendmail|exim|dovecot] [LINES]
#   MTA=sendmail bench/bench_parse.sh [LINES]
#                     (default postfix, 1000000 lines; run as root from the repo top)
#   MXG_CONF=samples/dovecot.conf bench/bench_parse.sh
#                     (mxguard parse with a configuration's parser blocks loaded: -c FILE)
#
# Builds bench/genlog and ./mxguard (BENCH_BUILD=0: use the ./mxguard that is
# there), generates bench/data/MTA-LINES.log and its .truth.json once
# (`genlog --mta MTA`; Dovecot's: bench/gen_dovecot.py), fetches the peers (fail2ban, sshguard) as .deb files and
# unpacks them under bench/.peers/root without installing them (their
# maintainer scripts start services that may touch the host firewall), then
# times each tool pinned to one core with /usr/bin/time and prints a table.
# mxguard reads the Sendmail and Exim logs with --mta auto (the daemon's
# default); fail2ban-regex uses its filter for the MTA (postfix,
# sendmail-reject, exim); sshg-parser reads the same file. Dovecot's log is
# bench/gen_dovecot.py's (IMAP/POP3 logins, sessions, deliveries, password
# guessers), read by mxguard with samples/dovecot.conf's parser block and by
# fail2ban-regex with its dovecot filter.
# Exits non-zero only when a tool fails to run, never because a figure is slow.
set -euo pipefail

usage() { echo "usage: bench/bench_parse.sh [--mta postfix|sendmail|exim|dovecot] [LINES]  (or MTA=NAME in the environment)" >&2; exit 64; }
MTA=${MTA:-postfix}
if [[ ${1:-} == --mta ]]; then
	[[ $# -ge 2 ]] || usage
	MTA=$2
	shift 2
elif [[ ${1:-} == --mta=* ]]; then
	MTA=${1#--mta=}
	shift
fi
LINES=${1:-1000000}
[[ $LINES =~ ^[1-9][0-9]*$ && $# -le 1 ]] || usage
case $MTA in
postfix) F2B_NAME=postfix FLOOR_RE='postfix/smtpd' ;;
sendmail) F2B_NAME=sendmail-reject FLOOR_RE='sm-mta\[' ;;
exim) F2B_NAME=exim FLOOR_RE=' H=' ;;
dovecot) F2B_NAME=dovecot FLOOR_RE='rip=' ;;
*) usage ;;
esac

cd "$(dirname "$0")/.."
BENCH=bench
DATA=$BENCH/data
PEERS=$BENCH/.peers
PROOT=$PEERS/root
LOG=$DATA/$MTA-$LINES.log
TRUTH=$DATA/$MTA-$LINES.truth.json
F2B_REGEX=$PROOT/usr/bin/fail2ban-regex
F2B_FILTER=$PROOT/etc/fail2ban/filter.d/$F2B_NAME.conf
F2B_PYPATH=$PROOT/usr/lib/python3/dist-packages
SSHG_PARSER=$PROOT/usr/libexec/sshguard/sshg-parser
PY=/usr/bin/python3
export DEBIAN_FRONTEND=noninteractive LC_ALL=C

die() { echo "bench_parse: $*" >&2; exit 1; }
step() { echo "== $*"; }

mkdir -p "$DATA"

# ---------------------------------------------------------------- tools ---
# Debian packages we only need present (no services): install when missing.
pkg_installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }

APT_UPDATED=0
apt_update_once() {
	if ((APT_UPDATED == 0)); then
		apt-get update -qq || return 1
		APT_UPDATED=1
	fi
}

apt_install() {
	apt-get install -y -qq --no-install-recommends "$@" >/dev/null ||
		{ apt_update_once && apt-get install -y -qq --no-install-recommends "$@" >/dev/null; }
}

need=()
for p in python3 time; do pkg_installed "$p" || need+=("$p"); done
if ((${#need[@]})); then
	step "installing ${need[*]}"
	((EUID == 0)) || die "need root to install ${need[*]}"
	apt_install "${need[@]}" || die "apt-get install ${need[*]} failed"
fi
if ! pkg_installed pcre2-utils && ((EUID == 0)); then
	step "installing pcre2-utils (for the pcre2grep floor)"
	apt_install pcre2-utils || echo "bench_parse: pcre2-utils not installable; skipping the floor" >&2
fi
command -v taskset >/dev/null || die "taskset (util-linux) not found"
[[ -x /usr/bin/time ]] || die "/usr/bin/time not found"

# ---------------------------------------------------------------- build ---
if [[ ${BENCH_BUILD:-1} == 0 ]]; then
	step "building bench/genlog (BENCH_BUILD=0: ./mxguard as it is)"
	cc -O2 -Wall -Wextra -o "$BENCH/genlog" "$BENCH/genlog.c" || die "genlog does not build"
	[[ -x ./mxguard ]] || die "no ./mxguard (BENCH_BUILD=0)"
else
	step "building bench/genlog and ./mxguard"
	cc -O2 -Wall -Wextra -o "$BENCH/genlog" "$BENCH/genlog.c" || die "genlog does not build"
	make || die "make failed"
	[[ -x ./mxguard ]] || die "make did not produce ./mxguard"
fi
# mxguard's MTA option: none for Postfix (as in the recorded results), the
# daemon's default --mta auto for the others.
MXG_MTA=()
[[ $MTA == postfix ]] || MXG_MTA=(--mta auto)
# Dovecot's lines are read by the shipped parser block; replay uses it beside
# the default policy. MXG_CONF: parse with that file's parser blocks too.
REPLAY_CONF=samples/mxguard.conf
REPLAY_MTA=("${MXG_MTA[@]}")
if [[ $MTA == dovecot ]]; then
	MXG_MTA=(-c samples/dovecot.conf)
	REPLAY_MTA=()
	REPLAY_CONF=$DATA/dovecot-policy.conf
	printf 'include "%s"\ninclude "%s"\n' "$PWD/samples/mxguard.conf" "$PWD/samples/dovecot.conf" > "$REPLAY_CONF"
elif [[ -n ${MXG_CONF:-} ]]; then
	MXG_MTA+=(-c "$MXG_CONF")
fi

# ----------------------------------------------------------------- data ---
# (Re)generate when missing or older than the generator's source.
GEN=$BENCH/genlog.c
[[ $MTA == dovecot ]] && GEN=$BENCH/gen_dovecot.py
if [[ ! -s $LOG || ! -s $TRUTH || $GEN -nt $LOG ]]; then
	step "generating $LOG"
	t0=$(date +%s.%N)
	if [[ $MTA == dovecot ]]; then
		"$PY" "$GEN" -n "$LINES" -s 1 -o "$LOG.tmp" -t "$TRUTH.tmp" || die "gen_dovecot.py failed"
	else
		"$BENCH/genlog" --mta "$MTA" -n "$LINES" -s 1 -o "$LOG.tmp" -t "$TRUTH.tmp" || die "genlog failed"
	fi
	mv "$LOG.tmp" "$LOG"
	mv "$TRUTH.tmp" "$TRUTH"
	echo "   $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }') s"
fi

# ---------------------------------------------------------------- peers ---
# apt-get download runs as the _apt user: the target folder must be writable.
if [[ ! -x $F2B_REGEX || ! -x $SSHG_PARSER || ! -f $F2B_FILTER ]]; then
	step "fetching fail2ban and sshguard as .deb files (not installed)"
	((EUID == 0)) || die "need root to fetch the peers"
	mkdir -p "$PEERS/debs"
	chmod 777 "$PEERS/debs"
	rm -f "$PEERS"/debs/*.deb
	(cd "$PEERS/debs" && apt-get download -qq fail2ban sshguard) ||
		{ apt_update_once && (cd "$PEERS/debs" && apt-get download -qq fail2ban sshguard); } ||
		die "apt-get download fail2ban sshguard failed"
	rm -rf "$PROOT"
	for deb in "$PEERS"/debs/*.deb; do
		dpkg -x "$deb" "$PROOT" || die "dpkg -x $deb failed"
	done
	[[ -x $F2B_REGEX && -f $F2B_FILTER && -d $F2B_PYPATH ]] || die "fail2ban-regex not where expected in $PROOT"
	[[ -x $SSHG_PARSER ]] || die "sshg-parser not where expected in $PROOT"
fi
deb_version() { # package -> version from the newest downloaded .deb name
	local f
	f=$(ls "$PEERS"/debs/"$1"_*.deb 2>/dev/null | sort -V | tail -n1)
	[[ -n $f ]] && basename "$f" | sed -E "s/^$1_([^_]+)_.*/\1/" || echo "?"
}
F2B_VER=$(deb_version fail2ban)
SSHG_VER=$(deb_version sshguard)

# -------------------------------------------------------------- machine ---
NPROC=$(nproc)
CPU=${BENCH_CPU:-1}
((NPROC > CPU)) || CPU=0
CPU_MODEL=$(grep -m1 '^model name' /proc/cpuinfo | sed 's/^[^:]*: *//' || true)
step "machine"
echo "   nproc: $NPROC; cpu: ${CPU_MODEL:-unknown}; pinned to core $CPU"
echo "   kernel: $(uname -r); peers: fail2ban $F2B_VER, sshguard $SSHG_VER (Debian .debs, unpacked)"
echo "   log: $LOG ($MTA, $LINES lines, $(du -m "$LOG" | cut -f1) MB; $(basename "$GEN" .c) ${MTA/#/--mta } -n $LINES -s 1)"

# --------------------------------------------------------------- timing ---
# time_tool KEY RUNS OK_EXIT_CODES STDIN STDOUT CMD...: best wall time and
# peak RSS over RUNS runs, into SECS[KEY] and RSSKB[KEY]; 1 if a run failed.
declare -A SECS RSSKB
ORDER=()
TF=$(mktemp)
trap 'rm -f "$TF"' EXIT

time_tool() {
	local key=$1 runs=$2 okrc=$3 in=$4 out=$5 i rc t rss best="" peak=0
	shift 5
	for ((i = 1; i <= runs; i++)); do
		rc=0
		/usr/bin/time -f '%e %M' -o "$TF" taskset -c "$CPU" "$@" <"$in" >"$out" 2>"$DATA/$key.err" || rc=$?
		if [[ " $okrc " != *" $rc "* ]]; then
			echo "bench_parse: $key failed (exit $rc): $*" >&2
			tail -n 5 "$DATA/$key.err" >&2 || true
			return 1
		fi
		read -r t rss < <(tail -n 1 "$TF")
		if [[ -z $best ]] || awk -v a="$t" -v b="$best" 'BEGIN { exit !(a < b) }'; then best=$t; fi
		if ((rss > peak)); then peak=$rss; fi
	done
	SECS[$key]=$best
	RSSKB[$key]=$peak
	ORDER+=("$key")
}

FAILED=0
declare -A LABEL=(
	[mxguard-stats]="mxguard parse ${MXG_MTA[*]}${MXG_MTA[*]:+ }--stats"
	[mxguard-json]="mxguard parse ${MXG_MTA[*]}${MXG_MTA[*]:+ }(JSON to file)"
	[mxguard-replay]="mxguard replay ${REPLAY_MTA[*]}${REPLAY_MTA[*]:+ }(-c $(basename "$REPLAY_CONF"))"
	[fail2ban]="fail2ban-regex $F2B_VER ($F2B_NAME filter)"
	[sshguard]="sshg-parser $SSHG_VER"
	[pcre2grep]="pcre2grep -c '$FLOOR_RE' (floor)"
)

step "mxguard parse ${MXG_MTA[*]}${MXG_MTA[*]:+ }--stats (best of 5)"
if time_tool mxguard-stats 5 "0" /dev/null "$DATA/mxguard-stats.out" ./mxguard parse "${MXG_MTA[@]}" --stats "$LOG"; then
	grep -h 'lines/s' "$DATA/mxguard-stats.err" "$DATA/mxguard-stats.out" | tail -n 1 | sed 's/^/   mxguard says: /'
else FAILED=1; fi

step "mxguard parse > $DATA/out.jsonl (best of 5)"
if time_tool mxguard-json 5 "0" /dev/null "$DATA/out.jsonl" ./mxguard parse "${MXG_MTA[@]}" "$LOG"; then
	echo "   $(wc -l <"$DATA/out.jsonl") events written"
else FAILED=1; fi

step "mxguard replay -c $REPLAY_CONF (best of 5)"
if time_tool mxguard-replay 5 "0" /dev/null "$DATA/decisions.jsonl" ./mxguard replay -c "$REPLAY_CONF" "${REPLAY_MTA[@]}" "$LOG"; then
	echo "   $(wc -l <"$DATA/decisions.jsonl") decisions"
else FAILED=1; fi

step "fail2ban-regex (1 run; slow)"
if time_tool fail2ban 1 "0" /dev/null "$DATA/fail2ban.out" \
	env PYTHONPATH="$F2B_PYPATH" "$PY" "$F2B_REGEX" "$LOG" "$F2B_FILTER"; then
	summary=$(grep -m1 '^Lines: ' "$DATA/fail2ban.out" || true)
	if [[ -z $summary ]]; then
		echo "bench_parse: fail2ban-regex printed no 'Lines:' summary (see $DATA/fail2ban.out)" >&2
		FAILED=1
	else
		echo "   $summary"
		# its per-regex hit counts ("#) [# of hits] regular expression")
		sed -n '/^Failregex: /,/^Ignoreregex: /p' "$DATA/fail2ban.out" | grep -E '^[|] +[0-9]+\) \[[0-9]+\]' |
			sed -E 's/^[|] +([0-9]+)\) \[([0-9]+)\] (.{0,70}).*/   failregex \1: \2 hits  \3.../' | head -n 12 || true
	fi
else FAILED=1; fi

step "sshg-parser < LOG (best of 3)"
if time_tool sshguard 3 "0" "$LOG" "$DATA/sshg-parser.out" "$SSHG_PARSER"; then
	nsshg=$(wc -l <"$DATA/sshg-parser.out")
	echo "   $nsshg attacks reported"
	# What it recognises in this log. Its attack signatures cover Postfix SASL
	# failures, Sendmail "Relaying denied" and "AUTH failure", Exim
	# "authenticator failed" (only in the default log_selector form: no
	# "[pid]", no ":port"); nothing else of these logs (unknown users, DNSBL,
	# floods, bounces).
	if ((nsshg == 0)); then
		echo "   sshg-parser does NOT handle these $MTA lines: it reported nothing (timed as a reader only)"
		[[ $MTA != exim ]] || echo "   (its Exim signature, \"authenticator failed\", needs Exim's default log_selector: no [pid], no :port)"
	else
		case $MTA in
		sendmail) echo "   sshg-parser handles only Sendmail's \"Relaying denied\" and \"AUTH failure\" lines" ;;
		exim) echo "   sshg-parser handles only Exim's \"authenticator failed\" lines" ;;
		esac
	fi
else FAILED=1; fi

if command -v pcre2grep >/dev/null; then
	step "pcre2grep -c '$FLOOR_RE' (floor, best of 3)"
	if time_tool pcre2grep 3 "0 1" /dev/null "$DATA/pcre2grep.out" pcre2grep -c "$FLOOR_RE" "$LOG"; then
		echo "   $(cat "$DATA/pcre2grep.out") lines matched"
	else FAILED=1; fi
fi

# ---------------------------------------------------------------- table ---
lps() { awk -v n="$LINES" -v s="$1" 'BEGIN { if (s < 0.01) s = 0.01; printf "%.0f", n / s }'; }
ratio() { # mxguard lines/s over the peer's
	[[ -n ${SECS[$1]:-} && -n ${SECS[$2]:-} ]] || { echo "-"; return; }
	awk -v a="${SECS[$1]}" -v b="${SECS[$2]}" 'BEGIN { if (a < 0.01) a = 0.01; if (b < 0.01) b = 0.01; printf "%.1fx", b / a }'
}
echo
echo "Results: $MTA log, $LINES lines, one core (taskset -c $CPU), wall seconds; best of 5 for mxguard, 3 for the fast peers, 1 for fail2ban"
echo "RSS = peak resident set; 'x' columns = mxguard's lines/s over the tool's (parse --stats, parse JSON, replay)"
((LINES >= 1000000)) || echo "note: /usr/bin/time counts in 0.01 s steps; use >= 1000000 lines for mxguard's figures"
printf '%-50s %9s %12s %9s %9s %9s %9s\n' "tool" "seconds" "lines/s" "RSS MB" "stats x" "json x" "replay x"
for k in "${ORDER[@]}"; do
	r1=- r2=- r3=-
	if [[ $k != mxguard-* ]]; then
		r1=$(ratio mxguard-stats "$k")
		r2=$(ratio mxguard-json "$k")
		r3=$(ratio mxguard-replay "$k")
	fi
	printf '%-50s %9s %12s %9s %9s %9s %9s\n' "${LABEL[$k]}" "${SECS[$k]}" "$(lps "${SECS[$k]}")" \
		"$(awk -v k="${RSSKB[$k]}" 'BEGIN { printf "%.1f", k / 1024 }')" "$r1" "$r2" "$r3"
done

# ------------------------------------------- a million distinct clients ---
DLOG=$DATA/distinct-1000000.log
if [[ ${BENCH_DISTINCT:-1} == 1 && $MTA == postfix ]]; then
	[[ -s $DLOG && $DLOG -nt $BENCH/genlog.c ]] || "$BENCH/genlog" --distinct 1000000 -o "$DLOG"
	echo
	step "a million distinct clients (genlog --distinct 1000000: 4M lines, each client in its own /64, within 5 min)"
	if time_tool mxguard-distinct 1 "0" /dev/null /dev/null ./mxguard replay -c samples/mxguard.conf --summary "$DLOG"; then
		grep -E '^(dha|conn-flood) |per-key state' "$DATA/mxguard-distinct.err" | sed 's/^/   /'
		echo "   peak RSS: $(awk -v k="${RSSKB[mxguard-distinct]}" 'BEGIN { printf "%.1f", k / 1024 }') MB, ${SECS[mxguard-distinct]} s"
	else FAILED=1; fi
fi

# ----------------------------------------------- events against truth ---
# Informational: the counts `--stats` printed next to what genlog wrote.
if [[ -n ${SECS[mxguard-stats]:-} ]]; then
	echo
	echo "Events: truth ($TRUTH) vs mxguard parse --stats"
	"$PY" - "$TRUTH" "$DATA/mxguard-stats.err" "$DATA/mxguard-stats.out" <<'EOF' || true
import json, re, sys
truth = json.load(open(sys.argv[1]))["events"]
got = {}
for path in sys.argv[2:]:
    for line in open(path, errors="replace"):
        m = re.match(r"\s*([a-z_]+):\s+(\d+)\s*$", line)
        if m:
            got.setdefault(m.group(1), int(m.group(2)))
for k, v in truth.items():
    g = got.get(k)
    mark = "" if g == v else ("  (not printed)" if g is None else f"  DIFF {g - v:+d}")
    print(f"   {k:14} {v:10} {'-' if g is None else g:>10}{mark}")
EOF
fi

exit "$FAILED"
