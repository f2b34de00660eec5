#!/usr/bin/env bash
# test_reputation.sh - reputation feeds end to end: `mxguard reputation`
# (with a configuration and with --feed), `check` reading the feeds,
# `replay` with thresholds that depend on reputation (and the "rep" the
# decisions carry), and `run` reading a feed again when its file changes
# while log lines keep coming — a broken version reported with FILE:LINE and
# the previous one kept — with nothing lost, also with 200,000 lines coming
# while it is replaced ten times; and the vol the daemon counts
# itself, through `mxguard reputation --socket` and `mxguard ctl reputation`.
. "$(dirname "$0")/lib.sh"
mkdir -p "$TMP/feeds"
cat > "$TMP/feeds/vendor.csv" << 'EOF'
prefix,risk,spam,vol
198.51.100.0/24,3,20,
198.51.100.66,9,95,1
2001:db8:bad::/48,10,,
EOF
cat > "$TMP/feeds/drop.txt" << 'EOF'
; Spamhaus DROP List
203.0.113.0/25 ; SBL000001
EOF
cat > "$TMP/rep.conf" << 'EOF'
feed "vendor" { file "feeds/vendor.csv" format csv }
feed "drop" { file "feeds/drop.txt" format drop risk 10 }
rule "dha-risky" {
    on rcpt_unknown
    where rep.risk >= 8
    when distinct to >= 5 within 10m
    do block for 1h
}
rule "dha" {
    on rcpt_unknown
    unless rep.risk >= 8
    when distinct to >= 20 within 10m
    do block for 1h
}
EOF
out=$("$MXGUARD" reputation -c "$TMP/rep.conf" 198.51.100.66 198.51.100.7 203.0.113.5 2001:db8:bad:7::1 203.0.113.200)
check_eq "one JSON object per address" 5 "$(echo "$out" | jq -c . | wc -l)"
check_eq "the most specific entry speaks: risk, spam, vol and the line" "9 95 1 3" \
	"$(echo "$out" | jq -r 'select(.ip == "198.51.100.66") | "\(.risk) \(.spam) \(.vol) \(.sources.risk.line)"')"
check_eq "its /24 for the rest of it" "3 20 null" \
	"$(echo "$out" | jq -r 'select(.ip == "198.51.100.7") | "\(.risk) \(.spam) \(.vol)"')"
check_eq "DROP: the feed's risk 10, its source" "10 drop 2" \
	"$(echo "$out" | jq -r 'select(.ip == "203.0.113.5") | "\(.risk) \(.sources.risk.feed) \(.sources.risk.line)"')"
check_eq "IPv6" "10" "$(echo "$out" | jq -r 'select(.ip == "2001:db8:bad:7::1") | .risk')"
check_eq "unknown: nulls, listed nowhere" "null null null 0" \
	"$(echo "$out" | jq -r 'select(.ip == "203.0.113.200") | "\(.risk) \(.spam) \(.vol) \(.listed | length)"')"
out=$("$MXGUARD" reputation --feed "$TMP/feeds/drop.txt" --feed "csv:$TMP/feeds/vendor.csv" 203.0.113.5 198.51.100.66)
check_eq "--feed without a configuration (the format guessed or given)" '["drop.txt"] ["vendor.csv"]' \
	"$(echo "$out" | jq -c .listed | paste -sd" ")"
"$MXGUARD" reputation --feed "$TMP/feeds/drop.txt" nonsense > /dev/null 2> "$TMP/err"
check_eq "an argument that is not an address: exit 65" 65 $?
check "and says so" grep -q "'nonsense' is not an IPv4 or IPv6 address" "$TMP/err"

check "check reads the feeds" "$MXGUARD" check "$TMP/rep.conf"
printf '198.51.100.1\n' > "$TMP/feeds/good.txt"
printf 'feed "x" { file "feeds/bad.csv" format csv }\n' > "$TMP/bad.conf"
printf 'prefix,risk,spam,vol\n198.51.100.0/24,30,,\n' > "$TMP/feeds/bad.csv"
"$MXGUARD" check "$TMP/bad.conf" 2> "$TMP/err"
check_eq "a broken feed: check exits 78" 78 $?
check "with FILE:LINE of the bad line" grep -q "feeds/bad.csv:2:" "$TMP/err"

