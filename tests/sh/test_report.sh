#!/usr/bin/env bash
# test_report.sh - `mxguard report`: the report directory from old logs
# (reports/, docs/REPORTS.md), checked against independent tools:
#   - the RRD fetched with `rrdtool fetch`: every minute's row equals, type
#     by type, the events `mxguard parse` finds in that minute of the same
#     log; the decisions per minute equal `mxguard replay`'s; the lines sum
#     to the log's; the bans at the end are the decisions still in force;
#   - the graphs are PNG (and SVG) files, each PNG of the size the dashboard
#     gives its <img>;
#   - every report file validates against the JSON schema of REPORTS.md,
#     its totals equal the events of its interval (or day), and the
#     decisions in its top lists are exactly replay's for those clients in
#     that interval; the CSV says the same totals;
#   - the dashboard opened in headless Chromium (the real browser) loads
#     with no console error and every graph decoded (naturalWidth > 0); the
#     page has no script, no external reference, and a hostile HELO name in
#     a decision's key is escaped;
#   - a second run into the same directory changes no row of the RRD;
#   - --keep removes the days too old; --text prints the totals;
#   - on two CPUs or more the reporter runs in a process of its own
#     (reports/split.h): one CPU and all write the same files, dashboard,
#     --text and RRD rows; the reading process killed, the reporter's ends
#     too, without a dashboard; the reporter's killed, the report fails and
#     says so.
# Test addresses are from 198.51.100.0/24, 203.0.113.0/24 and 2001:db8::/32.
. "$(dirname "$0")/lib.sh"
for tool in rrdtool jq python3 chromium; do
	command -v "$tool" > /dev/null || skip_all "$tool is not installed (./run test installs rrdtool, jq, python3, chromium)"
done
python3 -c 'import jsonschema' 2> /dev/null || skip_all "python3-jsonschema is not installed (./run test installs it)"
GENLOG=${GENLOG:-$(dirname "$MXGUARD")/bench/genlog}
[ -x "$GENLOG" ] || GENLOG=bench/genlog
[ -x "$GENLOG" ] || skip_all "bench/genlog is not built (make bench/genlog)"

# 30,000 generated Postfix lines (Mar 1, 00:00-00:43) and 300 of them again the next day, with a
# decision keyed by a hostile HELO name
"$GENLOG" -n 30000 -s 3 -o "$TMP/mail.log"
head -300 "$TMP/mail.log" | sed 's/^Mar  1 00:0/Mar  2 10:0/' >> "$TMP/mail.log"
for i in 1 2 3; do
	printf 'Mar  2 10:09:%02d mx1 postfix/smtpd[41]: NOQUEUE: reject: RCPT from unknown[203.0.113.%d]: 550 5.1.1 <h%d@example.org>: Recipient address rejected: User unknown in local recipient table; from=<x@example.net> to=<h%d@example.org> proto=ESMTP helo=<x"onload="alert(1)&a>b>\n' \
		"$i" "$((200 + i))" "$i" "$i"
done >> "$TMP/mail.log"
# ... and HELO names made for spreadsheets and terminals: a formula, a byte that is not UTF-8, an escape
for i in 1 2 3 4; do
	printf 'Mar  2 10:10:%02d mx1 postfix/smtpd[42]: NOQUEUE: reject: RCPT from unknown[203.0.113.%d]: 550 5.1.1 <f%d@example.org>: Recipient address rejected: User unknown in local recipient table; from=<x@example.net> to=<f%d@example.org> proto=ESMTP helo=<=HYPERLINK("http://203.0.113.9/?",\xff"x\033[2J")>\n' \
		"$i" "$((210 + i))" "$i" "$i"
done >> "$TMP/mail.log"
{ cat samples/mxguard.conf; printf 'rule "helo-spread" {\n    on rcpt_unknown\n    by helo\n    when distinct client >= 3 within 1h\n    do reject for 1h\n}\n'; } > "$TMP/r.conf"
LINES=$(wc -l < "$TMP/mail.log")

"$MXGUARD" parse --year 2024 "$TMP/mail.log" > "$TMP/events.jsonl"
"$MXGUARD" replay -c "$TMP/r.conf" --year 2024 "$TMP/mail.log" > "$TMP/decisions.jsonl"
"$MXGUARD" report -c "$TMP/r.conf" --out "$TMP/r" --year 2024 --interval 15m --svg --host mx-test --text \
	"$TMP/mail.log" > "$TMP/text" 2> "$TMP/err"
