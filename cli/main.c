/*
 * shmetrics - the command-line tool for scripts: write a metric into a custom
 * collector, list an instance's collectors, dump one as the exporter renders
 * it, check a .prom file.  Reference: docs/cli.md.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "render.h"
#include "cli.h"
#include "promtext.h"
#include "segment.h"

#define ERR_MAX        600
#define CHECK_FILE_MAX (64u << 20)

static const char usage_text[] =
    "usage: shmetrics set NAME[{label=\"v\",...}] VALUE --collector=C [options]\n"
    "       shmetrics inc NAME[{...}] [VALUE] --collector=C [options]\n"
    "       shmetrics add NAME[{...}] VALUE --collector=C [options]\n"
    "       shmetrics observe NAME[{...}] VALUE --collector=C [--buckets=B,B,...] [options]\n"
    "       shmetrics list [--instance=I]\n"
    "       shmetrics dump COLLECTOR [--instance=I]\n"
    "       shmetrics check FILE...\n"
    "options: --instance=I (default $SHMETRICS_INSTANCE, else \"main\")\n"
    "         --segments.directory=DIR (the agent's; default $SHMETRICS_SEGMENTS_DIR, else\n"
    "           /run/shmetrics, $XDG_RUNTIME_DIR/shmetrics, /tmp/shmetrics-UID)\n"
    "         --type=gauge|counter (a new family: set makes a gauge, inc and add a counter)\n"
    "         --help=TEXT (the family's help)\n"
    "         --buckets=0.1,0.5,1 (upper bounds of a new histogram; default\n"
    "           .005,.01,.025,.05,.1,.25,.5,1,2.5,5,10)\n";

void cli_error(const char *fmt, ...)
{
	va_list ap;
	fputs("shmetrics: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* ---- command line ---- */

struct args {
	const char *cmd;
	const char *pos[3];
	size_t n_pos;
	const char *collector, *instance, *type, *help, *buckets, *segments_dir;
};

static const char **flag_slot(struct args *a, const char *arg, const char **value)
{
	static const struct {
		const char *flag;
		size_t off;
	} flags[] = {
		{ "--collector=", offsetof(struct args, collector) },
		{ "--instance=", offsetof(struct args, instance) },
		{ "--type=", offsetof(struct args, type) },
		{ "--help=", offsetof(struct args, help) },
		{ "--buckets=", offsetof(struct args, buckets) },
		{ "--segments.directory=", offsetof(struct args, segments_dir) },
	};
	for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++)
		if (strncmp(arg, flags[i].flag, strlen(flags[i].flag)) == 0) {
			*value = arg + strlen(flags[i].flag);
			return (const char **)(void *)((char *)a + flags[i].off);
		}
	return NULL;
}

static int parse_args(int argc, char **argv, struct args *a)
{
	for (int i = 1; i < argc; i++) {
		const char *v, **slot = flag_slot(a, argv[i], &v);
		if (slot != NULL) {
			*slot = v;
		} else if (strncmp(argv[i], "--", 2) == 0 && argv[i][2] != '\0') {
			cli_error("unknown flag \"%s\" (try --help)", argv[i]);
			return CLI_USAGE;
		} else if (a->cmd == NULL) {
			a->cmd = argv[i];
		} else if (a->n_pos < 3) {
			a->pos[a->n_pos++] = argv[i];
		} else {
			cli_error("too many arguments (try --help)");
			return CLI_USAGE;
		}
	}
	if (a->cmd == NULL) {
		fputs(usage_text, stderr);
		return CLI_USAGE;
	}
	if (a->instance == NULL)
		a->instance = getenv("SHMETRICS_INSTANCE") ? getenv("SHMETRICS_INSTANCE") : "main";
	return CLI_OK;
}

/* ---- list ---- */

static const char *state_of(const struct metrics_view *v, const struct seg_info *info, uint64_t now)
{
	uint64_t interval_ms = info->interval_ms ? info->interval_ms : 5000;
	uint64_t window = CLI_STALENESS_INTERVALS * interval_ms * 1000000u;
	bool resident = info->writer_pid != 0 || info->publishes == 0;

	if (resident && !info->writer_alive)
		return info->writer_pid ? "down(writer-gone)" : "down(no-writer)";
	if (v->hdr.publish_time_ns == 0)
		return "never-published";
	if (now > v->hdr.publish_time_ns && now - v->hdr.publish_time_ns > window)
		return "stale";
	return "up";
}

