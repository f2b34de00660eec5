#!/usr/bin/env bash
# test_mixed.sh - one log holding the lines of several MTAs (a relay and a
# mailbox server writing to one syslog): with --mta auto every line is
# routed by its program tag, and each MTA's events are exactly those its
# lines give alone, whatever lines of the others come between them (the
# correlation tables are per MTA). Also: --mta NAME reads only NAME's lines.
. "$(dirname "$0")/lib.sh"
G=tests/golden
parts=("$G/postfix-session.log" "$G/postfix-queue.log" "$G/sendmail.log" "$G/opensmtpd.log" "$G/exim.log")
# Round-robin interleave: line 1 of each file, then line 2 of each, ...
awk 'FNR == 1 { f++ } { line[f, FNR] = $0; if (FNR > max) max = FNR }
	END { for (i = 1; i <= max; i++) for (k = 1; k <= f; k++) if ((k, i) in line) print line[k, i] }' \
	"${parts[@]}" > "$TMP/mixed.log"
"$MXGUARD" parse --year 2024 "$TMP/mixed.log" > "$TMP/mixed.jsonl"
for f in "${parts[@]}"; do
	"$MXGUARD" parse --year 2024 "$f" | jq -c 'del(.line)' >> "$TMP/alone.jsonl"
done
for mta in postfix sendmail exim opensmtpd; do
	jq -c "select(.mta == \"$mta\") | del(.line)" "$TMP/alone.jsonl" | sort > "$TMP/want"
	jq -c "select(.mta == \"$mta\") | del(.line)" "$TMP/mixed.jsonl" | sort > "$TMP/got"
	check "$mta: the mixed log gives its events exactly ($(wc -l < "$TMP/want") events)" cmp "$TMP/want" "$TMP/got"
	"$MXGUARD" parse --year 2024 --mta "$mta" "$TMP/mixed.log" | jq -r .mta | sort -u > "$TMP/only"
	check_eq "--mta $mta reads only $mta lines" "$mta" "$(cat "$TMP/only")"
done
check_eq "every event of the mixed log belongs to one of the four" \
	"$(wc -l < "$TMP/alone.jsonl")" "$(wc -l < "$TMP/mixed.jsonl")"
# Held Sendmail events come out later, yet each names its own line: the bare "<to>... User unknown".
bad=0 n=0
while read -r line to; do
	n=$((n + 1))
	sed -n "${line}p" "$TMP/mixed.log" | grep -qF "sm-mta" || bad=$((bad + 1))
	# (a recipient Sendmail shortened to "ab...yz" is doubtful: the event has none)
	if [ "$to" = null ]; then
		sed -n "${line}p" "$TMP/mixed.log" | grep -q '\.\.\..*>\.\.\. User unknown$' || bad=$((bad + 1))
	else
		sed -n "${line}p" "$TMP/mixed.log" | grep -qF "<$to>... " || bad=$((bad + 1))
	fi
done < <(jq -r 'select(.mta == "sendmail" and .type == "rcpt_unknown" and .code == null) | "\(.line) \(.to)"' "$TMP/mixed.jsonl")
check_eq "the $n released Sendmail events carry the line numbers of their bare lines" "6 0" "$n $bad"
finish
