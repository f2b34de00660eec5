/* safefile.c - see safefile.h. */
#include "safefile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The directory that holds path. */
static void
dir_of(const char *path, char *dir, size_t len)
{
	const char *slash = strrchr(path, '/');

	if (slash == NULL)
		snprintf(dir, len, ".");
	else if (slash == path)
		snprintf(dir, len, "/");
	else
		snprintf(dir, len, "%.*s", (int)(slash - path), path);
}

int
sf_check_dir(const char *path, char *why, size_t len)
{
	char dir[4096];
	struct stat sb;

	dir_of(path, dir, sizeof(dir));
	if (stat(dir, &sb) != 0) {
		snprintf(why, len, "directory %s: %s", dir, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(sb.st_mode)) {
		snprintf(why, len, "%s is not a directory", dir);
		return -1;
	}
	if (sb.st_uid != 0 && sb.st_uid != geteuid()) {
		snprintf(why, len, "directory %s belongs to uid %u (neither root nor us): its owner could replace "
		    "what mxguard writes there", dir, (unsigned)sb.st_uid);
		return -1;
	}
	if (sb.st_mode & (S_IWGRP | S_IWOTH)) {
		if (!(sb.st_mode & S_ISVTX)) {
			snprintf(why, len, "directory %s is writable by others (mode %04o, not sticky): anyone who can "
			    "write there could replace what mxguard writes; use a directory only root can write",
			    dir, (unsigned)(sb.st_mode & 07777));
			return -1;
		}
		snprintf(why, len, "directory %s is writable by others (mode %04o, sticky): they can take names "
		    "in it before mxguard does", dir, (unsigned)(sb.st_mode & 07777));
		return 1;
	}
	return 0;
}

int
sf_check_log_dir(const char *path, char *why, size_t len)
{
	char dir[4096];
	struct stat sb;

	dir_of(path, dir, sizeof(dir));
	if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode))
		return 0;	/* (not there yet: the log is looked for as it is) */
	if (sb.st_uid != 0 && sb.st_uid != geteuid()) {
		snprintf(why, len, "directory %s belongs to uid %u: its owner can plant a file under a rotated name of "
		    "the log, whose lines mxguard would read as the log's (and block whom they name)", dir,
		    (unsigned)sb.st_uid);
		return 1;
	}
	if (sb.st_mode & (S_IWGRP | S_IWOTH)) {
		snprintf(why, len, "directory %s is writable by %s (mode %04o): whoever can write there can plant a "
		    "file under a rotated name of the log, whose lines mxguard would read as the log's (and block whom "
		    "they name)", dir, sb.st_mode & S_IWOTH ? "everyone" : "its group", (unsigned)(sb.st_mode & 07777));
		return 1;
	}
	return 0;
}

int
sf_open_output(const char *path, int flags, mode_t mode, char *why, size_t len)
{
	struct stat sb;
	int fd = open(path, flags | O_WRONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | O_NOCTTY, mode);

	if (fd < 0) {
		int e = errno;

		snprintf(why, len, "%s: %s", path, e == ELOOP ? "is a symbolic link (not followed)" : strerror(e));
		errno = e;
		return -1;
	}
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
		snprintf(why, len, "%s: not a regular file", path);
		close(fd);
		errno = EINVAL;
		return -1;
	}
	/* A regular file: blocking writes, as before. */
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) < 0) {
		snprintf(why, len, "%s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}
