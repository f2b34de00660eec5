#!/usr/bin/env bash
# test_genlog_truth.sh - parse generated Postfix logs whose ground truth is
# known (bench/genlog writes it) and compare every event count and the
# attackers' addresses. Covers the queue-ID join at volume: bounce_in must
# come only from the bounce-flood clients, never from Postfix's own bounces.
. "$(dirname "$0")/lib.sh"
GENLOG=${GENLOG:-bench/genlog}
[ -x "$GENLOG" ] || { failt "bench/genlog is built" "run make bench/genlog"; finish; }

for variant in "rfc3164:-s 7" "iso:-s 11 --iso"; do
	name=${variant%%:*}
	# shellcheck disable=SC2086
	"$GENLOG" -n 200000 ${variant#*:} -o "$TMP/$name.log" -t "$TMP/$name.truth"
	"$MXGUARD" parse --stats "$TMP/$name.log" > /dev/null 2> "$TMP/$name.stats"
	check_eq "$name: lines" "$(jq .lines "$TMP/$name.truth")" "$(stat_of "$TMP/$name.stats" lines)"
	for type in $(jq -r '.events | keys[]' "$TMP/$name.truth"); do
		check_eq "$name: $type count" "$(jq ".events.$type" "$TMP/$name.truth")" \
			"$(stat_of "$TMP/$name.stats" "$type")"
	done
	check_eq "$name: nothing misunderstood" 0 "$(stat_of "$TMP/$name.stats" not_understood)"
done

# Attackers, by address, from the JSON events of the first log.
"$MXGUARD" parse "$TMP/rfc3164.log" > "$TMP/ev.jsonl"
jq -r 'select(.type == "rcpt_unknown") | .ip' "$TMP/ev.jsonl" | sort -u > "$TMP/dha.got"
jq -r '.attackers.dha[]' "$TMP/rfc3164.truth" | sort -u > "$TMP/dha.want"
check "every harvester has rcpt_unknown events" test -z "$(comm -13 "$TMP/dha.got" "$TMP/dha.want")"
# Legitimate servers send the odd bounce too; the flooders must be the top senders.
jq -r '.attackers.bounce_flood[]' "$TMP/rfc3164.truth" | sort > "$TMP/bounce.want"
nflood=$(wc -l < "$TMP/bounce.want")
jq -r 'select(.type == "bounce_in") | .ip' "$TMP/ev.jsonl" | sort | uniq -c | sort -rn |
	head -n "$nflood" | awk '{print $2}' | sort > "$TMP/bounce.top"
check_eq "the top bounce_in senders are the bounce-flood clients" "$(cat "$TMP/bounce.want")" "$(cat "$TMP/bounce.top")"
jq -r 'select(.type == "auth_fail") | .ip' "$TMP/ev.jsonl" | sort -u > "$TMP/auth.got"
jq -r '.attackers.auth[]' "$TMP/rfc3164.truth" | sort -u > "$TMP/auth.want"
check "every password guesser has auth_fail events" test -z "$(comm -13 "$TMP/auth.got" "$TMP/auth.want")"
check_eq "every msg_accepted carries a client address" 0 \
	"$(jq -r 'select(.type == "msg_accepted" and .ip == null) | .line' "$TMP/ev.jsonl" | wc -l)"

# The same log gzipped gives the same events.
gzip -c "$TMP/rfc3164.log" > "$TMP/rfc3164.log.gz"
"$MXGUARD" parse "$TMP/rfc3164.log.gz" > "$TMP/evgz.jsonl"
check "gzip of the generated log gives identical events" cmp "$TMP/ev.jsonl" "$TMP/evgz.jsonl"
finish
