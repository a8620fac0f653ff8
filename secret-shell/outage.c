/*
 * outage.c - the session that answers "unavailable" and nothing else
 * (outage.h).
 *
 * Must stay inert: no connection to secretd, no look at $SSH_USER_AUTH,
 * no relay, no command.  The key behind this session was never checked,
 * so the only thing it may learn is that the service is down.  Reading
 * is bounded in line length, in answers and in time, so a session cannot
 * be held open for long either.  Request lines are parsed only to echo
 * their id; their content is never logged.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "err.h"
#include "linereader.h"
#include "monotime.h"
#include "outage.h"
#include "proto.h"
#include "shellerr.h"

#define OUTAGE_MAX_ANSWERS	64	/* then the session ends */
#define OUTAGE_DEADLINE_MS	60000	/* whole session */
#define OUTAGE_MAX_ID_STRING	1024	/* longer string ids are not echoed */

/* The id to echo: a scalar, or a string of bounded length; else NULL. */
static const json_t *
echo_id(const json_t *req)
{
	const json_t *id = json_object_get(req, "id");

	if (id == NULL || json_is_object(id) || json_is_array(id))
		return NULL;
	if (json_is_string(id) &&
	    json_string_length(id) > OUTAGE_MAX_ID_STRING)
		return NULL;
	return id;
}

/* Answer one request line (id echoed when it can be read).  0 or -1. */
static int
answer(const char *line, size_t len)
{
	const char *why = NULL;
	json_t *req = NULL, *resp;
	char *buf;
	size_t blen;
	int r;

	if (line != NULL)
		req = proto_parse(line, len, &why);
	resp = proto_error(req != NULL ? echo_id(req) : NULL, SD_EUNAVAIL,
	    OUTAGE_MSG);
	buf = resp != NULL ? proto_dump(resp, &blen) : NULL;
	if (buf == NULL && resp != NULL) {
		/* an id jansson cannot print: answer without it */
		json_decref(resp);
		resp = proto_error(NULL, SD_EUNAVAIL, OUTAGE_MSG);
		buf = resp != NULL ? proto_dump(resp, &blen) : NULL;
	}
	r = buf != NULL ? write_all(STDOUT_FILENO, buf, blen) : -1;
	free(buf);
	json_decref(resp);
	json_decref(req);
	return r;
}

/* The NDJSON form: one unavailable answer per non-blank request line. */
static void
serve_json(void)
{
	struct linereader *lr = linereader_fd(STDIN_FILENO,
	    PROTO_MAX_LINE_DEFAULT);
	int64_t deadline = monotime_ms() + OUTAGE_DEADLINE_MS, left;
	int n = 0, r;
	char *line;
	size_t len, i;

	while (n < OUTAGE_MAX_ANSWERS &&
	    (left = deadline - monotime_ms()) > 0) {
		r = linereader_next(lr, (int)left, &line, &len);
		if (r == LR_LINE) {
			for (i = 0; i < len && strchr(" \t\r", line[i]) != NULL;
			    i++)
				;
			if (i == len)
				continue;	/* blank: not a request */
			if (answer(line, len) != 0)
				break;
		} else if (r == LR_TOOLONG || r == LR_NUL) {
			/* unreadable, but still a request: the same answer */
			if (answer(NULL, 0) != 0)
				break;
		} else
			break;		/* end of input, error or deadline */
		n++;
	}
	linereader_free(lr);
}

/* Is cmd the NDJSON form: unset, blank, or the word "json"? */
static int
is_json_form(const char *cmd)
{
	size_t a = 0, b;

	if (cmd == NULL)
		return 1;
	b = strlen(cmd);
	while (a < b && (cmd[a] == ' ' || cmd[a] == '\t'))
		a++;
	while (b > a && (cmd[b - 1] == ' ' || cmd[b - 1] == '\t'))
		b--;
	return b == a || (b - a == 4 && strncmp(cmd + a, "json", 4) == 0);
}

int
outage_main(const char *cmd)
{
	struct shell_error e;

	openlog("secret-shell", LOG_PID, LOG_AUTHPRIV);
	syslog(LOG_NOTICE, "outage session: answering unavailable (secretd "
	    "could not check the key at login)");
	closelog();
	if (is_json_form(cmd))
		serve_json();
	shell_error_conn(&e, "%s", OUTAGE_MSG);
	return shell_error_print(&e);
}
