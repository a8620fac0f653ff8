/*
 * config.h - the global options of one `secret` invocation (DESIGN §5).
 *
 * Each option comes from the command line or, when absent there, from its
 * environment variable.  This struct is filled once by the argument parser
 * and passed, read-only, to everything that needs it.  It never holds a
 * secret: only where to connect and how to authenticate.
 */
#ifndef CLI_CONFIG_H
#define CLI_CONFIG_H

#include <stddef.h>
#include <sys/types.h>

#define SECRET_VERSION		SECRETD_VERSION	/* the file VERSION, via make */
#define CLI_DEFAULT_USER	"secret"	/* the login user of DESIGN §2 */
#define CLI_DEFAULT_PORT	22
#define CLI_HOSTKEY_HASH_LEN	32		/* SHA256 */

/* Identifiers of the global options (see cli_global_opts in args.c). */
enum cli_global_opt {
	GOPT_SERVER = 1000,
	GOPT_IDENTITY,
	GOPT_KNOWN_HOSTS,
	GOPT_HOST_KEY,
	GOPT_ACCEPT_NEW,
	GOPT_JSON,
	GOPT_QUIET,
	GOPT_HELP,
	GOPT_VERSION,
};

struct cli_config {
	/* As given (argv, else environment); not owned. */
	const char	*server;	/* USER@HOST[:PORT] */
	const char	*identity;	/* NULL: ssh-agent, then ~/.ssh/id_ed25519 */
	const char	*known_hosts;	/* NULL: ~/.ssh/known_hosts */
	const char	*host_key;	/* "SHA256:..." pin, or NULL */
	int		 accept_new;	/* --accept-new-host-key */
	int		 json;		/* --json: raw response objects */
	int		 quiet;		/* -q: no informational output */
	int		 debug;		/* $SECRET_DEBUG: libssh log level 0..4 */
	mode_t		 umask_orig;	/* the umask we were started with (exec) */

	/* Derived by cli_config_finish(); owned. */
	char		*user;
	char		*host;
	unsigned int	 port;
	char		*known_hosts_path;
	unsigned char	 pin[CLI_HOSTKEY_HASH_LEN];
	int		 have_pin;
};

/* Zero the struct. */
void	cli_config_init(struct cli_config *cfg);

/*
 * Fill what the command line left unset from the environment
 * (SECRET_SERVER, SECRET_IDENTITY, SECRET_KNOWN_HOSTS, SECRET_HOST_KEY,
 * SECRET_DEBUG), then parse and check it.  need_server: a missing server
 * is an error.  Returns 0, or -1 with *why set to a message (static or in
 * the buffer why_buf of why_len bytes) describing a usage error.
 */
int	cli_config_finish(struct cli_config *cfg, int need_server,
	    char *why_buf, size_t why_len);

/*
 * Split "USER@HOST[:PORT]" ("@HOST" parts optional: USER defaults to
 * "secret"; HOST may be a bracketed IPv6 address).  Returns 0 and sets
 * the three outputs (user and host malloc'ed), or -1 with *why set.
 */
int	cli_server_parse(const char *spec, char **user, char **host,
	    unsigned int *port, const char **why);

/*
 * Decode an OpenSSH-style "SHA256:<43 base64 chars>" fingerprint into 32
 * bytes.  Returns 0 or -1.
 */
int	cli_fingerprint_decode(const char *fp, unsigned char out[32]);

/* The home directory: $HOME, else the password database; NULL if none. */
const char *cli_home_dir(void);

/* Free what cli_config_finish() allocated. */
void	cli_config_free(struct cli_config *cfg);

#endif
