/*
 * watch.h - secret.watch: live change events for the sessions that ask.
 *
 * One thread per secretd LISTENs on channel secretd_watch on a database
 * connection of its own (sql/014_watch.sql sends the notices from the
 * transactions that commit the changes, whichever secretd ran them).  For
 * each notice it finds the watchers whose prefixes it concerns, checks
 * read for all of them in one statement (through each session's key, as
 * WHO in store.c), and queues an event line for those allowed.  The
 * session's own thread sends the lines between requests (watch_wait), so
 * an event never cuts into a response.  An idle watcher is a small
 * struct, its prefixes and an eventfd: no thread, no connection of its own.
 */
#ifndef SECRETD_WATCH_H
#define SECRETD_WATCH_H

#include "linereader.h"
#include "request.h"

#define WATCH_MAX_PREFIXES	16	/* per secret.watch */
#define WATCH_MAX		4096	/* watching sessions per secretd */
#define WATCH_QUEUE_MAX		64	/* events queued per watcher; past it
					   they fold into one "rescan" each */

/*
 * Make session s watch the n prefixes (copied), replacing what it
 * watched before.  The listener is started on first use: 0 once it is
 * listening, so that every change committed after the answer is seen;
 * SD_EUNAVAIL (with *why) when it cannot listen or WATCH_MAX is reached.
 */
int	watch_start(const struct server_ctx *ctx, struct session *s,
	    const struct sd_path *prefixes, int n, const char **why)
	    SD_MUST_CHECK;

/*
 * For a watching session, between requests: send its events as they
 * come until a request can be read from fd (1), or the session must
 * close (0: its key was revoked, the client went away or does not read).
 */
int	watch_wait(const struct server_ctx *ctx, struct session *s, int fd,
	    struct linereader *lr);

/* The session ends: forget its watch (if any). */
void	watch_end(struct session *s);

/* At exit: stop the listener thread (if started). */
void	watch_shutdown(void);

/* Watching sessions now (for stats). */
int	watch_count(void);

#endif
