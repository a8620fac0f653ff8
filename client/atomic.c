/*
 * atomic.c - atomic replacement of a file or a directory tree of secrets
 * (atomic.h).
 *
 * All work is relative to directory descriptors opened with O_NOFOLLOW,
 * so a symbolic link planted inside a tree can neither redirect a write
 * nor make the removal of an old tree delete something outside it.  The
 * old tree is unlinked, not overwritten: a reader may still hold one of
 * its files open and must read the complete old value, never zeros (on
 * tmpfs the memory goes when the last reader closes the file).
 *
 * Nothing is left behind: SIGINT, SIGTERM, SIGHUP and SIGQUIT wait
 * while a temporary exists (they end the process once the target is
 * whole again, old or new), and a temporary that a killed writer left
 * (SIGKILL, a crash, a power cut) is removed by the next write next to
 * it.  A writer holds a flock on its temporary (and on the old tree it
 * removes) while it works, so that only an unlocked one, unmodified for
 * STALE_SECS, counts as left over.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/magic.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "err.h"
#include "xmalloc.h"

#include "client/atomic.h"
#include "client/output.h"

#define MAX_TREE_DEPTH	64	/* old trees may be deeper than 32 */
#define SUFFIX_LEN	6
#define STALE_SECS	60	/* an unlocked temporary this old is left over */
#define SYNC_BATCH	64	/* written files open at once, awaiting fsync */

int
cli_parse_mode(const char *s, mode_t *out)
{
	unsigned long v = 0;
	size_t i, n = strlen(s);

	if (n == 0 || n > 4)
		return -1;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '7')
			return -1;
		v = v * 8 + (unsigned long)(s[i] - '0');
	}
	if (v > 0777)
		return -1;	/* no set-id or sticky bits on secrets */
	*out = (mode_t)v;
	return 0;
}

static int
all_digits(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s != '\0'; s++)
		if (*s < '0' || *s > '9')
			return 0;
	return 1;
}

int
cli_parse_owner(const char *s, struct cli_owner *out, const char **why)
{
	const char *colon = strchr(s, ':');
	char *user = colon != NULL ? xstrndup(s, (size_t)(colon - s)) :
	    xstrdup(s);
	const char *group = colon != NULL ? colon + 1 : NULL;
	struct passwd *pw = NULL;
	struct group *gr;
	unsigned long v;
	int r = -1;

	out->uid = (uid_t)-1;
	out->gid = (gid_t)-1;
	if (user[0] == '\0' && (group == NULL || group[0] == '\0')) {
		*why = "empty owner";
		goto out;
	}
	if (user[0] != '\0') {
		if (all_digits(user) && (v = strtoul(user, NULL, 10)) <
		    (unsigned long)(uid_t)-1)
			out->uid = (uid_t)v;
		else if ((pw = getpwnam(user)) != NULL)
			out->uid = pw->pw_uid;
		else {
			*why = "no such user";
			goto out;
		}
	}
	if (group != NULL && group[0] == '\0') {
		/* "USER:": the user's login group, as chown(1) */
		if (pw == NULL && (pw = getpwuid(out->uid)) == NULL) {
			*why = "no login group known for that user";
			goto out;
		}
		out->gid = pw->pw_gid;
	} else if (group != NULL) {
		if (all_digits(group) && (v = strtoul(group, NULL, 10)) <
		    (unsigned long)(gid_t)-1)
			out->gid = (gid_t)v;
		else if ((gr = getgrnam(group)) != NULL)
			out->gid = gr->gr_gid;
		else {
			*why = "no such group";
			goto out;
		}
	}
	r = 0;
 out:
	free(user);
	return r;
}

/*
 * Split path into its directory (malloc'ed; "." when there is none) and
 * its last name (pointing into path, trailing slashes cut by the caller).
 */
static char *
split(const char *path, const char **base)
{
	const char *slash = strrchr(path, '/');

	if (slash == NULL) {
		*base = path;
		return xstrdup(".");
	}
	*base = slash + 1;
	if (slash == path)
		return xstrdup("/");
	return xstrndup(path, (size_t)(slash - path));
}