static void list_one(const struct cli_where *w, const char *collector)
{
	struct seg_reader *r = NULL;
	struct seg_read_limits lim;
	struct metrics_view v;
	struct seg_info info;
	char err[ERR_MAX], when[32] = "-";

	seg_read_limits_for(CLI_READ_MAX_SERIES, &lim);
	if (seg_reader_open(&r, &w->dir, collector, &lim, err, sizeof err) < 0 ||
	    seg_reader_snapshot(r, &v, &info, err, sizeof err) < 0) {
		printf("%-20s %-18s %s\n", collector, "unreadable", err);
		seg_reader_close(r);
		return;
	}
	if (v.hdr.publish_time_ns) {
		time_t t = (time_t)(v.hdr.publish_time_ns / 1000000000u);
		strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", gmtime(&t));
	}
	printf("%-20s %-18s %-8ld %-21s %u\n", collector, state_of(&v, &info, segment_now_ns()),
	       (long)info.writer_pid, when, v.hdr.n_series);
	seg_reader_close(r);
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The collector names of the segments in w's directory (NAME.seg), sorted. */
static size_t segment_names(const struct cli_where *w, char **names, size_t max)
{
	int fd = dup(w->dir.fd);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	const size_t slen = strlen(SEGDIR_SUFFIX);
	struct dirent *e;
	size_t n = 0;

	if (d == NULL) {
		if (fd >= 0)
			close(fd);
		return 0;
	}
	while ((e = readdir(d)) != NULL && n < max) {
		size_t len = strlen(e->d_name);
		if (len <= slen || strcmp(e->d_name + len - slen, SEGDIR_SUFFIX) != 0)
			continue;
		e->d_name[len - slen] = '\0';
		if (segment_part_valid(e->d_name) && (names[n] = strdup(e->d_name)) != NULL)
			n++;
	}
	closedir(d);
	qsort(names, n, sizeof *names, by_name);
	return n;
}

static int cmd_list(const struct args *a)
{
	struct cli_where w;
	char *names[1024];
	/* any collector of the directory will do: "agent" is never a plugin's own */
	int status = cli_where_find(&w, a->instance, "agent", a->segments_dir);

	if (status != CLI_OK)
		return status;
	size_t n = segment_names(&w, names, sizeof names / sizeof names[0]);
	if (n == 0) {
		cli_error("instance %s has no collectors in %s (is its agent running?)",
			  a->instance, w.dir.path);
		cli_where_close(&w);
		return CLI_NO_COLLECTOR;
	}
	printf("%-20s %-18s %-8s %-21s %s\n", "COLLECTOR", "STATE", "WRITER", "LAST PUBLISH",
	       "SERIES");
	for (size_t i = 0; i < n; i++) {
		list_one(&w, names[i]);
		free(names[i]);
	}
	cli_where_close(&w);
	return CLI_OK;
}

/* ---- dump ---- */

static int cmd_dump(const struct args *a)
{
	struct seg_reader *r = NULL;
	struct metrics_view v;
	struct seg_info info;
	struct cli_where w;
	char err[ERR_MAX];

	if (a->n_pos != 1) {
		cli_error("usage: shmetrics dump COLLECTOR [--instance=I]");
		return CLI_USAGE;
	}
	int status = cli_where_find(&w, a->instance, a->pos[0], a->segments_dir);
	if (status == CLI_OK)
		status = cli_open_reader(&r, &w);
	cli_where_close(&w);
	if (status != CLI_OK)
		return status;
	if (seg_reader_snapshot(r, &v, &info, err, sizeof err) < 0) {
		cli_error("%s", err);
		seg_reader_close(r);
		return CLI_FAILED;
	}
	const char *state = state_of(&v, &info, segment_now_ns());
	if (strcmp(state, "up") != 0)
		cli_error("note: collector %s is %s; the exporter omits its series", a->pos[0],
			  state);
	struct render_source src = { .collector = a->pos[0], .view = &v };
	struct render_result res;
	struct buf out;
	buf_init(&out);
	int rc = render_text(&out, RENDER_PROMETHEUS_TEXT, &src, 1, &res);
	if (rc == 0 && out.len)
		fwrite(out.data, 1, out.len, stdout);
	buf_free(&out);
	seg_reader_close(r);
	return rc == 0 ? CLI_OK : CLI_FAILED;
}

/* ---- check ---- */

static int check_file(const char *path)
{
	struct batch_limits lim;
	char err[ERR_MAX];
	FILE *f = fopen(path, "r");

	if (f == NULL) {
		cli_error("%s: %s", path, strerror(errno));
		return CLI_FAILED;
	}
	char *text = malloc(CHECK_FILE_MAX + 1);
	size_t len = text ? fread(text, 1, CHECK_FILE_MAX + 1, f) : 0;
	fclose(f);
	batch_limits_default(&lim);
	struct batch *b = batch_new(&lim);
	int rc = -ENOMEM;
	snprintf(err, sizeof err, "out of memory");
	if (text && b && len > CHECK_FILE_MAX) {
		snprintf(err, sizeof err, "larger than %u bytes", CHECK_FILE_MAX);
		rc = -EFBIG;
	} else if (text && b) {
		rc = promtext_parse(b, text, len, err, sizeof err);
	}
	if (rc < 0) {
		char msg[ERR_MAX + PATH_MAX];
		promtext_error_in(msg, sizeof msg, path, err);
		fprintf(stderr, "%s\n", msg);
	} else {
		struct metrics_view v;
		batch_view(b, &v);
		printf("%s: ok, %u families, %u series\n", path, v.hdr.n_families, v.hdr.n_series);
	}
	batch_free(b);
	free(text);
	return rc == 0 ? CLI_OK : CLI_BAD_INPUT;
}

static int cmd_check(const struct args *a)
{
	int status = CLI_OK;
	if (a->n_pos == 0) {
		cli_error("usage: shmetrics check FILE...");
		return CLI_USAGE;
	}
	for (size_t i = 0; i < a->n_pos; i++) {
		int s = check_file(a->pos[i]);
		if (s != CLI_OK)
			status = s;
	}
	return status;
}

/* ---- set, inc, add ---- */

static int cmd_write(const struct args *a, enum cli_op op)
{
	struct cli_write w = {
		.op = op,
		.collector = a->collector,
		.instance = a->instance,
		.segments_dir = a->segments_dir,
		.type = a->type,
		.help = a->help,
		.buckets = a->buckets,
	};
	size_t need = op == CLI_INC ? 1 : 2;

	if (a->n_pos < need || a->n_pos > 2) {
		cli_error("usage: shmetrics %s NAME[{label=\"v\",...}] %s--collector=C", a->cmd,
			  op == CLI_INC ? "[VALUE] " : "VALUE ");
		return CLI_USAGE;
	}
	w.metric = a->pos[0];
	w.value = a->n_pos == 2 ? a->pos[1] : NULL;
	return cli_write_run(&w);
}

int main(int argc, char **argv)
{
	struct args a = { 0 };

	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			fputs(usage_text, stdout);
			return CLI_OK;
		}
	int status = parse_args(argc, argv, &a);
	if (status != CLI_OK)
		return status;
	if (strcmp(a.cmd, "set") == 0)
		return cmd_write(&a, CLI_SET);
	if (strcmp(a.cmd, "inc") == 0)
		return cmd_write(&a, CLI_INC);
	if (strcmp(a.cmd, "add") == 0)
		return cmd_write(&a, CLI_ADD);
	if (strcmp(a.cmd, "observe") == 0)
		return cmd_write(&a, CLI_OBSERVE);
	if (strcmp(a.cmd, "list") == 0)
		return cmd_list(&a);
	if (strcmp(a.cmd, "dump") == 0)
		return cmd_dump(&a);
	if (strcmp(a.cmd, "check") == 0)
		return cmd_check(&a);
	cli_error("unknown command \"%s\" (try --help)", a.cmd);
	return CLI_USAGE;
}
