/*
 * authkeys.h - sshd's AuthorizedKeysCommand:
 *	secret-shell [-S SOCKET] authorized-keys USER TYPE BASE64
 */
#ifndef SHELL_AUTHKEYS_H
#define SHELL_AUTHKEYS_H

/*
 * Ask secretd whether the key may log in and, if it may, print the one
 * authorized_keys line
 *	restrict,command="<this binary>" TYPE BASE64
 * Prints nothing in every other case (fail safe).  Returns the exit
 * status: 0 with a line printed or for a key secretd does not know, 1 for
 * any failure (which sshd logs and treats as "no key").
 */
int	authkeys_main(const char *socket_path, const char *user,
	    const char *type, const char *b64);

/*
 * 1 if path may appear inside command="..." in an authorized_keys line:
 * absolute, and only [A-Za-z0-9/._+-] (nothing sshd or the login shell
 * that runs the forced command would interpret).  Exposed for testing.
 */
int	authkeys_path_safe(const char *path);

#endif
