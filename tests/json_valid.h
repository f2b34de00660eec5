/*
 * json_valid.h - a strict JSON validator for tests (RFC 8259: strings
 * with their escapes and UTF-8 checked, numbers, literals, nesting up to
 * a depth): the unit tests check every JSON line mxguard writes with it,
 * and fuzz_control checks the control socket's --json answers. Static
 * functions: each test includes it once.
 */
#ifndef MXG_TESTS_JSON_VALID_H
#define MXG_TESTS_JSON_VALID_H

#include <stddef.h>
#include <string.h>


struct jp {
	const char *p, *end;
};

static int json_value(struct jp *j, int depth);

static void
json_ws(struct jp *j)
{
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r'))
		j->p++;
}

/* One UTF-8 sequence at j->p (its first byte >= 0x80); 0 if invalid. */
static int
json_utf8(struct jp *j)
{
	const unsigned char *s = (const unsigned char *)j->p;
	size_t left = (size_t)(j->end - j->p);
	unsigned c = s[0], n, cp;

	if (c >= 0xc2 && c <= 0xdf)
		n = 1, cp = c & 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		n = 2, cp = c & 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 3, cp = c & 0x07;
	else
		return 0;
	if (left < n + 1)
		return 0;
	for (unsigned i = 1; i <= n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	j->p += n + 1;
	return 1;
}

static int
json_string(struct jp *j)
{
	if (j->p >= j->end || *j->p != '"')
		return 0;
	j->p++;
	while (j->p < j->end) {
		unsigned char c = (unsigned char)*j->p;

		if (c == '"') {
			j->p++;
			return 1;
		}
		if (c < 0x20)
			return 0;
		if (c == '\\') {
			j->p++;
			if (j->p >= j->end)
				return 0;
			c = (unsigned char)*j->p++;
			if (c == 'u') {
				for (int i = 0; i < 4; i++, j->p++)
					if (j->p >= j->end || !((*j->p >= '0' && *j->p <= '9') ||
					    (*j->p >= 'a' && *j->p <= 'f') || (*j->p >= 'A' && *j->p <= 'F')))
						return 0;
			} else if (strchr("\"\\/bfnrt", c) == NULL || c == 0)
				return 0;
		} else if (c >= 0x80) {
			if (!json_utf8(j))
				return 0;
		} else
			j->p++;
	}
	return 0;
}

static int
json_number(struct jp *j)
{
	const char *s = j->p;

	if (j->p < j->end && *j->p == '-')
		j->p++;
	if (j->p >= j->end)
		return 0;
	if (*j->p == '0')
		j->p++;
	else if (*j->p >= '1' && *j->p <= '9')
		while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
			j->p++;
	else
		return 0;
	if (j->p < j->end && *j->p == '.') {
		j->p++;
		if (j->p >= j->end || *j->p < '0' || *j->p > '9')
			return 0;
		while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
			j->p++;
	}
	if (j->p < j->end && (*j->p == 'e' || *j->p == 'E')) {
		j->p++;
		if (j->p < j->end && (*j->p == '+' || *j->p == '-'))
			j->p++;
		if (j->p >= j->end || *j->p < '0' || *j->p > '9')
			return 0;
		while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
			j->p++;
	}
	return j->p > s;
}

static int
json_lit(struct jp *j, const char *w)
{
	size_t n = strlen(w);

	if ((size_t)(j->end - j->p) < n || memcmp(j->p, w, n) != 0)
		return 0;
	j->p += n;
	return 1;
}

static int
json_value(struct jp *j, int depth)
{
	if (depth > 32)
		return 0;
	json_ws(j);
	if (j->p >= j->end)
		return 0;
	switch (*j->p) {
	case '{':
		j->p++;
		json_ws(j);
		if (j->p < j->end && *j->p == '}') {
			j->p++;
			return 1;
		}
		for (;;) {
			json_ws(j);
			if (!json_string(j))
				return 0;
			json_ws(j);
			if (j->p >= j->end || *j->p++ != ':')
				return 0;
			if (!json_value(j, depth + 1))
				return 0;
			json_ws(j);
			if (j->p >= j->end)
				return 0;
			if (*j->p == ',') {
				j->p++;
				continue;
			}
			if (*j->p == '}') {
				j->p++;
				return 1;
			}
			return 0;
		}
	case '[':
		j->p++;
		json_ws(j);
		if (j->p < j->end && *j->p == ']') {
			j->p++;
			return 1;
		}
		for (;;) {
			if (!json_value(j, depth + 1))
				return 0;
			json_ws(j);
			if (j->p >= j->end)
				return 0;
			if (*j->p == ',') {
				j->p++;
				continue;
			}
			if (*j->p == ']') {
				j->p++;
				return 1;
			}
			return 0;
		}
	case '"':
		return json_string(j);
	case 't':
		return json_lit(j, "true");
	case 'f':
		return json_lit(j, "false");
	case 'n':
		return json_lit(j, "null");
	default:
		return json_number(j);
	}
}

/* 1 if s[0..n) is exactly one JSON object (and whitespace). */
static int
json_valid_object(const char *s, size_t n)
{
	struct jp j = { s, s + n };

	json_ws(&j);
	if (j.p >= j.end || *j.p != '{')
		return 0;
	if (!json_value(&j, 0))
		return 0;
	json_ws(&j);
	return j.p == j.end;
}

#endif
