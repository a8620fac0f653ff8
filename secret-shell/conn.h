/*
 * conn.h - secret-shell's connection to secretd over its Unix socket.
 *
 * Everything secretd sends is read through the bounded line reader
 * (lib/linereader.h) with a hard maximum of PROTO_MAX_LINE_CAP per line and
 * a time limit per line, so a broken or hostile daemon can make
 * secret-shell fail but never hang it forever or make it buffer without
 * bound.
 */
#ifndef SHELL_CONN_H
#define SHELL_CONN_H

#include <stddef.h>
#include <jansson.h>

#include "err.h"
#include "shellerr.h"

#define CONN_DEFAULT_SOCKET	"/run/secretd/secretd.sock"

/* Time limits (milliseconds) for one answer from secretd. */
#define CONN_CONNECT_TIMEOUT_MS	5000	/* secretd accepting us */
#define CONN_LOOKUP_TIMEOUT_MS	5000	/* key.lookup for sshd */
#define CONN_HELLO_TIMEOUT_MS	15000	/* hello at session start */
#define CONN_REPLY_TIMEOUT_MS	300000	/* any other request */

struct conn;

/* The socket to use: opt (-S) if not NULL, else $SECRETD_SOCKET if set
 * and not empty, else CONN_DEFAULT_SOCKET.  Never NULL. */
const char *conn_socket_path(const char *opt);

/*
 * Connect to the socket at path, waiting at most connect_timeout_ms for
 * secretd to accept; write_timeout_ms then bounds every blocking write.
 * Returns 0 and sets *out, or SD_EUNAVAIL with e set (exit status
 * SHELL_EXIT_CONN).
 */
int	conn_open(const char *path, int connect_timeout_ms,
	    int write_timeout_ms, struct conn **out, struct shell_error *e)
	    SD_MUST_CHECK;
/* Close and free; NULL is fine. */
void	conn_close(struct conn *c);

/*
 * Send len bytes at line followed by a newline.  The caller guarantees
 * the line holds no newline.  Returns 0 or SD_EUNAVAIL with e set.
 */
int	conn_write_line(struct conn *c, const char *line, size_t len,
	    struct shell_error *e) SD_MUST_CHECK;
/*
 * Shut the connection down in both directions without freeing it: a
 * thread blocked sending or receiving on it returns at once.
 */
void	conn_shutdown(struct conn *c);

/* Serialise req (proto_dump) and send it; the buffer is wiped. */
int	conn_send(struct conn *c, const json_t *req, struct shell_error *e)
	    SD_MUST_CHECK;

/*
 * Next raw line from secretd: returns an LR_* value (lib/linereader.h);
 * on LR_LINE *line and *len are valid until the next call.
 */
int	conn_next_line(struct conn *c, int timeout_ms, char **line,
	    size_t *len);
/* The socket, to poll() for the next line; bytes of it already read
 * and buffered (a line may be there without the socket being readable). */
int	conn_fd(const struct conn *c);
size_t	conn_pending(const struct conn *c);

/*
 * Read one response and parse it.  Returns 0 with *resp set (caller
 * decrefs) when it says "ok":true.  When it says "ok":false, returns the
 * SD_E* value of its error code with e holding secretd's message, and
 * *resp NULL.  A closed connection, a timeout or an unreadable response
 * give SD_EUNAVAIL or SD_EINTERNAL with e set.
 */
int	conn_recv(struct conn *c, int timeout_ms, json_t **resp,
	    struct shell_error *e) SD_MUST_CHECK;

/* conn_send then conn_recv. */
int	conn_call(struct conn *c, const json_t *req, int timeout_ms,
	    json_t **resp, struct shell_error *e) SD_MUST_CHECK;

/*
 * Write len bytes at line and then a newline to fd, retrying on EINTR and
 * short writes.  0, or -1 with errno set.
 */
int	write_line_fd(int fd, const char *line, size_t len);

/* 1 if obj[key] is JSON true, else 0 (flags in responses). */
int	conn_resp_flag(const json_t *obj, const char *key);

#endif
