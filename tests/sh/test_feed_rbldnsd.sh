#!/usr/bin/env bash
# test_feed_rbldnsd.sh - rbldnsd zone files as mxguard reads them give the
# answers the real rbldnsd gives.
#
# Writes an ip4set, an ip4trie and an ip6trie zone holding every construct
# reputation/feed_parse.c reads (abbreviated nets, ranges, exclusions inside
# listed nets, per-entry and default A values in every spelling, overlapping
# and duplicate entries, host bits set, $MAXRANGE4, the specials), serves
# them with rbldnsd on 127.0.0.1 inside a fresh network namespace (unshare
# -n: only its own loopback, nothing of the host's network is touched),
# asks dig for a few hundred addresses per zone and compares each answer
# with what feed_lookup (tests/tools/feed_lookup.c) says from the parse:
# listed or not, and the A value. Where several ip4set entries of one
# granularity cover an address rbldnsd answers all their values; mxguard
# keeps one, which must be among them.
#
# rbldnsd runs with -e: mxguard clears host bits of "10.8.3.4/16" as
# rbldnsd -e does (plain rbldnsd skips such a line with a warning).
. "$(dirname "$0")/lib.sh"

export FEED_LOOKUP=${FEED_LOOKUP:-${UNIT_DIR:-$(dirname "$MXGUARD")/build/tests}/feed_lookup}
LOOKUP=$FEED_LOOKUP
# The whole test runs in a network namespace of its own.
rbldnsd_ns FEED_RBLDNSD_NS "$LOOKUP"

cat > "$TMP/s.zone" <<'EOF'
# ip4set: every form of entry, value and special
$SOA 0 ns.s.test. hostmaster.s.test. 0 1h 15m 1w 1h
$NS 1d ns.s.test. -ns2.s.test.
$TTL 35m
#$Id: s.zone,v 1.1 2026/12/06 $
;$TTL 30m
:$TTL 25m
$1 https://bl.example/
$= Listed, see $1$
10.0.0.0/8
:127.0.0.3:Listed $
10.1.0.0/16
10.1.2
10.1.2.128/25 :4:
!10.1.2.200
10.1.2.200 :9:
  10.1.2.201 :10:Listed: $
10.2.0.0/23 :5:
!10.2.1.0/24
10.2.0.0/24 :6:
10.3.0.1-10.3.0.6 :7:
10.3.1.10-200 :8
10.4-5 :2
10.6.0-3
010.7.0.0/20 :10:
10.7.0.0/22 :11:
10.7.0.0/24 :11:
10.8.3.4/16:12:
10.9.0.0-10.9.3.255 :13:
!10.9.2.0-10.9.2.127
10.9.2.64/26 :14:
:5
172.16/12
172.20.5.0/24 a text only
!172.20.5.5
172.20.5.5 :13:
172.20.6.7 ; a comment
:0.7
192.168.0.0/16
192.168.1.1 :1.2.3:
192.168.1.2 :10.20.30.40:
192.168.1.3 :009:
# the block 64.0.0.0-127.255.255.255 is /8 granularity like 10/8
64/2 :17:
$MAXRANGE4 /24
192.168.128.0/17 :14:
192.168.2.0/24 :15:
!192.168.0.0/20
192.168.3.0-192.168.3.99 :16:
$MAXRANGE4 /16
192.168.4.0/23 :18:
EOF
# (what the zone covers, in full form: where the probes go)
S_PROBES="10.0.0.0/8 10.1.0.0/16 10.1.2.0/24 10.1.2.128/25 10.1.2.200/32 10.1.2.201/32 10.2.0.0/23 10.3.0.1-10.3.0.6
10.3.1.10-10.3.1.200 10.4.0.0-10.5.255.255 10.6.0.0-10.6.3.255 10.7.0.0/20 10.7.0.0/22 10.8.0.0/16 10.9.0.0/22
10.9.2.0-10.9.2.127 10.9.2.64/26 172.16.0.0/12 172.20.5.0/24 172.20.6.7/32 192.168.0.0/16 192.168.1.0/29
64.0.0.0/2 192.168.128.0/17 192.168.2.0/24 192.168.3.0-192.168.3.99 192.168.4.0/23 11.0.0.0/8 200.0.0.0/8"

