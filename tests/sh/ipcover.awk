# ipcover.awk - which addresses (file 2) lie inside which prefixes (file 1)?
# File 1: one decision key per line ("203.0.113.5", "2001:db8:1:2::/64").
# File 2: one address per line. Prints every address covered by a key.
# Used by the tests to check decisions against ground truth without Python.
function hex4(s) { while (length(s) < 4) s = "0" s; return tolower(s) }
function v6bits(a,    n, i, parts, out, head, tail, nh, nt, hp, tp, miss) {
	# expand to 32 hex digits
	if (index(a, "::")) {
		head = substr(a, 1, index(a, "::") - 1); tail = substr(a, index(a, "::") + 2)
		nh = head == "" ? 0 : split(head, hp, ":"); nt = tail == "" ? 0 : split(tail, tp, ":")
		out = ""
		for (i = 1; i <= nh; i++) out = out hex4(hp[i])
		for (i = 0; i < 8 - nh - nt; i++) out = out "0000"
		for (i = 1; i <= nt; i++) out = out hex4(tp[i])
		return hex2bin(out)
	}
	n = split(a, parts, ":"); out = ""
	for (i = 1; i <= n; i++) out = out hex4(parts[i])
	return hex2bin(out)
}
function hex2bin(h,    i, c, v, b, out) {
	out = ""
	for (i = 1; i <= length(h); i++) {
		c = index("0123456789abcdef", substr(h, i, 1)) - 1
		b = ""
		for (v = 8; v >= 1; v = v / 2) { b = b (c >= v ? "1" : "0"); if (c >= v) c -= v }
		out = out b
	}
	return out
}
function v4bits(a,    parts, i, out, c, v, b) {
	split(a, parts, "."); out = ""
	for (i = 1; i <= 4; i++) {
		c = parts[i] + 0; b = ""
		for (v = 128; v >= 1; v = v / 2) { b = b (c >= v ? "1" : "0"); if (c >= v) c -= v }
		out = out b
	}
	return out
}
function bits(a) { return index(a, ":") ? "6" v6bits(a) : "4" v4bits(a) }
FNR == NR {
	split($1, kp, "/")
	if (kp[1] == "*") next
	fam = index(kp[1], ":") ? 6 : 4
	len = kp[2] != "" ? kp[2] : (fam == 6 ? 128 : 32)
	prefix[++np] = substr(bits(kp[1]), 1, 1 + len)
	next
}
{
	b = bits($1)
	for (i = 1; i <= np; i++)
		if (substr(b, 1, length(prefix[i])) == prefix[i]) { print $1; break }
}
