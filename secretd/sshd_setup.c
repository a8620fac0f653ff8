/*
 * sshd_setup.c - the sshd side of a deployment (sshd_setup.h).
 *
 * The snippet is the one in contrib/, with only the four lines that name
 * this host's paths and login user rewritten, so the reviewed file and
 * what setup installs cannot drift apart.  Values go into sshd_config
 * only from a small safe alphabet: no space, quote, '#' or '%' that sshd
 * would split, strip or expand.
 */
#include <sys/stat.h>

#include <ctype.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "runcmd.h"
#include "sshd_setup.h"
#include "xmalloc.h"

#define SSHD_OUT_MAX	(256 * 1024)

static int
safe_value(const char *s)
{
	if (*s == '\0' || strlen(s) > 200)
		return 0;
	for (; *s != '\0'; s++)
		if (!isalnum((unsigned char)*s) && strchr("/._+@-", *s) == NULL)
			return 0;
	return 1;
}

/* Does the line (after its indentation) start with word (any case),
 * followed by a blank?  Then *rest points past the blanks. */
static int
keyword(const char *line, size_t len, const char *word, const char **rest)
{
	size_t n = strlen(word);

	if (len <= n || strncasecmp(line, word, n) != 0 ||
	    (line[n] != ' ' && line[n] != '\t'))
		return 0;
	for (line += n; *line == ' ' || *line == '\t'; line++)
		;
	*rest = line;
	return 1;
}

char *
sshd_snippet_render(const char *login, const char *shell, const char *sock,
    const char **why)
{
	const char *p = sshd_snippet_template, *nl, *s, *rest;
	size_t cap = strlen(p) + 4096, len = 0, ind, n;
	char *out, *repl;
	int seen = 0;

	if (!safe_value(login) || !safe_value(shell) || !safe_value(sock)) {
		*why = "the login user, the secret-shell path and the socket "
		    "path may hold only letters, digits and /._+@-";
		return NULL;
	}
	out = xmalloc(cap);
	for (; *p != '\0'; p = *nl ? nl + 1 : nl) {
		nl = strchr(p, '\n');
		if (nl == NULL)
			nl = p + strlen(p);
		ind = strspn(p, " \t");
		s = p + ind;
		n = (size_t)(nl - s);
		repl = NULL;
		if (keyword(s, n, "Match", &rest) &&
		    keyword(rest, (size_t)(nl - rest), "User", &rest)) {
			repl = xasprintf("Match User %s", login);
			seen |= 1;
		} else if (keyword(s, n, "AuthorizedKeysCommand", &rest)) {
			repl = xasprintf("AuthorizedKeysCommand %s -S %s "
			    "authorized-keys %%u %%t %%k", shell, sock);
			seen |= 2;
		} else if (keyword(s, n, "AuthorizedKeysCommandUser", &rest)) {
			repl = xasprintf("AuthorizedKeysCommandUser %s", login);
			seen |= 4;
		} else if (keyword(s, n, "SetEnv", &rest) &&
		    strncmp(rest, "SECRETD_SOCKET=", 15) == 0) {
			repl = xasprintf("SetEnv SECRETD_SOCKET=%s", sock);
			seen |= 8;
		}
		if (repl != NULL)
			n = strlen(repl);
		if (len + ind + n + 2 > cap) {
			cap = (len + ind + n + 2) * 2;
			out = xreallocarray(out, 1, cap);
		}
		memcpy(out + len, p, ind);
		memcpy(out + len + ind, repl != NULL ? repl : s, n);
		len += ind + n;
		out[len++] = '\n';
		free(repl);
	}
	out[len] = '\0';
	if (seen != 15) {
		free(out);
		*why = "the built-in sshd snippet lacks one of its Match User, "
		    "AuthorizedKeysCommand, AuthorizedKeysCommandUser or SetEnv "
		    "SECRETD_SOCKET lines (a build error)";
		return NULL;
	}
	return out;
}

void
sshd_effective_free(struct sshd_effective *e)
{
	free(e->akc);
	free(e->akc_user);
	free(e->expose);
	free(e->ak_file);
	free(e->permit_tty);
	free(e->no_forwarding);
	free(e->env_socket);
	memset(e, 0, sizeof(*e));
}

static void
take(char **slot, const char *v, size_t n)
{
	if (*slot == NULL)
		*slot = xstrndup(v, n);
}

int
sshd_effective(const char *sshd, const char *config, const char *user,
    struct sshd_effective *e, char *err, size_t errlen)
{
	char *out = xmalloc(SSHD_OUT_MAX), *ctx, *p, *nl;
	char *argv[] = { (char *)sshd, "-T", "-f", (char *)config, "-C",
	    NULL, NULL };
	const char *rest;
	size_t n;
	int st;

