#!/usr/bin/env bash
# test_ctl.sh - the control socket: mxguard ctl against a running daemon.
. "$(dirname "$0")/lib.sh"
L=$TMP/mail.log
S=$TMP/ctl.sock
CONF=$TMP/mxguard.conf
cp samples/mxguard.conf "$CONF"
touch "$L"
"$MXGUARD" run -c "$CONF" --source "$L" --state-dir "$TMP/state" --socket "$S" > "$TMP/dec.jsonl" 2> "$TMP/run.err" &
PID=$!
trap 'kill "$PID" 2> /dev/null; rm -rf "$TMP"' EXIT
ctl_up 30 "$S"
ctl() { "$MXGUARD" ctl --socket "$S" "$@"; }

check_eq "socket is root-only (0600)" "600" "$(stat -c %a "$S")"
ctl status > "$TMP/st" 2>&1
check_eq "status exits 0" 0 $?
grep -q "mxguard is running: 1 source(s)" "$TMP/st"
check_eq "status is human-readable" 0 $?
check_eq "status --json is JSON" "1" "$(ctl --json status | jq .sources)"

# ban / decisions / unban round trip, IPv4, an IPv6 prefix with host bits set
check_eq "ban an address" "banned 203.0.113.7 (block for 3600s)" "$(ctl ban 203.0.113.7)"
check_eq "ban a prefix, with a duration and an action" "banned 2001:db8:bad::/48 (reject for 7200s)" \
	"$(ctl ban 2001:db8:bad:1::5/48 for 2h reject)"
ctl --json decisions > "$TMP/dec.json"
check_eq "decisions lists both" "2001:db8:bad::/48 203.0.113.7" "$(jq -r .key "$TMP/dec.json" | sort | xargs)"
check_eq "a manual ban is a decision like a rule's (rule manual, persisted)" "manual manual" \
	"$(jq -r .rule "$TMP/dec.json" | xargs)"
check_eq "the reject lasts 2h" 7200 "$(jq -r 'select(.action == "reject") | .until - .ts' "$TMP/dec.json")"
check_eq "manual bans are printed with the decisions" 2 "$(jq -r 'select(.rule == "manual") | .key' "$TMP/dec.jsonl" | wc -l)"
check_eq "unban says which decisions it released" "released 1 decision(s) for 203.0.113.7: 203.0.113.7" \
	"$(ctl unban 203.0.113.7)"
check_eq "after unban only the prefix is left" "2001:db8:bad::/48" "$(ctl --json decisions | jq -r .key)"
ctl ban 203.0.113.999 > /dev/null 2> "$TMP/bad"
check_eq "a bad address is refused (exit 65)" 65 $?
grep -q "error: ban ADDR" "$TMP/bad"
check_eq "with a reason" 0 $?
ctl ban 203.0.113.8 for soon > /dev/null 2>&1
check_eq "a bad duration is refused" 65 $?

# Decisions survive a restart of the daemon (they are in the state database).
kill "$PID"; wait "$PID"
"$MXGUARD" run -c "$CONF" --source "$L" --state-dir "$TMP/state" --socket "$S" >> "$TMP/dec.jsonl" 2>> "$TMP/run.err" &
PID=$!
ctl_up 30 "$S"
check_eq "decisions survive a restart" "2001:db8:bad::/48" "$(ctl --json decisions | jq -r .key)"

# Rule decisions show up too.
sed -n '13,40p' samples/logs/mx1-attacks.log >> "$L"
dha_key() { ctl --json decisions | jq -r 'select(.rule == "dha") | .key'; }
wait_for 10 eval '[ "$(dha_key)" = 203.0.113.66 ]'
check_eq "a rule's decision is listed" "203.0.113.66" "$(ctl --json decisions | jq -r 'select(.rule == "dha") | .key')"
ctl stats | grep -q '^dha .*decisions 1'
check_eq "stats per rule" 0 $?

# A decision in force is restored at start: the same attack replayed after a
# restart is suppressed, not decided again.
kill "$PID"; wait "$PID"
"$MXGUARD" run -c "$CONF" --source "$L" --state-dir "$TMP/state" --socket "$S" >> "$TMP/dec.jsonl" 2>> "$TMP/run.err" &
PID=$!
ctl_up 30 "$S"
grep -q "decision(s) in force restored" "$TMP/run.err"
check_eq "decisions in force are restored into the engine at start" 0 $?
sed -n '13,40p' samples/logs/mx1-attacks.log >> "$L"
wait_for 10 eval "ctl stats | grep -q '^dha .*suppressed [1-9]'"
ctl stats | grep -q '^dha .*decisions 0, suppressed [1-9]'
check_eq "the restored key is not decided again (suppressed)" 0 $?

