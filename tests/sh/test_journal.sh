#!/usr/bin/env bash
# test_journal.sh - `source journal` (tail/journal.h): the daemon reads MTA
# lines from real journal files, written by systemd-journal-remote from the
# journal's export format and read through sd-journal:
#   - every entry becomes the line rsyslog would have written (its time, its
#     host, its identifier and pid): the parsers find the same events, and a
#     harvest through the journal is decided;
#   - entries appended while it runs are read at once; after a kill -9 and
#     more entries, a restart reads on from its saved cursor: every entry
#     exactly once (the events file, kept exact across crashes);
#   - with units, only the entries journald attributes to them: a line
#     forged with another unit's (a user's `logger -t postfix/smtpd`) is not
#     read; without, every entry;
#   - a message of several lines is one line; an overlong one is passed over;
#   - configuration errors at FILE:LINE:COL; a journal that cannot be opened
#     stops the start, saying why.
# Test addresses are from 198.51.100.0/24 and 203.0.113.0/24.
. "$(dirname "$0")/lib.sh"
JR=
for p in /lib/systemd/systemd-journal-remote /usr/lib/systemd/systemd-journal-remote; do [ -x "$p" ] && JR=$p; done
[ -n "$JR" ] || skip_all "systemd-journal-remote is not installed (./run test installs it)"
command -v python3 > /dev/null || skip_all "python3 is not installed"
J=$TMP/journal
mkdir -p "$J"
S=$TMP/ctl.sock
# entries FIRST N UNIT KIND: N export-format entries (numbered from FIRST) appended to the journal files
#   KIND: harvest (one client, unknown recipients), entry (a refused recipient named after the entry,
#   from one of 200 clients), multiline, long
seq_mono=1000
entries() {
	python3 - "$@" "$seq_mono" <<'EOF' | "$JR" -o "$J/remote.journal" - 2> /dev/null
import sys, time
first, n, unit, kind, mono = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4], int(sys.argv[5])
t = int(time.time() * 1e6)
for i in range(first, first + n):
    f = {'__REALTIME_TIMESTAMP': t + i, '__MONOTONIC_TIMESTAMP': mono + i, '_BOOT_ID': '0123456789abcdef0123456789abcdef',
         '_HOSTNAME': 'mx1', 'SYSLOG_IDENTIFIER': 'postfix/smtpd', '_PID': 4000 + i % 7, '_SYSTEMD_UNIT': unit}
    if kind == 'harvest':
        f['MESSAGE'] = ('NOQUEUE: reject: RCPT from unknown[203.0.113.66]: 550 5.1.1 <u%d@example.org>: Recipient address '
                        'rejected: User unknown in local recipient table; from=<x@example.net> to=<u%d@example.org> '
                        'proto=ESMTP helo=<x>' % (i, i))
    elif kind == 'multiline':
        f['MESSAGE'] = 'connect from unknown[198.51.100.%d]\nsecond line of it' % (i % 200 + 1)
    elif kind == 'long':
        f['MESSAGE'] = 'connect from unknown[198.51.100.9] ' + 'x' * 70000
    else:
        # (a refused recipient named after the entry: each entry's event can be told from the others)
        f['MESSAGE'] = ('NOQUEUE: reject: RCPT from unknown[198.51.100.%d]: 550 5.1.1 <id%d@example.org>: Recipient '
                        'address rejected: User unknown in local recipient table; from=<x@example.net> '
                        'to=<id%d@example.org> proto=ESMTP helo=<x>' % (i % 200 + 1, i, i))
    for k, v in f.items():
        print('%s=%s' % (k, v))
    print()
EOF
	seq_mono=$((seq_mono + 100000))
}
printf 'source journal directory "%s" unit "postfix@-.service", "postfix.service"\n' "$J" > "$TMP/j.conf"
sed -n '/^rule "dha" {/,/^}/p' samples/mxguard.conf >> "$TMP/j.conf"
start() {
	"$MXGUARD" run -c "$TMP/j.conf" --state-dir "$TMP/st" --socket "$S" --events "$TMP/events" "$@" \
		>> "$TMP/dec.jsonl" 2>> "$TMP/err" &
	PID=$!
	ctl_up 30 "$S"
}
trap 'kill "$PID" 2> /dev/null; rm -rf "$TMP"' EXIT
ids() { sed -n 's/.*"ip":"198.51.100.\([0-9]*\)".*/\1/p' "$TMP/events" | wc -l; }
lines_read() { "$MXGUARD" ctl --socket "$S" --json status | jq .lines; }