cat > "$TMP/t.zone" <<'EOF'
# ip4trie: prefixes only, longest match, the first of duplicates
$TTL 300
:127.0.0.2:default text
10/8
10.1.0.0/16 :3:
10.1.2 :4:
10.1.2.128/25 :5:
!10.1.2.200
10.1.2.201/32 :6:
10.1.2.201 :7:
!10.1.3.0/24
10.1.3.0/24 :8:
10.1.3.7 :9:
10.2.0.0/15 :10:
10.3.5.5/12 :11:
:1.0.0.9
11.0.0.0/9
11.128/9 :0.0.12
0/0 :13:
!172.16/12
172.20.0.0/16
!192.168/16
$MAXRANGE4 256
12.0.0.0/16 :14:
12.1.1.0/24 :14:
12.1.2.0/23 :15:
EOF
T_PROBES="10.0.0.0/8 10.1.0.0/16 10.1.2.0/24 10.1.2.128/25 10.1.2.200/31 10.1.3.0/24 10.1.3.7/32 10.2.0.0/15 10.0.0.0/12
11.0.0.0/8 12.0.0.0/16 12.1.1.0/24 12.1.2.0/23 172.16.0.0/12 172.20.0.0/16 192.168.0.0/16 0.0.0.0/0"

cat > "$TMP/u.zone" <<'EOF'
# ip6trie: short forms, exclusions, duplicates
:127.0.0.2:v6 default
2001:db8:c000/36
2001:db8:1:2 :127.0.0.3:
2001:db8:77::/48 :4:
!2001:db8:77::25
2001:db8:77::26 :5:
2001:db8:77::26 :6:
!2001:db8:78::1
2001:db8:78::/48 :7:
2001:db8:78::1/128 :8:
2001:db8:1:2:3:4:5:6/64 :9:
::1 :10:
2001:DB8:AB00::/40 :11:
2001:db8:ab12::/48 :12:
::ffff:a00:0/120 :13:
:4
fd00::/8
fd00:1::/32 a text only
2002::/16
2002:0:0:0:0:0:0:1
EOF
U_PROBES="2001:db8:c000::/36 2001:db8:1:2::/64 2001:db8:77::/48 2001:db8:77::24/126 2001:db8:78::/48 2001:db8:78::/126
::/126 2001:db8:ab00::/40 2001:db8:ab12::/48 ::ffff:10.0.0.0/120 fd00::/8 fd00:1::/32 2002::/16 2001:db8::/32 2003::/16"

