#!/usr/bin/env bash
# bench/compare.sh - two mxguard binaries against each other, for "did this
# change make it slower": parse and replay of the same Postfix, Sendmail and
# Exim corpora, runs interleaved (old, new, old, new, ...) and pinned to one
# core, so that a machine whose speed drifts (a shared VM) drifts for both.
#
#   bench/compare.sh OLD_BINARY NEW_BINARY [RUNS] [POLICY]
#
# RUNS (default 9) runs of each; POLICY (default samples/mxguard.conf) is
# given to both for replay — pass the older policy when the default gained
# rules, so that both do the same work. Prints, per corpus, the best and
# the median of `parse --stats` (the lines/s it reports) and of the wall
# time of `replay -c POLICY FILE > /dev/null`, and the change in percent
# (positive: the new binary is faster). With CALLGRIND=1 it also counts
# instructions (valgrind) on the first 200,000 lines, whose change is
# printed as it is (positive: more instructions): those do not drift.
# Corpora: bench/data/MTA-1000000.log (`genlog --mta MTA -n 1000000 -s 1`).
set -euo pipefail
[[ $# -ge 2 ]] || { echo "usage: bench/compare.sh OLD_BINARY NEW_BINARY [RUNS] [POLICY]" >&2; exit 64; }
old=$(realpath "$1") new=$(realpath "$2") runs=${3:-9} policy=$(realpath "${4:-samples/mxguard.conf}")
cd "$(dirname "$0")/.."
[[ -x bench/genlog ]] || make bench/genlog > /dev/null
mkdir -p bench/data
ms() { local s e; s=$(date +%s%N); "$@" > /dev/null; e=$(date +%s%N); echo $(((e - s) / 1000000)); }
# best and median of a list of numbers; $1 = max (lines/s) or min (ms)
stats() { local dir=$1; shift; printf '%s\n' "$@" | sort -n | awk -v d="$dir" '{ v[NR] = $1 } END {
	printf "%d %d", d == "max" ? v[NR] : v[1], v[int((NR + 1) / 2)] }'; }
pct() { awk -v a="$1" -v b="$2" -v up="$3" 'BEGIN { printf "%+.1f %%", up ? (b - a) * 100 / a : (a - b) * 100 / a }'; }
printf '%-9s | %-31s | %-31s\n' corpus "parse lines/s: old → new (best, median)" "replay ms: old → new (best, median)"
for mta in postfix sendmail exim; do
	log=bench/data/$mta-1000000.log
	[[ -s $log ]] || bench/genlog --mta "$mta" -n 1000000 -s 1 > "$log" 2> /dev/null
	declare -a po=() pn=() ro=() rn=()
	for ((i = 0; i < runs; i++)); do
		po+=("$(taskset -c 1 "$old" parse --stats "$log" 2>&1 > /dev/null | sed -n 's/^lines\/s: //p')")
		pn+=("$(taskset -c 1 "$new" parse --stats "$log" 2>&1 > /dev/null | sed -n 's/^lines\/s: //p')")
		ro+=("$(ms taskset -c 1 "$old" replay -c "$policy" "$log")")
		rn+=("$(ms taskset -c 1 "$new" replay -c "$policy" "$log")")
	done
	read -r pob pom <<< "$(stats max "${po[@]}")"
	read -r pnb pnm <<< "$(stats max "${pn[@]}")"
	read -r rob rom <<< "$(stats min "${ro[@]}")"
	read -r rnb rnm <<< "$(stats min "${rn[@]}")"
	printf '%-9s | %s → %s (%s), %s → %s (%s) | %s → %s (%s), %s → %s (%s)\n' "$mta" \
		"$pob" "$pnb" "$(pct "$pob" "$pnb" 1)" "$pom" "$pnm" "$(pct "$pom" "$pnm" 1)" \
		"$rob" "$rnb" "$(pct "$rob" "$rnb" 0)" "$rom" "$rnm" "$(pct "$rom" "$rnm" 0)"
	if [[ ${CALLGRIND:-0} == 1 ]]; then
		head -200000 "$log" > bench/data/$mta-200000.head
		for mode in parse replay; do
			args=(parse --stats); [[ $mode == replay ]] && args=(replay -c "$policy")
			io=$(valgrind --tool=callgrind --callgrind-out-file=/dev/null "$old" "${args[@]}" bench/data/$mta-200000.head 2>&1 > /dev/null | sed -n 's/.*Collected : //p')
			in=$(valgrind --tool=callgrind --callgrind-out-file=/dev/null "$new" "${args[@]}" bench/data/$mta-200000.head 2>&1 > /dev/null | sed -n 's/.*Collected : //p')
			printf "%-9s   %s instructions on 200,000 lines: %s → %s (%s)\n" "" "$mode" "$io" "$in" "$(pct "$io" "$in" 1)"
		done
	fi
done
