/*
 * atomicfile.h - write a whole file or nothing.
 *
 * The text goes to a new temporary file in the same directory, which is
 * given its owner and mode, written, fsynced and only then renamed over
 * (or, with excl, linked to) the path: a reader, or a crash, sees the
 * old file or the new one, never half of one.
 */
#ifndef SECRETD_ATOMICFILE_H
#define SECRETD_ATOMICFILE_H

#include <stddef.h>
#include <sys/types.h>

/*
 * Write len bytes of text to path with mode, owner uid and group gid
 * (-1: leave as created).  excl: fail (EEXIST) if path exists.  0, or -1
 * with err filled (nothing left behind).
 */
int	atomic_write(const char *path, const char *text, size_t len,
	    mode_t mode, uid_t uid, gid_t gid, int excl, char *err,
	    size_t errlen);

/*
 * Read a regular file of at most max bytes into a NUL-terminated buffer
 * (caller frees).  0, or -1 with errno set (EFBIG when too large).
 */
int	read_small_file(const char *path, size_t max, char **out,
	    size_t *len);

#endif