# A reload keeps the counters of unchanged rules: 15 unknown recipients
# before it and 10 after are 25 within 10 minutes, enough for the dha rule.
dha_lines() {
	for i in $(seq "$1" "$2"); do
		echo "$(date '+%b %e %H:%M:%S') mx1 postfix/smtpd[77]: NOQUEUE: reject: RCPT from unknown[203.0.113.99]: 550 5.1.1 <u$i@example.org>: Recipient address rejected: User unknown in local recipient table; from=<x@example.net> to=<u$i@example.org> proto=ESMTP helo=<x>"
	done
}
lines_read() { ctl --json status | jq .lines; }
n=$(lines_read)
dha_lines 1 15 >> "$L"
wait_for 10 count_at_least $((n + 15)) lines_read	# the first half is read before the reload
check_eq "reload between the two halves of an attack" "reloaded $CONF" "$(ctl reload)"
dha_lines 16 25 >> "$L"
wait_for 10 eval 'ctl --json decisions | grep -q 203.0.113.99'
check_eq "the counter survived the reload: the attacker is decided" "dha" \
	"$(ctl --json decisions | jq -r 'select(.key == "203.0.113.99") | .rule')"

# The daily tools. In force now: 2001:db8:bad::/48 (manual reject), 203.0.113.66 and .99 (dha).
ctl status dha > "$TMP/rs"
check "status RULE: what the rule counts, its threshold, window and action" \
	grep -q '^rule dha: distinct to >= 20 within 10m by client, then block for 1h$' "$TMP/rs"
check "... its figures" grep -Eq '^  events [0-9]+, decisions [0-9]+ \(suppressed [0-9]+\), keys tracked [0-9]+' "$TMP/rs"
check "... and its decisions in force" grep -q '^  in force: 2$' "$TMP/rs"
check "... each with its time left, its end in UTC and why" \
	grep -Eq '^    203\.0\.113\.99 +block +dha +(59m|1h)( [0-9]+s)? left, until 20[0-9-]+T[0-9:]+Z \(level 0\): client 203\.0\.113\.99: 2[0-9] distinct values of to within 10m \(threshold 20, last rcpt_unknown\)$' "$TMP/rs"
check_eq "status RULE --json" "20 600 block 2" "$(ctl --json status dha | jq -r '"\(.threshold) \(.window) \(.action) \(.in_force | length)"')"
ctl status nosuch > /dev/null 2> "$TMP/e"
check_eq "status of no such rule: refused (65)" 65 $?
check_eq "decisions RULE" "203.0.113.66 203.0.113.99" "$(ctl --json decisions dha | jq -r .key | sort | xargs)"
check_eq "decisions ADDR: those whose prefix holds it" "2001:db8:bad::/48" \
	"$(ctl --json decisions 2001:db8:bad:7::1 | jq -r .key)"
check_eq "decisions PREFIX: those that hold all of it" "203.0.113.99" "$(ctl decisions 203.0.113.99/32 | awk '{print $1}')"
check_eq "--json: the end in UTC, the seconds left, the reason" "true true manual ban via mxguard ctl" \
	"$(ctl --json decisions 2001:db8:bad::/48 | jq -r '"\(.until_utc == (.until | todate)) \(.left > 7000) \(.reason)"')"
ctl decisions nosuchrule > /dev/null 2>&1
check_eq "decisions of neither an address nor a rule: refused (65)" 65 $?
# unban ADDR: every decision whose prefix holds it
check_eq "ban a /28" "banned 203.0.113.16/28 (block for 3600s)" "$(ctl ban 203.0.113.20/28)"
check_eq "unban of an address inside the /28 releases it, and says so" \
	"released 1 decision(s) for 203.0.113.21: 203.0.113.16/28" "$(ctl unban 203.0.113.21)"