check_eq "report ends well" 0 "$?"
check "... and says where the dashboard is" grep -q "open $TMP/r/index.html" "$TMP/err"

# -- the RRD against parse and replay, minute by minute
FIRST=$(jq -r '.ts' "$TMP/events.jsonl" | head -1)
rrdtool fetch "$TMP/r/mxguard.rrd" AVERAGE -r 60 -s "$(date -u -d "$FIRST" +%s)" -e "$(date -u -d '2024-03-02T10:10:00Z' +%s)" \
	> "$TMP/fetch"
cat > "$TMP/rrdcheck.py" <<'EOF'
import json, sys, collections
sys.path.insert(0, sys.argv[5])
from report_rows import utc, minute_end, fetch_rows, events_per_minute
fetch, events, decisions, lines = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
want = events_per_minute(events)
dec = collections.Counter()
inforce = []
for l in open(decisions):
    d = json.loads(l)
    dec[(minute_end(utc(d['ts'])), 'dec_' + d['action'])] += 1
    if d['action'] != 'log':
        inforce.append(utc(d['ts']) + d['duration'])
head, rows = fetch_rows(fetch)
lastrow = max(ts for ts, vals in rows.items() if vals[head.index('connect')] is not None)
rows = {ts: vals for ts, vals in rows.items() if ts <= lastrow}	# (fetch gives a row past the last one written)
bad, checked, lsum = [], 0, 0
for ts, vals in sorted(rows.items()):
    for name, v in zip(head, vals):
        if name == 'lines':
            lsum += v or 0
            continue
        if name == 'bans':
            continue
        w = dec[(ts, name)] if name.startswith('dec_') else want[(ts, name)]
        checked += 1
        if v is None or abs(v - w) > 1e-6:
            bad.append('%d %s: rrd %s, want %d' % (ts, name, v, w))
bans = rows[lastrow][head.index('bans')]
print(len(rows), checked, len(bad), int(lsum), int(bans), sum(1 for u in inforce if u > lastrow))
for b in bad[:5]:
    print(b, file=sys.stderr)
EOF
read -r nrows nchecked nbad lsum bans inforce <<< "$(python3 "$TMP/rrdcheck.py" "$TMP/fetch" "$TMP/events.jsonl" "$TMP/decisions.jsonl" "$LINES" "$PWD/tests/sh" 2> "$TMP/rrdcheck.err")"
check "the RRD has a row per minute from the first event to the last (${nrows:-0} rows)" test "${nrows:-0}" -ge 2050
check_eq "every row equals the events parse finds and the decisions replay takes in that minute ($nchecked values)" \
	"0" "${nbad:-x}"
[ "${nbad:-1}" = 0 ] || cat "$TMP/rrdcheck.err"
check_eq "the lines sum to the log's" "$LINES" "$lsum"
check_eq "the bans at the end are the decisions still in force" "$inforce" "$bans"

# -- the graphs
cat > "$TMP/img.py" <<'EOF'
import re, struct, sys, xml.etree.ElementTree as ET
d = sys.argv[1]
page = open(d + '/index.html').read()
ok = 0
for src, w, h in re.findall(r'<img src="([^"]+)"[^>]* width="(\d+)" height="(\d+)"', page):
    b = open(d + '/' + src, 'rb').read()
    assert b[:8] == b'\x89PNG\r\n\x1a\n', src + ': not PNG'
    pw, ph = struct.unpack('>II', b[16:24])
    assert (pw, ph) == (int(w), int(h)), '%s: %dx%d, the page says %sx%s' % (src, pw, ph, w, h)
    assert pw > 720 and ph > 180, src + ': smaller than its plotting area'
    root = ET.parse(d + '/' + src[:-4] + '.svg').getroot()
    assert root.tag.endswith('svg'), src + ': the SVG is not SVG'
    ok += 1
print(ok)
EOF
check_eq "12 graphs, each a PNG of the size the dashboard gives it, and an SVG" 12 \
	"$(python3 "$TMP/img.py" "$TMP/r" 2>&1 | tail -1)"

