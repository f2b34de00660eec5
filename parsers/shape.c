/* shape.c - see shape.h. */
#include "shape.h"

#include <string.h>

struct out {
	char *p;
	size_t n, cap;
};

static void
put(struct out *o, const char *s, size_t n)
{
	if (n > o->cap - 1 - o->n)
		n = o->cap - 1 - o->n;
	memcpy(o->p + o->n, s, n);
	o->n += n;
}

/*
 * 1 if the word (no spaces) is a variable part: a digit, '@', or '.', '/',
 * ':' before its last byte — or a control byte or a byte past ASCII (a
 * client's, never shown: a shape is printed to a terminal).
 */
static int
variable(const char *w, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)w[i];

		if ((c >= '0' && c <= '9') || c == '@' || ((c == '.' || c == '/' || c == ':') && i + 1 < n) ||
		    c < 0x20 || c >= 0x7f)
			return 1;
	}
	return 0;
}

/* The punctuation a word ends with, kept after its mask (":" of "from <x>:", "," of a list). */
static size_t
tail_punct(const char *w, size_t n)
{
	size_t k = 0;

	while (k < n && w[n - 1 - k] != '\0' && strchr(":,;", w[n - 1 - k]) != NULL)	/* (strchr finds a NUL too) */
		k++;
	return k;
}

/* The end of a run opened by s[0] ('<', '"' or '['): past its closer, or n (spaces inside are the run's). */
static size_t
run_end(const char *s, size_t n)
{
	const char *close = memchr(s + 1, s[0] == '<' ? '>' : s[0] == '[' ? ']' : '"', n - 1);

	return close != NULL ? (size_t)(close - s) + 1 : n;
}

/* One word (a <...> or "..." run may hold spaces); returns how much of s it took. */
static size_t
word(struct out *o, const char *s, size_t n)
{
	size_t end = 0, k, eq;
	const char *open;

	if (s[0] == '"' || s[0] == '<') {
		end = run_end(s, n);
		put(o, s[0] == '"' ? "\"*\"" : "<*>", 3);
		return end;
	}
	for (eq = 0; eq < n && s[eq] != '=' && s[eq] != ' '; eq++)
		if (!((s[eq] >= 'a' && s[eq] <= 'z') || (s[eq] >= 'A' && s[eq] <= 'Z') || s[eq] == '_' || s[eq] == '-'))
			break;
	if (eq > 0 && eq + 1 < n && s[eq] == '=') {
		/* key=value: the key stays; the value (a <...>, "..." or [...] run, or up to a space) goes */
		put(o, s, eq + 1);
		put(o, "*", 1);
		if (strchr("<\"[", s[eq + 1]) != NULL)
			return eq + 1 + run_end(s + eq + 1, n - eq - 1);
		for (end = eq + 1; end < n && s[end] != ' '; end++)
			;
		k = tail_punct(s, end);
		put(o, s + end - k, k);
		return end;
	}
	while (end < n && s[end] != ' ')
		end++;
	k = tail_punct(s, end);
	if ((open = memchr(s, '[', end)) != NULL) {
		size_t pre = (size_t)(open - s);

		if (pre > 0 && variable(s, pre))
			put(o, "*", 1);
		else
			put(o, s, pre);
		put(o, "[*]", 3);
	} else if (variable(s, end - k)) {
		put(o, "*", 1);
	} else {
		put(o, s, end - k);
	}
	put(o, s + end - k, k);
	return end;
}

size_t
line_shape(const char *s, size_t n, char *out, size_t outlen)
{
	struct out o = { out, 0, outlen };
	size_t i = 0;

	if (outlen == 0)
		return 0;
	while (i < n && o.n < outlen - 1) {
		if (s[i] == ' ') {
			if (o.n > 0 && out[o.n - 1] != ' ')
				put(&o, " ", 1);
			i++;
			continue;
		}
		i += word(&o, s + i, n - i);
	}
	while (o.n > 0 && out[o.n - 1] == ' ')
		o.n--;
	out[o.n] = '\0';
	return o.n;
}
