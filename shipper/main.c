/*
 * shmetrics-shipper: the command line the agent builds (docs/processes.md),
 * then shipper_run.  The settings of the shipper's role (config/settings.def:
 * --instance, --log.level, --staleness-intervals, --remote-write.queue-dir)
 * are read by settings_parse_argv; the rest is the shipper's job, in
 * "--flag=value" words (and bare switches):
 *
 *   --collector=NAME... [--self-segment=shipper]
 *   then for each endpoint --remote-write.url=URL, followed by its settings:
 *   --remote-write.basic-auth.username=U  --remote-write.basic-auth.password-file=F
 *   --remote-write.bearer-token-file=F
 *   --remote-write.tls.{ca-file,cert-file,key-file,server-name}=V
 *   --remote-write.tls.insecure-skip-verify
 *   --remote-write.header=NAME: VALUE  --remote-write.external-label=NAME=VALUE
 *   --remote-write.write-relabel=keep:REGEX|drop:REGEX
 *   --remote-write.queue.{max-bytes,batch-max-samples}=N
 *   --remote-write.queue.{max-age,batch-deadline,min-backoff,max-backoff}=DURATION
 *   --remote-write.timeout=DURATION
 * Secrets travel as file names only.  A bad command line exits 78 (EX_CONFIG).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <limits.h>
#include <unistd.h>

#include "client.h"
#include "log.h"
#include "metrics.h"
#include "settings.h"
#include "shipper.h"

#define EXIT_CONFIG 78
#define PROGRAM     "shmetrics-shipper"

struct args {
	struct shipper_options o;
	struct settings set;
	struct endpoint_options *cur; /* the endpoint the settings apply to */
	char queue_dir[PATH_MAX];
};

typedef int (*flag_fn)(struct args *a, const char *v, char *err, size_t errlen);

static int need_endpoint(struct args *a, char *err, size_t errlen)
{
	if (a->cur)
		return 0;
	snprintf(err, errlen,
		 "comes before any --remote-write.url; endpoint settings follow "
		 "their URL");
	return -EINVAL;
}

static int set_uint(const char *v, uint64_t lo, uint64_t hi, uint64_t *out, char *err,
		    size_t errlen)
{
	char *end;
	unsigned long long n = strtoull(v, &end, 10);

	if (*v < '0' || *v > '9' || *end || n < lo || n > hi) {
		snprintf(err, errlen, "expected an integer from %llu to %llu",
			 (unsigned long long)lo, (unsigned long long)hi);
		return -EINVAL;
	}
	*out = n;
	return 0;
}

/* ---- global flags ---- */

static int f_collector(struct args *a, const char *v, char *err, size_t errlen)
{
	if (a->o.n_collectors == SHIPPER_MAX_COLLECTORS) {
		snprintf(err, errlen, "more than %d collectors", SHIPPER_MAX_COLLECTORS);
		return -EINVAL;
	}
	a->o.collectors[a->o.n_collectors++] = v;
	return 0;
}

static int f_self(struct args *a, const char *v, char *err, size_t errlen)
{
	(void)err, (void)errlen;
	a->o.self_segment = v;
	return 0;
}

static int f_url(struct args *a, const char *v, char *err, size_t errlen)
{
	if (a->o.n_endpoints == SHIPPER_MAX_ENDPOINTS) {
		snprintf(err, errlen, "more than %d endpoints", SHIPPER_MAX_ENDPOINTS);
		return -EINVAL;
	}
	if (strncmp(v, "http://", 7) != 0 && strncmp(v, "https://", 8) != 0) {
		snprintf(err, errlen, "expected an http:// or https:// URL");
		return -EINVAL;
	}
	a->cur = &a->o.endpoints[a->o.n_endpoints++];
	shipper_endpoint_defaults(a->cur);
	a->cur->url = v;
	return 0;
}

/* ---- endpoint settings ---- */

#define STRING_SETTING(fn, field)                                              \
	static int fn(struct args *a, const char *v, char *err, size_t errlen) \
	{                                                                      \
		int rc = need_endpoint(a, err, errlen);                        \
		if (rc == 0)                                                   \
			a->cur->field = v;                                     \
		return rc;                                                     \
	}
STRING_SETTING(f_username, username)
STRING_SETTING(f_password_file, password_file)
STRING_SETTING(f_bearer_file, bearer_token_file)
STRING_SETTING(f_ca_file, ca_file)
STRING_SETTING(f_cert_file, cert_file)
STRING_SETTING(f_key_file, key_file)
STRING_SETTING(f_server_name, server_name)

static int f_insecure(struct args *a, const char *v, char *err, size_t errlen)
{
	int rc = need_endpoint(a, err, errlen);

	if (rc == 0 && v && strcmp(v, "true") != 0 && strcmp(v, "false") != 0) {
		snprintf(err, errlen, "expected true or false");
		rc = -EINVAL;
	}
	if (rc == 0)
		a->cur->insecure_skip_verify = !v || strcmp(v, "true") == 0;
	return rc;
}

