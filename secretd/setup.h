/*
 * setup.h - "secretd setup" (setup.c): a fresh host into a working
 * server, idempotent, one line per step.
 */
#ifndef SECRETD_SETUP_H
#define SECRETD_SETUP_H

/* argv[0] is "setup"; conf is the -c path (written if missing).
 * Returns the exit status: 0 done, 1 a step failed, 2 usage. */
int	setup_main(const char *conf, int argc, char **argv);

#endif
