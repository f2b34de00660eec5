/*
 * span.h - a view of bytes inside a log line: pointer and length, no NUL.
 *
 * Parsers hand out spans into the line they were given instead of copies;
 * a span is valid until the caller reads the next line.
 */
#ifndef MXG_SPAN_H
#define MXG_SPAN_H

#include <stddef.h>
#include <string.h>

struct span {
	const char *p;
	size_t n;
};

#define SPAN_LIT(s) ((struct span){ (s), sizeof(s) - 1 })

static inline int
span_eq(struct span s, const char *lit, size_t litlen)
{
	return s.n == litlen && memcmp(s.p, lit, litlen) == 0;
}

static inline int
span_starts(struct span s, const char *lit, size_t litlen)
{
	return s.n >= litlen && memcmp(s.p, lit, litlen) == 0;
}

#endif
