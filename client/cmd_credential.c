/*
 * cmd_credential.c - `secret credential-server` (cmd_credential.h).
 *
 * systemd, asked for LoadCredential=ID:/run/secretd/credentials.sock,
 * connects to that socket from an abstract address that names the unit
 * and the credential: "\0<random>/unit/<unit>/<id>" (systemd.exec(5)),
 * reads until end of stream, and gives the unit what it read.  We are
 * started by secretd-credentials.socket (Accept=no: fd 3 listens; with
 * Accept=yes fd 3 is the one connection), and for each connection:
 *
 *   - the peer must be uid 0 (systemd itself), else close;
 *   - UNIT and ID must be mapped in the configuration
 *     (/etc/secretd/credentials.conf: lines "UNIT ID = secret/path"),
 *     else close with nothing sent (the unit then fails to start, which
 *     is what an unmapped credential must do) and a log line;
 *   - the secret is fetched with secret.get over SSH (the host's key,
 *     as every command), written, and the connection closed.
 *
 * Values are never logged; the log says unit, id and path only.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "err.h"
#include "linereader.h"
#include "proto.h"
#include "xmalloc.h"

#include "client/cmd_credential.h"
#include "client/onchange.h"
#include "client/output.h"

#define CRED_CONF_DEFAULT	"/etc/secretd/credentials.conf"
#define CRED_CONF_MAX		(1024 * 1024)
#define CRED_NAME_MAX		256
#define CRED_IO_TIMEOUT_MS	(10 * 1000)

const struct cli_optspec cli_opts_credential[] = {
	{ "config",	0, 1, OPT_CRED_CONFIG },
	CLI_OPT_END
};

struct cred_map {
	char	*unit, *id, *path;
};

static void
maps_free(struct cred_map *m, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		free(m[i].unit);
		free(m[i].id);
		free(m[i].path);
	}
	free(m);
}

static char *
trim(char *s)
{
	size_t l;

	while (*s == ' ' || *s == '\t')
		s++;
	l = strlen(s);
	while (l > 0 && (s[l - 1] == ' ' || s[l - 1] == '\t' ||
	    s[l - 1] == '\r'))
		s[--l] = '\0';
	return s;
}

/* Read the map: "UNIT ID = PATH" lines, '#' comments, blank lines. */
static int
load_maps(const char *file, struct cred_map **out, int *nout)
{
	char line[4096], unit[CRED_NAME_MAX], id[CRED_NAME_MAX], *eq, *p;
	struct cred_map *m = NULL;
	int n = 0, lineno = 0, k;
	FILE *f;

	if ((f = fopen(file, "re")) == NULL)
		return cli_err(SD_EBADREQ, "cannot open %s: %s", file,
		    strerror(errno));
	while (fgets(line, sizeof(line), f) != NULL) {
		lineno++;
		line[strcspn(line, "\n")] = '\0';
		p = trim(line);
		if (*p == '\0' || *p == '#')
			continue;
		if ((eq = strchr(p, '=')) == NULL ||
		    sscanf(p, "%255s %255s%n", unit, id, &k) != 2 ||
		    p + k > eq || *trim(eq + 1) == '\0' ||
		    strchr(id, '=') != NULL) {
			fclose(f);
			maps_free(m, n);
			return cli_err(SD_EBADREQ, "%s:%d: want \"UNIT ID = "
			    "secret/path\"", file, lineno);
		}
		m = xreallocarray(m, (size_t)n + 1, sizeof(*m));
		m[n].unit = xstrdup(unit);
		m[n].id = xstrdup(id);
		m[n].path = xstrdup(trim(eq + 1));
		n++;
	}
	fclose(f);
	*out = m;
	*nout = n;
	return 0;
}

/*
 * The unit and credential id from the peer's abstract address
 * "\0<random>/unit/<unit>/<id>".  0, or -1 when it is not one.
 */
static int
peer_names(int fd, char *unit, char *id)
{
	struct sockaddr_un sun;
	socklen_t len = sizeof(sun);
	char name[sizeof(sun.sun_path) + 1], *u, *slash;
	size_t n;

	memset(&sun, 0, sizeof(sun));
	if (getpeername(fd, (struct sockaddr *)&sun, &len) != 0 ||
	    len <= offsetof(struct sockaddr_un, sun_path) + 1 ||
	    sun.sun_path[0] != '\0')
		return -1;
	n = len - offsetof(struct sockaddr_un, sun_path) - 1;
	memcpy(name, sun.sun_path + 1, n);
	name[n] = '\0';
	if (memchr(name, '\0', n) != NULL ||
	    (u = strstr(name, "/unit/")) == NULL)
		return -1;
	u += 6;
	if ((slash = strchr(u, '/')) == NULL || slash == u ||
	    strchr(slash + 1, '/') != NULL || slash[1] == '\0' ||
	    (size_t)(slash - u) >= CRED_NAME_MAX ||
	    strlen(slash + 1) >= CRED_NAME_MAX)
		return -1;
	memcpy(unit, u, (size_t)(slash - u));
	unit[slash - u] = '\0';
	strcpy(id, slash + 1);
	return 0;
}

