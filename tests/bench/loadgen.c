/*
 * loadgen.c - the load generator of `make bench` (tests/bench/run.sh).
 *
 *   loadgen MODE [options]
 *
 * Modes (each prints one JSON object on stdout, see print_result):
 *   secretd-get      N connections to secretd's Unix socket; each sends
 *                    hello with the public key -k, then secret.get of -p
 *                    in a loop, one request at a time, timing each.
 *   secretd-put      the same with secret.put of a -v byte value to
 *                    -p/c<N> (a distinct key per connection, a new version
 *                    per request).
 *   pg-select-audit  N libpq connections (conninfo -D, else the PG*
 *                    variables), prepared statements, autocommit: per
 *                    operation one SELECT by primary key from bench_kv and
 *                    one INSERT into bench_audit (audit_log's shape).
 *   pg-select        only the SELECT.
 *   pg-insert        only an INSERT into bench_version (secret_version's
 *                    shape: node, version, key id, nonce, ciphertext).
 *   etcd-get         N keep-alive HTTP/1.1 connections to etcd's JSON
 *                    gateway (-E host:port); each authenticates as -U
 *                    user:password once, then POSTs /v3/kv/range of -K
 *                    with the token in the Authorization header.
 *   idle-conns       open -c socket connections, send hello on each,
 *                    print "ready N" and hold them until stdin ends (or
 *                    -H seconds), then close them.
 *   idle-watches     the same, each connection also watching the prefix
 *                    -p (secret.watch, answered ok) before "ready N".
 *   watch-latency    on one connection, -n times: secret.put of a new
 *                    -v byte value to -p; from its answer, the time until
 *                    the file -F (written by a `secret fetch --watch`
 *                    elsewhere) holds that value: inotify on the parent
 *                    of -F's directory (fetch --dest swaps the directory
 *                    by rename) and a read of -F at least every 2 ms.
 *                    Two unmeasured puts first; a pause of -g to 2 x -g
 *                    ms after each change is seen.
 *
 * Options: -c CONNS (32)  -d SECONDS measured (5)  -w SECONDS warm-up (1)
 *   -S SOCKET  -k PUBKEYFILE  -p PATH (a/b/c)  -v VALUE_BYTES (64)
 *   -D CONNINFO  -E HOST:PORT  -U USER:PASSWORD  -K KEY  -s (etcd:
 *   serializable reads)  -i ROW_ID (pg: bench_kv id, 1)  -H SECONDS
 *   -F FILE  -n PUTS (50)  -g GAP_MS (100)  (watch-latency)
 *
 * Every connection is opened (and authenticated) before the clock starts;
 * the warm-up is run but not counted; then every operation that completes
 * within the measured window counts, and its latency is recorded.  An
 * operation that fails (ok:false, a libpq error, HTTP status != 200) is
 * counted as an error, the first one is printed on stderr, and the exit
 * status is 1 so the driver cannot mistake a failing run for a fast one.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <libgen.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/inotify.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <libpq-fe.h>
#include <sodium.h>

#include "linereader.h"
#include "proto.h"
#include "xmalloc.h"

#define MAX_CONNS	4096
#define RESP_MAX	(1024 * 1024)

enum mode {
	M_SECRETD_GET, M_SECRETD_PUT, M_PG_SELECT_AUDIT, M_PG_SELECT,
	M_PG_INSERT, M_ETCD_GET, M_IDLE_CONNS, M_IDLE_WATCHES, M_WATCH_LATENCY,
};

static const struct {
	const char	*name;
	enum mode	 mode;
} modes[] = {
	{ "secretd-get", M_SECRETD_GET },
	{ "secretd-put", M_SECRETD_PUT },
	{ "pg-select-audit", M_PG_SELECT_AUDIT },
	{ "pg-select", M_PG_SELECT },
	{ "pg-insert", M_PG_INSERT },
	{ "etcd-get", M_ETCD_GET },
	{ "idle-conns", M_IDLE_CONNS },
	{ "idle-watches", M_IDLE_WATCHES },
	{ "watch-latency", M_WATCH_LATENCY },
};

static struct {
	enum mode	 mode;
	const char	*mode_name;
	int		 conns;
	double		 secs, warm, hold;
	const char	*sock, *pubfile, *path, *conninfo, *etcd, *user, *key;
	const char	*file;
	int		 value_size, serializable, puts, gap_ms;
	long		 row_id;
	char		 pubkey[8192];	/* "type base64" */
} opt = {
	.conns = 32, .secs = 5, .warm = 1, .hold = 60, .path = "bench/get/k",
	.value_size = 64, .row_id = 1, .key = "/bench/k", .puts = 50,
	.gap_ms = 100,
};

/* 0: warming up, 1: measuring, 2: stop */
static atomic_int phase;
static atomic_int first_error_printed;
static pthread_barrier_t ready;

struct worker {
	int		 no;
	pthread_t	 tid;
	uint64_t	*lat;		/* ns, measured window only */
	size_t		 nlat, cap;
	uint64_t	 errors;
	int		 setup_failed;
	char		 rbuf[8192];	/* HTTP read buffer (etcd) */
	size_t		 rstart, rend;
};

static void
die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "loadgen: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