	memset(e, 0, sizeof(*e));
	ctx = xasprintf("user=%s,host=localhost,addr=127.0.0.1", user);
	argv[5] = ctx;
	st = run_cmd(argv, out, SSHD_OUT_MAX);
	free(ctx);
	if (st != 0) {
		first_line(out, err, errlen);
		if (err[0] == '\0')
			snprintf(err, errlen, "%s -T exited %d", sshd, st);
		free(out);
		return -1;
	}
	for (p = out; *p != '\0'; p = *nl ? nl + 1 : nl) {
		nl = strchr(p, '\n');
		if (nl == NULL)
			nl = p + strlen(p);
		n = (size_t)(nl - p);
		if (keyword(p, n, "authorizedkeyscommand", &rest))
			take(&e->akc, rest, (size_t)(nl - rest));
		else if (keyword(p, n, "authorizedkeyscommanduser", &rest))
			take(&e->akc_user, rest, (size_t)(nl - rest));
		else if (keyword(p, n, "exposeauthinfo", &rest))
			take(&e->expose, rest, (size_t)(nl - rest));
		else if (keyword(p, n, "authorizedkeysfile", &rest))
			take(&e->ak_file, rest, (size_t)(nl - rest));
		else if (keyword(p, n, "permittty", &rest))
			take(&e->permit_tty, rest, (size_t)(nl - rest));
		else if (keyword(p, n, "disableforwarding", &rest))
			take(&e->no_forwarding, rest, (size_t)(nl - rest));
		else if (keyword(p, n, "setenv", &rest) &&
		    strncmp(rest, "SECRETD_SOCKET=", 15) == 0)
			take(&e->env_socket, rest + 15,
			    strcspn(rest + 15, " \t\n"));
	}
	free(out);
	return 0;
}

int
sshd_test(const char *sshd, const char *config, char *err, size_t errlen)
{
	char out[4096];
	char *argv[] = { (char *)sshd, "-t", "-f", (char *)config, NULL };
	int st = run_cmd(argv, out, sizeof(out));

	if (st == 0)
		return 0;
	first_line(out, err, errlen);
	if (err[0] == '\0')
		snprintf(err, errlen, "%s -t exited %d", sshd, st);
	return -1;
}

/* The next blank-separated word of *p, into buf; 0 at the end. */
static int
next_word(const char **p, char *buf, size_t len)
{
	size_t n;

	*p += strspn(*p, " \t");
	if (**p == '\0')
		return 0;
	n = strcspn(*p, " \t");
	snprintf(buf, len, "%.*s", (int)n, *p);
	*p += n;
	return 1;
}

int
sshd_akc_split(const char *akc, char *prog, size_t proglen, char *sock,
    size_t socklen, int *args_ok)
{
	const char *p = akc, *tail;
	char w[PATH_MAX], *base;
	size_t n;

	*args_ok = 0;
	sock[0] = '\0';
	if (!next_word(&p, prog, proglen))
		return -1;
	base = strrchr(prog, '/');
	if (strcmp(base != NULL ? base + 1 : prog, "env") == 0) {
		/* env [VAR=value...] PROGRAM ... */
		while (next_word(&p, prog, proglen) && strchr(prog, '=') &&
		    prog[0] != '/')
			;
	}
	tail = p;
	while (next_word(&p, w, sizeof(w)))
		if (strcmp(w, "-S") == 0 && next_word(&p, w, sizeof(w)))
			snprintf(sock, socklen, "%s", w);
	n = strlen(tail);
	while (n > 0 && (tail[n - 1] == ' ' || tail[n - 1] == '\t'))
		n--;
	*args_ok = n >= 24 &&
	    strncmp(tail + n - 24, "authorized-keys %u %t %k", 24) == 0;
	return 0;
}

int
sshd_safe_path(const char *path, char *why, size_t whylen)
{
	char real[PATH_MAX], *d;
	struct stat st;

	if (realpath(path, real) == NULL) {
		snprintf(why, whylen, "%s does not exist", path);
		return -1;
	}
	for (d = real;;) {
		if (stat(d, &st) == -1) {
			snprintf(why, whylen, "cannot stat %s", d);
			return -1;
		}
		if (st.st_uid != 0 || (st.st_mode & 022) != 0) {
			snprintf(why, whylen, "%s is %s (uid %u, mode %04o), so "
			    "sshd refuses the AuthorizedKeysCommand below it: "
			    "fix: chown root %s; chmod go-w %s", d,
			    st.st_uid != 0 ? "not owned by root" :
			    "writable by group or others",
			    (unsigned)st.st_uid, (unsigned)(st.st_mode & 07777),
			    d, d);
			return -1;
		}
		if (strcmp(d, "/") == 0)
			return 0;
		d = dirname(d);
	}
}
