#!/usr/bin/env bash
# run_all.sh - the whole suite: cmocka unit binaries, golden files, shell tests.
#
# Environment: MXGUARD (the binary), UNIT_DIR (built unit tests), VALGRIND=1
# to run everything under valgrind, RESULT_FILE to append "PASSED FAILED
# SKIPPED", MXG_STRICT=1 to make every skip a failure (what .ci/run does:
# a run that could not use the real kernel or the real MTAs proves less),
# PKG_TESTS=1 to run tests/pkg/ too (installing and packaging; make check
# sets it for the optimised build).
# Prints one "ok"/"FAIL"/"skip" line per test, the skips with their reasons
# again at the end, and ends with "N passed, N failed, N skipped".
set -u
shopt -s nullglob
: "${MXGUARD:?set MXGUARD to the mxguard binary}" "${UNIT_DIR:?set UNIT_DIR}"
cd "$(dirname "$0")/.."
export TZ=UTC LC_ALL=C

pass=0
fail=0
skipped=0
failed=()
fail_lines=()	# the FAIL lines (and their detail) of every failure: repeated at the end, where a cut log still shows them
skips=()	# "NAME: REASON" of each skip, listed at the end
times=()	# "SECONDS NAME" of each shell test: the slowest are listed at the end
cpus=()		# "CPU-SECONDS NAME": the dearest too (two halves share two processors: CPU is the budget)
# The CPU seconds (user + system) of a test's processes: the children's line of `times` on stdin.
child_cpu() {
	awk 'NR == 2 { t = 0; for (i = 1; i <= 2; i++) { split($i, a, "m"); t += a[1] * 60 + a[2] } printf "%.0f", t }'
}
strict=${MXG_STRICT:-0}
export MXG_STRICT=$strict	# (lib.sh's skip reads it too)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

ok() { pass=$((pass + 1)); echo "ok   $1"; }
ko() { fail=$((fail + 1)); failed+=("$1"); fail_lines+=("FAIL $1"); echo "FAIL $1"; }
# note_skip "NAME: REASON": a skip, or under MXG_STRICT=1 a failure
note_skip() {
	if [ "$strict" = 1 ]; then
		fail=$((fail + 1))
		failed+=("${1%%:*}")
		echo "FAIL $1 (skipped, and MXG_STRICT=1 forbids skips)"
	else
		skipped=$((skipped + 1))
		skips+=("$1")
	fi
}

vg=()
if [ -n "${VALGRIND:-}" ]; then
	vg=(valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect
	    --suppressions="$PWD/tests/valgrind.supp")
	# Shell tests call $MXGUARD: route it through valgrind too.
	printf '#!/bin/sh\nexec %s "%s" "$@"\n' "${vg[*]}" "$MXGUARD" > "$tmp/mxguard"
	chmod +x "$tmp/mxguard"
	MXGUARD=$tmp/mxguard
fi
export MXGUARD

