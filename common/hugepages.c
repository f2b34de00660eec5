/*
 * hugepages.c - see hugepages.h.
 */
#include "hugepages.h"

#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "xalloc.h"

void
huge_pages(void *p, size_t n)
{
	const uintptr_t huge = (uintptr_t)2 << 20;
	uintptr_t start = ((uintptr_t)p + huge - 1) & ~(huge - 1), end = ((uintptr_t)p + n) & ~(huge - 1);

	if (end > start)
		(void)madvise((void *)start, end - start, MADV_HUGEPAGE);
}

void *
huge_alloc(size_t n)
{
	void *p;

	if (posix_memalign(&p, (size_t)2 << 20, n ? n : 1) != 0)
		return xmalloc(n);	/* (says out of memory and exits, as every allocation does) */
	huge_pages(p, n);
	return p;
}
