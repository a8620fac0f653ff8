/*
 * authkeys.c - the AuthorizedKeysCommand helper.
 *
 * sshd runs this as AuthorizedKeysCommandUser for every public key a
 * client offers for the login user.  It must fail safe: whatever goes
 * wrong, it prints no line and sshd admits no one.  The one exception is
 * an outage (secretd unreachable, or answering "unavailable"): then the
 * key is admitted to the outage session only (outage.h), which answers
 * "unavailable" and can do nothing else, so that a booting host waits
 * for the service instead of taking a refused key as final.  The line it
 * prints is built only from the validated key type, the canonical base64
 * of the key, the path of this binary and fixed words - nothing a user
 * controls.
 *
 * Reasons for refusing go to stderr and, because sshd usually discards
 * an AuthorizedKeysCommand's stderr, to syslog (LOG_AUTHPRIV).  Never
 * log key material beyond its fingerprint.
 */
#include <sys/types.h>

#include <errno.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "authkeys.h"
#include "conn.h"
#include "err.h"
#include "linereader.h"
#include "outage.h"
#include "sshkey.h"
#include "xmalloc.h"

#define AUTHKEYS_DEADLINE_S	15

static void say(int prio, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* One line to stderr and to syslog. */
static void
say(int prio, const char *fmt, ...)
{
	char buf[512], clean[512];
	va_list ap;

	va_start(ap, fmt);
	if (vsnprintf(buf, sizeof(buf), fmt, ap) < 0)
		buf[0] = '\0';
	va_end(ap);
	shell_sanitize(clean, sizeof(clean), buf, strlen(buf));
	fprintf(stderr, "secret-shell: authorized-keys: %s\n", clean);
	fflush(stderr);
	openlog("secret-shell", LOG_PID, LOG_AUTHPRIV);
	syslog(prio, "authorized-keys: %s", clean);
	closelog();
}

int
authkeys_path_safe(const char *path)
{
	const char *p;

	if (path == NULL || path[0] != '/')
		return 0;
	for (p = path; *p != '\0'; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9'))
			continue;
		if (strchr("/._+-", *p) == NULL)
			return 0;
	}
	return 1;
}

/* What secretd says of a key. */
enum verdict {
	V_ERROR = -1,		/* anything unexpected: refuse */
	V_REFUSE = 0,		/* unknown key */
	V_ADMIT = 1,		/* known, or may enrol */
	V_OUTAGE = 2,		/* secretd or its database unavailable */
};

/* Ask secretd about a key. */
static enum verdict
lookup(const char *socket_path, const struct sshkey_pub *pub)
{
	struct shell_error e;
	struct conn *c = NULL;
	json_t *req = NULL, *resp = NULL;
	const json_t *status;
	enum verdict ret = V_ERROR;
	char *key;
	int r;

	key = xasprintf("%s %s", pub->type, pub->b64);
	if (conn_open(socket_path, CONN_CONNECT_TIMEOUT_MS,
	    CONN_LOOKUP_TIMEOUT_MS, &c, &e) != 0) {
		say(LOG_ERR, "%s", e.msg);
		ret = V_OUTAGE;		/* no daemon, or one not accepting */
		goto out;
	}
	req = json_pack("{s:s, s:s}", "action", "key.lookup", "key", key);
	if (req == NULL) {
		say(LOG_ERR, "cannot build key.lookup request");
		goto out;
	}
	if ((r = conn_call(c, req, CONN_LOOKUP_TIMEOUT_MS, &resp, &e)) != 0) {
		say(LOG_ERR, "key.lookup failed: %s: %s", sd_err_code(r),
		    e.msg);
		/* secretd's "unavailable", or it went silent or away */
		if (r == SD_EUNAVAIL)
			ret = V_OUTAGE;
		goto out;
	}
	status = json_object_get(resp, "status");
	if (!json_is_string(status)) {
		say(LOG_ERR, "key.lookup: malformed answer from secretd");
		goto out;
	}
	if (strcmp(json_string_value(status), "known") == 0 ||
	    strcmp(json_string_value(status), "enrol_only") == 0) {
		ret = V_ADMIT;
	} else if (strcmp(json_string_value(status), "unknown") == 0) {
		say(LOG_INFO, "%s %s: key not known to secretd", pub->type,
		    pub->fp);
		ret = V_REFUSE;
	} else {
		say(LOG_ERR, "key.lookup: unexpected status from secretd");
	}
 out:
	json_decref(resp);
	json_decref(req);
	conn_close(c);
	free(key);
	return ret;
}

int
authkeys_main(const char *socket_path, const char *user, const char *type,
    const char *b64)
{
	struct sshkey_pub pub;
	struct passwd *pw;
	const char *why = NULL;
	char self[PATH_MAX], *out = NULL;
	ssize_t n;
	int status = 1;

	memset(&pub, 0, sizeof(pub));
	/* Backstop: whatever blocks, sshd gets no line and no hang. */
	alarm(AUTHKEYS_DEADLINE_S);
	/* Answer only for the account we run as: sshd runs us as
	 * AuthorizedKeysCommandUser, which must be the login user. */
	if ((pw = getpwuid(getuid())) == NULL) {
		say(LOG_ERR, "cannot look up uid %ld", (long)getuid());
		return 1;
	}
	if (strcmp(user, pw->pw_name) != 0) {
		say(LOG_WARNING, "asked for a user other than %s; refusing",
		    pw->pw_name);
		return 1;
	}
	if (sshkey_parse_parts(type, b64, &pub, &why) != 0) {
		say(LOG_WARNING, "rejected key: %s",
		    why != NULL ? why : "invalid");
		return 1;
	}
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0 || (size_t)n >= sizeof(self) - 1) {
		say(LOG_ERR, "cannot find own path: %s",
		    n < 0 ? strerror(errno) : "too long");
		goto done;
	}
	self[n] = '\0';
	if (!authkeys_path_safe(self)) {
		say(LOG_ERR, "own path contains characters that cannot be "
		    "put in a forced command; refusing");
		goto done;
	}
	switch (lookup(socket_path, &pub)) {
	case V_ADMIT:
		out = xasprintf("restrict,command=\"%s\" %s %s\n", self,
		    pub.type, pub.b64);
		break;
	case V_OUTAGE:
		say(LOG_WARNING, "%s %s: admitting the key to the outage "
		    "session only (it answers unavailable and nothing else)",
		    pub.type, pub.fp);
		out = xasprintf("restrict,command=\"%s " OUTAGE_ARG "\" %s "
		    "%s\n", self, pub.type, pub.b64);
		break;
	case V_REFUSE:
		status = 0;
		goto done;
	default:
		goto done;
	}
	if (write_all(STDOUT_FILENO, out, strlen(out)) != 0) {
		say(LOG_ERR, "cannot write to sshd: %s", strerror(errno));
		goto done;
	}
	status = 0;
 done:
	free(out);
	sshkey_pub_free(&pub);
	return status;
}
