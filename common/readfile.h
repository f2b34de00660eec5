/*
 * readfile.h - read a whole regular file (configuration, tables, feeds).
 *
 * Only a regular file: a FIFO would hang the reader, a directory would
 * read as empty, a device could be endless. The file is opened
 * non-blocking (so opening a FIFO cannot block either) and its stat is
 * returned with it, taken from the same descriptor that is read.
 */
#ifndef MXG_READFILE_H
#define MXG_READFILE_H

#include <stddef.h>
#include <sys/stat.h>

/* Open path for reading if it is a regular file: the descriptor, or -1 with a message in why. */
int rf_open_regular(const char *path, struct stat *sb, char *why, size_t whylen);

/* The whole of an open file, NUL-terminated (*lenp bytes before the NUL); NULL on a read error (errno). */
char *rf_read_all(int fd, size_t hint, size_t *lenp);

/* Both: the contents of a regular file (to free), its stat in *sb; NULL with a message in why. */
char *rf_read_regular(const char *path, struct stat *sb, size_t *lenp, char *why, size_t whylen);

#endif