# -- the report files
awk '/^```json schema$/ { on = 1; next } /^```/ { on = 0 } on' docs/REPORTS.md > "$TMP/schema.json"
cat > "$TMP/files.py" <<'EOF'
import csv, glob, json, sys, datetime, collections, ipaddress, jsonschema
d, events, decisions = sys.argv[1], sys.argv[2], sys.argv[3]
schema = json.load(open(sys.argv[4]))
def t(s):
    return int(datetime.datetime.strptime(s[:19], '%Y-%m-%dT%H:%M:%S').replace(tzinfo=datetime.timezone.utc).timestamp())
ev = [(t(e['ts']), e['type']) for e in map(json.loads, open(events))]
dec = [(t(x['ts']), x.get('ip'), x['rule'], x['action']) for x in map(json.loads, open(decisions))]
def same_client(ip, client):
    if ip is None:
        return False
    a = ipaddress.ip_address(ip)
    if client.endswith('/64'):
        return a.version == 6 and a in ipaddress.ip_network(client)
    return a == ipaddress.ip_address(client)
files = sorted(glob.glob(d + '/*/*.json'))
nfiles = ntop = 0
for f in files:
    r = json.load(open(f))
    jsonschema.validate(r, schema)
    lo, hi = t(r['from']), t(r['to'])
    want = collections.Counter(ty for ts, ty in ev if lo <= ts < hi)
    got = {k: v for k, v in r['events'].items() if v}
    assert got == dict(want), '%s: events %s, parse %s' % (f, got, dict(want))
    made = collections.Counter(a for ts, ip, ru, a in dec if lo <= ts < hi)
    assert {k: v for k, v in r['decisions']['made'].items() if v} == dict(made), f + ': decisions made'
    for ty, top in r['top_clients'].items():
        for c in top:
            mine = {(x['rule'], x['action']) for x in c['decisions']}
            theirs = {(ru, a) for ts, ip, ru, a in dec if lo <= ts < hi and same_client(ip, c['client'])}
            assert mine == theirs, '%s: %s %s: decisions %s, replay %s' % (f, ty, c['client'], mine, theirs)
            ntop += 1
    rows = list(csv.DictReader(open(f[:-5] + '.csv')))
    csvev = {r2['key']: int(r2['value']) for r2 in rows if r2['section'] == 'events' and int(r2['value'])}
    assert csvev == got, f + ': the CSV says other totals'
    nfiles += 1
print(nfiles, ntop)
EOF
read -r nfiles ntop <<< "$(python3 "$TMP/files.py" "$TMP/r" "$TMP/events.jsonl" "$TMP/decisions.jsonl" "$TMP/schema.json" 2> "$TMP/files.err" | tail -1)"
check_eq "report files: 3 intervals of Mar 1, 1 of Mar 2, 2 days" \
	"2024-03-01/0000.json 2024-03-01/0015.json 2024-03-01/0030.json 2024-03-01/day.json 2024-03-02/1000.json 2024-03-02/day.json" \
	"$(cd "$TMP/r" && ls */*.json | xargs)"
check_eq "each validates against the schema, its totals and CSV equal parse's, its top lists' decisions replay's ($ntop clients)" \
	"6" "${nfiles:-$(tail -3 "$TMP/files.err")}"
check "... and the top lists hold clients with decisions" test "${ntop:-0}" -gt 20
check "the day's top unknown-recipient domain is example.org" \
	jq -e '.top_recipient_domains[0].domain == "example.org"' "$TMP/r/2024-03-01/day.json"
check_eq "--text: the totals" "$LINES lines read" "$(grep -m1 'lines read' "$TMP/text" | xargs)"

check_eq "a hostile HELO in the CSV: one field, UTF-8, the formula defused, no control byte (names are lowercased)" \
	"'=hyperlink(\"http://203.0.113.9/?\",<U+FFFD>\"x [2j\") 4" \
	"$(python3 -c 'import csv, sys
for r in csv.DictReader(open(sys.argv[1], encoding="utf-8", errors="strict")):
    if r["section"] == "top_helo" and "hyperlink" in r["key"]:
        print(r["key"].replace("\ufffd", "<U+FFFD>"), r["value"])' "$TMP/r/2024-03-02/1000.csv" 2>&1)"

