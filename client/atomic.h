/*
 * atomic.h - writing secrets to the file system so that nobody ever sees
 * a half-written file or half of a set: one file replaced with a
 * renamed temporary (env files, rendered templates), and a whole
 * directory tree swapped in one rename (fetch --dest).
 *
 * Everything new is created next to its target (same file system), with
 * O_NOFOLLOW and O_EXCL, private until complete, fsync'ed, then renamed
 * into place.  A failure before the switch leaves the target untouched
 * and removes what was written.  Nothing here follows a symbolic link
 * inside a tree it writes or removes.  SIGINT, SIGTERM, SIGHUP and
 * SIGQUIT wait while a temporary exists; a temporary a killed writer
 * left next to the target is removed by the next write to it.
 */
#ifndef CLI_ATOMIC_H
#define CLI_ATOMIC_H

#include <stddef.h>
#include <sys/types.h>

#include "client/config.h"

/* Owner to give what is written; -1 leaves that id alone. */
struct cli_owner {
	uid_t	uid;
	gid_t	gid;
};

/* Parse an octal --mode (permission bits only, e.g. 0400, 640). 0/-1. */
int	cli_parse_mode(const char *s, mode_t *out);

/*
 * Parse --owner USER[:GROUP] or :GROUP (names or numbers); USER alone
 * leaves the group alone, as chown(1).  Returns 0, or -1 with *why set.
 */
int	cli_parse_owner(const char *s, struct cli_owner *out, const char **why);

/*
 * Warn (unless -q) when path's directory is not on tmpfs or ramfs: the
 * secrets would be written to storage that survives a power-off.
 */
void	cli_warn_not_tmpfs(const struct cli_config *cfg, const char *path);

/*
 * Replace the file path with len bytes of buf: a temporary
 * ".NAME.tmp-XXXXXX" in the same directory gets mode and owner, the
 * bytes, fsync, then is renamed over path (the directory is fsync'ed).
 * Returns 0 or an exit status after reporting (naming path).
 */
int	cli_atomic_write_file(const char *path, const void *buf, size_t len,
	    mode_t mode, const struct cli_owner *owner);

/* One file of a tree: its path below the tree's top and its content. */
struct cli_tree_file {
	char		**names;	/* safe names (cli_safe_name) */
	int		  n;		/* > 0 */
	const unsigned char *val;
	size_t		  len;
};

/* 1 if name can be a file name in a written tree: not "", ".", "..",
 * no '/'.  (Names from the server have no NUL or control characters.) */
int	cli_safe_name(const char *name);

/*
 * Make the directory dir hold exactly files (plus, unless prune, what it
 * held before that the new set does not replace), switching all at once:
 * the tree is built in a new sibling "DIR.new-XXXXXX", files with mode
 * fmode, directories with 0700 plus r-x for the classes fmode lets read
 * (0400 -> 0700, 0440 -> 0750, 0444 -> 0755), both given owner; then it
 * is exchanged with dir by renameat2(RENAME_EXCHANGE) (or renamed to dir
 * if there was none), and the old tree is removed.  Without prune,
 * entries of the old tree whose path the new set does not use are
 * carried over first, as hard links (modes and owners kept).  files must
 * be sorted and free of conflicts (no path equal to, or below, another).
 * *kept counts the entries carried over.  Returns 0 or an exit status
 * after reporting.
 */
int	cli_atomic_write_tree(const struct cli_config *cfg, const char *dir,
	    const struct cli_tree_file *files, size_t nfiles, mode_t fmode,
	    const struct cli_owner *owner, int prune, size_t *kept);

#endif
