#!/usr/bin/env bash
# test_dns_rules.sh - rules that read DNS zones, in `mxguard run`, against
# the real rbldnsd (reputation/repwait.c: events wait for their client's
# answers; docs/REPUTATION.md, "DNS zones in rules").
#
# rbldnsd serves an IPv4 zone (s.test) and an IPv6 one (u.test) on
# 127.0.0.1 inside a fresh network namespace (unshare -n: nothing of the
# host's network is touched). Checked:
#   - `check -v` says which zones the rules read;
#   - a harvest threshold that depends on a DNS listing: a listed client
#     is blocked at its 3rd unknown recipient, a clean one at its 10th;
#     events and decisions carry each zone's answer;
#   - rbldnsd stopped (SIGSTOP): a new client's events wait, while a
#     client whose answers are cached goes on (its events written first);
#     at the zone's timeout (not before, not much after) the waiting events
#     are judged, in their order, the zone "unknown" — not listed, so the
#     listed-client rule does not fire;
#   - kill -9 while events wait for DNS: after the restart they are asked
#     again and judged, each exactly once (the events file), and nothing
#     is counted twice;
#   - a reload while events wait judges them at once (zones unknown);
#     replay does not ask zones and says so;
#   - a storm of 10,000 distinct IPv6 clients through the daemon (the
#     timeout raised to 8 s by a reload): every event judged with the right
#     answer, none waiting longer than the timeout, nothing lost; a second pass is answered from the cache
#     (the hit rate printed).
# Test addresses are from 198.51.100.0/24, 203.0.113.0/24 and 2001:db8::/32.
. "$(dirname "$0")/lib.sh"

rbldnsd_ns DNSRULES_NS "$MXGUARD"
command -v jq > /dev/null || skip_all "jq is not installed"

