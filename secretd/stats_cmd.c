/*
 * stats_cmd.c - `secretd stats`: one server.stats request through the
 * daemon's socket, printed for people (a table, in the spirit of
 * pgbouncer's SHOW STATS), as JSON, or in the Prometheus text format,
 * to stdout or atomically into a file (node_exporter's textfile
 * collector reads the file whole, so it must never see half of one).
 *
 * The socket serves only the uids in shell_users, and trusts them to
 * have checked the key their hello names, as sshd does for secret-shell:
 * so this runs as such a user (e.g. "secret") and names, with --key, the
 * public key of a principal that holds the global audit permission.  It
 * holds no secret and sends none; the request is audited like any other.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <jansson.h>

#include "atomicfile.h"
#include "config.h"
#include "err.h"
#include "linereader.h"
#include "proto.h"
#include "stats.h"
#include "stats_cmd.h"

#define STATS_TIMEOUT_MS	10000
#define STATS_MAX_ANSWER	(4 * 1024 * 1024)
#define STATS_MAX_KEYFILE	(16 * 1024)
/* what the daemon does to a peer whose uid is not in shell_users */
#define CLOSED_MSG	"secretd closed the connection (is this user in " \
			"shell_users?)"

enum format { F_TABLE, F_JSON, F_PROM };

static void
stats_usage(FILE *f)
{
	fprintf(f,
	    "usage: secretd [-c CONF] stats --key PUBKEYFILE [--socket PATH]\n"
	    "                [--prometheus | --json] [--output FILE]\n"
	    "\n"
	    "  --key FILE     public key of a principal with the audit "
	    "permission\n"
	    "  --socket PATH  the daemon's socket (default $SECRETD_SOCKET, "
	    "else CONF's socket)\n"
	    "  --prometheus   the Prometheus text exposition format\n"
	    "  --json         the server.stats answer as it came\n"
	    "  --output FILE  write FILE atomically (mode 0644) instead of "
	    "stdout\n"
	    "\n"
	    "Run it as a user in shell_users (e.g. runuser -u secret --).  "
	    "See secretd(8).\n");
}

/* "TYPE BASE64" of the first line of a public key file, or NULL. */
static char *
read_pubkey(const char *path)
{
	char *text, *type, *b64, *save = NULL, *out = NULL;
	size_t len;

	if (read_small_file(path, STATS_MAX_KEYFILE, &text, &len) != 0) {
		fprintf(stderr, "secretd: stats: %s: %s\n", path,
		    strerror(errno));
		return NULL;
	}
	if ((type = strtok_r(text, " \t\r\n", &save)) != NULL &&
	    (b64 = strtok_r(NULL, " \t\r\n", &save)) != NULL &&
	    asprintf(&out, "%s %s", type, b64) == -1)
		out = NULL;
	if (out == NULL)
		fprintf(stderr, "secretd: stats: %s: not a public key line\n",
		    path);
	free(text);
	return out;
}

/* The socket: --socket, $SECRETD_SOCKET, CONF's, or the default. */
static char *
socket_path(const char *opt, const char *conf)
{
	const char *env = getenv("SECRETD_SOCKET");
	struct config cfg;
	char err[512], *p;

	if (opt != NULL)
		return strdup(opt);
	if (env != NULL && *env != '\0')
		return strdup(env);
	/* CONF is secretd's own (0600 in a 0700 directory): a shell user
	 * usually cannot read it, and then the default is the answer */
	config_defaults(&cfg);
	(void)config_load(&cfg, conf, err, sizeof(err));
	p = strdup(cfg.socket);
	config_free(&cfg);
	return p;
}

/* Send one request line, read one answer (a new reference, or NULL). */
static json_t *
call(int fd, struct linereader *lr, json_t *req)
{
	const char *why = NULL;
	size_t len;
	char *buf = proto_dump(req, &len), *line;
	json_t *resp = NULL;
	int r;

	if (write_all_timeout(fd, buf, len, STATS_TIMEOUT_MS) != 0) {
		if (errno == EPIPE || errno == ECONNRESET)
			fprintf(stderr, "secretd: stats: %s\n", CLOSED_MSG);
		else
			fprintf(stderr, "secretd: stats: send: %s\n",
			    strerror(errno));
		free(buf);
		return NULL;
	}
	free(buf);
	r = linereader_next(lr, STATS_TIMEOUT_MS, &line, &len);
	if (r != LR_LINE) {
		fprintf(stderr, "secretd: stats: %s\n", r == LR_TIMEOUT ?
		    "no answer from secretd" : r == LR_EOF || r == LR_EIO ?
		    CLOSED_MSG : "answer too long");
		return NULL;
	}
	if ((resp = proto_parse(line, len, &why)) == NULL)
		fprintf(stderr, "secretd: stats: bad answer: %s\n", why);
	return resp;
}

