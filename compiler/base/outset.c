/* outset.c - files written into a directory as a set (see outset.h). */
#define _GNU_SOURCE /* O_NOFOLLOW */
#include "outset.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fsio.h"
#include "sbuf.h"

typedef struct entry {
	char *name;
	char *data; /* NULL: claimed, not written now */
	size_t len;
} entry;

struct outset {
	char *dir;
	entry *v;
	int n, cap;
};

outset *outset_new(const char *dir)
{
	outset *s = calloc(1, sizeof(*s));
	if (!s || !(s->dir = strdup(dir))) {
		free(s);
		return NULL;
	}
	return s;
}

void outset_free(outset *s)
{
	if (!s)
		return;
	for (int i = 0; i < s->n; i++) {
		free(s->v[i].name);
		free(s->v[i].data);
	}
	free(s->v);
	free(s->dir);
	free(s);
}

/* The entry of name, added if new; NULL when out of memory. */
static entry *find(outset *s, const char *name)
{
	for (int i = 0; i < s->n; i++)
		if (!strcmp(s->v[i].name, name))
			return &s->v[i];
	if (s->n == s->cap) {
		int cap = s->cap ? 2 * s->cap : 16;
		entry *v = realloc(s->v, (size_t)cap * sizeof(*v));
		if (!v)
			return NULL;
		s->v = v;
		s->cap = cap;
	}
	entry *e = &s->v[s->n];
	memset(e, 0, sizeof(*e));
	if (!(e->name = strdup(name)))
		return NULL;
	s->n++;
	return e;
}

int outset_add(outset *s, const char *name, const void *data, size_t len)
{
	entry *e = find(s, name);
	char *copy = malloc(len ? len : 1);
	if (!e || !copy) {
		free(copy);
		return -1;
	}
	if (len)
		memcpy(copy, data, len);
	free(e->data);
	e->data = copy;
	e->len = len;
	return 0;
}

int outset_claim(outset *s, const char *name)
{
	return find(s, name) ? 0 : -1;
}

static char *join(const char *dir, const char *name)
{
	size_t n = strlen(dir) + strlen(name) + 2;
	char *p = malloc(n);
	if (p)
		snprintf(p, n, "%s/%s", dir, name);
	return p;
}

int outset_check_inputs(const outset *s, const char *const *inputs, int n, char *err,
			size_t errlen)
{
	for (int i = 0; i < s->n; i++) {
		char *path = join(s->dir, s->v[i].name);
		if (!path)
			return -1;
		for (int k = 0; k < n; k++)
			if (inputs[k] && fs_same_file(path, inputs[k])) {
				snprintf(err, errlen,
					 "%s would replace %s, an input of this command; write "
					 "elsewhere",
					 path, inputs[k]);
				free(path);
				return -2;
			}
		free(path);
	}
	return 0;
}

/* The names the manifest lists (each on a "file NAME" line), as one
 * string of "\nNAME\n" entries for lookups; "" when there is none.
 * Returns NULL with a message (-2) or when out of memory (-1). */
static char *read_manifest(const char *dir, int *rc, char *err, size_t errlen)
{
	char *path = join(dir, OUTSET_MANIFEST), *text = NULL;
	size_t len;
	*rc = -1;
	if (!path)
		return NULL;
	struct stat st;
	if (lstat(path, &st) != 0 && errno == ENOENT) {
		free(path);
		return strdup("\n");
	}
	if (fs_read_file(path, (size_t)1 << 20, &text, &len, err, errlen) < 0) {
		free(path);
		*rc = -2;
		return NULL;
	}
	free(path);
	sbuf names = {0};
	sbuf_printf(&names, "\n");
	for (char *sv, *line = strtok_r(text, "\n", &sv); line; line = strtok_r(NULL, "\n", &sv))
		if (!strncmp(line, "file ", 5))
			sbuf_printf(&names, "%s\n", line + 5);
	free(text);
	if (names.oom) {
		sbuf_free(&names);
		return NULL;
	}
	return names.p;
}

static int listed(const char *names, const char *name)
{
	size_t n = strlen(name);
	for (const char *p = strstr(names, name); p; p = strstr(p + 1, name))
		if (p[-1] == '\n' && p[n] == '\n')
			return 1;
	return 0;
}