static void
report_error(struct worker *w, const char *fmt, ...)
{
	va_list ap;

	w->errors++;
	if (atomic_exchange(&first_error_printed, 1))
		return;
	fprintf(stderr, "loadgen: %s: connection %d: ", opt.mode_name, w->no);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Record one completed operation; returns 0 to go on, 1 to stop. */
static int
record(struct worker *w, uint64_t t0, int ok)
{
	uint64_t t1 = now_ns();
	int ph = atomic_load_explicit(&phase, memory_order_relaxed);

	if (ph == 2)
		return 1;
	if (!ok) {
		/* errors count whatever the phase */
		return 0;
	}
	if (ph == 1) {
		if (w->nlat == w->cap) {
			w->cap = w->cap ? w->cap * 2 : 65536;
			w->lat = xreallocarray(w->lat, w->cap, sizeof(*w->lat));
		}
		w->lat[w->nlat++] = t1 - t0;
	}
	return 0;
}

/* Wait for the start signal; a worker whose setup failed still joins. */
static void
wait_ready(void)
{
	pthread_barrier_wait(&ready);
}

/* ------------------------------------------------------------ secretd */

static int
unix_connect(const char *path)
{
	struct sockaddr_un sun;
	int fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path))
		die("socket path too long: %s", path);
	strcpy(sun.sun_path, path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

/* JSON array text of a path "a/b/c" -> ["a","b","c"] (names are plain). */
static char *
path_json(const char *path, const char *suffix)
{
	json_t *a = json_array();
	char *copy = suffix ? xasprintf("%s/%s", path, suffix) : xstrdup(path);
	char *save = NULL, *tok, *out;

	for (tok = strtok_r(copy, "/", &save); tok != NULL;
	    tok = strtok_r(NULL, "/", &save))
		json_array_append_new(a, json_string(tok));
	out = json_dumps(a, JSON_COMPACT);
	json_decref(a);
	free(copy);
	if (out == NULL)
		die("bad path %s", path);
	return out;
}

/* Connect and say hello; returns the fd or -1 (error reported). */
static int
secretd_open(struct worker *w, struct linereader **lrp)
{
	json_t *hello, *resp;
	const char *why = NULL;
	char *buf, *line;
	size_t len;
	int fd, r;

	if ((fd = unix_connect(opt.sock)) == -1) {
		report_error(w, "connect %s: %s", opt.sock, strerror(errno));
		return -1;
	}
	hello = json_pack("{s:s, s:s, s:s}", "action", "hello", "key",
	    opt.pubkey, "client", "127.0.0.1 40000 127.0.0.1 22");
	buf = proto_dump(hello, &len);
	json_decref(hello);
	if (write_all(fd, buf, len) != 0) {
		free(buf);
		report_error(w, "hello: write: %s", strerror(errno));
		close(fd);
		return -1;
	}
	free(buf);
	*lrp = linereader_fd(fd, RESP_MAX);
	r = linereader_next(*lrp, 30000, &line, &len);
	if (r != LR_LINE) {
		report_error(w, "hello: no answer (%d)", r);
		goto fail;
	}
	if ((resp = proto_parse(line, len, &why)) == NULL) {
		report_error(w, "hello: %s", why);
		goto fail;
	}
	if (!json_is_true(json_object_get(resp, "ok")) ||
	    json_is_true(json_object_get(resp, "enrol_only"))) {
		report_error(w, "hello refused: %s", line);
		json_decref(resp);
		goto fail;
	}
	json_decref(resp);
	return fd;
fail:
	linereader_free(*lrp);
	*lrp = NULL;
	close(fd);
	return -1;
}

/* Fill buf with n printable bytes (no JSON escapes needed). */
static void
fill_value(char *buf, int n, uint32_t seed)
{
	static const char al[] = "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
	int i;

	for (i = 0; i < n; i++) {
		seed = seed * 1103515245u + 12345u;
		buf[i] = al[(seed >> 16) % (sizeof(al) - 1)];
	}
	buf[n] = '\0';
}

/* Check one response line: ok:true; the first one is parsed in full. */
static int
check_secretd_resp(struct worker *w, const char *line, size_t len,
    int full)
{
	const char *why = NULL;
	json_t *o;
	int ok;

	if (!full)
		return strstr(line, "\"ok\":true") != NULL;
	if ((o = proto_parse(line, len, &why)) == NULL)
		return 0;
	ok = json_is_true(json_object_get(o, "ok"));
	if (ok && opt.mode == M_SECRETD_GET) {
		json_t *v = json_object_get(o, "value");

		if (!json_is_string(v) ||
		    (opt.value_size > 0 &&
		    json_string_length(v) != (size_t)opt.value_size)) {
			fprintf(stderr, "loadgen: connection %d: value of %zu "
			    "bytes, expected %d\n", w->no,
			    json_is_string(v) ? json_string_length(v) : 0,
			    opt.value_size);
			ok = 0;
		}
	}
	json_decref(o);
	return ok;
}

static void *
secretd_worker(void *arg)
{
	struct worker *w = arg;
	struct linereader *lr = NULL;
	char *pathj, *req, *line, suffix[32];
	char *val = NULL;
	size_t len, reqcap;
	uint64_t n = 0, t0;
	int fd, r, rl, stop = 0;

	snprintf(suffix, sizeof(suffix), "c%d", w->no);
	pathj = path_json(opt.path, opt.mode == M_SECRETD_PUT ? suffix : NULL);
	reqcap = strlen(pathj) + (size_t)opt.value_size + 256;
	req = xmalloc(reqcap);
	if (opt.mode == M_SECRETD_PUT) {
		val = xmalloc((size_t)opt.value_size + 1);
		fill_value(val, opt.value_size, (uint32_t)w->no * 7919u + 1);
	}
	fd = secretd_open(w, &lr);
	if (fd == -1)
		w->setup_failed = 1;
	wait_ready();
	if (fd == -1)
		goto out;
	while (!stop) {
		n++;
		if (opt.mode == M_SECRETD_GET)
			rl = snprintf(req, reqcap, "{\"id\":%" PRIu64 ",\"action\":"
			    "\"secret.get\",\"path\":%s}\n", n, pathj);
		else {
			/* a different value each time: a real new version */
			if (opt.value_size >= 8)
				snprintf(val, 9, "%08" PRIx64, n);
			val[8 < opt.value_size ? 8 : opt.value_size] =
			    opt.value_size > 8 ? 'v' : '\0';
			rl = snprintf(req, reqcap, "{\"id\":%" PRIu64 ",\"action\":"
			    "\"secret.put\",\"path\":%s,\"value\":\"%s\"}\n",
			    n, pathj, val);
		}
		t0 = now_ns();
		if (write_all(fd, req, (size_t)rl) != 0) {
			report_error(w, "write: %s", strerror(errno));
			break;
		}
		r = linereader_next(lr, 60000, &line, &len);
		if (r != LR_LINE) {
			report_error(w, "no answer (%d)", r);
			break;
		}
		if (!check_secretd_resp(w, line, len, n == 1)) {
			report_error(w, "%.300s", line);
			stop = record(w, t0, 0);
			continue;
		}
		stop = record(w, t0, 1);
	}
	linereader_free(lr);
	close(fd);
out:
	free(pathj);
	free(req);
	free(val);
	return NULL;
}

/* ----------------------------------------------------------------- pg */

static const char SQL_SELECT[] =
    "SELECT value FROM bench_kv WHERE id = $1";
static const char SQL_AUDIT[] =
    "INSERT INTO bench_audit (principal, fingerprint, action, path, "
    "version, result, error_code, client_addr, client_port, session_id, "
    "request_id, value_hash, detail) VALUES ($1, $2, $3, $4::text[], $5, "
    "$6, $7, $8, $9, $10, $11, $12, $13::jsonb)";
static const char SQL_INSERT[] =
    "INSERT INTO bench_version (node_id, version, key_id, nonce, "
    "ciphertext, created_by) VALUES ($1, $2, 1, $3, $4, 'admin')";

static PGconn *
pg_open(struct worker *w)
{
	PGconn *c = PQconnectdb(opt.conninfo ? opt.conninfo : "");
	PGresult *r;

	if (PQstatus(c) != CONNECTION_OK) {
		report_error(w, "connect: %s", PQerrorMessage(c));
		PQfinish(c);
		return NULL;
	}
#define PREP(name, sql) do {						\
	r = PQprepare(c, name, sql, 0, NULL);				\
	if (PQresultStatus(r) != PGRES_COMMAND_OK) {			\
		report_error(w, "prepare %s: %s", name,			\
		    PQresultErrorMessage(r));				\
		PQclear(r);						\
		PQfinish(c);						\
		return NULL;						\
	}								\
	PQclear(r);							\
} while (0)
	PREP("sel", SQL_SELECT);
	PREP("aud", SQL_AUDIT);
	PREP("ins", SQL_INSERT);
#undef PREP
	return c;
}

