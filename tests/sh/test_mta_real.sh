#!/usr/bin/env bash
# test_mta_real.sh - the Exim, Sendmail and OpenSMTPD parsers on the lines
# the real daemons write. Debian 12's Exim 4.96, Sendmail 8.17 (LogLevel 9,
# then 12) and OpenSMTPD 6.8 run in network namespaces (mta_real.sh), each
# gets the same five client sessions (a harvest of 8 unknown recipients, a
# legitimate message, an incoming bounce, a relay attempt, a dropped
# connection), and `mxguard parse` must find in each log exactly the events
# of docs/EVENTS.md and the parsers' contract, all with the client's
# address: never the server's own (Exim writes it as I=[...]:25 on every
# line) nor loopback, and nothing for local deliveries. Then the three logs
# and tests/golden/postfix-session.log, merged by time stamp, must give with
# --mta auto for each MTA exactly what its log gave alone.
. "$(dirname "$0")/lib.sh" || exit 1
. "$(dirname "$0")/mta_real.sh" || exit 1
command -v jq > /dev/null || skip_all "jq missing"
MTAS=(exim sendmail opensmtpd)
mr_init "${MTAS[@]}"
for m in "${MTAS[@]}"; do
	mr_net "$m"
	mr_start "$m" || finish
done
# (independent daemons: the sessions run at once, which also interleaves
# the three logs' time stamps for the mixed test)
for m in "${MTAS[@]}"; do mr_sessions "$m" & done
wait
mkdir -p "$TMP/logs"
for m in "${MTAS[@]}"; do
	mr_check_sessions "$m"
	mr_settle "$m"
	cp "${MR_LOG[$m]}" "$TMP/logs/$m.log"
done
mr_stop sendmail
MR_SM_LOGLEVEL=12 mr_start sendmail || finish
mr_sessions sendmail
mr_check_sessions sendmail
mr_settle sendmail
cp "${MR_LOG[sendmail]}" "$TMP/logs/sendmail12.log"
for m in "${MTAS[@]}"; do mr_stop "$m"; done

