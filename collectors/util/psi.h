/*
 * psi.h - the lines of a pressure stall information file (PROCFS/pressure/cpu,
 * a cgroup's cpu.pressure, ...):
 *
 *   some avg10=0.00 avg60=0.00 avg300=0.00 total=1234
 *   full avg10=0.00 avg60=0.00 avg300=0.00 total=0
 *
 * where total is in microseconds.
 */
#ifndef SHMETRICS_PSI_H
#define SHMETRICS_PSI_H

#include <stdbool.h>
#include <stdint.h>

#include "scan.h"

enum psi_line { PSI_SOME, PSI_FULL, N_PSI_LINES };

/* Which line it is and its total in microseconds; false for any other line. */
bool psi_parse(struct scan line, enum psi_line *which, uint64_t *total_us);

/*
 * Every line of text[0..len): found[l] tells whether line l was there, and
 * total_us[l] its total (the first one, should a line repeat).
 */
void psi_parse_text(const char *text, size_t len, bool found[N_PSI_LINES],
		    uint64_t total_us[N_PSI_LINES]);

#endif
