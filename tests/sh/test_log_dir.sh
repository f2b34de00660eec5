#!/usr/bin/env bash
# test_log_dir.sh - a log in a directory that someone else than root can
# write (its owner, its group, everyone) is warned about at start: a file
# planted there under a rotated name of the log would be read as the log's
# lines, and the daemon runs as root and blocks whom lines name. A
# directory only root writes gets no warning.
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" = 0 ] || skip_all "needs root (directories owned by another user)"
D=$TMP/logs
mkdir -p "$D"
touch "$D/mail.log"
PID=
trap 'kill "$PID" 2> /dev/null; rm -rf "$TMP"' EXIT
# run_once: start, wait until it answers, stop; its messages in $TMP/err
run_once() {
	: > "$TMP/err"
	"$MXGUARD" run -c samples/mxguard.conf --source "$D/mail.log" --state-dir "$TMP/st" --socket "$TMP/s" \
		> /dev/null 2> "$TMP/err" &
	PID=$!
	ctl_up 30 "$TMP/s"
	kill "$PID"
	wait "$PID" 2> /dev/null
	PID=
}
chmod 0777 "$D"
run_once
check "a directory everyone can write is warned about" \
	grep -q "source $D/mail.log: directory $D is writable by everyone (mode 0777): whoever can write there can plant" "$TMP/err"
chmod 1777 "$D"
run_once
check "sticky changes nothing (a new name can still be taken)" grep -q "is writable by everyone (mode 1777)" "$TMP/err"
chmod 0775 "$D"
run_once
check "a directory its group can write too" grep -q "is writable by its group (mode 0775)" "$TMP/err"
chmod 0755 "$D"
chown nobody "$D"
run_once
check "a directory another user owns too" grep -q "directory $D belongs to uid $(id -u nobody): its owner can plant" "$TMP/err"
chown root "$D"
run_once
check_eq "a directory only root can write: no warning" 0 "$(grep -c "plant a file" "$TMP/err")"
finish