void
cli_warn_not_tmpfs(const struct cli_config *cfg, const char *path)
{
	const char *base;
	char *dir = split(path, &base);
	struct statfs sfs;

	if (statfs(dir, &sfs) == 0 && (unsigned long)sfs.f_type !=
	    (unsigned long)TMPFS_MAGIC && (unsigned long)sfs.f_type !=
	    (unsigned long)RAMFS_MAGIC)
		cli_warn(cfg, "%s is not on tmpfs or ramfs: the secrets will "
		    "be on storage that outlives a reboot", path);
	free(dir);
}

/* NAME + tag + SUFFIX_LEN random characters, created by make(). */
static char *
unique_name(const char *prefix, const char *base, const char *tag)
{
	static const char chars[] = "abcdefghijklmnopqrstuvwxyz0123456789";
	char suffix[SUFFIX_LEN + 1];
	int i;

	for (i = 0; i < SUFFIX_LEN; i++)
		suffix[i] = chars[randombytes_uniform(sizeof(chars) - 1)];
	suffix[SUFFIX_LEN] = '\0';
	/* Keep within NAME_MAX (255) whatever the base. */
	return xasprintf("%s%.200s%s%s", prefix, base, tag, suffix);
}

static int
set_owner_mode(int fd, mode_t mode, const struct cli_owner *owner)
{
	if (owner != NULL && (owner->uid != (uid_t)-1 ||
	    owner->gid != (gid_t)-1) && fchown(fd, owner->uid, owner->gid) != 0)
		return -1;
	return fchmod(fd, mode);
}

int
cli_safe_name(const char *name)
{
	return name[0] != '\0' && strcmp(name, ".") != 0 &&
	    strcmp(name, "..") != 0 && strchr(name, '/') == NULL;
}

