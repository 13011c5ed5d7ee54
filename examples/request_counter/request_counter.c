/*
 * request_counter - a small custom collector: it pretends to serve requests and
 * publishes how many it served (a counter by method and status code) and how
 * long they took (a histogram by method) through a shmetrics agent.
 *
 *   request_counter            started by the agent ("command" custom collector):
 *                              the segment comes from SHMETRICS_* in the environment
 *   request_counter NAME       attaches to the "external" custom collector NAME
 *                              (instance from SHMETRICS_INSTANCE, default "main")
 *
 * Stops cleanly on SIGTERM or SIGINT.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <shmetrics.h>

static volatile sig_atomic_t stop;

static void on_stop(int sig)
{
	(void)sig;
	stop = 1;
}

struct app_metrics {
	struct shmetrics_family *requests;
	struct shmetrics_series *latency[2]; /* GET, POST */
};

static int register_metrics(struct shmetrics *m, struct app_metrics *am)
{
	static const char *const req_labels[] = { "method", "code" };
	static const char *const lat_labels[] = { "method" };
	static const double bounds[] = { 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1 };
	static const char *const get[] = { "GET" }, *const post[] = { "POST" };

	am->requests = shmetrics_counter(m, "example_requests_total", "Requests served.",
					 req_labels, 2);
	struct shmetrics_family *lat = shmetrics_histogram(m, "example_request_duration_seconds",
							   "Time taken to serve a request.",
							   lat_labels, 1, bounds,
							   sizeof bounds / sizeof bounds[0]);
	if (am->requests == NULL || lat == NULL)
		return -1;
	am->latency[0] = shmetrics_series(lat, get, 1);
	am->latency[1] = shmetrics_series(lat, post, 1);
	return am->latency[0] && am->latency[1] ? 0 : -1;
}

/* One made-up request: a method, a status code and a latency. */
static int serve_one(struct app_metrics *am, unsigned *seed)
{
	static const char *const methods[] = { "GET", "POST" };
	int post = rand_r(seed) % 4 == 0;
	const char *code = rand_r(seed) % 20 == 0 ? "500" : "200";
	const char *values[] = { methods[post], code };
	double seconds = (rand_r(seed) % 20000) / 1e6; /* 0 to 20 ms */

	/* Looking a series up takes a lock; a real server would keep the handles. */
	struct shmetrics_series *s = shmetrics_series(am->requests, values, 2);
	if (s == NULL)
		return -1;
	shmetrics_inc(s);
	shmetrics_observe(am->latency[post], seconds);
	return 0;
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_stop };
	struct timespec pause = { .tv_sec = 0, .tv_nsec = 5 * 1000 * 1000 };
	struct app_metrics am;
	unsigned seed = (unsigned)time(NULL);

	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	struct shmetrics *m = shmetrics_open(argc > 1 ? argv[1] : NULL, NULL);
	if (m == NULL) {
		fprintf(stderr, "request_counter: %s\n", shmetrics_last_error());
		return 78; /* EX_CONFIG: the agent does not restart us for this */
	}
	if (register_metrics(m, &am) < 0) {
		fprintf(stderr, "request_counter: %s\n", shmetrics_last_error());
		shmetrics_close(m);
		return 78;
	}
	shmetrics_publish(m); /* show the families at once, not one interval later */
	while (!stop) {
		if (serve_one(&am, &seed) < 0)
			fprintf(stderr, "request_counter: %s\n", shmetrics_last_error());
		nanosleep(&pause, NULL);
	}
	shmetrics_close(m);
	return 0;
}
