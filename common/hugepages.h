/*
 * hugepages.h - ask for transparent huge pages over a large block.
 *
 * A feed's index is tens of megabytes read at random: with 4 KiB pages
 * nearly every lookup misses the TLB as well as the cache, and building it
 * faults page by page. The advice covers the 2 MiB-aligned part of the
 * block; where THP is off (or "never") it does nothing.
 */
#ifndef MXG_HUGEPAGES_H
#define MXG_HUGEPAGES_H

#include <stddef.h>

void huge_pages(void *p, size_t n);

/*
 * n bytes (free() them) starting on a 2 MiB boundary, advised as above.
 * For a block of about 2 MiB this is what makes the advice take: malloc's
 * page-aligned block of 2 MiB + a few bytes holds no whole aligned 2 MiB,
 * so huge_pages would cover none of it (a feed's slice index is that size).
 * Exits on out-of-memory, as xmalloc.
 */
void *huge_alloc(size_t n);

#endif