# --- the harness: the daemons wrote the lines the sessions call for
# raw NAME LOG COUNT ERE: COUNT lines of LOG match ERE
raw() { check_eq "$1: $4" "$3" "$(grep -cE "$4" "$2")"; }
L=$TMP/logs C=${MR_CLI_IP[exim]//./\\.}
raw exim "$L/exim.log" 8 "rejected RCPT <[a-z]+@example\.com>: Unrouteable address"
raw exim "$L/exim.log" 5 "SMTP connection from \[$C\] .*\(TCP/IP connection count = 1\)"
raw exim "$L/exim.log" 1 " <= $MR_LEGIT_FROM H=.*\[$C\].* for postmaster@example\.com"
raw exim "$L/exim.log" 1 " <= <> H=.*\[$C\]"
raw exim "$L/exim.log" 2 " => postmaster <postmaster@example\.com> R=postmaster T=mailbox"
raw exim "$L/exim.log" 1 "rejected RCPT <$MR_RELAY_TO>: relay not permitted"
raw exim "$L/exim.log" 1 "SMTP connection from \[$C\] .* lost"
raw exim "$L/exim.log" 1 "no MAIL in SMTP connection from \[$C\]"
C=${MR_CLI_IP[sendmail]//./\\.}
for f in sendmail sendmail12; do
	raw $f "$L/$f.log" 8 ": <[a-z]+@example\.com>\.\.\. User unknown$"
	raw $f "$L/$f.log" 1 "from=<harvester@example\.net>, .*nrcpts=0, .*relay=\[$C\]$"
	raw $f "$L/$f.log" 1 "from=<$MR_LEGIT_FROM>, .*nrcpts=1, .*relay=\[$C\]$"
	raw $f "$L/$f.log" 1 "from=<>, .*nrcpts=1, .*relay=\[$C\]$"
	raw $f "$L/$f.log" 2 "to=<postmaster@example\.com>, .*mailer=local, .*stat=Sent"
	raw $f "$L/$f.log" 1 "ruleset=check_rcpt, arg1=<$MR_RELAY_TO>, relay=\[$C\], reject="
	raw $f "$L/$f.log" 1 "\[$C\] did not issue MAIL/EXPN/VRFY/ETRN"
done
raw sendmail "$L/sendmail.log" 0 "connect from"
raw sendmail12 "$L/sendmail12.log" 5 "NOQUEUE: connect from \[$C\]"
C=${MR_CLI_IP[opensmtpd]//./\\.}
raw opensmtpd "$L/opensmtpd.log" 8 'smtp failed-command command="RCPT TO:<[a-z]+@example\.com>" result="550 Invalid recipient: <[a-z]+@example\.com>"'
raw opensmtpd "$L/opensmtpd.log" 5 "smtp connected address=$C host="
raw opensmtpd "$L/opensmtpd.log" 1 "smtp envelope evpid=[0-9a-f]+ from=<$MR_LEGIT_FROM> to=<postmaster@example\.com>"
raw opensmtpd "$L/opensmtpd.log" 1 "smtp envelope evpid=[0-9a-f]+ from=<> to=<postmaster@example\.com>"
raw opensmtpd "$L/opensmtpd.log" 2 "mda delivery .* stat=Delivered"
raw opensmtpd "$L/opensmtpd.log" 1 "command=\"RCPT TO:<$MR_RELAY_TO>\""
raw opensmtpd "$L/opensmtpd.log" 4 "smtp disconnected reason=quit"
raw opensmtpd "$L/opensmtpd.log" 1 "smtp disconnected reason=disconnect"

# --- the events
# lines LOG ERE: the numbers of LOG's lines that match ERE, one a line
lines() { grep -nE "$2" "$1" | cut -d: -f1; }
# the line that holds the harvest's refusal of each address, and the refusal's shape
declare -A HARVEST_RE=([exim]='rejected RCPT <[a-z]+@example\.com>: Unrouteable address'
	[sendmail]=': <[a-z]+@example\.com>\.\.\. User unknown$'
	[opensmtpd]='result="550 Invalid recipient: <[a-z]+@example\.com>"')
declare -A LEGIT_RE=([exim]=" <= $MR_LEGIT_FROM H=" [sendmail]="from=<$MR_LEGIT_FROM>, .*nrcpts=1"
	[opensmtpd]="smtp envelope .* from=<$MR_LEGIT_FROM> ")
declare -A BOUNCE_RE=([exim]=' <= <> H=' [sendmail]='from=<>, .*nrcpts=1' [opensmtpd]='smtp envelope .* from=<> ')
declare -A RELAY_RE=([exim]="rejected RCPT <$MR_RELAY_TO>" [sendmail]="check_rcpt, arg1=<$MR_RELAY_TO>"
	[opensmtpd]="command=\"RCPT TO:<$MR_RELAY_TO>\"")
declare -A DROP_RE=([exim]='SMTP connection from .* lost' [sendmail]='did not issue MAIL'
	[opensmtpd]='reason=disconnect')
declare -A DROP_TYPE=([exim]=lost_conn [sendmail]=disconnect [opensmtpd]=lost_conn)
declare -A CONNECT_RE=([exim]='\(TCP/IP connection count = ' [sendmail]='NOQUEUE: connect from'
	[opensmtpd]='smtp connected address=')

# relay_type MTA LINE: the event type the contract gives the relay attempt's refusal
relay_type() {
	case $1:$2 in
	exim:*'relay not permitted'*) echo relay_denied ;;
	# (with no PTR record for the client, as here, Sendmail refuses with 450
	# "Relaying temporarily denied. Cannot resolve PTR record for IP": the same
	# refusal, deferred; the contract names only "Relaying denied")
	sendmail:*'Relaying denied'* | sendmail:*'Relaying temporarily denied'*) echo relay_denied ;;
	sendmail:*) echo rcpt_reject ;;
	# OpenSMTPD refuses every recipient no rule matches with the words of an unknown user
	opensmtpd:*'Invalid recipient'*) echo rcpt_unknown ;;
	opensmtpd:*'Relaying denied'* | opensmtpd:*'not allowed'*) echo relay_denied ;;
	*) echo rcpt_reject ;;
	esac
}

# expected_types MTA RELAYTYPE CONNECTS: "TYPE COUNT" lines, sorted, for the five sessions
expected_types() {
	local m=$1 rt=$2 nc=$3
	{
		echo "msg_accepted 1"	# the legitimate message; its delivery to postmaster is local: nothing
		echo "bounce_in 1"
		echo "$rt 1"
		echo "rcpt_unknown 8"
		case $m in
		# connect per session; disconnect: 4 "closed by QUIT" + "no MAIL in SMTP
		# connection" (the dropped one, which also has "lost": lost_conn)
		exim) echo "connect $nc"; echo "disconnect 5"; echo "lost_conn 1" ;;
		# no connect line at LogLevel 9; "did not issue MAIL" (the dropped one) is a
		# disconnect; the from= lines with nrcpts=0 (harvest, relay) are nothing
		sendmail) [ "$nc" -gt 0 ] && echo "connect $nc"; echo "disconnect 1" ;;
		# connect per session; reason=quit x4; reason=disconnect (dropped)
		opensmtpd) echo "connect $nc"; echo "disconnect 4"; echo "lost_conn 1" ;;
		esac
	} | awk '{ n[$1] += $2 } END { for (t in n) print t, n[t] }' | sort
}

