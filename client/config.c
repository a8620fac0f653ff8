/*
 * config.c - global options of the `secret` client: environment defaults,
 * server specification, host key pin.
 *
 * Must never read anything secret from the environment: only locations
 * and public fingerprints live here.
 */
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "xmalloc.h"

#include "client/config.h"

void
cli_config_init(struct cli_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
}

static const char *
env_nonempty(const char *name)
{
	const char *v = getenv(name);

	return (v != NULL && *v != '\0') ? v : NULL;
}

const char *
cli_home_dir(void)
{
	const char *h = env_nonempty("HOME");
	struct passwd *pw;

	if (h != NULL)
		return h;
	if ((pw = getpwuid(getuid())) != NULL && pw->pw_dir != NULL)
		return pw->pw_dir;
	return NULL;
}

int
cli_server_parse(const char *spec, char **user, char **host,
    unsigned int *port, const char **why)
{
	const char *at, *h, *hend, *p = NULL;
	char *end;
	unsigned long n;

	*user = *host = NULL;
	*port = CLI_DEFAULT_PORT;
	if ((at = strrchr(spec, '@')) != NULL) {
		if (at == spec) {
			*why = "empty user name before '@'";
			return -1;
		}
		h = at + 1;
	} else
		h = spec;

	if (*h == '[') {			/* [v6addr][:port] */
		if ((hend = strchr(h, ']')) == NULL) {
			*why = "unterminated '[' in host";
			return -1;
		}
		if (hend[1] == ':')
			p = hend + 2;
		else if (hend[1] != '\0') {
			*why = "junk after ']' in host";
			return -1;
		}
		h++;
	} else {
		hend = strchr(h, ':');
		if (hend != NULL) {
			if (strchr(hend + 1, ':') != NULL) {
				*why = "IPv6 address must be in brackets: USER@[ADDR]:PORT";
				return -1;
			}
			p = hend + 1;
		} else
			hend = h + strlen(h);
	}
	if (hend == h) {
		*why = "empty host name";
		return -1;
	}
	if (p != NULL) {
		if (*p < '0' || *p > '9') {
			*why = "port must be a number from 1 to 65535";
			return -1;
		}
		errno = 0;
		n = strtoul(p, &end, 10);
		if (errno != 0 || *end != '\0' || n < 1 || n > 65535) {
			*why = "port must be a number from 1 to 65535";
			return -1;
		}
		*port = (unsigned int)n;
	}
	*host = xstrndup(h, (size_t)(hend - h));
	if (strpbrk(*host, " \t\r\n/") != NULL) {
		free(*host);
		*host = NULL;
		*why = "invalid character in host name";
		return -1;
	}
	*user = at != NULL ? xstrndup(spec, (size_t)(at - spec)) :
	    xstrdup(CLI_DEFAULT_USER);
	return 0;
}

int
cli_fingerprint_decode(const char *fp, unsigned char out[32])
{
	static const char prefix[] = "SHA256:";
	const char *b64, *end;
	size_t len;

	if (strncmp(fp, prefix, sizeof(prefix) - 1) != 0)
		return -1;
	b64 = fp + sizeof(prefix) - 1;
	if (strlen(b64) != 43)
		return -1;
	if (sodium_base642bin(out, 32, b64, 43, NULL, &len, &end,
	    sodium_base64_VARIANT_ORIGINAL_NO_PADDING) != 0 ||
	    len != 32 || *end != '\0')
		return -1;
	return 0;
}

int
cli_config_finish(struct cli_config *cfg, int need_server,
    char *why_buf, size_t why_len)
{
	const char *why, *home, *v;

	if (cfg->server == NULL)
		cfg->server = env_nonempty("SECRET_SERVER");
	if (cfg->identity == NULL)
		cfg->identity = env_nonempty("SECRET_IDENTITY");
	if (cfg->known_hosts == NULL)
		cfg->known_hosts = env_nonempty("SECRET_KNOWN_HOSTS");
	if (cfg->host_key == NULL)
		cfg->host_key = env_nonempty("SECRET_HOST_KEY");
	if ((v = env_nonempty("SECRET_DEBUG")) != NULL &&
	    v[0] >= '0' && v[0] <= '4' && v[1] == '\0')
		cfg->debug = v[0] - '0';

	if (cfg->host_key != NULL) {
		if (cli_fingerprint_decode(cfg->host_key, cfg->pin) != 0) {
			snprintf(why_buf, why_len, "--host-key wants a fingerprint "
			    "as ssh-keygen -l prints it: SHA256: and 43 base64 "
			    "characters");
			return -1;
		}
		cfg->have_pin = 1;
	}
	if (cfg->server != NULL) {
		if (cli_server_parse(cfg->server, &cfg->user, &cfg->host,
		    &cfg->port, &why) != 0) {
			snprintf(why_buf, why_len, "bad server \"%s\": %s "
			    "(want USER@HOST[:PORT])", cfg->server, why);
			return -1;
		}
	} else if (need_server) {
		snprintf(why_buf, why_len, "no server: use -s USER@HOST[:PORT] "
		    "or set SECRET_SERVER");
		return -1;
	}
	if (cfg->known_hosts != NULL)
		cfg->known_hosts_path = xstrdup(cfg->known_hosts);
	else if ((home = cli_home_dir()) != NULL)
		cfg->known_hosts_path = xasprintf("%s/.ssh/known_hosts", home);
	else if (need_server && !cfg->have_pin) {
		snprintf(why_buf, why_len, "no home directory: use "
		    "--known-hosts FILE or --host-key SHA256:...");
		return -1;
	}
	return 0;
}

void
cli_config_free(struct cli_config *cfg)
{
	free(cfg->user);
	free(cfg->host);
	free(cfg->known_hosts_path);
	cfg->user = cfg->host = cfg->known_hosts_path = NULL;
}
