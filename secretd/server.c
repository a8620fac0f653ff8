/*
 * server.c - accept loop and one thread per connection.
 *
 * The socket is created 0600 (0660 with socket_group).  Every accepted
 * peer is checked with SO_PEERCRED before a single byte is read: only
 * uids listed in shell_users are served; any other peer is closed at
 * once.  Connections beyond max_connections + max_enrol_sessions get one
 * "unavailable" line and are closed; once a connection's hello says whose
 * it is, sesslimit.h counts it with its kind (known principals share
 * max_connections, enrol-only sessions max_enrol_sessions).  SIGHUP
 * reloads the configuration (reload.h) and the keyring.  On SIGTERM the
 * listener closes, every connection's read side is shut down (so a
 * handler that is running finishes and answers, and idle ones end), and
 * we wait for the threads to leave.
 */
#include <errno.h>
#include <grp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "admin.h"
#include "crypto.h"
#include "linereader.h"
#include "log.h"
#include "notify.h"
#include "proto.h"
#include "reload.h"
#include "server.h"
#include "session.h"
#include "watch.h"
#include "xmalloc.h"

#define THREAD_STACK	(1024 * 1024)
#define DRAIN_WAIT_S	30
#define MAX_OLD_KEYRINGS 64

static volatile sig_atomic_t stopping;
static volatile sig_atomic_t reload;

struct conn {
	const struct server_ctx	*ctx;
	int			 fd;
	unsigned long		 no;
	struct conn		*next, *prev;
};

static pthread_mutex_t conns_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t conns_cv = PTHREAD_COND_INITIALIZER;
static struct conn *conns;
static int n_conns;

static void
on_signal(int sig)
{
	if (sig == SIGHUP)
		reload = 1;
	else
		stopping = 1;
}

/* Load the keyring again; the new newest key seals from now on. */
static void
reload_keyring(struct server_ctx *ctx, struct keyring **old, int *nold)
{
	struct keyring *kr;
	char err[512];

	if (keyring_load(ctx->cfg->keyring, &kr, err, sizeof(err)) != 0) {
		log_error("keyring not reloaded: %s", err);
		return;
	}
	/* never step back to an older sealing key, never drop a key in use */
	if (keyring_current_id(kr) < keyring_current_id(ctx_keyring(ctx))) {
		log_error("keyring not reloaded: its newest key %u is older than "
		    "key %u in use", keyring_current_id(kr),
		    keyring_current_id(ctx_keyring(ctx)));
		keyring_free(kr);
		return;
	}
	if (admin_startup_check(ctx->cfg, kr) != 0) {
		log_error("keyring not reloaded: stored values need a key it "
		    "lacks (see above); keeping the keyring in use");
		keyring_free(kr);
		return;
	}
	if (*nold >= MAX_OLD_KEYRINGS) {
		log_error("keyring not reloaded: too many reloads, restart");
		keyring_free(kr);
		return;
	}
	old[(*nold)++] = (struct keyring *)ctx_keyring(ctx);
	__atomic_store_n(&ctx->kr, kr, __ATOMIC_RELEASE);
	log_info("keyring reloaded; sealing with key %u",
	    keyring_current_id(kr));
}

static int
listen_socket(const struct config *cfg)
{
	struct sockaddr_un sun;
	struct stat st;
	struct group *gr;
	mode_t mode = cfg->socket_group ? 0660 : 0600;
	int fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(cfg->socket) >= sizeof(sun.sun_path)) {
		log_error("socket path too long: %s", cfg->socket);
		return -1;
	}
	strcpy(sun.sun_path, cfg->socket);
	/* Remove a stale socket, but never another kind of file. */
	if (lstat(cfg->socket, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			log_error("%s exists and is not a socket", cfg->socket);
			return -1;
		}
		unlink(cfg->socket);
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1) {
		log_error("socket: %s", strerror(errno));
		return -1;
	}
	mode_t old = umask(0177);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		umask(old);
		log_error("bind %s: %s", cfg->socket, strerror(errno));
		close(fd);
		return -1;
	}
	umask(old);
	if (cfg->socket_group != NULL) {
		if ((gr = getgrnam(cfg->socket_group)) == NULL ||
		    chown(cfg->socket, (uid_t)-1, gr->gr_gid) == -1) {
			log_error("cannot give %s to group %s", cfg->socket,
			    cfg->socket_group);
			close(fd);
			return -1;
		}
	}
	if (chmod(cfg->socket, mode) == -1 || listen(fd, 128) == -1) {
		log_error("listen %s: %s", cfg->socket, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static int
peer_allowed(const struct config *cfg, int fd, uid_t *uid)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	int i;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == -1)
		return 0;
	*uid = cred.uid;
	for (i = 0; i < cfg->n_shell_uids; i++)
		if (cfg->shell_uids[i] == cred.uid)
			return 1;
	return 0;
}

