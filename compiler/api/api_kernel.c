/* api_kernel.c - kernels compiled, cached and loaded in this process (see
 * mambalaya.h).
 *
 * The cache: CACHE/<key>/ holds what `compile` writes for the kernel
 * (named "kernel"), libkernel.so built from it, and kernel.ok, the hash of
 * libkernel.so.  key hashes the source, the parameter values, the plan's
 * groups and tiles, the flags, the compiler ($CC) and the library's
 * version.  An entry is built in a private directory beside it and renamed
 * into place whole, so a reader never sees a partial one and two processes
 * building the same kernel both succeed (the second finds the first's).
 * An entry whose libkernel.so does not hash to kernel.ok is rebuilt.
 */
#define _GNU_SOURCE /* RTLD_NODELETE */
#include "api_impl.h"

#include <dlfcn.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/fsio.h"
#include "base/hash.h"
#include "base/outset.h"
#include "codegen/c/cgc.h"

#define KNAME "kernel"

struct mambalaya_kernel {
	void *so;
	int (*run)(float *const *, void *, int64_t);
	void *ws;
	int64_t ws_bytes;
	char *dir;
	/* The tensors of NAME_args, in order. */
	int n;
	char **names;
	int *output; /* 1 for outputs */
	int64_t *nelems;
	float **args;
};

/* dir/leaf into buf (PATH_BUF bytes); -1 when it does not fit. */
#define PATH_BUF 4200
static int join(char *buf, const char *dir, const char *leaf)
{
	int n = snprintf(buf, PATH_BUF, "%s/%s", dir, leaf);
	return n < 0 || n >= PATH_BUF ? -1 : 0;
}

/* The plan's groups, bands and tiles, hashed. */
static uint64_t plan_hash(uint64_t h, const cg_plan *p, int neinsums)
{
	for (int i = 0; i < p->ngroups; i++) {
		const cg_group *gr = &p->groups[i];
		h = hash_fnv1a(h, gr->members, (size_t)neinsums);
		h = hash_fnv1a(h, &gr->nband, sizeof(gr->nband));
		h = hash_fnv1a(h, gr->band, (size_t)gr->nband * sizeof(gr->band[0]));
		h = hash_fnv1a(h, gr->tile, (size_t)gr->nband * sizeof(gr->tile[0]));
	}
	return h;
}

/* The hash of a file, as 16 hex digits into hex (17 bytes); -1 when it
 * cannot be read. */
static int file_hash(const char *path, char *hex, char **err)
{
	char *buf, e[1024];
	size_t len;
	if (fs_read_file(path, (size_t)1 << 30, &buf, &len, e, sizeof(e)) < 0)
		return api_fail(err, -1, "%s", e);
	snprintf(hex, 17, "%016" PRIx64, hash_fnv1a(HASH_FNV0, buf, len));
	free(buf);
	return 0;
}

/* Is dir a whole cache entry (libkernel.so hashing to kernel.ok)? */
static int entry_ok(const char *dir)
{
	char so[PATH_BUF], ok[PATH_BUF], hex[17], *want = NULL;
	size_t len;
	if (join(so, dir, "lib" KNAME ".so") < 0 || join(ok, dir, KNAME ".ok") < 0 ||
	    file_hash(so, hex, NULL) < 0 ||
	    fs_read_file(ok, 64, &want, &len, NULL, 0) < 0)
		return 0;
	int same = len >= 16 && !strncmp(want, hex, 16);
	free(want);
	return same;
}

/* Writes the kernel's files into dir and builds libkernel.so there.
 * Returns a status. */
static int build_entry(mambalaya_cascade *mc, const cg_plan *p, char **flagv, int nflags,
		       char **ccv, int ncc, const char *dir, char **err)
{
	char e[2048];
	cg_options co = {KNAME, 1, 1, (const char *const *)flagv, nflags, 0, 0};
	outset *out = outset_new(dir);
	int r = out ? cgc_emit(mc->g, p, &co, out, e, sizeof(e)) : -1;
	if (r == 0)
		r = outset_commit(out, 1, e, sizeof(e));
	outset_free(out);
	if (r < 0)
		return api_fail(err, r == -2 ? MAMBALAYA_EUSER : MAMBALAYA_EINTERNAL, "%s",
				out ? e : "internal error: out of memory");
	char **argv = cgc_build_argv(dir, KNAME, &co, (const char *const *)ccv, ncc, 1);
	char *log = malloc(65536);
	int st = argv && log ? fs_spawn(argv, log, 65536, e, sizeof(e)) : -2;
	int rc = MAMBALAYA_OK;
	if (st == -2)
		rc = api_fail(err, MAMBALAYA_EINTERNAL, "internal error: out of memory");
	else if (st < 0)
		rc = api_fail(err, MAMBALAYA_EUSER, "building the kernel: %s", e);
	else if (st != 0)
		rc = api_fail(err, nflags ? MAMBALAYA_EUSER : MAMBALAYA_EINTERNAL,
			      "building the kernel in %s failed (%s exited with status %d):\n%s",
			      dir, argv[0], st, log);
	free(log);
	cgc_argv_free(argv);
	if (rc)
		return rc;
	char so[PATH_BUF], ok[PATH_BUF], hex[17];
	if (join(so, dir, "lib" KNAME ".so") < 0 || join(ok, dir, KNAME ".ok") < 0)
		return api_fail(err, MAMBALAYA_EUSER, "%s: path too long", dir);
	if (file_hash(so, hex, err) < 0)
		return MAMBALAYA_EUSER;
	if (fs_write_file(ok, hex, 16, e, sizeof(e)) < 0)
		return api_fail(err, MAMBALAYA_EUSER, "%s", e);
	return MAMBALAYA_OK;
}

