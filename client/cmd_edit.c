/*
 * cmd_edit.c - `secret edit PATH`: the current value into a private file,
 * $VISUAL or $EDITOR on it, and the result back with check-and-set.
 *
 * The value touches a file system only in a directory of our own (mode
 * 0700, created by mkdtemp) under $XDG_RUNTIME_DIR or on the /dev/shm
 * tmpfs -- never silently on a disk-backed /tmp -- and only while the
 * editor runs.  On every way out (success, editor failure, conflict,
 * SIGINT/SIGTERM/SIGHUP) every file in that directory, the editor's swap
 * and backup files too, is overwritten with zeros, synced and removed,
 * and the directory with them; the in-memory copies are wiped.
 *
 * No SSH session sits idle while the editor runs (secretd closes idle
 * connections): the value is read in one session, which is closed before
 * the editor starts, and written back in a fresh one.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/magic.h>
#include <sodium.h>

#include "err.h"
#include "proto.h"
#include "xmalloc.h"

#include "client/cmd_edit.h"
#include "client/cmd_secret.h"
#include "client/input.h"
#include "client/output.h"

#define EDIT_SHM	"/dev/shm"
#define EDIT_NAME_MAX	64		/* of the file name given the editor */
#define EDIT_KILL_WAIT	100		/* x 100 ms: editor's time to exit */
#define EDIT_WIPE_DEPTH	4		/* subdirectories an editor may make */

/*
 * Signals that end an edit.  The handler only records them; the code
 * checks at each step, cleans up, and then dies of the signal.
 */
static const int edit_sigs[] = { SIGINT, SIGTERM, SIGHUP };
#define EDIT_NSIGS	(sizeof(edit_sigs) / sizeof(edit_sigs[0]))

static volatile sig_atomic_t got_int;	/* SIGINT */
static volatile sig_atomic_t got_sig;	/* SIGTERM or SIGHUP */

struct sigstate {
	struct sigaction old[EDIT_NSIGS];
	int		 caught[EDIT_NSIGS];
};

/* Where the value is while the editor runs. */
struct edit_tmp {
	char	*dir;			/* the private directory */
	int	 dirfd;			/* open on it, -1 when none */
	char	 name[EDIT_NAME_MAX + 1];	/* the file in it */
	char	*file;			/* dir/name */
};

static void
on_signal(int sig)
{
	if (sig == SIGINT)
		got_int = 1;
	else
		got_sig = sig;
}

/*
 * Catch the edit signals, except one ignored on entry (nohup, a
 * background job): that stays ignored.
 */
static void
sig_catch(struct sigstate *s)
{
	struct sigaction sa;
	size_t i;

	got_int = got_sig = 0;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0;		/* no SA_RESTART: waitpid sees EINTR */
	for (i = 0; i < EDIT_NSIGS; i++) {
		s->caught[i] = 0;
		if (sigaction(edit_sigs[i], NULL, &s->old[i]) != 0 ||
		    s->old[i].sa_handler == SIG_IGN)
			continue;
		if (sigaction(edit_sigs[i], &sa, NULL) == 0)
			s->caught[i] = 1;
	}
}

static void
sig_restore(struct sigstate *s)
{
	size_t i;

	for (i = 0; i < EDIT_NSIGS; i++)
		if (s->caught[i])
			sigaction(edit_sigs[i], &s->old[i], NULL);
}

/* Block (how SIG_BLOCK) or unblock (SIG_UNBLOCK) the edit signals. */
static void
sig_mask(int how)
{
	sigset_t set;
	size_t i;

	sigemptyset(&set);
	for (i = 0; i < EDIT_NSIGS; i++)
		sigaddset(&set, edit_sigs[i]);
	sigprocmask(how, &set, NULL);
}

/* The recorded signal that ends the edit, or 0. */
static int
pending_signal(void)
{
	return got_sig != 0 ? got_sig : got_int ? SIGINT : 0;
}

