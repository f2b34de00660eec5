#!/usr/bin/env bash
# test_socketmap.sh - the daemon's socketmap server, queried by Postfix's own
# socketmap client (postmap -q, with a private configuration directory):
# decisions from ctl and from rules are answered at once, with the access(5)
# action for each; unban and expiry take them out; bad framing costs the
# client its connection, not the daemon.
. "$(dirname "$0")/lib.sh"
command -v postmap > /dev/null || skip_all "postmap missing (Postfix not installed)"
postmap_conf "$TMP/pf"
cat > "$TMP/mxguard.conf" << CONF
include "$PWD/samples/mxguard.conf"
rule "bad-helo" { on rcpt_unknown where helo matches "(?i)^bad" by helo when count >= 1 within 1m do reject for 10m }
rule "bad-sender" { on rcpt_unknown where from == "spam@example.net" by sender when count >= 1 within 1m do discard for 10m }
table <lim> { 198.51.100.30 }
rule "msg-limit" { on connect where client in <lim> when count >= 1 within 1m do limit 2 per 1m for 10m }
rule "strike" { on rcpt_unknown where from == "strike@example.net" by client when count >= 1 within 1m do reject for 10m }
rule "bad-domain" { on rcpt_unknown where sender_domain == "example.com" by sender_domain when count >= 1 within 1m do defer for 10m }
rule "sender-limit" { on rcpt_unknown where from == "bulk@example.org" by sender when count >= 1 within 1m do limit 2 per 1m for 10m }
CONF
touch "$TMP/mail.log"
"$MXGUARD" run -c "$TMP/mxguard.conf" --source "$TMP/mail.log" --state-dir "$TMP/st" --socket "$TMP/s" \
	--socketmap "$TMP/map" > "$TMP/dec" 2> "$TMP/err" &
PID=$!
trap 'kill "$PID" 2> /dev/null; rm -rf "$TMP"' EXIT
ctl_up 30 "$TMP/s"
ctl() { "$MXGUARD" ctl --socket "$TMP/s" "$@" > /dev/null; }
q() { postmap -c "$TMP/pf" -q "$2" "socketmap:unix:$TMP/map:$1" 2> /dev/null || echo "(not found)"; }

check_eq "an unknown client is not found" "(not found)" "$(q client 203.0.113.7)"
ctl ban 203.0.113.7 for 2s
check_eq "a block is a 5xx reject that names the rule" "REJECT 5.7.1 Rejected by mxguard rule manual" \
	"$(q client 203.0.113.7)"
ctl ban 2001:db8:bad::/48 for 1h defer
check_eq "a prefix decision covers its addresses, any case" "DEFER 4.7.1 Deferred by mxguard rule manual, try again later" \
	"$(q client 2001:DB8:BAD:1::9)"
check_eq "... and not the next prefix" "(not found)" "$(q client 2001:db8:bae::1)"
ctl ban 2001:db8:bad:1::9 for 1h
check_eq "the strongest action wins (block over defer)" "REJECT 5.7.1 Rejected by mxguard rule manual" \
	"$(q client 2001:db8:bad:1::9)"
ctl ban 198.51.100.9 for 1h tarpit
check_eq "tarpit is a pause before the next restriction" "sleep 5" "$(q client 198.51.100.9)"
check_eq "Postfix's partial addresses and host names are not ours" "(not found)|(not found)" \
	"$(q client 203.0.113)|$(q client mail.example.com)"
ctl ban 198.51.100.10 for 1h hold
check_eq "hold: accepted, then kept in Postfix's hold queue" "HOLD mxguard rule manual" "$(q client 198.51.100.10)"
ctl unban 198.51.100.9
check_eq "unban takes it out at once" "(not found)" "$(q client 198.51.100.9)"
wait_for 10 eval '[ "$(q client 203.0.113.7)" = "(not found)" ]'	# its 2 s are over
check_eq "a decision that has ended is gone" "(not found)" "$(q client 203.0.113.7)"

