#!/usr/bin/env bash
# test_daemon.sh - mxguard run against real files, a real logrotate and
# kill -9: every appended line becomes exactly one event in the events file,
# through rotations, truncation, a late re-created file, a crash and a
# reload with a broken configuration.
. "$(dirname "$0")/lib.sh"
L=$TMP/log/mail.log
CONF=$TMP/mxguard.conf
mkdir -p "$TMP/log"
cp samples/mxguard.conf "$CONF"
SAMPLE=samples/logs/mx1-attacks.log
PID=

# Wait (at most 20 s) until the daemon's log has N lines matching a pattern.
wait_log() { wait_for 20 count_at_least "$2" grep -c "$1" "$TMP/run.err"; }
STARTS=0
start() {
	"$MXGUARD" run -c "$CONF" --source "$L" --state-dir "$TMP/state" --events "$TMP/ev.jsonl" \
		>> "$TMP/dec.jsonl" 2>> "$TMP/run.err" &
	PID=$!
	STARTS=$((STARTS + 1))
	wait_log "following 1 log" "$STARTS"	# set up: watching, positions taken
}
# A daemon that died on its own (a crash) fails the test here, not later.
alive() { kill -0 "$PID" 2> /dev/null; check_eq "daemon still running $1" 0 $?; }
stop() {
	[ -n "$PID" ] || return
	kill "$PID" 2> /dev/null
	wait "$PID" 2> /dev/null
	check_eq "daemon stops cleanly on SIGTERM (exit 0)" 0 $?
	PID=
}
trap 'kill "$PID" 2> /dev/null; rm -rf "$TMP"' EXIT
# Events without their line number (the daemon numbers lines as it reads them).
norm() { jq -c 'del(.line)' "$@" | sort; }
# Wait until the events file has N lines (at most 20 s).
wait_events() { wait_for 20 lines_at_least "$1" "$TMP/ev.jsonl"; }
# Wait until the daemon has finished the rotated file $1 (its file_id): it closes it once
# the file has been quiet for its grace period; a line read twice would come before.
wait_released() { wait_for 20 released "$PID" -i "$1"; }
append() { sed -n "$1,$2p" "$SAMPLE" >> "$3"; }

# Pre-existing lines are not read on a first start (it begins at the end).
append 1 50 "$L"
start
append 51 250 "$L"
want=$(sed -n '51,250p' "$SAMPLE" | "$MXGUARD" parse | wc -l)
wait_events "$want"
check_eq "first start: only appended lines are read" "$want" "$(wc -l < "$TMP/ev.jsonl")"

# Rotation by rename: syslog writes to the old file a little longer, then to a new one.
ino=$(file_id "$L")
mv "$L" "$L.1"
append 251 270 "$L.1"
wait_events "$(sed -n '51,270p' "$SAMPLE" | "$MXGUARD" parse | wc -l)"	# read from the old file
append 271 300 "$L"
want=$(sed -n '51,300p' "$SAMPLE" | "$MXGUARD" parse | wc -l)
wait_events "$want"
wait_released "$ino"
check_eq "rename + create: old file finished, new one read" "$want" "$(wc -l < "$TMP/ev.jsonl")"

# A partial last line is held until its newline arrives.
line=$(sed -n '301p' "$SAMPLE")
printf '%s' "${line:0:40}" >> "$L"
sleep 0.4	# on purpose: time for the daemon to see the half line (it must hold it); nothing marks that
before=$(wc -l < "$TMP/ev.jsonl")
printf '%s\n' "${line:40}" >> "$L"
want=$(sed -n '51,301p' "$SAMPLE" | "$MXGUARD" parse | wc -l)
wait_events "$want"
check_eq "a line written in two parts is one event" "$want" "$(wc -l < "$TMP/ev.jsonl")"