# assert_events LABEL MTA LOG PARSE-ARGS...: the events of LOG, against the log's own lines
assert_events() {
	local label=$1 m=$2 log=$3 cli=${MR_CLI_IP[$2]} srv=${MR_SRV_IP[$2]} ev=$TMP/ev.jsonl rc l rt nc want
	shift 3
	"$MXGUARD" parse "$@" "$log" > "$ev" 2> "$TMP/parse.err"
	rc=$?
	check_eq "$label: parse exits 0" 0 "$rc"
	[ "$rc" = 0 ] || { echo "  $(head -2 "$TMP/parse.err")"; return; }
	check_eq "$label: every event is from $m" "" "$(jq -r --arg m "$m" 'select(.mta != $m) | tojson' "$ev" | head -3)"
	# the harvest: one rcpt_unknown per refusal line, on that line (for Sendmail
	# the bare "<addr>... User unknown" lines, whose address comes from a later line)
	want=$(grep -nE "${HARVEST_RE[$m]}" "$log" | sed -E 's/^([0-9]+):.*<([a-z]+@example\.com)>.*/\1 '"$cli"' \2/' | sort -n)
	check_eq "$label: 8 rcpt_unknown, one per harvested address, on its line, ip $cli" "$want" \
		"$(jq -r 'select(.type == "rcpt_unknown" and ((.to // "") | endswith("@example.com"))) | "\(.line) \(.ip) \(.to)"' "$ev" | sort -n)"
	check_eq "$label: the harvested addresses" "$(printf '%s\n' "${MR_HARVEST[@]}" | sort)" \
		"$(jq -r 'select(.type == "rcpt_unknown" and ((.to // "") | endswith("@example.com"))) | .to' "$ev" | sort)"
	check_eq "$label: exactly 1 msg_accepted: the legitimate message (line, ip, from, nrcpt)" \
		"$(lines "$log" "${LEGIT_RE[$m]}") $cli $MR_LEGIT_FROM 1" \
		"$(jq -r 'select(.type == "msg_accepted") | "\(.line) \(.ip) \(.from) \(.nrcpt)"' "$ev")"
	check_eq "$label: exactly 1 bounce_in: MAIL FROM:<> (line, ip, from)" "$(lines "$log" "${BOUNCE_RE[$m]}") $cli \"\"" \
		"$(jq -r 'select(.type == "bounce_in") | "\(.line) \(.ip) \(.from | tojson)"' "$ev")"
	l=$(lines "$log" "${DROP_RE[$m]}")
	check_eq "$label: the dropped connection (line $l) is ${DROP_TYPE[$m]}" "${DROP_TYPE[$m]} $cli" \
		"$(jq -r --argjson l "${l:-0}" 'select(.line == $l) | "\(.type) \(.ip)"' "$ev")"
	l=$(lines "$log" "${RELAY_RE[$m]}")
	rt=$(relay_type "$m" "$(sed -n "${l:-0}p" "$log")")
	check_eq "$label: the relay attempt (line $l) is $rt" "$rt $cli" \
		"$(jq -r --argjson l "${l:-0}" 'select(.line == $l) | "\(.type) \(.ip)"' "$ev")"
	# (Sendmail writes "NOQUEUE: connect from [IP]" only from LogLevel 10 on: none
	# at 9. The contract does not name that line; the parser makes it a connect.)
	nc=$(grep -cE "${CONNECT_RE[$m]}" "$log")
	check_eq "$label: one connect per session ($nc), on its line, ip $cli" \
		"$(lines "$log" "${CONNECT_RE[$m]}" | sed "s/\$/ $cli/")" \
		"$(jq -r 'select(.type == "connect") | "\(.line) \(.ip)"' "$ev")"
	check_eq "$label: the events, by type" "$(expected_types "$m" "$rt" "$nc")" \
		"$(jq -rs 'group_by(.type) | map("\(.[0].type) \(length)") | .[]' "$ev")"
	check_eq "$label: every event carries ip $cli" "" "$(jq -c --arg c "$cli" 'select(.ip != $c)' "$ev" | head -3)"
	check_eq "$label: no value is the server's address ($srv) or loopback" "" \
		"$(jq -c --arg s "$srv" 'select([.. | strings | select(. == $s or startswith("127.") or . == "::1")] | length > 0)' "$ev" | head -3)"
	"$MXGUARD" parse --stats "$@" "$log" > /dev/null 2> "$TMP/stats"
	check_eq "$label: --stats: unmatched 0, not_understood 0" "0 0" \
		"$(stat_of "$TMP/stats" unmatched) $(stat_of "$TMP/stats" not_understood)"
}

