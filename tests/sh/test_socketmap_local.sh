#!/usr/bin/env bash
# test_socketmap_local.sh - the socketmap against hostile local clients: the
# socket is 0660 with the configured group (others cannot connect); a local
# user who opens 300 idle connections (more than the 256 slots) does not
# lock Postfix's lookups out, which are answered in bounded time; a client
# that drips its request is closed after the request deadline (5 s for the
# whole request, not per byte); an idle one after the idle deadline; one
# that never reads its answers is closed; a file at the socket's path is
# not replaced.
. "$(dirname "$0")/lib.sh"
command -v postmap > /dev/null || skip_all "postmap missing (Postfix not installed)"
PY=/usr/bin/python3
[ -x "$PY" ] || skip_all "$PY missing (./run test installs python3)"
[ "$(id -u)" = 0 ] || skip_all "needs root (clients run as other users)"
command -v setpriv > /dev/null || skip_all "setpriv missing"
chmod 755 "$TMP"	# the other users' clients walk into it
cp "$(dirname "$0")/sockpeer.py" "$TMP/"
PEER="$TMP/sockpeer.py"
postmap_conf "$TMP/pf"
cat > "$TMP/mxguard.conf" << CONF
include "$PWD/samples/mxguard.conf"
set socketmap "$TMP/map" group "nogroup"
CONF
touch "$TMP/mail.log"
start() {
	"$MXGUARD" run -c "$TMP/mxguard.conf" --source "$TMP/mail.log" --state-dir "$TMP/st" --socket "$TMP/s" \
		>> "$TMP/dec" 2>> "$TMP/err" &
	PID=$!
	for _ in $(seq 100); do "$MXGUARD" ctl --socket "$TMP/s" status > /dev/null 2>&1 && break; nap 0.1; done
}
start
trap 'kill "$PID" 2> /dev/null; rm -rf "$TMP"' EXIT
"$MXGUARD" ctl --socket "$TMP/s" ban 203.0.113.7 > /dev/null
q() { postmap -c "$TMP/pf" -q "$2" "socketmap:unix:$TMP/map:$1" 2> /dev/null || echo "(not found)"; }
# as USER:GROUP (numeric), with no supplementary groups
as() { local ug=$1; shift; setpriv --reuid="${ug%:*}" --regid="${ug#*:}" --clear-groups "$@"; }

check_eq "the socket is 0660, group from 'set socketmap ... group'" "660 nogroup" "$(stat -c '%a %G' "$TMP/map")"
out=$(as 4321:4321 "$PY" "$PEER" idle "$TMP/map" 1 2>&1)
check "a local user outside the group cannot connect" grep -q "Permission denied" <<< "$out"
check_eq "a member of the group can (and is not hung up on at once)" "open" "$(as 65534:65534 "$PY" "$PEER" idle "$TMP/map" 1 2>&1)"

# A local user (nobody, in the group) hogs 300 connections; Postfix's lookups go on.
as 65534:65534 "$PY" "$PEER" hog "$TMP/map" 300 8 > "$TMP/hog" 2>&1 &
HOG=$!
for _ in $(seq 100); do grep -q ready "$TMP/hog" && break; nap 0.1; done
check_eq "the hog opened its 300 connections" "ready 300" "$(head -1 "$TMP/hog")"
worst=0 answers=""
for i in $(seq 20); do
	t0=$(date +%s%3N)
	answers+="$(q client 203.0.113.7)|"
	t=$(($(date +%s%3N) - t0))
	[ "$t" -gt "$worst" ] && worst=$t
done
check_eq "20 lookups while the socket is hogged are all answered" \
	"$(for i in $(seq 20); do printf 'REJECT 5.7.1 Rejected by mxguard rule manual|'; done)" "$answers"
check "... each within 2 s (slowest: $worst ms)" test "$worst" -lt 2000
echo "  lookup while hogged: slowest of 20 took $worst ms"
wait "$HOG"
closed=$(sed -n 's/^closed //p' "$TMP/hog")
check "the hog lost the connections it held beyond the slots, and only those ($closed of 300 closed)" \
	test "${closed:-0}" -ge 44 -a "${closed:-0}" -lt 100
check "the daemon said why" grep -q "all 256 connections taken; closing the oldest of uid 65534" "$TMP/err"

# Restarted with a short idle time for the deadlines.
kill "$PID"; wait "$PID"
echo 'set socketmap "'"$TMP"'/map" group "nogroup" idle 2s' >> "$TMP/mxguard.conf"
start

# Deadlines: per request, not per byte; idle; a client that never reads.
r=$("$PY" "$PEER" drip "$TMP/map" "18:client 203.0.113.7," 400 15 | tail -1)
ms=${r#closed }
check "a request dripped a byte every 400 ms is cut at the 5 s request deadline ($r)" \
	test "$ms" != open -a "${ms:-0}" -ge 4500 -a "${ms:-0}" -le 7500
r=$("$PY" "$PEER" idle "$TMP/map" 10)
ms=${r#closed }
check "an idle connection is closed after 'idle 2s' ($r)" test "$ms" != open -a "${ms:-0}" -ge 1800 -a "${ms:-0}" -le 4500
r=$("$PY" "$PEER" noread "$TMP/map" "18:client 203.0.113.7," 15)
check "a client that never reads its answers is closed ($r)" grep -q '^closed' <<< "$r"
check_eq "and the map still answers" "REJECT 5.7.1 Rejected by mxguard rule manual" "$(q client 203.0.113.7)"

# A persistent client that asks more often than the idle time keeps its connection.
out=$("$PY" - "$TMP/map" << 'PY'
import socket, sys, time
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
got = []
for _ in range(4):
    s.sendall(b"18:client 203.0.113.7,"); got.append(s.recv(200).decode()[:9]); time.sleep(1)
print(" ".join(got))
PY
)
check_eq "a client asking every second keeps its connection (4 answers)" \
	"47:OK REJ 47:OK REJ 47:OK REJ 47:OK REJ" "$out"

# A file where the socket should be is not deleted.
echo "precious" > "$TMP/notasocket"
"$MXGUARD" run -c "$TMP/mxguard.conf" --source "$TMP/mail.log" --state-dir "$TMP/st2" --socket "$TMP/s2" \
	--socketmap "$TMP/notasocket" > /dev/null 2> "$TMP/err2"
check "a daemon told to serve the socketmap over a file refuses (exit $?)" grep -q "not a socket" "$TMP/err2"
check_eq "and the file is intact" "precious" "$(cat "$TMP/notasocket")"
kill "$PID"; wait "$PID"
check_eq "clean exit" 0 $?
finish