/* 0 if resp is ok; else says why (with the error's code) and -1. */
static int
check_ok(const json_t *resp, const char *what)
{
	const json_t *err = json_object_get(resp, "error");

	if (json_is_true(json_object_get(resp, "ok")))
		return 0;
	fprintf(stderr, "secretd: stats: %s: %s: %s\n", what,
	    json_string_value(json_object_get(err, "code")) ?
	    json_string_value(json_object_get(err, "code")) : "?",
	    json_string_value(json_object_get(err, "message")) ?
	    json_string_value(json_object_get(err, "message")) : "?");
	return -1;
}

static json_t *
fetch(const char *path, const char *key)
{
	struct sockaddr_un sun;
	struct linereader *lr;
	json_t *req, *resp = NULL;
	int fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		fprintf(stderr, "secretd: stats: socket path too long\n");
		return NULL;
	}
	strcpy(sun.sun_path, path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1 ||
	    connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		fprintf(stderr, "secretd: stats: %s: %s\n", path,
		    strerror(errno));
		if (fd != -1)
			close(fd);
		return NULL;
	}
	lr = linereader_fd(fd, STATS_MAX_ANSWER);
	req = json_pack("{s:s, s:s}", "action", "hello", "key", key);
	resp = call(fd, lr, req);
	json_decref(req);
	if (resp != NULL && check_ok(resp, "hello") == 0) {
		json_decref(resp);
		req = json_pack("{s:i, s:s}", "id", 1, "action",
		    "server.stats");
		resp = call(fd, lr, req);
		json_decref(req);
		if (resp != NULL && check_ok(resp, "server.stats") != 0) {
			json_decref(resp);
			resp = NULL;
		}
	} else {
		json_decref(resp);
		resp = NULL;
	}
	linereader_free(lr);
	close(fd);
	return resp;
}

static long long
int_at(const json_t *obj, const char *key)
{
	return (long long)json_integer_value(json_object_get(obj, key));
}

/* The upper bound (ms) of the bucket that holds the 99th percentile. */
static void
p99(const json_t *le, const json_t *h, char *out, size_t outlen)
{
	const json_t *b = json_object_get(h, "buckets");
	long long n = int_at(h, "count");
	size_t i;

	for (i = 0; i < json_array_size(b); i++)
		if (json_integer_value(json_array_get(b, i)) * 100 >= n * 99) {
			snprintf(out, outlen, "%g", 1e3 *
			    json_number_value(json_array_get(le, i)));
			return;
		}
	snprintf(out, outlen, ">%g", json_array_size(le) ? 1e3 *
	    json_number_value(json_array_get(le, json_array_size(le) - 1)) : 0);
}