# Decisions by HELO name, sender and sender domain, from rules.
{
	echo "Nov 28 10:00:00 mx1 postfix/smtpd[9]: NOQUEUE: reject: RCPT from unknown[198.51.100.20]: 550 5.1.1 <a@example.org>: Recipient address rejected: User unknown in local recipient table; from=<x@example.org> to=<a@example.org> proto=ESMTP helo=<BadBot.example>"
	echo "Nov 28 10:00:00 mx1 postfix/smtpd[9]: NOQUEUE: reject: RCPT from unknown[198.51.100.21]: 550 5.1.1 <b@example.org>: Recipient address rejected: User unknown in local recipient table; from=<spam@example.net> to=<b@example.org> proto=ESMTP helo=<ok>"
	echo "Nov 28 10:00:00 mx1 postfix/smtpd[9]: NOQUEUE: reject: RCPT from unknown[198.51.100.22]: 550 5.1.1 <c@example.org>: Recipient address rejected: User unknown in local recipient table; from=<joe@example.com> to=<c@example.org> proto=ESMTP helo=<ok>"
} >> "$TMP/mail.log"
wait_for 10 count_at_least 3 grep -c '"rule":"bad-' "$TMP/dec"
check_eq "helo map: the HELO name, case-blind" "REJECT 5.7.1 Rejected by mxguard rule bad-helo" "$(q helo badbot.EXAMPLE)"
check_eq "sender map: the address" "DISCARD mxguard rule bad-sender" "$(q sender spam@example.net)"
check_eq "sender map: the domain (Postfix's second lookup)" "DEFER 4.7.1 Deferred by mxguard rule bad-domain, try again later" \
	"$(q sender example.com)"
check_eq "sender map: other senders are not found" "(not found)" "$(q sender joe@example.org)"

# limit N per D on messages: not found until the client has sent N, then deferred.
now() { date '+%b %e %H:%M:%S'; }
echo "$(now) mx1 postfix/smtpd[9]: connect from unknown[198.51.100.30]" >> "$TMP/mail.log"
wait_for 10 grep -q '"rule":"msg-limit"' "$TMP/dec"
check_eq "limit: under its rate the client is not found" "(not found)" "$(q client 198.51.100.30)"
for id in 1A2B3C4D5E 2A2B3C4D5E; do
	echo "$(now) mx1 postfix/smtpd[9]: $id: client=unknown[198.51.100.30]"
	echo "$(now) mx1 postfix/qmgr[7]: $id: from=<a@example.net>, size=300, nrcpt=1 (queue active)"
done >> "$TMP/mail.log"
wait_for 10 eval 'q client 198.51.100.30 | grep -q ^DEFER'
check_eq "limit: after 2 messages in a minute, the client is deferred, with its rate" \
	"DEFER 4.7.1 Rate limit reached (mxguard rule msg-limit: 2 messages per 60 s), try again later" \
	"$(q client 198.51.100.30)"

# limit N per D by sender: that sender's messages count, from any client.
echo "$(now) mx1 postfix/smtpd[9]: NOQUEUE: reject: RCPT from unknown[198.51.100.40]: 550 5.1.1 <nobody@example.com>: Recipient address rejected: User unknown in local recipient table; from=<bulk@example.org> to=<nobody@example.com> proto=ESMTP helo=<h>" >> "$TMP/mail.log"
wait_for 10 grep -q '"rule":"sender-limit"' "$TMP/dec"
check_eq "sender limit: under its rate the sender is not found" "(not found)" "$(q sender bulk@example.org)"
i=0
for c in 198.51.100.41 198.51.100.42; do
	i=$((i + 1))
	echo "$(now) mx1 postfix/smtpd[9]: 3B2C3D4E5$i: client=unknown[$c]"
	echo "$(now) mx1 postfix/qmgr[7]: 3B2C3D4E5$i: from=<Bulk@Example.org>, size=300, nrcpt=1 (queue active)"
