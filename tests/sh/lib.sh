# lib.sh - assertions for the shell tests. Each prints "ok NAME" or
# "FAIL NAME" (plus details indented by two spaces); run_all.sh counts them.
: "${MXGUARD:?}"
export TZ=UTC LC_ALL=C
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
_failures=0

pass() { echo "ok $1"; }
failt() {
	echo "FAIL $1"
	shift
	for l in "$@"; do echo "  $l"; done
	_failures=$((_failures + 1))
}

# check_eq NAME EXPECTED ACTUAL
check_eq() {
	if [ "$2" == "$3" ]; then pass "$1"; else failt "$1" "expected: $(printf %s "$2" | head -c 300)" "actual:   $(printf %s "$3" | head -c 300)"; fi
}

# check NAME COMMAND...: the command must succeed
check() {
	local name=$1
	shift
	if "$@" > "$TMP/.out" 2>&1; then pass "$name"; else failt "$name" "command failed: $*" "$(head -5 "$TMP/.out")"; fi
}

# stat_of FILE KEY: the value of "KEY: N" in mxguard --stats output
stat_of() {
	sed -n "s/^ *$2: //p" "$1" | head -1
}

finish() { exit $((_failures > 0)); }
