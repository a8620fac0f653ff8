/*
 * notify.c - readiness notification for systemd (contrib/secretd.service
 * is Type=notify), through libsystemd's sd_notify.
 *
 * Without $NOTIFY_SOCKET (not started by systemd, or by the test
 * harness) sd_notify does nothing, so the daemon behaves the same
 * everywhere else.  A failure to notify is logged at debug level only:
 * systemd then reports the start as timed out, which says more than we
 * could.
 */
#include <string.h>
#include <systemd/sd-daemon.h>

#include "log.h"
#include "notify.h"

static void
notify(const char *state)
{
	int r = sd_notify(0, state);

	if (r < 0)
		log_debug("sd_notify %s: %s", state, strerror(-r));
}

void
notify_ready(void)
{
	notify("READY=1\nSTATUS=listening");
}

void
notify_stopping(void)
{
	notify("STOPPING=1\nSTATUS=draining requests in flight");
}