done >> "$TMP/mail.log"
wait_for 10 eval 'q sender bulk@example.org | grep -q ^DEFER'
check_eq "sender limit: after 2 messages (from two clients, any case), the sender is deferred" \
	"DEFER 4.7.1 Rate limit reached (mxguard rule sender-limit: 2 messages per 60 s), try again later" \
	"$(q sender bulk@example.org)"
check_eq "... and another sender is not" "(not found)" "$(q sender other@example.org)"

# A lookup that arrives together with the log line that decides it (smtpd logs
# a client's 20th unknown recipient and asks about it at the next RCPT, on the
# connection it keeps): answered after that line is read, so with the decision.
# The daemon is stopped while both are written, so both wake the same poll.
python3 - "$TMP/map" "$PID" "$TMP/mail.log" > "$TMP/same" 2>&1 << 'PY'
import os, signal, socket, sys
path, pid, log = sys.argv[1], int(sys.argv[2]), sys.argv[3]
s = socket.socket(socket.AF_UNIX)
s.settimeout(10)
s.connect(path)
def ask(key):
    q = ("client " + key).encode()
    s.sendall(b"%d:%s," % (len(q), q))
def answer():
    b = b""
    while not b.endswith(b","):
        b += s.recv(4096)
    return b.split(b":", 1)[1][:-1].decode()
ask("198.51.100.77"); print(answer())
os.kill(pid, signal.SIGSTOP)
try:
    with open(log, "a") as f:
        f.write("Nov 28 10:00:01 mx1 postfix/smtpd[9]: NOQUEUE: reject: RCPT from unknown[198.51.100.77]: 550 5.1.1 "
                "<z@example.org>: Recipient address rejected: User unknown in local recipient table; "
                "from=<strike@example.net> to=<z@example.org> proto=ESMTP helo=<ok>\n")
    ask("198.51.100.77")
finally:
    os.kill(pid, signal.SIGCONT)
print(answer())
PY
check_eq "a lookup woken with the line that decides it is answered with the decision" \
	"NOTFOUND |OK REJECT 5.7.1 Rejected by mxguard rule strike" "$(paste -sd'|' "$TMP/same")"

# Bad framing: the client loses its connection; the daemon goes on.
printf '99999999:client x,' | nc -N -U "$TMP/map" > /dev/null 2>&1
printf '5:abc,junk' | nc -N -U "$TMP/map" > /dev/null 2>&1
check_eq "after bad framing the daemon still answers" "REJECT 5.7.1 Rejected by mxguard rule bad-helo" "$(q helo badbot.example)"
answer=$(printf '19:client 203.0.113.99,19:client 203.0.113.99,' | timeout 2 nc -N -U "$TMP/map")
check_eq "two requests on one connection get two answers" "9:NOTFOUND ,9:NOTFOUND ," "$answer"
check_eq "an unknown map is a permanent error" "PERM unknown map" "$(printf '9:nomap key,' | timeout 2 nc -N -U "$TMP/map" | grep -o 'PERM unknown map')"

# A restart: the decisions in force are answered again.
ctl ban 203.0.113.50 for 1h reject
kill "$PID"; wait "$PID"
"$MXGUARD" run -c "$TMP/mxguard.conf" --source "$TMP/mail.log" --state-dir "$TMP/st" --socket "$TMP/s" \
	--socketmap "$TMP/map" > /dev/null 2>> "$TMP/err" &
PID=$!
ctl_up 30 "$TMP/s"
check_eq "after a restart the decisions in force are answered" "REJECT 5.7.1 Rejected by mxguard rule manual" \
	"$(q client 203.0.113.50)"
kill "$PID"; wait "$PID"
check_eq "clean exit" 0 $?
check "the socket is removed at exit" test ! -e "$TMP/map"
finish
