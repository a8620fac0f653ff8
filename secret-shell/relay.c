/*
 * relay.c - NDJSON relay: client (SSH channel) <-> secretd (Unix socket).
 *
 * Two threads share one FIFO of pending answers, which is what keeps
 * responses in request order while requests are pipelined:
 *
 *   reader thread: stdin -> bounded line reader -> check -> either
 *                  forward the line to secretd and queue FORWARD, or
 *                  queue LOCAL with the answer made here
 *   main thread:   pop FIFO -> FORWARD: copy secretd's next line to
 *                  stdout; LOCAL: write the local answer; END: done
 *
 * Once the client asked secret.watch, secretd also sends event lines
 * between answers (docs/protocol.md, "Watch"): the main thread then
 * waits on the socket too while the FIFO is empty, and copies an event
 * line to stdout whenever one comes, between two answers, never inside.
 * An event line is told from an answer by its first bytes ({"event":),
 * which secretd always writes first; nothing else of it is looked at.
 *
 * The FIFO is bounded (RELAY_MAX_PENDING entries, RELAY_MAX_LOCAL_BYTES
 * of local answers): a client that never reads its answers stops being
 * read.  When the main thread must stop early it wakes the reader through
 * a pipe and shuts the socket, so the reader never stays blocked.
 *
 * Must never log, inspect beyond "action" and "id", or alter the bytes of
 * a request or a response: they carry secret values.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conn.h"
#include "err.h"
#include "linereader.h"
#include "log.h"
#include "proto.h"
#include "relay.h"
#include "xmalloc.h"

/* The largest "id" kept to answer a forwarded request ourselves. */
#define RELAY_MAX_ID_STRING	1024

enum pend_kind { PEND_FORWARD, PEND_LOCAL, PEND_END };

struct pending {
	enum pend_kind		 kind;
	json_t			*id;	/* FORWARD: the request's id or NULL */
	char			*buf;	/* LOCAL: answer line with '\n' */
	size_t			 len;
	int			 status;	/* END: exit status */
	struct shell_error	 err;		/* END: why, if status != 0 */
	struct pending		*next;
};

struct relay {
	struct conn		*conn;
	int			 in_fd, out_fd;
	int			 stop[2];	/* pipe: main wakes the reader */

	pthread_mutex_t		 mu;
	pthread_cond_t		 more;		/* FIFO became non-empty */
	pthread_cond_t		 room;		/* FIFO has room again */
	struct pending		*head, *tail;
	size_t			 count;
	size_t			 local_bytes;
	int			 stopping;	/* main thread gave up */
	int			 read_error;	/* errno of a failed read */
	int			 watching;	/* secret.watch was sent */
	int			 wake[2];	/* pipe: reader wakes main */
};

static void
pending_free(struct pending *p)
{
	if (p == NULL)
		return;
	json_decref(p->id);
	freezero(p->buf, p->len);
	free(p);
}

/* Queue p, waiting for room.  Returns 0, or -1 (p freed) if stopping. */
static int
push(struct relay *r, struct pending *p)
{
	pthread_mutex_lock(&r->mu);
	while (!r->stopping && r->head != NULL &&
	    (r->count >= RELAY_MAX_PENDING ||
	    r->local_bytes + p->len > RELAY_MAX_LOCAL_BYTES))
		pthread_cond_wait(&r->room, &r->mu);
	if (r->stopping) {
		pthread_mutex_unlock(&r->mu);
		pending_free(p);
		return -1;
	}
	p->next = NULL;
	if (r->tail != NULL)
		r->tail->next = p;
	else
		r->head = p;
	r->tail = p;
	r->count++;
	if (p->kind == PEND_LOCAL)
		r->local_bytes += p->len;
	pthread_cond_signal(&r->more);
	/* a watching main thread waits in poll(), not on the cond */
	if (r->watching && write(r->wake[1], "x", 1) == -1) {
		/* full (EAGAIN): the main thread has a wakeup already */
	}
	pthread_mutex_unlock(&r->mu);
	return 0;
}

static struct pending *
pop(struct relay *r)
{
	struct pending *p;

	pthread_mutex_lock(&r->mu);
	while (r->head == NULL)
		pthread_cond_wait(&r->more, &r->mu);
	p = r->head;
	r->head = p->next;
	if (r->head == NULL)
		r->tail = NULL;
	r->count--;
	if (p->kind == PEND_LOCAL)
		r->local_bytes -= p->len;
	pthread_cond_signal(&r->room);
	pthread_mutex_unlock(&r->mu);
	return p;
}

