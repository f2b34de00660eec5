#!/usr/bin/env bash
# test_badinput.sh - hostile input: huge lines, binary garbage, NUL bytes.
# Nothing may crash, every real line around the garbage must still count,
# and the output must stay valid JSON.
. "$(dirname "$0")/lib.sh"
G=tests/golden
good="Mar  2 10:00:00 mx1 postfix/smtpd[1]: lost connection after CONNECT from unknown[203.0.113.9]"

# A 1 MiB line between two good ones: skipped whole, counted, neighbours intact.
{
	echo "$good"
	printf 'Mar  2 10:00:01 mx1 postfix/smtpd[1]: connect from x[203.0.113.10] '
	head -c 1048576 /dev/zero | tr '\0' 'A'
	echo
	echo "$good"
} > "$TMP/huge.log"
"$MXGUARD" parse --year 2024 "$TMP/huge.log" > "$TMP/huge.jsonl" 2> "$TMP/huge.err"
check_eq "1 MiB line: exit 0" 0 $?
check_eq "1 MiB line: both neighbours parsed" 2 "$(jq -r .ip "$TMP/huge.jsonl" | grep -c 203.0.113.9)"
check_eq "1 MiB line: line numbers keep counting" "1 3" "$(jq -r .line "$TMP/huge.jsonl" | xargs)"
grep -q 'skipped 1 line(s) longer than' "$TMP/huge.err"
check_eq "1 MiB line: reported on stderr" 0 $?
"$MXGUARD" parse --stats --year 2024 "$TMP/huge.log" 2> "$TMP/huge.stats" > /dev/null
check_eq "1 MiB line: too_long_skipped counter" 1 "$(stat_of "$TMP/huge.stats" too_long_skipped)"

# A 3 MiB last line with no newline at all (bigger than the read buffer).
{ echo "$good"; head -c 3145728 /dev/zero | tr '\0' 'B'; } > "$TMP/tail.log"
"$MXGUARD" parse --stats --year 2024 "$TMP/tail.log" 2> "$TMP/tail.stats" > /dev/null
check_eq "3 MiB unterminated last line: exit 0" 0 $?
check_eq "3 MiB unterminated last line: counted" 1 "$(stat_of "$TMP/tail.stats" too_long_skipped)"
check_eq "3 MiB unterminated last line: good line kept" 1 "$(stat_of "$TMP/tail.stats" lost_conn)"

# --max-line lowers the bound.
"$MXGUARD" parse --max-line 64 --year 2024 "$G/postfix-abnormal.log" 2> /dev/null > "$TMP/short.jsonl"
check_eq "--max-line 64 skips the long lines" 0 "$(wc -l < "$TMP/short.jsonl")"

# Binary garbage interleaved with real lines: only the real lines count.
awk 'BEGIN { srand(42); for (i = 0; i < 20000; i++) { n = int(rand() * 200);
	s = ""; for (j = 0; j < n; j++) s = s sprintf("%c", int(rand() * 256)); print s } }' > "$TMP/garbage.bin"
{
	cat "$TMP/garbage.bin"
	cat "$G/postfix-rejects.log"
	echo
	cat "$TMP/garbage.bin"
	cat "$G/postfix-queue.log"
} > "$TMP/mixed.log"
"$MXGUARD" parse --year 2024 "$TMP/mixed.log" > "$TMP/mixed.jsonl" 2> "$TMP/mixed.err"
check_eq "garbage: exit 0" 0 $?
check "garbage: output is valid JSON" jq -e -c . "$TMP/mixed.jsonl"
want=$(( $(wc -l < "$G/postfix-rejects.jsonl") + $(wc -l < "$G/postfix-queue.jsonl") ))
check_eq "garbage: exactly the real events" "$want" "$(wc -l < "$TMP/mixed.jsonl")"
head -c 2000000 /dev/urandom > "$TMP/random.bin"
"$MXGUARD" parse "$TMP/random.bin" > "$TMP/random.jsonl" 2> /dev/null
check_eq "2 MB of /dev/urandom: exit 0" 0 $?
check "2 MB of /dev/urandom: output is valid JSON" jq -e -c . "$TMP/random.jsonl"
head -c 2000000 /dev/zero > "$TMP/zero.bin"
"$MXGUARD" parse --stats "$TMP/zero.bin" > /dev/null 2> "$TMP/zero.stats"
check_eq "2 MB of NUL bytes: one over-long line" 1 "$(stat_of "$TMP/zero.stats" too_long_skipped)"

# Every golden event stream is valid JSON whose strings are valid UTF-8.
for f in "$G"/*.jsonl; do
	check "valid JSON: $(basename "$f")" jq -e -c . "$f"
done
iconv -f UTF-8 -t UTF-8 "$G/bad-input.jsonl" > /dev/null 2>&1
check_eq "bad-input output is valid UTF-8" 0 $?
finish
