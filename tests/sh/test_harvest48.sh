#!/usr/bin/env bash
# test_harvest48.sh - the default policy on a generated day with a harvester
# that rotates through the /64s of one /48 (bench/genlog --harvest48: 2-4
# unknown recipients per /64, never near dha's 20): rule dha-spread decides
# on the /48, dha never does, no legitimate client or network is acted on,
# every other attacker is still caught, and the truth counts still hold.
# Without dha-spread (the policy before issue 12) the harvest is not seen.
. "$(dirname "$0")/lib.sh"
GENLOG=${GENLOG:-bench/genlog}
CONF=samples/mxguard.conf
[ -x "$GENLOG" ] || { failt "bench/genlog is built" "run make bench/genlog"; finish; }

"$GENLOG" -n 400000 -s 5 --harvest48 -o "$TMP/h.log" -t "$TMP/h.truth"
check_eq "genlog lists the /48 harvester" '["2001:db8:4848::/48"]' "$(jq -c .attackers.harvest48 "$TMP/h.truth")"
"$MXGUARD" parse --stats "$TMP/h.log" > /dev/null 2> "$TMP/h.stats"
for type in $(jq -r '.events | keys[]' "$TMP/h.truth"); do
	check_eq "truth: $type count" "$(jq ".events.$type" "$TMP/h.truth")" "$(stat_of "$TMP/h.stats" "$type")"
done
# the harvest itself: many /64s, none with more than 4 unknown recipients
grep -o 'RCPT from unknown\[2001:db8:4848:[0-9a-f]*:' "$TMP/h.log" | sort | uniq -c | sort -rn > "$TMP/per64"
check "the harvest uses more than 100 /64s" test "$(wc -l < "$TMP/per64")" -gt 100
check_eq "no /64 of it tries more than 4 recipients" 4 "$(awk 'NR == 1 {print $1}' "$TMP/per64")"

"$MXGUARD" replay -c "$CONF" "$TMP/h.log" > "$TMP/h.dec"
check_eq "replay exits 0" 0 $?
check_eq "dha-spread decides on the /48 (and on nothing else)" "2001:db8:4848::/48" \
	"$(jq -r 'select(.rule == "dha-spread") | .key' "$TMP/h.dec" | sort -u | xargs)"
check_eq "its first decision comes at the 8th /64" 8 \
	"$(jq -r 'select(.rule == "dha-spread") | .value' "$TMP/h.dec" | head -1)"
check_eq "dha never sees it (each /64 stays under 20)" "" \
	"$(jq -r 'select(.rule == "dha") | .key' "$TMP/h.dec" | grep '^2001:db8:4848:')"
jq -r '.legit[]' "$TMP/h.truth" > "$TMP/legit"
jq -r '.key' "$TMP/h.dec" | sort -u > "$TMP/keys"
check_eq "no legitimate client or network acted on ($(wc -l < "$TMP/legit") of them)" "" \
	"$(awk -f tests/sh/ipcover.awk "$TMP/keys" "$TMP/legit")"
# The corpus's busiest legitimate /48 (many legitimate clients, with some
# single-/64 harvesters among them) is not acted on by dha-spread.
echo "2001:db8::/48" > "$TMP/busy"
check "2001:db8::/48 holds more than 10 legitimate clients" \
	test "$(awk -f tests/sh/ipcover.awk "$TMP/busy" "$TMP/legit" | wc -l)" -gt 10
check_eq "the busy legitimate 2001:db8::/48 is not decided" "" \
	"$(jq -r 'select(.rule == "dha-spread") | .key' "$TMP/h.dec" | grep -vx '2001:db8:4848::/48')"
for pair in dha:dha conn_flood:conn-flood bounce_flood:bounce-flood auth:auth-guess; do
	list=${pair%%:*} rule=${pair#*:}
	jq -r ".attackers.$list[]" "$TMP/h.truth" | sort -u > "$TMP/want"
	jq -r "select(.rule == \"$rule\") | .key" "$TMP/h.dec" | sort -u > "$TMP/rk"
	check_eq "every $list attacker is still caught by $rule" "$(cat "$TMP/want")" \
		"$(awk -f tests/sh/ipcover.awk "$TMP/rk" "$TMP/want" | sort -u)"
done

# The policy without dha-spread (as before issue 12) misses the harvest.
awk '/^rule "dha-spread"/ {skip = 1} skip && /^}/ {skip = 0; next} !skip' "$CONF" > "$TMP/old.conf"
check "the policy without dha-spread is valid" "$MXGUARD" check "$TMP/old.conf"
"$MXGUARD" replay -c "$TMP/old.conf" "$TMP/h.log" > "$TMP/old.dec"
check_eq "without dha-spread nothing decides on the /48" "" "$(jq -r '.key' "$TMP/old.dec" | grep '^2001:db8:4848:')"
# On the ordinary corpus (no /48 harvester) dha-spread changes nothing.
"$GENLOG" -n 400000 -s 5 -o "$TMP/n.log"
"$MXGUARD" replay -c "$CONF" "$TMP/n.log" > "$TMP/n.dec"
"$MXGUARD" replay -c "$TMP/old.conf" "$TMP/n.log" > "$TMP/n.old"
check "on the ordinary corpus the decisions are those of the policy without it" cmp "$TMP/n.dec" "$TMP/n.old"

# The syntax: prefixes only after "distinct client", lengths checked.
printf 'rule "x" {\n on rcpt_unknown\n when distinct client ipv6 /129 >= 8 within 10m\n do log\n}\n' > "$TMP/bad.conf"
"$MXGUARD" check "$TMP/bad.conf" > /dev/null 2> "$TMP/bad.err"
check_eq "a prefix longer than 128 is a config error" 78 $?
check "... reported with its position" grep -q '^'"$TMP"'/bad.conf:3:' "$TMP/bad.err"
printf 'rule "x" {\n on rcpt_unknown\n when distinct to ipv6 /64 >= 8 within 10m\n do log\n}\n' > "$TMP/bad2.conf"
"$MXGUARD" check "$TMP/bad2.conf" > /dev/null 2>&1
check_eq "prefixes after another field are a config error" 78 $?
finish
