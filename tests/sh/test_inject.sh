#!/usr/bin/env bash
# test_inject.sh - clients write much of every log line: they must not steer mxguard.
#
# tests/sh/inject.pl fills every slot a client controls (HELO, MAIL FROM
# quoted and unquoted, RCPT TO, header and body text, non-SMTP commands,
# illegal addresses) with text that imitates the fields and messages of
# docs/EVENTS.md and host[ip] of an innocent address (198.51.100.10), and
# knows the truth from the MTA's replies. Every event mxguard reads from the
# log must equal that truth in type, client address and recipient, and none
# may name the innocent address.
#
# 1. offline: 2,500 generated sessions in the exact shapes the real Postfix
#    wrote (more than 10,000 lines), many clients, IPv4 and IPv6;
# 2. a real Postfix 3.7 in a network namespace, attacked by two clients with
#    240 hostile sessions; the default policy replayed on its log decides the
#    harvest of both and nothing about the innocent address; the daemon, with
#    reputation rules and a DNS zone on (every event waits, packed), reads
#    the same events as `parse` and decides nothing about the innocent
#    address, which its feed rates 10;
# 3. the real Exim 4.96 of the end-to-end tests (tests/sh/mta_real.sh), 120
#    hostile sessions. Exim logs a command's argument cut to 100 bytes, so a
#    longer recipient's event must come without "to" (the truth says null).
#    Every twentieth session (the 1st, 21st, ...) ends in
#    `GET /" H=[innocent]:25 ... x\`: Exim 4.96
#    logs it as it came, Exim's own quote after the client's backslash: the
#    event is still the session's client;
# 4. the real OpenSMTPD 6.8, 120 hostile sessions (it logs the client's
#    command with its quotes unescaped, and backslashes doubled; every
#    twentieth session's last command, the 11th, 31st, ..., holds its
#    " result=" separator twice);
# 5. the real Sendmail 8.17 (LogLevel 9), 120 hostile sessions: it logs
#    backslashes doubled, and a long address cut, or as its two ends joined
#    by "..." (such a recipient's event comes without "to").
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/mta_real.sh" || exit 1
INJECT=$(dirname "$0")/inject.pl
# The fields the truth knows: type and ip, and to for the recipient events.
project() {
	jq -c 'if (.type == "rcpt_unknown" or .type == "relay_denied" or .type == "rcpt_reject") then {ip, type, to}
		else {ip, type} end' | sort
}

# compare KEY LABEL TRUTH LOG [PARSE-ARGS...]: every event mxguard reads from LOG
# equals the truth in type, ip and to, and none names the innocent address
compare() {
	local key=$1 label=$2 truth=$3 log=$4
	shift 4
	"$MXGUARD" parse "$@" "$log" | project > "$TMP/$key.got"
	jq -c . "$truth" | sort > "$TMP/$key.want"
	diff "$TMP/$key.want" "$TMP/$key.got" > "$TMP/$key.diff"
	check_eq "$label: every event's type, ip and to equal the truth ($(wc -l < "$TMP/$key.want") events)" "" \
		"$(head -5 "$TMP/$key.diff")"
	# (the differing events in full, indented so that run_all.sh keeps them: a failure can be read and replayed)
	[ -s "$TMP/$key.diff" ] && head -20 "$TMP/$key.diff" | sed 's/^/  /'
	check_eq "$label: no event names the innocent address" 0 "$(grep -c '"198\.51\.100\.10"' "$TMP/$key.got")"
}

