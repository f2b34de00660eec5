#!/usr/bin/env bash
# test_man.sh - the man pages, mxguard(8) and mxguard.conf(5) (docs/man/),
# rendered by man(1) and kept in step with the program:
#   - both render with no groff warning;
#   - mxguard(8) has a section for every command `mxguard --help` lists, and
#     each section names exactly the options that command's --help names
#     (both ways: nothing undocumented, nothing documented that went away);
#     the ctl section names every ctl command;
#   - mxguard.conf(5) names every statement, setting, rule line, key,
#     action, measure, event type and field the configuration parser knows
#     (taken from the parser's own error messages), and its example rules
#     pass `mxguard check`.
. "$(dirname "$0")/lib.sh"
command -v man > /dev/null || skip_all "man is not installed (./run test installs man-db)"
command -v python3 > /dev/null || skip_all "python3 is not installed"
MAN8=docs/man/mxguard.8
MAN5=docs/man/mxguard.conf.5
render() { LC_ALL=C MANWIDTH=200 man --warnings -l "$1" 2> "$TMP/warn.$(basename "$1")" | col -bx; }
render "$MAN8" > "$TMP/man8"
render "$MAN5" > "$TMP/man5"
check_eq "mxguard(8) renders without a warning" "" "$(cat "$TMP/warn.mxguard.8")"
check_eq "mxguard.conf(5) renders without a warning" "" "$(cat "$TMP/warn.mxguard.conf.5")"
check "mxguard(8) is the page man shows (NAME line)" grep -q '^ *mxguard - protect a mail server' "$TMP/man8"

# -- the commands and their options
"$MXGUARD" --help > "$TMP/help"
mapfile -t CMDS < <(sed -n '/^commands:/,$ s/^  \([a-z]\+\) .*/\1/p' "$TMP/help")
check "mxguard --help lists the commands (parse .. help)" test "${#CMDS[@]}" -ge 9
for c in "${CMDS[@]}"; do
	"$MXGUARD" "$c" --help > "$TMP/help.$c" 2>&1
	python3 - "$TMP/man8" "$c" "$TMP/help.$c" > "$TMP/cmp.$c" <<'EOF'
import re, sys
man, cmd, helpfile = open(sys.argv[1]).read().splitlines(), sys.argv[2], open(sys.argv[3]).read()
# the command's section: from its "mxguard CMD" header to the next header
sec, on = [], False
for l in man:
    m = re.match(r'^   mxguard (\S+)$', l)
    if m:
        on = m.group(1) == cmd
        continue
    if re.match(r'^\S', l):
        on = False
    if on:
        sec.append(l)
if not sec:
    print("no section 'mxguard %s'" % cmd)
    sys.exit(1)
if cmd in ('help', 'version'):
    sys.exit(0)
opt = re.compile(r'(?<![\w/-])(--[a-z][a-z0-9-]*|-[a-zA-Z])(?![\w-])')
def opts(text):
    return set(opt.findall(text)) - {'-h', '--help'}
in_man, in_help = opts('\n'.join(sec)), opts(helpfile)
if in_man != in_help:
    print("only in the man page: %s; only in --help: %s" % (sorted(in_man - in_help), sorted(in_help - in_man)))
    sys.exit(1)
if cmd == 'ctl':
    words = set(re.findall(r'^  ([a-z]+)\b', helpfile, re.M)) | {'metrics', 'reload', 'flush'}
    missing = [w for w in sorted(words) if not re.search(r'^       %s\b' % w, '\n'.join(sec), re.M)]
    if missing:
        print("ctl commands missing from the man page: %s" % missing)
        sys.exit(1)
print("%d options" % len(in_man))
EOF
	check "mxguard(8) documents exactly the options of 'mxguard $c --help' ($(head -c 200 "$TMP/cmp.$c"))" \
		test "$(grep -c '^no section\|^only in\|missing' "$TMP/cmp.$c")" = 0
done

# -- the configuration's words, from the parser's own messages
known() {	# known SNIPPET: the list an error about SNIPPET gives
	printf '%s\n' "$1" > "$TMP/k.conf"
	"$MXGUARD" check "$TMP/k.conf" 2>&1 | head -1
}
{
	known 'set nosuch 1' | sed 's/.*(known: \(.*\))$/\1/'
	known 'nosuch' | sed "s/.*expected \(.*\) or NAME = VALUE$/\1/"
	known 'rule "x" { on connect nosuch }' | sed 's/.*expected \(.*\)$/\1/; s/ or /, /'
	known 'rule "x" { on connect by nosuch when count >= 1 within 1m do block for 1h }' | sed 's/.*use \(.*\)$/\1/; s/ or /, /'
	known 'rule "x" { on connect when count >= 1 within 1m do nosuch for 1h }' | sed 's/.*use \(.*\)$/\1/; s/ or /, /; s/limit N per D/limit/; s/limit N connections/connections/'
	known 'rule "x" { on connect when nosuch >= 1 within 1m do block for 1h }' | sed 's/.*expected \(.*\) after .*/\1/; s/ FIELD//g; s/ or /, /'
	known 'rule "x" { on nosuch do block }' | sed 's/.*(known: \(.*\); docs.*/\1/'
	known 'parser "x" { nosuch }' | sed 's/.*expected \(.*\), found .*/\1/; s/ or /, /'
	known 'rule "x" { on connect where nosuch = "a" when count >= 1 within 1m do block for 1h }' | sed 's/.*(known: \(.*\); docs.*/\1/'
} | tr ',' '\n' | sed 's/^ *//; s/ *$//' | grep -v '^$' | sort -u > "$TMP/words"
check "the parser's messages give the configuration's words (settings .. fields: more than 80)" \
	test "$(wc -l < "$TMP/words")" -gt 80
missing=$(while read -r w; do grep -qF -- "$w" "$TMP/man5" || printf '%s ' "$w"; done < "$TMP/words")
check_eq "mxguard.conf(5) names every statement, setting, rule line, key, action, measure, event type and field" \
	"" "$missing"
n=$(python3 - "$MAN5" "$TMP/ex" <<'EOF'
import re, sys
src, out = open(sys.argv[1]).read(), sys.argv[2]
blocks = [b for b in re.findall(r'^\.nf\n(.*?)^\.fi', src, re.M | re.S) if 'rule "' in b and 'rule "NAME"' not in b]
for i, b in enumerate(blocks):
    open('%s.%d.conf' % (out, i), 'w').write(b.replace('\\-', '-').replace('\\e', '\\'))
print(len(blocks))
EOF
)
check_eq "mxguard.conf(5) has three example configurations (its overview and two rules)" 3 "$n"
for f in "$TMP"/ex.*.conf; do
	check "mxguard.conf(5)'s example $(basename "$f") passes mxguard check" "$MXGUARD" check "$f"
done
finish