static int f_header(struct args *a, const char *v, char *err, size_t errlen)
{
	int rc = need_endpoint(a, err, errlen);

	if (rc == 0 && (!strchr(v, ':') || a->cur->n_headers == CLIENT_HEADERS_MAX)) {
		snprintf(err, errlen, "expected NAME: VALUE, at most %d", CLIENT_HEADERS_MAX);
		rc = -EINVAL;
	}
	if (rc == 0)
		a->cur->headers[a->cur->n_headers++] = v;
	return rc;
}

static int f_external_label(struct args *a, const char *v, char *err, size_t errlen)
{
	int rc = need_endpoint(a, err, errlen);
	const char *eq = strchr(v, '=');
	char *name = NULL;

	if (rc == 0 && (!eq || a->cur->n_ext == SHIPPER_LIST_MAX ||
			label_name_check(v, (size_t)(eq - v), err, errlen) < 0 ||
			!(name = strndup(v, (size_t)(eq - v))))) {
		if (!eq || a->cur->n_ext == SHIPPER_LIST_MAX)
			snprintf(err, errlen, "expected NAME=VALUE, at most %d", SHIPPER_LIST_MAX);
		rc = -EINVAL;
	}
	if (rc == 0) {
		a->cur->ext_names[a->cur->n_ext] = name; /* lives as long as the process */
		a->cur->ext_values[a->cur->n_ext++] = eq + 1;
	}
	return rc;
}

static int f_relabel(struct args *a, const char *v, char *err, size_t errlen)
{
	int rc = need_endpoint(a, err, errlen);
	bool keep = strncmp(v, "keep:", 5) == 0, drop = strncmp(v, "drop:", 5) == 0;

	if (rc == 0 && ((!keep && !drop) || a->cur->n_relabel == SHIPPER_LIST_MAX)) {
		snprintf(err, errlen, "expected keep:REGEX or drop:REGEX, at most %d",
			 SHIPPER_LIST_MAX);
		rc = -EINVAL;
	}
	if (rc == 0) {
		a->cur->relabel_keep[a->cur->n_relabel] = keep;
		a->cur->relabel_regex[a->cur->n_relabel++] = v + 5;
	}
	return rc;
}

static int f_max_bytes(struct args *a, const char *v, char *err, size_t errlen)
{
	int rc = need_endpoint(a, err, errlen);

	return rc ? rc : set_uint(v, 256u << 10, 1ull << 50, &a->cur->max_bytes, err, errlen);
}

static int f_batch_max(struct args *a, const char *v, char *err, size_t errlen)
{
	uint64_t n = 0;
	int rc = need_endpoint(a, err, errlen);

	if (rc == 0)
		rc = set_uint(v, 1, 1000000, &n, err, errlen);
	if (rc == 0)
		a->cur->batch_max_samples = (uint32_t)n;
	return rc;
}

/* Durations: the configuration's one parser. */
#define DURATION_SETTING(fn, field)                                                        \
	static int fn(struct args *a, const char *v, char *err, size_t errlen)             \
	{                                                                                  \
		int rc = need_endpoint(a, err, errlen);                                    \
		return rc ? rc : config_parse_duration_ms(v, &a->cur->field, err, errlen); \
	}
DURATION_SETTING(f_max_age, max_age_ms)
DURATION_SETTING(f_deadline, batch_deadline_ms)
DURATION_SETTING(f_min_backoff, min_backoff_ms)
DURATION_SETTING(f_max_backoff, max_backoff_ms)
DURATION_SETTING(f_timeout, timeout_ms)

struct flag {
	const char *name;
	flag_fn fn;
	bool bare; /* may come without "=value" */
};

static const struct flag flags[] = {
	{ "--collector", f_collector, false },
	{ "--self-segment", f_self, false },
	{ "--remote-write.url", f_url, false },
	{ "--remote-write.basic-auth.username", f_username, false },
	{ "--remote-write.basic-auth.password-file", f_password_file, false },
	{ "--remote-write.bearer-token-file", f_bearer_file, false },
	{ "--remote-write.tls.ca-file", f_ca_file, false },
	{ "--remote-write.tls.cert-file", f_cert_file, false },
	{ "--remote-write.tls.key-file", f_key_file, false },
	{ "--remote-write.tls.server-name", f_server_name, false },
	{ "--remote-write.tls.insecure-skip-verify", f_insecure, true },
	{ "--remote-write.header", f_header, false },
	{ "--remote-write.external-label", f_external_label, false },
	{ "--remote-write.write-relabel", f_relabel, false },
	{ "--remote-write.queue.max-bytes", f_max_bytes, false },
	{ "--remote-write.queue.max-age", f_max_age, false },
	{ "--remote-write.queue.batch-max-samples", f_batch_max, false },
	{ "--remote-write.queue.batch-deadline", f_deadline, false },
	{ "--remote-write.queue.min-backoff", f_min_backoff, false },
	{ "--remote-write.queue.max-backoff", f_max_backoff, false },
	{ "--remote-write.timeout", f_timeout, false },
};

