#!/usr/bin/env bash
# test_year.sh - year-less syslog dates take their year from the file's
# modification time, so a log that spans New Year comes out right.
. "$(dirname "$0")/lib.sh"
cat > "$TMP/maillog" <<'LOG'
Dec 31 23:59:58 mx1 postfix/smtpd[1]: connect from a.example.net[198.51.100.1]
Jan  1 00:00:02 mx1 postfix/smtpd[1]: connect from a.example.net[198.51.100.2]
LOG
touch -d '2025-01-01 12:00:00 UTC' "$TMP/maillog"
check_eq "year from mtime across New Year" "2024-12-31T23:59:58Z 2025-01-01T00:00:02Z" \
	"$("$MXGUARD" parse "$TMP/maillog" | jq -r .ts | xargs)"
touch -d '2031-06-30 00:00:00 UTC' "$TMP/maillog"
check_eq "an old file in a later year" "2030-12-31T23:59:58Z 2031-01-01T00:00:02Z" \
	"$("$MXGUARD" parse "$TMP/maillog" | jq -r .ts | xargs)"
check_eq "--year overrides" "2019-12-31T23:59:58Z 2019-01-01T00:00:02Z" \
	"$("$MXGUARD" parse --year 2019 "$TMP/maillog" | jq -r .ts | xargs)"
# A pipe has no mtime: the year is the current one (or the last, for a date
# more than a day ahead).
y=$(date -u +%Y)
got=$(echo "Jan  1 00:00:00 mx1 postfix/smtpd[1]: connect from a.example.net[198.51.100.1]" |
	"$MXGUARD" parse | jq -r .ts)
check_eq "stdin: Jan 1 is this year's" "$y-01-01T00:00:00Z" "$got"
# Local time: RFC 3164 stamps are in the zone of the machine that wrote them.
got=$(TZ=Europe/Berlin "$MXGUARD" parse --year 2024 "$TMP/maillog" | jq -r .ts | xargs)
if [ -e /usr/share/zoneinfo/Europe/Berlin ]; then
	check_eq "TZ=Europe/Berlin converts to UTC" "2024-12-31T22:59:58Z 2023-12-31T23:00:02Z" "$got"
else
	skip "TZ=Europe/Berlin converts to UTC" "no /usr/share/zoneinfo/Europe/Berlin (./run test installs tzdata)"
fi
finish
