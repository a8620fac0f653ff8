/*
 * runcmd.h - run a program (never through a shell) and read what it
 * prints, for setup and doctor (sshd -t, sshd -T, useradd, systemctl).
 */
#ifndef SECRETD_RUNCMD_H
#define SECRETD_RUNCMD_H

#include <stddef.h>

/*
 * Run argv[0] (a path) with argv, stdin from /dev/null, and collect its
 * stdout and stderr together into out (NUL-terminated; beyond outlen - 1
 * bytes the rest is read and dropped).  out may be NULL.  Returns the
 * exit status (0..255), 128 + N when killed by signal N, or -1 when it
 * could not be run (out then says why).
 */
int	run_cmd(char *const argv[], char *out, size_t outlen);

/* The first line of text, without its newline, into buf. */
void	first_line(const char *text, char *buf, size_t len);

#endif
