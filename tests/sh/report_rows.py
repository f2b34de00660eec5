"""report_rows.py - what the report tests read (test_report.sh, test_report_live.sh):
the rows of `rrdtool fetch`, and per-minute counts of `mxguard parse` / `replay` output."""
import collections
import datetime
import json


def utc(s):
    """An ISO 8601 UTC time stamp ("2024-03-01T00:00:00Z") as seconds."""
    return int(datetime.datetime.strptime(s[:19], '%Y-%m-%dT%H:%M:%S')
               .replace(tzinfo=datetime.timezone.utc).timestamp())


def minute_end(ts):
    """The end of the minute ts is in: the time of its RRD row."""
    return ts // 60 * 60 + 60


def fetch_rows(path):
    """(data source names, {row time: [value or None]}) of `rrdtool fetch` output."""
    head, rows = None, {}
    for line in open(path):
        if not line.strip():
            continue
        if head is None:
            head = line.split()
            continue
        ts, vals = line.split(':', 1)
        rows[int(ts)] = [None if v in ('nan', '-nan') else float(v) for v in vals.split()]
    return head, rows


def events_per_minute(path):
    """Counter of (minute end, event type) over a JSON-lines file of events."""
    c = collections.Counter()
    for line in open(path):
        e = json.loads(line)
        c[(minute_end(utc(e['ts'])), e['type'])] += 1
    return c