/* Makes CACHE/<key> a whole entry, building it if it is missing or
 * corrupted.  Returns a status. */
static int ensure_entry(mambalaya_cascade *mc, const cg_plan *p, char **flagv, int nflags,
			char **ccv, int ncc, const char *cache, const char *dir, char **err)
{
	char e[1024];
	if (entry_ok(dir))
		return MAMBALAYA_OK;
	if (fs_mkdirs(cache, e, sizeof(e)) < 0)
		return api_fail(err, MAMBALAYA_EUSER, "%s", e);
	char tmp[PATH_BUF];
	if (join(tmp, cache, ".build-XXXXXX") < 0)
		return api_fail(err, MAMBALAYA_EUSER, "%s: path too long", cache);
	if (!mkdtemp(tmp))
		return api_fail(err, MAMBALAYA_EUSER, "%s: cannot write: %s", cache,
				strerror(errno));
	int rc = build_entry(mc, p, flagv, nflags, ccv, ncc, tmp, err);
	if (!rc && rename(tmp, dir) != 0) {
		if (entry_ok(dir)) {
			/* Another process made it meanwhile. */
		} else {
			/* A corrupted entry: moved aside, then replaced. */
			char stale[PATH_BUF];
			int made = join(stale, cache, ".stale-XXXXXX") == 0 && mkdtemp(stale);
			int moved = made && rename(dir, stale) == 0 && rename(tmp, dir) == 0;
			if (!moved && !entry_ok(dir))
				rc = api_fail(err, MAMBALAYA_EUSER, "%s: cannot replace: %s", dir,
					      strerror(errno));
			if (made)
				fs_remove_tree(stale, NULL, 0);
		}
	}
	fs_remove_tree(tmp, NULL, 0);
	return rc;
}