# replay: the risky client is blocked at its 5th unknown recipient, the other one at its 20th.
gen() {	# ADDR N: N unknown recipients, 10 s apart
	for i in $(seq 0 $(($2 - 1))); do
		printf 'Nov 19 10:%02d:%02d mx1 postfix/smtpd[41]: NOQUEUE: reject: RCPT from unknown[%s]: 550 5.1.1 <u%d@example.org>: Recipient address rejected: User unknown in local recipient table; from=<x@example.net> to=<u%d@example.org> proto=ESMTP helo=<x>\n' \
			$((i * 10 / 60)) $((i * 10 % 60)) "$1" "$i" "$i"
	done
}
{ gen 198.51.100.66 25; gen 198.51.100.7 25; } | sort -s -k3,3 > "$TMP/harvest.log"
"$MXGUARD" replay -c "$TMP/rep.conf" --year 2024 "$TMP/harvest.log" > "$TMP/dec.jsonl"
check_eq "replay: a risky client is decided at its 5th recipient, the rest at the 20th" \
	"198.51.100.66 dha-risky 5|198.51.100.7 dha 20" \
	"$(jq -r '"\(.key) \(.rule) \(.value)"' "$TMP/dec.jsonl" | sort | paste -sd'|')"
check_eq "the decision carries the reputation it was taken on" "9 vendor 3" \
	"$(jq -r 'select(.rule == "dha-risky") | "\(.rep.risk) \(.rep.sources.risk.feed) \(.rep.sources.risk.line)"' "$TMP/dec.jsonl")"

# run: the feed changes on disk while lines come in.
: > "$TMP/mail.log"
"$MXGUARD" run -c "$TMP/rep.conf" --source "$TMP/mail.log" --state-dir "$TMP/st" --socket "$TMP/s" \
	--events "$TMP/ev.jsonl" > "$TMP/run.jsonl" 2> "$TMP/run.err" &
PID=$!
trap 'kill "$PID" 2> /dev/null; rm -rf "$TMP"' EXIT
ctl_up 30 "$TMP/s"
check "run: the feeds are read at start" grep -q 'feed "vendor": 3 entries' "$TMP/run.err"
gen 203.0.113.200 4 | sed 's/Nov 19 10/Nov 19 11/' >> "$TMP/mail.log"
# 203.0.113.200 is outside DROP's /25: unknown. The vendor now rates it 10 (written whole, then renamed in).
printf 'prefix,risk,spam,vol\n203.0.113.200,10,,\n' > "$TMP/feeds/vendor.new"
mv "$TMP/feeds/vendor.new" "$TMP/feeds/vendor.csv"
wait_for 20 grep -q "1 feed(s) read again" "$TMP/run.err"
check "run: a changed feed is read again" grep -q "1 feed(s) read again" "$TMP/run.err"
gen 203.0.113.200 9 | sed "s/Nov 19 10/Nov 19 11/" | tail -5 >> "$TMP/mail.log"
wait_for 20 grep -q dha-risky "$TMP/run.jsonl"
check_eq "and the rules see the new scores at once (a risky harvest at its 5th recipient)" "203.0.113.200 dha-risky 5" \
	"$(jq -r '"\(.key) \(.rule) \(.value)"' "$TMP/run.jsonl")"
wait_for 20 count_at_least 9 sh -c "jq -r 'select(.ip == \"203.0.113.200\") | .ip' '$TMP/ev.jsonl' | wc -l"
check_eq "the events file carries the reputation the rules saw" "null 10" \
	"$(jq -r 'select(.ip == "203.0.113.200") | .rep.risk' "$TMP/ev.jsonl" | sed -n '1p;$p' | paste -sd' ')"
