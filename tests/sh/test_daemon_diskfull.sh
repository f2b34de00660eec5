#!/usr/bin/env bash
# test_daemon_diskfull.sh - the state directory fills up: the daemon says so
# once, keeps deciding and enforcing from memory, and loses nothing: a
# decision made while the disk was full is saved as soon as space comes back
# (with no new line to trigger it), survives a restart and is enforced
# again; a daemon stopped while the disk is full reads the lines of its
# unsaved decisions again at the next start (their positions were not saved
# ahead of them); an unban of a decision still waiting for the disk holds.
# The small filesystem is a tmpfs in a private mount namespace (unshare -m):
# nothing outside this test sees it.
. "$(dirname "$0")/lib.sh"
# A private mount namespace is needed (a tmpfs must not be seen outside);
# where there is none to be had (e.g. inside a chroot), say so and skip.
unshare -m true 2> /dev/null || skip_all "no private mount namespace here (unshare -m failed)"
mkdir -p "$TMP/state" "$TMP/state2" "$TMP/state3"
touch "$TMP/mail.log" "$TMP/mail2.log" "$TMP/mail3.log"
cat > "$TMP/inner.sh" <<'INNER'
set -u
mount -t tmpfs -o size=1m tmpfs "$TMP/state" || exit 77
mount -t tmpfs -o size=1m tmpfs "$TMP/state2" || exit 77
mount -t tmpfs -o size=1m tmpfs "$TMP/state3" || exit 77
ctl() { "$MXGUARD" ctl --socket "$TMP/s" "$@"; }
start() {	# LOG STATE: the events file is on the small filesystem too
	MXG_FW_STATE=$TMP/fw.list "$MXGUARD" run -c samples/mxguard.conf --source "$1" --state-dir "$2" \
		--events "$2/events.jsonl" --socket "$TMP/s" --firewall "exec:$PWD/samples/fw-helper.sh" \
		>> "$TMP/dec.jsonl" 2>> "$TMP/run.err" &
	pid=$!
	wait_for 10 eval 'ctl status > /dev/null 2>&1'
}
fill() { dd if=/dev/zero of="$1/filler" bs=4k 2> /dev/null; sync; }

# 1. A decision made while the disk is full is saved when space comes back.
start "$TMP/mail.log" "$TMP/state"
fill "$TMP/state"
sed -n '1,200p' samples/logs/mx1-attacks.log >> "$TMP/mail.log"
wait_for 10 eval 'grep -q "cannot save state" "$TMP/run.err"' && echo full-reported
wait_for 10 eval 'grep -q "\"rule\":\"dha\"" "$TMP/dec.jsonl"'
kill -0 $pid && echo alive-when-full
grep -c '"rule":"dha"' "$TMP/dec.jsonl" | sed 's/^/decisions-when-full /'
wait_for 10 eval 'grep -q "^203.0.113.66/32" "$TMP/fw.list"' && echo enforced-when-full
ctl decisions | awk '{print "listed-when-full", $1, $3}'
ctl --json status | grep -o '"state_ok":[a-z]*,"unsaved":[0-9]*' | sed 's/^/status-when-full /'
sqlite3 "$TMP/state/state.db" "select count(*) from decisions where rule = 'dha'" | sed 's/^/saved-when-full /'
rm -f "$TMP/state/filler"
# No new line: the daemon retries by itself.
wait_for 10 eval 'grep -q "writable again" "$TMP/run.err"' && echo saved-again
grep -c "cannot save state" "$TMP/run.err" | sed 's/^/reported /'
sqlite3 "$TMP/state/state.db" "select key from decisions where rule = 'dha'" | sed 's/^/saved-after /'
echo "events-after $(jq -c . "$TMP/state/events.jsonl" | wc -l) of $(sed -n '1,200p' samples/logs/mx1-attacks.log | "$MXGUARD" parse | wc -l)"
kill $pid; wait $pid; echo "exit1 $?"
: > "$TMP/fw.list"
start "$TMP/mail.log" "$TMP/state"
ctl decisions | awk '{print "listed-after-restart", $1, $3}'
wait_for 10 eval '[ -s "$TMP/fw.list" ]'	# the helper is talked to asynchronously
cut -d' ' -f1 "$TMP/fw.list" | sed 's/^/enforced-after-restart /'
kill $pid; wait $pid; echo "exit2 $?"