# -- the dashboard in the real browser
check "the page has no script and no external reference (a URL in a hostile HELO is text, not a link)" sh -c "! grep -qiE '<script|(src|href)=[\"'\'']?[a-z]+:|@import|url\(' '$TMP/r/index.html'"
check "the hostile HELO name in a decision's key is escaped" grep -q 'x&quot;onload=&quot;alert(1)&amp;a&gt;b' "$TMP/r/index.html"
check "... never raw" sh -c "! grep -qF 'x\"onload' '$TMP/r/index.html'"
# A copy with a checker prepended: it counts console errors and, once loaded, the images decoded.
{
	echo '<script>var errs=0;window.addEventListener("error",function(){errs++},true);var ce=console.error;console.error=function(){errs++;ce.apply(console,arguments)};'
	echo 'window.addEventListener("load",function(){var ok=0,n=0;for(const i of document.images){n++;if(i.complete&&i.naturalWidth>0)ok++}'
	echo 'document.body.setAttribute("data-check",n+" images, "+ok+" decoded, "+errs+" errors")});</script>'
	cat "$TMP/r/index.html"
} > "$TMP/r/check.html"
timeout 120 chromium --headless=new --no-sandbox --disable-gpu --allow-file-access-from-files --enable-logging=stderr --v=0 \
	--virtual-time-budget=10000 --dump-dom "file://$TMP/r/check.html" > "$TMP/dom" 2> "$TMP/chromium.err"
