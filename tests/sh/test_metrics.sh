#!/usr/bin/env bash
# test_metrics.sh - the daemon's Prometheus metrics (cli/metrics.c):
# `mxguard ctl metrics` and the textfile of --metrics-file.
#   - the text is valid exposition format (checked line by line: HELP and
#     TYPE before a metric's samples, once; names and labels well formed;
#     counters end in _total; values are numbers);
#   - the figures are the truth: events by type = what `mxguard parse` finds
#     in the log, lines = its lines, decisions by action = the decisions the
#     daemon printed, bans in force = ctl status's, no lag once caught up;
#   - a ctl ban counts; the file is written (atomically: no temporary left)
#     and at the stop holds the last figures.
# Test addresses are from 198.51.100.0/24, 203.0.113.0/24 and 2001:db8::/32.
. "$(dirname "$0")/lib.sh"
command -v python3 > /dev/null || skip_all "python3 is not installed"
command -v jq > /dev/null || skip_all "jq is not installed"
LOG=samples/logs/mx1-attacks.log
mkdir -p "$TMP/m"
# the log's name holds a quote and a backslash: a label value escapes them
ML="$TMP/ma\"il\\.log"
touch "$ML"
PID=
trap '[ -n "$PID" ] && kill -9 "$PID" 2> /dev/null; rm -rf "$TMP"' EXIT
"$MXGUARD" run -c samples/mxguard.conf --source "$ML" --state-dir "$TMP/st" --socket "$TMP/s" \
	--metrics-file "$TMP/m/mxguard.prom" > "$TMP/out" 2> "$TMP/err" &
PID=$!
ctl_up 30 "$TMP/s"
cat "$LOG" >> "$ML"
"$MXGUARD" parse "$LOG" > "$TMP/parsed.jsonl"
metric() { "$MXGUARD" ctl --socket "$TMP/s" metrics | awk -v m="$1" '$1 == m { print $2 }'; }
caught_up() { [ "$(metric mxguard_lines_read_total)" = "$(wc -l < "$LOG")" ]; }
wait_for 30 caught_up
"$MXGUARD" ctl --socket "$TMP/s" metrics > "$TMP/metrics"

cat > "$TMP/check.py" <<'EOF'
import re, sys
name_re = re.compile(r'^[a-zA-Z_:][a-zA-Z0-9_:]*$')
sample_re = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"\})? (-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?)$')
typed, helped, seen = {}, set(), {}
for n, line in enumerate(open(sys.argv[1]), 1):
    line = line.rstrip('\n')
    if line.startswith('# HELP '):
        name = line.split(' ')[2]
        assert name_re.match(name) and name not in helped, 'line %d: HELP' % n
        helped.add(name)
    elif line.startswith('# TYPE '):
        _, _, name, kind = line.split(' ')
        assert name in helped and name not in typed and kind in ('counter', 'gauge'), 'line %d: TYPE' % n
        assert (kind == 'counter') == name.endswith('_total'), 'line %d: a counter ends in _total' % n
        typed[name] = kind
    else:
        m = sample_re.match(line)
        assert m, 'line %d: not a sample: %r' % (n, line)
        assert m.group(1) in typed, 'line %d: %s has no TYPE before it' % (n, m.group(1))
        key = (m.group(1), m.group(4))
        assert key not in seen, 'line %d: a sample twice' % n
        seen[key] = float(m.group(5))
print(len(typed), len(seen))
EOF
read -r ntyped nsamples <<< "$(python3 "$TMP/check.py" "$TMP/metrics" 2> "$TMP/check.err")"
check "ctl metrics is valid exposition format (${ntyped:-?} metrics, ${nsamples:-?} samples)" test "${ntyped:-0}" -ge 12
[ -s "$TMP/check.err" ] && cat "$TMP/check.err"
bytype=$(awk -F'"' '/^mxguard_events_total\{/ { split($0, a, " "); if (a[2] != "0") print $2, a[2] }' "$TMP/metrics" | sort)
check_eq "events by type = what parse finds in the log" \
	"$(jq -r .type "$TMP/parsed.jsonl" | sort | uniq -c | awk '{ print $2, $1 }' | sort)" "$bytype"
check_eq "lines read = the log's" "$(wc -l < "$LOG")" "$(metric mxguard_lines_read_total)"
bya=$(awk -F'"' '/^mxguard_decisions_total\{/ { split($0, a, " "); if (a[2] != "0") print $2, a[2] }' "$TMP/metrics" | sort)
check_eq "decisions by action = the decisions the daemon printed" \
	"$(jq -r .action "$TMP/out" | sort | uniq -c | awk '{ print $2, $1 }' | sort)" "$bya"
check_eq "bans in force = ctl status's" "$("$MXGUARD" ctl --socket "$TMP/s" --json status | jq .active)" \
	"$(metric mxguard_bans_in_force)"
check_eq "no lag once caught up (the log's name escaped: ma\\\"il\\\\.log)" 0 "$(grep -F "mxguard_log_lag_bytes{source=\"$TMP/ma\\\"il\\\\.log\"}" "$TMP/metrics" | cut -d' ' -f2)"
check "the log's time is behind the clock (the sample is of 2024)" test "$(metric mxguard_log_lag_seconds)" -gt 86400
before=$(awk -F'"' '/^mxguard_decisions_total\{action="block"\}/ { split($0, a, " "); print a[2] }' "$TMP/metrics")
"$MXGUARD" ctl --socket "$TMP/s" ban 198.51.100.99 for 1h > /dev/null
check_eq "a ctl ban counts" "$((before + 1))" \
	"$("$MXGUARD" ctl --socket "$TMP/s" metrics | awk -F'"' '/^mxguard_decisions_total\{action="block"\}/ { split($0, a, " "); print a[2] }')"
wait_for 30 test -s "$TMP/m/mxguard.prom"
check "the metrics file is written, valid too" sh -c "python3 '$TMP/check.py' '$TMP/m/mxguard.prom' > /dev/null"
kill "$PID"; wait "$PID"; PID=
check_eq "at the stop it holds the last figures (the ban)" "$((before + 1))" \
	"$(awk -F'"' '/^mxguard_decisions_total\{action="block"\}/ { split($0, a, " "); print a[2] }' "$TMP/m/mxguard.prom")"
check_eq "no temporary is left" "mxguard.prom" "$(ls "$TMP/m" | xargs)"
finish
