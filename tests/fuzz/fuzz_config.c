/*
 * fuzz_config - libFuzzer harness: the configuration loader.
 *
 * Any text must give either a configuration or an error message that names a
 * position; never a crash, a hang or a leak.  Every accepted configuration is
 * also checked against itself with config_collector_changed (which must say
 * "unchanged"), as a reload of the same file would.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct shm_config c; /* large: keep it off the stack; each load replaces it */
	char err[1024];

	char *text = malloc(size + 1);
	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (config_load_string(&c, text, "fuzz.json", err, sizeof err) == 0) {
		for (size_t i = 0; i < c.n_collectors; i++)
			if (config_collector_changed(&c, &c, c.collectors[i].name))
				abort();
		if (config_collector_changed(&c, &c, "exporter"))
			abort();
	} else if (err[0] == '\0') {
		abort(); /* a refusal must say why */
	}
	free(text);
	return 0;
}
