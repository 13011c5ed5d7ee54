#include "psi.h"

#include <string.h>

bool psi_parse(struct scan line, enum psi_line *which, uint64_t *total_us)
{
	const char *w;
	size_t n;

	if (!scan_word(&line, &w, &n))
		return false;
	if (word_is(w, n, "some"))
		*which = PSI_SOME;
	else if (word_is(w, n, "full"))
		*which = PSI_FULL;
	else
		return false;
	while (scan_word(&line, &w, &n))
		if (n > 6 && memcmp(w, "total=", 6) == 0)
			return parse_u64(w + 6, n - 6, total_us);
	return false;
}

void psi_parse_text(const char *text, size_t len, bool found[N_PSI_LINES],
		    uint64_t total_us[N_PSI_LINES])
{
	struct scan s = scan_text(text, len), line;

	found[PSI_SOME] = found[PSI_FULL] = false;
	while (scan_line(&s, &line)) {
		enum psi_line which;
		uint64_t total;
		if (psi_parse(line, &which, &total) && !found[which]) {
			total_us[which] = total;
			found[which] = true;
		}
	}
}
