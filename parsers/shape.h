/*
 * shape.h - a log message with its variable parts masked: what lines of
 * the same kind have in common ("parse --stats" groups the lines no
 * pattern understood by it, so the commonest unknown kinds come first).
 */
#ifndef MXG_SHAPE_H
#define MXG_SHAPE_H

#include <stddef.h>

/*
 * The shape of s[0..n) into out (NUL-terminated, at most outlen - 1
 * bytes, cut there): words holding a digit, a dot, '@', '/' or ':' inside,
 * a control byte or one past ASCII become "*" (so a shape is plain ASCII), <...> becomes <*>, [...] becomes [*], "..." becomes "*",
 * key=value becomes key=*; the rest (the daemon's own words) stays.
 * Returns the length written.
 */
size_t line_shape(const char *s, size_t n, char *out, size_t outlen);

#endif