MARGIN=700	# ms a deadline may be late: the loop's wake-up on a loaded machine
cat > "$TMP/s.zone" <<'EOF'
$SOA 600 ns.s.test. hostmaster.s.test. 1 1h 15m 1w 120
$TTL 900
:127.0.0.2:listed
198.51.100.0/26
EOF
cat > "$TMP/u.zone" <<'EOF'
$SOA 600 ns.u.test. hostmaster.u.test. 1 1h 15m 1w 60
$TTL 900
:127.0.0.3:v6
2001:db8:1::/48
EOF
chmod 644 "$TMP"/*.zone
RBLDNSD= PID=
trap 'kill -9 $PID 2> /dev/null; if [ -n "$RBLDNSD" ]; then kill -CONT $RBLDNSD; kill $RBLDNSD; wait $RBLDNSD; fi 2> /dev/null; rm -rf "$TMP"' EXIT
if ! rbldnsd_start s.test:ip4set:"$TMP/s.zone" u.test:ip6trie:"$TMP/u.zone"; then
	failt "rbldnsd answers on 127.0.0.1/$PORT" "$(head -20 "$TMP/rbldnsd.log")"
	finish
fi

cat > "$TMP/dns.conf" <<EOF
zone "bl" { domain "s.test" server "127.0.0.1" port $PORT timeout 4s risk 9 }
zone "v6" { domain "u.test" server "127.0.0.1" port $PORT timeout 4s }
rule "dha-listed" {
    on rcpt_unknown
    where listed "bl"
    when distinct to >= 3 within 1h
    do block for 1h
}
rule "dha" {
    on rcpt_unknown
    unless listed "bl"
    when distinct to >= 10 within 1h
    do block for 1h
}
EOF
out=$("$MXGUARD" check -v "$TMP/dns.conf")
check_eq "check -v: the zones, and that the rules read them" 2 \
	"$(echo "$out" | grep -c 'rules read it: the daemon asks it for every client')"
check "check: OK with 2 zones" grep -q "OK (2 rules, 0 tables, 0 feeds, 2 zones)" <<< "$out"

# ADDR FIRST N: N unknown recipients (numbered from FIRST), one line each, in one minute.
rcpts() {
	local i
	for i in $(seq "$2" $(($2 + $3 - 1))); do
		printf 'Nov 19 10:00:%02d mx1 postfix/smtpd[41]: NOQUEUE: reject: RCPT from unknown[%s]: 550 5.1.1 <u%d@example.org>: Recipient address rejected: User unknown in local recipient table; from=<x@example.net> to=<u%d@example.org> proto=ESMTP helo=<x>\n' \
			$((i % 60)) "$1" "$i" "$i"
	done
}
start() {
	"$MXGUARD" run -c "$TMP/dns.conf" --source "$TMP/mail.log" --state-dir "$TMP/st" --socket "$TMP/s" \
		--events "$TMP/ev.jsonl" >> "$TMP/run.jsonl" 2>> "$TMP/run.err" &
	PID=$!
	ctl_up 30 "$TMP/s"
}
status() { "$MXGUARD" ctl --socket "$TMP/s" --json status; }
events_of() { jq -r --arg ip "$1" 'select(.ip == $ip) | .line' "$TMP/ev.jsonl" 2> /dev/null | wc -l; }

: > "$TMP/mail.log"
start
check "run says the zones are asked" grep -q '2 DNS zone(s) asked per client' "$TMP/run.err"
{ rcpts 198.51.100.10 0 12; rcpts 203.0.113.10 0 12; } >> "$TMP/mail.log"
wait_for 20 count_at_least 2 sh -c "wc -l < '$TMP/run.jsonl'"
check_eq "a listed client is blocked at its 3rd unknown recipient, a clean one at its 10th" \
	"198.51.100.10 dha-listed 3|203.0.113.10 dha 10" \
	"$(jq -r '"\(.key) \(.rule) \(.value)"' "$TMP/run.jsonl" | sort | paste -sd'|')"
check_eq "the decision carries the zones' answers" 'listed not listed 9 bl' \
	"$(jq -r 'select(.rule == "dha-listed") | "\(.rep.zones.bl) \(.rep.zones.v6) \(.rep.risk) \(.rep.sources.risk.zone)"' "$TMP/run.jsonl")"
wait_for 20 count_at_least 24 sh -c "wc -l < '$TMP/ev.jsonl'"
check_eq "so do the events: listed, not listed" "listed|not listed" \
	"$(jq -r '.rep.zones.bl' "$TMP/ev.jsonl" | sort -u | paste -sd'|')"
st=$(status)
check_eq "status: four questions (two clients, two zones; the rest from the cache), nothing unknown or forced" \
	"4 0 0 0" "$(echo "$st" | jq -r '.dns | "\(.queries) \(.timeouts) \(.forced) \(.waiting)"')"

# rbldnsd stops answering: a new client's events wait; a cached one's go on.
kill -STOP "$RBLDNSD"
rcpts 198.51.100.20 0 5 >> "$TMP/mail.log"
wait_for 20 sh -c "$(declare -f status); status | jq -e '.dns.waiting == 5' > /dev/null"
t0=$(date +%s%N)
check_eq "rbldnsd silent: the new client's 5 events wait" 5 "$(status | jq -r .dns.waiting)"
rcpts 203.0.113.10 12 3 >> "$TMP/mail.log"
wait_for 20 count_at_least 15 sh -c "jq -r 'select(.ip == \"203.0.113.10\") | .ip' '$TMP/ev.jsonl' | wc -l"
check_eq "meanwhile a client whose answers are cached goes on (its events judged, the waiting ones not yet)" "15 0" \
	"$(events_of 203.0.113.10) $(events_of 198.51.100.20)"
wait_for 10 count_at_least 5 sh -c "jq -r 'select(.ip == \"198.51.100.20\") | .ip' '$TMP/ev.jsonl' | wc -l"
t1=$(date +%s%N)
waited=$(( (t1 - t0) / 1000000 ))
st=$(status)
maxw=$(echo "$st" | jq -r .dns.max_wait_ms)
check "at the zone's timeout (4 s), not before, not much after: waited ${maxw} ms" \
	test "$maxw" -ge 3950 -a "$maxw" -le $((4000 + MARGIN))
check_eq "the waiting events are judged in their order, the zones unknown" "ok unknown unknown" \
	"$(jq -r 'select(.ip == "198.51.100.20") | .line' "$TMP/ev.jsonl" | sort -c -n && echo ok) $(jq -r 'select(.ip == "198.51.100.20") | "\(.rep.zones.bl) \(.rep.zones.v6)"' "$TMP/ev.jsonl" | sort -u)"
check_eq "unknown is not listed: no decision on the 5 recipients (the listed rule would have fired at 3)" "" \
	"$(jq -r 'select(.key == "198.51.100.20") | .rule' "$TMP/run.jsonl")"
check_eq "status: the timeouts counted (2 zones), 5 events waited, none now" "2 0" \
	"$(echo "$st" | jq -r '.dns | "\(.timeouts) \(.waiting)"')"
echo "waited $waited ms by the clock of the test, max_wait_ms $maxw" > "$TMP/timing"

# kill -9 while events wait: saved with the positions, asked again after the restart.
rcpts 198.51.100.30 0 4 >> "$TMP/mail.log"
wait_for 20 sh -c "$(declare -f status); status | jq -e '.dns.waiting == 4' > /dev/null"
check_eq "4 events of a new client wait (rbldnsd still silent)" 4 "$(status | jq -r .dns.waiting)"
kill -9 "$PID"
wait "$PID" 2> /dev/null
n_before=$(wc -l < "$TMP/ev.jsonl")
kill -CONT "$RBLDNSD"
start
check "the restart says the waiting events are asked again" grep -q 'waited for DNS at the last stop are asked again' "$TMP/run.err"
wait_for 20 count_at_least 4 sh -c "jq -r 'select(.ip == \"198.51.100.30\") | .ip' '$TMP/ev.jsonl' | wc -l"
wait_for 20 grep -q '"198.51.100.30"' "$TMP/run.jsonl"
check_eq "after kill -9: each waiting event judged exactly once, with the answer rbldnsd now gives" "4 listed" \
	"$(events_of 198.51.100.30) $(jq -r 'select(.ip == "198.51.100.30") | .rep.zones.bl' "$TMP/ev.jsonl" | sort -u)"
check_eq "... and they decide: a listed client at its 3rd recipient" "198.51.100.30 dha-listed 3" \
	"$(jq -r 'select(.key == "198.51.100.30") | "\(.key) \(.rule) \(.value)"' "$TMP/run.jsonl")"
check_eq "no line counted twice: one event per line of the log" "$(wc -l < "$TMP/mail.log")" "$(wc -l < "$TMP/ev.jsonl")"

# A reload while events wait: judged at once by the running rules, their zones unknown.
kill -STOP "$RBLDNSD"
rcpts 198.51.100.40 0 2 >> "$TMP/mail.log"
wait_for 20 sh -c "$(declare -f status); status | jq -e '.dns.waiting == 2' > /dev/null"
check "ctl reload with 2 events waiting for DNS" "$MXGUARD" ctl --socket "$TMP/s" reload
wait_for 20 count_at_least 2 sh -c "jq -r 'select(.ip == \"198.51.100.40\") | .ip' '$TMP/ev.jsonl' | wc -l"
check_eq "a reload judges the waiting events now, zones unknown, nothing waits" "unknown 0" \
	"$(jq -r 'select(.ip == "198.51.100.40") | .rep.zones.bl' "$TMP/ev.jsonl" | sort -u) $(status | jq -r .dns.waiting)"
check "... and says so" grep -q "reload: 2 event(s) waiting for DNS judged now, their zones unknown" "$TMP/run.err"
kill -CONT "$RBLDNSD"

# replay does not ask zones: said, and every zone unknown.
"$MXGUARD" replay -c "$TMP/dns.conf" --year 2024 "$TMP/mail.log" > "$TMP/replay.jsonl" 2> "$TMP/replay.err"
check "replay warns that it does not ask DNS zones" grep -q "replay does not ask" "$TMP/replay.err"
check_eq "replay: no listing, so only the 10-recipient rule fires (on both 12-recipient clients)" \
	"198.51.100.10 dha|203.0.113.10 dha" \
	"$(jq -r '"\(.key) \(.rule)"' "$TMP/replay.jsonl" | sort -u | paste -sd'|')"

# A storm: 10,000 distinct IPv6 clients, one line each (half in the v6 zone's listed /48).
python3 - "$TMP/storm.log" <<'EOF'
import sys
with open(sys.argv[1], 'w') as f:
    for i in range(10000):
        net = 1 if i % 2 == 0 else 2
        f.write('Nov 19 11:%02d:%02d mx1 postfix/smtpd[41]: NOQUEUE: reject: RCPT from unknown[2001:db8:%x::%x]: '
                '550 5.1.1 <s%d@example.org>: Recipient address rejected: User unknown in local recipient table; '
                'from=<x@example.net> to=<s%d@example.org> proto=ESMTP helo=<x>\n' % (i // 600, i // 10 % 60, net, i + 1, i, i))
EOF
# (4 s before it: the cached client's three events must be judged, on a loaded machine under ASan, before the
# waiting ones time out; with 2 s they once were not.)
# The storm is about answers, not the deadline (checked above): the zones' timeout goes to 8 s for it. With
# 2 s, a loaded CI machine running the ASan build beside the other timed out 4,465 of 20,000 questions: 64 in
# flight per server (dnszone.c's window) at a round trip stretched by the load cannot take 20,000 in 2 s.
sed -i 's/timeout 4s/timeout 8s/' "$TMP/dns.conf"
"$MXGUARD" ctl --socket "$TMP/s" reload > /dev/null
reloads() { [ "$(grep -c "reloaded $TMP/dns.conf" "$TMP/run.err")" = 2 ]; }	# (this and the one above)
wait_for 20 reloads
check "the storm's zones are set up (8 s timeout)" reloads
st0=$(status)
n0=$(wc -l < "$TMP/ev.jsonl")
s0=$(date +%s%N)
cat "$TMP/storm.log" >> "$TMP/mail.log"
wait_for 60 count_at_least $((n0 + 10000)) sh -c "wc -l < '$TMP/ev.jsonl'"
s1=$(date +%s%N)
st=$(status)
check_eq "storm: every event judged, nothing lost, nothing waiting" "$((n0 + 10000)) 0" \
	"$(wc -l < "$TMP/ev.jsonl") $(echo "$st" | jq -r .dns.waiting)"
check_eq "every answer right: the listed /48 listed, the other not, no unknown" "5000 listed|5000 not listed" \
	"$(tail -n 10000 "$TMP/ev.jsonl" | jq -r '.rep.zones.v6' | sort | uniq -c | awk '{$1=$1; print}' | paste -sd'|')"
check_eq "... and 20,000 questions, no timeout, nothing forced" "20000 0 0 0" \
	"$(jq -n --argjson a "$st0" --argjson b "$st" '$b.dns.queries - $a.dns.queries, $b.dns.timeouts - $a.dns.timeouts, $b.dns.forced - $a.dns.forced, $b.dns.overflow - $a.dns.overflow' | paste -sd' ')"
maxw=$(echo "$st" | jq -r .dns.max_wait_ms)
check "no event waited longer than the zone's timeout (max ${maxw} ms of 8000)" test "$maxw" -le 8000
# The same clients again: from the cache.
sed 's/Nov 19 11:/Nov 19 12:/' "$TMP/storm.log" >> "$TMP/mail.log"
wait_for 60 count_at_least $((n0 + 20000)) sh -c "wc -l < '$TMP/ev.jsonl'"
st2=$(status)
hits=$(jq -n --argjson a "$st" --argjson b "$st2" '$b.dns.cache_hits - $a.dns.cache_hits')
check_eq "second pass: every zone answer from the cache (20,000 hits, no question)" "20000 0" \
	"$hits $(jq -n --argjson a "$st" --argjson b "$st2" '$b.dns.queries - $a.dns.queries')"
echo "storm: 10,000 clients judged in $(( (s1 - s0) / 1000000 )) ms (by the test's polling), max wait ${maxw} ms; second pass cache hit rate $(jq -n "$hits / 20000 * 100")%" >> "$TMP/timing"
cat "$TMP/timing"
kill "$PID"; wait "$PID"
check_eq "clean exit" 0 $?
finish
