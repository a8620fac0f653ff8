/*
 * test_linereader.c - unit tests for lib/linereader.c over pipes,
 * socketpairs and scripted callbacks: split reads, over-long lines, NUL,
 * timeouts, EOF in the middle of a line, EINTR, wiping, write_all.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "linereader.h"

static long
elapsed_ms(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (t1.tv_sec - t0->tv_sec) * 1000 +
	    (t1.tv_nsec - t0->tv_nsec) / 1000000;
}

/* Scripted callback: hands out data at most chunk bytes at a time. */
struct script {
	const char	*data;
	size_t		 len;
	size_t		 off;
	size_t		 chunk;
	int		 fail_at_end;	/* LR_EIO instead of EOF */
	int		 calls;
};

static ssize_t
script_read(void *ctx, void *buf, size_t n, int timeout_ms)
{
	struct script *s = ctx;
	size_t k;

	s->calls++;
	if (s->off == s->len)
		return s->fail_at_end ? LR_EIO : 0;
	k = s->len - s->off;
	if (k > n)
		k = n;
	if (k > s->chunk)
		k = s->chunk;
	memcpy(buf, s->data + s->off, k);
	s->off += k;
	return (ssize_t)k;
}

static void
expect_line(struct linereader *lr, const char *want, size_t wantlen)
{
	char *line = NULL;
	size_t len = 0;

	assert_int_equal(linereader_next(lr, 1000, &line, &len), LR_LINE);
	assert_int_equal(len, wantlen);
	assert_memory_equal(line, want, wantlen);
	assert_int_equal(line[len], '\0');
}

static void
expect_result(struct linereader *lr, int want)
{
	char *line = (char *)"x";
	size_t len = 7;

	assert_int_equal(linereader_next(lr, 1000, &line, &len), want);
	assert_null(line);
	assert_int_equal(len, 0);
}

static void
test_basic_pipe(void **state)
{
	struct linereader *lr;
	int fds[2];
	static const char data[] = "hello\nworld\r\n\nlast\n";

	(void)state;
	assert_int_equal(pipe(fds), 0);
	assert_int_equal(write_all(fds[1], data, sizeof(data) - 1), 0);
	close(fds[1]);
	lr = linereader_fd(fds[0], 100);
	expect_line(lr, "hello", 5);
	assert_int_equal(linereader_pending(lr), sizeof(data) - 1 - 6);
	expect_line(lr, "world\r", 6);		/* '\r' kept */
	expect_line(lr, "", 0);
	expect_line(lr, "last", 4);
	assert_int_equal(linereader_pending(lr), 0);
	expect_result(lr, LR_EOF);
	expect_result(lr, LR_EOF);
	linereader_free(lr);
	linereader_free(NULL);
	close(fds[0]);
}

static void
test_split_reads(void **state)
{
	struct script s = { 0 };
	struct linereader *lr;
	char *big;
	size_t i, n = 50000;

	(void)state;
	/* One byte per read, a line that needs the buffer to grow. */
	big = malloc(n + 20);
	for (i = 0; i < n; i++)
		big[i] = (char)('a' + i % 26);
	memcpy(big + n, "\nshort\n", 7);
	s.data = big;
	s.len = n + 7;
	s.chunk = 1;
	lr = linereader_cb(script_read, &s, n);
	expect_line(lr, big, n);		/* exactly max_line: accepted */
	expect_line(lr, "short", 5);
	expect_result(lr, LR_EOF);
	linereader_free(lr);

	/* Odd chunk sizes across line boundaries. */
	memset(&s, 0, sizeof(s));
	s.data = "ab\ncde\nf\n\ngh\n";
	s.len = strlen(s.data);
	s.chunk = 3;
	lr = linereader_cb(script_read, &s, 10);
	expect_line(lr, "ab", 2);
	expect_line(lr, "cde", 3);
	expect_line(lr, "f", 1);
	expect_line(lr, "", 0);
	expect_line(lr, "gh", 2);
	expect_result(lr, LR_EOF);
	linereader_free(lr);
	free(big);
}