static const struct flag *find_flag(const char *name, size_t len)
{
	for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++)
		if (strlen(flags[i].name) == len && strncmp(flags[i].name, name, len) == 0)
			return &flags[i];
	return NULL;
}

/* The job's arguments (settings_job): 1 taken, 0 not ours, or -EINVAL. */
static int take_job(void *ctx, const char *name, size_t len, const char *value, char *err,
		    size_t errlen)
{
	const struct flag *f = find_flag(name, len);
	char why[400] = "";

	if (!f)
		return 0;
	if (!value && !f->bare) {
		snprintf(err, errlen, "%s needs a value (%s=...)", f->name, f->name);
		return -EINVAL;
	}
	int rc = f->fn(ctx, value, why, sizeof why);
	if (rc < 0) {
		snprintf(err, errlen, "%s: %s", f->name, why);
		return rc;
	}
	return 1;
}

/* Values come after '=' only: the agent writes them that way. */
static bool takes_value(void *ctx, const char *name, size_t len)
{
	(void)ctx, (void)name, (void)len;
	return false;
}

/*
 * The queue directory when the setting is "": $STATE_DIRECTORY/remote-write
 * (systemd's StateDirectory=), /var/lib/shmetrics/remote-write for root,
 * $XDG_STATE_HOME/shmetrics/remote-write, ~/.local/state/shmetrics/remote-write.
 */
static int queue_dir(struct args *a, char *err, size_t errlen)
{
	const char *set = a->set.remote_write_queue_dir, *state = getenv("STATE_DIRECTORY");
	const char *xdg = getenv("XDG_STATE_HOME"), *home = getenv("HOME");
	char *out = a->queue_dir;
	size_t cap = sizeof a->queue_dir;
	int n = -1;

	if (set && set[0])
		n = snprintf(out, cap, "%s", set);
	else if (state && state[0] == '/') /* the first of a colon-separated list */
		n = snprintf(out, cap, "%.*s/remote-write", (int)strcspn(state, ":"), state);
	else if (geteuid() == 0)
		n = snprintf(out, cap, "/var/lib/shmetrics/remote-write");
	else if (xdg && xdg[0] == '/')
		n = snprintf(out, cap, "%s/shmetrics/remote-write", xdg);
	else if (home && home[0] == '/')
		n = snprintf(out, cap, "%s/.local/state/shmetrics/remote-write", home);
	if (n < 0 || (size_t)n >= cap) {
		snprintf(err, errlen,
			 "no queue directory: set remote_write_queue_dir "
			 "(--remote-write.queue-dir)");
		return -EINVAL;
	}
	a->o.queue_dir = out;
	return 0;
}

static int check_args(struct args *a, char *err, size_t errlen)
{
	if (a->o.n_endpoints == 0) {
		snprintf(err, errlen, "at least one --remote-write.url is required");
		return -EINVAL;
	}
	int rc = queue_dir(a, err, errlen);
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < a->o.n_endpoints; i++) {
		const struct endpoint_options *e = &a->o.endpoints[i];
		if (e->min_backoff_ms > e->max_backoff_ms || e->batch_deadline_ms == 0) {
			snprintf(err, errlen,
				 "%s: min-backoff above max-backoff, or a zero "
				 "batch-deadline",
				 e->url);
			return -EINVAL;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	static struct args a;
	const struct settings_job job = { take_job, takes_value, &a };
	char err[600];

	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "--version") == 0) {
			printf("%s: sends the segments' metrics with Prometheus remote write; "
			       "started by shmetrics-agent (docs/remote-write.md)\n",
			       PROGRAM);
			return 0;
		}
	if (settings_init(&a.set) < 0) {
		fprintf(stderr, "%s: out of memory\n", PROGRAM);
		return 1;
	}
	if (settings_parse_argv(&a.set, R_SHIPPER, argc, argv, &job, err, sizeof err) < 0 ||
	    check_args(&a, err, sizeof err) < 0) {
		fprintf(stderr, "%s: %s\n", PROGRAM, err);
		return EXIT_CONFIG;
	}
	a.o.instance = a.set.instance;
	a.o.segments_dir = a.set.segments_directory;
	a.o.max_series = a.set.max_series;
	a.o.staleness_intervals = a.set.staleness_intervals;
	log_init("shipper", (enum log_level)log_level_parse(a.set.log_level));
	if (client_global_init(err, sizeof err) < 0) {
		log_error("%s", err);
		return 1;
	}
	int status = shipper_run(&a.o);
	settings_free(&a.set);
	return status;
}
