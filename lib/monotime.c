/*
 * monotime.c - the monotonic clock in milliseconds.
 */
#include <time.h>

#include "monotime.h"

int64_t
monotime_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
