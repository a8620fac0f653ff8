/*
 * linereader.c - the one bounded reader for newline-delimited input.
 *
 * The buffer starts small and grows geometrically, never beyond
 * max_line + 1 bytes (a full line plus its newline).  A line that does not
 * fit is never buffered whole: the reader switches to discard mode, drops
 * bytes up to the next newline and then reports LR_TOOLONG once.  Every
 * region that is consumed, moved or freed is wiped first, because lines
 * carry secret values.  It must never return a line longer than max_line
 * or one containing a NUL.
 */
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "linereader.h"
#include "monotime.h"
#include "xmalloc.h"

#define LR_INITIAL_CAP	4096
/* Keeps max_line + 1 and the doubling below from overflowing. */
#define LR_MAX_LINE_LIMIT	(SIZE_MAX / 4)

struct linereader {
	int		 fd;		/* -1 for a callback reader */
	lr_read_fn	 fn;
	void		*ctx;
	size_t		 max_line;
	unsigned char	*buf;
	size_t		 cap;
	size_t		 start;		/* unconsumed data is buf[start, end) */
	size_t		 end;
	size_t		 scanned;	/* bytes after start known to hold no '\n' */
	size_t		 consume;	/* bytes of the last returned line (+ '\n') */
	int		 discarding;	/* skipping the rest of an over-long line */
};

/* Remaining milliseconds until deadline (-1: none), never negative. */
static int
remaining_ms(int64_t deadline)
{
	int64_t left;

	if (deadline < 0)
		return -1;
	left = deadline - monotime_ms();
	if (left <= 0)
		return 0;
	if (left > INT32_MAX)
		return INT32_MAX;
	return (int)left;
}

static ssize_t
fd_read(void *ctx, void *buf, size_t n, int timeout_ms)
{
	int fd = *(int *)ctx;
	int64_t deadline = timeout_ms < 0 ? -1 : monotime_ms() + timeout_ms;
	struct pollfd pfd;
	ssize_t r;
	int pr;

	if (fd < 0)
		return LR_EIO;	/* poll() would silently ignore it */
	for (;;) {
		pfd.fd = fd;
		pfd.events = POLLIN;
		pfd.revents = 0;
		pr = poll(&pfd, 1, remaining_ms(deadline));
		if (pr < 0) {
			if (errno == EINTR)
				continue;
			return LR_EIO;
		}
		if (pr == 0)
			return LR_TIMEOUT;
		if (pfd.revents & POLLNVAL)
			return LR_EIO;
		r = read(fd, buf, n);
		if (r >= 0)
			return r;
		if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)
			continue;
		return LR_EIO;
	}
}

static struct linereader *
lr_new(size_t max_line)
{
	struct linereader *lr = xcalloc(1, sizeof(*lr));

	if (max_line > LR_MAX_LINE_LIMIT)
		max_line = LR_MAX_LINE_LIMIT;
	lr->fd = -1;
	lr->max_line = max_line;
	lr->cap = max_line + 1 < LR_INITIAL_CAP ? max_line + 1 : LR_INITIAL_CAP;
	lr->buf = xmalloc(lr->cap + 1);	/* + 1 for a terminating NUL */
	return lr;
}

struct linereader *
linereader_fd(int fd, size_t max_line)
{
	struct linereader *lr = lr_new(max_line);

	lr->fd = fd;
	lr->fn = fd_read;
	lr->ctx = &lr->fd;
	return lr;
}

struct linereader *
linereader_cb(lr_read_fn fn, void *ctx, size_t max_line)
{
	struct linereader *lr = lr_new(max_line);

	lr->fn = fn;
	lr->ctx = ctx;
	return lr;
}

void
linereader_free(struct linereader *lr)
{
	if (lr == NULL)
		return;
	freezero(lr->buf, lr->cap + 1);
	sodium_memzero(lr, sizeof(*lr));
	free(lr);
}

/* Drop n bytes at the front of the unconsumed data, wiping them. */
static void
lr_drop(struct linereader *lr, size_t n)
{
	sodium_memzero(lr->buf + lr->start, n);
	lr->start += n;
	lr->scanned = 0;
	if (lr->start == lr->end)
		lr->start = lr->end = 0;
}

/* Make room at the end of the buffer: compact, else grow.  0, or -1 when
 * the buffer is full at its maximum size. */
static int
lr_make_room(struct linereader *lr)
{
	size_t used = lr->end - lr->start, maxcap = lr->max_line + 1, ncap;
	unsigned char *nbuf;

	if (lr->end < lr->cap)
		return 0;
	if (lr->start > 0) {
		memmove(lr->buf, lr->buf + lr->start, used);
		/* Wipe the stale copy left behind the moved data. */
		sodium_memzero(lr->buf + used, lr->end - used);
		lr->start = 0;
		lr->end = used;
		return 0;
	}
	if (lr->cap >= maxcap)
		return -1;
	ncap = lr->cap * 2 < maxcap ? lr->cap * 2 : maxcap;
	/* No realloc: the old block must be wiped, not just released. */
	nbuf = xmalloc(ncap + 1);
	memcpy(nbuf, lr->buf, lr->end);
	freezero(lr->buf, lr->cap + 1);
	lr->buf = nbuf;
	lr->cap = ncap;
	return 0;
}