/* Serve one connection; the outcome is logged. */
static void
serve_one(struct cli_ctx *ctx, int fd, const struct cred_map *m, int n)
{
	char unit[CRED_NAME_MAX], id[CRED_NAME_MAX];
	struct ucred cred;
	socklen_t clen = sizeof(cred);
	unsigned char *val = NULL;
	size_t vlen = 0;
	const char *why;
	json_t *path, *req, *resp;
	int i, st;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) != 0 ||
	    cred.uid != 0) {
		cli_watch_note(ctx->cfg, "credential-server: refused a peer "
		    "with uid %d (only systemd, uid 0, may ask)",
		    clen == sizeof(cred) ? (int)cred.uid : -1);
		return;
	}
	if (peer_names(fd, unit, id) != 0) {
		cli_watch_note(ctx->cfg, "credential-server: a peer without "
		    "a unit/credential address: nothing sent");
		return;
	}
	for (i = 0; i < n; i++)
		if (strcmp(m[i].unit, unit) == 0 && strcmp(m[i].id, id) == 0)
			break;
	if (i == n) {
		cli_watch_note(ctx->cfg, "credential-server: %s %s is not in "
		    "the map: nothing sent", unit, id);
		return;
	}
	if ((st = cli_arg_path(m[i].path, &path)) != 0)
		return;
	req = json_pack("{s:s, s:o}", "action", "secret.get", "path", path);
	if ((st = cli_rpc_call(ctx->rpc, req, &resp)) != 0) {
		cli_watch_note(ctx->cfg, "credential-server: %s %s: cannot "
		    "fetch %s: nothing sent", unit, id, m[i].path);
		cli_rpc_reset(ctx->rpc);
		return;
	}
	if (proto_get_value(resp, PROTO_MAX_LINE_CAP, &val, &vlen, &why) != 0)
		cli_watch_note(ctx->cfg, "credential-server: %s %s: bad "
		    "response: %s", unit, id, why);
	else if (write_all_timeout(fd, val, vlen, CRED_IO_TIMEOUT_MS) != 0)
		cli_watch_note(ctx->cfg, "credential-server: %s %s: cannot "
		    "send %s: %s", unit, id, m[i].path, strerror(errno));
	else
		cli_watch_note(ctx->cfg, "credential-server: %s %s: sent %s",
		    unit, id, m[i].path);
	freezero(val, vlen + 1);
	json_decref(resp);
}

int
cli_credential_server(struct cli_ctx *ctx, const struct cli_args *a)
{
	const char *file = cli_arg_last(a, OPT_CRED_CONFIG);
	const char *lp = getenv("LISTEN_PID"), *lf = getenv("LISTEN_FDS");
	struct cred_map *m = NULL;
	int n = 0, st, listening = 0, c;
	socklen_t len = sizeof(listening);

	if (file == NULL)
		file = CRED_CONF_DEFAULT;
	if (lp == NULL || lf == NULL || strtol(lp, NULL, 10) != getpid() ||
	    strcmp(lf, "1") != 0)
		return cli_usage(ctx->cmd, "run by systemd socket activation "
		    "(secretd-credentials.socket): no socket given (LISTEN_FDS)");
	if (getsockopt(3, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) != 0)
		return cli_err(SD_EBADREQ, "fd 3 is not a socket: %s",
		    strerror(errno));
	if ((st = load_maps(file, &m, &n)) != 0)
		return st;
	signal(SIGPIPE, SIG_IGN);
	if (!listening) {		/* Accept=yes: this one connection */
		serve_one(ctx, 3, m, n);
		close(3);
		maps_free(m, n);
		return 0;
	}
	for (;;) {
		if ((c = accept4(3, NULL, NULL, SOCK_CLOEXEC)) < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			st = cli_err(SD_EINTERNAL, "accept: %s",
			    strerror(errno));
			break;
		}
		serve_one(ctx, c, m, n);
		close(c);
		/* one session per credential: an idle one would be closed */
		cli_rpc_reset(ctx->rpc);
	}
	maps_free(m, n);
	return st;
}
