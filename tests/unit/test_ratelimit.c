/*
 * test_ratelimit.c - the buckets of enrolment rate limits
 * (secretd/ratelimit.c): one per IPv4 address, one per IPv6 /64, an
 * IPv4-mapped address counted with its IPv4 address, and one spelling per
 * bucket whatever the spelling of the address.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "secretd/ratelimit.h"

static void
check(const char *addr, const char *want)
{
	char out[RATELIMIT_BUCKET_MAX];

	memset(out, 'x', sizeof(out));
	ratelimit_bucket(addr, out);
	assert_string_equal(out, want);
}

static void
test_ipv4(void **state)
{
	(void)state;
	check("192.0.2.7", "192.0.2.7");
	check("127.0.80.1", "127.0.80.1");
	check("::ffff:192.0.2.7", "192.0.2.7");
	check("::FFFF:192.0.2.7", "192.0.2.7");
}

static void
test_ipv6_64(void **state)
{
	(void)state;
	check("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64");
	check("2001:db8:1:2::ffff", "2001:db8:1:2::/64");
	check("2001:DB8:1:2:0:0:0:1", "2001:db8:1:2::/64");
	check("2001:db8:1:3::1", "2001:db8:1:3::/64");
	check("::1", "::/64");
	check("fe80::1", "fe80::/64");
}

static void
test_other(void **state)
{
	(void)state;
	check("", "");
	check("not-an-address", "not-an-address");
	check("1.2.3", "1.2.3");
	/* never longer than the buffer */
	check("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
	    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ipv4),
		cmocka_unit_test(test_ipv6_64),
		cmocka_unit_test(test_other),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
