/*
 * xalloc.h - allocation that cannot fail.
 *
 * mxguard handles allocation failure in exactly one place: these wrappers
 * log and exit (EX_OSERR). Callers never check for NULL.
 */
#ifndef MXG_XALLOC_H
#define MXG_XALLOC_H

#include <stddef.h>

void *xmalloc(size_t n);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);

#endif
