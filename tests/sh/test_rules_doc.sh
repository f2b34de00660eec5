#!/usr/bin/env bash
# test_rules_doc.sh - every example in docs/RULES.md works as the page says:
# each ```conf NAME block passes `mxguard check`; where ```log NAME and
# ```jsonl NAME blocks exist too, replaying the log prints exactly the JSON.
. "$(dirname "$0")/lib.sh"
DOC=docs/RULES.md
mkdir -p "$TMP/ex"
awk -v dir="$TMP/ex" '
	/^```(conf|log|jsonl) [A-Za-z0-9_-]+$/ { split(substr($0, 4), a, " "); out = dir "/" a[2] "." a[1]; printf "" > out; next }
	/^```file [A-Za-z0-9_.-]+$/ { out = dir "/" substr($0, 9); printf "" > out; next }
	/^```/ { out = ""; next }
	out != "" { print >> out }
' "$DOC"
# The overview example reads a table file next to it (```file NAME blocks are written there too).
echo "2001:db8:b01c::/48  # a newsletter platform" > "$TMP/ex/bulk-senders.txt"
n=0
for conf in "$TMP"/ex/*.conf; do
	name=$(basename "$conf" .conf)
	n=$((n + 1))
	check "RULES.md example '$name' passes mxguard check" "$MXGUARD" check "$conf"
	if [ -f "$TMP/ex/$name.log" ] && [ -f "$TMP/ex/$name.jsonl" ]; then
		"$MXGUARD" replay -c "$conf" --year 2024 "$TMP/ex/$name.log" | sed "s|$TMP/ex/|FEEDDIR/|g" > "$TMP/ex/$name.out"
		if cmp -s "$TMP/ex/$name.jsonl" "$TMP/ex/$name.out"; then
			pass "RULES.md example '$name' replays to the decisions shown"
		else
			failt "RULES.md example '$name' replays to the decisions shown" "$(diff "$TMP/ex/$name.jsonl" "$TMP/ex/$name.out" | head -5)"
		fi
	fi
done
check_eq "RULES.md has its examples" 1 "$((n >= 5))"
# The error listing on the page is what mxguard check prints for that file.
cat > "$TMP/broken.conf" <<'CONF'
table <trusted> { 127.0.0.0/8 }
rule "dha" {
    on rcpt_unkown
    by client (ipv4 /32, ipv6 /64)
    when distinct to >= 20 within 10x
}
rule "x" { on connect when count >= 1 within 1m do log }
rule "w" {
    on connect
    where helo == "x"
    when count >= 0 within 1m
    do log
}
CONF
"$MXGUARD" check "$TMP/broken.conf" 2> "$TMP/broken.err"
check_eq "check exits 78 on errors" 78 $?
for want in "broken.conf:3:8: unknown event type rcpt_unkown" "broken.conf:5:35: window: expected a duration" \
	"broken.conf:10:11: warning: rule \"w\": none of its events carries 'helo'" "broken.conf:8:1: warning: rule \"w\": threshold 0"; do
	grep -q "$want" "$TMP/broken.err"
	check_eq "check reports: $want" 0 $?
done
"$MXGUARD" check samples/mxguard.conf > /dev/null 2> "$TMP/default.err"
check_eq "the default policy is valid" 0 $?
check_eq "the default policy has no warnings" "" "$(cat "$TMP/default.err")"
finish