static int
pg_ok(struct worker *w, PGresult *r, ExecStatusType want, const char *what)
{
	if (PQresultStatus(r) == want)
		return 1;
	report_error(w, "%s: %s", what, PQresultErrorMessage(r));
	return 0;
}

static void *
pg_worker(void *arg)
{
	struct worker *w = arg;
	PGconn *c = pg_open(w);
	char idbuf[24], reqid[24], sess[17], nodebuf[24], verbuf[24];
	unsigned char nonce[24], ct[1024 + 16];
	const char *av[13];
	const char *iv[4];
	int ilen[4] = { 0 }, ifmt[4] = { 0 };
	size_t ctlen = (size_t)opt.value_size + 16;
	uint64_t n = 0, t0;
	PGresult *r;
	int ok, stop = 0;

	if (c == NULL)
		w->setup_failed = 1;
	wait_ready();
	if (c == NULL)
		return NULL;
	if (ctlen > sizeof(ct))
		ctlen = sizeof(ct);
	randombytes_buf(nonce, sizeof(nonce));
	randombytes_buf(ct, ctlen);
	snprintf(idbuf, sizeof(idbuf), "%ld", opt.row_id);
	snprintf(sess, sizeof(sess), "%016x", (unsigned)w->no * 2654435761u);
	/* the values of a secretd audit row of a successful get */
	av[0] = "admin";
	av[1] = "SHA256:0cMn3mbTbqs5ZFqzQGH1kKqNn4nF5aX1b6DdyjTQ0aQ";
	av[2] = "secret.get";
	av[3] = "{bench,get,k}";
	av[4] = "1";
	av[5] = "ok";
	av[6] = NULL;
	av[7] = "127.0.0.1";
	av[8] = "40000";
	av[9] = sess;
	av[10] = reqid;
	av[11] = NULL;
	av[12] = NULL;
	/* pg-insert: this connection's own node (unique to this run), a new
	 * version each time */
	snprintf(nodebuf, sizeof(nodebuf), "%lld",
	    (long long)getpid() * 10000 + w->no);
	iv[0] = nodebuf;
	iv[1] = verbuf;
	iv[2] = (const char *)nonce;
	ilen[2] = (int)sizeof(nonce);
	ifmt[2] = 1;
	iv[3] = (const char *)ct;
	ilen[3] = (int)ctlen;
	ifmt[3] = 1;
	while (!stop) {
		n++;
		t0 = now_ns();
		ok = 1;
		if (opt.mode == M_PG_SELECT || opt.mode == M_PG_SELECT_AUDIT) {
			const char *sv[1] = { idbuf };

			r = PQexecPrepared(c, "sel", 1, sv, NULL, NULL, 0);
			ok = pg_ok(w, r, PGRES_TUPLES_OK, "select");
			if (ok && PQntuples(r) != 1) {
				report_error(w, "select: %d rows", PQntuples(r));
				ok = 0;
			}
			PQclear(r);
		}
		if (ok && opt.mode == M_PG_SELECT_AUDIT) {
			snprintf(reqid, sizeof(reqid), "%" PRIu64, n);
			r = PQexecPrepared(c, "aud", 13, av, NULL, NULL, 0);
			ok = pg_ok(w, r, PGRES_COMMAND_OK, "audit insert");
			PQclear(r);
		}
		if (opt.mode == M_PG_INSERT) {
			snprintf(verbuf, sizeof(verbuf), "%" PRIu64, n);
			r = PQexecPrepared(c, "ins", 4, iv, ilen, ifmt, 0);
			ok = pg_ok(w, r, PGRES_COMMAND_OK, "insert");
			PQclear(r);
		}
		if (!ok && PQstatus(c) != CONNECTION_OK)
			break;
		stop = record(w, t0, ok);
	}
	PQfinish(c);
	return NULL;
}

