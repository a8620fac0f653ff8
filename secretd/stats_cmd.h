/*
 * stats_cmd.h - `secretd stats`: ask the running daemon for server.stats
 * through its socket, as secret-shell does, and print the answer.
 */
#ifndef SECRETD_STATS_CMD_H
#define SECRETD_STATS_CMD_H

/* argv[0] is "stats".  conf: the configuration, read (if it can be)
 * only for the socket's path.  Returns the exit status. */
int	stats_main(const char *conf, int argc, char **argv);

#endif