/* Die of sig, as if it had not been caught (the caller cleaned up). */
static int
die_of(int sig)
{
	struct sigaction sa;
	sigset_t set;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	sigemptyset(&sa.sa_mask);
	sigaction(sig, &sa, NULL);
	sigemptyset(&set);
	sigaddset(&set, sig);
	fflush(stdout);
	raise(sig);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	return 128 + sig;		/* not reached */
}

/* ------------------------------------------------------ the directory */

/*
 * Whether dir can hold our private directory: absolute, a directory, not
 * open to others for swapping ours out (writable by others only with the
 * sticky bit), writable by us; for /dev/shm also a memory file system.
 * Else *why says why not.
 */
static int
usable_base(const char *dir, int need_memfs, const char **why)
{
	struct statfs sf;
	struct stat st;

	if (dir[0] != '/') {
		*why = "not an absolute path";
		return 0;
	}
	if (stat(dir, &st) != 0 || (need_memfs && statfs(dir, &sf) != 0)) {
		*why = strerror(errno);
		return 0;
	}
	if (!S_ISDIR(st.st_mode)) {
		*why = "not a directory";
		return 0;
	}
	if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0 &&
	    (st.st_mode & S_ISVTX) == 0) {
		*why = "writable by others without the sticky bit";
		return 0;
	}
	if (access(dir, W_OK | X_OK) != 0) {
		*why = strerror(errno);
		return 0;
	}
	if (need_memfs && sf.f_type != TMPFS_MAGIC &&
	    sf.f_type != RAMFS_MAGIC) {
		*why = "not a memory file system (tmpfs)";
		return 0;
	}
	return 1;
}

/* The base directory: $XDG_RUNTIME_DIR, else /dev/shm, or an error. */
static int
edit_base(const struct cli_config *cfg, const char **base)
{
	const char *xdg = getenv("XDG_RUNTIME_DIR"), *why;

	if (xdg != NULL && xdg[0] != '\0') {
		if (usable_base(xdg, 0, &why)) {
			*base = xdg;
			return 0;
		}
		cli_warn(cfg, "not using $XDG_RUNTIME_DIR (%s): %s", xdg, why);
	}
	if (usable_base(EDIT_SHM, 1, &why)) {
		*base = EDIT_SHM;
		return 0;
	}
	return cli_err(SD_EBADREQ, "no private place in memory for the "
	    "file to edit: %s %s, and %s: %s (set XDG_RUNTIME_DIR to a "
	    "directory of your own on a tmpfs)", "$XDG_RUNTIME_DIR",
	    xdg != NULL && xdg[0] != '\0' ? "is not usable" : "is not set",
	    EDIT_SHM, why);
}

/* The file's name: the secret's own name made safe, for the editor's sake. */
static void
file_name(const json_t *path, char *out)
{
	const json_t *last = json_array_get(path, json_array_size(path) - 1);
	const char *s = json_is_string(last) ? json_string_value(last) : "";
	size_t i, o = 0;
	char c;

	for (i = 0; s[i] != '\0' && o < EDIT_NAME_MAX; i++) {
		c = s[i];
		out[o++] = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '.' || c == '_' ||
		    c == '-' ? c : '_';
	}
	out[o] = '\0';
	if (o == 0 || strcmp(out, ".") == 0 || strcmp(out, "..") == 0)
		strcpy(out, "value");
}

/*
 * Make the private directory under base and the file in it (mode 0600)
 * holding len bytes of val.
 */
