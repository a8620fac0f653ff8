/*
 * human.c - the plain-ssh verbs: get, put, ls, history, whoami, enrol,
 * json, help.  Each verb is one row of verbs[] and becomes one request to
 * secretd; what it prints is documented in secret-shell(8).
 *
 * Must never run a shell or interpret quoting: the command line is split
 * on blanks and nothing else.  Never prints a value anywhere but stdout
 * of `get`, never a token anywhere; buffers that held either are wiped.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conn.h"
#include "err.h"
#include "human.h"
#include "linereader.h"
#include "log.h"
#include "path.h"
#include "proto.h"
#include "relay.h"
#include "session.h"
#include "xmalloc.h"

struct verb {
	const char	*name;
	int		 min_args, max_args;
	const char	*usage;
	const char	*help;
	int		(*run)(struct session *, int, char **,
			    struct shell_error *);
};

static int	verb_get(struct session *, int, char **, struct shell_error *);
static int	verb_put(struct session *, int, char **, struct shell_error *);
static int	verb_ls(struct session *, int, char **, struct shell_error *);
static int	verb_history(struct session *, int, char **,
		    struct shell_error *);
static int	verb_whoami(struct session *, int, char **,
		    struct shell_error *);
static int	verb_enrol(struct session *, int, char **,
		    struct shell_error *);
static int	verb_json(struct session *, int, char **,
		    struct shell_error *);
static int	verb_help(struct session *, int, char **,
		    struct shell_error *);

static const struct verb verbs[] = {
	{ "get", 1, 1, "get PATH",
	  "write the current value of PATH to stdout, byte for byte",
	  verb_get },
	{ "put", 1, 1, "put PATH",
	  "store stdin (at most 1 MiB) as a new version of PATH", verb_put },
	{ "ls", 0, 1, "ls [PATH]",
	  "list the children of PATH (default: the root)", verb_ls },
	{ "history", 1, 1, "history PATH",
	  "list the versions of PATH, newest first", verb_history },
	{ "whoami", 0, 0, "whoami",
	  "show the principal, groups and global permissions of this key",
	  verb_whoami },
	{ "enrol", 1, 1, "enrol NAME",
	  "enrol this key as principal NAME with the token on stdin",
	  verb_enrol },
	{ "json", 0, 0, "json",
	  "speak the NDJSON protocol on stdin/stdout (the default)",
	  verb_json },
	{ "help", 0, 0, "help", "show this list", verb_help },
};
#define NVERBS	(sizeof(verbs) / sizeof(verbs[0]))

int
human_split(const char *cmd, char **words, struct shell_error *e)
{
	const char *p = cmd, *start;
	size_t len = strlen(cmd), i;
	int n = 0;

	if (len > HUMAN_MAX_COMMAND) {
		shell_error_usage(e, "command longer than %d bytes",
		    HUMAN_MAX_COMMAND);
		return -1;
	}
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)cmd[i];

		if ((c < 0x20 && c != '\t') || c == 0x7f) {
			shell_error_usage(e, "control character in command");
			return -1;
		}
	}
	for (;;) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0')
			break;
		if (n == HUMAN_MAX_WORDS) {
			while (n > 0)
				free(words[--n]);
			shell_error_usage(e, "too many arguments "
			    "(arguments are split on blanks; no quoting)");
			return -1;
		}
		start = p;
		while (*p != '\0' && *p != ' ' && *p != '\t')
			p++;
		words[n++] = xstrndup(start, (size_t)(p - start));
	}
	return n;
}

int
human_name_valid(const char *s)
{
	size_t i, len = strlen(s);

	if (len < 1 || len > 64)
		return 0;
	for (i = 0; i < len; i++) {
		char c = s[i];

		if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
			continue;
		if (i > 0 && strchr("._@-", c) != NULL)
			continue;
		return 0;
	}
	return 1;
}

/* Parse a command-line path; a bad one is a usage error. */
static int
parse_path(const char *arg, struct sd_path *p, struct shell_error *e)
{
	const char *why = NULL;

	if (path_parse(arg, p, &why) != 0) {
		shell_error_usage(e, "invalid path \"%s\": %s", arg,
		    why != NULL ? why : "invalid");
		return e->status;
	}
	return 0;
}

