/*
 * conn.c - connecting to secretd and exchanging NDJSON lines with it.
 *
 * Never logs a request or a response: either may carry a secret value.
 * Buffers that held one are wiped (proto_dump output with freezero, the
 * line reader wipes its own buffer, jansson frees through the wiping
 * allocator installed at start-up).
 */
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/un.h>

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conn.h"
#include "err.h"
#include "linereader.h"
#include "proto.h"
#include "xmalloc.h"

struct conn {
	int			 fd;
	struct linereader	*lr;
};

const char *
conn_socket_path(const char *opt)
{
	const char *env;

	if (opt != NULL)
		return opt;
	env = getenv("SECRETD_SOCKET");
	if (env != NULL && *env != '\0')
		return env;
	return CONN_DEFAULT_SOCKET;
}

static void
set_send_timeout(int fd, int timeout_ms)
{
	struct timeval tv;

	if (timeout_ms <= 0)
		return;
	tv.tv_sec = timeout_ms / 1000;
	tv.tv_usec = (timeout_ms % 1000) * 1000;
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

int
conn_open(const char *path, int connect_timeout_ms, int write_timeout_ms,
    struct conn **out, struct shell_error *e)
{
	struct sockaddr_un sun;
	struct conn *c;
	size_t plen = strlen(path);
	int fd, saved;

	*out = NULL;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (plen == 0 || plen >= sizeof(sun.sun_path)) {
		shell_error_conn(e, "socket path of %zu bytes is not usable",
		    plen);
		return SD_EUNAVAIL;
	}
	memcpy(sun.sun_path, path, plen);

	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1) {
		shell_error_conn(e, "socket: %s", strerror(errno));
		return SD_EUNAVAIL;
	}
	/* On Linux connect() waits on a full listen backlog for up to the
	 * send timeout: a daemon that stops accepting must not block us
	 * forever, nor one that stops reading. */
	set_send_timeout(fd, connect_timeout_ms);
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		saved = errno;
		close(fd);
		shell_error_conn(e, "cannot connect to secretd at %s: %s",
		    path, saved == EAGAIN ? "timed out" : strerror(saved));
		return SD_EUNAVAIL;
	}
	set_send_timeout(fd, write_timeout_ms);
	c = xcalloc(1, sizeof(*c));
	c->fd = fd;
	c->lr = linereader_fd(fd, PROTO_MAX_LINE_CAP);
	*out = c;
	return 0;
}

void
conn_close(struct conn *c)
{
	if (c == NULL)
		return;
	linereader_free(c->lr);
	if (c->fd != -1)
		close(c->fd);
	free(c);
}

int
write_line_fd(int fd, const char *line, size_t len)
{
	struct iovec iov[2];
	int iovcnt = 2, i = 0;
	ssize_t n;

	iov[0].iov_base = (void *)line;
	iov[0].iov_len = len;
	iov[1].iov_base = (void *)"\n";
	iov[1].iov_len = 1;
	while (i < iovcnt) {
		n = writev(fd, iov + i, iovcnt - i);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		while (i < iovcnt && (size_t)n >= iov[i].iov_len) {
			n -= (ssize_t)iov[i].iov_len;
			i++;
		}
		if (i < iovcnt) {
			iov[i].iov_base = (char *)iov[i].iov_base + n;
			iov[i].iov_len -= (size_t)n;
		}
	}
	return 0;
}

int
conn_write_line(struct conn *c, const char *line, size_t len,
    struct shell_error *e)
{
	if (write_line_fd(c->fd, line, len) != 0) {
		shell_error_conn(e, "cannot send to secretd: %s",
		    errno == EAGAIN ? "timed out" : strerror(errno));
		return SD_EUNAVAIL;
	}
	return 0;
}

void
conn_shutdown(struct conn *c)
{
	if (c != NULL && c->fd != -1)
		(void)shutdown(c->fd, SHUT_RDWR);
}

int
conn_send(struct conn *c, const json_t *req, struct shell_error *e)
{
	char *buf;
	size_t len;
	int r;

	if ((buf = proto_dump(req, &len)) == NULL) {
		shell_error_set(e, SD_EINTERNAL, "cannot encode request");
		return SD_EINTERNAL;
	}
	/* proto_dump appended the newline; send the line without it. */
	r = conn_write_line(c, buf, len > 0 ? len - 1 : 0, e);
	freezero(buf, len);
	return r;
}

int
conn_next_line(struct conn *c, int timeout_ms, char **line, size_t *len)
{
	return linereader_next(c->lr, timeout_ms, line, len);
}

int
conn_fd(const struct conn *c)
{
	return c->fd;
}

size_t
conn_pending(const struct conn *c)
{
	return linereader_pending(c->lr);
}

int
conn_resp_flag(const json_t *obj, const char *key)
{
	return json_is_true(json_object_get(obj, key)) ? 1 : 0;
}

int
conn_recv(struct conn *c, int timeout_ms, json_t **resp,
    struct shell_error *e)
{
	const json_t *err, *code, *msg;
	const char *why = NULL;
	char *line;
	size_t len;
	json_t *obj;
	int r;

	*resp = NULL;
	switch ((r = conn_next_line(c, timeout_ms, &line, &len))) {
	case LR_LINE:
		break;
	case LR_EOF:
	case LR_EIO:
		shell_error_conn(e, "secretd closed the connection");
		return SD_EUNAVAIL;
	case LR_TIMEOUT:
		shell_error_conn(e, "secretd did not answer within %d s",
		    timeout_ms / 1000);
		return SD_EUNAVAIL;
	case LR_TOOLONG:
		shell_error_set(e, SD_ETOOLARGE,
		    "response from secretd exceeds %d bytes",
		    PROTO_MAX_LINE_CAP);
		return SD_ETOOLARGE;
	default:
		shell_error_set(e, SD_EINTERNAL,
		    "unreadable response from secretd");
		return SD_EINTERNAL;
	}
	if ((obj = proto_parse(line, len, &why)) == NULL) {
		shell_error_set(e, SD_EINTERNAL,
		    "malformed response from secretd: %s",
		    why != NULL ? why : "?");
		return SD_EINTERNAL;
	}
	if (conn_resp_flag(obj, "ok")) {
		*resp = obj;
		return 0;
	}
	err = json_object_get(obj, "error");
	code = json_object_get(err, "code");
	msg = json_object_get(err, "message");
	if (!json_is_string(code)) {
		json_decref(obj);
		shell_error_set(e, SD_EINTERNAL,
		    "malformed response from secretd: no error code");
		return SD_EINTERNAL;
	}
	r = sd_err_from_code(json_string_value(code));
	if (r == SD_OK)
		r = SD_EINTERNAL;
	shell_error_set(e, r, "%s", json_is_string(msg) ?
	    json_string_value(msg) : json_string_value(code));
	json_decref(obj);
	return r;
}

int
conn_call(struct conn *c, const json_t *req, int timeout_ms, json_t **resp,
    struct shell_error *e)
{
	int r;

	*resp = NULL;
	if ((r = conn_send(c, req, e)) != 0)
		return r;
	return conn_recv(c, timeout_ms, resp, e);
}