static int
tmp_create(struct edit_tmp *t, const char *base, const json_t *path,
    const unsigned char *val, size_t len)
{
	struct stat st;
	int fd;

	t->dir = xasprintf("%s/secret-edit.XXXXXX", base);
	if (mkdtemp(t->dir) == NULL) {
		free(t->dir);
		t->dir = NULL;
		return cli_err(SD_EBADREQ, "cannot create a directory in %s: "
		    "%s", base, strerror(errno));
	}
	/* mkdtemp made it 0700; hold it open, check it is ours. */
	t->dirfd = open(t->dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC);
	if (t->dirfd < 0 || fstat(t->dirfd, &st) != 0 ||
	    st.st_uid != geteuid() || (st.st_mode & 07777) != 0700)
		return cli_err(SD_EINTERNAL, "%s is not the private directory "
		    "just created", t->dir);
	file_name(path, t->name);
	t->file = xasprintf("%s/%s", t->dir, t->name);
	fd = openat(t->dirfd, t->name, O_WRONLY | O_CREAT | O_EXCL |
	    O_NOFOLLOW | O_NOCTTY | O_CLOEXEC, 0600);
	if (fd < 0)
		return cli_err(SD_EINTERNAL, "cannot create %s: %s", t->file,
		    strerror(errno));
	if (fchmod(fd, 0600) != 0 || cli_write_all(fd, val, len) != 0) {
		close(fd);
		return cli_err(SD_EINTERNAL, "cannot write %s: %s", t->file,
		    strerror(errno));
	}
	if (close(fd) != 0)
		return cli_err(SD_EINTERNAL, "cannot write %s: %s", t->file,
		    strerror(errno));
	return 0;
}

/* Overwrite the regular file fd with zeros over its whole length; sync. */
static int
zero_fd(int fd)
{
	static const unsigned char zeros[64 * 1024];
	struct stat st;
	off_t left, off = 0;
	ssize_t n;
	size_t k;

	if (fstat(fd, &st) != 0)
		return -1;
	if (!S_ISREG(st.st_mode))
		return 0;
	for (left = st.st_size; left > 0; left -= n, off += n) {
		k = left > (off_t)sizeof(zeros) ? sizeof(zeros) : (size_t)left;
		if ((n = pwrite(fd, zeros, k, off)) < 0) {
			if (errno == EINTR) {
				n = 0;
				continue;
			}
			return -1;
		}
	}
	return fsync(fd);
}

/* The first failure of wipe_tree(): errno and the name it concerns. */
struct wipe_err {
	int	 err;
	char	 name[256];
};

static void
wipe_fail(struct wipe_err *w, const char *name)
{
	if (w->err != 0)
		return;
	w->err = errno != 0 ? errno : EIO;
	snprintf(w->name, sizeof(w->name), "%s", name);
}

/*
 * Zero and remove everything in the directory dfd: our file, whatever an
 * editor left beside it (swap, backup files), and subdirectories down to
 * depth levels.  The first failure goes to *w (w->err stays 0 if none).
 */
