#!/usr/bin/env bash
# test_parse_unmatched.sh - `mxguard parse --unmatched` prints the lines of
# the MTAs' programs that no pattern understood (not those it understood,
# with or without an event, nor other programs' lines), with control bytes
# as \xNN; `parse --stats` lists the commonest shapes of those lines per
# program, the variable parts masked, so three lines of one new kind are
# one shape counted 3.
. "$(dirname "$0")/lib.sh"
L=$TMP/mail.log
{
	# understood: an event, a line with none, another program
	echo 'Nov 28 10:00:00 mx1 postfix/smtpd[9]: connect from unknown[198.51.100.2]'
	echo 'Nov 28 10:00:00 mx1 postfix/smtpd[9]: warning: hostname mx.example.net does not resolve to address 198.51.100.2: Name or service not known'
	echo 'Nov 28 10:00:00 mx1 CRON[77]: (root) CMD (run-parts /etc/cron.hourly)'
	# not understood: one new kind three times (other addresses), one with a terminal escape
	for a in 198.51.100.3 203.0.113.4 2001:db8::5; do
		echo "Nov 28 10:00:01 mx1 postfix/smtpd[9]: a new kind of line from unknown[$a]: size=1234"
	done
	printf 'Nov 28 10:00:02 mx1 postfix/smtpd[9]: odd \033[31mred\033[0m from <a@example.org>\n'
	echo 'Nov 28 10:00:03 mx1 sm-mta[5]: x1AB2: some future Sendmail line about [203.0.113.9]'
} > "$L"
"$MXGUARD" parse --unmatched --year 2024 "$L" > "$TMP/un" 2> "$TMP/un.err"
check_eq "--unmatched exits 0" 0 $?
check_eq "--unmatched: the five lines no pattern understood, in order, nothing else" \
"Nov 28 10:00:01 mx1 postfix/smtpd[9]: a new kind of line from unknown[198.51.100.3]: size=1234
Nov 28 10:00:01 mx1 postfix/smtpd[9]: a new kind of line from unknown[203.0.113.4]: size=1234
Nov 28 10:00:01 mx1 postfix/smtpd[9]: a new kind of line from unknown[2001:db8::5]: size=1234
Nov 28 10:00:02 mx1 postfix/smtpd[9]: odd \x1b[31mred\x1b[0m from <a@example.org>
Nov 28 10:00:03 mx1 sm-mta[5]: x1AB2: some future Sendmail line about [203.0.113.9]" "$(cat "$TMP/un")"
check "... no control byte reaches the output" sh -c "! LC_ALL=C grep -q \"\$(printf '\\033')\" '$TMP/un'"
"$MXGUARD" parse --stats --year 2024 "$L" > "$TMP/st.out" 2> "$TMP/st"
check_eq "--stats prints no events" "" "$(cat "$TMP/st.out")"
check_eq "--stats: unmatched counted" "  unmatched: 5" "$(grep '^  unmatched:' "$TMP/st")"
check_eq "--stats: the shapes per program, commonest first, the variable parts masked" \
"unmatched_shapes: 3
  postfix/smtpd 3 a new kind of line from unknown[*]: size=*
  postfix/smtpd 1 odd *[*] from <*>
  sm-mta 1 *: some future Sendmail line about [*]" "$(sed -n '/^unmatched_shapes:/,$p' "$TMP/st")"
check "... in plain ASCII (no control byte)" sh -c "! LC_ALL=C grep -q '[^[:print:]]' '$TMP/st'"
# An Exim mainlog (no program tag): the MTA's name stands for it.
echo '2024-11-28 10:00:00 some new kind of Exim line about [203.0.113.8]' > "$TMP/mainlog"
"$MXGUARD" parse --stats --mta exim --year 2024 "$TMP/mainlog" 2> "$TMP/st2" > /dev/null
check_eq "a mainlog's shapes go under the MTA's name" "  exim 1 some new kind of Exim line about [*]" \
	"$(sed -n '/^unmatched_shapes:/{n;p}' "$TMP/st2")"
finish
