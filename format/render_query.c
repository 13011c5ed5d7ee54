/*
 * Prometheus API bodies, written straight into the buffer: the dashboard asks
 * for them every second, so no tree is built (render_json.c builds one).
 */
#include "render_query.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "numfmt.h"
#include "series_key.h"

void render_json_string(struct buf *out, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	size_t run = 0;

	buf_putc(out, '"');
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		buf_append(out, s + run, i - run);
		run = i + 1;
		if (c == '"' || c == '\\') {
			char esc[2] = { '\\', (char)c };
			buf_append(out, esc, 2);
		} else {
			char esc[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] };
			buf_append(out, esc, 6);
		}
	}
	buf_append(out, s + run, len - run);
	buf_putc(out, '"');
}

static void put_metric(struct buf *out, const char *key, size_t key_len)
{
	const char *name, *l, *v;
	size_t name_len, ll, vl, pos = 0;

	series_key_name(key, key_len, &name, &name_len);
	buf_puts(out, "{\"__name__\":");
	render_json_string(out, name, name_len);
	while (series_key_next_label(key, key_len, &pos, &l, &ll, &v, &vl)) {
		buf_putc(out, ',');
		render_json_string(out, l, ll);
		buf_putc(out, ':');
		render_json_string(out, v, vl);
	}
	buf_putc(out, '}');
}

/* [1700000000.250,"0.5"] */
static void put_sample(struct buf *out, int64_t t_ms, double v)
{
	char *p = buf_space(out, 64);
	int64_t sec = t_ms / 1000, ms = t_ms % 1000;

	if (!p)
		return;
	if (ms < 0) {
		ms += 1000;
		sec--;
	}
	size_t n = (size_t)snprintf(p, 32, "[%" PRId64 ".%03d,\"", sec, (int)ms);
	n += numfmt_value(p + n, v);
	memcpy(p + n, "\"]", 2);
	buf_commit(out, n + 2);
}

static void put_series(struct buf *out, enum query_result_type type,
		       const struct query_result_series *s)
{
	buf_puts(out, "{\"metric\":");
	put_metric(out, s->key, s->key_len);
	buf_puts(out, type == QUERY_RESULT_VECTOR ? ",\"value\":" : ",\"values\":[");
	for (size_t i = 0; i < s->n; i++) {
		if (i)
			buf_putc(out, ',');
		put_sample(out, s->t_ms[i], s->values[i]);
		if (type == QUERY_RESULT_VECTOR)
			break;
	}
	buf_puts(out, type == QUERY_RESULT_VECTOR ? "}" : "]}");
}

void render_query_result(struct buf *out, enum query_result_type type,
			 const struct query_result_series *series, size_t n)
{
	buf_puts(out, "{\"status\":\"success\",\"data\":{\"resultType\":");
	buf_puts(out, type == QUERY_RESULT_VECTOR ? "\"vector\"" : "\"matrix\"");
	buf_puts(out, ",\"result\":[");
	for (size_t i = 0; i < n; i++) {
		if (i)
			buf_putc(out, ',');
		put_series(out, type, &series[i]);
	}
	buf_puts(out, "]}}\n");
}

void render_query_error(struct buf *out, const char *type, const char *msg)
{
	buf_puts(out, "{\"status\":\"error\",\"errorType\":");
	render_json_string(out, type, strlen(type));
	buf_puts(out, ",\"error\":");
	render_json_string(out, msg, strlen(msg));
	buf_puts(out, "}\n");
}

void render_query_strings(struct buf *out, const char *const *s, const size_t *len, size_t n)
{
	buf_puts(out, "{\"status\":\"success\",\"data\":[");
	for (size_t i = 0; i < n; i++) {
		if (i)
			buf_putc(out, ',');
		render_json_string(out, s[i], len[i]);
	}
	buf_puts(out, "]}\n");
}

void render_query_label_sets(struct buf *out, const char *const *keys, const size_t *key_lens,
			     size_t n)
{
	buf_puts(out, "{\"status\":\"success\",\"data\":[");
	for (size_t i = 0; i < n; i++) {
		if (i)
			buf_putc(out, ',');
		put_metric(out, keys[i], key_lens[i]);
	}
	buf_puts(out, "]}\n");
}
