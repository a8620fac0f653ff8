/*
 * monotime.h - milliseconds on the monotonic clock, for timeouts,
 * backoff and rate windows (never for timestamps people read).
 */
#ifndef SD_MONOTIME_H
#define SD_MONOTIME_H

#include <stdint.h>

int64_t	monotime_ms(void);

#endif