# real_mta MTA LABEL TYPE ERE: 120 hostile sessions through the real MTA
# (tests/sh/mta_real.sh); then wait until its log holds as many lines
# matching ERE as the truth has TYPE events (every session's end, written
# through syslog for some) and stops growing, and compare.
real_mta() {
	local m=$1 label=$2 type=$3 re=$4
	local seed=$RANDOM
	mr_start "$m" || { failt "$label starts"; return; }
	ip netns exec "${MR_CLI_NS[$m]}" perl "$INJECT" smtp "$m" "${MR_SRV_IP[$m]}" "${MR_CLI_IP[$m]}" "$seed" 120 \
		"$TMP/$m.truth" > "$TMP/inject.$m" 2>&1
	check "120 hostile sessions went through the real $label (seed $seed)" test $? = 0
	[ -s "$TMP/inject.$m" ] && sed "s/^/  /" "$TMP/inject.$m"
	mr_wait 10 count_at_least "$(grep -c "\"$type\"" "$TMP/$m.truth")" grep -c "$re" "${MR_LOG[$m]}"
	mr_wait 5 mr__quiet "${MR_LOG[$m]}"
	compare "$m" "real $label" "$TMP/$m.truth" "${MR_LOG[$m]}"
}

# --- 1. offline
perl "$INJECT" offline 12 2500 "$TMP/off.log" "$TMP/off.truth"
lines=$(wc -l < "$TMP/off.log")
check "offline: at least 10,000 hostile lines ($lines)" test "$lines" -ge 10000
compare off offline "$TMP/off.truth" "$TMP/off.log" --year 2024
"$MXGUARD" parse --stats --year 2024 "$TMP/off.log" 2> "$TMP/off.stats" > /dev/null
check_eq "offline: every line understood, no field left doubtful, no regex limit hit" "0 0 0" \
	"$(stat_of "$TMP/off.stats" unmatched) $(stat_of "$TMP/off.stats" doubtful_fields) $(stat_of "$TMP/off.stats" regex_limit)"

# --- 2. the real Postfix
for tool in postfix ip perl; do
	command -v "$tool" > /dev/null || skip_all "$tool missing (./run test installs Postfix)"
done
getent passwd postfix > /dev/null || skip_all "no postfix user"
MX=mxg-imx$$
ip netns add "$MX" 2> /dev/null || skip_all "cannot create network namespaces here"
CLIENTS=(a1 a2)
declare -A ADDR=([a1]=203.0.113.66 [a2]=203.0.113.67)
postfix_cleanup() {
	pf postfix stop > /dev/null 2>&1
	for c in "${CLIENTS[@]}"; do ip netns del "mxg-i$c$$" 2> /dev/null; done
	ip netns del "$MX" 2> /dev/null
}
mr_at_exit postfix_cleanup
bridge_net "$MX" mxg-i "${CLIENTS[@]}"
. "$(dirname "$0")/postfix_ns.sh"
# Header checks so that header text reaches the log in cleanup's reject line.
postfix_start "$MX" "smtpd_error_sleep_time = 0" "smtpd_soft_error_limit = 1000" "smtpd_hard_error_limit = 1000" \
	"header_checks = regexp:{{/^Subject:.*VIAGRA/ REJECT spam header}}"
check "Postfix listens in the MX namespace" sh -c "ip netns exec '$MX' ss -ltn | grep -q ':25 '"

: > "$TMP/truth"
for c in "${CLIENTS[@]}"; do
	ip netns exec "mxg-i$c$$" perl "$INJECT" smtp postfix "$(MXIP "$c")" "${ADDR[$c]}" "$RANDOM" 120 "$TMP/truth.$c" \
		> "$TMP/inject.$c" 2>&1 &
done
ok_clients=0
for c in "${CLIENTS[@]}"; do wait -n && ok_clients=$((ok_clients + 1)); done
check_eq "240 hostile sessions went through the real Postfix (2 clients)" 2 "$ok_clients"
[ "$ok_clients" = 2 ] || sed "s/^/  /" "$TMP"/inject.*
cat "$TMP"/truth.* > "$TMP/truth"
# qmgr writes its line after the client's QUIT: wait until every accepted message is in the log.
accepted=$(grep -cE '"(msg_accepted|bounce_in)"' "$TMP/truth")
wait_for 20 count_at_least "$accepted" grep -c 'postfix/qmgr.*(queue active)' "$TMP/maillog"
compare postfix "real Postfix" "$TMP/truth" "$TMP/maillog"
"$MXGUARD" replay -c samples/mxguard.conf "$TMP/maillog" > "$TMP/dec" 2> /dev/null
check "the default policy decides both harvests despite the hostile text" \
	sh -c "grep -q '\"rule\":\"dha\",\"key\":\"203.0.113.66\"' '$TMP/dec' && grep -q '\"rule\":\"dha\",\"key\":\"203.0.113.67\"' '$TMP/dec'"
