#!/usr/bin/env bash
# test_replay.sh - mxguard replay with the default policy on generated logs
# whose ground truth is known: every attacker is found, no legitimate client
# is acted on, and the run is deterministic.
. "$(dirname "$0")/lib.sh"
GENLOG=${GENLOG:-bench/genlog}
CONF=samples/mxguard.conf
[ -x "$GENLOG" ] || { failt "bench/genlog is built" "run make bench/genlog"; finish; }

# Seed 1 with 1M lines is exactly the benchmark corpus (bench/bench_parse.sh).
for run in 5:400000 1:1000000; do
	seed=${run%%:*} lines=${run#*:}
	"$GENLOG" -n "$lines" -s $seed -o "$TMP/s$seed.log" -t "$TMP/s$seed.truth"
	"$MXGUARD" replay -c "$CONF" "$TMP/s$seed.log" > "$TMP/s$seed.dec" 2> "$TMP/s$seed.err"
	check_eq "seed $seed: replay exits 0" 0 $?
	check "seed $seed: decisions are valid JSON" jq -e -c . "$TMP/s$seed.dec"
	# attacker list in the truth file -> the rule that must catch it
	for pair in dha:dha conn_flood:conn-flood bounce_flood:bounce-flood auth:auth-guess; do
		list=${pair%%:*} rule=${pair#*:}
		jq -r ".attackers.$list[]" "$TMP/s$seed.truth" | sort -u > "$TMP/want"
		jq -r "select(.rule == \"$rule\") | .key" "$TMP/s$seed.dec" | sort -u > "$TMP/keys"
		awk -f tests/sh/ipcover.awk "$TMP/keys" "$TMP/want" | sort -u > "$TMP/found"
		check_eq "seed $seed: every $list attacker is caught by rule $rule ($(wc -l < "$TMP/want"))" \
			"$(cat "$TMP/want")" "$(cat "$TMP/found")"
	done
	jq -r '.legit[]' "$TMP/s$seed.truth" > "$TMP/legit"
	jq -r '.key' "$TMP/s$seed.dec" | sort -u > "$TMP/allkeys"
	check_eq "seed $seed: no legitimate client acted on ($(wc -l < "$TMP/legit") of them)" "" \
		"$(awk -f tests/sh/ipcover.awk "$TMP/allkeys" "$TMP/legit")"
done

# Deterministic: the same input gives the same bytes; gzip changes nothing.
"$MXGUARD" replay -c "$CONF" "$TMP/s5.log" > "$TMP/again.dec"
check "replay is deterministic" cmp "$TMP/s5.dec" "$TMP/again.dec"
gzip -c "$TMP/s5.log" > "$TMP/s5.log.gz"
"$MXGUARD" replay -c "$CONF" "$TMP/s5.log.gz" > "$TMP/gz.dec"
check "replay of the gzip file gives the same decisions" cmp "$TMP/s5.dec" "$TMP/gz.dec"

# A log split in two and given in order decides the same as the whole.
head -n 200000 "$TMP/s5.log" > "$TMP/part1"
tail -n +200001 "$TMP/s5.log" > "$TMP/part2"
"$MXGUARD" replay -c "$CONF" "$TMP/part1" "$TMP/part2" > "$TMP/split.dec"
check "a rotated log read in two parts decides the same" cmp "$TMP/s5.dec" "$TMP/split.dec"

# --summary: per-rule table and top keys on stderr, decisions unchanged on stdout.
"$MXGUARD" replay -c "$CONF" --summary "$TMP/s5.log" > "$TMP/sum.dec" 2> "$TMP/sum.err"
check "--summary leaves the decisions alone" cmp "$TMP/s5.dec" "$TMP/sum.dec"
check_eq "--summary counts the decisions" "$(wc -l < "$TMP/s5.dec")" \
	"$(sed -n 's/.*decisions: \([0-9]*\),.*/\1/p' "$TMP/sum.err")"
grep -q '^dha ' "$TMP/sum.err" && grep -q '^top keys:' "$TMP/sum.err"
check_eq "--summary has the rule table and the top keys" 0 $?
check_eq "--summary dha decisions = dha lines" "$(jq -r 'select(.rule == "dha") | .rule' "$TMP/s5.dec" | wc -l)" \
	"$(awk '$1 == "dha" {print $3}' "$TMP/sum.err")"

# Rotated logs in the shell's order (mail.log mail.log.1: newest first) are
# read in time order, by their first lines, and the order read is said: the
# decisions are those of the one file they were cut from.
head -n 25 samples/logs/mx1-attacks.log > "$TMP/mail.log.1"
tail -n +26 samples/logs/mx1-attacks.log | gzip > "$TMP/mail.log.gz"
"$MXGUARD" replay -c samples/mxguard.conf samples/logs/mx1-attacks.log > "$TMP/whole.dec" 2> /dev/null
"$MXGUARD" replay -c samples/mxguard.conf "$TMP/mail.log.gz" "$TMP/mail.log.1" > "$TMP/rot.dec" 2> "$TMP/rot.err"
check "newest first: the decisions of the whole log" cmp "$TMP/whole.dec" "$TMP/rot.dec"
check "... read in time order, and said" grep -q "replay: the inputs go back in time; read in the order of their first lines: $TMP/mail.log.1 $TMP/mail.log.gz" "$TMP/rot.err"
"$MXGUARD" replay -c samples/mxguard.conf "$TMP/mail.log.1" "$TMP/mail.log.gz" > /dev/null 2> "$TMP/rot.err"
check "in order already: nothing said" not grep -q "go back in time" "$TMP/rot.err"
echo "no time stamp here" > "$TMP/notes.txt"
"$MXGUARD" replay -c samples/mxguard.conf "$TMP/mail.log.gz" "$TMP/mail.log.1" "$TMP/notes.txt" > /dev/null 2> "$TMP/rot.err"
check "going back, with an input that has no time: not reordered, and said" \
	grep -q "go back in time (by their first lines) and cannot all be ordered" "$TMP/rot.err"

# Errors: no config, a broken config.
"$MXGUARD" replay "$TMP/s5.log" > /dev/null 2>&1
check_eq "replay without -c exits 64" 64 $?
printf 'rule "x" {\n    on nothing\n}\n' > "$TMP/bad.conf"
"$MXGUARD" replay -c "$TMP/bad.conf" "$TMP/s5.log" > /dev/null 2> "$TMP/bad.err"
check_eq "replay with a broken config exits 78" 78 $?
grep -q "bad.conf:2:8: unknown event type nothing" "$TMP/bad.err"
check_eq "replay reports the config error with its position" 0 $?
finish
