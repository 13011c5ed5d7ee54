/*
 * proc_storm - a host with many processes and a steady churn, for the top
 * collector's tests and benchmark (tests/e2e_top.sh, bench/top_cost.sh).
 *
 *   proc_storm PROCESSES FORKS_PER_SECOND SECONDS [NAMES]
 *
 * Starts PROCESSES long-lived children named w0 ... w(NAMES-1) in turn (NAMES
 * defaults to 200), of which every 500th spins for 1 ms out of 50 so that
 * there is CPU to rank (a few percent of one CPU in all), then forks FORKS_PER_SECOND short-lived children per
 * second (named s0 ... s49, each exiting at once) for SECONDS, and prints
 * "ready" once the long-lived ones are up.  At the end, or on SIGTERM/SIGINT,
 * it kills its children and reaps them; children also die with it
 * (PR_SET_PDEATHSIG), so nothing it started outlives it.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t stop;

static void on_stop(int sig)
{
	(void)sig;
	stop = 1;
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void name_self(const char *prefix, int n)
{
	char name[16];
	snprintf(name, sizeof name, "%s%d", prefix, n);
	prctl(PR_SET_NAME, name, 0, 0, 0);
	prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
}

static void long_lived(int i, int names)
{
	name_self("w", i % names);
	if (getppid() == 1)
		_exit(0); /* the parent is already gone */
	if (i % 500 != 0)
		for (;;)
			pause();
	for (;;) { /* 2 % of a CPU */
		double until = now() + 0.001;
		while (now() < until)
			;
		usleep(49000);
	}
}

static void reap(void)
{
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
}

int main(int argc, char **argv)
{
	if (argc < 4) {
		fprintf(stderr, "usage: proc_storm PROCESSES FORKS_PER_SECOND SECONDS [NAMES]\n");
		return 2;
	}
	int procs = atoi(argv[1]), rate = atoi(argv[2]), names = argc > 4 ? atoi(argv[4]) : 200;
	double end = now() + atof(argv[3]);
	pid_t *kids = calloc((size_t)procs, sizeof *kids);

	if (!kids || names < 1)
		return 1;
	signal(SIGTERM, on_stop);
	signal(SIGINT, on_stop);
	for (int i = 0; i < procs && !stop; i++) {
		kids[i] = fork();
		if (kids[i] == 0)
			long_lived(i, names);
	}
	printf("ready\n");
	fflush(stdout);
	for (long k = 0; !stop && now() < end; k++) {
		pid_t p = fork();
		if (p == 0) {
			name_self("s", (int)(k % 50));
			_exit(0);
		}
		reap();
		usleep(rate > 0 ? (useconds_t)(1000000 / rate) : 100000);
	}
	for (int i = 0; i < procs; i++)
		if (kids[i] > 0)
			kill(kids[i], SIGKILL);
	while (wait(NULL) > 0)
		;
	free(kids);
	return 0;
}
