/*
 * sandbox.h - the worker's Landlock sandbox: once its files are open, it
 * (and every program it runs) may write only where it writes.
 *
 * Landlock rules are a deny list of what a process may do to the file
 * system, checked by the kernel on top of the file permissions. The
 * worker's list handles every right that changes the file system
 * (writing, truncating, creating, removing, renaming, linking) and allows
 * them only beneath the directories and on the files given — its state,
 * its sockets', maps', reports' and metrics' directories, its events
 * file — so a worker taken over cannot write elsewhere, even where its
 * user could (another daemon's files that `nobody` owns). Reading and
 * running programs stay as the permissions say (feeds, configuration,
 * libraries, postmap). Where the kernel has the scopes (Landlock ABI 6),
 * it may also not signal processes outside its sandbox, nor connect to
 * their abstract Unix sockets.
 */
#ifndef MXG_PRIVSEP_SANDBOX_H
#define MXG_PRIVSEP_SANDBOX_H

#include <stddef.h>

/*
 * Enter it: dirs (writable beneath) and files (writable themselves),
 * NULL entries skipped. The Landlock ABI used (1 or more), 0 if this
 * kernel has no Landlock (nothing done: the caller says so), or -1 with
 * the reason in err. Needs no_new_privs (or CAP_SYS_ADMIN), set by the
 * privilege drop.
 */
int sandbox_enter(const char *const *dirs, int ndirs, const char *const *files, int nfiles, char *err,
    size_t errlen);

#endif
