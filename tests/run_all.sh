#!/usr/bin/env bash
# run_all.sh - the whole suite: cmocka unit binaries, golden files, shell tests.
#
# Environment: MXGUARD (the binary), UNIT_DIR (built unit tests), VALGRIND=1
# to run everything under valgrind, RESULT_FILE to append "PASSED FAILED".
# Prints one "ok"/"FAIL" line per test and ends with "N passed, N failed".
set -u
shopt -s nullglob
: "${MXGUARD:?set MXGUARD to the mxguard binary}" "${UNIT_DIR:?set UNIT_DIR}"
cd "$(dirname "$0")/.."
export TZ=UTC LC_ALL=C

pass=0
fail=0
failed=()
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

ok() { pass=$((pass + 1)); echo "ok   $1"; }
ko() { fail=$((fail + 1)); failed+=("$1"); echo "FAIL $1"; }

vg=()
if [ -n "${VALGRIND:-}" ]; then
	vg=(valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect)
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
	n_bad=$((n_run - n_ok))
	if [ "$rc" -ne 0 ] && [ "$n_bad" -le 0 ]; then n_bad=1; fi
	if [ "$n_bad" -gt 0 ]; then
		fail=$((fail + n_bad))
		failed+=("$name")
		echo "$out" | grep -E 'FAILED|ERROR|error|Assert|==[0-9]+==' | head -20
		echo "FAIL $name ($n_bad of $n_run failed, exit $rc)"
	else
		echo "ok   $name ($n_ok tests)"
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

echo "-- shell tests (tests/sh)"
for t in tests/sh/test_*.sh; do
	name=$(basename "$t" .sh)
	out=$(bash "$t" 2>&1)
	rc=$?
	n_ok=$(grep -c '^ok ' <<<"$out")
	n_bad=$(grep -c '^FAIL ' <<<"$out")
	if [ "$rc" -ne 0 ] && [ "$n_bad" -eq 0 ]; then
		n_bad=1
		out+=$'\n'"FAIL $name exited $rc"
	fi
	pass=$((pass + n_ok))
	fail=$((fail + n_bad))
	sed "s/^/[$name] /" <<<"$out" | grep -E '^\[[^]]*\] (ok|FAIL|  )' || true
	[ "$n_bad" -gt 0 ] && failed+=("$name")
done

echo
[ ${#failed[@]} -gt 0 ] && echo "failed: ${failed[*]}"
[ -n "${RESULT_FILE:-}" ] && echo "$pass $fail" >> "$RESULT_FILE"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