check_eq "no decision names the innocent address" 0 "$(grep -c '198\.51\.100\.10' "$TMP/dec")"
# The same log through the daemon with reputation rules on: a feed that rates the innocent
# address (named in the hostile text) 10, and a DNS zone asked on a port where nothing
# answers (in the MX namespace): every client's events wait for the refusal, packed and
# unpacked (reputation/repwait.c), and must come out as `parse` reads them.
printf 'prefix,risk,spam,vol\n198.51.100.10,10,100,\n203.0.113.66,9,,\n' > "$TMP/vendor.csv"
{ cat samples/mxguard.conf; printf '%s\n' 'feed "vendor" { file "vendor.csv" format csv }' \
	'zone "bl" { domain "bl.test" server "127.0.0.1" port 9 timeout 2s }' \
	'rule "dha-risky" { on rcpt_unknown where rep.risk >= 8 or listed "bl" when distinct to >= 3 within 10m do block for 1h }'; } \
	> "$TMP/rep.conf"
ip netns exec "$MX" ip link set lo up
ip netns exec "$MX" "$MXGUARD" run -c "$TMP/rep.conf" --source "$TMP/maillog" --from-start --state-dir "$TMP/rst" \
	--socket "$TMP/rs" --events "$TMP/rev.jsonl" > "$TMP/rdec" 2> "$TMP/rrun.err" &
RPID=$!
"$MXGUARD" parse "$TMP/maillog" | sort > "$TMP/parsed"
wait_for 30 lines_at_least "$(wc -l < "$TMP/parsed")" "$TMP/rev.jsonl"
waited=$("$MXGUARD" ctl --socket "$TMP/rs" --json status | jq -r .dns.waited)
kill "$RPID"; wait "$RPID"
check "events waited for DNS ($waited)" test "${waited:-0}" -gt 0
check_eq "with reputation and DNS rules on: the daemon's events are parse's, byte for byte ($(wc -l < "$TMP/parsed"))" "" \
	"$(jq -c 'del(.rep)' "$TMP/rev.jsonl" | sort | diff "$TMP/parsed" - | head -5)"
check_eq "every event waited for DNS and was judged with the zone unknown" "unknown" \
	"$(jq -r 'select(.ip != null) | .rep.zones.bl' "$TMP/rev.jsonl" | sort -u)"
check "a risky harvester is decided at its 3rd unknown recipient" \
	grep -q '"rule":"dha-risky","key":"203.0.113.66".*"value":3' "$TMP/rdec"
check_eq "the innocent address, rated 10 by the feed, is never decided on" 0 "$(grep -c '198\.51\.100\.10' "$TMP/rdec")"

# --- 3. the real Exim
mr_init exim
mr_net exim
# (hostile sessions make many syntax errors: Exim would drop them after 3)
MR_EXIM_MAIN="smtp_max_synprot_errors = 100000"
# AUTH PLAIN offered, every password wrong: the user name reaches the log (set_id=)
MR_EXIM_AUTH='plain_server:
  driver = plaintext
  public_name = PLAIN
  server_prompts = :
  server_condition = false
  server_set_id = $auth2'

real_mta exim Exim disconnect 'closed by QUIT'

# --- 4. the real OpenSMTPD
mr_init opensmtpd
mr_net opensmtpd
real_mta opensmtpd OpenSMTPD disconnect 'disconnected reason=quit'

# --- 5. the real Sendmail (every transaction ends with its from= line)
mr_init sendmail
mr_net sendmail
real_mta sendmail Sendmail msg_accepted 'stat=Sent'
finish
