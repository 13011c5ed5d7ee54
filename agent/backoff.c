/* Exponential restart backoff. */
#include "backoff.h"

uint32_t backoff_delay_ms(uint32_t failures)
{
	uint32_t delay = BACKOFF_INITIAL_MS;

	for (uint32_t i = 1; i < failures && delay < BACKOFF_MAX_MS; i++)
		delay *= 2;
	return delay < BACKOFF_MAX_MS ? delay : BACKOFF_MAX_MS;
}

uint32_t backoff_after_failure(uint32_t *failures, uint64_t ran_ms)
{
	if (ran_ms > BACKOFF_RESET_AFTER_MS)
		*failures = 0;
	if (*failures < UINT32_MAX)
		(*failures)++;
	return backoff_delay_ms(*failures);
}
