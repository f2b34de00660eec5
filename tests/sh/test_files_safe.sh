#!/usr/bin/env bash
# test_files_safe.sh - files mxguard writes cannot be redirected by a local
# user: symlinks planted where the map's temporaries used to be (and at the
# map itself) are never followed, postmap's database is built in a private
# directory, a map directory that others can write (not sticky) or that
# another user owns is refused at start, a sticky one is warned about, the
# events file is never opened through a symlink or a FIFO (no hang), stale
# temporary directories of a crash are swept; and two map files are a
# usage error, not a silent choice.
. "$(dirname "$0")/lib.sh"
command -v postmap > /dev/null || skip_all "postmap missing (Postfix not installed)"
mkdir -p "$TMP/maps"
postmap_conf "$TMP/pf"
export MAIL_CONFIG=$TMP/pf
touch "$TMP/mail.log"
echo "precious" > "$TMP/victim"
D=$TMP/maps
PID=
trap 'kill "$PID" 2> /dev/null; rm -rf "$TMP"' EXIT
# start ARGS...: a daemon; returns when it answers (0) or when it has exited (its status)
start() {
	"$MXGUARD" run -c samples/mxguard.conf --source "$TMP/mail.log" --state-dir "$TMP/st" --socket "$TMP/s" \
		"$@" > /dev/null 2> "$TMP/err" &
	PID=$!
	for _ in $(seq 100); do
		"$MXGUARD" ctl --socket "$TMP/s" status > /dev/null 2>&1 && return 0
		kill -0 "$PID" 2> /dev/null || { wait "$PID"; return; }
		nap 0.1
	done
	return 99
}
stop() { kill "$PID"; wait "$PID"; }
ctl() { "$MXGUARD" ctl --socket "$TMP/s" "$@" > /dev/null; }

# Symlinks where the old temporaries were (PATH.mxguard-new, and postmap's PATH.mxguard-new.db), and at the map.
ln -s "$TMP/victim" "$D/access.cidr.mxguard-new"
ln -s "$TMP/victim" "$D/access.cidr"
mkdir "$D/.mxguard-access.cidr.Ab12Cd"	# a crash's leftover
echo x > "$D/.mxguard-access.cidr.Ab12Cd/access.cidr"
start --map-file "cidr:$D/access.cidr"
ctl ban 203.0.113.7 for 1h
check "the cidr map is written" wait_for 5 grep -q '^203.0.113.7/32 REJECT' "$D/access.cidr"
check_eq "a symlink at the map is replaced, not followed (the map is a file now)" "regular file|precious" \
	"$(stat -c %F "$D/access.cidr")|$(cat "$TMP/victim")"
check "the stale temporary directory of a crash is swept at start" test ! -e "$D/.mxguard-access.cidr.Ab12Cd"
check_eq "no temporary is left" "" "$(ls -A "$D" | grep '^\.mxguard-')"
stop

ln -s "$TMP/victim" "$D/access.hash.mxguard-new.db"
start --map-file "hash:$D/access.hash"
ctl ban 203.0.113.8 for 1h
check "the hash map is built" wait_for 5 sh -c "postmap -q 203.0.113.8 hash:$D/access.hash 2> /dev/null | grep -q REJECT"
check_eq "the victim of the planted symlinks is untouched" "precious" "$(cat "$TMP/victim")"
stop

# Directories others can write, or another user owns.
mkdir "$TMP/open" "$TMP/sticky" "$TMP/theirs"
chmod 777 "$TMP/open"
chmod 1777 "$TMP/sticky"
chown nobody "$TMP/theirs"
start --map-file "cidr:$TMP/open/access"
check_eq "a map directory writable by others (0777, not sticky) is refused at start" 64 $?
check "... saying why" grep -q "writable by others (mode 0777, not sticky)" "$TMP/err"
start --map-file "cidr:$TMP/theirs/access"
check_eq "a map directory of another user is refused" 64 $?
check "... saying why" grep -q "belongs to uid" "$TMP/err"
start --map-file "cidr:$TMP/sticky/access"
check_eq "a sticky world-writable directory is accepted" 0 $?
check "... with a warning" grep -q "sticky): they can take names" "$TMP/err"
stop

# The events file: not through a symlink, not a FIFO (which would hang a plain open).
ln -s "$TMP/victim" "$TMP/ev-link"
start --events "$TMP/ev-link"
check_eq "--events through a symlink is refused" 73 $?
check "... saying so" grep -q "symbolic link (not followed)" "$TMP/err"
check_eq "and the victim is untouched" "precious" "$(cat "$TMP/victim")"
mkfifo "$TMP/ev-fifo"
t0=$(date +%s)
start --events "$TMP/ev-fifo"
check_eq "--events on a FIFO is refused, at once" "73 fast" "$? $([ $(($(date +%s) - t0)) -lt 10 ] && echo fast)"
start --events "$TMP/open/ev"
check_eq "--events in a directory others can write is refused" 73 $?

# The state directory: read back as truth at start, so no one else may write it.
mkdir -m 777 "$TMP/st-open"
timeout 20 "$MXGUARD" run -c samples/mxguard.conf --source "$TMP/mail.log" --state-dir "$TMP/st-open" --socket "$TMP/s" \
	> /dev/null 2> "$TMP/err"
check_eq "a state directory others can write is refused" 73 $?
check "... saying why" grep -q "state-dir: directory $TMP/st-open is writable by others" "$TMP/err"

# Two map files: an error, not the last one silently.
start --map-file "cidr:$D/a" --map-file "cidr:$D/b"
check_eq "two --map-file options are a usage error" 64 $?
check "... naming both" grep -q "given twice ('cidr:$D/a', 'cidr:$D/b')" "$TMP/err"
printf 'include "%s/samples/mxguard.conf"\nset map-file "cidr:%s/a"\nset map-file "cidr:%s/b"\n' "$PWD" "$D" "$D" > "$TMP/two.conf"
timeout 20 "$MXGUARD" check "$TMP/two.conf" > /dev/null 2> "$TMP/err"
check_eq "two 'set map-file' lines are a configuration error" 78 $?
check "... at the second, naming the first" grep -q "^$TMP/two.conf:3:14: set map-file: already set at $TMP/two.conf:2:14" "$TMP/err"
finish
