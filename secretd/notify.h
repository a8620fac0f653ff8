/*
 * notify.h - tell systemd (Type=notify) when secretd is ready and when
 * it stops.
 */
#ifndef SECRETD_NOTIFY_H
#define SECRETD_NOTIFY_H

/* "READY=1": the socket listens; clients can connect from now on. */
void	notify_ready(void);
/* "STOPPING=1": SIGTERM seen; draining the requests in flight. */
void	notify_stopping(void);

#endif
