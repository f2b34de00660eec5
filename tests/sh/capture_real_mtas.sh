#!/usr/bin/env bash
# capture_real_mtas.sh - refresh tests/golden/real/*.log: the raw log lines
# of real Exim 4.96, Sendmail 8.17 and OpenSMTPD 6.8 (Debian 12's packages,
# unpacked, never installed; see mta_real.sh) for the five client sessions
# of mta_real.sh, plus the lines each daemon writes at startup. Not a test:
# a tool, run as root from the top of the tree when the harness or the
# packages change:
#
#     bash tests/sh/capture_real_mtas.sh [OUTDIR]     (default tests/golden/real)
#
# Writes exim.log (Exim's own mainlog), sendmail.log (LogLevel 9, the
# default: no line per connection), sendmail-loglevel12.log (LogLevel 12:
# "connect from" and AUTH/Milter notes too) and opensmtpd.log (syslog,
# RSYSLOG_TraditionalFileFormat). The clients are 203.0.113.110 (Exim),
# 203.0.113.120 (Sendmail) and 203.0.113.130 (OpenSMTPD); the servers .10,
# .20 and .30. Time stamps and PIDs are those of the run, so a refresh
# changes every line: the golden outputs beside them (X.jsonl, made with
# the arguments in X.args) must then be made again and reviewed.
cd "$(dirname "$0")/../.." || exit 1
export MXGUARD=${MXGUARD:-$PWD/mxguard}	# (lib.sh wants it; nothing here runs it)
. tests/sh/lib.sh || exit 1
. tests/sh/mta_real.sh || exit 1
OUT=${1:-tests/golden/real}
mkdir -p "$OUT"
mr_init exim sendmail opensmtpd
for m in exim sendmail opensmtpd; do
	mr_net "$m"
	mr_start "$m" || finish
done
# (the three are independent: their sessions run at once)
for m in exim sendmail opensmtpd; do mr_sessions "$m" & done
wait
for m in exim sendmail opensmtpd; do
	mr_check_sessions "$m"
	mr_settle "$m" && install -m 644 "${MR_LOG[$m]}" "$OUT/$m.log" && echo "  $OUT/$m.log: $(wc -l < "$OUT/$m.log") lines"
done
mr_stop sendmail
MR_SM_LOGLEVEL=12 mr_start sendmail || finish
mr_sessions sendmail
mr_check_sessions sendmail
mr_settle sendmail && install -m 644 "${MR_LOG[sendmail]}" "$OUT/sendmail-loglevel12.log" &&
	echo "  $OUT/sendmail-loglevel12.log: $(wc -l < "$OUT/sendmail-loglevel12.log") lines"
finish
