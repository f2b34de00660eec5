#!/usr/bin/env bash
# test_genlog_truth.sh - parse generated Postfix, Sendmail and Exim logs whose
# ground truth is known (bench/genlog writes it) and compare every event count
# and the attackers' addresses. Covers the queue-ID joins at volume: bounce_in
# must come only from remote null senders, never from the MTA's own bounces
# (Postfix "sender non-delivery notification", Sendmail "DSN:", Exim
# "<= <> R=... P=local"), and Sendmail's bare "QID: <addr>... User unknown"
# lines must get the client address of the QID's later line.
. "$(dirname "$0")/lib.sh"
GENLOG=${GENLOG:-bench/genlog}
[ -x "$GENLOG" ] || { failt "bench/genlog is built" "run make bench/genlog"; finish; }

# name:genlog options. The Postfix variants are parsed as before (no --mta);
# the others with --mta auto, the daemon's default.
for variant in "rfc3164:-s 7" "iso:-s 11 --iso" \
	"sendmail:--mta sendmail -s 7" "sendmail-iso:--mta sendmail -s 11 --iso" \
	"exim:--mta exim -s 7" "exim-new-ids:--mta exim --exim-new-ids -s 11"; do
	name=${variant%%:*}
	mta=()
	case $name in sendmail* | exim*) mta=(--mta auto) ;; esac
	# shellcheck disable=SC2086
	"$GENLOG" -n 200000 ${variant#*:} -o "$TMP/$name.log" -t "$TMP/$name.truth"
	"$MXGUARD" parse "${mta[@]}" --stats "$TMP/$name.log" > /dev/null 2> "$TMP/$name.stats"
	check_eq "$name: lines" "$(jq .lines "$TMP/$name.truth")" "$(stat_of "$TMP/$name.stats" lines)"
	# (the truth's counts in one jq, the stats' in one read: a process per type was most of this test's CPU)
	declare -A got=()
	while read -r k v; do [ -n "${got[$k]+x}" ] || got[$k]=$v; done < <(sed -n 's/^ *\([a-z_]*\): \([0-9]*\)$/\1 \2/p' "$TMP/$name.stats")
	while read -r type want; do
		check_eq "$name: $type count" "$want" "${got[$type]:-}"
	done < <(jq -r '.events | to_entries[] | "\(.key) \(.value)"' "$TMP/$name.truth")
	unset got
	check_eq "$name: nothing misunderstood" 0 "$(stat_of "$TMP/$name.stats" not_understood)"
done

# Attackers, by address, from the JSON events of the first log of each MTA.
attackers() { # NAME [--mta auto]
	local name=$1 nflood
	shift
	# (type and ip of every event in one jq pass; "null" where no ip, as jq -r prints it)
	"$MXGUARD" parse "$@" "$TMP/$name.log" > "$TMP/$name.jsonl"
	jq -r '"\(.type) \(.ip)"' "$TMP/$name.jsonl" > "$TMP/$name.ti"
	awk '$1 == "rcpt_unknown" { print $2 }' "$TMP/$name.ti" | sort -u > "$TMP/$name.dha.got"
	jq -r '.attackers.dha[]' "$TMP/$name.truth" | sort -u > "$TMP/$name.dha.want"
	check "$name: every harvester has rcpt_unknown events" \
		test -z "$(comm -13 "$TMP/$name.dha.got" "$TMP/$name.dha.want")"
	# Legitimate servers send the odd bounce too; the flooders must be the top senders.
	jq -r '.attackers.bounce_flood[]' "$TMP/$name.truth" | sort > "$TMP/$name.bounce.want"
	nflood=$(wc -l < "$TMP/$name.bounce.want")
	awk '$1 == "bounce_in" { print $2 }' "$TMP/$name.ti" | sort | uniq -c | sort -rn |
		head -n "$nflood" | awk '{print $2}' | sort > "$TMP/$name.bounce.top"
	check_eq "$name: the top bounce_in senders are the bounce-flood clients" \
		"$(cat "$TMP/$name.bounce.want")" "$(cat "$TMP/$name.bounce.top")"
	awk '$1 == "auth_fail" { print $2 }' "$TMP/$name.ti" | sort -u > "$TMP/$name.auth.got"
	jq -r '.attackers.auth[]' "$TMP/$name.truth" | sort -u > "$TMP/$name.auth.want"
	check "$name: every password guesser has auth_fail events" \
		test -z "$(comm -13 "$TMP/$name.auth.got" "$TMP/$name.auth.want")"
	check_eq "$name: every msg_accepted, bounce_in and rcpt_unknown carries a client address" 0 \
		"$(awk '($1 == "msg_accepted" || $1 == "bounce_in" || $1 == "rcpt_unknown") && $2 == "null"' "$TMP/$name.ti" | wc -l)"
}
attackers rfc3164
attackers sendmail --mta auto
attackers exim --mta auto

# The same log gzipped gives the same events.
gzip -c "$TMP/rfc3164.log" > "$TMP/rfc3164.log.gz"
"$MXGUARD" parse "$TMP/rfc3164.log.gz" > "$TMP/evgz.jsonl"
check "gzip of the generated log gives identical events" cmp "$TMP/rfc3164.jsonl" "$TMP/evgz.jsonl"
finish
