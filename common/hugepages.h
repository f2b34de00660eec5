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

#endif
