/*
 * linereader.h - the one bounded reader for newline-delimited input.
 *
 * Every byte that reaches secretd, secret-shell or secret from a socket,
 * an SSH channel or stdin goes through here.  A line longer than the
 * configured maximum is never buffered whole: it is reported as too long
 * and skipped up to its newline, so the stream stays usable.  A line with
 * an embedded NUL is reported as such.  The buffer is wiped when freed
 * and when it is compacted, since lines may carry secret values.
 */
#ifndef SD_LINEREADER_H
#define SD_LINEREADER_H

#include <stddef.h>
#include <sys/types.h>

/*
 * A read callback: read up to n bytes into buf, waiting at most
 * timeout_ms (-1: forever).  Returns bytes read (> 0), 0 on end of
 * stream, LR_TIMEOUT on timeout, or LR_EIO on error.
 */
typedef ssize_t (*lr_read_fn)(void *ctx, void *buf, size_t n, int timeout_ms);

enum lr_result {
	LR_LINE = 1,		/* *line and *len hold a complete line */
	LR_EOF = 0,		/* clean end of stream (no partial line) */
	LR_TOOLONG = -1,	/* line exceeded max; it was skipped */
	LR_NUL = -2,		/* line contained a NUL byte; it was skipped */
	LR_TIMEOUT = -3,	/* no complete line within the timeout */
	LR_EIO = -4,		/* read error, or stream ended mid-line */
};

struct linereader;

/* Reader over a file descriptor (uses poll + read). max_line excludes
 * the newline.  Never returns NULL. */
struct linereader *linereader_fd(int fd, size_t max_line);
/* Reader over a callback. */
struct linereader *linereader_cb(lr_read_fn fn, void *ctx, size_t max_line);
/* Wipes and frees; NULL is fine. */
void	linereader_free(struct linereader *lr);

/*
 * Read the next line.  On LR_LINE, *line points at the line without its
 * newline (a trailing '\r' is kept: callers decide), NUL-terminated, valid
 * until the next call or free; *len is its length.  timeout_ms bounds the
 * whole wait for one line (-1: no bound).  After LR_TIMEOUT the bytes
 * read so far stay buffered and the next call continues the same line.
 * A too-long line cut off by end of stream gives LR_TOOLONG, then LR_EOF.
 */
int	linereader_next(struct linereader *lr, int timeout_ms,
	    char **line, size_t *len);

/* Bytes already read and buffered beyond the last returned line. */
size_t	linereader_pending(const struct linereader *lr);

/* Write all of buf to fd, retrying on EINTR/partial writes.  0 or -1
 * (errno set).  On a socket it uses send(MSG_NOSIGNAL): a closed peer
 * gives -1/EPIPE, never SIGPIPE.  On a pipe, ignore SIGPIPE yourself. */
int	write_all(int fd, const void *buf, size_t len);

/* The same within timeout_ms (-1: no bound): a peer that does not read
 * gives -1/ETIMEDOUT once the time is up.  Exact on a socket (sent
 * without blocking); on a pipe a single write may block beyond it. */
int	write_all_timeout(int fd, const void *buf, size_t len,
	    int timeout_ms);

/* Lower the maximum line length from the next line on (never raises). */
void	linereader_set_max(struct linereader *lr, size_t max_line);

#endif
