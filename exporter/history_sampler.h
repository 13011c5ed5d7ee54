/*
 * history_sampler.h - the thread that keeps the history fed when nobody
 * scrapes: it probes every segment a few times per collection interval
 * (scrape_refresh), so that each publish is read and recorded once.
 *
 * The period is a quarter of the shortest collection interval the segments
 * state, between 50 ms and 1 s: a header pread and a liveness check per
 * collector when nothing moved, a snapshot when something did.
 */
#ifndef SHMETRICS_EXPORTER_HISTORY_SAMPLER_H
#define SHMETRICS_EXPORTER_HISTORY_SAMPLER_H

#include <stddef.h>

#include "scrape.h"

struct history_sampler;

/* Starts the thread over s (which must outlive it).  0 or -errno with err. */
int history_sampler_start(struct history_sampler **out, struct scrape *s, char *err, size_t errlen);

/* Stops and joins the thread (at most one period), frees.  NULL is ignored. */
void history_sampler_stop(struct history_sampler *hs);

#endif