check_eq "unban of an address no decision holds" "released 0 decision(s) for 198.51.100.200" "$(ctl unban 198.51.100.200)"
# ban refuses what an operator most likely did not mean, unless --force
for p in 0.0.0.0/0 ::/0; do
	ctl ban "$p" > /dev/null 2> "$TMP/e"
	check_eq "ban $p: refused (65)" 65 $?
	check "... every address" grep -q "error: not banned: it is every IPv. address (add --force" "$TMP/e"
done
ctl ban 198.51.0.0/15 > /dev/null 2> "$TMP/e"
check_eq "ban of a /15: wider than the default widest-ban /16, refused" 65 $?
check "... saying so" grep -q "/15 is wider than /16, the widest a ban takes ('set widest-ban')" "$TMP/e"
ctl ban 127.0.0.53 > /dev/null 2> "$TMP/e"
check "ban of a trusted address: refused" grep -q "not banned: it holds trusted addresses (table <trusted>)" "$TMP/e"
check_eq "--force bans the /15 all the same" "banned 198.50.0.0/15 (defer for 60s)" \
	"$(ctl ban 198.51.0.0/15 --force for 1m defer)"
check_eq "... and unban lets it go" "released 1 decision(s) for 198.50.0.0/15: 198.50.0.0/15" "$(ctl unban 198.50.0.0/15)"
# every word a command does not take is a usage error (64), never ignored
for c in "stats now" "status dha extra" "flush all" "reload now" "metrics x" "unban" "unban 203.0.113.1 203.0.113.2" \
	"decisions a b" "ban" "ban 203.0.113.9 for 1h for 2h" "ban 203.0.113.9 for" "ban 203.0.113.9 a b c d e f" "reputation"; do
	ctl $c > /dev/null 2>&1
	check_eq "'ctl $c': a usage error (64)" 64 $?
done
check_eq "nothing was banned by them" "2001:db8:bad::/48 203.0.113.66 203.0.113.99" \
	"$(ctl --json decisions | jq -r .key | sort | xargs)"

# reload: broken config refused and kept, fixed config accepted; flush.
echo 'rule "x" { on nothing }' >> "$CONF"
ctl reload > /dev/null 2> "$TMP/rl"
check_eq "reload of a broken config fails (exit 65)" 65 $?
grep -q "running configuration is kept" "$TMP/rl"
check_eq "and says the running one is kept" 0 $?
cp samples/mxguard.conf "$CONF"
check_eq "reload of a good config" "reloaded $CONF" "$(ctl reload)"
check_eq "flush releases everything" "released 3 decision(s)" "$(ctl flush)"
check_eq "nothing in force after flush" "" "$(ctl --json decisions)"
ctl nonsense > /dev/null 2>&1
check_eq "an unknown command fails" 65 $?
# This host's own addresses: a daemon in a network namespace of its own,
# whose loopback holds 198.51.100.77, refuses to ban the /24 around it.
if unshare -n true 2> /dev/null; then
	unshare -n sh -c 'ip link set lo up && ip addr add 198.51.100.77/32 dev lo && exec "$0" run -c "$1" \
		--source "$2" --state-dir "$3" --socket "$4"' "$MXGUARD" "$CONF" "$L" "$TMP/state2" "$TMP/s2" \
		> /dev/null 2> "$TMP/run2.err" &
	P2=$!
	ctl_up 30 "$TMP/s2"
	"$MXGUARD" ctl --socket "$TMP/s2" ban 198.51.100.0/24 > /dev/null 2> "$TMP/e"
	check_eq "ban of a prefix that holds an address of this host: refused (65)" 65 $?
	check "... naming the address and its interface" \
		grep -q "not banned: it holds 198.51.100.77, an address of this host (lo)" "$TMP/e"
	check_eq "... an address beside it is banned" "banned 198.51.100.78 (block for 3600s)" \
		"$("$MXGUARD" ctl --socket "$TMP/s2" ban 198.51.100.78)"
	kill "$P2"; wait "$P2"
else
	skip "ban of this host's own address" "cannot make a network namespace (unshare -n)"
fi
kill "$PID"; wait "$PID"
check_eq "clean exit on SIGTERM" 0 $?
check_eq "the socket is removed on exit" "no" "$([ -e "$S" ] && echo yes || echo no)"
"$MXGUARD" ctl --socket "$S" status > /dev/null 2>&1
check_eq "ctl without a daemon: unavailable (69)" 69 $?
finish