static void
test_too_long(void **state)
{
	struct script s = { 0 };
	struct linereader *lr;
	char *big;
	size_t i, n = 3 * 1024 * 1024;

	(void)state;
	/* max_line 10: 10 bytes ok, 11 too long, stream stays usable. */
	s.data = "0123456789\n0123456789A\nok\n01234567890123456789012345\nend\n";
	s.len = strlen(s.data);
	s.chunk = 4;
	lr = linereader_cb(script_read, &s, 10);
	expect_line(lr, "0123456789", 10);
	expect_result(lr, LR_TOOLONG);
	expect_line(lr, "ok", 2);
	expect_result(lr, LR_TOOLONG);
	expect_line(lr, "end", 3);
	expect_result(lr, LR_EOF);
	linereader_free(lr);

	/* A 3 MiB line with max 1 KiB, in big chunks, then a normal line. */
	big = malloc(n + 16);
	for (i = 0; i < n; i++)
		big[i] = 'z';
	memcpy(big + n, "\nnext\n", 6);
	memset(&s, 0, sizeof(s));
	s.data = big;
	s.len = n + 6;
	s.chunk = 65536;
	lr = linereader_cb(script_read, &s, 1024);
	expect_result(lr, LR_TOOLONG);
	expect_line(lr, "next", 4);
	expect_result(lr, LR_EOF);
	linereader_free(lr);

	/* Over-long line that runs into EOF: reported, then EOF. */
	memset(&s, 0, sizeof(s));
	s.data = big;
	s.len = 5000;
	s.chunk = 100;
	lr = linereader_cb(script_read, &s, 1024);
	expect_result(lr, LR_TOOLONG);
	expect_result(lr, LR_EOF);
	linereader_free(lr);

	/* max_line 0: only empty lines. */
	memset(&s, 0, sizeof(s));
	s.data = "\na\n\n";
	s.len = 4;
	s.chunk = 10;
	lr = linereader_cb(script_read, &s, 0);
	expect_line(lr, "", 0);
	expect_result(lr, LR_TOOLONG);
	expect_line(lr, "", 0);
	expect_result(lr, LR_EOF);
	linereader_free(lr);
	free(big);
}