/* A finished answer line for an error we detect ourselves. */
static struct pending *
local_error(const json_t *id, int err, const char *msg)
{
	struct pending *p = xcalloc(1, sizeof(*p));
	json_t *obj = proto_error(id, err, msg);

	p->kind = PEND_LOCAL;
	p->buf = proto_dump(obj, &p->len);
	json_decref(obj);
	if (p->buf == NULL) {
		/* Only an id jansson cannot print gets here: answer
		 * without it rather than not at all. */
		obj = proto_error(NULL, err, msg);
		p->buf = proto_dump(obj, &p->len);
		json_decref(obj);
	}
	if (p->buf == NULL)
		fatal("cannot encode an error answer");
	return p;
}

static int
push_local_error(struct relay *r, const json_t *id, int err, const char *msg)
{
	return push(r, local_error(id, err, msg));
}

static int
push_end(struct relay *r, int status, const struct shell_error *e)
{
	struct pending *p = xcalloc(1, sizeof(*p));

	p->kind = PEND_END;
	p->status = status;
	if (e != NULL)
		p->err = *e;
	return push(r, p);
}

/* The id worth keeping to answer this request ourselves, or NULL. */
static json_t *
keep_id(const json_t *id)
{
	if (id == NULL)
		return NULL;
	if (json_is_string(id) &&
	    json_string_length(id) > RELAY_MAX_ID_STRING)
		return NULL;
	if (json_is_object(id) || json_is_array(id))
		return NULL;
	return json_incref((json_t *)id);
}

/* Read callback for stdin that the main thread can interrupt. */
static ssize_t
read_input(void *ctx, void *buf, size_t n, int timeout_ms)
{
	struct relay *r = ctx;
	struct pollfd pfd[2];
	ssize_t got;
	int pr;

	for (;;) {
		pfd[0].fd = r->in_fd;
		pfd[0].events = POLLIN;
		pfd[1].fd = r->stop[0];
		pfd[1].events = POLLIN;
		pr = poll(pfd, 2, timeout_ms);
		if (pr == -1) {
			if (errno == EINTR)
				continue;
			r->read_error = errno;
			return LR_EIO;
		}
		if (pr == 0)
			return LR_TIMEOUT;
		if (pfd[1].revents != 0)
			return LR_EIO;
		if ((got = read(r->in_fd, buf, n)) == -1) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			r->read_error = errno;
			return LR_EIO;
		}
		return got;
	}
}

/* Handle one complete request line from the client.  0, or -1 to stop. */
static int
handle_line(struct relay *r, char *line, size_t len)
{
	struct shell_error e;
	struct pending *p;
	const json_t *action;
	const char *why = NULL, *a;
	json_t *obj;
	size_t i;
	int ret;

	if (len > 0 && line[len - 1] == '\r')
		line[--len] = '\0';
	for (i = 0; i < len && (line[i] == ' ' || line[i] == '\t'); i++)
		;
	if (i == len)
		return 0;	/* blank line: not a request */

	if ((obj = proto_parse(line, len, &why)) == NULL)
		return push_local_error(r, NULL, SD_EBADREQ,
		    why != NULL ? why : "malformed request");
	action = json_object_get(obj, "action");
	if (json_is_string(action)) {
		a = json_string_value(action);
		if (strcmp(a, "hello") == 0 || strcmp(a, "key.lookup") == 0) {
			ret = push_local_error(r, json_object_get(obj, "id"),
			    SD_EBADREQ, strcmp(a, "hello") == 0 ?
			    "hello is sent by secret-shell, not by clients" :
			    "key.lookup is reserved for sshd's key lookup");
			json_decref(obj);
			return ret;
		}
		if (strcmp(a, "secret.watch") == 0) {
			pthread_mutex_lock(&r->mu);
			r->watching = 1;
			pthread_mutex_unlock(&r->mu);
		}
	}
	p = xcalloc(1, sizeof(*p));
	p->kind = PEND_FORWARD;
	p->id = keep_id(json_object_get(obj, "id"));
	json_decref(obj);
	/* Queue before sending, so the answer has its place in line. */
	if (push(r, p) != 0)
		return -1;
	if (conn_write_line(r->conn, line, len, &e) != 0) {
		(void)push_end(r, SHELL_EXIT_CONN, &e);
		return -1;
	}
	return 0;
}

