#!/usr/bin/env bash
# test_policy_mtas.sh - the default policy (samples/mxguard.conf), unchanged,
# on Sendmail, Exim and OpenSMTPD logs: the same attacks in each MTA's own
# line shapes trip the same rules for the same clients, and the legitimate
# client is never decided on. Rules are written once, for event types.
#
# Per MTA: a harvester (25 unknown recipients in one session), a bounce
# flooder (55 incoming bounces), a password guesser (12 AUTH failures), a
# relay prober (12 relay refusals; OpenSMTPD words relay refusals like
# unknown users, so it has none) and a legitimate sender (5 messages).
. "$(dirname "$0")/lib.sh"
HARV=203.0.113.66 BNC=203.0.113.68 AUTH=203.0.113.70 RELAY=203.0.113.71 LEGIT=198.51.100.10

sendmail_log() {
	local i q
	for i in $(seq 10 34); do echo "Mar  1 10:00:$i mx sm-mta[100]: 6AS9bWJO000100: <user$i@example.com>... User unknown"; done
	echo "Mar  1 10:00:35 mx sm-mta[100]: 6AS9bWJO000100: from=<h@example.net>, size=0, class=0, nrcpts=0, proto=ESMTP, daemon=MTA, relay=[$HARV]"
	for i in $(seq 10 64); do
		q=6AS9c${i}X0000$i
		echo "Mar  1 10:01:$(printf %02d $((i % 60))) mx sm-mta[2$i]: $q: from=<>, size=900, class=0, nrcpts=1, msgid=<b$i@x>, proto=ESMTP, daemon=MTA, relay=bounce.example.net [$BNC]"
		echo "Mar  1 10:01:$(printf %02d $((i % 60))) mx sm-mta[3$i]: $q: to=<alice@example.com>, delay=00:00:00, mailer=local, pri=30416, dsn=2.0.0, stat=Sent"
	done
	for i in $(seq 10 21); do echo "Mar  1 10:02:$i mx sm-mta[4$i]: 6AS9d${i}Y0000$i: AUTH failure (LOGIN): authentication failure (-13) SASL(-13): authentication failure: checkpass failed, user=admin, relay=[$AUTH]"; done
	for i in $(seq 10 21); do echo "Mar  1 10:03:$i mx sm-mta[5$i]: 6AS9e${i}Z0000$i: ruleset=check_rcpt, arg1=<x$i@example.net>, relay=[$RELAY], reject=550 5.7.1 <x$i@example.net>... Relaying denied"; done
	for i in $(seq 10 14); do echo "Mar  1 10:04:$i mx sm-mta[6$i]: 6AS9f${i}W0000$i: from=<alice@example.net>, size=500, class=0, nrcpts=1, msgid=<l$i@x>, proto=ESMTP, daemon=MTA, relay=mail.example.net [$LEGIT]"; done
}

exim_log() {
	local i
	for i in $(seq 10 34); do echo "2024-03-01 10:00:$i [100] H=(harvest) [$HARV]:4000 F=<h@example.net> rejected RCPT <user$i@example.com>: Unrouteable address"; done
	for i in $(seq 10 64); do echo "2024-03-01 10:01:$(printf %02d $((i % 60))) [2$i] 1xXEs9-0000$i-1b <= <> H=bounce.example.net [$BNC]:40$i P=esmtp S=900 for alice@example.com"; done
	for i in $(seq 10 21); do echo "2024-03-01 10:02:$i [4$i] dovecot_login authenticator failed for (guess) [$AUTH]:41$i: 535 Incorrect authentication data (set_id=admin)"; done
	for i in $(seq 10 21); do echo "2024-03-01 10:03:$i [5$i] H=(probe) [$RELAY] F=<p@example.net> rejected RCPT <x$i@example.net>: relay not permitted"; done
	for i in $(seq 10 14); do echo "2024-03-01 10:04:$i [6$i] 1xXE$i-0006Up-1b <= alice@example.net H=mail.example.net [$LEGIT]:42$i P=esmtps S=500 for bob@example.com"; done
}

opensmtpd_log() {
	local i s
	echo "Mar  1 10:00:00 mx smtpd[1]: 00000000000000aa smtp connected address=$HARV host=<unknown>"
	for i in $(seq 10 34); do echo "Mar  1 10:00:$i mx smtpd[1]: 00000000000000aa smtp failed-command command=\"RCPT TO:<user$i@example.com>\" result=\"550 Invalid recipient: <user$i@example.com>\""; done
	for i in $(seq 10 64); do
		s=00000000000001$i
		echo "Mar  1 10:01:$(printf %02d $((i % 60))) mx smtpd[1]: $s smtp connected address=$BNC host=bounce.example.net"
		echo "Mar  1 10:01:$(printf %02d $((i % 60))) mx smtpd[1]: $s smtp message msgid=0000b0$i size=900 nrcpt=1 proto=ESMTP"
		echo "Mar  1 10:01:$(printf %02d $((i % 60))) mx smtpd[1]: $s smtp envelope evpid=0000b0${i}00000000 from=<> to=<alice@example.com>"
		echo "Mar  1 10:01:$(printf %02d $((i % 60))) mx smtpd[1]: $s smtp disconnected reason=quit"
	done
	echo "Mar  1 10:02:00 mx smtpd[1]: 00000000000000cc smtp connected address=$AUTH host=<unknown>"
	for i in $(seq 10 21); do echo "Mar  1 10:02:$i mx smtpd[1]: 00000000000000cc smtp authentication user=admin result=permfail"; done
	for i in $(seq 10 14); do
		s=00000000000004$i
		echo "Mar  1 10:04:$i mx smtpd[1]: $s smtp connected address=$LEGIT host=mail.example.net"
		echo "Mar  1 10:04:$i mx smtpd[1]: $s smtp message msgid=0000c0$i size=500 nrcpt=1 proto=ESMTP"
		echo "Mar  1 10:04:$i mx smtpd[1]: $s smtp envelope evpid=0000c0${i}00000000 from=<alice@example.net> to=<bob@example.com>"
		echo "Mar  1 10:04:$i mx smtpd[1]: $s smtp disconnected reason=quit"
	done
}

decided() { jq -r "select(.rule == \"$2\") | .key" "$1" | sort -u | xargs; }
for mta in sendmail exim opensmtpd; do
	"${mta}_log" > "$TMP/$mta.log"
	"$MXGUARD" replay -c samples/mxguard.conf --year 2024 "$TMP/$mta.log" > "$TMP/$mta.dec" 2> "$TMP/$mta.err"
	check_eq "$mta: dha decides on the harvester" "$HARV" "$(decided "$TMP/$mta.dec" dha)"
	check_eq "$mta: bounce-flood decides on the bounce flooder" "$BNC" "$(decided "$TMP/$mta.dec" bounce-flood)"
	check_eq "$mta: auth-guess decides on the password guesser" "$AUTH" "$(decided "$TMP/$mta.dec" auth-guess)"
	if [ "$mta" != opensmtpd ]; then
		check_eq "$mta: relay-probe decides on the relay prober" "$RELAY" "$(decided "$TMP/$mta.dec" relay-probe)"
	fi
	check_eq "$mta: the legitimate sender is never decided on" "" "$(jq -r "select(.key == \"$LEGIT\") | .rule" "$TMP/$mta.dec")"
	"$MXGUARD" parse --stats --year 2024 "$TMP/$mta.log" > /dev/null 2> "$TMP/$mta.stats"
	check_eq "$mta: every line understood" 0 "$(stat_of "$TMP/$mta.stats" not_understood)"
done
finish