for m in "${MTAS[@]}"; do
	assert_events "$m" "$m" "$L/$m.log"
	assert_events "$m --mta $m" "$m" "$L/$m.log" --mta "$m"
done
assert_events "sendmail LogLevel 12" sendmail "$L/sendmail12.log"
assert_events "sendmail LogLevel 12 --mta sendmail" sendmail "$L/sendmail12.log" --mta sendmail
for m in "${MTAS[@]}"; do
	others=$(for o in "${MTAS[@]}"; do [ "$o" != "$m" ] && echo "$L/$o.log"; done)
	check_eq "--mta $m reads only $m's lines: the others' logs give no event" 0 \
		"$("$MXGUARD" parse --mta "$m" $others 2> /dev/null | wc -l)"
done

# --- mixed: one file with the lines of the three logs in time order (the
# sessions ran at once; lines of the same second alternate between the
# logs), and the 16 lines of tests/golden/postfix-session.log spread evenly
# through it, each given the time stamp of the line before it (so that the
# file's clock never jumps; the Postfix lines are parsed alone with the same
# stamps for the comparison).
Y=$(date -u +%Y)	# (syslog lines have no year: one for both sides)
awk -v OFS='\t' '
BEGIN { split("Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec", mn, " "); for (i = 1; i <= 12; i++) mon[mn[i]] = i }
FNR == 1 { src++ }
{
	if ($0 ~ /^[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9] /)	# Exim: YYYY-MM-DD HH:MM:SS
		key = substr($0, 6, 14)
	else						# syslog: Mon DD HH:MM:SS
		key = sprintf("%02d-%02d %s", mon[$1], $2, $3)
	rank[src, key]++
	print key, rank[src, key], src, $0
}' "$L/exim.log" "$L/sendmail.log" "$L/opensmtpd.log" | sort -s -t "$(printf '\t')" -k1,1 -k2,2n -k3,3n > "$TMP/keyed"
awk -F '\t' -v pf="$TMP/postfix.log" -v n="$(wc -l < "$TMP/keyed")" '
BEGIN { split("Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec", mn, " ") }
NR == FNR { p[++np] = $0; next }
{
	line = $0; sub(/^[^\t]*\t[^\t]*\t[^\t]*\t/, "", line); print line
	k++
	# after line k = floor(j * n / (np + 1)), Postfix line j, with this line time stamp
	while (j < np && k == int((j + 1) * n / (np + 1))) {
		j++
		stamp = sprintf("%s %2d %s", mn[substr($1, 1, 2) + 0], substr($1, 4, 2) + 0, substr($1, 7))
		pl = stamp substr(p[j], 16)
		print pl; print pl > pf
	}
}' tests/golden/postfix-session.log "$TMP/keyed" > "$TMP/mixed.log"
check_eq "mixed: every line of the four logs is in the merged file" \
	"$(cat "$L/exim.log" "$L/sendmail.log" "$L/opensmtpd.log" tests/golden/postfix-session.log | wc -l)" \
	"$(wc -l < "$TMP/mixed.log")"
"$MXGUARD" parse --year "$Y" --mta auto "$TMP/mixed.log" > "$TMP/mixed.jsonl" 2> "$TMP/mixed.err"
check_eq "mixed: parse --mta auto exits 0" 0 "$?"
for m in "${MTAS[@]}" postfix; do
	f=$L/$m.log
	[ "$m" = postfix ] && f=$TMP/postfix.log
	"$MXGUARD" parse --year "$Y" "$f" 2> /dev/null | jq -c 'del(.line)' > "$TMP/alone.jsonl"
	jq -c --arg m "$m" 'select(.mta == $m) | del(.line)' "$TMP/mixed.jsonl" > "$TMP/in-mixed.jsonl"
	check "mixed: $m's events are those of its log alone ($(wc -l < "$TMP/alone.jsonl") events, JSON but line)" \
		diff "$TMP/alone.jsonl" "$TMP/in-mixed.jsonl"
	[ -s "$TMP/alone.jsonl" ] || failt "mixed: $m's log alone gives events"
done
check_eq "mixed: no event of an MTA not in the file" "" \
	"$(jq -c 'select(.mta as $m | ["exim", "sendmail", "opensmtpd", "postfix"] | index($m) | not)' "$TMP/mixed.jsonl" | head -3)"
"$MXGUARD" parse --stats --year "$Y" "$TMP/mixed.log" > /dev/null 2> "$TMP/stats"
check_eq "mixed: --stats: unmatched 0, not_understood 0" "0 0" \
	"$(stat_of "$TMP/stats" unmatched) $(stat_of "$TMP/stats" not_understood)"
finish