# 2. Stopped while the disk is still full: the lines are read again at the next start.
: > "$TMP/dec.jsonl"
start "$TMP/mail2.log" "$TMP/state2"
fill "$TMP/state2"
sed -n '1,200p' samples/logs/mx1-attacks.log >> "$TMP/mail2.log"
wait_for 10 eval 'grep -q "\"rule\":\"dha\"" "$TMP/dec.jsonl"'
kill $pid; wait $pid; echo "exit3 $?"
grep -c "stopping with 1 decision(s) not saved" "$TMP/run.err" | sed 's/^/stop-warned /'
rm -f "$TMP/state2/filler"
: > "$TMP/dec.jsonl"
start "$TMP/mail2.log" "$TMP/state2"
wait_for 10 eval 'grep -q "\"rule\":\"dha\"" "$TMP/dec.jsonl"'
grep -c '"rule":"dha"' "$TMP/dec.jsonl" | sed 's/^/decided-again /'
ctl decisions | awk '{print "listed-second", $1, $3}'
kill $pid; wait $pid; echo "exit4 $?"

# 3. An unban while the decision waits for the disk: it stays released once saved.
: > "$TMP/dec.jsonl"; : > "$TMP/run.err"
start "$TMP/mail3.log" "$TMP/state3"
fill "$TMP/state3"
sed -n '1,200p' samples/logs/mx1-attacks.log >> "$TMP/mail3.log"
wait_for 10 eval 'grep -q "\"rule\":\"dha\"" "$TMP/dec.jsonl"'
wait_for 10 eval 'grep -q "^203.0.113.66/32" "$TMP/fw.list"'
ctl unban 203.0.113.66 | sed 's/^/unban-when-full /'
wait_for 10 eval '! grep -q "^203.0.113.66/32" "$TMP/fw.list"'
grep -c "^203.0.113.66/32" "$TMP/fw.list" | sed 's/^/fw-after-unban /'
rm -f "$TMP/state3/filler"
wait_for 10 eval 'grep -q "writable again" "$TMP/run.err"'
echo "in-force-after-save $(ctl decisions | wc -l)"
kill $pid; wait $pid; echo "exit5 $?"
umount "$TMP/state" "$TMP/state2" "$TMP/state3"
INNER
# (the inner shell polls with lib.sh's wait_for and nap, and nap's FIFO)
export _NAP
export -f wait_for nap
TMP=$TMP MXGUARD=$MXGUARD unshare -m bash "$TMP/inner.sh" > "$TMP/out" 2>&1
rc=$?
[ "$rc" -eq 77 ] && skip_all "cannot mount a tmpfs here"	# (a skip, never a pass)
o() { grep "^$1" "$TMP/out" | sed "s/^$1 *//"; }
check_eq "the full disk is reported once" 1 "$(o reported)"
check_eq "the daemon keeps running on a full disk" "alive-when-full" "$(o alive-when-full)alive-when-full"
check_eq "and keeps deciding from memory" 1 "$(o decisions-when-full)"
check_eq "and enforcing: the harvester reached the firewall" "enforced-when-full" "$(grep -x enforced-when-full "$TMP/out")"
check_eq "ctl decisions lists the unsaved decision" "203.0.113.66 dha" "$(o listed-when-full)"
check_eq "ctl status says it is not saved" '"state_ok":false,"unsaved":1' "$(o status-when-full)"
check_eq "nothing reached the full disk" 0 "$(o saved-when-full)"
check_eq "saving resumes by itself when space comes back" "saved-again" "$(grep -x saved-again "$TMP/out")"
check_eq "the decision made while full is in state.db" "203.0.113.66" "$(o saved-after)"
echo "  (events file: $(o events-after))"
check_eq "the events file lost nothing while the disk was full (valid JSON lines)" "$(o events-after | awk '{print $3}')" \
	"$(o events-after | awk '{print $1}')"
check_eq "clean exits" "0 0 0 0 0" "$(o exit1) $(o exit2) $(o exit3) $(o exit4) $(o exit5)"
check_eq "it survives a restart" "203.0.113.66 dha" "$(o listed-after-restart)"
check_eq "and is enforced again at start" "203.0.113.66/32" "$(o enforced-after-restart)"
check_eq "stopped while full: it says what was not saved" 1 "$(o stop-warned)"
check_eq "the unsaved decision's lines are read again at the next start" 1 "$(o decided-again)"
check_eq "and the decision is saved then" "203.0.113.66 dha" "$(o listed-second)"
check_eq "an unban while the decision waits for the disk releases it" "released 1 decision(s) for 203.0.113.66: 203.0.113.66" \
	"$(o unban-when-full)"
check_eq "at the firewall too" 0 "$(o fw-after-unban)"
check_eq "and once saved it is not back in force" 0 "$(o in-force-after-save)"
finish