entries 1 100 postfix@-.service entry
check "mxguard check accepts 'source journal directory ... unit ..., ...'" "$MXGUARD" check "$TMP/j.conf"
start --from-start
wait_for 20 eval '[ "$(ids)" = 100 ]'
check_eq "the 100 entries are read, each one event" 100 "$(ids)"
check "... as rsyslog's line: time, host, identifier and pid from the journal" \
	grep -q '"ts":"20[0-9-]*T[0-9:.]*Z","mta":"postfix","type":"rcpt_unknown","ip":"198.51.100.2".*"to":"id1@example.org".*"node":"mx1"' "$TMP/events"
entries 101 25 postfix.service harvest
wait_for 20 eval 'grep -q "\"key\":\"203.0.113.66\"" "$TMP/dec.jsonl"'
check "a harvest written to the journal while it runs is decided (the other unit named)" \
	grep -q '"rule":"dha","key":"203.0.113.66"' "$TMP/dec.jsonl"
entries 200 50 user@1000.service entry
entries 250 1 postfix.service entry	# (the one the daemon waits for)
wait_for 20 eval '[ "$(lines_read)" = 126 ]'
check_eq "entries of another unit (a user forging postfix/smtpd lines) are not read" 126 "$(lines_read)"

# kill -9 in the middle, more entries meanwhile: every entry exactly once
entries 300 200 postfix.service entry
kill -9 "$PID"
wait "$PID" 2> /dev/null
entries 500 300 postfix.service entry
start
wait_for 30 eval '[ "$(ids)" -ge 601 ]'
check_eq "after kill -9 and 300 entries more, every entry exactly once (100 + 1 + 200 + 300)" 601 "$(ids)"
check_eq "... no entry twice (each entry's recipient once)" "601 0" \
	"$(grep -o '"to":"id[0-9]*@' "$TMP/events" | sort -u | wc -l) $(grep -o '"to":"id[0-9]*@' "$TMP/events" | sort | uniq -d | wc -l)"
kill "$PID"
wait "$PID"
check_eq "a clean stop" 0 $?
start
entries 800 1 postfix.service entry
wait_for 20 eval '[ "$(ids)" = 602 ]'
check_eq "a clean restart reads on after the last entry" 602 "$(ids)"

# several lines, overlong
entries 900 2 postfix.service multiline
entries 950 1 postfix.service long
entries 951 1 postfix.service entry
wait_for 20 eval '[ "$(ids)" = 605 ]'
check_eq "a message of several lines is one line (its event read); an overlong one passed over" 605 "$(ids)"
kill "$PID"
wait "$PID"

# without units: every entry (the user's forged ones too: as a syslog file holds them)
printf 'source journal directory "%s"\n' "$J" > "$TMP/all.conf"
rm -rf "$TMP/st2"
"$MXGUARD" run -c "$TMP/all.conf" --state-dir "$TMP/st2" --socket "$S" --from-start > /dev/null 2>> "$TMP/err" &
PID=$!
ctl_up 30 "$S"
wait_for 20 eval '[ "$(lines_read)" -ge 680 ]'
check_eq "without units, every entry (680, of every unit; the overlong one passed over)" 680 "$(lines_read)"
kill "$PID"
wait "$PID"

# configuration errors, and a journal that is not there
printf 'source journal unit ""\nsource journal directory "/x"\nsource journal\nsource journal bogus\n' > "$TMP/bad.conf"
"$MXGUARD" check "$TMP/bad.conf" > "$TMP/bad.out" 2>&1
check_eq "configuration errors are refused (78)" 78 $?
check "... at FILE:LINE:COL: an empty unit, a second journal source" sh -c \
	"grep -q 'bad.conf:1:21: source journal: expected a systemd unit' '$TMP/bad.out' && grep -q 'bad.conf:3:1: a second .source journal.' '$TMP/bad.out'"
printf 'source journal directory "%s/none"\n' "$TMP" > "$TMP/none.conf"
"$MXGUARD" run -c "$TMP/none.conf" --state-dir "$TMP/st3" --socket "$S" > /dev/null 2> "$TMP/none.err"
check_eq "a journal directory that is not there stops the start (66), saying why" "66 1" \
	"$? $(grep -c 'source journal: cannot open the journal in' "$TMP/none.err")"
finish