static void
wipe_tree(int dfd, int depth, struct wipe_err *w)
{
	struct dirent *de;
	struct stat st;
	DIR *d;
	int dd, fd, sub, pass, left;

	/* Entries removed while listing may hide others: list again. */
	for (pass = 0; pass < 3; pass++) {
		if ((dd = dup(dfd)) < 0 || (d = fdopendir(dd)) == NULL) {
			wipe_fail(w, ".");
			if (dd >= 0)
				close(dd);
			return;
		}
		rewinddir(d);
		left = 0;
		while ((de = readdir(d)) != NULL) {
			if (strcmp(de->d_name, ".") == 0 ||
			    strcmp(de->d_name, "..") == 0)
				continue;
			left++;
			if (fstatat(dfd, de->d_name, &st,
			    AT_SYMLINK_NOFOLLOW) != 0) {
				wipe_fail(w, de->d_name);
				continue;
			}
			if (S_ISDIR(st.st_mode) && depth > 0) {
				sub = openat(dfd, de->d_name, O_RDONLY |
				    O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
				if (sub >= 0) {
					wipe_tree(sub, depth - 1, w);
					close(sub);
				}
				if (unlinkat(dfd, de->d_name, AT_REMOVEDIR) != 0)
					wipe_fail(w, de->d_name);
				continue;
			}
			if (S_ISREG(st.st_mode)) {
				/* Read-only (an editor kept a mode): still ours. */
				if ((st.st_mode & S_IWUSR) == 0 &&
				    fchmodat(dfd, de->d_name, 0600, 0) != 0)
					wipe_fail(w, de->d_name);
				fd = openat(dfd, de->d_name, O_WRONLY |
				    O_NOFOLLOW | O_NOCTTY | O_NONBLOCK |
				    O_CLOEXEC);
				if (fd < 0 || zero_fd(fd) != 0)
					wipe_fail(w, de->d_name);
				if (fd >= 0)
					close(fd);
			}
			if (unlinkat(dfd, de->d_name, 0) != 0)
				wipe_fail(w, de->d_name);
		}
		closedir(d);
		if (left == 0)
			break;
	}
}

/*
 * Zero and remove the file and everything else in the private directory,
 * then the directory.  Reports a failure (the plaintext may remain).
 * Returns 0 or an exit status.
 */
static int
tmp_remove(struct edit_tmp *t)
{
	struct wipe_err w;
	int st = 0;

	if (t->dir == NULL)
		return 0;
	if (t->dirfd >= 0) {
		memset(&w, 0, sizeof(w));
		errno = 0;
		wipe_tree(t->dirfd, EDIT_WIPE_DEPTH, &w);
		if (w.err != 0)
			st = cli_err(SD_EINTERNAL, "cannot wipe %s/%s: %s; "
			    "remove it by hand", t->dir, w.name,
			    strerror(w.err));
		close(t->dirfd);
		t->dirfd = -1;
	}
	if (rmdir(t->dir) != 0 && st == 0)
		st = cli_err(SD_EINTERNAL, "cannot remove %s: %s; remove it "
		    "by hand", t->dir, strerror(errno));
	free(t->dir);
	free(t->file);
	t->dir = t->file = NULL;
	return st;
}

/* Read the edited file back: at most CLI_MAX_VALUE bytes. */
static int
tmp_read(struct edit_tmp *t, unsigned char **out, size_t *outlen)
{
	unsigned char *buf;
	size_t n = 0;
	ssize_t r;
	int fd, saved;

	*out = NULL;
	*outlen = 0;
	fd = openat(t->dirfd, t->name, O_RDONLY | O_NOFOLLOW | O_NOCTTY |
	    O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return cli_err(SD_EBADREQ, "cannot open %s after editing: %s; "
		    "nothing stored", t->file, strerror(errno));
	buf = xmalloc(CLI_MAX_VALUE + 1);
	for (;;) {
		r = read(fd, buf + n, CLI_MAX_VALUE + 1 - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n += (size_t)r;
		if (n > CLI_MAX_VALUE)
			break;
	}
	saved = errno;
	close(fd);
	if (r < 0 || n > CLI_MAX_VALUE) {
		freezero(buf, CLI_MAX_VALUE + 1);
		if (r < 0)
			return cli_err(SD_EBADREQ, "cannot read %s: %s; "
			    "nothing stored", t->file, strerror(saved));
		return cli_err(SD_ETOOLARGE, "the edited value is larger than "
		    "%d bytes; nothing stored", CLI_MAX_VALUE);
	}
	*out = buf;
	*outlen = n;
	return 0;
}

/* --------------------------------------------------------- the editor */

/*
 * Wait for the editor.  SIGTERM or SIGHUP for us is passed on to it (and
 * SIGKILL follows if it does not exit within 10 s); SIGINT is left to the
 * editor, which got it from the terminal too (vi uses it to cancel a
 * command).  Returns the wait status, or -1.
 */
static int
wait_editor(pid_t pid)
{
	struct timespec tick = { 0, 100 * 1000 * 1000 };
	int status, forwarded = 0, i;
	pid_t r;

	for (;;) {
		if (got_sig != 0 && !forwarded) {
			kill(pid, got_sig);
			forwarded = 1;
			for (i = 0; i < EDIT_KILL_WAIT; i++) {
				if ((r = waitpid(pid, &status, WNOHANG)) == pid)
					return status;
				if (r < 0 && errno != EINTR)
					return -1;
				nanosleep(&tick, NULL);
			}
			kill(pid, SIGKILL);
		}
		if ((r = waitpid(pid, &status, 0)) == pid)
			return status;
		if (r < 0 && errno != EINTR)
			return -1;
	}
}

/*
 * Run $VISUAL, else $EDITOR, else vi on file, and wait.  A variable is
 * run by the shell, "exec $EDITOR \"$1\"", so that "code --wait" works.
 * Returns 0 when it exited with status 0; else reports (exit status), or
 * sets *sig when it died of SIGINT (the caller cleans up and dies of it).
 */
static int
run_editor(struct sigstate *ss, const char *file, int *sig)
{
	const char *var = "VISUAL", *val, *argv[6], *shown;
	int status, err;
	size_t i;
	pid_t pid;

	*sig = 0;
	if ((val = getenv(var)) == NULL || val[0] == '\0') {
		var = "EDITOR";
		val = getenv(var);
	}
	if (val != NULL && val[0] != '\0') {
		argv[0] = "/bin/sh";
		argv[1] = "-c";
		argv[2] = strcmp(var, "VISUAL") == 0 ?
		    "exec $VISUAL \"$1\"" : "exec $EDITOR \"$1\"";
		argv[3] = "sh";
		argv[4] = file;
		argv[5] = NULL;
		shown = val;
	} else {
		argv[0] = "vi";
		argv[1] = file;
		argv[2] = NULL;
		shown = "vi";
	}

	fflush(stdout);
	fflush(stderr);
	sig_mask(SIG_BLOCK);
	if ((pid = fork()) < 0) {
		err = errno;
		sig_mask(SIG_UNBLOCK);
		return cli_err(SD_EINTERNAL, "cannot start the editor: %s",
		    strerror(err));
	}
	if (pid == 0) {
		/* The editor gets the dispositions we were started with. */
		for (i = 0; i < EDIT_NSIGS; i++)
			if (ss->caught[i])
				sigaction(edit_sigs[i], &ss->old[i], NULL);
		sig_mask(SIG_UNBLOCK);
		execvp(argv[0], (char *const *)argv);
		dprintf(STDERR_FILENO, "secret: internal: cannot run %s: %s\n",
		    argv[0], strerror(errno));
		_exit(127);
	}
	sig_mask(SIG_UNBLOCK);
	status = wait_editor(pid);
	if (status == -1)
		return cli_err(SD_EINTERNAL, "waiting for the editor: %s",
		    strerror(errno));
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		got_int = 0;		/* the editor had it, and carried on */
		return 0;
	}
	if (WIFSIGNALED(status) && WTERMSIG(status) == SIGINT) {
		*sig = SIGINT;
		return 0;
	}
	if (got_sig != 0)
		return 0;		/* the caller dies of got_sig */
	if (WIFSIGNALED(status))
		return cli_err(SD_EINTERNAL, "the editor (%s) was killed by "
		    "signal %d; nothing stored", shown, WTERMSIG(status));
	return cli_err(SD_EINTERNAL, "the editor (%s) exited with status %d; "
	    "nothing stored", shown, WEXITSTATUS(status));
}

/* ------------------------------------------------------------ the command */

/*
 * Get the current value and version.  not_found: an empty value and
 * version 0 (then the put creates it, with cas 0).
 */
static int
edit_get(struct cli_ctx *ctx, json_t *path, unsigned char **val,
    size_t *len, long long *version)
{
	json_t *resp, *v;
	const char *why;
	int st, err;

	*val = NULL;
	*len = 0;
	*version = 0;
	if ((st = cli_rpc_request(ctx->rpc, json_pack("{s:s, s:O}", "action",
	    "secret.get", "path", path), &resp, &err)) != 0)
		return st;
	if (err == SD_ENOTFOUND) {
		json_decref(resp);
		*val = xcalloc(1, 1);
		return 0;
	}
	if (err != SD_OK) {
		st = cli_rpc_report(ctx->rpc, resp);
		json_decref(resp);
		return st;
	}
	v = json_object_get(resp, "version");
	if (!json_is_integer(v) || json_integer_value(v) < 1) {
		json_decref(resp);
		return cli_err(SD_EINTERNAL, "bad response: no version");
	}
	*version = json_integer_value(v);
	if (proto_get_value(resp, PROTO_MAX_LINE_CAP, val, len, &why) != 0) {
		json_decref(resp);
		return cli_err(SD_EINTERNAL, "bad response: %s", why);
	}
	json_decref(resp);
	return 0;
}

/* Store the edited value with cas = the version read. */
static int
edit_put(struct cli_ctx *ctx, const char *name, json_t *path,
    const unsigned char *val, size_t len, long long cas)
{
	const json_t *msg;
	json_t *req, *resp;
	int st, err;

	req = json_pack("{s:s, s:O, s:I}", "action", "secret.put", "path",
	    path, "cas", (json_int_t)cas);
	if (req != NULL)
		proto_set_value(req, val, len);
	if ((st = cli_rpc_request(ctx->rpc, req, &resp, &err)) != 0)
		return st;
	if (err == SD_ECONFLICT) {
		if (ctx->cfg->json)
			(void)cli_print_json(resp);
		msg = json_object_get(json_object_get(resp, "error"),
		    "message");
		st = cli_err(SD_ECONFLICT, "%s was changed while you edited "
		    "it (%s); your edit was not stored", name,
		    json_is_string(msg) ? json_string_value(msg) :
		    "check-and-set failed");
		json_decref(resp);
		return st;
	}
	if (err != SD_OK) {
		st = cli_rpc_report(ctx->rpc, resp);
		json_decref(resp);
		return st;
	}
	return cli_print_version(ctx, resp);
}

int
cli_edit(struct cli_ctx *ctx, const struct cli_args *a)
{
	struct edit_tmp t = { NULL, -1, "", NULL };
	struct sigstate ss;
	unsigned char *old = NULL, *new = NULL;
	size_t oldlen = 0, newlen = 0;
	long long version;
	const char *base = NULL;
	json_t *path;
	int st, st2, sig = 0;

	if ((st = cli_arg_path(a->pos[0], &path)) != 0)
		return st;
	if (json_array_size(path) == 0) {
		json_decref(path);
		return cli_err(SD_EBADREQ, "the root cannot hold a value");
	}
	/* Before anything else, so that we fail before the network. */
	if ((st = edit_base(ctx->cfg, &base)) != 0 ||
	    (st = edit_get(ctx, path, &old, &oldlen, &version)) != 0) {
		json_decref(path);
		return st;
	}
	cli_rpc_close(ctx->rpc);	/* no idle session while editing */

	sig_catch(&ss);
	st = tmp_create(&t, base, path, old, oldlen);
	if (st == 0 && (sig = pending_signal()) == 0)
		st = run_editor(&ss, t.file, &sig);
	if (st == 0 && sig == 0 && (sig = pending_signal()) == 0)
		st = tmp_read(&t, &new, &newlen);
	/* Every way out passes here while the signals are still ours. */
	st2 = tmp_remove(&t);
	if (st == 0)
		st = st2;
	if (sig == 0)
		sig = pending_signal();
	sig_restore(&ss);
	if (sig != 0) {
		freezero(old, oldlen);
		freezero(new, CLI_MAX_VALUE + 1);
		json_decref(path);
		return die_of(sig);
	}

	if (st == 0 && newlen == oldlen &&
	    sodium_memcmp(new, old, oldlen) == 0) {
		if (!ctx->cfg->quiet && isatty(STDERR_FILENO))
			fprintf(stderr, "unchanged\n");
	} else if (st == 0)
		st = edit_put(ctx, a->pos[0], path, new, newlen, version);
	freezero(old, oldlen);
	freezero(new, CLI_MAX_VALUE + 1);
	json_decref(path);
	return st;
}