/* --------------------------------------------------------------- etcd */

static struct sockaddr_in etcd_addr;
static char etcd_hostport[64];

static int
tcp_connect(void)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;

	if (fd == -1)
		return -1;
	if (connect(fd, (struct sockaddr *)&etcd_addr, sizeof(etcd_addr)) ==
	    -1) {
		close(fd);
		return -1;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

/* Read more bytes into the worker's buffer; -1 on EOF/error. */
static int
http_fill(struct worker *w, int fd)
{
	ssize_t n;

	if (w->rstart > 0 && w->rstart == w->rend)
		w->rstart = w->rend = 0;
	if (w->rend == sizeof(w->rbuf)) {
		if (w->rstart == 0)
			return -1;	/* a header larger than the buffer */
		memmove(w->rbuf, w->rbuf + w->rstart, w->rend - w->rstart);
		w->rend -= w->rstart;
		w->rstart = 0;
	}
	do
		n = read(fd, w->rbuf + w->rend, sizeof(w->rbuf) - w->rend);
	while (n == -1 && errno == EINTR);
	if (n <= 0)
		return -1;
	w->rend += (size_t)n;
	return 0;
}

/* Read exactly n body bytes, appending them to *body (malloc'ed). */
static int
http_read_n(struct worker *w, int fd, size_t n, char **body, size_t *blen)
{
	size_t take;

	*body = xreallocarray(*body, *blen + n + 1, 1);
	while (n > 0) {
		if (w->rstart == w->rend && http_fill(w, fd) != 0)
			return -1;
		take = w->rend - w->rstart < n ? w->rend - w->rstart : n;
		memcpy(*body + *blen, w->rbuf + w->rstart, take);
		w->rstart += take;
		*blen += take;
		n -= take;
	}
	(*body)[*blen] = '\0';
	return 0;
}

/* Read one CRLF-terminated line (without CRLF) into line[cap]. */
static int
http_line(struct worker *w, int fd, char *line, size_t cap)
{
	char *p;
	size_t l;

	for (;;) {
		p = memchr(w->rbuf + w->rstart, '\n', w->rend - w->rstart);
		if (p != NULL)
			break;
		if (http_fill(w, fd) != 0)
			return -1;
	}
	l = (size_t)(p - (w->rbuf + w->rstart));
	if (l > 0 && w->rbuf[w->rstart + l - 1] == '\r')
		l--;
	if (l >= cap)
		return -1;
	memcpy(line, w->rbuf + w->rstart, l);
	line[l] = '\0';
	w->rstart = (size_t)(p - w->rbuf) + 1;
	return 0;
}

/*
 * One request/response exchange on a keep-alive connection.  Returns the
 * HTTP status (and the body, malloc'ed) or -1 on a connection error.
 */
static int
http_post(struct worker *w, int fd, const char *req, size_t reqlen,
    char **body, size_t *blen)
{
	char line[1024];
	long clen = -1;
	int status, chunked = 0;

	*body = NULL;
	*blen = 0;
	if (write_all(fd, req, reqlen) != 0)
		return -1;
	if (http_line(w, fd, line, sizeof(line)) != 0 ||
	    sscanf(line, "HTTP/1.%*d %d", &status) != 1)
		return -1;
	for (;;) {
		if (http_line(w, fd, line, sizeof(line)) != 0)
			return -1;
		if (line[0] == '\0')
			break;
		if (strncasecmp(line, "content-length:", 15) == 0)
			clen = strtol(line + 15, NULL, 10);
		else if (strncasecmp(line, "transfer-encoding:", 18) == 0 &&
		    strstr(line, "chunked") != NULL)
			chunked = 1;
	}
	if (chunked) {
		for (;;) {
			long n;

			if (http_line(w, fd, line, sizeof(line)) != 0)
				return -1;
			n = strtol(line, NULL, 16);
			if (n < 0)
				return -1;
			if (n == 0) {
				/* trailers until the empty line */
				do {
					if (http_line(w, fd, line,
					    sizeof(line)) != 0)
						return -1;
				} while (line[0] != '\0');
				break;
			}
			if (http_read_n(w, fd, (size_t)n, body, blen) != 0 ||
			    http_line(w, fd, line, sizeof(line)) != 0)
				return -1;
		}
	} else if (clen >= 0) {
		if (http_read_n(w, fd, (size_t)clen, body, blen) != 0)
			return -1;
	} else
		return -1;	/* we need keep-alive framing */
	if (*body == NULL)
		*body = xstrdup("");
	return status;
}

static char *
http_request(const char *uri, const char *token, const char *body)
{
	return xasprintf("POST %s HTTP/1.1\r\nHost: %s\r\n%s%s%s"
	    "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
	    uri, etcd_hostport, token ? "Authorization: " : "",
	    token ? token : "", token ? "\r\n" : "", strlen(body), body);
}

static char *
b64(const char *s, size_t n)
{
	size_t cap = sodium_base64_ENCODED_LEN(n,
	    sodium_base64_VARIANT_ORIGINAL);
	char *out = xmalloc(cap);

	sodium_bin2base64(out, cap, (const unsigned char *)s, n,
	    sodium_base64_VARIANT_ORIGINAL);
	return out;
}

/* Authenticate; returns the token (malloc'ed) or NULL. */
static char *
etcd_auth(struct worker *w, int fd)
{
	const char *colon = strchr(opt.user, ':');
	json_t *o, *resp;
	char *body, *req, *rb = NULL, *tok = NULL;
	size_t rblen;
	int st;

	if (colon == NULL)
		die("-U wants user:password");
	o = json_pack("{s:s%, s:s}", "name", opt.user,
	    (size_t)(colon - opt.user), "password", colon + 1);
	body = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	req = http_request("/v3/auth/authenticate", NULL, body);
	st = http_post(w, fd, req, strlen(req), &rb, &rblen);
	free(req);
	free(body);
	if (st != 200) {
		report_error(w, "authenticate: HTTP %d: %.300s", st,
		    rb ? rb : "");
		free(rb);
		return NULL;
	}
	if ((resp = json_loads(rb, 0, NULL)) != NULL &&
	    json_is_string(json_object_get(resp, "token")))
		tok = xstrdup(json_string_value(json_object_get(resp,
		    "token")));
	else
		report_error(w, "authenticate: no token in %.300s", rb);
	json_decref(resp);
	free(rb);
	return tok;
}

static void *
etcd_worker(void *arg)
{
	struct worker *w = arg;
	char *tok = NULL, *req = NULL, *body, *kb, *rb;
	size_t rblen, reqlen = 0;
	uint64_t n = 0, t0;
	int fd, st, ok, stop = 0;
	char *vneedle = NULL;

	fd = tcp_connect();
	if (fd == -1)
		report_error(w, "connect %s: %s", etcd_hostport,
		    strerror(errno));
	else if ((tok = etcd_auth(w, fd)) == NULL) {
		close(fd);
		fd = -1;
	}
	if (fd != -1) {
		kb = b64(opt.key, strlen(opt.key));
		body = xasprintf("{\"key\":\"%s\"%s}", kb, opt.serializable ?
		    ",\"serializable\":true" : "");
		req = http_request("/v3/kv/range", tok, body);
		reqlen = strlen(req);
		free(kb);
		free(body);
		/* "kvs" with a "value" field: the read was allowed */
		vneedle = xstrdup("\"value\":\"");
	} else
		w->setup_failed = 1;
	wait_ready();
	if (fd == -1)
		goto out;
	while (!stop) {
		n++;
		t0 = now_ns();
		st = http_post(w, fd, req, reqlen, &rb, &rblen);
		if (st == -1) {
			report_error(w, "connection lost");
			free(rb);
			break;
		}
		ok = st == 200 && strstr(rb, vneedle) != NULL;
		if (ok && n == 1 && opt.value_size > 0) {
			json_t *o = json_loads(rb, 0, NULL);
			const char *v = json_string_value(json_object_get(
			    json_array_get(json_object_get(o, "kvs"), 0),
			    "value"));
			size_t want = sodium_base64_ENCODED_LEN(
			    (size_t)opt.value_size,
			    sodium_base64_VARIANT_ORIGINAL) - 1;

			if (v == NULL || strlen(v) != want) {
				fprintf(stderr, "loadgen: value has %zu base64 "
				    "chars, expected %zu\n", v ? strlen(v) : 0,
				    want);
				ok = 0;
			}
			json_decref(o);
		}
		if (!ok)
			report_error(w, "range: HTTP %d: %.300s", st, rb);
		free(rb);
		stop = record(w, t0, ok);
	}
	close(fd);
out:
	free(tok);
	free(req);
	free(vneedle);
	return NULL;
}

static int	cmp_u64(const void *, const void *);
static double	pct(const uint64_t *, size_t, double);

/* ---------------------------------------------------------- idle conns */

/* Send one request line on fd and read its answer: 0 if it says ok:true
 * (and carries want, when not NULL), else -1 (error reported). */
static int
secretd_call(struct worker *w, int fd, struct linereader *lr,
    const char *req, const char *want)
{
	char *line;
	size_t len;
	int r;

	if (write_all(fd, req, strlen(req)) != 0) {
		report_error(w, "write: %s", strerror(errno));
		return -1;
	}
	if ((r = linereader_next(lr, 60000, &line, &len)) != LR_LINE) {
		report_error(w, "no answer (%d)", r);
		return -1;
	}
	if (strstr(line, "\"ok\":true") == NULL ||
	    (want != NULL && strstr(line, want) == NULL)) {
		report_error(w, "%.300s", line);
		return -1;
	}
	return 0;
}

static int
idle_conns(void)
{
	struct worker w = { 0 };
	struct linereader **lrs = xcalloc((size_t)opt.conns, sizeof(*lrs));
	int *fds = xcalloc((size_t)opt.conns, sizeof(*fds));
	struct pollfd pfd = { .fd = 0, .events = POLLIN };
	struct rlimit rl;
	char buf[256], *pathj, *watch = NULL;
	uint64_t deadline;
	int i, n = 0;

	/* a thousand sockets may pass a soft limit of 1024 */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
	if (opt.mode == M_IDLE_WATCHES) {
		pathj = path_json(opt.path, NULL);
		watch = xasprintf("{\"id\":1,\"action\":\"secret.watch\","
		    "\"prefixes\":[%s]}\n", pathj);
		free(pathj);
	}
	for (i = 0; i < opt.conns; i++) {
		w.no = i;
		if ((fds[i] = secretd_open(&w, &lrs[i])) == -1)
			break;
		n++;
		if (watch != NULL && secretd_call(&w, fds[i], lrs[i], watch,
		    "\"watching\":1") != 0)
			break;
	}
	if (w.errors > 0)
		n--;
	printf("ready %d\n", n);
	fflush(stdout);
	deadline = now_ns() + (uint64_t)(opt.hold * 1e9);
	while (now_ns() < deadline) {
		int left = (int)((deadline - now_ns()) / 1000000) + 1;

		if (poll(&pfd, 1, left) > 0) {
			ssize_t r = read(0, buf, sizeof(buf));

			if (r <= 0)
				break;
		}
	}
	for (i = 0; i < opt.conns && fds[i] > 0; i++) {
		linereader_free(lrs[i]);
		close(fds[i]);
	}
	free(lrs);
	free(fds);
	free(watch);
	return n == opt.conns ? 0 : 1;
}

/* ------------------------------------------------------- watch latency */

/* 1 if the file holds exactly val (len bytes). */
static int
file_holds(const char *file, const char *val, size_t len)
{
	char buf[2048];
	ssize_t r;
	int fd;

	if ((fd = open(file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1)
		return 0;
	r = read(fd, buf, sizeof(buf));
	close(fd);
	return r >= 0 && (size_t)r == len && memcmp(buf, val, len) == 0;
}

/* Sleep ms milliseconds. */
static void
sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/*
 * Wait (at most 30 s) until file holds val; inotify wakes the loop when
 * an entry of watchdir changes, and it looks anyway every 2 ms.  Returns
 * 0, or -1 on timeout.
 */
static int
wait_file(int ifd, const char *file, const char *val, size_t len)
{
	struct pollfd pfd = { .fd = ifd, .events = POLLIN };
	char ev[4096];
	uint64_t limit = now_ns() + 30000000000ull;

	while (!file_holds(file, val, len)) {
		if (now_ns() > limit)
			return -1;
		if (poll(&pfd, 1, 2) > 0)
			while (read(ifd, ev, sizeof(ev)) > 0)
				;
	}
	return 0;
}

static int
watch_latency(void)
{
	struct worker w = { 0 };
	struct linereader *lr = NULL;
	char *pathj, *req = NULL, *val, *copy, *dir, *parent;
	uint64_t *lat, t0, sum = 0;
	int fd, ifd, i, k, n = 0, warm = 2;

	if (opt.file == NULL || opt.puts < 1 || opt.value_size < 16)
		die("watch-latency: -F FILE, -n >= 1 and -v >= 16 are needed");
	/* fetch --dest swaps DIR by rename: watch DIR's parent */
	copy = xstrdup(opt.file);
	dir = xstrdup(dirname(copy));
	free(copy);
	copy = xstrdup(dir);
	parent = dirname(copy);
	if ((ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) == -1 ||
	    inotify_add_watch(ifd, parent, IN_MOVED_TO | IN_MOVED_FROM |
	    IN_CREATE | IN_DELETE) == -1 ||
	    inotify_add_watch(ifd, dir, IN_MOVED_TO | IN_CLOSE_WRITE |
	    IN_CREATE) == -1)
		die("inotify on %s: %s", parent, strerror(errno));
	free(copy);
	free(dir);
	if ((fd = secretd_open(&w, &lr)) == -1)
		return 1;
	pathj = path_json(opt.path, NULL);
	val = xmalloc((size_t)opt.value_size + 1);
	lat = xcalloc((size_t)opt.puts, sizeof(*lat));
	for (i = 0; i < opt.puts + warm; i++) {
		/* a value never written before: a real change every time */
		fill_value(val, opt.value_size, (uint32_t)now_ns());
		k = snprintf(val, 17, "w%06d-%08x", i % 1000000,
		    (unsigned)(now_ns() & 0xffffffffu));
		if (k < opt.value_size)
			val[k] = 'v';
		free(req);
		req = xasprintf("{\"id\":%d,\"action\":\"secret.put\",\"path\":"
		    "%s,\"value\":\"%s\"}\n", i + 1, pathj, val);
		if (secretd_call(&w, fd, lr, req, NULL) != 0)
			break;
		t0 = now_ns();
		if (wait_file(ifd, opt.file, val, (size_t)opt.value_size)
		    != 0) {
			report_error(&w, "put %d: %s did not change within "
			    "30 s", i + 1, opt.file);
			break;
		}
		if (i >= warm) {
			lat[n] = now_ns() - t0;
			sum += lat[n++];
		}
		/* let the watcher settle, at no fixed phase */
		sleep_ms(opt.gap_ms + (int)randombytes_uniform(
		    (uint32_t)opt.gap_ms + 1));
	}
	linereader_free(lr);
	close(fd);
	close(ifd);
	qsort(lat, (size_t)n, sizeof(*lat), cmp_u64);
	printf("{\"mode\":\"%s\",\"ops\":%d,\"mean_us\":%.1f,\"p50_us\":%.1f,"
	    "\"p90_us\":%.1f,\"p99_us\":%.1f,\"min_us\":%.1f,\"max_us\":%.1f,"
	    "\"errors\":%" PRIu64 "}\n", opt.mode_name, n,
	    n ? (double)sum / n / 1000.0 : 0.0, pct(lat, (size_t)n, 0.50),
	    pct(lat, (size_t)n, 0.90), pct(lat, (size_t)n, 0.99),
	    n ? (double)lat[0] / 1000.0 : 0.0,
	    n ? (double)lat[n - 1] / 1000.0 : 0.0, w.errors);
	free(pathj);
	free(req);
	free(val);
	free(lat);
	return (w.errors > 0 || n != opt.puts) ? 1 : 0;
}

/* ------------------------------------------------------------- main */

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static double
pct(const uint64_t *v, size_t n, double p)
{
	size_t i;

	if (n == 0)
		return 0;
	i = (size_t)(p * (double)(n - 1) + 0.5);
	return (double)v[i] / 1000.0;
}

static void
usage(void)
{
	fprintf(stderr, "usage: loadgen MODE [-c CONNS] [-d SECS] [-w SECS] "
	    "[-S SOCKET] [-k PUBKEY]\n"
	    "       [-p PATH] [-v BYTES] [-D CONNINFO] [-E HOST:PORT] "
	    "[-U USER:PASS] [-K KEY] [-s]\n"
	    "       [-i ROW_ID] [-H SECS]\n"
	    "modes: secretd-get secretd-put pg-select-audit pg-select "
	    "pg-insert etcd-get idle-conns\n");
	exit(2);
}

static void
read_pubkey(void)
{
	FILE *f;
	char type[128], b64s[8000];

	if (opt.pubfile == NULL)
		die("-k PUBKEYFILE is needed");
	if ((f = fopen(opt.pubfile, "r")) == NULL)
		die("%s: %s", opt.pubfile, strerror(errno));
	if (fscanf(f, "%127s %7999s", type, b64s) != 2)
		die("%s: not an SSH public key", opt.pubfile);
	fclose(f);
	snprintf(opt.pubkey, sizeof(opt.pubkey), "%s %s", type, b64s);
}

static void
parse_hostport(void)
{
	char host[64];
	int port;

	if (opt.etcd == NULL || sscanf(opt.etcd, "%63[^:]:%d", host, &port)
	    != 2)
		die("-E HOST:PORT is needed");
	memset(&etcd_addr, 0, sizeof(etcd_addr));
	etcd_addr.sin_family = AF_INET;
	etcd_addr.sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, host, &etcd_addr.sin_addr) != 1)
		die("bad address %s", host);
	snprintf(etcd_hostport, sizeof(etcd_hostport), "%s", opt.etcd);
}

int
main(int argc, char **argv)
{
	struct worker *ws;
	void *(*fn)(void *) = NULL;
	uint64_t t_start, t_end, total = 0, errors = 0, *all;
	double secs, sum = 0;
	size_t i, k, nall;
	int ch, failed = 0;

	if (argc < 2)
		usage();
	for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++)
		if (strcmp(argv[1], modes[i].name) == 0)
			break;
	if (i == sizeof(modes) / sizeof(modes[0]))
		usage();
	opt.mode = modes[i].mode;
	opt.mode_name = modes[i].name;
	optind = 2;
	while ((ch = getopt(argc, argv, "c:d:w:S:k:p:v:D:E:U:K:si:H:F:n:g:")) != -1) {
		switch (ch) {
		case 'c': opt.conns = atoi(optarg); break;
		case 'd': opt.secs = atof(optarg); break;
		case 'w': opt.warm = atof(optarg); break;
		case 'S': opt.sock = optarg; break;
		case 'k': opt.pubfile = optarg; break;
		case 'p': opt.path = optarg; break;
		case 'v': opt.value_size = atoi(optarg); break;
		case 'D': opt.conninfo = optarg; break;
		case 'E': opt.etcd = optarg; break;
		case 'U': opt.user = optarg; break;
		case 'K': opt.key = optarg; break;
		case 's': opt.serializable = 1; break;
		case 'i': opt.row_id = atol(optarg); break;
		case 'H': opt.hold = atof(optarg); break;
		case 'F': opt.file = optarg; break;
		case 'n': opt.puts = atoi(optarg); break;
		case 'g': opt.gap_ms = atoi(optarg); break;
		default: usage();
		}
	}
	if (opt.conns < 1 || opt.conns > MAX_CONNS || opt.secs <= 0 ||
	    opt.warm < 0 || opt.value_size < 0 || opt.value_size > 1024 ||
	    opt.puts < 1 || opt.puts > 100000 || opt.gap_ms < 0 ||
	    opt.gap_ms > 60000)
		die("bad option value");
	if (sodium_init() == -1)
		die("sodium_init failed");
	signal(SIGPIPE, SIG_IGN);

	switch (opt.mode) {
	case M_SECRETD_GET:
	case M_SECRETD_PUT:
		if (opt.sock == NULL)
			die("-S SOCKET is needed");
		read_pubkey();
		fn = secretd_worker;
		break;
	case M_PG_SELECT_AUDIT:
	case M_PG_SELECT:
	case M_PG_INSERT:
		fn = pg_worker;
		break;
	case M_ETCD_GET:
		parse_hostport();
		if (opt.user == NULL)
			die("-U USER:PASSWORD is needed");
		fn = etcd_worker;
		break;
	case M_IDLE_CONNS:
	case M_IDLE_WATCHES:
		if (opt.sock == NULL)
			die("-S SOCKET is needed");
		read_pubkey();
		return idle_conns();
	case M_WATCH_LATENCY:
		if (opt.sock == NULL)
			die("-S SOCKET is needed");
		read_pubkey();
		return watch_latency();
	}

	ws = xcalloc((size_t)opt.conns, sizeof(*ws));
	pthread_barrier_init(&ready, NULL, (unsigned)opt.conns + 1);
	for (k = 0; k < (size_t)opt.conns; k++) {
		pthread_attr_t attr;

		ws[k].no = (int)k;
		pthread_attr_init(&attr);
		pthread_attr_setstacksize(&attr, 256 * 1024);
		if (pthread_create(&ws[k].tid, &attr, fn, &ws[k]) != 0)
			die("pthread_create failed");
		pthread_attr_destroy(&attr);
	}
	pthread_barrier_wait(&ready);
	for (k = 0; k < (size_t)opt.conns; k++)
		failed |= ws[k].setup_failed;
	if (!failed && opt.warm > 0)
		usleep((useconds_t)(opt.warm * 1e6));
	t_start = now_ns();
	atomic_store(&phase, 1);
	if (!failed)
		usleep((useconds_t)(opt.secs * 1e6));
	atomic_store(&phase, 2);
	t_end = now_ns();
	for (k = 0; k < (size_t)opt.conns; k++)
		pthread_join(ws[k].tid, NULL);

	for (k = 0; k < (size_t)opt.conns; k++) {
		total += ws[k].nlat;
		errors += ws[k].errors;
	}
	all = xcalloc(total ? total : 1, sizeof(*all));
	for (k = 0, nall = 0; k < (size_t)opt.conns; k++) {
		memcpy(all + nall, ws[k].lat, ws[k].nlat * sizeof(*all));
		nall += ws[k].nlat;
		free(ws[k].lat);
	}
	qsort(all, nall, sizeof(*all), cmp_u64);
	for (i = 0; i < nall; i++)
		sum += (double)all[i];
	secs = (double)(t_end - t_start) / 1e9;
	printf("{\"mode\":\"%s\",\"conns\":%d,\"secs\":%.3f,\"ops\":%zu,"
	    "\"ops_per_s\":%.1f,\"mean_us\":%.1f,\"p50_us\":%.1f,"
	    "\"p90_us\":%.1f,\"p99_us\":%.1f,\"max_us\":%.1f,"
	    "\"errors\":%" PRIu64 "%s}\n",
	    opt.mode_name, opt.conns, secs, nall, (double)nall / secs,
	    nall ? sum / (double)nall / 1000.0 : 0.0, pct(all, nall, 0.50),
	    pct(all, nall, 0.90), pct(all, nall, 0.99),
	    nall ? (double)all[nall - 1] / 1000.0 : 0.0, errors,
	    opt.mode == M_ETCD_GET ? (opt.serializable ?
	    ",\"etcd_read\":\"serializable\"" :
	    ",\"etcd_read\":\"linearizable\"") : "");
	free(all);
	free(ws);
	return (errors > 0 || failed || nall == 0) ? 1 : 0;
}