/* Refuses to replace what the tool did not write. */
static int check_owned(const outset *s, const char *names, int force, char *err, size_t errlen)
{
	for (int i = 0; i < s->n && !force; i++) {
		char *path = join(s->dir, s->v[i].name);
		struct stat st;
		int exists = path && lstat(path, &st) == 0;
		if (!path)
			return -1;
		if (exists && !listed(names, s->v[i].name)) {
			snprintf(err, errlen,
				 "%s exists and was not written by mambalaya (%s/%s does not list "
				 "it); remove it, write elsewhere, or give --force to replace it",
				 path, s->dir, OUTSET_MANIFEST);
			free(path);
			return -2;
		}
		free(path);
	}
	return 0;
}

/* Writes every file's temporary, then renames them all.  Returns 0, -2 or
 * -1. */
static int write_all(outset *s, char *err, size_t errlen)
{
	fs_out *o = calloc((size_t)(s->n ? s->n : 1), sizeof(*o));
	int rc = -1, nopen = 0;
	if (!o)
		return -1;
	for (int i = 0; i < s->n; i++) {
		if (!s->v[i].data)
			continue;
		char *path = join(s->dir, s->v[i].name);
		if (!path)
			goto done;
		int r = fs_out_open(&o[i], path, err, errlen);
		free(path);
		if (r < 0) {
			rc = -2;
			goto done;
		}
		nopen = i + 1;
		size_t w = s->v[i].len ? fwrite(s->v[i].data, 1, s->v[i].len, o[i].f) : 0;
		if (w != s->v[i].len || fs_out_close(&o[i], err, errlen) < 0) {
			if (o[i].f)
				snprintf(err, errlen, "%s: cannot write: %s", o[i].path, strerror(errno));
			rc = -2;
			goto done;
		}
	}
	/* Every temporary is complete: only now is anything replaced. */
	for (int i = 0; i < s->n; i++)
		if (s->v[i].data && fs_out_rename(&o[i], err, errlen) < 0) {
			rc = -2;
			goto done;
		}
	rc = 0;
done:
	for (int i = 0; i < nopen; i++)
		fs_out_abort(&o[i]);
	free(o);
	return rc;
}

static int write_manifest(const outset *s, const char *old, char *err, size_t errlen)
{
	sbuf m = {0};
	sbuf_printf(&m, "# mambalaya: it wrote the files below into this directory; it replaces\n"
			"# them freely and no other file without --force.\n");
	/* The old entries first, in their order, then the new ones. */
	const char *p = old + 1;
	while (*p) {
		const char *q = strchr(p, '\n');
		sbuf_printf(&m, "file %.*s\n", (int)(q - p), p);
		p = q + 1;
	}
	for (int i = 0; i < s->n; i++)
		if (!listed(old, s->v[i].name))
			sbuf_printf(&m, "file %s\n", s->v[i].name);
	if (m.oom) {
		sbuf_free(&m);
		return -1;
	}
	char *path = join(s->dir, OUTSET_MANIFEST);
	int rc = -1;
	if (path)
		rc = fs_write_file(path, m.p, m.n, err, errlen) < 0 ? -2 : 0;
	free(path);
	sbuf_free(&m);
	return rc;
}

int outset_commit(outset *s, int force, char *err, size_t errlen)
{
	if (fs_mkdirs(s->dir, err, errlen) < 0)
		return -2;
	char *lock = join(s->dir, OUTSET_LOCK);
	if (!lock)
		return -1;
	int fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0666);
	if (fd < 0) {
		snprintf(err, errlen, "%s: cannot write: %s", lock, strerror(errno));
		free(lock);
		return -2;
	}
	free(lock);
	while (flock(fd, LOCK_EX) != 0 && errno == EINTR)
		;
	int rc;
	char *names = read_manifest(s->dir, &rc, err, errlen);
	if (names) {
		rc = check_owned(s, names, force, err, errlen);
		if (rc == 0)
			rc = write_all(s, err, errlen);
		if (rc == 0)
			rc = write_manifest(s, names, err, errlen);
	}
	free(names);
	close(fd); /* releases the lock */
	return rc;
}