# A broken version: reported with its line, the previous one stays.
printf 'prefix,risk,spam,vol\n203.0.113.200,10,,\nrubbish\n' > "$TMP/feeds/vendor.new"
mv "$TMP/feeds/vendor.new" "$TMP/feeds/vendor.csv"
wait_for 20 grep -q "vendor.csv:3:" "$TMP/run.err"
check "run: a broken feed is reported with FILE:LINE" grep -q "feed .*vendor.csv:3: .*the previous version stays in use" "$TMP/run.err"
check_eq "... once" 1 "$(grep -c "vendor.csv:3:" "$TMP/run.err")"
check "the daemon is still running" kill -0 "$PID"
n=$(wc -l < "$TMP/mail.log")
wait_for 20 lines_at_least "$n" "$TMP/ev.jsonl"
check_eq "nothing lost while feeds were read: one event per line" "$n" "$(wc -l < "$TMP/ev.jsonl")"
# Under load: 200,000 more lines appended in pieces while the feed is replaced ten times (each
# version written whole and renamed in); every line is read once, whatever version was in use.
GENLOG=${GENLOG:-bench/genlog}
if [ -x "$GENLOG" ]; then
	"$GENLOG" --mta postfix -n 200000 -s 7 > "$TMP/load.log" 2> /dev/null
	split -n l/20 "$TMP/load.log" "$TMP/piece."
	reads0=$(grep -c "feed(s) read again" "$TMP/run.err")
	k=0
	for piece in "$TMP"/piece.*; do
		cat "$piece" >> "$TMP/mail.log"
		k=$((k + 1))
		if [ $((k % 2)) = 0 ]; then
			{ echo 'prefix,risk,spam,vol'; echo "203.0.113.200,$((k / 2)),,"
			  for i in $(seq 1 2000); do echo "2001:db8:$k:$i::/64,$((i % 11)),,"; done; } > "$TMP/feeds/vendor.new"
			mv "$TMP/feeds/vendor.new" "$TMP/feeds/vendor.csv"
			sleep 0.3	# (the pace of the writer, not a wait for the daemon)
		fi
	done
	n=$("$MXGUARD" parse "$TMP/mail.log" | wc -l)
	wait_for 60 lines_at_least "$n" "$TMP/ev.jsonl"
	check_eq "under load, the feed replaced ten times: one event per event of the log, none twice" "$n" \
		"$(wc -l < "$TMP/ev.jsonl")"
	check_eq "... the same events as parse reads" "" \
		"$(jq -c 'del(.rep)' "$TMP/ev.jsonl" | sort | diff - <("$MXGUARD" parse "$TMP/mail.log" | sort) | head -3)"
	wait_for 20 grep -q "203.0.113.200,10,," "$TMP/feeds/vendor.csv"
	check "the feed was read again while lines came ($(( $(grep -c "feed(s) read again" "$TMP/run.err") - reads0 )) times)" \
		test "$(( $(grep -c "feed(s) read again" "$TMP/run.err") - reads0 ))" -ge 2
	wait_for 20 sh -c "'$MXGUARD' reputation --socket '$TMP/s' 203.0.113.200 | jq -e '.risk == 10' > /dev/null"
	check_eq "and the last version is the one in use" 10 \
		"$("$MXGUARD" reputation --socket "$TMP/s" 203.0.113.200 | jq -r .risk)"
	check "the daemon is still running" kill -0 "$PID"
else
	skip "under load: bench/genlog is not built (make bench/genlog)"
fi
# mxguard's own vol: messages accepted today, relative to the busiest client (log scale).
msgs() {	# ADDR N: N accepted messages from ADDR, stamped now
	local st i
	st=$(date '+%b %e %H:%M:%S')
	for i in $(seq "$2"); do
		printf '%s mx1 postfix/smtpd[7]: %s%05X: client=m.example.net[%s]\n%s mx1 postfix/qmgr[8]: %s%05X: from=<a@example.net>, size=100, nrcpt=1 (queue active)\n' \
			"$st" "${1//[.:]/}" "$i" "$1" "$st" "${1//[.:]/}" "$i"
	done
}
{ msgs 198.51.100.20 99; msgs 198.51.100.21 9; } | sed 's/\([0-9]\{9\}\)\([0-9A-F]\{5\}\):/4\2A\1:/' >> "$TMP/mail.log"
wait_for 20 count_at_least 108 sh -c "jq -r 'select(.type == \"msg_accepted\") | .ip' '$TMP/ev.jsonl' | wc -l"
out=$("$MXGUARD" reputation --socket "$TMP/s" 198.51.100.20 198.51.100.21 198.51.100.22)
check_eq "the daemon's own vol: the busiest client is 100, one with a tenth of its mail 50, one with none unknown" \
	"100 99 true|50 9 true|null null null" \
	"$(echo "$out" | jq -r '"\(.vol) \(.sources.vol.messages) \(.sources.vol.local)"' | paste -sd'|')"
check_eq "mxguard ctl reputation answers the same" "$out" "$("$MXGUARD" ctl --socket "$TMP/s" reputation 198.51.100.20; \
	"$MXGUARD" ctl --socket "$TMP/s" reputation 198.51.100.21; "$MXGUARD" ctl --socket "$TMP/s" reputation 198.51.100.22)"
kill "$PID"; wait "$PID"
check_eq "clean exit" 0 $?
finish
