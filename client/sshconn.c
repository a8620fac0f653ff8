/*
 * sshconn.c - libssh session for the `secret` client: connection, host
 * key verification, public key authentication, the "json" channel and
 * the bounded read callback that feeds the line reader.
 *
 * Rules this file keeps: ~/.ssh/config and the system known_hosts are
 * ignored (only what the user named counts); a host key that is not
 * positively verified stops everything before authentication; a changed
 * key is never accepted, whatever the options; the host key pin is
 * compared in constant time.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <libssh/libssh.h>
#include <sodium.h>

#include "linereader.h"
#include "xmalloc.h"

#include "client/input.h"
#include "client/output.h"
#include "client/sshconn.h"

#define CONNECT_TIMEOUT_S	30
#define READ_SLICE_MS		500	/* how often stderr is drained */
#define STDERR_KEEP		256	/* bytes of server stderr kept */

struct cli_ssh {
	ssh_session	 session;
	ssh_channel	 channel;
	char		 where[300];	/* "host" or "[host]:port", for messages */
	char		 err[STDERR_KEEP];
	size_t		 errlen;
	int		 errdone;	/* first line complete */
};

static int
fail_conn(const char *fmt_where, struct cli_ssh *s)
{
	return cli_err_status("unavailable", CLI_EXIT_CONN, "%s %s: %s",
	    fmt_where, s->where, ssh_get_error(s->session));
}

/* "SHA256:<base64 without padding>", as OpenSSH prints it. */
static int
key_fingerprint(ssh_key key, char *out, size_t outlen)
{
	unsigned char *hash = NULL;
	size_t hlen = 0;
	char b64[sodium_base64_ENCODED_LEN(64,
	    sodium_base64_VARIANT_ORIGINAL_NO_PADDING)];

	if (ssh_get_publickey_hash(key, SSH_PUBLICKEY_HASH_SHA256, &hash,
	    &hlen) != 0 || hlen > 64) {
		ssh_clean_pubkey_hash(&hash);
		return -1;
	}
	sodium_bin2base64(b64, sizeof(b64), hash, hlen,
	    sodium_base64_VARIANT_ORIGINAL_NO_PADDING);
	ssh_clean_pubkey_hash(&hash);
	snprintf(out, outlen, "SHA256:%s", b64);
	return 0;
}

static int
verify_pin(const struct cli_config *cfg, struct cli_ssh *s, ssh_key key,
    const char *fp)
{
	unsigned char *hash = NULL;
	size_t hlen = 0;
	int match;

	if (ssh_get_publickey_hash(key, SSH_PUBLICKEY_HASH_SHA256, &hash,
	    &hlen) != 0)
		return fail_conn("cannot hash the host key of", s);
	match = hlen == sizeof(cfg->pin) &&
	    sodium_memcmp(hash, cfg->pin, sizeof(cfg->pin)) == 0;
	ssh_clean_pubkey_hash(&hash);
	if (!match)
		return cli_err_status("unauthenticated", CLI_EXIT_CONN,
		    "host key of %s is %s, not the pinned %s: refusing to "
		    "connect", s->where, fp, cfg->host_key);
	return 0;
}

static int
verify_host_key(const struct cli_config *cfg, struct cli_ssh *s)
{
	ssh_key key = NULL;
	char fp[128];
	const char *type;
	int r;

	if (ssh_get_server_publickey(s->session, &key) != SSH_OK)
		return fail_conn("no host key from", s);
	if (key_fingerprint(key, fp, sizeof(fp)) != 0) {
		ssh_key_free(key);
		return fail_conn("cannot hash the host key of", s);
	}
	type = ssh_key_type_to_char(ssh_key_type(key));
	if (type == NULL)
		type = "unknown";
	if (cfg->have_pin) {
		r = verify_pin(cfg, s, key, fp);
		ssh_key_free(key);
		return r;
	}
	ssh_key_free(key);

	switch (ssh_session_is_known_server(s->session)) {
	case SSH_KNOWN_HOSTS_OK:
		return 0;
	case SSH_KNOWN_HOSTS_CHANGED:
		return cli_err_status("unauthenticated", CLI_EXIT_CONN,
		    "HOST KEY CHANGED: %s now presents %s key %s, which does "
		    "not match %s; someone may be intercepting the connection: "
		    "refusing to connect (if the server was re-keyed, verify "
		    "the new key and fix that file)", s->where, type, fp,
		    cfg->known_hosts_path);
	case SSH_KNOWN_HOSTS_OTHER:
		return cli_err_status("unauthenticated", CLI_EXIT_CONN,
		    "HOST KEY MISMATCH: %s presents %s key %s, but %s holds a "
		    "key of another type for it; someone may be intercepting "
		    "the connection: refusing to connect", s->where, type, fp,
		    cfg->known_hosts_path);
	case SSH_KNOWN_HOSTS_NOT_FOUND:
	case SSH_KNOWN_HOSTS_UNKNOWN:
		if (!cfg->accept_new)
			return cli_err_status("unauthenticated", CLI_EXIT_CONN,
			    "unknown host key for %s: %s %s is not in %s; "
			    "verify it, then use --accept-new-host-key or "
			    "--host-key %s", s->where, type, fp,
			    cfg->known_hosts_path, fp);
		if (ssh_session_update_known_hosts(s->session) != SSH_OK)
			return cli_err_status("unavailable", CLI_EXIT_CONN,
			    "cannot add the host key of %s to %s: %s",
			    s->where, cfg->known_hosts_path,
			    ssh_get_error(s->session));
		cli_warn(cfg, "added %s host key %s of %s to %s", type, fp,
		    s->where, cfg->known_hosts_path);
		return 0;
	case SSH_KNOWN_HOSTS_ERROR:
	default:
		return cli_err_status("unavailable", CLI_EXIT_CONN,
		    "cannot check the host key of %s against %s: %s",
		    s->where, cfg->known_hosts_path, ssh_get_error(s->session));
	}
}

