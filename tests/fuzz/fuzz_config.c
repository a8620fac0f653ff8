/*
 * fuzz_config.c - libFuzzer target for secretd.conf (secretd/config.c).
 *
 * Each input goes through config_load (written to one temporary file,
 * rewritten in place, under /dev/shm when there is one) and, when it
 * holds no NUL, through config_parse on the same text.  Invariants: both
 * agree (same verdict, same message, same values); a refusal is
 * "NAME:LINE: reason" with LINE within the file; an acceptance has every
 * value in its documented range, and every line that is not blank or a
 * comment is "key = value" with a known key, each key at most once (an
 * unknown key is an error, never ignored).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "secretd/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* As CONFIG_MAX_FILE in secretd/config.c. */
#define MAX_FILE	(64 * 1024)

static const char *const known[] = {
	"socket", "socket_group", "shell_users", "database",
	"admin_database", "pool_size", "keyring", "max_value_size",
	"max_request_size", "max_versions", "max_connections",
	"idle_timeout", "enrol_unknown_keys", "audit_syslog", "log_level",
};
#define NKNOWN	(sizeof(known) / sizeof(known[0]))

static char	tmp_path[64];
static int	tmp_fd = -1;

static void
tmp_remove(void)
{
	if (tmp_fd != -1)
		unlink(tmp_path);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	snprintf(tmp_path, sizeof(tmp_path), "%s/fuzz_config.XXXXXX",
	    access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
	if ((tmp_fd = mkstemp(tmp_path)) == -1)
		abort();
	atexit(tmp_remove);
	return 0;
}

static int
blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

/* Every key line of an accepted text names a known key, once. */
static void
check_keys(const char *text)
{
	unsigned char seen[NKNOWN] = { 0 };
	const char *p = text, *e, *eq, *k, *ke;
	size_t i;

	while (*p != '\0') {
		e = strchr(p, '\n');
		if (e == NULL)
			e = p + strlen(p);
		k = p;
		while (k < e && blank(*k))
			k++;
		if (k < e && *k != '#') {
			eq = memchr(k, '=', (size_t)(e - k));
			if (eq == NULL)
				abort();
			ke = eq;
			while (ke > k && blank(ke[-1]))
				ke--;
			for (i = 0; i < NKNOWN; i++)
				if (strlen(known[i]) == (size_t)(ke - k) &&
				    memcmp(known[i], k, (size_t)(ke - k)) == 0)
					break;
			if (i == NKNOWN || seen[i]++)
				abort();
		}
		p = *e == '\n' ? e + 1 : e;
	}
}

static void
check_values(const struct config *c)
{
	if (c->socket == NULL || c->socket[0] == '\0' ||
	    c->database == NULL || c->database[0] == '\0' ||
	    c->keyring == NULL || c->keyring[0] == '\0' ||
	    (c->socket_group != NULL && c->socket_group[0] == '\0') ||
	    (c->admin_database != NULL && c->admin_database[0] == '\0') ||
	    c->n_shell_uids < 1 || c->n_shell_uids > CONFIG_MAX_SHELL_USERS ||
	    c->pool_size < 1 || c->pool_size > 64 ||
	    c->max_value_size < 1 || c->max_value_size > 1024 * 1024 ||
	    c->max_request_size < 1024 ||
	    c->max_request_size > 16 * 1024 * 1024 ||
	    c->max_versions < 1 || c->max_versions > 1000 ||
	    c->max_connections < 1 || c->max_connections > 4096 ||
	    c->idle_timeout < 1 || c->idle_timeout > 3600 ||
	    (c->enrol_unknown_keys != 0 && c->enrol_unknown_keys != 1) ||
	    (c->audit_syslog != 0 && c->audit_syslog != 1))
		abort();
	if (strchr(c->socket, '\n') || strchr(c->database, '\n') ||
	    strchr(c->keyring, '\n'))
		abort();
}

static int
str_eq(const char *a, const char *b)
{
	return (a == NULL && b == NULL) ||
	    (a != NULL && b != NULL && strcmp(a, b) == 0);
}

static void
check_same(const struct config *a, const struct config *b)
{
	if (!str_eq(a->socket, b->socket) ||
	    !str_eq(a->socket_group, b->socket_group) ||
	    !str_eq(a->database, b->database) ||
	    !str_eq(a->admin_database, b->admin_database) ||
	    !str_eq(a->keyring, b->keyring) ||
	    a->n_shell_uids != b->n_shell_uids ||
	    memcmp(a->shell_uids, b->shell_uids, sizeof(a->shell_uids)) != 0 ||
	    a->pool_size != b->pool_size ||
	    a->max_value_size != b->max_value_size ||
	    a->max_request_size != b->max_request_size ||
	    a->max_versions != b->max_versions ||
	    a->max_connections != b->max_connections ||
	    a->idle_timeout != b->idle_timeout ||
	    a->enrol_unknown_keys != b->enrol_unknown_keys ||
	    a->audit_syslog != b->audit_syslog ||
	    a->log_level != b->log_level)
		abort();
}

/* "NAME:LINE: reason" with 1 <= LINE <= lines. */
static void
check_error(const char *err, const char *name, size_t lines)
{
	size_t n = strlen(name);
	unsigned long line;
	char *end;

	if (strncmp(err, name, n) != 0 || err[n] != ':')
		abort();
	line = strtoul(err + n + 1, &end, 10);
	if (end == err + n + 1 || line > lines || strncmp(end, ": ", 2) != 0 ||
	    end[2] == '\0')
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config a, b;
	char erra[512], errb[512], *text;
	size_t i, lines = 1;
	int ra, rb, has_nul;

	if (ftruncate(tmp_fd, 0) != 0 ||
	    (size > 0 && pwrite(tmp_fd, data, size, 0) != (ssize_t)size))
		abort();
	config_defaults(&a);
	erra[0] = '\0';
	ra = config_load(&a, tmp_path, erra, sizeof(erra));

	has_nul = memchr(data, '\0', size) != NULL;
	if (has_nul || size > MAX_FILE) {
		/* Refused as a file, before any line is read. */
		if (ra != -1 || strncmp(erra, tmp_path, strlen(tmp_path)) != 0)
			abort();
		config_free(&a);
		return 0;
	}

	text = malloc(size + 1);
	memcpy(text, data, size);
	text[size] = '\0';
	for (i = 0; i < size; i++)
		if (data[i] == '\n')
			lines++;
	config_defaults(&b);
	errb[0] = '\0';
	rb = config_parse(&b, tmp_path, text, errb, sizeof(errb));
	if (ra != rb || (ra != 0 && strcmp(erra, errb) != 0))
		abort();
	if (ra == 0) {
		check_same(&a, &b);
		check_values(&a);
		check_keys(text);
	} else
		check_error(erra, tmp_path, lines);
	config_free(&a);
	config_free(&b);
	free(text);
	return 0;
}