static void *
conn_thread(void *arg)
{
	struct conn *c = arg;

	session_run(c->ctx, c->fd, c->no);
	pthread_mutex_lock(&conns_mu);
	if (c->prev)
		c->prev->next = c->next;
	else
		conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	n_conns--;
	close(c->fd);
	pthread_cond_broadcast(&conns_cv);
	pthread_mutex_unlock(&conns_mu);
	free(c);
	return NULL;
}

static void
refuse_busy(int fd)
{
	json_t *e = proto_error(NULL, SD_EUNAVAIL, "too many connections");
	size_t len;
	char *buf = proto_dump(e, &len);

	(void)write_all(fd, buf, len);
	free(buf);
	json_decref(e);
}

static void
accept_one(const struct server_ctx *ctx, int lfd, pthread_attr_t *attr)
{
	static unsigned long next_no;
	struct conn *c;
	pthread_t tid;
	uid_t uid = (uid_t)-1;
	int fd;

	if ((fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC)) == -1) {
		if (errno != EINTR && errno != EAGAIN)
			log_warn("accept: %s", strerror(errno));
		if (errno == EMFILE || errno == ENFILE)
			usleep(100 * 1000);
		return;
	}
	if (!peer_allowed(ctx->cfg, fd, &uid)) {
		log_warn("refused socket peer with uid %d", (int)uid);
		close(fd);
		return;
	}
	pthread_mutex_lock(&conns_mu);
	if (n_conns >= ctx->cfg->max_connections +
	    ctx->cfg->max_enrol_sessions) {
		pthread_mutex_unlock(&conns_mu);
		log_warn("max_connections (%d) + max_enrol_sessions (%d) "
		    "reached", ctx->cfg->max_connections,
		    ctx->cfg->max_enrol_sessions);
		refuse_busy(fd);
		close(fd);
		return;
	}
	c = xcalloc(1, sizeof(*c));
	c->ctx = ctx;
	c->fd = fd;
	c->no = ++next_no;
	c->next = conns;
	if (conns)
		conns->prev = c;
	conns = c;
	n_conns++;
	if (pthread_create(&tid, attr, conn_thread, c) != 0) {
		log_error("cannot start a connection thread");
		conns = c->next;
		if (conns)
			conns->prev = NULL;
		n_conns--;
		pthread_mutex_unlock(&conns_mu);
		close(fd);
		free(c);
		return;
	}
	pthread_mutex_unlock(&conns_mu);
}

static void
drain(void)
{
	struct timespec deadline;
	struct conn *c;

	pthread_mutex_lock(&conns_mu);
	for (c = conns; c != NULL; c = c->next)
		shutdown(c->fd, SHUT_RD);
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += DRAIN_WAIT_S;
	while (n_conns > 0)
		if (pthread_cond_timedwait(&conns_cv, &conns_mu,
		    &deadline) != 0)
			break;
	if (n_conns > 0)
		log_warn("%d connections still busy at exit", n_conns);
	pthread_mutex_unlock(&conns_mu);
}

int
server_run(struct server_ctx *ctx)
{
	struct keyring *old[MAX_OLD_KEYRINGS];
	int nold = 0, i;
	struct sigaction sa;
	pthread_attr_t attr;
	struct pollfd pfd;
	int lfd;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);

	if ((lfd = listen_socket(ctx->cfg)) == -1)
		return -1;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, THREAD_STACK);
	log_info("listening on %s", ctx->cfg->socket);
	notify_ready();

	pfd.fd = lfd;
	pfd.events = POLLIN;
	while (!stopping) {
		if (reload) {
			reload = 0;
			reload_config(ctx);	/* then the keyring */
			reload_keyring(ctx, old, &nold);
		}
		if (poll(&pfd, 1, 500) > 0)
			accept_one(ctx, lfd, &attr);
	}
	log_info("shutting down");
	notify_stopping();
	close(lfd);
	unlink(ctx->cfg->socket);
	drain();
	watch_shutdown();
	pthread_attr_destroy(&attr);
	for (i = 0; i < nold; i++)
		keyring_free(old[i]);
	return 0;
}
