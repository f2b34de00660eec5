/*
 * files.h - report files written whole or not at all: a temporary name in
 * the same directory (created exclusively, never through a link someone
 * planted: common/safefile.h), synced if asked, then renamed over the old file. A
 * crash leaves the old file or the new one, and at most a temporary that
 * the next write of that name replaces.
 */
#ifndef MXG_FILES_H
#define MXG_FILES_H

#include <stddef.h>

/*
 * 0, or -1 with the reason in err. sync: fsync before the rename (the live
 * daemon's files survive a power cut; an offline run, which can be run
 * again, skips it: hundreds of files, each a disk flush).
 */
int files_write(const char *path, const void *p, size_t n, int sync, char *err, size_t errlen);
/* mkdir -p for one level under an existing directory (mode 0755): 0 if it is there. */
int files_mkdir(const char *path, char *err, size_t errlen);

#endif
