/*
 * sshconn.h - the one SSH session of a `secret` invocation (libssh):
 * connect, verify the server's host key, authenticate, and open the
 * channel that runs secret-shell's NDJSON mode ("json").
 *
 * Never proceeds past an unverified host key, and never prompts for
 * anything but a key passphrase (on the terminal).
 */
#ifndef CLI_SSHCONN_H
#define CLI_SSHCONN_H

#include <stddef.h>
#include <sys/types.h>

#include "client/config.h"

struct cli_ssh;

/*
 * Connect to cfg's server, verify its host key (the --host-key pin, else
 * known_hosts), authenticate (-i FILE, else ssh-agent then
 * ~/.ssh/id_ed25519) and exec "json" on a session channel.
 * Returns 0 and *out, or exit status 3 after reporting
 * "unavailable" (cannot connect) or "unauthenticated" (host key refused,
 * or our key refused).
 */
int	cli_ssh_open(const struct cli_config *cfg, struct cli_ssh **out);

/* Write all of buf to the channel.  Returns 0 or -1. */
int	cli_ssh_write(struct cli_ssh *s, const void *buf, size_t len);

/*
 * An lr_read_fn (linereader.h) over the channel's stdout: bytes read, 0 at
 * end of stream, LR_TIMEOUT or LR_EIO.  Whatever the server writes to
 * stderr meanwhile is kept (bounded) for cli_ssh_stderr().
 */
ssize_t	cli_ssh_read(void *ctx, void *buf, size_t n, int timeout_ms);

/* libssh's last error message for the session. */
const char *cli_ssh_error(struct cli_ssh *s);

/* The first line the server wrote to stderr, or NULL. */
const char *cli_ssh_stderr(struct cli_ssh *s);

/* Send EOF, close the channel, disconnect, free.  NULL is fine. */
void	cli_ssh_close(struct cli_ssh *s);

#endif
