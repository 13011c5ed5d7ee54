/*
 * cg_load - a known load inside given cgroups, for tests/e2e_cgroup.sh.
 *
 *   cg_load [--join=FILE ...] burn SECONDS   spin until SECONDS of CPU have been used
 *                                            inside the cgroups, print them, exit
 *   cg_load [--join=FILE ...] alloc MIB SECONDS
 *                                            touch MIB MiB, print "ready", sleep
 *   cg_load [--join=FILE ...] oom MIB        touch up to MIB MiB, 1 MiB at a time
 *                                            (a memory limit should kill it first)
 *
 * Each --join=FILE is a cgroup.procs (or tasks) file the process writes its own
 * pid into before the work starts, so that the cgroups are charged for the work
 * alone.  Every mode ends by itself: burn when its CPU is used, alloc after
 * SECONDS, oom after MIB.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

static int join(const char *file)
{
	FILE *f = fopen(file, "w");
	if (!f || fprintf(f, "%d\n", (int)getpid()) < 0 || fclose(f) != 0) {
		fprintf(stderr, "cg_load: joining %s: %s\n", file, strerror(errno));
		return -1;
	}
	return 0;
}

static double cpu_seconds(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static int burn(double seconds)
{
	double start = cpu_seconds(), used = 0;
	volatile unsigned long spin = 0;

	while (used < seconds) {
		for (int i = 0; i < 1000000; i++)
			spin++;
		used = cpu_seconds() - start;
	}
	printf("%.6f\n", used);
	return 0;
}

static char *touch(size_t mib)
{
	char *p = malloc(mib << 20);
	if (!p)
		return NULL;
	long page = sysconf(_SC_PAGESIZE);
	for (size_t off = 0; off < (mib << 20); off += (size_t)page)
		p[off] = 1;
	return p;
}

static int alloc(size_t mib, unsigned seconds)
{
	char *p = touch(mib);
	if (!p) {
		fprintf(stderr, "cg_load: cannot allocate %zu MiB\n", mib);
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	sleep(seconds);
	free(p);
	return 0;
}

static int oom(size_t mib)
{
	for (size_t i = 0; i < mib; i++)
		if (!touch(1)) /* kept: the point is to grow */
			return 1;
	printf("survived\n");
	return 0;
}

int main(int argc, char **argv)
{
	int i = 1;

	for (; i < argc && strncmp(argv[i], "--join=", 7) == 0; i++)
		if (join(argv[i] + 7) < 0)
			return 2;
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (i + 1 < argc && strcmp(argv[i], "burn") == 0)
		return burn(atof(argv[i + 1]));
	if (i + 2 < argc && strcmp(argv[i], "alloc") == 0)
		return alloc((size_t)atol(argv[i + 1]), (unsigned)atoi(argv[i + 2]));
	if (i + 1 < argc && strcmp(argv[i], "oom") == 0)
		return oom((size_t)atol(argv[i + 1]));
	fprintf(stderr,
		"usage: cg_load [--join=FILE ...] burn SECONDS | alloc MIB SECONDS | oom MIB\n");
	return 2;
}
