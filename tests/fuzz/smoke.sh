#!/usr/bin/env bash
# tests/fuzz/smoke.sh SECONDS TARGET|MAXLEN|SEEDS... - every libFuzzer target
# (tests/fuzz/README.md) built and run briefly from its seed corpus, as part
# of `make check`: a target that no longer builds, crashes on a seed, or
# finds something within SECONDS fails the suite. Each target's new inputs
# go to a temporary corpus (the seeds are read, never written). Prints
# "ok NAME ...", "FAIL NAME" (with the end of libFuzzer's output) or "skip
# NAME: REASON" like the shell tests, and appends "PASSED FAILED SKIPPED"
# to RESULT_FILE. No clang (libFuzzer): a skip, a failure under MXG_STRICT=1.
set -u
secs=$1
shift
pass=0 fail=0 skipped=0
say_skip() {
	if [ "${MXG_STRICT:-0}" = 1 ]; then
		echo "FAIL [fuzz] $1: skipped, and MXG_STRICT=1 forbids skips"
		fail=$((fail + 1))
	else
		echo "skip [fuzz] $1"
		skipped=$((skipped + 1))
	fi
}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "== fuzz targets: built, then each run ${secs} s from its seeds"
if ! command -v clang > /dev/null; then
	say_skip "fuzz targets: clang (libFuzzer) is not installed (./run test installs it)"
elif ! ${MAKE:-make} -s fuzz > "$work/build.log" 2>&1; then
	echo "FAIL [fuzz] the fuzz targets do not build"
	tail -20 "$work/build.log" | sed 's/^/  /'
	fail=$((fail + 1))
else
	for spec in "$@"; do
		IFS='|' read -r name maxlen seeds <<< "$spec"
		mkdir -p "$work/$name"
		# (seeds unquoted on purpose: a space-separated list of directories)
		# shellcheck disable=SC2086
		timeout $((secs + 60)) "build/fuzz/$name" -max_total_time="$secs" -max_len="$maxlen" -timeout=5 \
			-close_fd_mask=3 -artifact_prefix="$work/$name/crash-" "$work/$name" $seeds > "$work/$name.log" 2>&1
		rc=$?
		runs=$(sed -n 's/^Done \([0-9]*\) runs.*/\1/p' "$work/$name.log")
		if [ "$rc" -eq 0 ] && [ -n "$runs" ]; then
			echo "ok [fuzz] $name: $runs runs in ${secs} s from its seeds, no finding"
			pass=$((pass + 1))
		else
			echo "FAIL [fuzz] $name: exit $rc$(ls "$work/$name"/crash-* > /dev/null 2>&1 && echo ', a finding')"
			grep -E "ERROR|SUMMARY|==[0-9]+==|runtime error|Test unit written" "$work/$name.log" | head -8 | sed 's/^/  /'
			fail=$((fail + 1))
		fi
	done
fi
echo "fuzz targets: $pass passed, $fail failed, $skipped skipped"
[ -n "${RESULT_FILE:-}" ] && echo "$pass $fail $skipped" >> "$RESULT_FILE"
[ "$fail" -eq 0 ]
