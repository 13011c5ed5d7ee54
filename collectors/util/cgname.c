#include "cgname.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

struct span {
	const char *p;
	size_t n;
};

static bool has_prefix(struct span s, const char *pre)
{
	size_t n = strlen(pre);
	return s.n >= n && memcmp(s.p, pre, n) == 0;
}

static bool has_suffix(struct span s, const char *suf)
{
	size_t n = strlen(suf);
	return s.n >= n && memcmp(s.p + s.n - n, suf, n) == 0;
}

static bool is_hex_id(const char *p, size_t n)
{
	if (n != CGNAME_ID_LEN)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((p[i] >= '0' && p[i] <= '9') || (p[i] >= 'a' && p[i] <= 'f')))
			return false;
	return true;
}

/* The span between prefix and suffix, when s is exactly prefix + X + suffix. */
static bool strip(struct span s, const char *pre, const char *suf, struct span *mid)
{
	if (!has_prefix(s, pre) || !has_suffix(s, suf) || s.n < strlen(pre) + strlen(suf))
		return false;
	mid->p = s.p + strlen(pre);
	mid->n = s.n - strlen(pre) - strlen(suf);
	return true;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Copies s into out, undoing systemd's \xNN escapes ("qemu\x2d1" is "qemu-1");
 * leaves out empty when it does not fit. */
static void copy_unescaped(char *out, size_t cap, struct span s)
{
	size_t w = 0;
	for (size_t i = 0; i < s.n; i++) {
		char c = s.p[i];
		if (c == '\\' && i + 3 < s.n && s.p[i + 1] == 'x' && hexval(s.p[i + 2]) >= 0 &&
		    hexval(s.p[i + 3]) >= 0) {
			c = (char)(hexval(s.p[i + 2]) * 16 + hexval(s.p[i + 3]));
			i += 3;
		}
		if (w + 1 >= cap || c == '\0') {
			out[0] = '\0';
			return;
		}
		out[w++] = c;
	}
	out[w] = '\0';
}

static void copy_span(char *out, size_t cap, struct span s)
{
	if (s.n >= cap) {
		out[0] = '\0';
		return;
	}
	memcpy(out, s.p, s.n);
	out[s.n] = '\0';
}

static void set_container(struct cg_names *o, const char *runtime, struct span id, struct span name)
{
	copy_span(o->container_id, sizeof o->container_id, id);
	copy_unescaped(o->container_name, sizeof o->container_name, name);
	o->runtime = runtime;
}

/* "kubepods-besteffort-pod1234_5678.slice" or "pod1234-5678": the pod's uid. */
static bool pod_uid(struct span c, char *out, size_t cap)
{
	struct span u;
	const char *pod = NULL;

	if (has_prefix(c, "kubepods") && has_suffix(c, ".slice")) {
		for (size_t i = 0; i + 4 <= c.n; i++)
			if (memcmp(c.p + i, "-pod", 4) == 0)
				pod = c.p + i + 4;
		if (!pod)
			return false;
		u = (struct span){ pod, (size_t)(c.p + c.n - strlen(".slice") - pod) };
	} else if (has_prefix(c, "pod")) {
		u = (struct span){ c.p + 3, c.n - 3 };
	} else {
		return false;
	}
	char uid[37];
	if (u.n != 36 || u.n >= cap)
		return false;
	for (size_t i = 0; i < u.n; i++) {
		char ch = u.p[i] == '_' ? '-' : u.p[i];
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;
		if (dash ? ch != '-' : hexval(ch) < 0)
			return false;
		uid[i] = ch;
	}
	memcpy(out, uid, u.n);
	out[u.n] = '\0';
	return true;
}

static const struct {
	const char *prefix, *suffix, *runtime;
} scoped_ids[] = {
	{ "docker-", ".scope", "docker" },      { "cri-containerd-", ".scope", "containerd" },
	{ "nerdctl-", ".scope", "containerd" }, { "crio-", ".scope", "cri-o" },
	{ "libpod-", ".scope", "podman" },      { "libpod-", "", "podman" },
};

/* A container named by component c (prev is the component before it). */
static bool container_of(struct span c, struct span prev, size_t index, struct cg_names *o)
{
	struct span mid, none = { "", 0 };

	for (size_t i = 0; i < sizeof scoped_ids / sizeof scoped_ids[0]; i++)
		if (strip(c, scoped_ids[i].prefix, scoped_ids[i].suffix, &mid) &&
		    is_hex_id(mid.p, mid.n)) {
			set_container(o, scoped_ids[i].runtime, mid, none);
			return true;
		}
	if (is_hex_id(c.p, c.n)) {
		bool docker = prev.n == 6 && memcmp(prev.p, "docker", 6) == 0;
		set_container(o, docker ? "docker" : "", c, none);
		return true;
	}
	if (strip(c, "lxc.payload.", "", &mid) && mid.n > 0) {
		set_container(o, "lxc", none, mid);
		return true;
	}
	if (index == 1 && prev.n == 3 && memcmp(prev.p, "lxc", 3) == 0) {
		set_container(o, "lxc", none, c);
		return true;
	}
	if (strip(c, "systemd-nspawn@", ".service", &mid) && mid.n > 0) {
		set_container(o, "systemd-nspawn", none, mid);
		return true;
	}
	if (strip(c, "machine-", ".scope", &mid) && mid.n > 0) {
		set_container(o, "machined", none, mid);
		return true;
	}
	return false;
}

static bool is_unit(struct span c)
{
	static const char *const types[] = { ".service", ".scope", ".slice",
					     ".socket",  ".mount", ".swap" };
	for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
		if (has_suffix(c, types[i]) && c.n > strlen(types[i]))
			return true;
	return false;
}

void cgname_parse(const char *path, size_t len, struct cg_names *o)
{
	struct span prev = { "", 0 }, c = { "", 0 };
	const char *end = path + len;
	size_t index = 0;

	memset(o, 0, sizeof *o);
	o->runtime = "";
	for (const char *p = path; p < end; index++) {
		while (p < end && *p == '/')
			p++;
		if (p == end)
			break;
		const char *q = memchr(p, '/', (size_t)(end - p));
		c = (struct span){ p, q ? (size_t)(q - p) : (size_t)(end - p) };
		if (!pod_uid(c, o->pod_uid, sizeof o->pod_uid))
			container_of(c, prev, index, o);
		prev = c;
		p = c.p + c.n;
	}
	if (c.n > 0 && is_unit(c))
		copy_span(o->unit, sizeof o->unit, c);
}