int
linereader_next(struct linereader *lr, int timeout_ms, char **line,
    size_t *len)
{
	int64_t deadline = timeout_ms < 0 ? -1 : monotime_ms() + timeout_ms;
	unsigned char *nl;
	size_t used, llen;
	ssize_t r;

	*line = NULL;
	*len = 0;
	if (lr->consume > 0) {
		lr_drop(lr, lr->consume);
		lr->consume = 0;
	}

	for (;;) {
		used = lr->end - lr->start;
		nl = memchr(lr->buf + lr->start + lr->scanned, '\n',
		    used - lr->scanned);
		if (lr->discarding) {
			if (nl != NULL) {
				lr_drop(lr, (size_t)(nl - (lr->buf + lr->start)) + 1);
				lr->discarding = 0;
				return LR_TOOLONG;
			}
			lr_drop(lr, used);
		} else if (nl != NULL) {
			llen = (size_t)(nl - (lr->buf + lr->start));
			if (llen > lr->max_line) {
				/* Cannot happen with cap <= max_line + 1. */
				lr_drop(lr, llen + 1);
				return LR_TOOLONG;
			}
			if (memchr(lr->buf + lr->start, '\0', llen) != NULL) {
				lr_drop(lr, llen + 1);
				return LR_NUL;
			}
			*nl = '\0';
			*line = (char *)(lr->buf + lr->start);
			*len = llen;
			lr->consume = llen + 1;
			return LR_LINE;
		} else if (used > lr->max_line) {
			/* max_line bytes and no newline yet: too long. */
			lr_drop(lr, used);
			lr->discarding = 1;
			continue;
		} else {
			lr->scanned = used;
		}

		if (lr_make_room(lr) != 0) {
			/* Unreachable: a full buffer holds > max_line bytes. */
			lr_drop(lr, lr->end - lr->start);
			lr->discarding = 1;
			continue;
		}
		r = lr->fn(lr->ctx, lr->buf + lr->end, lr->cap - lr->end,
		    remaining_ms(deadline));
		if (r > 0) {
			if ((size_t)r > lr->cap - lr->end)
				return LR_EIO;	/* broken callback */
			lr->end += (size_t)r;
			continue;
		}
		if (r == LR_TIMEOUT)
			return LR_TIMEOUT;
		if (r == 0) {
			if (lr->discarding) {
				/* The over-long line ran into end of stream:
				 * report it; the next call sees LR_EOF. */
				lr->discarding = 0;
				return LR_TOOLONG;
			}
			if (lr->end > lr->start) {
				lr_drop(lr, lr->end - lr->start);
				return LR_EIO;
			}
			return LR_EOF;
		}
		return LR_EIO;
	}
}

size_t
linereader_pending(const struct linereader *lr)
{
	return lr->end - lr->start - lr->consume;
}

void
linereader_set_max(struct linereader *lr, size_t max_line)
{
	if (max_line < lr->max_line)
		lr->max_line = max_line;
}

int
write_all(int fd, const void *buf, size_t len)
{
	return write_all_timeout(fd, buf, len, -1);
}

/* Wait until fd is writable, up to the deadline: 0, or -1 (errno). */
static int
wait_writable(int fd, int64_t deadline)
{
	struct pollfd pfd;
	int pr;

	pfd.fd = fd;
	pfd.events = POLLOUT;
	pfd.revents = 0;
	pr = poll(&pfd, 1, remaining_ms(deadline));
	if (pr < 0 && errno != EINTR)
		return -1;
	if (pr == 0) {
		errno = ETIMEDOUT;
		return -1;
	}
	return 0;
}

int
write_all_timeout(int fd, const void *buf, size_t len, int timeout_ms)
{
	const unsigned char *p = buf;
	int64_t deadline = timeout_ms < 0 ? -1 : monotime_ms() + timeout_ms;
	/* with a deadline, never block in send: poll up to it instead */
	int use_send = 1, flags = MSG_NOSIGNAL |
	    (timeout_ms < 0 ? 0 : MSG_DONTWAIT);
	ssize_t w;

	while (len > 0) {
		if (use_send) {
			/* MSG_NOSIGNAL: no SIGPIPE on a closed socket. */
			w = send(fd, p, len, flags);
			if (w < 0 && errno == ENOTSOCK) {
				use_send = 0;
				continue;
			}
		} else {
			if (deadline >= 0 && wait_writable(fd, deadline) != 0)
				return -1;
			w = write(fd, p, len);
		}
		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				if (wait_writable(fd, deadline) != 0)
					return -1;
				continue;
			}
			return -1;
		}
		if (w == 0)
			return -1;
		p += w;
		len -= (size_t)w;
	}
	return 0;
}