static void *
reader_main(void *arg)
{
	struct relay *r = arg;
	struct linereader *lr;
	struct shell_error e;
	char *line, msg[128];
	size_t len;
	int res;

	lr = linereader_cb(read_input, r, PROTO_MAX_LINE_DEFAULT);
	for (;;) {
		res = linereader_next(lr, -1, &line, &len);
		if (res == LR_LINE) {
			if (handle_line(r, line, len) != 0)
				break;
			continue;
		}
		if (res == LR_TOOLONG) {
			snprintf(msg, sizeof(msg), "request line exceeds %d "
			    "bytes", PROTO_MAX_LINE_DEFAULT);
			if (push_local_error(r, NULL, SD_ETOOLARGE, msg) != 0)
				break;
			continue;
		}
		if (res == LR_NUL) {
			if (push_local_error(r, NULL, SD_EBADREQ,
			    "request line contains a NUL byte") != 0)
				break;
			continue;
		}
		if (res == LR_TIMEOUT)
			continue;
		if (res == LR_EOF) {
			(void)push_end(r, 0, NULL);
			break;
		}
		/* LR_EIO: a read error, the input ended inside a line, or
		 * the main thread asked us to stop (push_end then fails). */
		if (r->read_error != 0)
			shell_error_set(&e, SD_EINTERNAL, "cannot read "
			    "input: %s", strerror(r->read_error));
		else
			shell_error_set(&e, SD_EBADREQ, "input ended in the "
			    "middle of a line (no newline)");
		(void)push_end(r, e.status, &e);
		break;
	}
	linereader_free(lr);
	return NULL;
}

/* Tell the reader to stop and wait for it. */
static void
stop_reader(struct relay *r, pthread_t tid)
{
	pthread_mutex_lock(&r->mu);
	r->stopping = 1;
	pthread_cond_broadcast(&r->room);
	pthread_mutex_unlock(&r->mu);
	/* One byte into an empty pipe cannot block or fail but for EINTR. */
	while (write(r->stop[1], "x", 1) == -1 && errno == EINTR)
		;
	conn_shutdown(r->conn);
	pthread_join(tid, NULL);
}

/* An event of a watching session, not an answer (secretd writes "event"
 * first). */
static int
is_event(const char *line, size_t len)
{
	return len >= 9 && memcmp(line, "{\"event\":", 9) == 0;
}

/* Deliver secretd's answer to one forwarded request.  0 or exit status. */
static int
deliver_forward(struct relay *r, struct pending *p, struct shell_error *e)
{
	struct pending *loc = NULL;
	char *line, msg[128];
	size_t len;
	int res, saved;

	/* events that came before the answer go out first, in order */
	while ((res = conn_next_line(r->conn, CONN_REPLY_TIMEOUT_MS, &line,
	    &len)) == LR_LINE && is_event(line, len))
		if (write_line_fd(r->out_fd, line, len) != 0)
			goto outfail;
	switch (res) {
	case LR_LINE:
		if (write_line_fd(r->out_fd, line, len) != 0)
			goto outfail;
		return 0;
	case LR_TOOLONG:
		snprintf(msg, sizeof(msg), "response exceeds %d bytes",
		    PROTO_MAX_LINE_CAP);
		loc = local_error(p->id, SD_ETOOLARGE, msg);
		break;
	case LR_NUL:
		loc = local_error(p->id, SD_EINTERNAL,
		    "response from secretd contained a NUL byte");
		break;
	case LR_TIMEOUT:
		shell_error_conn(e, "secretd did not answer within %d s",
		    CONN_REPLY_TIMEOUT_MS / 1000);
		return e->status;
	default:
		shell_error_conn(e, "secretd closed the connection");
		return e->status;
	}
	res = write_all(r->out_fd, loc->buf, loc->len);
	saved = errno;
	pending_free(loc);
	if (res == 0)
		return 0;
	errno = saved;
 outfail:
	shell_error_set(e, SD_EINTERNAL, "cannot write to client: %s",
	    strerror(errno));
	return e->status;
}

