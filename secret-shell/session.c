/*
 * session.c - start a session with secretd on behalf of the key sshd
 * verified.
 *
 * Must never take an identity from anything the SSH client controls: only
 * from $SSH_USER_AUTH, which sshd writes (ExposeAuthInfo), and
 * $SSH_CONNECTION, which sshd sets.  SSH_ORIGINAL_COMMAND is not read here.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conn.h"
#include "err.h"
#include "linereader.h"
#include "session.h"
#include "sshkey.h"
#include "xmalloc.h"

#define AUTHINFO_MAX_LINE	(SSHKEY_MAX_B64 + 1024)
#define AUTHINFO_TIMEOUT_MS	5000
#define CLIENT_MAX		255

void
session_init(struct session *s, const char *socket_path)
{
	memset(s, 0, sizeof(*s));
	s->socket_path = socket_path;
}

int
session_read_authinfo(const char *path, char **key, struct shell_error *e)
{
	struct linereader *lr = NULL;
	struct sshkey_pub pub;
	const char *why = NULL;
	char *line, *last = NULL;
	size_t len, lastlen = 0;
	struct stat st;
	int fd, r, ret = SD_EUNAUTH;

	*key = NULL;
	memset(&pub, 0, sizeof(pub));
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW |
	    O_NONBLOCK)) == -1) {
		shell_error_set(e, SD_EUNAUTH, "cannot open SSH_USER_AUTH "
		    "file: %s", strerror(errno));
		return SD_EUNAUTH;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		close(fd);
		shell_error_set(e, SD_EUNAUTH,
		    "SSH_USER_AUTH does not name a regular file");
		return SD_EUNAUTH;
	}
	lr = linereader_fd(fd, AUTHINFO_MAX_LINE);
	for (;;) {
		r = linereader_next(lr, AUTHINFO_TIMEOUT_MS, &line, &len);
		if (r == LR_EOF)
			break;
		if (r != LR_LINE) {
			shell_error_set(e, SD_EUNAUTH,
			    "unreadable SSH_USER_AUTH file");
			goto out;
		}
		/* sshd lists every method that succeeded, in order; the
		 * last public key is the one that completed the login. */
		if (len > 10 && strncmp(line, "publickey ", 10) == 0) {
			freezero(last, lastlen + 1);
			last = xstrndup(line, len);
			lastlen = len;
		}
	}
	if (last == NULL) {
		shell_error_set(e, SD_EUNAUTH, "no public key in SSH_USER_AUTH "
		    "(this service accepts public key logins only)");
		goto out;
	}
	if (sshkey_parse_line(last, lastlen, &pub, &why) != 0) {
		shell_error_set(e, SD_EUNAUTH, "unusable key in SSH_USER_AUTH: "
		    "%s", why != NULL ? why : "invalid");
		goto out;
	}
	*key = xasprintf("%s %s", pub.type, pub.b64);
	ret = 0;
 out:
	sshkey_pub_free(&pub);
	freezero(last, lastlen + 1);
	linereader_free(lr);
	close(fd);
	return ret;
}

/* $SSH_CONNECTION if it looks like what sshd writes, else "". */
static const char *
client_address(void)
{
	const char *v = getenv("SSH_CONNECTION");
	size_t i;

	if (v == NULL || strlen(v) > CLIENT_MAX)
		return "";
	for (i = 0; v[i] != '\0'; i++)
		if ((unsigned char)v[i] < 0x20 || (unsigned char)v[i] > 0x7e)
			return "";
	return v;
}

int
session_connect(struct session *s, struct shell_error *e)
{
	const char *authinfo;
	char *key = NULL;
	json_t *req = NULL;
	int r;

	if (s->conn != NULL)
		return 0;
	authinfo = getenv("SSH_USER_AUTH");
	if (authinfo == NULL || *authinfo == '\0') {
		shell_error_set(e, SD_EUNAUTH, "SSH_USER_AUTH is not set "
		    "(sshd needs ExposeAuthInfo yes)");
		return SD_EUNAUTH;
	}
	if ((r = session_read_authinfo(authinfo, &key, e)) != 0)
		return r;
	if ((r = conn_open(s->socket_path, CONN_CONNECT_TIMEOUT_MS,
	    CONN_REPLY_TIMEOUT_MS, &s->conn, e)) != 0)
		goto out;
	req = json_pack("{s:s, s:s, s:s}", "action", "hello", "key", key,
	    "client", client_address());
	if (req == NULL) {
		shell_error_set(e, SD_EINTERNAL, "cannot build hello");
		r = SD_EINTERNAL;
		goto out;
	}
	r = conn_call(s->conn, req, CONN_HELLO_TIMEOUT_MS, &s->hello, e);
 out:
	json_decref(req);
	freezero_str(key);
	if (r != 0) {
		conn_close(s->conn);
		s->conn = NULL;
	}
	return r;
}

int
session_enrol_only(const struct session *s)
{
	return conn_resp_flag(s->hello, "enrol_only");
}

void
session_free(struct session *s)
{
	conn_close(s->conn);
	json_decref(s->hello);
	memset(s, 0, sizeof(*s));
}
