/*
 * safefile.h - output files created so that a local user cannot redirect
 * them: mxguard runs as root and writes map files, their temporaries and
 * the events file, often in directories the MTA shares.
 *
 * The rules (docs/ARCHITECTURE.md, "Files mxguard writes"): the directory
 * of an output file must not be writable by others unless it is sticky
 * (then a warning: others can still squat names in it) and must belong to
 * root or to us; a file is opened with O_NOFOLLOW (a planted symlink is
 * never followed) and O_NONBLOCK (a planted FIFO cannot hang us), and must
 * be a regular file; temporaries are created with O_EXCL, or inside a
 * private directory made by mkdtemp().
 */
#ifndef MXG_SAFEFILE_H
#define MXG_SAFEFILE_H

#include <stddef.h>
#include <sys/types.h>

/*
 * The directory that holds path: 0 safe; 1 usable, with a warning in why
 * (sticky and writable by others); -1 refused, the reason in why.
 */
int sf_check_dir(const char *path, char *why, size_t len);
/*
 * The directory of a log the daemon reads (as root): 1 with a warning in
 * why if someone else than root can write there (its owner, its group,
 * everyone): a file planted there under a rotated log's name is read as
 * the log. 0 otherwise (or if it does not exist yet).
 */
int sf_check_log_dir(const char *path, char *why, size_t len);

/*
 * Open path for writing (flags: O_CREAT, O_EXCL, O_TRUNC, O_APPEND as
 * wanted; O_WRONLY, O_NOFOLLOW, O_CLOEXEC are added), a regular file
 * only. The descriptor, blocking; or -1 with errno and a reason in why.
 */
int sf_open_output(const char *path, int flags, mode_t mode, char *why, size_t len);

#endif
