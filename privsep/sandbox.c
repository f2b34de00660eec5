/*
 * sandbox.c - the worker's Landlock sandbox (see sandbox.h).
 */
#include "sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/landlock.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

/* What Debian 12's kernel headers (6.1) do not name yet: later rights and the ruleset's later fields. */
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE (1ULL << 14)
#endif
#define SCOPE_ABSTRACT_UNIX_SOCKET (1ULL << 0)
#define SCOPE_SIGNAL (1ULL << 1)

/* The ruleset's attributes as of ABI 6; older kernels are given the prefix they know. */
struct ruleset_attr {
	uint64_t handled_access_fs;
	uint64_t handled_access_net;	/* ABI 4 */
	uint64_t scoped;		/* ABI 6 */
};

/* Rights on a file itself (a path_beneath rule on a file may hold only these). */
#define FILE_WRITE (LANDLOCK_ACCESS_FS_WRITE_FILE)

static int
add_rule(int ruleset, const char *path, uint64_t rights, char *err, size_t errlen)
{
	struct landlock_path_beneath_attr pb = { .allowed_access = rights };
	int rc;

	if ((pb.parent_fd = open(path, O_PATH | O_CLOEXEC)) < 0) {
		snprintf(err, errlen, "sandbox: %s: %s", path, strerror(errno));
		return -1;
	}
	rc = (int)syscall(SYS_landlock_add_rule, ruleset, LANDLOCK_RULE_PATH_BENEATH, &pb, 0);
	if (rc != 0)
		snprintf(err, errlen, "sandbox: a rule for %s: %s", path, strerror(errno));
	close(pb.parent_fd);
	return rc;
}

int
sandbox_enter(const char *const *dirs, int ndirs, const char *const *files, int nfiles, char *err, size_t errlen)
{
	long abi = syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
	struct ruleset_attr attr = { 0 };
	uint64_t dir_rights;
	size_t attr_size = sizeof(attr.handled_access_fs);
	int ruleset;

	if (abi < 1)
		return errno == ENOSYS || errno == EOPNOTSUPP ? 0 : (snprintf(err, errlen, "sandbox: landlock: %s",
		    strerror(errno)), -1);
	dir_rights = LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_REMOVE_DIR | LANDLOCK_ACCESS_FS_REMOVE_FILE |
	    LANDLOCK_ACCESS_FS_MAKE_CHAR | LANDLOCK_ACCESS_FS_MAKE_DIR | LANDLOCK_ACCESS_FS_MAKE_REG |
	    LANDLOCK_ACCESS_FS_MAKE_SOCK | LANDLOCK_ACCESS_FS_MAKE_FIFO | LANDLOCK_ACCESS_FS_MAKE_BLOCK |
	    LANDLOCK_ACCESS_FS_MAKE_SYM;
	if (abi >= 2)
		dir_rights |= LANDLOCK_ACCESS_FS_REFER;		/* renames from a private temporary directory */
	if (abi >= 3)
		dir_rights |= LANDLOCK_ACCESS_FS_TRUNCATE;
	attr.handled_access_fs = dir_rights;
	if (abi >= 6) {
		attr.scoped = SCOPE_ABSTRACT_UNIX_SOCKET | SCOPE_SIGNAL;
		attr_size = sizeof(attr);
	}
	if ((ruleset = (int)syscall(SYS_landlock_create_ruleset, &attr, attr_size, 0)) < 0) {
		snprintf(err, errlen, "sandbox: landlock ruleset (ABI %ld): %s", abi, strerror(errno));
		return -1;
	}
	for (int i = 0; i < ndirs; i++)
		if (dirs[i] != NULL && add_rule(ruleset, dirs[i], dir_rights, err, errlen) < 0)
			goto fail;
	for (int i = 0; i < nfiles; i++)
		if (files[i] != NULL && add_rule(ruleset, files[i], FILE_WRITE |
		    (abi >= 3 ? LANDLOCK_ACCESS_FS_TRUNCATE : 0), err, errlen) < 0)
			goto fail;
	if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1) {
		snprintf(err, errlen, "sandbox: no_new_privs is not set");
		goto fail;
	}
	if (syscall(SYS_landlock_restrict_self, ruleset, 0) != 0) {
		snprintf(err, errlen, "sandbox: landlock_restrict_self: %s", strerror(errno));
		goto fail;
	}
	close(ruleset);
	return (int)abi;
fail:
	close(ruleset);
	return -1;
}
