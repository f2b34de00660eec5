#!/usr/bin/env bash
# test_daemon_flood.sh - appends at full speed while logrotate renames the
# log again and again: every line must still become exactly one event.
# Also: two sources at once, one of which does not exist yet at start.
. "$(dirname "$0")/lib.sh"
GENLOG=${GENLOG:-bench/genlog}
[ -x "$GENLOG" ] || { failt "bench/genlog is built" "run make bench/genlog"; finish; }
mkdir -p "$TMP/log"
A=$TMP/log/mail.log
B=$TMP/log/other/mail.log	# its directory does not exist either at start
mkdir -p "$TMP/log/other"
rmdir "$TMP/log/other"
touch "$A"
"$GENLOG" -n 120000 -s 3 -o "$TMP/input.log"
head -n 3000 "$TMP/input.log" > "$TMP/b.log"
printf 'source "%s"\nsource "%s"\ninclude "%s/samples/mxguard.conf"\n' "$A" "$B" "$PWD" > "$TMP/conf"
"$MXGUARD" run -c "$TMP/conf" --state-dir "$TMP/state" --events "$TMP/ev.jsonl" --socket "$TMP/s" \
	> /dev/null 2> "$TMP/run.err" &
PID=$!
trap 'kill "$PID" 2> /dev/null; rm -rf "$TMP"' EXIT
wait_for 20 grep -q "following 2 log" "$TMP/run.err"

cat > "$TMP/lr.conf" <<LR
$A {
    create
    rotate 50
    missingok
}
LR
# The writer: 1000-line chunks, each appended through the path, as a syslog
# daemon that reopens promptly would.
(
	split -l 1000 -d -a 4 "$TMP/input.log" "$TMP/chunk."
	for c in "$TMP"/chunk.*; do cat "$c" >> "$A"; done
) &
writer=$!
rotations=0
while kill -0 "$writer" 2> /dev/null; do
	logrotate -f -s "$TMP/lr.state" "$TMP/lr.conf" && rotations=$((rotations + 1))
	sleep 0.05	# on purpose: the writer gets some chunks in between rotations
done
wait "$writer"
# The second source appears late, in a directory created late.
mkdir -p "$TMP/log/other"
cp "$TMP/b.log" "$B"
want=$(cat "$TMP/input.log" "$TMP/b.log" | "$MXGUARD" parse | wc -l)
# The end mark: one more line (no event) after everything. A source's files
# are read one after the other, so once the daemon has read this line it has
# finished and closed every rotated file: a line read twice would be counted
# before it. No fixed pause: the wait ends with the event, or fails.
echo "$(date '+%b %e %H:%M:%S') mx1 mxguard-test[1]: end of the flood" >> "$A"
total=$(($(wc -l < "$TMP/input.log") + $(wc -l < "$TMP/b.log") + 1))
lines_read() { "$MXGUARD" ctl --socket "$TMP/s" --json status | jq .lines; }
read_all() { [ "$(lines_read)" -ge "$total" ]; }
wait_for 120 read_all
check_eq "every line read exactly once (end mark included)" "$total" "$(lines_read)"
echo "  ($rotations rotations while appending)"
check_eq "rotated $rotations times while appending: every line exactly once" "$want" "$(wc -l < "$TMP/ev.jsonl")"
check_eq "there were rotations during the flood" 1 "$((rotations >= 3))"
norm() { jq -c 'del(.line)' "$@" | sort; }
check_eq "the same events as parsing the input" \
	"$(cat "$TMP/input.log" "$TMP/b.log" | "$MXGUARD" parse --year "$(date +%Y)" | norm | md5sum)" \
	"$(norm "$TMP/ev.jsonl" | md5sum)"
kill "$PID"; wait "$PID"
check_eq "clean exit" 0 $?
check "the source missing at start was said, not silently waited for" \
	grep -q "$B does not exist (yet): it is read from its first line when it appears" "$TMP/run.err"
finish