/* {"action":action,"path":[...]} */
static json_t *
path_request(const char *action, const struct sd_path *p)
{
	json_t *req = json_object();

	if (req == NULL ||
	    json_object_set_new(req, "action", json_string(action)) != 0 ||
	    json_object_set_new(req, "path", path_to_json(p)) != 0)
		fatal("out of memory building a request");
	return req;
}

/* Connect (hello) and run one request.  0 or exit status with e set. */
static int
call(struct session *s, const json_t *req, json_t **resp,
    struct shell_error *e)
{
	int r;

	*resp = NULL;
	if ((r = session_connect(s, e)) != 0 ||
	    (r = conn_call(s->conn, req, CONN_REPLY_TIMEOUT_MS, resp, e)) != 0)
		return e->status;
	return 0;
}

/*
 * Read all of fd into a fresh buffer of max + 1 bytes (never grown, so no
 * copy of the data is left behind by realloc).  Returns 0 with *out and *len
 * set (caller freezero()s *out with max + 1), or an exit status with e
 * set when the input exceeds max bytes or cannot be read.
 */
static int
read_all_bounded(int fd, size_t max, unsigned char **out, size_t *len,
    struct shell_error *e)
{
	unsigned char *buf = xmalloc(max + 1);
	size_t have = 0;
	ssize_t n;

	*out = NULL;
	*len = 0;
	for (;;) {
		n = read(fd, buf + have, max + 1 - have);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			shell_error_set(e, SD_EINTERNAL, "cannot read stdin: %s",
			    strerror(errno));
			freezero(buf, max + 1);
			return e->status;
		}
		if (n == 0)
			break;
		have += (size_t)n;
		if (have > max) {
			shell_error_set(e, SD_ETOOLARGE, "input exceeds %zu "
			    "bytes", max);
			freezero(buf, max + 1);
			return e->status;
		}
	}
	*out = buf;
	*len = have;
	return 0;
}

/* Flush stdout; a failure to deliver output is an error. */
static int
finish_output(struct shell_error *e)
{
	if (fflush(stdout) != 0 || ferror(stdout)) {
		shell_error_set(e, SD_EINTERNAL, "cannot write output: %s",
		    strerror(errno));
		return e->status;
	}
	return 0;
}

/* Print a string from a response, made safe for a terminal. */
static void
put_text(const char *s)
{
	char clean[1024];

	shell_sanitize(clean, sizeof(clean), s, strlen(s));
	fputs(clean, stdout);
}

/* "a,b,c" from a JSON array of strings, "-" if empty. */
static void
put_list(const json_t *arr)
{
	const json_t *v;
	size_t i, n = 0;

	json_array_foreach(arr, i, v) {
		if (!json_is_string(v))
			continue;
		if (n++ > 0)
			fputc(',', stdout);
		put_text(json_string_value(v));
	}
	if (n == 0)
		fputc('-', stdout);
}

static void
put_field(const json_t *v)
{
	char num[32];

	if (json_is_string(v))
		put_text(json_string_value(v));
	else if (json_is_integer(v)) {
		snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT,
		    json_integer_value(v));
		fputs(num, stdout);
	} else
		fputc('-', stdout);
}

static int
verb_get(struct session *s, int argc, char **argv, struct shell_error *e)
{
	struct sd_path p;
	const char *why = NULL;
	unsigned char *val = NULL;
	size_t vlen = 0;
	json_t *req, *resp = NULL;
	int r;

	(void)argc;
	if ((r = parse_path(argv[1], &p, e)) != 0)
		return r;
	req = path_request("secret.get", &p);
	path_free(&p);
	if ((r = call(s, req, &resp, e)) != 0)
		goto out;
	if (proto_get_value(resp, PROTO_MAX_LINE_CAP, &val, &vlen, &why) != 0) {
		shell_error_set(e, SD_EINTERNAL, "malformed response from "
		    "secretd: %s", why != NULL ? why : "no value");
		r = e->status;
		goto out;
	}
	/* Exactly the stored bytes: no newline is added. */
	if (write_all(STDOUT_FILENO, val, vlen) != 0) {
		shell_error_set(e, SD_EINTERNAL, "cannot write output: %s",
		    strerror(errno));
		r = e->status;
	}
 out:
	freezero(val, vlen);
	json_decref(resp);
	json_decref(req);
	return r;
}