/* The names of the entries of directory fd, but . and .. (NULL-ended). */
static char **
list_dir(int fd, int *err)
{
	char **names = NULL;
	size_t n = 0;
	struct dirent *de;
	DIR *d;
	int dfd;

	*err = 0;
	if ((dfd = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 ||
	    (d = fdopendir(dfd)) == NULL) {
		*err = errno;
		if (dfd >= 0)
			close(dfd);
		return NULL;
	}
	names = xcalloc(1, sizeof(char *));
	while ((errno = 0, de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		names = xreallocarray(names, n + 2, sizeof(char *));
		names[n++] = xstrdup(de->d_name);
		names[n] = NULL;
	}
	if (errno != 0)
		*err = errno;
	closedir(d);
	return names;
}

static void
free_names(char **names)
{
	size_t i;

	for (i = 0; names != NULL && names[i] != NULL; i++)
		free(names[i]);
	free(names);
}

/* Remove name (in directory pfd) and, if a directory, all below it. */
static int
remove_tree(int pfd, const char *name, int depth)
{
	struct stat st;
	char **names;
	size_t i;
	int fd, err, r = 0;

	if (fstatat(pfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISDIR(st.st_mode))
		return unlinkat(pfd, name, 0);
	if (depth > MAX_TREE_DEPTH) {
		errno = ELOOP;
		return -1;
	}
	if ((fd = openat(pfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) < 0)
		return -1;
	names = list_dir(fd, &err);
	for (i = 0; names != NULL && names[i] != NULL; i++)
		if (remove_tree(fd, names[i], depth + 1) != 0)
			r = -1;
	free_names(names);
	close(fd);
	if (err != 0) {
		errno = err;
		return -1;
	}
	if (r != 0)
		return -1;
	return unlinkat(pfd, name, AT_REMOVEDIR);
}

/* The signals that wait while a temporary exists (atomic.h). */
static void
hold_signals(sigset_t *old)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGQUIT);
	(void)sigprocmask(SIG_BLOCK, &set, old);
}

/* Let them in again: a pending one ends the process here. */
static void
release_signals(const sigset_t *old)
{
	(void)sigprocmask(SIG_SETMASK, old, NULL);
}

/* 1 if name is prefix + base (as unique_name cuts it) + tag + a suffix. */
static int
is_temp_name(const char *name, const char *prefix, const char *base,
    const char *tag)
{
	size_t lp = strlen(prefix), lb = strnlen(base, 200), lt = strlen(tag);
	size_t i;

	if (strlen(name) != lp + lb + lt + SUFFIX_LEN ||
	    strncmp(name, prefix, lp) != 0 ||
	    strncmp(name + lp, base, lb) != 0 ||
	    strncmp(name + lp + lb, tag, lt) != 0)
		return 0;
	for (i = lp + lb + lt; name[i] != '\0'; i++)
		if (!((name[i] >= 'a' && name[i] <= 'z') ||
		    (name[i] >= '0' && name[i] <= '9')))
			return 0;
	return 1;
}

/*
 * Remove the temporaries named prefix + base + tag + suffix in directory
 * pfd that a killed writer left: of the type asked (a directory tree or
 * a regular file), unmodified for STALE_SECS and not locked by a writer
 * at work.  Each one removed is named in a warning when cfg is given.
 */
static void
sweep_stale(int pfd, const char *prefix, const char *base, const char *tag,
    int want_dir, const struct cli_config *cfg)
{
	struct stat st;
	char **names;
	size_t i;
	int fd, err;
	time_t now = time(NULL);

	names = list_dir(pfd, &err);
	for (i = 0; names != NULL && names[i] != NULL; i++) {
		if (!is_temp_name(names[i], prefix, base, tag) ||
		    fstatat(pfd, names[i], &st, AT_SYMLINK_NOFOLLOW) != 0 ||
		    (want_dir ? !S_ISDIR(st.st_mode) : !S_ISREG(st.st_mode)) ||
		    st.st_mtime > now - STALE_SECS)
			continue;
		if ((fd = openat(pfd, names[i], O_RDONLY | O_NOFOLLOW |
		    O_NONBLOCK | O_CLOEXEC | (want_dir ? O_DIRECTORY : 0))) < 0)
			continue;
		if (flock(fd, LOCK_EX | LOCK_NB) == 0 &&
		    remove_tree(pfd, names[i], 0) == 0 && cfg != NULL)
			cli_warn(cfg, "removed %s, left by an interrupted "
			    "write", names[i]);
		close(fd);
	}
	free_names(names);
}

/* fsync every directory of the tree at fd (sync_written did the files). */
static int
sync_tree(int fd, int depth)
{
	struct stat st;
	char **names;
	size_t i;
	int sub, err, r = 0;

	if (depth > MAX_TREE_DEPTH) {
		errno = ELOOP;
		return -1;
	}
	names = list_dir(fd, &err);
	for (i = 0; names != NULL && names[i] != NULL && r == 0; i++) {
		if (fstatat(fd, names[i], &st, AT_SYMLINK_NOFOLLOW) != 0 ||
		    !S_ISDIR(st.st_mode))
			continue;
		if ((sub = openat(fd, names[i], O_RDONLY | O_DIRECTORY |
		    O_NOFOLLOW | O_CLOEXEC)) < 0) {
			r = -1;
			break;
		}
		r = sync_tree(sub, depth + 1);
		close(sub);
	}
	free_names(names);
	if (err != 0) {
		errno = err;
		return -1;
	}
	return r != 0 ? r : fsync(fd);
}

static mode_t
dir_mode(mode_t fmode)
{
	return 0700 | ((fmode & 0040) ? 0050 : 0) | ((fmode & 0004) ? 0005 : 0);
}

/*
 * A context for building one tree, with the path of the error (if any).
 * Written files stay open until a batch of them is synced (sync_written):
 * their writeback is started as each is written, so the disk works on
 * all of them at once and each fsync finds little left to wait for.
 */
struct build {
	const struct cli_config	*cfg;
	const char		*dir;		/* DIR as given */
	mode_t			 fmode, dmode;
	const struct cli_owner	*owner;
	char			 where[4096];	/* path below DIR of a failure */
	const char		*what;
	size_t			 kept;
	int			 unsynced[SYNC_BATCH];
	const struct cli_tree_file *unsynced_file[SYNC_BATCH];
	int			 n_unsynced;
};

static void
set_where(struct build *b, char *const *names, int n, const char *what)
{
	size_t o = 0;
	int i;

	b->where[0] = '\0';
	for (i = 0; i < n && o < sizeof(b->where); i++)
		o += (size_t)snprintf(b->where + o, sizeof(b->where) - o,
		    "%s%s", i > 0 ? "/" : "", names[i]);
	b->what = what;
}

/* Directory names[0..n-1] below top: opened, created (mode, owner) if new. */
static int
open_subdir(struct build *b, int top, char *const *names, int n)
{
	int cur = top, next, i;

	for (i = 0; i < n; i++) {
		if (mkdirat(cur, names[i], 0700) == 0) {
			next = openat(cur, names[i], O_RDONLY | O_DIRECTORY |
			    O_NOFOLLOW | O_CLOEXEC);
			if (next >= 0 && set_owner_mode(next, b->dmode,
			    b->owner) != 0) {
				close(next);
				next = -1;
			}
		} else if (errno == EEXIST)
			next = openat(cur, names[i], O_RDONLY | O_DIRECTORY |
			    O_NOFOLLOW | O_CLOEXEC);
		else
			next = -1;
		if (next < 0) {
			set_where(b, names, i + 1, "create directory");
			if (cur != top)
				close(cur);
			return -1;
		}
		if (cur != top)
			close(cur);
		cur = next;
	}
	return cur;
}

/* fsync and close the files written since the last call. */
static int
sync_written(struct build *b)
{
	int i, e, saved = 0;

	for (i = 0; i < b->n_unsynced; i++) {
		e = 0;
		if (saved == 0 && fsync(b->unsynced[i]) != 0)
			e = errno;
		if (close(b->unsynced[i]) != 0 && e == 0)
			e = errno;
		if (e != 0 && saved == 0) {
			saved = e;
			set_where(b, b->unsynced_file[i]->names,
			    b->unsynced_file[i]->n, "write");
		}
	}
	b->n_unsynced = 0;
	errno = saved;
	return saved != 0 ? -1 : 0;
}

static int
write_one(struct build *b, int top, const struct cli_tree_file *f)
{
	int dfd, fd, saved;

	if ((dfd = open_subdir(b, top, f->names, f->n - 1)) < 0)
		return -1;
	fd = openat(dfd, f->names[f->n - 1], O_WRONLY | O_CREAT | O_EXCL |
	    O_NOFOLLOW | O_NOCTTY | O_CLOEXEC, 0600);
	saved = errno;
	if (dfd != top)
		close(dfd);
	set_where(b, f->names, f->n, "write");
	if (fd < 0) {
		errno = saved;
		return -1;
	}
	if (cli_write_all(fd, f->val, f->len) != 0)
		goto fail;
	b->what = "set the owner and mode of";
	if (set_owner_mode(fd, b->fmode, b->owner) != 0)
		goto fail;
	/* start the writeback now; sync_written waits for it */
	(void)sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WRITE);
	b->unsynced[b->n_unsynced] = fd;
	b->unsynced_file[b->n_unsynced++] = f;
	return b->n_unsynced == SYNC_BATCH ? sync_written(b) : 0;
 fail:
	saved = errno;
	close(fd);
	errno = saved;
	return -1;
}

/*
 * Carry the entries of the old tree at ofd over into the new one at nfd
 * (same relative place), where the new set does not use their name.
 */
static int
carry_over(struct build *b, int ofd, int nfd, char **rel, int depth)
{
	struct stat ost, nst;
	char **names;
	size_t i;
	int err, osub, nsub, r = 0, have;

	if (depth >= MAX_TREE_DEPTH) {
		set_where(b, rel, depth, "carry over");
		errno = ELOOP;
		return -1;
	}
	names = list_dir(ofd, &err);
	for (i = 0; names != NULL && names[i] != NULL && r == 0; i++) {
		rel[depth] = names[i];
		if (fstatat(ofd, names[i], &ost, AT_SYMLINK_NOFOLLOW) != 0) {
			if (errno == ENOENT)
				continue;
			set_where(b, rel, depth + 1, "carry over");
			r = -1;
			break;
		}
		have = fstatat(nfd, names[i], &nst, AT_SYMLINK_NOFOLLOW) == 0;
		if (!S_ISDIR(ost.st_mode)) {
			if (have)
				continue;	/* the new set wins */
			if (linkat(ofd, names[i], nfd, names[i], 0) != 0) {
				set_where(b, rel, depth + 1, "carry over");
				r = -1;
			} else
				b->kept++;
			continue;
		}
		if (have && !S_ISDIR(nst.st_mode))
			continue;		/* a new file took the name */
		if (!have && mkdirat(nfd, names[i], 0700) != 0) {
			set_where(b, rel, depth + 1, "carry over");
			r = -1;
			break;
		}
		osub = openat(ofd, names[i], O_RDONLY | O_DIRECTORY |
		    O_NOFOLLOW | O_CLOEXEC);
		nsub = openat(nfd, names[i], O_RDONLY | O_DIRECTORY |
		    O_NOFOLLOW | O_CLOEXEC);
		if (osub < 0 || nsub < 0 || (!have &&
		    (fchown(nsub, ost.st_uid, ost.st_gid) != 0 ||
		    fchmod(nsub, ost.st_mode & 07777) != 0))) {
			set_where(b, rel, depth + 1, "carry over");
			r = -1;
		} else
			r = carry_over(b, osub, nsub, rel, depth + 1);
		if (osub >= 0)
			close(osub);
		if (nsub >= 0)
			close(nsub);
	}
	free_names(names);
	if (r == 0 && err != 0) {
		set_where(b, rel, depth, "carry over");
		errno = err;
		r = -1;
	}
	return r;
}

/*
 * Whether base (a directory in pfd, stat st) is a mount point.  The set
 * is switched in by renaming DIR, which the kernel refuses for a mount
 * point (EBUSY); and the new set would be built next to DIR, on the
 * parent's file system (a disk, perhaps), before that rename failed.
 * statx tells a mount root apart even for a bind mount of the same file
 * system; without it, a device differing from the parent's tells.
 */
static int
is_mount_point(int pfd, const char *base, const struct stat *st)
{
	struct statx stx;
	struct stat pst;

	if (statx(pfd, base, AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS,
	    &stx) == 0 && (stx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT))
		return (stx.stx_attributes & STATX_ATTR_MOUNT_ROOT) != 0;
	return fstat(pfd, &pst) == 0 && pst.st_dev != st->st_dev;
}

/* The error for a DIR that is a mount point, saying what to do instead. */
static int
mount_point_error(const char *dir)
{
	return cli_err(SD_EBADREQ, "%s is a mount point: the set is switched "
	    "in by renaming %s, which a mount point cannot be; mount the "
	    "tmpfs on its parent (e.g. /run/secrets) and fetch into a "
	    "directory below it (--dest /run/secrets/app); nothing written",
	    dir, dir);
}

/* Put the new tree (newname) in place of base; *old_at: where the old is. */
static int
swap_in(const struct build *b, int pfd, const char *base,
    const char *newname, int had_old, char **old_at)
{
	char *aside = NULL;
	int i;

	*old_at = NULL;
	if (!had_old) {
		if (renameat2(pfd, newname, pfd, base, RENAME_NOREPLACE) == 0)
			return 0;
		if (errno == EINVAL || errno == ENOSYS)
			return renameat(pfd, newname, pfd, base);
		if (errno != EEXIST && errno != ENOTEMPTY)
			return -1;
		/* DIR appeared meanwhile: replace it as below. */
	}
	if (renameat2(pfd, newname, pfd, base, RENAME_EXCHANGE) == 0) {
		*old_at = xstrdup(newname);
		return 0;
	}
	if (errno != EINVAL && errno != ENOSYS)
		return -1;
	/* No RENAME_EXCHANGE on this file system: two renames. */
	cli_warn(b->cfg, "the file system of %s cannot exchange directories; "
	    "switching with two renames (readers may briefly find no %s)",
	    b->dir, b->dir);
	for (i = 0; i < 100; i++) {
		aside = unique_name("", base, ".old-");
		if (renameat2(pfd, base, pfd, aside, RENAME_NOREPLACE) == 0 ||
		    (errno != EEXIST && renameat(pfd, base, pfd, aside) == 0))
			break;
		free(aside);
		aside = NULL;
		if (errno != EEXIST)
			return -1;
	}
	if (aside == NULL)
		return -1;
	if (renameat(pfd, newname, pfd, base) != 0) {
		i = errno;
		(void)renameat(pfd, aside, pfd, base);
		free(aside);
		errno = i;
		return -1;
	}
	*old_at = aside;
	return 0;
}

int
cli_atomic_write_file(const char *path, const void *buf, size_t len,
    mode_t mode, const struct cli_owner *owner)
{
	const char *base, *what = "create a temporary file for";
	char *dir = split(path, &base), *tmp = NULL;
	struct stat st;
	sigset_t held;
	int pfd, fd = -1, i, saved, created = 0, st_exit;

	if (base[0] == '\0' || strcmp(base, ".") == 0 ||
	    strcmp(base, "..") == 0) {
		free(dir);
		return cli_err(SD_EBADREQ, "%s is not a file name", path);
	}
	if ((pfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		saved = errno;
		st_exit = cli_err(SD_EBADREQ, "cannot open directory %s: %s",
		    dir, strerror(saved));
		free(dir);
		return st_exit;
	}
	free(dir);
	if (fstatat(pfd, base, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISDIR(st.st_mode)) {
		close(pfd);
		return cli_err(SD_EBADREQ, "%s is a directory", path);
	}
	sweep_stale(pfd, ".", base, ".tmp-", 0, NULL);
	hold_signals(&held);
	for (i = 0; i < 100; i++) {
		free(tmp);
		tmp = unique_name(".", base, ".tmp-");
		fd = openat(pfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
		    O_NOCTTY | O_CLOEXEC, 0600);
		if (fd >= 0 || errno != EEXIST)
			break;
	}
	if (fd < 0)
		goto fail;
	created = 1;
	(void)flock(fd, LOCK_EX);	/* at work: not left over */
	what = "write";
	if (cli_write_all(fd, buf, len) != 0)
		goto fail;
	what = "set the owner and mode of";
	if (set_owner_mode(fd, mode, owner) != 0)
		goto fail;
	what = "write";
	if (fsync(fd) != 0)
		goto fail;
	i = close(fd);
	fd = -1;
	if (i != 0)
		goto fail;
	what = "replace";
	if (renameat(pfd, tmp, pfd, base) != 0)
		goto fail;
	(void)fsync(pfd);
	close(pfd);
	free(tmp);
	release_signals(&held);
	return 0;
 fail:
	saved = errno;
	if (fd >= 0)
		close(fd);
	if (created)
		(void)unlinkat(pfd, tmp, 0);
	close(pfd);
	free(tmp);
	st_exit = cli_err(SD_EBADREQ, "cannot %s %s: %s", what, path,
	    strerror(saved));
	release_signals(&held);
	return st_exit;
}

int
cli_atomic_write_tree(const struct cli_config *cfg, const char *dir,
    const struct cli_tree_file *files, size_t nfiles, mode_t fmode,
    const struct cli_owner *owner, int prune, size_t *kept)
{
	struct build b = { 0 };
	struct stat st;
	char *path, *parent = NULL, *newname = NULL, *old_at = NULL;
	char *rel[MAX_TREE_DEPTH + 1];
	const char *base;
	size_t len, i;
	int pfd = -1, nfd = -1, ofd = -1, lfd = -1, had_old, saved, st_exit;
	int k, signals_held = 0;
	sigset_t held;

	*kept = 0;
	b.cfg = cfg;
	b.dir = dir;
	b.fmode = fmode;
	b.dmode = dir_mode(fmode);
	b.owner = owner;

	/* DIR without trailing slashes; its parent and last name. */
	path = xstrdup(dir);
	len = strlen(path);
	while (len > 1 && path[len - 1] == '/')
		path[--len] = '\0';
	parent = split(path, &base);
	if (base[0] == '\0' || strcmp(base, ".") == 0 ||
	    strcmp(base, "..") == 0) {
		st_exit = cli_err(SD_EBADREQ, "--dest %s: name the directory "
		    "itself (not /, . or ..)", dir);
		goto out;
	}
	if ((pfd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		st_exit = cli_err(SD_EBADREQ, "cannot open directory %s: %s",
		    parent, strerror(errno));
		goto out;
	}
	had_old = fstatat(pfd, base, &st, AT_SYMLINK_NOFOLLOW) == 0;
	if (!had_old && errno != ENOENT) {
		st_exit = cli_err(SD_EBADREQ, "cannot look at %s: %s", dir,
		    strerror(errno));
		goto out;
	}
	if (had_old && S_ISLNK(st.st_mode)) {
		st_exit = cli_err(SD_EBADREQ, "%s is a symbolic link; refusing "
		    "to replace it (give the real directory)", dir);
		goto out;
	}
	if (had_old && !S_ISDIR(st.st_mode)) {
		st_exit = cli_err(SD_EBADREQ, "%s exists and is not a "
		    "directory", dir);
		goto out;
	}
	if (had_old && is_mount_point(pfd, base, &st)) {
		st_exit = mount_point_error(dir);
		goto out;
	}

	sweep_stale(pfd, "", base, ".new-", 1, cfg);
	sweep_stale(pfd, "", base, ".old-", 1, cfg);

	/* Build the new tree next to DIR. */
	hold_signals(&held);
	signals_held = 1;
	for (k = 0; k < 100; k++) {
		free(newname);
		newname = unique_name("", base, ".new-");
		if (mkdirat(pfd, newname, 0700) == 0 || errno != EEXIST)
			break;
	}
	if ((nfd = openat(pfd, newname, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) < 0) {
		st_exit = cli_err(SD_EBADREQ, "cannot create a directory next "
		    "to %s: %s", dir, strerror(errno));
		free(newname);
		newname = NULL;
		goto out;
	}
	(void)flock(nfd, LOCK_EX);	/* at work: not left over */
	for (i = 0; i < nfiles; i++)
		if (write_one(&b, nfd, &files[i]) != 0)
			goto fail;
	if (sync_written(&b) != 0)
		goto fail;
	if (!prune && had_old) {
		if ((ofd = openat(pfd, base, O_RDONLY | O_DIRECTORY |
		    O_NOFOLLOW | O_CLOEXEC)) < 0) {
			b.what = "read";
			b.where[0] = '\0';
			goto fail;
		}
		if (carry_over(&b, ofd, nfd, rel, 0) != 0)
			goto fail;
		close(ofd);
		ofd = -1;
	}
	/* Only now may the owner reach into the tree. */
	b.what = "set the owner and mode of";
	b.where[0] = '\0';
	if (set_owner_mode(nfd, b.dmode, owner) != 0)
		goto fail;
	b.what = "sync";
	if (sync_tree(nfd, 0) != 0)
		goto fail;

	/* The switch.  The old set is locked too, as it is removed. */
	if (had_old && (lfd = openat(pfd, base, O_RDONLY | O_DIRECTORY |
	    O_NOFOLLOW | O_CLOEXEC)) >= 0)
		(void)flock(lfd, LOCK_EX | LOCK_NB);
	b.what = "switch to the new";
	if (swap_in(&b, pfd, base, newname, had_old, &old_at) != 0) {
		/* A mount made on DIR since the check above. */
		if (errno == EXDEV || errno == EBUSY) {
			(void)remove_tree(pfd, newname, 0);
			st_exit = mount_point_error(dir);
			goto out;
		}
		goto fail;
	}
	(void)fsync(pfd);
	if (old_at != NULL && remove_tree(pfd, old_at, 0) != 0)
		cli_warn(cfg, "switched %s, but could not remove the previous "
		    "set, left in %s/%s: %s", dir, parent, old_at,
		    strerror(errno));
	*kept = b.kept;
	st_exit = 0;
	goto out;

 fail:
	saved = errno;
	for (k = 0; k < b.n_unsynced; k++)
		close(b.unsynced[k]);
	b.n_unsynced = 0;
	if (ofd >= 0)
		close(ofd);
	ofd = -1;
	(void)remove_tree(pfd, newname, 0);
	if (b.where[0] != '\0')
		st_exit = cli_err(SD_EBADREQ, "cannot %s %s/%s: %s; %s is "
		    "unchanged", b.what, dir, b.where, strerror(saved), dir);
	else
		st_exit = cli_err(SD_EBADREQ, "cannot %s %s: %s; it is "
		    "unchanged", b.what, dir, strerror(saved));
 out:
	if (ofd >= 0)
		close(ofd);
	if (nfd >= 0)
		close(nfd);
	if (lfd >= 0)
		close(lfd);
	if (pfd >= 0)
		close(pfd);
	free(old_at);
	free(newname);
	free(parent);
	free(path);
	if (signals_held)
		release_signals(&held);
	return st_exit;
}