/* For people: the state, then one line per action, then the errors. */
static char *
table(const json_t *s)
{
	const json_t *sess = json_object_get(s, "sessions");
	const json_t *pool = json_object_get(s, "pool");
	const json_t *au = json_object_get(s, "audit");
	const json_t *lat = json_object_get(s, "latency"), *r, *h;
	const json_t *le = json_object_get(lat, "le");
	const char *name;
	char *buf = NULL, q[32];
	size_t len = 0, i;
	long long up = int_at(s, "uptime_s"), ok;
	json_t *v;
	FILE *f;

	if ((f = open_memstream(&buf, &len)) == NULL)
		return NULL;
	fprintf(f, "secretd %s, up %lldd %02lld:%02lld:%02lld\n",
	    json_string_value(json_object_get(s, "version")),
	    up / 86400, up / 3600 % 24, up / 60 % 60, up % 60);
	fprintf(f, "sessions: %lld of principals, %lld enrol-only\n",
	    int_at(sess, "principal"), int_at(sess, "enrol_only"));
	fprintf(f, "pool:     %lld of %lld connections in use, %lld "
	    "waiting\n", int_at(pool, "in_use"), int_at(pool, "size"),
	    int_at(pool, "waiting"));
	fprintf(f, "audit:    %lld rows queued, %lld unsealed, seal lag "
	    "%.1f s\n\n", int_at(au, "queued_rows"), int_at(au,
	    "unsealed_rows"), json_number_value(json_object_get(au,
	    "seal_lag_s")));
	fprintf(f, "%-24s %10s %10s %10s %9s\n", "ACTION", "REQUESTS",
	    "ERRORS", "AVG_MS", "P99_MS<=");
	json_object_foreach((json_t *)json_object_get(lat, "actions"), name,
	    v) {
		h = v;
		ok = 0;
		json_array_foreach(json_object_get(s, "requests"), i, r)
			if (strcmp(json_string_value(json_object_get(r,
			    "action")), name) == 0 && strcmp(json_string_value(
			    json_object_get(r, "result")), "ok") == 0)
				ok = int_at(r, "count");
		p99(le, h, q, sizeof(q));
		fprintf(f, "%-24s %10lld %10lld %10.3f %9s\n", name,
		    int_at(h, "count"), int_at(h, "count") - ok,
		    int_at(h, "count") ? 1e3 * json_number_value(
		    json_object_get(h, "sum_s")) / (double)int_at(h, "count") :
		    0.0, q);
	}
	json_array_foreach(json_object_get(s, "requests"), i, r)
		if (strcmp(json_string_value(json_object_get(r, "result")),
		    "ok") != 0)
			fprintf(f, "  %s: %s %lld\n", json_string_value(
			    json_object_get(r, "action")), json_string_value(
			    json_object_get(r, "result")), int_at(r, "count"));
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

int
stats_main(const char *conf, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "key", required_argument, NULL, 'k' },
		{ "socket", required_argument, NULL, 's' },
		{ "prometheus", no_argument, NULL, 'p' },
		{ "json", no_argument, NULL, 'j' },
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *keyfile = NULL, *sockopt = NULL, *output = NULL;
	enum format fmt = F_TABLE;
	char *key = NULL, *path = NULL, *text = NULL, err[512];
	json_t *resp = NULL;
	int ch, rc = 1;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (ch) {
		case 'k': keyfile = optarg; break;
		case 's': sockopt = optarg; break;
		case 'p': fmt = F_PROM; break;
		case 'j': fmt = F_JSON; break;
		case 'o': output = optarg; break;
		case 'h':
			stats_usage(stdout);
			return fflush(stdout) == 0 ? 0 : 1;
		default:
			stats_usage(stderr);
			return 2;
		}
	}
	if (keyfile == NULL || optind != argc) {
		fprintf(stderr, "secretd: stats needs --key PUBKEYFILE\n");
		stats_usage(stderr);
		return 2;
	}
	if ((key = read_pubkey(keyfile)) == NULL ||
	    (path = socket_path(sockopt, conf)) == NULL ||
	    (resp = fetch(path, key)) == NULL)
		goto out;
	json_object_del(resp, "id");
	json_object_del(resp, "ok");
	if (fmt == F_PROM)
		text = stats_prometheus(resp);
	else if (fmt == F_JSON)
		text = json_dumps(resp, JSON_INDENT(2) | JSON_SORT_KEYS);
	else
		text = table(resp);
	if (text == NULL) {
		fprintf(stderr, "secretd: stats: the answer is not "
		    "server.stats's (a daemon of another version?)\n");
		goto out;
	}
	if (fmt == F_JSON) {
		char *t = NULL;

		if (asprintf(&t, "%s\n", text) == -1)
			goto out;
		free(text);
		text = t;
	}
	if (output != NULL) {
		if (atomic_write(output, text, strlen(text), 0644, (uid_t)-1,
		    (gid_t)-1, 0, err, sizeof(err)) != 0) {
			fprintf(stderr, "secretd: stats: %s\n", err);
			goto out;
		}
	} else if (fputs(text, stdout) == EOF || fflush(stdout) != 0)
		goto out;
	rc = 0;
out:
	free(text);
	json_decref(resp);
	free(path);
	free(key);
	return rc;
}