static int
verb_put(struct session *s, int argc, char **argv, struct shell_error *e)
{
	struct sd_path p;
	unsigned char *val = NULL;
	size_t vlen = 0;
	json_t *req = NULL, *resp = NULL, *ver;
	int r;

	(void)argc;
	if ((r = parse_path(argv[1], &p, e)) != 0)
		return r;
	/* Read the value before connecting: a person typing it must not
	 * run into secretd's idle timeout. */
	if ((r = read_all_bounded(STDIN_FILENO, HUMAN_MAX_VALUE, &val, &vlen,
	    e)) != 0) {
		path_free(&p);
		return r;
	}
	req = path_request("secret.put", &p);
	path_free(&p);
	proto_set_value(req, val, vlen);
	freezero(val, HUMAN_MAX_VALUE + 1);
	if ((r = call(s, req, &resp, e)) != 0)
		goto out;
	ver = json_object_get(resp, "version");
	if (json_is_integer(ver))
		printf("version %" JSON_INTEGER_FORMAT "\n",
		    json_integer_value(ver));
	r = finish_output(e);
 out:
	json_decref(resp);
	json_decref(req);
	return r;
}

static int
verb_ls(struct session *s, int argc, char **argv, struct shell_error *e)
{
	struct sd_path p;
	const json_t *entries, *ent, *path, *last, *children;
	json_t *req, *resp = NULL;
	size_t i;
	int r;

	if ((r = parse_path(argc > 1 ? argv[1] : "", &p, e)) != 0)
		return r;
	req = path_request("secret.list", &p);
	path_free(&p);
	if ((r = call(s, req, &resp, e)) != 0)
		goto out;
	entries = json_object_get(resp, "entries");
	json_array_foreach(entries, i, ent) {
		path = json_object_get(ent, "path");
		last = json_array_get(path, json_array_size(path) - 1);
		if (!json_is_string(last))
			continue;
		put_text(json_string_value(last));
		children = json_object_get(ent, "children");
		if (json_is_integer(children) &&
		    json_integer_value(children) > 0)
			fputc('/', stdout);
		fputc('\n', stdout);
	}
	r = finish_output(e);
	if (r == 0 && conn_resp_flag(resp, "truncated"))
		fprintf(stderr, "secret-shell: listing truncated after %zu "
		    "entries\n", json_array_size(entries));
 out:
	json_decref(resp);
	json_decref(req);
	return r;
}

static int
verb_history(struct session *s, int argc, char **argv, struct shell_error *e)
{
	struct sd_path p;
	const json_t *versions, *v;
	json_t *req, *resp = NULL;
	size_t i;
	int r;

	(void)argc;
	if ((r = parse_path(argv[1], &p, e)) != 0)
		return r;
	req = path_request("secret.history", &p);
	path_free(&p);
	if ((r = call(s, req, &resp, e)) != 0)
		goto out;
	versions = json_object_get(resp, "versions");
	json_array_foreach(versions, i, v) {
		put_field(json_object_get(v, "version"));
		fputc(' ', stdout);
		put_field(json_object_get(v, "state"));
		fputc(' ', stdout);
		put_field(json_object_get(v, "created_at"));
		fputc(' ', stdout);
		put_field(json_object_get(v, "created_by"));
		fputc('\n', stdout);
	}
	r = finish_output(e);
 out:
	json_decref(resp);
	json_decref(req);
	return r;
}