echo "-- unit tests (cmocka)"
for t in "$UNIT_DIR"/test_*; do
	[ -x "$t" ] || continue
	name=$(basename "$t")
	out=$("${vg[@]}" "$t" 2>&1)
	rc=$?
	n_ok=$(grep -c '^\[       OK \]' <<<"$out")
	n_run=$(sed -n 's/^\[==========\] \([0-9]*\) test(s) run\./\1/p' <<<"$out" | tail -1)
	n_run=${n_run:-0}
	pass=$((pass + n_ok))
	# cmocka's skip(): "[  SKIPPED ] NAME" when it happens (again in the
	# closing list); the reason is the test's last "  skipped: ..." message.
	mapfile -t unit_skips < <(awk '/^  skipped: / { why = substr($0, 12) }
		/^\[  SKIPPED \] / && !/test\(s\)/ && !seen[$4]++ { print $4 ": " (why != "" ? why : "cmocka skip() (no reason given)"); why = "" }' <<<"$out")
	for s in "${unit_skips[@]}"; do
		note_skip "$name/$s"
		[ "$strict" = 1 ] || echo "skip $name/$s"
	done
	n_bad=$((n_run - n_ok - ${#unit_skips[@]}))
	if [ "$rc" -ne 0 ] && [ "$n_bad" -le 0 ]; then n_bad=1; fi
	if [ "$n_bad" -gt 0 ]; then
		fail=$((fail + n_bad))
		failed+=("$name")
		mapfile -t -O ${#fail_lines[@]} fail_lines < <(echo "$out" | grep -E 'FAILED|ERROR|error|Assert|==[0-9]+==' | head -20 | sed "s/^/[$name] /")
		fail_lines+=("FAIL $name ($n_bad of $n_run failed, exit $rc)")
		echo "$out" | grep -E 'FAILED|ERROR|error|Assert|==[0-9]+==' | head -20
		echo "FAIL $name ($n_bad of $n_run failed, exit $rc)"
	else
		echo "ok   $name ($n_ok tests$([ ${#unit_skips[@]} -eq 0 ] || echo ", ${#unit_skips[@]} skipped"))"
	fi
done

echo "-- golden files (tests/golden: FILE.log -> FILE.jsonl)"
for log in tests/golden/*.log tests/golden/real/*.log; do
	name=${log#tests/}; name=${name%.log}
	base=${log%.log}
	args=(--year 2024)
	[ -f "$base.args" ] && read -r -a args < "$base.args"
	"$MXGUARD" parse "${args[@]}" "$log" > "$tmp/out.jsonl" 2> "$tmp/err"
	rc=$?
	if [ "$rc" -ne 0 ]; then
		ko "$name (exit $rc: $(head -3 "$tmp/err"))"
		continue
	fi
	if ! diff -u "$base.jsonl" "$tmp/out.jsonl" > "$tmp/diff"; then
		head -40 "$tmp/diff"
		ko "$name (output differs from $base.jsonl)"
		continue
	fi
	if [ -f "$base.stats" ]; then
		"$MXGUARD" parse --stats "${args[@]}" "$log" 2> "$tmp/stats" > /dev/null
		missing=$(grep -vFxf "$tmp/stats" "$base.stats")
		if [ -n "$missing" ]; then
			ko "$name (stats lines not found: $missing)"
			continue
		fi
	fi
	ok "$name"
done

echo "-- golden replays (tests/replay: FILE.conf + FILE.log -> FILE.jsonl)"
for conf in tests/replay/*.conf; do
	base=${conf%.conf}
	name=replay/$(basename "$base")
	"$MXGUARD" replay -c "$conf" --year 2024 "$base.log" > "$tmp/out.jsonl" 2> "$tmp/err"
	rc=$?
	if [ "$rc" -ne 0 ]; then
		ko "$name (exit $rc: $(head -3 "$tmp/err"))"
	elif ! diff -u "$base.jsonl" "$tmp/out.jsonl" > "$tmp/diff"; then
		head -40 "$tmp/diff"
		ko "$name (decisions differ from $base.jsonl)"
	else
		ok "$name"
	fi
done

# shell_result NAME OUTPUT RC SECONDS: count and print one shell test's lines
shell_result() {
	local name=$1 out=$2 rc=$3 secs=$4 n_ok n_bad s
	local -a sh_skips env_skips
	times+=("$secs $name")
	n_ok=$(grep -c '^ok ' <<<"$out")
	n_bad=$(grep -c '^FAIL ' <<<"$out")
	mapfile -t sh_skips < <(sed -n 's/^skip //p' <<<"$out")
	mapfile -t env_skips < <(sed -n 's/^skip-env //p' <<<"$out")
	if [ "$rc" -ne 0 ] && [ "$n_bad" -eq 0 ]; then
		n_bad=1
		out+=$'\n'"FAIL $name exited $rc"
	elif [ "$n_ok" -eq 0 ] && [ "$n_bad" -eq 0 ] && [ ${#sh_skips[@]} -eq 0 ] && [ ${#env_skips[@]} -eq 0 ]; then
		n_bad=1	# silence is not a pass: a test that checked nothing must say why (skip)
		out+=$'\n'"FAIL $name printed no ok, FAIL or skip line"
	fi
	pass=$((pass + n_ok))
	fail=$((fail + n_bad))
	sed "s/^/[$name] /" <<<"$out" | grep -E '^\[[^]]*\] (ok|FAIL|skip|skip-env|  )' || true
	if [ "$n_bad" -gt 0 ]; then
		failed+=("$name")
		mapfile -t -O ${#fail_lines[@]} fail_lines < <(sed "s/^/[$name] /" <<<"$out" | grep -A6 -E '^\[[^]]*\] FAIL' | grep -E '^\[[^]]*\] (FAIL|  )' | head -30)
	fi
	for s in "${sh_skips[@]}"; do
		case $s in "$name: "*) note_skip "$s" ;; *) note_skip "$name/$s" ;; esac	# (skip_all names the test)
	done
	for s in "${env_skips[@]}"; do
		# a step the environment cannot take, which its issue allows CI to skip: a skip even in strict mode
		skipped=$((skipped + 1))
		env_skip_list+=("$name/$s")
	done
}
env_skip_list=()

# The package's test (tests/pkg/, PKG_TESTS=1: the optimised build's half) builds its own
# binary and mostly waits on dpkg and the Debian mirror: it runs beside the shell tests.
pkg_pids=()
if [ "${PKG_TESTS:-0}" = 1 ]; then
	for t in tests/pkg/test_*.sh; do
		name=$(basename "$t" .sh)
		# (niced: the sanitizer build's half, beside this one, is the run's longest; this one waits on the mirror)
		( t0=${EPOCHREALTIME/./}; nice -n 10 bash "$t" > "$tmp/pkg.$name.out" 2>&1; echo "$? $(( (${EPOCHREALTIME/./} - t0) / 1000000 ))" > "$tmp/pkg.$name.rc" ) &
		pkg_pids+=($!)
	done
fi

# MXG_JOBS=N: N shell tests at once (most of one is waiting on daemons and
# kernels; each works in its own namespaces and temporary directory). A test
# starts as soon as any running one ends (a long test does not hold back the
# tests after it), and the longest start first (tests/sh/longest-first, the
# names in order; then the rest by name), so that the run does not end on a
# long test alone. Results are printed in the order the tests started, each
# as soon as it and those before it are done.
jobs_max=${MXG_JOBS:-1}
echo "-- shell tests (tests/sh$([ "$jobs_max" -le 1 ] || echo ", $jobs_max at once"))"
shell_tests=()
declare -A listed=()
while read -r name _; do
	case $name in test_*) ;; *) continue ;; esac
	t=tests/sh/$name.sh
	[ -f "$t" ] && [ -z "${listed[$t]:-}" ] && { shell_tests+=("$t"); listed[$t]=1; }
done < tests/sh/longest-first
for t in tests/sh/test_*.sh; do
	[ -z "${listed[$t]:-}" ] && shell_tests+=("$t")
done
started=0
declare -A running=()	# pid -> index in shell_tests, of the tests running now
finished=()		# index -> 1 once that test has ended
printed=0
t_shell=${EPOCHREALTIME/./}
# leftovers NAME: what the test NAME started and left running when it ended
# (a daemon its kill missed, a helper it forgot): every process it starts
# carries MXG_TEST_NAME=RUNNER:NAME in its environment (RUNNER: this
# script's pid, since make check-san's half runs the same tests beside this
# one). Given 2 s to go; then each is a FAIL line of the test's, and killed,
# so it cannot load the tests after.
leftovers() {
	local pids p
	for _ in $(seq 10); do
		pids=$(grep -lsxaz "MXG_TEST_NAME=$$:$1" /proc/[0-9]*/environ | cut -d/ -f3)
		[ -n "$pids" ] || return 0
		sleep 0.2
	done
	for p in $pids; do
		echo "FAIL the test left a process running: $p $(tr '\0' ' ' < "/proc/$p/cmdline" 2> /dev/null | cut -c1-240)"
		kill -9 "$p" 2> /dev/null
	done
}
start_shell() {
	local t=${shell_tests[$started]} name
	name=$(basename "$t" .sh)
	( t0=${EPOCHREALTIME/./}; MXG_TEST_NAME=$$:$name bash "$t" > "$tmp/sh.$name.out" 2>&1; rc=$?; times > "$tmp/sh.$name.cpu"
	  leftovers "$name" >> "$tmp/sh.$name.out"
	  echo "$rc $(( (${EPOCHREALTIME/./} - t0) / 1000000 ))" > "$tmp/sh.$name.rc" ) &
	running[$!]=$started
	started=$((started + 1))
}
while [ "$printed" -lt ${#shell_tests[@]} ]; do
	while [ "$started" -lt ${#shell_tests[@]} ] && [ ${#running[@]} -lt "$jobs_max" ]; do start_shell; done
	# (the pids named: the package's tests run in the background too)
	wait -n -p ended "${!running[@]}"
	finished[${running[$ended]}]=1
	unset "running[$ended]"
	while [ "$printed" -lt "$started" ] && [ -n "${finished[$printed]:-}" ]; do
		name=$(basename "${shell_tests[$printed]}" .sh)
		read -r rc secs < "$tmp/sh.$name.rc"
		cpus+=("$(child_cpu < "$tmp/sh.$name.cpu") $name")
		shell_result "$name" "$(cat "$tmp/sh.$name.out")" "$rc" "$secs"
		rm -f "$tmp/sh.$name.out" "$tmp/sh.$name.rc" "$tmp/sh.$name.cpu"
		printed=$((printed + 1))
	done
done
echo "shell tests: $(( (${EPOCHREALTIME/./} - t_shell) / 1000000 )) s"

if [ "${PKG_TESTS:-0}" = 1 ]; then
	echo "-- installing and packaging (tests/pkg, run beside the shell tests)"
	for p in "${pkg_pids[@]}"; do wait "$p"; done
	for t in tests/pkg/test_*.sh; do
		name=$(basename "$t" .sh)
		read -r rc secs < "$tmp/pkg.$name.rc"
		shell_result "$name" "$(cat "$tmp/pkg.$name.out")" "$rc" "$secs"
	done
fi
echo
echo "shell tests by seconds, slowest first (tests/sh/longest-first starts the longest first): $(printf '%s\n' "${times[@]}" | sort -rn | awk '{printf "%s %s, ", $2, $1}')"
echo "dearest shell tests (CPU seconds, their processes'): $(printf '%s\n' "${cpus[@]}" | sort -rn | head -12 | awk '{printf "%s %s, ", $2, $1}')"
if [ ${#skips[@]} -gt 0 ]; then
	echo "skipped (not passed; MXG_STRICT=1 makes these failures):"
	printf '  %s\n' "${skips[@]}"
fi
if [ ${#env_skip_list[@]} -gt 0 ]; then
	echo "skipped because this environment cannot take the step (allowed in strict mode; not passed):"
	printf '  %s\n' "${env_skip_list[@]}"
fi
if [ ${#fail_lines[@]} -gt 0 ]; then
	echo "what failed (repeated from above):"
	printf '  %s\n' "${fail_lines[@]}"
fi
[ ${#failed[@]} -gt 0 ] && echo "failed: $(printf '%s\n' "${failed[@]}" | sort -u | xargs)"
[ "$strict" = 1 ] && echo "strict mode (MXG_STRICT=1): a skip is a failure"
[ -n "${RESULT_FILE:-}" ] && echo "$pass $fail $skipped" >> "$RESULT_FILE"
echo "$pass passed, $fail failed, $skipped skipped"
[ "$fail" -eq 0 ]