/*
 * The next pending entry.  While watching and none is pending, copy the
 * event lines secretd sends to stdout as they come: NULL with *status
 * set when that fails.  The reader queues an entry before it sends its
 * request, so a line that comes while none is pending is an event.
 */
static struct pending *
next_pending(struct relay *r, struct shell_error *e, int *status)
{
	struct pollfd pfd[2];
	char *line, drain[64];
	size_t len;
	int res;

	for (;;) {
		pthread_mutex_lock(&r->mu);
		if (r->head != NULL || !r->watching) {
			pthread_mutex_unlock(&r->mu);
			return pop(r);
		}
		pthread_mutex_unlock(&r->mu);
		if (conn_pending(r->conn) == 0) {
			pfd[0].fd = conn_fd(r->conn);
			pfd[0].events = POLLIN;
			pfd[1].fd = r->wake[0];
			pfd[1].events = POLLIN;
			if (poll(pfd, 2, -1) == -1 && errno != EINTR) {
				shell_error_set(e, SD_EINTERNAL, "poll: %s",
				    strerror(errno));
				*status = e->status;
				return NULL;
			}
			if (pfd[1].revents != 0 &&
			    read(r->wake[0], drain, sizeof(drain)) == -1) {
				/* EAGAIN: drained already */
			}
			if (!(pfd[0].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			pthread_mutex_lock(&r->mu);
			res = r->head != NULL;
			pthread_mutex_unlock(&r->mu);
			if (res)
				continue;	/* its answer, read in order */
		}
		res = conn_next_line(r->conn, CONN_REPLY_TIMEOUT_MS, &line,
		    &len);
		if (res == LR_LINE) {
			if (write_line_fd(r->out_fd, line, len) == 0)
				continue;
			shell_error_set(e, SD_EINTERNAL, "cannot write to "
			    "client: %s", strerror(errno));
		} else if (res == LR_TOOLONG || res == LR_NUL)
			continue;	/* an event is small: drop it */
		else
			shell_error_conn(e, "secretd closed the connection");
		*status = e->status;
		return NULL;
	}
}

int
relay_run(struct conn *c, int in_fd, int out_fd, struct shell_error *e)
{
	struct relay r;
	struct pending *p;
	pthread_t tid;
	int status = -1;

	memset(&r, 0, sizeof(r));
	r.conn = c;
	r.in_fd = in_fd;
	r.out_fd = out_fd;
	if (pipe2(r.stop, O_CLOEXEC) == -1) {
		shell_error_set(e, SD_EINTERNAL, "pipe: %s", strerror(errno));
		return e->status;
	}
	if (pipe2(r.wake, O_CLOEXEC | O_NONBLOCK) == -1) {
		shell_error_set(e, SD_EINTERNAL, "pipe: %s", strerror(errno));
		close(r.stop[0]);
		close(r.stop[1]);
		return e->status;
	}
	pthread_mutex_init(&r.mu, NULL);
	pthread_cond_init(&r.more, NULL);
	pthread_cond_init(&r.room, NULL);
	if ((errno = pthread_create(&tid, NULL, reader_main, &r)) != 0) {
		shell_error_set(e, SD_EINTERNAL, "cannot start relay: %s",
		    strerror(errno));
		status = e->status;
		goto out;
	}
	while (status == -1) {
		if ((p = next_pending(&r, e, &status)) == NULL)
			break;
		switch (p->kind) {
		case PEND_LOCAL:
			if (write_all(out_fd, p->buf, p->len) != 0) {
				shell_error_set(e, SD_EINTERNAL, "cannot write "
				    "to client: %s", strerror(errno));
				status = e->status;
			}
			break;
		case PEND_FORWARD:
			if ((status = deliver_forward(&r, p, e)) == 0)
				status = -1;
			break;
		case PEND_END:
			status = p->status;
			if (status != 0)
				*e = p->err;
			break;
		}
		pending_free(p);
	}
	/* After END the reader has returned; otherwise make it. */
	stop_reader(&r, tid);
 out:
	while (r.head != NULL) {
		p = r.head;
		r.head = p->next;
		pending_free(p);
	}
	pthread_cond_destroy(&r.room);
	pthread_cond_destroy(&r.more);
	pthread_mutex_destroy(&r.mu);
	close(r.stop[0]);
	close(r.stop[1]);
	close(r.wake[0]);
	close(r.wake[1]);
	return status;
}
