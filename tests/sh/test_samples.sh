#!/usr/bin/env bash
# test_samples.sh - the demo's sample tells the story samples/README.md says.
. "$(dirname "$0")/lib.sh"
S=samples/logs/mx1-attacks.log
"$MXGUARD" parse "$S" > "$TMP/ev.jsonl"
count() { jq -r "select($1) | .line" "$TMP/ev.jsonl" | wc -l; }
check_eq "harvester: 25 unknown recipients" 25 "$(count '.type == "rcpt_unknown" and .ip == "203.0.113.66"')"
check_eq "harvester: disconnect says rcpt=0/25" "0/25" \
	"$(jq -r 'select(.type == "disconnect" and .ip == "203.0.113.66") | "\(.rcpt_ok)/\(.rcpt_total)"' "$TMP/ev.jsonl")"
check_eq "bounce flood: 55 incoming bounces" 55 "$(count '.type == "bounce_in" and .ip == "198.51.100.200"')"
check_eq "the partner MX's one bounce is incoming too" 1 "$(count '.type == "bounce_in" and .ip == "198.51.100.30"')"
check_eq "Postfix's own bounce is not incoming" 56 "$(count '.type == "bounce_in"')"
check_eq "IPv6 flood through postscreen: 70 connects" 70 "$(count '.type == "connect" and (.ip | startswith("2001:db8:bad:1::"))')"
check_eq "IPv6 flood: rate limited" 1 "$(count '.type == "rate_limited" and .ip == "2001:db8:bad:1::7"')"
check_eq "password guessing: 12 auth failures" 12 "$(count '.type == "auth_fail" and .ip == "203.0.113.47"')"
check_eq "legitimate mail accepted (2 senders + 12 newsletters)" 14 "$(count '.type == "msg_accepted"')"
"$MXGUARD" parse --stats samples/logs/*.log samples/logs/*.gz > /dev/null 2> "$TMP/stats"
check_eq "all samples understood" 0 "$(stat_of "$TMP/stats" not_understood)"
check_eq "gzip sample read" "$(cat samples/logs/*.log | wc -l | awk '{print $1 + 300}')" "$(stat_of "$TMP/stats" lines)"
"$MXGUARD" replay -c samples/mxguard.conf "$S" > "$TMP/dec.jsonl"
check_eq "the default policy decides on the five attackers" \
	"203.0.113.66 dha|198.51.100.200 bounce-flood|2001:db8:bad:1::/64 protocol-abuse|2001:db8:bad:1::/64 conn-flood|203.0.113.47 auth-guess" \
	"$(jq -r '"\(.key) \(.rule)"' "$TMP/dec.jsonl" | paste -sd'|')"
for legit in 198.51.100.20 198.51.100.30 198.51.100.60 2001:db8:25::9; do
	check_eq "no decision on legitimate $legit" 0 "$(jq -r "select(.ip == \"$legit\") | .rule" "$TMP/dec.jsonl" | wc -l)"
done
# The other MTAs' samples: one decision per attacker, the same rules.
for f in mx3-sendmail:"203.0.113.80 dha|203.0.113.81 relay-probe" mx4-exim-mainlog:"203.0.113.82 auth-guess" \
	mx5-opensmtpd:"2001:db8:66::/64 dha"; do
	"$MXGUARD" replay -c samples/mxguard.conf "samples/logs/${f%%:*}.log" > "$TMP/dec.jsonl"
	check_eq "${f%%:*}: the default policy decides on its attackers only" "${f#*:}" \
		"$(jq -r '"\(.key) \(.rule)"' "$TMP/dec.jsonl" | paste -sd'|')"
done
"$MXGUARD" parse samples/logs/mx3-sendmail.log > "$TMP/ev.jsonl"
check_eq "mx3: the 25 bare User unknown lines become the harvester's events" 25 \
	"$(count '.type == "rcpt_unknown" and .ip == "203.0.113.80"')"
check_eq "mx3: Sendmail's own DSN is not an incoming bounce; the partner's NDR is" "198.51.100.30" \
	"$(jq -r 'select(.type == "bounce_in") | .ip' "$TMP/ev.jsonl" | xargs)"
"$MXGUARD" parse samples/logs/mx4-exim-mainlog.log > "$TMP/ev.jsonl"
check_eq "mx4: Exim's own bounce is not incoming; the partner's NDR is" "198.51.100.30" \
	"$(jq -r 'select(.type == "bounce_in") | .ip' "$TMP/ev.jsonl" | xargs)"
check_eq "mx4: a sender verify failure is no unknown recipient" 0 "$(count '.type == "rcpt_unknown"')"
finish
