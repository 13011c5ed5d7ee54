/*
 * backoff.h - when to restart a child that exited on its own.
 *
 * A child that keeps failing soon after it starts is restarted after 1s, 2s, 4s,
 * ... up to 60s.  One that ran for longer than BACKOFF_RESET_AFTER_MS before it
 * failed is considered to have been healthy: its count starts over and it is
 * restarted after BACKOFF_INITIAL_MS again.
 */
#ifndef SHMETRICS_AGENT_BACKOFF_H
#define SHMETRICS_AGENT_BACKOFF_H

#include <stdint.h>

#define BACKOFF_INITIAL_MS     1000u
#define BACKOFF_MAX_MS         60000u
#define BACKOFF_RESET_AFTER_MS 60000u

/* Delay before the next start after failures consecutive fast failures (>= 1). */
uint32_t backoff_delay_ms(uint32_t failures);

/*
 * Records one failure of a child that ran ran_ms: updates *failures (the count of
 * consecutive fast failures, this one included) and returns the delay before the
 * child is started again.
 */
uint32_t backoff_after_failure(uint32_t *failures, uint64_t ran_ms);

#endif