check_eq "Chromium: 12 images, all decoded, no error" "12 images, 12 decoded, 0 errors" \
	"$(sed -n 's/.*data-check="\([^"]*\)".*/\1/p' "$TMP/dom")"
check "... and no console message" sh -c "! grep -q 'CONSOLE' '$TMP/chromium.err'"
check "Chromium renders it at a phone's width" timeout 120 chromium --headless=new --no-sandbox --disable-gpu \
	--window-size=400,3000 --screenshot="$TMP/phone.png" "file://$TMP/r/index.html"
rm -f "$TMP/r/check.html"

# -- a second run into the same directory: no row counted twice
cp "$TMP/fetch" "$TMP/fetch.1"
"$MXGUARD" report -c "$TMP/r.conf" --out "$TMP/r" --year 2024 --interval 15m --svg --host mx-test --text \
	"$TMP/mail.log" > /dev/null 2> /dev/null
rrdtool fetch "$TMP/r/mxguard.rrd" AVERAGE -r 60 -s "$(date -u -d "$FIRST" +%s)" -e "$(date -u -d '2024-03-02T10:10:00Z' +%s)" \
	> "$TMP/fetch.2"
check "a second run over the same log changes no row of the RRD" cmp -s "$TMP/fetch.1" "$TMP/fetch.2"

# -- --keep: days more than 7 days before the newest are removed
{ head -100 "$TMP/mail.log"; head -100 "$TMP/mail.log" | sed 's/^Mar  1/Mar  5/'; head -100 "$TMP/mail.log" | sed 's/^Mar  1/Mar 20/'; } > "$TMP/days.log"
"$MXGUARD" report -c "$TMP/r.conf" --out "$TMP/k" --year 2024 --keep 7d "$TMP/days.log" 2> /dev/null
check_eq "--keep 7d: only the newest day is left (Mar 1 and 5 are more than 7 days before Mar 20)" "2024-03-20" \
	"$(cd "$TMP/k" && ls -d 2024-* | xargs)"
check_eq "a bad --interval is refused" 64 "$("$MXGUARD" report -c "$TMP/r.conf" --out "$TMP/x" --interval 7m "$TMP/days.log" > /dev/null 2>&1; echo $?)"

# -- on two CPUs or more the reporter runs in a process of its own, fed through a pipe by the one
# that reads the logs (reports/split.h), and the pictures are drawn by as many processes as the
# report may use; on one CPU (taskset) this process does it all: the same files either way. A
# picture that cannot be written (a directory in its place) fails the report, naming it, whichever
# process drew it.
if command -v taskset > /dev/null; then
	taskset -c 0 "$MXGUARD" report -c "$TMP/r.conf" --out "$TMP/one" --year 2024 --interval 15m --svg --host mx-test \
		--text "$TMP/mail.log" > "$TMP/one.text" 2> /dev/null
	check "drawn on one CPU: the same graph files, of the same sizes, as drawn on all" python3 - "$TMP/r" "$TMP/one" <<'EOF'
import glob, os, struct, sys
def sizes(d):
    out = {}
    for f in sorted(glob.glob(os.path.join(d, '*.png'))):
        b = open(f, 'rb').read(24)
        out[os.path.basename(f)] = struct.unpack('>II', b[16:24])
    return out
a, b = sizes(sys.argv[1]), sizes(sys.argv[2])
sys.exit(0 if len(a) == 12 and a == b else 1)
EOF
	if [ "$(nproc)" -ge 2 ]; then
		check "one CPU against all (the reporter in this process against its own): the same report files and dashboard" \
			diff -r -x '*.png' -x '*.svg' -x mxguard.rrd "$TMP/r" "$TMP/one"
		check "... the same --text summary" cmp "$TMP/text" "$TMP/one.text"
		rrdtool fetch "$TMP/one/mxguard.rrd" AVERAGE -r 60 -s "$(date -u -d "$FIRST" +%s)" \
			-e "$(date -u -d '2024-03-02T10:10:00Z' +%s)" > "$TMP/fetch.one"
		check "... and the same RRD rows" cmp "$TMP/fetch.1" "$TMP/fetch.one"
		# a client's HELO name of 300,000 bytes (--max-line lets it in): each of its events is a record larger
		# than either process's buffer (256 KiB), which grows for it
		{ head -500 "$TMP/mail.log"; python3 -c '
h = "x" * 300000
for i in range(3):
    print("Mar  1 00:40:%02d mx1 postfix/smtpd[41]: NOQUEUE: reject: RCPT from unknown[203.0.113.%d]: 550 5.1.1 <g%d@example.org>: "
          "Recipient address rejected: User unknown in local recipient table; from=<x@example.net> to=<g%d@example.org> "
          "proto=ESMTP helo=<%s>" % (i, 230 + i, i, i, h))'; } > "$TMP/big.log"
		for cpus in all one; do
			pin=()
			[ "$cpus" = one ] && pin=(taskset -c 0)
			"${pin[@]}" "$MXGUARD" report -c "$TMP/r.conf" --out "$TMP/big.$cpus" --year 2024 --max-line 1000000 --text \
				"$TMP/big.log" > "$TMP/big.$cpus.text" 2> /dev/null
			echo "$?" > "$TMP/big.$cpus.rc"
		done
		check "a 300,000-byte HELO name through the pipe: the same files and --text as on one CPU" sh -c \
			"[ \"\$(cat '$TMP/big.all.rc') \$(cat '$TMP/big.one.rc')\" = '0 0' ] &&
			diff -r -x '*.png' -x mxguard.rrd '$TMP/big.all' '$TMP/big.one' && cmp '$TMP/big.all.text' '$TMP/big.one.text'"
		check_eq "... and its events counted: the unknown recipients are parse's, the three of that HELO among them" \
			"$("$MXGUARD" parse --year 2024 --max-line 1000000 "$TMP/big.log" | jq -s '[.[] | select(.type == "rcpt_unknown")] | length') 3" \
			"$(jq '.events.rcpt_unknown' "$TMP/big.all/2024-03-01/day.json") $("$MXGUARD" parse --year 2024 --max-line 1000000 "$TMP/big.log" | jq -s '[.[] | select((.helo // "" | length) == 300000)] | length')"
	else
		skip "the reporter in a process of its own against this one" "this machine has one CPU: both ways are this one"
	fi
fi

# -- the reporter's process ends with the report: the reading process killed (its input a FIFO that
# never ends), the reporter goes too, writing nothing more (no dashboard: the report did not end)
if [ "$(nproc)" -ge 2 ]; then
	mkfifo "$TMP/fifo"
	"$MXGUARD" report -c "$TMP/r.conf" --out "$TMP/killed" --year 2024 "$TMP/fifo" 2> /dev/null &
	rpid=$!
	exec 3> "$TMP/fifo"
	cat "$TMP/mail.log" >&3	# (more than the records the reading process keeps before it writes them)
	wait_for 20 sh -c "pgrep -P $rpid > '$TMP/kid'"
	kid=$(head -1 "$TMP/kid")
	check "two CPUs: the reporter runs in a process of its own" test -n "$kid"
	wait_for 20 test -s "$TMP/killed/mxguard.rrd"
	check "... which writes the RRD while the lines come" test -s "$TMP/killed/mxguard.rrd"
	kill -9 "$rpid"
	wait "$rpid" 2> /dev/null
	exec 3>&-
	wait_for 20 not kill -0 "${kid:-0}"
	check "the reading process killed: the reporter's process ends too" not kill -0 "${kid:-0}"
	check "... without writing the dashboard" test ! -e "$TMP/killed/index.html"
	# ... and the other way round: the reporter's process killed (as the OOM killer might pick it),
	# the report reads on to the end of its input, then fails, saying the report is not complete
	mkfifo "$TMP/fifo2"
	"$MXGUARD" report -c "$TMP/r.conf" --out "$TMP/kidkilled" --year 2024 "$TMP/fifo2" 2> "$TMP/kidkilled.err" &
	rpid=$!
	exec 3> "$TMP/fifo2"
	head -1000 "$TMP/mail.log" >&3
	wait_for 20 sh -c "pgrep -P $rpid > '$TMP/kid2'"
	kid=$(head -1 "$TMP/kid2")
	[ -n "$kid" ] && kill -9 "$kid"
	cat "$TMP/mail.log" >&3
	exec 3>&-
	wait "$rpid"
	check_eq "the reporter's process killed: the report fails (EX_SOFTWARE)" 70 "$?"
	check "... saying the report is not complete" grep -q "ended by signal 9: the report is not complete" \
		"$TMP/kidkilled.err"
else
	skip "the reporter's process ends with the report" "this machine has one CPU: there is no such process"
fi
# (these on 3,000 lines: what they check is at the end, and the whole log is slow under the sanitizers)
head -3000 "$TMP/mail.log" > "$TMP/short.log"
for cpus in all one; do
	word=CPUs
	[ "$cpus" = one ] && word=CPU
	rm -rf "$TMP/bad"
	mkdir -p "$TMP/bad/rejects-week.png/x"
	pin=()
	[ "$cpus" = one ] && pin=(taskset -c 0)
	"${pin[@]}" "$MXGUARD" report -c "$TMP/r.conf" --out "$TMP/bad" --year 2024 "$TMP/short.log" > /dev/null 2> "$TMP/bad.err"
	rc=$?
	check "a graph that cannot be written ($cpus $word): the report fails and names it" sh -c \
		"[ $rc != 0 ] && grep -q 'rejects-week.png: cannot rename' '$TMP/bad.err'"
	check "... and the other graphs are drawn all the same ($cpus $word)" test -s "$TMP/bad/decisions-year.png"
	# --text into a pipe whose reader is gone (its read end closed before the start): a write error,
	# said, exit status 74, the directory complete — not a death by SIGPIPE
	rm -rf "$TMP/gone"
	python3 -c 'import os, subprocess, sys
r, w = os.pipe()
os.close(r)
sys.exit(subprocess.run(sys.argv[1:], stdout=w).returncode)' "${pin[@]}" "$MXGUARD" report -c "$TMP/r.conf" --out "$TMP/gone" \
		--year 2024 --text "$TMP/short.log" 2> "$TMP/gone.err"
	rc=$?
	check "--text to a reader that is gone ($cpus $word): exit status 74, said, the dashboard written" sh -c \
		"[ $rc = 74 ] && grep -q 'cannot write the summary (the report directory is written)' '$TMP/gone.err' &&
		test -s '$TMP/gone/index.html'"
done

# -- librrd is loaded only by what reports: hidden (an empty file mounted over it, in a mount
# namespace of this test's own), replay works and report says why it cannot
LIBRRD=$(ldconfig -p | awk '$1 == "librrd.so.8" { print $NF; exit }')
if [ -n "$LIBRRD" ] && unshare -m true 2> /dev/null; then
	unshare -m sh -c 'mount --bind /dev/null "$(realpath "$1")" || exit
		"$2" replay -c "$3/r.conf" --year 2024 "$3/mail.log" > "$3/norrd.replay"
		"$2" report -c "$3/r.conf" --out "$3/norrd" --year 2024 "$3/mail.log" 2> "$3/norrd.err"; echo $? > "$3/norrd.rc"' \
		sh "$LIBRRD" "$MXGUARD" "$TMP"
	check "without librrd, replay still decides (it does not load it)" cmp -s "$TMP/decisions.jsonl" "$TMP/norrd.replay"
	check "... and report fails, saying why" sh -c "[ \"\$(cat '$TMP/norrd.rc')\" != 0 ] && grep -q 'cannot load librrd (Debian package librrd8)' '$TMP/norrd.err'"
else
	skip "librrd hidden" "no librrd.so.8 in ldconfig's cache, or no mount namespace (unshare -m)"
fi
finish