/* libssh asks for the passphrase of an encrypted key: the terminal only. */
static int
passphrase_cb(const char *prompt, char *buf, size_t len, int echo,
    int verify, void *userdata)
{
	char p[512];

	snprintf(p, sizeof(p), "Passphrase for %s: ", (const char *)userdata);
	return cli_tty_read_hidden(p, buf, len) == 0 ? 0 : -1;
}

/* Authenticate with the private key in path. */
static int
auth_file(const struct cli_config *cfg, struct cli_ssh *s, const char *path)
{
	ssh_key key = NULL;
	struct stat st;
	char fp[128];
	int rc;

	if (stat(path, &st) != 0 || access(path, R_OK) != 0)
		return cli_err_status("unauthenticated", CLI_EXIT_CONN,
		    "cannot read identity %s: %s", path, strerror(errno));
	rc = ssh_pki_import_privkey_file(path, NULL, passphrase_cb,
	    (void *)path, &key);
	if (rc != SSH_OK)
		return cli_err_status("unauthenticated", CLI_EXIT_CONN,
		    "cannot load identity %s: not a private key, a wrong "
		    "passphrase, or no terminal to ask for one", path);
	if ((st.st_mode & 0077) != 0)
		cli_warn(cfg, "identity %s is accessible by others "
		    "(mode %04o); it should be 0600", path,
		    (unsigned int)(st.st_mode & 07777));
	if (key_fingerprint(key, fp, sizeof(fp)) != 0)
		snprintf(fp, sizeof(fp), "(unknown fingerprint)");
	rc = ssh_userauth_publickey(s->session, NULL, key);
	ssh_key_free(key);
	switch (rc) {
	case SSH_AUTH_SUCCESS:
		return 0;
	case SSH_AUTH_DENIED:
	case SSH_AUTH_PARTIAL:
		return cli_err_status("unauthenticated", CLI_EXIT_CONN,
		    "%s refused key %s (%s) for user %s", s->where, fp, path,
		    cfg->user);
	default:
		return cli_err_status("unauthenticated", CLI_EXIT_CONN,
		    "authentication to %s failed: %s", s->where,
		    ssh_get_error(s->session));
	}
}

static int
authenticate(const struct cli_config *cfg, struct cli_ssh *s)
{
	const char *sock = getenv("SSH_AUTH_SOCK"), *home;
	char *def = NULL;
	int r, agent_tried = 0;

	if (cfg->identity != NULL)
		return auth_file(cfg, s, cfg->identity);

	if (sock != NULL && *sock != '\0') {
		if (ssh_userauth_agent(s->session, NULL) == SSH_AUTH_SUCCESS)
			return 0;
		agent_tried = 1;
	}
	if ((home = cli_home_dir()) != NULL)
		def = xasprintf("%s/.ssh/id_ed25519", home);
	if (def != NULL && access(def, F_OK) == 0) {
		r = auth_file(cfg, s, def);
		free(def);
		return r;
	}
	free(def);
	if (agent_tried)
		return cli_err_status("unauthenticated", CLI_EXIT_CONN,
		    "%s accepted none of the ssh-agent's keys for user %s, "
		    "and there is no ~/.ssh/id_ed25519", s->where, cfg->user);
	return cli_err_status("unauthenticated", CLI_EXIT_CONN,
	    "no key to log in with: use -i FILE, an ssh-agent, or "
	    "~/.ssh/id_ed25519");
}

