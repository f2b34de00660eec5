/*
 * readfile.c - whole regular files (see readfile.h).
 */
#include "readfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "xalloc.h"

int
rf_open_regular(const char *path, struct stat *sb, char *why, size_t whylen)
{
	/* O_NONBLOCK: a FIFO cannot hang the open (a reload would freeze the daemon). */
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);

	if (fd < 0) {
		snprintf(why, whylen, "cannot open %s: %s", path, strerror(errno));
		return -1;
	}
	/* fstat on what was opened: no race with a stat by name. */
	if (fstat(fd, sb) != 0) {
		snprintf(why, whylen, "cannot open %s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	if (!S_ISREG(sb->st_mode)) {
		snprintf(why, whylen, "%s is not a regular file (%s)", path, S_ISDIR(sb->st_mode) ? "a directory" :
		    S_ISFIFO(sb->st_mode) ? "a FIFO" : S_ISSOCK(sb->st_mode) ? "a socket" : "a device");
		close(fd);
		return -1;
	}
	return fd;
}

char *
rf_read_all(int fd, size_t hint, size_t *lenp)
{
	size_t cap = hint + 1, len = 0;
	char *buf = xmalloc(cap);

	for (;;) {
		ssize_t k;

		if (len + 1 == cap)
			buf = xrealloc(buf, cap *= 2);
		k = read(fd, buf + len, cap - 1 - len);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			int e = errno;

			free(buf);
			errno = e;
			return NULL;
		}
		if (k == 0)
			break;
		len += (size_t)k;
	}
	buf[len] = '\0';
	*lenp = len;
	return buf;
}

char *
rf_read_regular(const char *path, struct stat *sb, size_t *lenp, char *why, size_t whylen)
{
	int fd = rf_open_regular(path, sb, why, whylen);
	char *buf;

	if (fd < 0)
		return NULL;
	if ((buf = rf_read_all(fd, (size_t)sb->st_size, lenp)) == NULL)
		snprintf(why, whylen, "cannot read %s: %s", path, strerror(errno));
	close(fd);
	return buf;
}