chmod 644 "$TMP"/*.zone

# ADDR QNAME lines: each probe range's ends, the addresses just outside, and random ones inside
probes() {	# probes ZONE SPEC...
	python3 - "$@" <<'EOF'
import ipaddress, random, sys
zone, specs = sys.argv[1], sys.argv[2:]
rnd = random.Random(20261206)
seen = []
def add(a):
    if a not in seen:
        seen.append(a)
for spec in specs:
    if '-' in spec:
        lo, hi = (ipaddress.ip_address(x) for x in spec.split('-'))
    else:
        n = ipaddress.ip_network(spec, strict=False)
        lo, hi = n[0], n[-1]
    top = (1 << lo.max_prefixlen) - 1
    for v in (int(lo), int(hi), int(lo) - 1, int(hi) + 1, (int(lo) + int(hi)) // 2):
        if 0 <= v <= top:
            add(ipaddress.ip_address(v) if lo.version == 4 else ipaddress.IPv6Address(v))
    for _ in range(6):
        v = rnd.randint(int(lo), int(hi))
        add(ipaddress.ip_address(v) if lo.version == 4 else ipaddress.IPv6Address(v))
for a in seen:
    if a.version == 4:
        q = '.'.join(reversed(str(a).split('.')))
    else:
        q = '.'.join(reversed(a.exploded.replace(':', '')))
    print(a, q + '.' + zone)
EOF
}

RBLDNSD=
trap 'kill $RBLDNSD 2> /dev/null; wait $RBLDNSD 2> /dev/null; rm -rf "$TMP"' EXIT
if ! rbldnsd_start -e s.test:ip4set:"$TMP/s.zone" t.test:ip4trie:"$TMP/t.zone" u.test:ip6trie:"$TMP/u.zone"; then
	failt "rbldnsd answers on 127.0.0.1/$PORT" "$(head -20 "$TMP/rbldnsd.log")"
	finish
fi
# rbldnsd took every line (its warnings for duplicates and too large ranges are expected, and
# for s.zone's line 5, "#$Id...": a comment to mxguard, an unknown special to rbldnsd)
check_eq "rbldnsd loads the zones without an invalid line" "" \
	"$(grep -iE 'invalid|unrecogni[sz]ed|error' "$TMP/rbldnsd.log" | grep -vF 's.zone(5): invalid or unrecognized special entry')"

# compare FORMAT ZONEFILE ZONE MULTI PROBES...: MULTI=1 lets rbldnsd answer several values (ip4set)
compare() {
	local fmt=$1 file=$2 zone=$3 multi=$4 bad=0 n=0 listed=0 unlisted=0 several=0
	shift 4
	probes "$zone" "$@" > "$TMP/$zone.probes"
	awk '{print $2, "A"}' "$TMP/$zone.probes" > "$TMP/$zone.dig"
	dig -p "$PORT" @127.0.0.1 +tries=2 +time=2 +noall +answer -f "$TMP/$zone.dig" > "$TMP/$zone.answers" 2>&1
	if grep -qiE 'timed out|no servers|error' "$TMP/$zone.answers"; then
		failt "$fmt: dig got every answer" "$(grep -iE 'timed out|no servers|error' "$TMP/$zone.answers" | head -3)"
		return
	fi
	if ! awk '{print $1}' "$TMP/$zone.probes" | "$LOOKUP" "$fmt" "$file" > "$TMP/$zone.ours" 2> "$TMP/$zone.err"; then
		failt "$fmt: mxguard reads the zone" "$(cat "$TMP/$zone.err")"
		return
	fi
	declare -A theirs=()
	local name ttl class type value addr q verdict ours
	while read -r name ttl class type value; do
		[ "$type" = A ] || continue
		theirs[${name%.}]+="$value "
	done < "$TMP/$zone.answers"
	exec 3< "$TMP/$zone.ours"
	while read -r addr q; do
		read -r _ verdict ours <&3
		n=$((n + 1))
		local got=${theirs[$q]:-}
		case $got in "") unlisted=$((unlisted + 1)) ;; *" "*" "*) several=$((several + 1)); listed=$((listed + 1)) ;; *) listed=$((listed + 1)) ;; esac
		if [ -z "$got" ]; then
			[ "$verdict" = - ] && continue
		elif [ "$verdict" = listed ]; then
			if [ "$multi" = 1 ]; then
				[[ " $got" == *" $ours "* ]] && continue
			else
				[ "$got" = "$ours " ] && continue
			fi
		fi
		bad=$((bad + 1))
		[ "$bad" -le 10 ] && echo "$fmt $addr: rbldnsd '${got% }', mxguard '$verdict${ours:+ $ours}'" >> "$TMP/$zone.diff"
	done < "$TMP/$zone.probes"
	exec 3<&-
	if [ "$bad" -eq 0 ]; then
		pass "$fmt: $n addresses, mxguard answers as rbldnsd ($listed listed, $unlisted not, $several with several values)"
	else
		failt "$fmt: $bad of $n addresses answered otherwise than rbldnsd" "$(cat "$TMP/$zone.diff")"
	fi
	# the probes must reach both answers (and, in ip4set, rbldnsd's several-value answers)
	check "$fmt: probes hit listed and unlisted addresses ($listed, $unlisted)" test "$listed" -ge 30 -a "$unlisted" -ge 30
	if [ "$multi" = 1 ]; then
		check "$fmt: probes hit addresses rbldnsd answers with several values ($several)" test "$several" -ge 5
	fi
}

# shellcheck disable=SC2086
compare ip4set "$TMP/s.zone" s.test 1 $S_PROBES
# shellcheck disable=SC2086
compare ip4trie "$TMP/t.zone" t.test 0 $T_PROBES
# shellcheck disable=SC2086
compare ip6trie "$TMP/u.zone" u.test 0 $U_PROBES
finish
