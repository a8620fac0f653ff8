/*
 * watch.c - the change listener and the watchers (watch.h).
 *
 * Locking: one mutex guards the list of watchers and each watcher's
 * queue.  The listener never holds it across a statement: it takes a
 * reference on the watchers a notice concerns, runs its statement, then
 * queues under the lock again; a watcher whose session ended meanwhile is
 * unlinked and only freed when the last reference goes.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "acl.h"
#include "log.h"
#include "pg_array.h"
#include "proto.h"
#include "revoke.h"
#include "store.h"
#include "watch.h"
#include "xmalloc.h"

#define LISTEN_WAIT_S		5	/* watch_start waits this for LISTEN */
#define RECONNECT_FIRST_MS	500
#define RECONNECT_MAX_MS	10000

struct evline {
	struct evline	*next;
	char		*buf;		/* one JSON line with its newline */
	size_t		 len;
};

struct watcher {
	struct watcher	*next, *prev;
	int		 linked;	/* in the list (the session is on) */
	int		 refs;		/* the session's + the listener's */
	int64_t		 principal_id;
	char		 fp[SSHKEY_FP_LEN + 1];
	struct sd_path	*prefix;
	int		 nprefix;
	int		 evfd;
	/* under mu: what to send */
	struct evline	*head, **tail;
	int		 nqueued;
	int		 rescan_all;	/* queue overflowed, or events lost */
	int		 check_key;	/* a key of its principal went */
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t listening_cv = PTHREAD_COND_INITIALIZER;
static struct watcher *watchers;
static int nwatchers;
static int started, listening, stop_fd = -1;
static pthread_t listener_tid;
static const struct server_ctx *lctx;

/* ---- watchers ------------------------------------------------------ */

static void
wake(struct watcher *w)
{
	uint64_t one = 1;

	if (write(w->evfd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		log_warn("watch: cannot wake a session: %s", strerror(errno));
}

static void
evlines_free(struct evline *l)
{
	struct evline *n;

	for (; l != NULL; l = n) {
		n = l->next;
		free(l->buf);
		free(l);
	}
}

/* Under mu. */
static void
unref(struct watcher *w)
{
	int i;

	if (--w->refs > 0)
		return;
	evlines_free(w->head);
	for (i = 0; i < w->nprefix; i++)
		path_free(&w->prefix[i]);
	free(w->prefix);
	close(w->evfd);
	free(w);
}

/* Under mu: queue obj (consumed) for w. */
static void
enqueue(struct watcher *w, json_t *obj)
{
	struct evline *l;
	size_t len;
	char *buf;

	if (!w->linked || w->rescan_all) {
		json_decref(obj);
		return;
	}
	if (w->nqueued >= WATCH_QUEUE_MAX) {
		/* a client that cannot keep up re-fetches everything */
		evlines_free(w->head);
		w->head = NULL;
		w->tail = &w->head;
		w->nqueued = 0;
		w->rescan_all = 1;
		json_decref(obj);
		wake(w);
		return;
	}
	buf = proto_dump(obj, &len);
	json_decref(obj);
	l = xcalloc(1, sizeof(*l));
	l->buf = buf;
	l->len = len;
	*w->tail = l;
	w->tail = &l->next;
	w->nqueued++;
	if (w->nqueued == 1)
		wake(w);
}

/* Under mu: every watcher re-fetches everything (events were lost). */
static void
rescan_everyone(void)
{
	struct watcher *w;

	for (w = watchers; w != NULL; w = w->next)
		if (!w->rescan_all) {
			w->rescan_all = 1;
			wake(w);
		}
}

static int
is_prefix(const struct sd_path *q, const struct sd_path *p)
{
	int i;

	if (q->n > p->n)
		return 0;
	for (i = 0; i < q->n; i++)
		if (strcmp(q->name[i], p->name[i]) != 0)
			return 0;
	return 1;
}

/* ---- the listener -------------------------------------------------- */

/*
 * The path of node $1: its names from the root down ("{}" for the root),
 * no row when the node is gone.
 */
#define SQL_NODE_PATH \
	"WITH RECURSIVE up(id, parent_id, name, d) AS (" \
	"SELECT id, parent_id, name, 0 FROM node WHERE id = $1::bigint " \
	"UNION ALL SELECT n.id, n.parent_id, n.name, up.d + 1 FROM node n " \
	"JOIN up ON n.id = up.parent_id) " \
	"SELECT coalesce(array_agg(name ORDER BY d DESC) " \
	"FILTER (WHERE parent_id IS NOT NULL), '{}') FROM up HAVING count(*) > 0"

/*
 * Of the watchers $2 (principals) / $3 (their sessions' keys, as WHO in
 * store.c), the places (1-based) of those that may read node $1: the
 * union of their grants on the node and its ancestors holds bit $4.
 */
#define SQL_MAY_READ \
	"WITH RECURSIVE up(id, parent_id) AS (" \
	"SELECT id, parent_id FROM node WHERE id = $1::bigint " \
	"UNION ALL SELECT n.id, n.parent_id FROM node n " \
	"JOIN up ON n.id = up.parent_id), " \
	"w AS (SELECT u.ord, (SELECT k.principal_id FROM principal_key k " \
	"WHERE k.fingerprint = u.fp AND k.principal_id = u.pr) AS who " \
	"FROM unnest($2::bigint[], $3::text[]) WITH ORDINALITY " \
	"AS u(pr, fp, ord)) " \
	"SELECT w.ord FROM w WHERE (SELECT coalesce(bit_or(g.perms), 0) " \
	"FROM up JOIN node_grant g ON g.node_id = up.id " \
	"JOIN group_member m ON m.group_id = g.group_id " \
	"AND m.principal_id = w.who) & $4::integer <> 0"

/* Of the watchers $2 / $3, those whose principal is in group $1. */
#define SQL_IN_GROUP \
	"SELECT u.ord FROM unnest($2::bigint[], $3::text[]) WITH ORDINALITY " \
	"AS u(pr, fp, ord) WHERE EXISTS (SELECT 1 FROM principal_key k " \
	"JOIN group_member m ON m.principal_id = k.principal_id " \
	"WHERE k.fingerprint = u.fp AND k.principal_id = u.pr " \
	"AND m.group_id = $1::bigint)"

/* A statement of the listener, with p (freed); NULL when it failed
 * (logged). */
static PGresult *
lquery(PGconn *c, const char *sql, struct params *p)
{
	PGresult *res = PQexecParams(c, sql, p->n, NULL, params_v(p), NULL,
	    NULL, 0);

	params_free(p);
	if (PQresultStatus(res) == PGRES_TUPLES_OK)
		return res;
	if (PQstatus(c) != CONNECTION_BAD)
		log_warn("watch: %s", PQresultErrorMessage(res));
	PQclear(res);
	return NULL;
}

/* The path of a node, 0 or -1 (gone, or the statement failed). */
static int
node_path(PGconn *c, const char *node, struct sd_path *p)
{
	struct params q;
	PGresult *res;
	int e = -1;

	params_init(&q);
	params_text(&q, node);
	res = lquery(c, SQL_NODE_PATH, &q);
	if (res != NULL && PQntuples(res) == 1 &&
	    store_path_from_pg(PQgetvalue(res, 0, 0), p) == 0)
		e = 0;
	PQclear(res);
	return e;
}

/*
 * Take a reference on the watchers match() accepts, into *out (n of
 * them), with their principals and keys as arrays for a statement.
 */
static int
candidates(const struct sd_path *p, int (*match)(const struct watcher *,
    const struct sd_path *), struct watcher ***out, struct pg_array *pr,
    struct pg_array *fp)
{
	struct watcher *w, **v;
	int n = 0;

	pg_array_init(pr);
	pg_array_init(fp);
	pthread_mutex_lock(&mu);
	v = xcalloc((size_t)nwatchers + 1, sizeof(*v));
	for (w = watchers; w != NULL; w = w->next)
		if (match(w, p)) {
			w->refs++;
			v[n++] = w;
			pg_array_int(pr, w->principal_id);
			pg_array_text(fp, w->fp);
		}
	pthread_mutex_unlock(&mu);
	*out = v;
	return n;
}

static int
match_below(const struct watcher *w, const struct sd_path *p)
{
	int i;

	for (i = 0; i < w->nprefix; i++)
		if (is_prefix(&w->prefix[i], p))
			return 1;
	return 0;
}

static int
match_overlap(const struct watcher *w, const struct sd_path *p)
{
	int i;

	for (i = 0; i < w->nprefix; i++)
		if (is_prefix(&w->prefix[i], p) || is_prefix(p, &w->prefix[i]))
			return 1;
	return 0;
}

/*
 * Run sql ($1 arg, $2/$3 the candidates' arrays, $4 the permission
 * perm, or none for 0) and mark the candidates it returns in ok[].
 */
static int
select_allowed(PGconn *c, const char *sql, const char *arg, int perm,
    struct pg_array *pr, struct pg_array *fp, int n, char *ok)
{
	struct params p;
	PGresult *res;
	int i, k;

	params_init(&p);
	params_text(&p, arg);
	params_text(&p, pg_array_str(pr));
	params_text(&p, pg_array_str(fp));
	if (perm != 0)
		params_int(&p, perm);
	res = lquery(c, sql, &p);

	if (res == NULL)
		return -1;
	for (i = 0; i < PQntuples(res); i++) {
		k = atoi(PQgetvalue(res, i, 0));
		if (k >= 1 && k <= n)
			ok[k - 1] = 1;
	}
	PQclear(res);
	return 0;
}

/* Drop the references candidates() took.  Under mu. */
static void
release_all(struct watcher **v, int n)
{
	int i;

	for (i = 0; i < n; i++)
		unref(v[i]);
	free(v);
}

/* What a notice gathered for its candidates (not under mu). */
static void
notice_free(char *ok, struct pg_array *pr, struct pg_array *fp,
    struct sd_path *p)
{
	free(ok);
	pg_array_free(pr);
	pg_array_free(fp);
	path_free(p);
}

/* "v NODE VERSION DELETED": a changed event for each reader. */
static int
on_version(PGconn *c, const char *node, long long version, int deleted)
{
	struct pg_array pr, fp;
	struct sd_path p = { 0 };
	struct watcher **v;
	char *ok;
	int n, i, e;

	if (node_path(c, node, &p) != 0)
		return PQstatus(c) == CONNECTION_BAD ? -1 : 0;
	n = candidates(&p, match_below, &v, &pr, &fp);
	ok = xcalloc((size_t)n + 1, 1);
	e = n > 0 ? select_allowed(c, SQL_MAY_READ, node, PERM_READ, &pr, &fp,
	    n, ok) : 0;
	pthread_mutex_lock(&mu);
	for (i = 0; i < n; i++)
		if (ok[i])
			enqueue(v[i], json_pack("{s:s, s:o, s:I, s:b}", "event",
			    "changed", "path", path_to_json(&p), "version",
			    (json_int_t)version, "deleted", deleted));
	release_all(v, n);
	pthread_mutex_unlock(&mu);
	notice_free(ok, &pr, &fp, &p);
	return e;
}

/* "g NODE GROUP": a rescan of each overlapping prefix, for members. */
static int
on_grant(PGconn *c, const char *node, const char *group)
{
	struct pg_array pr, fp;
	struct sd_path p = { 0 };
	struct watcher **v;
	char *ok;
	int n, i, k, e;

	if (node_path(c, node, &p) != 0)
		return PQstatus(c) == CONNECTION_BAD ? -1 : 0;
	n = candidates(&p, match_overlap, &v, &pr, &fp);
	ok = xcalloc((size_t)n + 1, 1);
	e = n > 0 ? select_allowed(c, SQL_IN_GROUP, group, 0, &pr, &fp, n,
	    ok) : 0;
	pthread_mutex_lock(&mu);
	for (i = 0; i < n; i++)
		for (k = 0; ok[i] && k < v[i]->nprefix; k++)
			if (is_prefix(&v[i]->prefix[k], &p) ||
			    is_prefix(&p, &v[i]->prefix[k]))
				enqueue(v[i], json_pack("{s:s, s:o}", "event",
				    "rescan", "prefix",
				    path_to_json(&v[i]->prefix[k])));
	release_all(v, n);
	pthread_mutex_unlock(&mu);
	notice_free(ok, &pr, &fp, &p);
	return e;
}

/* "m PRINCIPAL" / "k PRINCIPAL": that principal's watchers. */
static void
on_principal(int64_t pid, int key)
{
	struct watcher *w;

	pthread_mutex_lock(&mu);
	for (w = watchers; w != NULL; w = w->next) {
		if (w->principal_id != pid)
			continue;
		if (key)
			w->check_key = 1;
		else
			w->rescan_all = 1;
		wake(w);
	}
	pthread_mutex_unlock(&mu);
}

/* One notice; -1 when the connection broke. */
static int
on_notice(PGconn *c, const char *payload)
{
	char node[24], group[24], del[2];
	long long a, b;

	/* nobody watches (all ended): no statement for the notice */
	if (watch_count() == 0)
		return 0;

	if (sscanf(payload, "v %23[0-9] %lld %1[tf]", node, &a, del) == 3)
		return on_version(c, node, a, del[0] == 't');
	if (sscanf(payload, "g %23[0-9] %23[0-9]", node, group) == 2)
		return on_grant(c, node, group);
	if (sscanf(payload, "m %lld", &b) == 1) {
		on_principal((int64_t)b, 0);
		return 0;
	}
	if (sscanf(payload, "k %lld", &b) == 1) {
		on_principal((int64_t)b, 1);
		return 0;
	}
	log_warn("watch: unknown notice ignored");
	return 0;
}

/* Wait ms for stop_fd; 1 when told to stop. */
static int
stop_wait(int ms)
{
	struct pollfd pfd = { .fd = stop_fd, .events = POLLIN };

	return poll(&pfd, 1, ms) > 0;
}

static void
serve_listen(PGconn *c)
{
	struct pollfd pfd[2];
	PGnotify *nt;
	int e = 0;

	pfd[0].fd = PQsocket(c);
	pfd[0].events = POLLIN;
	pfd[1].fd = stop_fd;
	pfd[1].events = POLLIN;
	while (e == 0) {
		while (e == 0 && (nt = PQnotifies(c)) != NULL) {
			if (strcmp(nt->relname, "secretd_watch") == 0)
				e = on_notice(c, nt->extra);
			PQfreemem(nt);
		}
		if (e != 0)
			break;
		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (pfd[1].revents)
			return;
		if (!PQconsumeInput(c))
			break;
	}
	log_warn("watch: lost the database connection: %s",
	    PQerrorMessage(c));
}

static void *
listener(void *arg)
{
	int backoff = RECONNECT_FIRST_MS, ever = 0, told = 0;
	char err[512];
	PGresult *res;
	PGconn *c;

	(void)arg;
	log_set_tag("watch");
	for (;;) {
		if ((c = db_connect_once(lctx->cfg->database, err,
		    sizeof(err))) != NULL) {
			res = PQexec(c, "LISTEN secretd_watch");
			if (PQresultStatus(res) != PGRES_COMMAND_OK) {
				log_warn("watch: LISTEN: %s",
				    PQresultErrorMessage(res));
				PQfinish(c);
				c = NULL;
			}
			PQclear(res);
		} else if (!told++)
			log_warn("watch: %s", err);
		if (c != NULL) {
			pthread_mutex_lock(&mu);
			listening = 1;
			if (ever)	/* notices may have been missed */
				rescan_everyone();
			pthread_cond_broadcast(&listening_cv);
			pthread_mutex_unlock(&mu);
			if (ever)
				log_info("watch: listening again");
			ever = 1;
			told = 0;
			backoff = RECONNECT_FIRST_MS;
			serve_listen(c);
			pthread_mutex_lock(&mu);
			listening = 0;
			pthread_mutex_unlock(&mu);
			PQfinish(c);
		}
		if (stop_wait(backoff))
			break;
		backoff = backoff * 2 > RECONNECT_MAX_MS ? RECONNECT_MAX_MS :
		    backoff * 2;
	}
	log_set_tag(NULL);
	return NULL;
}

/* ---- the sessions' side -------------------------------------------- */

int
watch_start(const struct server_ctx *ctx, struct session *s,
    const struct sd_path *prefixes, int n, const char **why)
{
	struct timespec deadline;
	struct watcher *w;
	int i;

	pthread_mutex_lock(&mu);
	if (!started) {
		lctx = ctx;
		if ((stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0 ||
		    pthread_create(&listener_tid, NULL, listener, NULL) != 0) {
			if (stop_fd >= 0)
				close(stop_fd);
			stop_fd = -1;
			pthread_mutex_unlock(&mu);
			*why = "cannot start the change listener";
			return SD_EINTERNAL;
		}
		started = 1;
	}
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += LISTEN_WAIT_S;
	while (!listening)
		if (pthread_cond_timedwait(&listening_cv, &mu, &deadline) != 0)
			break;
	if (!listening) {
		pthread_mutex_unlock(&mu);
		*why = "cannot listen for changes now (database unavailable)";
		return SD_EUNAVAIL;
	}
	if (s->watch == NULL && nwatchers >= WATCH_MAX) {
		pthread_mutex_unlock(&mu);
		*why = "too many watches on this server";
		return SD_EUNAVAIL;
	}
	pthread_mutex_unlock(&mu);

	w = xcalloc(1, sizeof(*w));
	if ((w->evfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0) {
		free(w);
		*why = "cannot watch now (out of file descriptors)";
		return SD_EUNAVAIL;
	}
	w->principal_id = s->principal_id;
	snprintf(w->fp, sizeof(w->fp), "%s", s->fingerprint);
	w->prefix = xcalloc((size_t)n, sizeof(*w->prefix));
	for (i = 0; i < n; i++)
		path_copy(&w->prefix[i], &prefixes[i]);
	w->nprefix = n;
	w->tail = &w->head;
	w->refs = 1;
	watch_end(s);		/* a second watch replaces the first */
	pthread_mutex_lock(&mu);
	w->linked = 1;
	w->next = watchers;
	if (watchers != NULL)
		watchers->prev = w;
	watchers = w;
	nwatchers++;
	pthread_mutex_unlock(&mu);
	s->watch = w;
	return 0;
}

void
watch_end(struct session *s)
{
	struct watcher *w = s->watch;

	if (w == NULL)
		return;
	s->watch = NULL;
	pthread_mutex_lock(&mu);
	if (w->prev != NULL)
		w->prev->next = w->next;
	else
		watchers = w->next;
	if (w->next != NULL)
		w->next->prev = w->prev;
	w->linked = 0;
	nwatchers--;
	unref(w);
	pthread_mutex_unlock(&mu);
}

int
watch_count(void)
{
	int n;

	pthread_mutex_lock(&mu);
	n = nwatchers;
	pthread_mutex_unlock(&mu);
	return n;
}

static int
send_obj(const struct server_ctx *ctx, int fd, json_t *obj)
{
	size_t len;
	char *buf = proto_dump(obj, &len);
	int r = write_all_timeout(fd, buf, len, ctx->cfg->idle_timeout * 1000);

	free(buf);
	json_decref(obj);
	return r;
}

/* Send what is queued for s; 0, or -1 to close the session. */
static int
deliver(const struct server_ctx *ctx, struct session *s, int fd)
{
	struct watcher *w = s->watch;
	struct evline *l, *head;
	int rescan, check, i, r = 0;
	char msg[160];
	uint64_t cnt;

	if (read(w->evfd, &cnt, sizeof(cnt)) < 0 && errno != EAGAIN)
		return -1;
	pthread_mutex_lock(&mu);
	head = w->head;
	w->head = NULL;
	w->tail = &w->head;
	w->nqueued = 0;
	rescan = w->rescan_all;
	check = w->check_key;
	w->rescan_all = w->check_key = 0;
	pthread_mutex_unlock(&mu);

	if (check && revoke_check(ctx, s)) {
		evlines_free(head);
		(void)send_obj(ctx, fd, json_pack("{s:s, s:{s:s, s:s}}",
		    "event", "closed", "error", "code",
		    sd_err_code(SD_EUNAUTH), "message",
		    revoke_message(s, msg, sizeof(msg))));
		return -1;
	}
	if (rescan) {
		/* everything anyway: the changes queued say nothing more */
		evlines_free(head);
		head = NULL;
		for (i = 0; i < w->nprefix && r == 0; i++)
			r = send_obj(ctx, fd, json_pack("{s:s, s:o}", "event",
			    "rescan", "prefix", path_to_json(&w->prefix[i])));
	}
	for (l = head; l != NULL && r == 0; l = l->next)
		r = write_all_timeout(fd, l->buf, l->len,
		    ctx->cfg->idle_timeout * 1000);
	evlines_free(head);
	if (r != 0)
		log_warn("the watching client read no event for %d s: dropped",
		    ctx->cfg->idle_timeout);
	return r == 0 ? 0 : -1;
}

int
watch_wait(const struct server_ctx *ctx, struct session *s, int fd,
    struct linereader *lr)
{
	struct pollfd pfd[2];

	for (;;) {
		if (linereader_pending(lr) > 0)
			return 1;
		pfd[0].fd = fd;
		pfd[0].events = POLLIN;
		pfd[1].fd = s->watch->evfd;
		pfd[1].events = POLLIN;
		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return 0;
		}
		if ((pfd[1].revents & POLLIN) && deliver(ctx, s, fd) != 0)
			return 0;
		if (pfd[0].revents != 0)
			return 1;
	}
}

void
watch_shutdown(void)
{
	uint64_t one = 1;

	pthread_mutex_lock(&mu);
	if (!started) {
		pthread_mutex_unlock(&mu);
		return;
	}
	pthread_mutex_unlock(&mu);
	if (write(stop_fd, &one, sizeof(one)) < 0)
		log_warn("watch: cannot stop the listener: %s",
		    strerror(errno));
	pthread_join(listener_tid, NULL);
}