# kill -9, lines written while down, restart: nothing lost, nothing twice.
alive "before kill -9"
kill -9 "$PID"; wait "$PID" 2> /dev/null; PID=
append 302 400 "$L"
start
want=$(sed -n '51,400p' "$SAMPLE" | "$MXGUARD" parse | wc -l)
wait_events "$want"
sleep 0.5	# on purpose: a line read twice after the restart would show up meanwhile
check_eq "kill -9 and restart: exact count" "$want" "$(wc -l < "$TMP/ev.jsonl")"
check_eq "kill -9 and restart: the same events, none twice" \
	"$(sed -n '51,400p' "$SAMPLE" | "$MXGUARD" parse --year "$(date +%Y)" | norm)" "$(norm "$TMP/ev.jsonl")"

# Rotation while stopped: the rest of the old file is found by its inode.
alive "after the restart"
stop
append 401 450 "$L"
ino=$(file_id "$L")
mv "$L" "$L.2"
append 451 500 "$L"
start
want=$(sed -n '51,500p' "$SAMPLE" | "$MXGUARD" parse | wc -l)
wait_events "$want"
wait_released "$ino"
check_eq "rotated while stopped: old file finished, then the new one" "$want" "$(wc -l < "$TMP/ev.jsonl")"

# copytruncate with the real logrotate.
cat > "$TMP/lr.conf" <<LR
$L {
    copytruncate
    rotate 3
    missingok
}
LR
logrotate -f -s "$TMP/lr.state" "$TMP/lr.conf"
sleep 0.3	# on purpose: the daemon may see the truncated file before it is refilled (or not)
append 501 560 "$L"
want=$(sed -n '51,560p' "$SAMPLE" | "$MXGUARD" parse | wc -l)
wait_events "$want"
check_eq "logrotate copytruncate: new lines after the truncation are read" "$want" "$(wc -l < "$TMP/ev.jsonl")"

# create mode with the real logrotate, lines appended before and after.
cat > "$TMP/lr2.conf" <<LR
$L {
    create
    rotate 3
    missingok
}
LR
append 561 600 "$L"
ino=$(file_id "$L")
logrotate -f -s "$TMP/lr2.state" "$TMP/lr2.conf"
append 601 640 "$L"
want=$(sed -n '51,640p' "$SAMPLE" | "$MXGUARD" parse | wc -l)
wait_events "$want"
wait_released "$ino"
check_eq "logrotate create: both sides of the rotation read" "$want" "$(wc -l < "$TMP/ev.jsonl")"

# Deleted, and created again later.
ino=$(file_id "$L")
rm "$L"
sleep 0.5	# on purpose: the path stays missing a while, as between a delete and a late create
append 641 700 "$L"
want=$(sed -n '51,700p' "$SAMPLE" | "$MXGUARD" parse | wc -l)
wait_events "$want"
wait_released "$ino"
check_eq "deleted and re-created late: the new file is read" "$want" "$(wc -l < "$TMP/ev.jsonl")"

alive "after rotations, truncation and re-creation"
# SIGHUP with a broken configuration keeps the running one.
echo 'rule "x" { on nothing }' >> "$CONF"
kill -HUP "$PID"
wait_log "keeping the running configuration" 1
grep -q "keeping the running configuration" "$TMP/run.err"
check_eq "reload with a broken config: reported, old one kept" 0 $?
kill -0 "$PID"
check_eq "reload with a broken config: still running" 0 $?
append 701 763 "$L"
want=$(sed -n '51,763p' "$SAMPLE" | "$MXGUARD" parse | wc -l)
wait_events "$want"
check_eq "still reading after the failed reload" "$want" "$(wc -l < "$TMP/ev.jsonl")"
stop
check_eq "every event exactly once over the whole run" \
	"$(sed -n '51,763p' "$SAMPLE" | "$MXGUARD" parse --year "$(date +%Y)" | norm)" "$(norm "$TMP/ev.jsonl")"
check "decisions were saved in the state database" test -s "$TMP/state/state.db"
finish
