/*
 * files.c - atomic report files (see files.h).
 */
#include "files.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../common/safefile.h"

int
files_write(const char *path, const void *p, size_t n, int sync, char *err, size_t errlen)
{
	char tmp[4200], why[256];
	const char *c = p;
	int fd;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	unlink(tmp);	/* a crash's leftover (unlink removes a planted link itself, never its target) */
	if ((fd = sf_open_output(tmp, O_CREAT | O_EXCL, 0644, why, sizeof(why))) < 0) {
		snprintf(err, errlen, "%s: %s", tmp, why);
		return -1;
	}
	while (n > 0) {
		ssize_t k = write(fd, c, n);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			snprintf(err, errlen, "%s: %s", tmp, strerror(k < 0 ? errno : EIO));
			close(fd);
			unlink(tmp);
			return -1;
		}
		c += k;
		n -= (size_t)k;
	}
	if ((sync && fsync(fd) != 0) || close(fd) != 0) {
		snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
		unlink(tmp);
		return -1;
	}
	if (rename(tmp, path) != 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}

int
files_mkdir(const char *path, char *err, size_t errlen)
{
	struct stat st;

	if (mkdir(path, 0755) == 0)
		return 0;
	if (errno == EEXIST && lstat(path, &st) == 0 && S_ISDIR(st.st_mode))
		return 0;
	snprintf(err, errlen, "%s: %s", path, errno == EEXIST ? "not a directory" : strerror(errno));
	return -1;
}