static int
set_options(const struct cli_config *cfg, struct cli_ssh *s)
{
	bool no = false;
	long timeout = CONNECT_TIMEOUT_S;
	int verbosity = cfg->debug;
	unsigned int port = cfg->port;
	const char *kh = cfg->have_pin || cfg->known_hosts_path == NULL ?
	    "/dev/null" : cfg->known_hosts_path;

	if (ssh_options_set(s->session, SSH_OPTIONS_PROCESS_CONFIG, &no) < 0 ||
	    ssh_options_set(s->session, SSH_OPTIONS_LOG_VERBOSITY,
	    &verbosity) < 0 ||
	    ssh_options_set(s->session, SSH_OPTIONS_HOST, cfg->host) < 0 ||
	    ssh_options_set(s->session, SSH_OPTIONS_PORT, &port) < 0 ||
	    ssh_options_set(s->session, SSH_OPTIONS_USER, cfg->user) < 0 ||
	    ssh_options_set(s->session, SSH_OPTIONS_KNOWNHOSTS, kh) < 0 ||
	    ssh_options_set(s->session, SSH_OPTIONS_GLOBAL_KNOWNHOSTS,
	    "/dev/null") < 0 ||
	    ssh_options_set(s->session, SSH_OPTIONS_TIMEOUT, &timeout) < 0)
		return fail_conn("cannot set the SSH options for", s);
	return 0;
}

int
cli_ssh_open(const struct cli_config *cfg, struct cli_ssh **out)
{
	struct cli_ssh *s = xcalloc(1, sizeof(*s));
	int r;

	*out = NULL;
	if (cfg->port == 22)
		snprintf(s->where, sizeof(s->where), "%s", cfg->host);
	else
		snprintf(s->where, sizeof(s->where), "[%s]:%u", cfg->host,
		    cfg->port);
	if ((s->session = ssh_new()) == NULL) {
		free(s);
		return cli_err_status("unavailable", CLI_EXIT_CONN,
		    "cannot create an SSH session");
	}
	if ((r = set_options(cfg, s)) != 0)
		goto fail;
	if (ssh_connect(s->session) != SSH_OK) {
		r = fail_conn("cannot connect to", s);
		goto fail;
	}
	if ((r = verify_host_key(cfg, s)) != 0 ||
	    (r = authenticate(cfg, s)) != 0)
		goto fail;
	if ((s->channel = ssh_channel_new(s->session)) == NULL ||
	    ssh_channel_open_session(s->channel) != SSH_OK) {
		r = fail_conn("cannot open a session channel on", s);
		goto fail;
	}
	if (ssh_channel_request_exec(s->channel, "json") != SSH_OK) {
		r = fail_conn("cannot start the protocol session on", s);
		goto fail;
	}
	*out = s;
	return 0;
 fail:
	cli_ssh_close(s);
	return r;
}

int
cli_ssh_write(struct cli_ssh *s, const void *buf, size_t len)
{
	const char *p = buf;
	uint32_t chunk;
	int n;

	while (len > 0) {
		chunk = len > 65536 ? 65536 : (uint32_t)len;
		if ((n = ssh_channel_write(s->channel, p, chunk)) <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Keep the first line of the server's stderr; discard the rest. */
static void
drain_stderr(struct cli_ssh *s)
{
	char tmp[1024];
	int n, i;

	while ((n = ssh_channel_read_nonblocking(s->channel, tmp,
	    sizeof(tmp), 1)) > 0) {
		for (i = 0; i < n && !s->errdone; i++) {
			if (tmp[i] == '\n' || tmp[i] == '\0') {
				s->errdone = s->errlen > 0;
				continue;
			}
			if (s->errlen + 1 < sizeof(s->err))
				s->err[s->errlen++] = tmp[i];
		}
	}
	s->err[s->errlen] = '\0';
}

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

ssize_t
cli_ssh_read(void *ctx, void *buf, size_t n, int timeout_ms)
{
	struct cli_ssh *s = ctx;
	uint32_t want = n > 65536 ? 65536 : (uint32_t)n;
	long long deadline = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
	long long left;
	int r, slice;

	for (;;) {
		slice = READ_SLICE_MS;
		if (deadline >= 0) {
			left = deadline - now_ms();
			if (left < slice)
				slice = left > 0 ? (int)left : 0;
		}
		r = ssh_channel_read_timeout(s->channel, buf, want, 0, slice);
		if (r > 0)
			return r;
		if (r == SSH_ERROR)
			return LR_EIO;
		drain_stderr(s);
		if (ssh_channel_is_eof(s->channel) ||
		    ssh_channel_is_closed(s->channel)) {
			r = ssh_channel_poll(s->channel, 0);
			if (r > 0)
				continue;	/* data still buffered */
			return r == SSH_ERROR ? LR_EIO : 0;
		}
		if (deadline >= 0 && now_ms() >= deadline)
			return LR_TIMEOUT;
	}
}

const char *
cli_ssh_error(struct cli_ssh *s)
{
	return ssh_get_error(s->session);
}

const char *
cli_ssh_stderr(struct cli_ssh *s)
{
	drain_stderr(s);
	return s->errlen > 0 ? s->err : NULL;
}

void
cli_ssh_close(struct cli_ssh *s)
{
	if (s == NULL)
		return;
	if (s->channel != NULL) {
		if (ssh_channel_is_open(s->channel)) {
			ssh_channel_send_eof(s->channel);
			ssh_channel_close(s->channel);
		}
		ssh_channel_free(s->channel);
	}
	if (s->session != NULL) {
		ssh_disconnect(s->session);
		ssh_free(s->session);
	}
	free(s);
}