static int
verb_whoami(struct session *s, int argc, char **argv, struct shell_error *e)
{
	json_t *req, *resp = NULL;
	int r;

	(void)argc;
	(void)argv;
	if ((req = json_pack("{s:s}", "action", "whoami")) == NULL)
		fatal("out of memory building a request");
	if ((r = call(s, req, &resp, e)) != 0)
		goto out;
	fputs("principal ", stdout);
	put_field(json_object_get(resp, "principal"));
	fputs("\ngroups ", stdout);
	put_list(json_object_get(resp, "groups"));
	fputs("\nglobal ", stdout);
	put_list(json_object_get(resp, "global"));
	printf("\nenrol_only %s\n",
	    conn_resp_flag(resp, "enrol_only") ? "yes" : "no");
	r = finish_output(e);
 out:
	json_decref(resp);
	json_decref(req);
	return r;
}

static int
verb_enrol(struct session *s, int argc, char **argv, struct shell_error *e)
{
	unsigned char *buf = NULL;
	size_t len = 0, i;
	json_t *req = NULL, *resp = NULL, *who;
	int r;

	(void)argc;
	if (!human_name_valid(argv[1])) {
		shell_error_usage(e, "invalid principal name \"%s\" (want "
		    "[a-z0-9][a-z0-9._@-]{0,63})", argv[1]);
		return e->status;
	}
	if ((r = read_all_bounded(STDIN_FILENO, HUMAN_MAX_TOKEN, &buf, &len,
	    e)) != 0)
		return r;
	/* The token is one line; tolerate its line ending. */
	while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r' ||
	    buf[len - 1] == ' ' || buf[len - 1] == '\t'))
		len--;
	buf[len] = '\0';
	for (i = 0; i < len; i++)
		if (buf[i] <= 0x20 || buf[i] >= 0x7f)
			break;
	if (len == 0 || i < len) {
		shell_error_set(e, SD_EBADREQ, len == 0 ?
		    "no enrolment token on stdin" :
		    "enrolment token must be one line of printable ASCII");
		r = e->status;
		goto out;
	}
	req = json_pack("{s:s, s:s, s:s}", "action", "enrol",
	    "principal", argv[1], "token", (const char *)buf);
	if (req == NULL)
		fatal("out of memory building a request");
	if ((r = call(s, req, &resp, e)) != 0)
		goto out;
	who = json_object_get(resp, "principal");
	fputs("enrolled ", stdout);
	if (json_is_string(who))
		put_text(json_string_value(who));
	else
		put_text(argv[1]);
	fputc('\n', stdout);
	r = finish_output(e);
 out:
	freezero(buf, HUMAN_MAX_TOKEN + 1);
	json_decref(resp);
	json_decref(req);
	return r;
}

static int
verb_json(struct session *s, int argc, char **argv, struct shell_error *e)
{
	int r;

	(void)argc;
	(void)argv;
	if ((r = session_connect(s, e)) != 0)
		return e->status;
	return relay_run(s->conn, STDIN_FILENO, STDOUT_FILENO, e);
}

static int
verb_help(struct session *s, int argc, char **argv, struct shell_error *e)
{
	size_t i;

	(void)s;
	(void)argc;
	(void)argv;
	printf("usage: ssh USER@HOST COMMAND (arguments split on blanks, "
	    "no quoting)\n");
	for (i = 0; i < NVERBS; i++)
		printf("  %-14s %s\n", verbs[i].usage, verbs[i].help);
	printf("PATH is a/b/c; see secret-shell(8).\n");
	return finish_output(e);
}

int
human_main(struct session *s, const char *cmd, struct shell_error *e)
{
	char *words[HUMAN_MAX_WORDS];
	const struct verb *v = NULL;
	size_t i;
	int n, r;

	if (cmd == NULL)
		cmd = "";
	if ((n = human_split(cmd, words, e)) < 0)
		return e->status;
	if (n == 0)
		return verb_json(s, 0, NULL, e);
	for (i = 0; i < NVERBS; i++) {
		if (strcmp(words[0], verbs[i].name) == 0) {
			v = &verbs[i];
			break;
		}
	}
	if (v == NULL) {
		shell_error_usage(e, "unknown command \"%s\" (try \"help\")",
		    words[0]);
		r = e->status;
	} else if (n - 1 < v->min_args || n - 1 > v->max_args) {
		shell_error_usage(e, "usage: %s", v->usage);
		r = e->status;
	} else
		r = v->run(s, n, words, e);
	while (n > 0)
		free(words[--n]);
	return r;
}