/* Loads libkernel.so and the tensors' order. */
static mambalaya_kernel *load_kernel(const ein_cascade *c, const char *dir, char **err)
{
	mambalaya_kernel *k = calloc(1, sizeof(*k));
	char so[PATH_BUF];
	if (!k || !(k->dir = strdup(dir))) {
		free(k);
		api_fail(err, MAMBALAYA_EINTERNAL, "internal error: out of memory");
		return NULL;
	}
	if (join(so, dir, "lib" KNAME ".so") < 0) {
		api_fail(err, MAMBALAYA_EUSER, "%s: path too long", dir);
		mambalaya_kernel_close(k);
		return NULL;
	}
	/* Never unmapped (RTLD_NODELETE): OpenMP's threads may still run
	 * code of a kernel's library when it is closed. */
	k->so = dlopen(so, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
	if (!k->so) {
		api_fail(err, MAMBALAYA_EUSER, "%s: cannot load: %s", so, dlerror());
		mambalaya_kernel_close(k);
		return NULL;
	}
	int64_t (*ws)(void) = (int64_t(*)(void))dlsym(k->so, KNAME "_workspace_bytes");
	k->run = (int (*)(float *const *, void *, int64_t))dlsym(k->so, KNAME "_run_arrays");
	if (!ws || !k->run) {
		api_fail(err, MAMBALAYA_EUSER, "%s: not a kernel of this version", so);
		mambalaya_kernel_close(k);
		return NULL;
	}
	k->ws_bytes = ws();
	k->ws = aligned_alloc(64, (size_t)(k->ws_bytes > 0 ? (k->ws_bytes + 63) / 64 * 64 : 64));
	k->names = calloc((size_t)c->ntensors + 1, sizeof(char *));
	k->output = calloc((size_t)c->ntensors + 1, sizeof(int));
	k->nelems = calloc((size_t)c->ntensors + 1, sizeof(int64_t));
	k->args = calloc((size_t)c->ntensors + 1, sizeof(float *));
	if (!k->ws || !k->names || !k->output || !k->nelems || !k->args) {
		api_fail(err, MAMBALAYA_EINTERNAL, "internal error: out of memory");
		mambalaya_kernel_close(k);
		return NULL;
	}
	for (int t = 0; t < c->ntensors; t++) {
		const ein_tensor *tt = &c->tensors[t];
		if (tt->role == EIN_ROLE_TEMP)
			continue;
		if (!(k->names[k->n] = strdup(tt->name))) {
			api_fail(err, MAMBALAYA_EINTERNAL, "internal error: out of memory");
			mambalaya_kernel_close(k);
			return NULL;
		}
		k->output[k->n] = tt->role == EIN_ROLE_OUTPUT;
		k->nelems[k->n++] = tt->nelems;
	}
	return k;
}

mambalaya_kernel *mambalaya_kernel_open(mambalaya_cascade *mc, const char *arch,
					const char *policy, const char *cflags,
					const char *cache_dir, char **err)
{
	if (err)
		*err = NULL;
	if (!cache_dir) {
		api_fail(err, MAMBALAYA_EUSER, "no cache directory given");
		return NULL;
	}
	char **flagv = NULL, **ccv = NULL, e[512];
	int nflags = 0, ncc;
	const char *cc = getenv("CC");
	if (cflags && (nflags = fs_split_words(cflags, &flagv, e, sizeof(e))) < 0) {
		api_fail(err, MAMBALAYA_EUSER, "cflags: %s", e);
		return NULL;
	}
	if ((ncc = fs_split_words(cc && *cc ? cc : "cc", &ccv, e, sizeof(e))) <= 0) {
		api_fail(err, MAMBALAYA_EUSER, "$CC: %s", ncc < 0 ? e : "empty");
		fs_words_free(flagv);
		fs_words_free(ccv);
		return NULL;
	}
	cg_plan p = {0};
	target *t = NULL;
	mambalaya_kernel *k = NULL;
	if (api_cg_plan(mc, arch, policy, &p, NULL, &t, err))
		goto done;
	uint64_t h = mc->identity;
	h = plan_hash(h, &p, mc->c->neinsums);
	for (int i = 0; i < nflags; i++)
		h = hash_fnv1a(h, flagv[i], strlen(flagv[i]) + 1);
	h = hash_fnv1a(h, "|", 1);
	for (int i = 0; i < ncc; i++)
		h = hash_fnv1a(h, ccv[i], strlen(ccv[i]) + 1);
	h = hash_fnv1a(h, mambalaya_version(), strlen(mambalaya_version()));
	char dir[PATH_BUF], key[17];
	snprintf(key, sizeof(key), "%016" PRIx64, h);
	if (join(dir, cache_dir, key) < 0)
		api_fail(err, MAMBALAYA_EUSER, "%s: path too long", cache_dir);
	else if (ensure_entry(mc, &p, flagv, nflags, ccv, ncc, cache_dir, dir, err) == MAMBALAYA_OK)
		k = load_kernel(mc->c, dir, err);
done:
	cg_plan_clear(&p);
	target_free(t);
	fs_words_free(flagv);
	fs_words_free(ccv);
	return k;
}

int mambalaya_kernel_run(mambalaya_kernel *k, const mambalaya_tensor *in, int nin,
			 mambalaya_tensor *out, int nout, char **err)
{
	if (err)
		*err = NULL;
	float **scratch = calloc((size_t)k->n + 1, sizeof(float *));
	if (!scratch)
		return api_fail(err, MAMBALAYA_EINTERNAL, "internal error: out of memory");
	int rc = MAMBALAYA_OK;
	for (int i = 0; i < k->n && !rc; i++) {
		const mambalaya_tensor *x = k->output[i] ? api_find(out, nout, k->names[i])
							 : api_find(in, nin, k->names[i]);
		if (!x && k->output[i]) {
			/* An output the caller does not want: somewhere to go. */
			scratch[i] = malloc((size_t)(k->nelems[i] ? k->nelems[i] : 1) * sizeof(float));
			if (!scratch[i])
				rc = api_fail(err, MAMBALAYA_EINTERNAL, "internal error: out of memory");
			k->args[i] = scratch[i];
			continue;
		}
		if (!x)
			rc = api_fail(err, MAMBALAYA_EUSER, "'%s' is not given", k->names[i]);
		else if (!x->data || x->nelems != k->nelems[i])
			rc = api_fail(err, MAMBALAYA_EUSER,
				      "'%s' has %lld elements; its shape needs %lld", k->names[i],
				      (long long)x->nelems, (long long)k->nelems[i]);
		else
			k->args[i] = x->data;
	}
	if (!rc) {
		int r = k->run(k->args, k->ws, k->ws_bytes);
		if (r)
			rc = api_fail(err, MAMBALAYA_EINTERNAL,
				      "internal error: the kernel returned %d (%s)", r,
				      r == 1 ? "its sizes" : "out of memory");
	}
	for (int i = 0; i < k->n; i++)
		free(scratch[i]);
	free(scratch);
	return rc;
}

const char *mambalaya_kernel_dir(const mambalaya_kernel *k)
{
	return k->dir;
}

void mambalaya_kernel_close(mambalaya_kernel *k)
{
	if (!k)
		return;
	if (k->so)
		dlclose(k->so);
	for (int i = 0; k->names && i < k->n; i++)
		free(k->names[i]);
	free(k->names);
	free(k->output);
	free(k->nelems);
	free(k->args);
	free(k->ws);
	free(k->dir);
	free(k);
}