static void
test_too_long_fd(void **state)
{
	struct linereader *lr;
	int sv[2];
	pid_t pid;
	int status;

	(void)state;
	/* A writer process sends 2 MiB without newline, then a line. */
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		static char chunk[65536];
		int i;

		close(sv[0]);
		memset(chunk, 'q', sizeof(chunk));
		for (i = 0; i < 32; i++)
			if (write_all(sv[1], chunk, sizeof(chunk)) != 0)
				_exit(1);
		if (write_all(sv[1], "\n{\"ok\":true}\n", 13) != 0)
			_exit(1);
		_exit(0);
	}
	close(sv[1]);
	lr = linereader_fd(sv[0], 4096);
	expect_result(lr, LR_TOOLONG);
	expect_line(lr, "{\"ok\":true}", 11);
	expect_result(lr, LR_EOF);
	linereader_free(lr);
	close(sv[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static void
test_nul(void **state)
{
	struct linereader *lr;
	int fds[2];
	static const char data[] = "a\0b\nnext\n\0\nlast\n";

	(void)state;
	assert_int_equal(pipe(fds), 0);
	assert_int_equal(write_all(fds[1], data, sizeof(data) - 1), 0);
	close(fds[1]);
	lr = linereader_fd(fds[0], 100);
	expect_result(lr, LR_NUL);
	expect_line(lr, "next", 4);
	expect_result(lr, LR_NUL);
	expect_line(lr, "last", 4);
	expect_result(lr, LR_EOF);
	linereader_free(lr);
	close(fds[0]);
}

static void
test_timeout(void **state)
{
	struct linereader *lr;
	struct timespec t0;
	char *line;
	size_t len;
	long ms;
	int fds[2];

	(void)state;
	assert_int_equal(pipe(fds), 0);
	lr = linereader_fd(fds[0], 100);

	/* Nothing at all. */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(linereader_next(lr, 150, &line, &len), LR_TIMEOUT);
	ms = elapsed_ms(&t0);
	assert_true(ms >= 140 && ms < 3000);

	/* A partial line: still a timeout, and the bytes are kept. */
	assert_int_equal(write_all(fds[1], "part", 4), 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(linereader_next(lr, 100, &line, &len), LR_TIMEOUT);
	ms = elapsed_ms(&t0);
	assert_true(ms >= 90 && ms < 3000);
	assert_int_equal(linereader_pending(lr), 4);
	assert_int_equal(write_all(fds[1], "ial\n", 4), 0);
	expect_line(lr, "partial", 7);

	/* Timeout 0 polls once. */
	assert_int_equal(linereader_next(lr, 0, &line, &len), LR_TIMEOUT);
	assert_int_equal(write_all(fds[1], "now\n", 4), 0);
	assert_int_equal(linereader_next(lr, 0, &line, &len), LR_LINE);
	assert_string_equal(line, "now");

	linereader_free(lr);
	close(fds[0]);
	close(fds[1]);
}

/* A reader that trickles one byte every 30 ms must still time out at the
 * deadline of the whole line, not per read. */
struct trickle {
	int calls;
};

static ssize_t
trickle_read(void *ctx, void *buf, size_t n, int timeout_ms)
{
	struct trickle *t = ctx;
	struct timespec ts = { 0, 30 * 1000000 };

	if (timeout_ms >= 0 && timeout_ms < 30) {
		ts.tv_nsec = (long)timeout_ms * 1000000;
		nanosleep(&ts, NULL);
		return LR_TIMEOUT;
	}
	nanosleep(&ts, NULL);
	t->calls++;
	*(char *)buf = 'x';
	return 1;
}

static void
test_timeout_whole_line(void **state)
{
	struct trickle t = { 0 };
	struct linereader *lr;
	struct timespec t0;
	char *line;
	size_t len;
	long ms;

	(void)state;
	lr = linereader_cb(trickle_read, &t, 1000);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(linereader_next(lr, 200, &line, &len), LR_TIMEOUT);
	ms = elapsed_ms(&t0);
	assert_true(ms >= 190 && ms < 3000);
	assert_true(t.calls >= 1 && t.calls <= 8);
	linereader_free(lr);
}

static void
on_alarm(int sig)
{
	(void)sig;
}

static void
test_eintr(void **state)
{
	struct sigaction sa;
	struct itimerval it;
	struct linereader *lr;
	struct timespec t0;
	char *line;
	size_t len;
	long ms;
	int fds[2];

	(void)state;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;	/* no SA_RESTART: poll gets EINTR */
	sigemptyset(&sa.sa_mask);
	assert_int_equal(sigaction(SIGALRM, &sa, NULL), 0);
	memset(&it, 0, sizeof(it));
	it.it_value.tv_usec = 40000;
	it.it_interval.tv_usec = 40000;
	assert_int_equal(setitimer(ITIMER_REAL, &it, NULL), 0);

	assert_int_equal(pipe(fds), 0);
	lr = linereader_fd(fds[0], 100);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(linereader_next(lr, 250, &line, &len), LR_TIMEOUT);
	ms = elapsed_ms(&t0);
	assert_true(ms >= 240 && ms < 3000);
	assert_int_equal(write_all(fds[1], "after signals\n", 14), 0);
	assert_int_equal(linereader_next(lr, 250, &line, &len), LR_LINE);
	assert_string_equal(line, "after signals");

	memset(&it, 0, sizeof(it));
	setitimer(ITIMER_REAL, &it, NULL);
	signal(SIGALRM, SIG_DFL);
	linereader_free(lr);
	close(fds[0]);
	close(fds[1]);
}

static void
test_eof_mid_line(void **state)
{
	struct script s = { 0 };
	struct linereader *lr;
	int fds[2];

	(void)state;
	assert_int_equal(pipe(fds), 0);
	assert_int_equal(write_all(fds[1], "one\ntwo", 7), 0);
	close(fds[1]);
	lr = linereader_fd(fds[0], 100);
	expect_line(lr, "one", 3);
	expect_result(lr, LR_EIO);
	expect_result(lr, LR_EOF);
	linereader_free(lr);
	close(fds[0]);

	/* A read error from the callback. */
	s.data = "abc\nde";
	s.len = 6;
	s.chunk = 100;
	s.fail_at_end = 1;
	lr = linereader_cb(script_read, &s, 100);
	expect_line(lr, "abc", 3);
	expect_result(lr, LR_EIO);
	linereader_free(lr);

	/* A negative and a closed descriptor. */
	lr = linereader_fd(-1, 100);
	expect_result(lr, LR_EIO);
	linereader_free(lr);
	assert_int_equal(pipe(fds), 0);
	close(fds[0]);
	close(fds[1]);
	lr = linereader_fd(fds[0], 100);
	expect_result(lr, LR_EIO);
	linereader_free(lr);
}

static void
test_consumed_wiped(void **state)
{
	struct script s = { 0 };
	struct linereader *lr;
	char *first, *line;
	size_t len, i;

	(void)state;
	s.data = "hunter2-secret\nx\n";
	s.len = strlen(s.data);
	s.chunk = 100;
	/* max_line 100: the buffer never grows, so the memory stays ours. */
	lr = linereader_cb(script_read, &s, 100);
	assert_int_equal(linereader_next(lr, 1000, &first, &len), LR_LINE);
	assert_string_equal(first, "hunter2-secret");
	assert_int_equal(linereader_next(lr, 1000, &line, &len), LR_LINE);
	assert_string_equal(line, "x");
	assert_ptr_equal(line, first + 15);
	for (i = 0; i < 15; i++)
		assert_int_equal(first[i], 0);
	linereader_free(lr);
}

static void
test_write_all(void **state)
{
	struct linereader *lr;
	int sv[2];
	pid_t pid;
	int status;
	size_t n = 1024 * 1024, i;
	char *buf, *line;
	size_t len;

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	buf = malloc(n + 1);
	for (i = 0; i < n; i++)
		buf[i] = (char)('0' + i % 10);
	buf[n] = '\n';
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(sv[0]);
		_exit(write_all(sv[1], buf, n + 1) == 0 ? 0 : 1);
	}
	close(sv[1]);
	lr = linereader_fd(sv[0], n);
	assert_int_equal(linereader_next(lr, 5000, &line, &len), LR_LINE);
	assert_int_equal(len, n);
	assert_memory_equal(line, buf, n);
	linereader_free(lr);
	close(sv[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);

	/* Peer gone: -1 with EPIPE, and no SIGPIPE kills us. */
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	close(sv[0]);
	errno = 0;
	assert_int_equal(write_all(sv[1], "x\n", 2), -1);
	assert_int_equal(errno, EPIPE);
	close(sv[1]);

	assert_int_equal(write_all(-1, "x", 1), -1);
	assert_int_equal(write_all(-1, "", 0), 0);
	free(buf);
}

/* A peer that never reads: -1 with ETIMEDOUT once the time is up. */
static void
test_write_all_timeout(void **state)
{
	struct timespec t0, t1;
	size_t n = 4 * 1024 * 1024;
	char *buf = calloc(1, n);
	long ms;
	int sv[2];

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(write_all_timeout(sv[1], "x\n", 2, 100), 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	errno = 0;
	assert_int_equal(write_all_timeout(sv[1], buf, n, 300), -1);
	assert_int_equal(errno, ETIMEDOUT);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
	assert_true(ms >= 250 && ms < 3000);
	close(sv[0]);
	close(sv[1]);
	free(buf);
}

/* A lower maximum applies from the next line on. */
static void
test_set_max(void **state)
{
	struct linereader *lr;
	char *line;
	size_t len;
	int sv[2];

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	lr = linereader_fd(sv[0], 100);
	assert_int_equal(write_all(sv[1], "0123456789\n0123456789\nabc\n",
	    26), 0);
	assert_int_equal(linereader_next(lr, 1000, &line, &len), LR_LINE);
	linereader_set_max(lr, 5);
	linereader_set_max(lr, 50);	/* never raised */
	assert_int_equal(linereader_next(lr, 1000, &line, &len), LR_TOOLONG);
	assert_int_equal(linereader_next(lr, 1000, &line, &len), LR_LINE);
	assert_string_equal(line, "abc");
	linereader_free(lr);
	close(sv[0]);
	close(sv[1]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_basic_pipe),
		cmocka_unit_test(test_write_all_timeout),
		cmocka_unit_test(test_set_max),
		cmocka_unit_test(test_split_reads),
		cmocka_unit_test(test_too_long),
		cmocka_unit_test(test_too_long_fd),
		cmocka_unit_test(test_nul),
		cmocka_unit_test(test_timeout),
		cmocka_unit_test(test_timeout_whole_line),
		cmocka_unit_test(test_eintr),
		cmocka_unit_test(test_eof_mid_line),
		cmocka_unit_test(test_consumed_wiped),
		cmocka_unit_test(test_write_all),
	};

	/* Deliberately not ignoring SIGPIPE: write_all must not raise it. */
	return cmocka_run_group_tests(tests, NULL, NULL);
}
