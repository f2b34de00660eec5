#!/usr/bin/env bash
# test_daemon_diskfull.sh - the state directory fills up: the daemon says so
# once, keeps deciding from memory, and saves again when space comes back.
# The small filesystem is a tmpfs in a private mount namespace (unshare -m):
# nothing outside this test sees it.
. "$(dirname "$0")/lib.sh"
# A private mount namespace is needed (a tmpfs must not be seen outside);
# where there is none to be had (e.g. inside a chroot), say so and skip.
unshare -m true 2> /dev/null || skip_all "no private mount namespace here (unshare -m failed)"
mkdir -p "$TMP/state"
touch "$TMP/mail.log"
cat > "$TMP/inner.sh" <<'INNER'
set -u
mount -t tmpfs -o size=1m tmpfs "$TMP/state" || exit 77
MXG_FW_STATE=$TMP/fw.list "$MXGUARD" run -c samples/mxguard.conf --source "$TMP/mail.log" --state-dir "$TMP/state" \
	--socket "$TMP/s" --firewall "exec:$PWD/samples/fw-helper.sh" > "$TMP/dec.jsonl" 2> "$TMP/run.err" &
pid=$!
for _ in $(seq 100); do grep -q following "$TMP/run.err" && break; sleep 0.1; done
# Fill the filesystem to the last block.
dd if=/dev/zero of="$TMP/state/filler" bs=4k 2> /dev/null
sed -n '1,200p' samples/logs/mx1-attacks.log >> "$TMP/mail.log"
for _ in $(seq 50); do grep -q "cannot save state" "$TMP/run.err" && break; sleep 0.1; done
sleep 0.5
kill -0 $pid && echo alive-when-full
grep -c '"rule":"dha"' "$TMP/dec.jsonl" | sed 's/^/decisions-when-full /'
rm -f "$TMP/state/filler"
sed -n '201,260p' samples/logs/mx1-attacks.log >> "$TMP/mail.log"
for _ in $(seq 50); do grep -q "writable again" "$TMP/run.err" && break; sleep 0.1; done
kill $pid; wait $pid; echo "exit $?"
umount "$TMP/state"
INNER
TMP=$TMP MXGUARD=$MXGUARD unshare -m bash "$TMP/inner.sh" > "$TMP/out" 2>&1
rc=$?
[ "$rc" -eq 77 ] && skip_all "cannot mount a tmpfs here"	# (a skip, never a pass)
check_eq "the full disk is reported once" 1 "$(grep -c 'cannot save state' "$TMP/run.err")"
grep -q alive-when-full "$TMP/out"
check_eq "the daemon keeps running on a full disk" 0 $?
check_eq "and keeps deciding from memory" "decisions-when-full 1" "$(grep decisions-when-full "$TMP/out")"
check_eq "and enforcing: the harvester reached the firewall" "203.0.113.66/32" "$(cut -d' ' -f1 "$TMP/fw.list")"
grep -q "writable again" "$TMP/run.err"
check_eq "saving resumes when space comes back" 0 $?
check_eq "clean exit" "exit 0" "$(grep '^exit' "$TMP/out")"
finish
