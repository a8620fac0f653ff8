/*
 * sshd_setup.h - what secretd needs of sshd (DESIGN §2), for setup and
 * doctor: the snippet for sshd_config.d, sshd's view of its effective
 * configuration (sshd -T), and the ownership rule sshd applies to an
 * AuthorizedKeysCommand.
 */
#ifndef SECRETD_SSHD_SETUP_H
#define SECRETD_SSHD_SETUP_H

#include <stddef.h>

/* contrib/sshd_config.d-secretd.conf, compiled in by the Makefile. */
extern const char sshd_snippet_template[];

/*
 * The snippet for this host: the template with its "Match User",
 * "AuthorizedKeysCommand", "AuthorizedKeysCommandUser" and "SetEnv
 * SECRETD_SOCKET=" lines rewritten for login, shell (the secret-shell
 * path) and sock.  NULL with *why when a value cannot be written safely
 * in sshd_config (only [A-Za-z0-9/._+@-] is) or the template lacks one
 * of those lines.  Caller frees.
 */
char	*sshd_snippet_render(const char *login, const char *shell,
	    const char *sock, const char **why);

/* The settings of sshd -T that DESIGN §2 needs (NULL: not printed). */
struct sshd_effective {
	char	*akc;		/* authorizedkeyscommand */
	char	*akc_user;	/* authorizedkeyscommanduser */
	char	*expose;	/* exposeauthinfo */
	char	*ak_file;	/* authorizedkeysfile */
	char	*permit_tty;	/* permittty */
	char	*no_forwarding;	/* disableforwarding */
	char	*env_socket;	/* SECRETD_SOCKET of setenv */
};

/*
 * Run "sshd -T -f config -C user=USER,host=localhost,addr=127.0.0.1" and
 * read those settings.  0, or -1 with err holding sshd's first line.
 */
int	sshd_effective(const char *sshd, const char *config, const char *user,
	    struct sshd_effective *e, char *err, size_t errlen);
void	sshd_effective_free(struct sshd_effective *e);

/* "sshd -t -f config": 0, or -1 with err holding sshd's first line. */
int	sshd_test(const char *sshd, const char *config, char *err,
	    size_t errlen);

/*
 * Split an AuthorizedKeysCommand: the program it runs (past an "env
 * VAR=..." wrapper), the socket given with -S (or "") and whether its
 * arguments end in "authorized-keys %u %t %k".  0, or -1 if empty.
 */
int	sshd_akc_split(const char *akc, char *prog, size_t proglen,
	    char *sock, size_t socklen, int *args_ok);

/*
 * sshd runs an AuthorizedKeysCommand only if it and every directory
 * above it are owned by root and not writable by group or others.  0,
 * or -1 with why naming the first one that is not, and the fix.
 */
int	sshd_safe_path(const char *path, char *why, size_t whylen);

#endif
