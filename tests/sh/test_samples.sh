#!/usr/bin/env bash
# test_samples.sh - the demo's sample tells the story samples/README.md says.
. "$(dirname "$0")/lib.sh"
S=samples/logs/mx1-attacks.log
"$MXGUARD" parse "$S" > "$TMP/ev.jsonl"
count() { jq -r "select($1) | .line" "$TMP/ev.jsonl" | wc -l; }
check_eq "harvester: 18 unknown recipients" 18 "$(count '.type == "rcpt_unknown" and .ip == "203.0.113.66"')"
check_eq "harvester: disconnect says rcpt=0/18" "0/18" \
	"$(jq -r 'select(.type == "disconnect" and .ip == "203.0.113.66") | "\(.rcpt_ok)/\(.rcpt_total)"' "$TMP/ev.jsonl")"
check_eq "bounce flood: 6 incoming bounces" 6 "$(count '.type == "bounce_in" and .ip == "198.51.100.200"')"
check_eq "Postfix's own bounce is not incoming" 6 "$(count '.type == "bounce_in"')"
check_eq "IPv6 flood through postscreen: 8 hangups" 8 "$(count '.type == "lost_conn" and .ip == "2001:db8:bad:1::7"')"
check_eq "IPv6 flood: rate limited" 1 "$(count '.type == "rate_limited" and .ip == "2001:db8:bad:1::7"')"
check_eq "password guessing: 5 auth failures" 5 "$(count '.type == "auth_fail" and .ip == "203.0.113.47"')"
check_eq "legitimate mail accepted" 3 "$(count '.type == "msg_accepted"')"
"$MXGUARD" parse --stats samples/logs/*.log samples/logs/*.gz > /dev/null 2> "$TMP/stats"
check_eq "all samples understood" 0 "$(stat_of "$TMP/stats" not_understood)"
check_eq "gzip sample read" 830 "$(stat_of "$TMP/stats" lines)"
finish
