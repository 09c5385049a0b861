/* calibrate.c - this machine as a CPU target (see calibrate.h). */
#define _GNU_SOURCE
#include "calibrate.h"

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#define CAL_HAVE_CPUID 1
#endif

#include "base/fsio.h"
#include "base/hash.h"
#include "base/units.h"
#include "codegen/c/cgc.h"
#include "runtime_sources.h"

#define CAL_PATH 4096

/* Appends a line to the note. */
static void __attribute__((format(printf, 3, 4))) note_add(char *note, size_t len,
							   const char *fmt, ...)
{
	size_t n = strlen(note);
	if (n + 1 >= len)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(note + n, len - n, fmt, ap);
	va_end(ap);
	n = strlen(note);
	if (n + 1 < len) {
		note[n] = '\n';
		note[n + 1] = '\0';
	}
}

/* The fingerprint of what the rates are measured with: the probe's source
 * (the kernels' runtime: ml_math.h, ml_gemm.h, ...) and the flags it is
 * built with, FNV-1a over both.  A runtime whose exp got faster makes the
 * cached rates stale (calibrate_host). */
static void runtime_fingerprint(char *buf, size_t len)
{
	uint64_t h = hash_fnv1a(HASH_FNV0, rt_probe, strlen(rt_probe));
	for (int i = 0; cgc_default_cflags[i]; i++)
		h = hash_fnv1a(h, cgc_default_cflags[i], strlen(cgc_default_cflags[i]) + 1);
	snprintf(buf, len, "fnv1a64:%016llx", (unsigned long long)h);
}

/* A sysfs value: "32K", "1024K", "32M" or a plain number of bytes. */
static int64_t parse_size(const char *s)
{
	char *end;
	long long v = strtoll(s, &end, 10);
	if (end == s || v <= 0)
		return -1;
	if (*end == 'K')
		v <<= 10;
	else if (*end == 'M')
		v <<= 20;
	else if (*end == 'G')
		v <<= 30;
	return v;
}

/* CPUs in a sysfs list ("0-1,4,6-7"). */
static int64_t count_cpus(const char *s)
{
	int64_t n = 0;
	while (*s && *s != '\n') {
		char *end;
		long a = strtol(s, &end, 10), b = a;
		if (end == s)
			return -1;
		s = end;
		if (*s == '-') {
			b = strtol(s + 1, &end, 10);
			if (end == s + 1 || b < a)
				return -1;
			s = end;
		}
		n += b - a + 1;
		if (*s == ',')
			s++;
	}
	return n;
}

/* dir/name into buf; -1 when it does not fit. */
static int path_join(char *buf, size_t len, const char *dir, const char *name)
{
	int n = snprintf(buf, len, "%s/%s", dir, name);
	return n > 0 && (size_t)n < len ? 0 : -1;
}

static int read_small(const char *dir, const char *name, char *buf, size_t len)
{
	char path[CAL_PATH];
	if (path_join(path, sizeof(path), dir, name) < 0)
		return -1;
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	int ok = fgets(buf, (int)len, f) != NULL;
	fclose(f);
	return ok ? 0 : -1;
}

/* The data and unified caches of CPU 0 (MAMBALAYA_SYSFS_CPU replaces
 * /sys/devices/system/cpu for the tests), innermost first.  Returns
 * their number (0 when sysfs says nothing usable). */
static int read_caches(target_cache *c, int max)
{
	const char *root = getenv("MAMBALAYA_SYSFS_CPU");
	int n = 0;
	for (int i = 0; i < 16 && n < max; i++) {
		char dir[CAL_PATH], type[64], level[32], size[64], shared[256];
		int w = snprintf(dir, sizeof(dir), "%s/cpu0/cache/index%d",
				 root && *root ? root : "/sys/devices/system/cpu", i);
		if (w < 0 || (size_t)w >= sizeof(dir))
			return 0;
		if (read_small(dir, "type", type, sizeof(type)) < 0)
			break;
		if (strncmp(type, "Instruction", 11) == 0)
			continue;
		if (read_small(dir, "level", level, sizeof(level)) < 0 ||
		    read_small(dir, "size", size, sizeof(size)) < 0)
			return 0;
		target_cache k = {atoll(level), parse_size(size), 1};
		if (read_small(dir, "shared_cpu_list", shared, sizeof(shared)) == 0)
			k.shared_by = count_cpus(shared);
		if (k.level < 1 || k.bytes < 1 || k.shared_by < 1)
			return 0;
		if (n && !target_cache_nests(&c[n - 1], &k))
			return 0;
		c[n++] = k;
	}
	return n;
}

#ifdef CAL_HAVE_CPUID
/* The deterministic cache parameters of CPUID leaf 4 (Intel) or
 * 0x8000001D (AMD): data and unified caches, innermost first, each with
 * the logical CPUs that share it (at most `online`).  0 when the leaf
 * reports none (hypervisors often clear it). */
static int cpuid_leaf_caches(unsigned leaf, long online, target_cache *c, int max)
{
	int n = 0;
	for (unsigned i = 0; i < 16 && n < max; i++) {
		unsigned a, b, cx, d;
		if (!__get_cpuid_count(leaf, i, &a, &b, &cx, &d))
			return 0;
		unsigned type = a & 31;
		if (type == 0)
			break;
		if (type == 2) /* instruction cache */
			continue;
		int64_t line = (b & 0xfff) + 1, parts = ((b >> 12) & 0x3ff) + 1,
			ways = ((b >> 22) & 0x3ff) + 1, sets = (int64_t)cx + 1;
		target_cache k = {(a >> 5) & 7, line * parts * ways * sets,
				  ((a >> 14) & 0xfff) + 1};
		if (online > 0 && k.shared_by > online)
			k.shared_by = online;
		if (k.level < 1 || (n && !target_cache_nests(&c[n - 1], &k)))
			return 0;
		c[n++] = k;
	}
	return n;
}
#endif

/* The caches as the processor reports them (CPUID), where sysfs has
 * none: the leaves with sharing first, else AMD's older leaves, which
 * give each core's L1 data cache and L2 but no sharing for the L3 (a
 * virtual machine reports the whole package's), so no L3.  *how says
 * which.  MAMBALAYA_CPUID=0 turns this off (the tests' fallback). */
static int read_caches_cpuid(target_cache *c, int max, const char **how)
{
	const char *off = getenv("MAMBALAYA_CPUID");
	*how = "";
	if (off && strcmp(off, "0") == 0)
		return 0;
#ifdef CAL_HAVE_CPUID
	long online = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned a, b, cx, d, maxext = __get_cpuid_max(0x80000000u, NULL);
	int n = 0;
	if (maxext >= 0x8000001Du && (n = cpuid_leaf_caches(0x8000001Du, online, c, max)) > 0) {
		*how = "CPUID leaf 0x8000001D";
		return n;
	}
	if ((n = cpuid_leaf_caches(4, online, c, max)) > 0) {
		*how = "CPUID leaf 4";
		return n;
	}
	if (maxext >= 0x80000006u && max >= 2) {
		__cpuid(0x80000005u, a, b, cx, d);
		int64_t l1 = (int64_t)(cx >> 24) << 10;
		__cpuid(0x80000006u, a, b, cx, d);
		int64_t l2 = (int64_t)(cx >> 16) << 10;
		if (l1 > 0 && l2 > l1) {
			c[0] = (target_cache){1, l1, 1};
			c[1] = (target_cache){2, l2, 1};
			*how = "CPUID leaves 0x80000005 and 0x80000006 (each core's L1 and L2; their L3 has no sharing and is not taken)";
			return 2;
		}
	}
#else
	(void)c;
	(void)max;
#endif
	return 0;
}

/* Writes the probe program into dir, builds it as kernels are built
 * ($CC, the kernels' default flags, OpenBLAS) and runs it.  Returns its
 * parsed output, or NULL with why in why. */
static cJSON *run_probe(const char *dir, double seconds, double cache_bytes, int footprints,
			char *why, size_t whylen)
{
	char src[CAL_PATH], exe[CAL_PATH], secs[32], cbytes[32], e[512];
	char **cc = NULL, **argv = NULL, *log = malloc(65536);
	cJSON *out = NULL;
	if (path_join(src, sizeof(src), dir, "probe.c") < 0 ||
	    path_join(exe, sizeof(exe), dir, "probe") < 0) {
		snprintf(why, whylen, "the temporary directory's path is too long");
		free(log);
		return NULL;
	}
	const char *env = getenv("CC");
	int ncc = fs_split_words(env && *env ? env : "cc", &cc, e, sizeof(e));
	int nflags = 0;
	while (cgc_default_cflags[nflags])
		nflags++;
	if (!log || ncc <= 0 || !(argv = calloc((size_t)(ncc + nflags + 8), sizeof(*argv)))) {
		snprintf(why, whylen, "%s", ncc < 0 ? e : "out of memory");
		goto done;
	}
	if (fs_write_file(src, rt_probe, strlen(rt_probe), e, sizeof(e)) < 0) {
		snprintf(why, whylen, "%s", e);
		goto done;
	}
	int k = 0;
	for (int i = 0; i < ncc; i++)
		argv[k++] = cc[i];
	argv[k++] = "-DML_BLAS";
	for (int i = 0; i < nflags; i++)
		argv[k++] = (char *)cgc_default_cflags[i];
	argv[k++] = "-o";
	argv[k++] = exe;
	argv[k++] = src;
	argv[k++] = "-lopenblas";
	argv[k++] = "-lm";
	int st = fs_spawn(argv, log, 65536, e, sizeof(e));
	if (st != 0) {
		snprintf(why, whylen, "the probe does not build (%s)",
			 st < 0 ? e : "the C compiler or OpenBLAS is missing");
		goto done;
	}
	snprintf(secs, sizeof(secs), "%g", seconds);
	snprintf(cbytes, sizeof(cbytes), "%.0f", cache_bytes);
	char *run[] = {exe, secs, cbytes, footprints ? "1" : "0", NULL};
	st = fs_spawn(run, log, 65536, e, sizeof(e));
	if (st != 0) {
		snprintf(why, whylen, "the probe failed (%s)", st < 0 ? e : log);
		goto done;
	}
	out = cJSON_Parse(log);
	if (!out)
		snprintf(why, whylen, "the probe's output is not JSON");
done:
	fs_words_free(cc);
	free(argv);
	free(log);
	return out;
}

static double num(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsNumber(v) && isfinite(v->valuedouble) && v->valuedouble > 0 ? v->valuedouble
										: -1;
}

/* Fits rate(d) = peak (d / (d + h))^3 to the probe's square products, in
 * the least squares of the logarithms (the error is relative): h is
 * searched on a grid, peak follows from it. */
static int fit_gemm(const cJSON *g, double *peak, double *half)
{
	double d[16], r[16];
	int n = 0;
	for (const cJSON *it = g ? g->child : NULL; it && n < 16; it = it->next) {
		const cJSON *a = cJSON_GetArrayItem(it, 0), *b = cJSON_GetArrayItem(it, 1);
		if (!cJSON_IsNumber(a) || !cJSON_IsNumber(b) || a->valuedouble <= 0 ||
		    !(b->valuedouble > 0))
			return -1;
		d[n] = a->valuedouble;
		r[n++] = b->valuedouble;
	}
	if (n < 2)
		return -1;
	double best = INFINITY;
	for (double h = 0; h <= 1024; h += 0.5) {
		double mean = 0, err = 0;
		for (int i = 0; i < n; i++)
			mean += log(r[i]) - 3 * log(d[i] / (d[i] + h));
		mean /= n;
		for (int i = 0; i < n; i++) {
			double x = log(r[i]) - 3 * log(d[i] / (d[i] + h)) - mean;
			err += x * x;
		}
		if (err < best) {
			best = err;
			*peak = exp(mean);
			*half = h;
		}
	}
	return 0;
}

static void add_source(cJSON *src, const char *field, const char *text)
{
	cJSON_DeleteItemFromObjectCaseSensitive(src, field); /* a later source replaces */
	cJSON_AddStringToObject(src, field, text);
}

/* The probe's positive number under key into *out, with its source; 0
 * (and *out unchanged) when the probe did not measure it. */
static int take_measured(const cJSON *pr, const char *key, double *out, cJSON *src,
			 const char *field, const char *how)
{
	if (!pr || num(pr, key) <= 0)
		return 0;
	*out = num(pr, key);
	add_source(src, field, how);
	return 1;
}

/* A documented default or an unmeasured field, listed in the file. */
static void add_assumption(cJSON *as, const char *text)
{
	cJSON_AddItemToArray(as, cJSON_CreateString(text));
}

/* The CPU's name from /proc/cpuinfo, or "". */
static void cpu_model(char *buf, size_t len)
{
	buf[0] = '\0';
	FILE *f = fopen("/proc/cpuinfo", "r");
	char line[512];
	while (f && fgets(line, sizeof(line), f))
		if (strncmp(line, "model name", 10) == 0) {
			const char *v = strchr(line, ':');
			snprintf(buf, len, "%s", v ? v + 2 : "");
			buf[strcspn(buf, "\n")] = '\0';
			break;
		}
	if (f)
		fclose(f);
}

/* An outer cache found by its bandwidth: the copy's rate over growing
 * footprints (rows [bytes, GB/s]) stays on a plateau above DRAM's while
 * the footprint fits, then falls.  Its plateau is the best rate beyond
 * twice the known caches (inner, all instances); the cache is the largest
 * footprint still within 80% of the plateau, when the plateau is at least
 * 1.25 times DRAM and a larger footprint falls below it (on the edge,
 * the footprint below: too small a cache costs less than too large a
 * one).  Returns 1 with the cache (shared by all threads) and the rate
 * at half its size. */
static int outer_cache(const cJSON *rows, double inner, double dram, int64_t threads,
		       target_cache *c, double *rate)
{
	double b[16], g[16], plateau = 0, size = 0, largest = 0;
	int n = cJSON_IsArray(rows) ? cJSON_GetArraySize(rows) : 0;
	if (n < 3 || n > 16 || !(dram > 0))
		return 0;
	for (int i = 0; i < n; i++) {
		const cJSON *r = cJSON_GetArrayItem(rows, i);
		b[i] = cJSON_GetNumberValue(cJSON_GetArrayItem(r, 0));
		g[i] = cJSON_GetNumberValue(cJSON_GetArrayItem(r, 1));
		if (b[i] >= 2 * inner && g[i] > plateau)
			plateau = g[i];
		if (b[i] > largest)
			largest = b[i];
	}
	if (!(plateau >= 1.25 * dram))
		return 0;
	/* The plateau's own row qualifies: size > 0 from here. */
	for (int i = 0; i < n; i++)
		if (b[i] >= 2 * inner && g[i] >= 0.8 * plateau && b[i] > size)
			size = b[i];
	if (size >= largest) /* no fall seen: not a cache edge */
		return 0;
	*rate = plateau;
	for (int i = 0; i < n; i++)
		if (b[i] == size / 2 && g[i] > 0)
			*rate = g[i];
	*c = (target_cache){3, (int64_t)size, threads > 0 ? threads : 1};
	return 1;
}

/* Bytes of cache level c over all its instances on this machine's
 * online CPUs. */
static double cache_total(const target_cache *c)
{
	long on = sysconf(_SC_NPROCESSORS_ONLN);
	int64_t inst = on > c->shared_by ? (on + c->shared_by - 1) / c->shared_by : 1;
	return (double)c->bytes * (double)inst;
}

/* A reported outer cache that does not act as one: the copy over half
 * of it ran at less than 1.25 times DRAM's rate.  A virtual machine may
 * report its host's L3 (480 MiB seen, where the copy fell to DRAM's rate
 * beyond 64 MiB), or neighbours may hold most of it; planning for the
 * reported size fuses whole layers into "cached" groups that in fact
 * stream through DRAM.  The size the threads can use is then the edge on
 * the copy's curve (outer_cache, as for an unreported cache), or, with no
 * edge below the reported size, the level is dropped.  Either way a note
 * and the file's sources or assumptions say so. */
static void check_outer_cache(const cJSON *pr, target_cache *caches, int *nc, double dram,
			      target_cpu *cpu, char *buf, size_t buflen, const char **cache_src,
			      cJSON *src, cJSON *as, char *note, size_t notelen)
{
	target_cache *outer = &caches[*nc - 1];
	double inner = cache_total(&caches[*nc - 2]);
	char said[32], got[32];
	units_mib((double)outer->bytes, said, sizeof(said));
	target_cache found;
	double rate = 0;
	if (outer_cache(cJSON_GetObjectItemCaseSensitive(pr, "copy_gb_per_s"), inner, dram,
			cpu->threads, &found, &rate) &&
	    found.bytes < outer->bytes) {
		units_mib((double)found.bytes, got, sizeof(got));
		note_add(note, notelen,
			 "L%d: %s reported, but a copy over half of it ran at %.3g GB/s (DRAM %.3g); "
			 "%s used, where the copy's bandwidth falls",
			 (int)outer->level, said, cpu->cache_gb_per_s, dram, got);
		snprintf(buf, buflen,
			 "%.200s, except the size of L%d: %s reported, but a parallel copy over half of it "
			 "ran at %.3g GB/s, DRAM's rate; the largest footprint of 4 to 256 MiB where the "
			 "copy keeps 80%% of its in-cache rate",
			 *cache_src, (int)outer->level, said, cpu->cache_gb_per_s);
		*cache_src = buf;
		found.level = outer->level;
		*outer = found;
		cpu->cache_gb_per_s = rate;
		add_source(src, "cpu.cache_gb_per_s", "the parallel copy over half that size");
		return;
	}
	note_add(note, notelen,
		 "L%d: %s reported, but a copy over half of it ran at %.3g GB/s (DRAM %.3g) and "
		 "no smaller cache edge was seen; planning without it",
		 (int)outer->level, said, cpu->cache_gb_per_s, dram);
	char text[256];
	snprintf(text, sizeof(text),
		 "cpu.caches: the reported L%d (%s) dropped: a parallel copy over half of it ran at "
		 "%.3g GB/s, DRAM's rate",
		 (int)outer->level, said, cpu->cache_gb_per_s);
	add_assumption(as, text);
	cJSON_DeleteItemFromObjectCaseSensitive(src, "cpu.cache_gb_per_s");
	add_assumption(as, "cpu.cache_gb_per_s: not measured; the model does not charge the outermost cache's traffic");
	cpu->cache_gb_per_s = 0;
	(*nc)--;
}

cJSON *calibrate_measure(double seconds, char *note, size_t notelen, char *err, size_t errlen)
{
	char tmpl[CAL_PATH], why[1024] = "", e[512], model[256], desc[600];
	const char *tmp = getenv("TMPDIR");
	target_cpu cpu;
	target_cpu_defaults(&cpu);
	double dram = 10;
	note[0] = '\0';
	snprintf(tmpl, sizeof(tmpl), "%s/mambalaya-calibrate-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(tmpl)) {
		snprintf(err, errlen, "%s: cannot make a temporary directory", tmpl);
		return NULL;
	}
	/* The caches first: the probe measures the outermost one. */
	target_cache caches[TARGET_MAX_CACHES];
	const char *cache_src = "sysfs (/sys/devices/system/cpu/cpu0/cache)";
	char cache_buf[512], check_buf[512];
	int nc = read_caches(caches, TARGET_MAX_CACHES);
	if (nc == 0)
		nc = read_caches_cpuid(caches, TARGET_MAX_CACHES, &cache_src);
	double llc = nc > 0 ? cache_total(&caches[nc - 1]) : 0;
	/* No outer cache known beyond each core's (AMD's older CPUID
	 * leaves): the probe looks for one by its bandwidth. */
	int look = nc > 0 && caches[nc - 1].level < 3;
	/* The copy over growing footprints also checks a reported cache. */
	cJSON *pr = run_probe(tmpl, seconds, llc, nc > 0, why, sizeof(why));
	fs_remove_tree(tmpl, e, sizeof(e));
	cJSON *src = cJSON_CreateObject(), *as = cJSON_CreateArray();
	if (!src || !as) {
		cJSON_Delete(pr);
		cJSON_Delete(src);
		cJSON_Delete(as);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	long online = sysconf(_SC_NPROCESSORS_ONLN);
	cpu.threads = online > 0 ? online : 1;
	if (pr && num(pr, "threads") > 0) {
		cpu.threads = (int64_t)num(pr, "threads");
		add_source(src, "cpu.threads", "OpenMP's threads in the probe (OMP_NUM_THREADS)");
	}
	if (pr && num(pr, "simd_bytes") > 0) {
		cpu.simd_bytes = (int64_t)num(pr, "simd_bytes");
		add_source(src, "cpu.simd_bytes", "the vector width kernels are compiled for (-march=native)");
	}
	if (cpu.threads == 1)
		note_add(note, notelen, "one core: the model plans for one thread");
	double peak = 0, half = 0;
	if (pr && fit_gemm(cJSON_GetObjectItemCaseSensitive(pr, "gemm"), &peak, &half) == 0) {
		cpu.gemm_gflops = peak;
		cpu.gemm_half_dim = half;
		cpu.call_ns = 0;
		add_source(src, "cpu.gemm_gflops", "fitted to square products of 16 to 1024 (ml_sgemm)");
		add_source(src, "cpu.gemm_half_dim", "fitted to square products of 16 to 1024 (ml_sgemm)");
		add_source(src, "cpu.call_ns", "0: the fit's gemm_half_dim carries the cost of small calls");
	} else {
		note_add(note, notelen, "BLAS rates: defaults (%s)", pr ? "no usable products" : why);
		add_assumption(as, "cpu.gemm_gflops, gemm_half_dim, call_ns: documented defaults (not measured)");
	}
	/* The probe's grid, checked as a target file's is. */
	if (pr && target_read_gemm_grid(&cpu, cJSON_GetObjectItemCaseSensitive(pr, "gemm_grid"), e,
					sizeof(e)) == 0 && cpu.gemm_nsides >= 2)
		add_source(src, "cpu.gemm_grid",
			   "every product of the sides listed, timed as kernels run it: one ml_sgemm call "
			   "when it shares the product between the threads, else ml_sgemm1 on every "
			   "thread at once; all threads' flops");
	else if (pr)
		add_assumption(as, "cpu.gemm_grid: not measured; products priced by gemm_gflops and gemm_half_dim");
	if (!take_measured(pr, "dram_gb_per_s", &dram, src, "dram_gb_per_s",
			   "a parallel copy over 2 x 256 MiB")) {
		note_add(note, notelen, "DRAM bandwidth: default %g GB/s (%s)", dram, pr ? "not measured" : why);
		add_assumption(as, "dram_gb_per_s: documented default (not measured)");
	}
	if (!take_measured(pr, "thread_dram_gb_per_s", &cpu.thread_dram_gb_per_s, src,
			   "cpu.thread_dram_gb_per_s", "the same copy on one thread")) {
		cpu.thread_dram_gb_per_s = dram / (double)cpu.threads;
		note_add(note, notelen, "one thread's DRAM bandwidth: default (%s)",
			 pr ? "not measured" : why);
		add_assumption(as, "cpu.thread_dram_gb_per_s: documented default (dram_gb_per_s / threads)");
	}
	if (!take_measured(pr, "dram_write_gb_per_s", &cpu.dram_write_gb_per_s, src,
			   "cpu.dram_write_gb_per_s", "writing 256 MiB alone, all threads")) {
		note_add(note, notelen, "DRAM write bandwidth: not measured (%s)", pr ? "no result" : why);
		add_assumption(as, "cpu.dram_write_gb_per_s: not measured; writes stream at dram_gb_per_s");
	}
	if (!take_measured(pr, "cache_gb_per_s", &cpu.cache_gb_per_s, src, "cpu.cache_gb_per_s",
			   "the same parallel copy over half the outermost cache")) {
		note_add(note, notelen, "cache bandwidth: not measured (%s)",
			 !pr ? why : nc > 0 ? "no result" : "no cache data in sysfs or CPUID");
		add_assumption(as, "cpu.cache_gb_per_s: not measured; the model does not charge the outermost cache's traffic");
	}
	if (!take_measured(pr, "fork_ns", &cpu.fork_ns, src, "cpu.fork_ns",
			   "empty parallel loops, one iteration per thread") &&
	    cpu.threads > 1) {
		note_add(note, notelen, "parallel region cost: not measured (%s)",
			 pr ? "no result" : why);
		add_assumption(as, "cpu.fork_ns: not measured; the model does not charge starting the threads");
	}
	const cJSON *rates = pr ? cJSON_GetObjectItemCaseSensitive(pr, "gelem_per_s") : NULL;
	int nrates = 0;
	for (int op = 0; op < TARGET_NOPS && rates; op++) {
		double r = num(rates, target_op_name(op));
		if (r > 0) {
			cpu.op_gelem[op] = r;
			nrates++;
		}
	}
	if (nrates == TARGET_NOPS) {
		add_source(src, "cpu.gelem_per_s", "elementwise loops over cached arrays, all threads");
	} else {
		note_add(note, notelen, "elementwise rates: defaults (%s)", pr ? "not all measured" : why);
		add_assumption(as, "cpu.gelem_per_s: documented defaults for what was not measured");
	}
	if (!take_measured(pr, "register_gelem_per_s", &cpu.register_gelem, src,
			   "cpu.register_gelem_per_s",
			   "loops of four chains of 5 and of 3 multiply-adds per element, all threads")) {
		note_add(note, notelen, "register rate: not measured (%s)", pr ? "no result" : why);
		add_assumption(as, "cpu.register_gelem_per_s: not measured; each operation is priced at its whole loop's rate");
	}
	if (!take_measured(pr, "strided_gelem_per_s", &cpu.strided_gelem, src,
			   "cpu.strided_gelem_per_s",
			   "four 1024 x 1536 matrices walked down their columns, all threads")) {
		note_add(note, notelen, "strided access rate: default (%s)", pr ? "not measured" : why);
		add_assumption(as, "cpu.strided_gelem_per_s: documented default (not measured)");
	}
	if (!look && pr && nc >= 2 && cpu.cache_gb_per_s > 0 && cpu.cache_gb_per_s < 1.25 * dram)
		check_outer_cache(pr, caches, &nc, dram, &cpu, check_buf, sizeof(check_buf), &cache_src,
				  src, as, note, notelen);
	if (look && pr && nc < TARGET_MAX_CACHES &&
	    outer_cache(cJSON_GetObjectItemCaseSensitive(pr, "copy_gb_per_s"), llc, dram,
			cpu.threads, &caches[nc], &cpu.cache_gb_per_s)) {
		nc++;
		snprintf(cache_buf, sizeof(cache_buf),
			 "%.200s; L3: the largest footprint of 4 to 256 MiB where a parallel copy keeps 80%% of its in-cache rate, shared by all threads",
			 cache_src);
		cache_src = cache_buf;
		add_source(src, "cpu.cache_gb_per_s", "the parallel copy over half that L3");
	} else if (look && pr) {
		add_assumption(as, "cpu.caches: no L3 (the copy over footprints of 4 to 256 MiB showed no cache edge)");
	}
	if (nc > 0) {
		cpu.ncaches = nc;
		memcpy(cpu.caches, caches, sizeof(caches[0]) * (size_t)nc);
		add_source(src, "cpu.caches", cache_src);
	} else {
		note_add(note, notelen, "caches: defaults (no cache data in sysfs or CPUID)");
		add_assumption(as, "cpu.caches: documented defaults (no cache data in sysfs or CPUID)");
	}
	cJSON_Delete(pr);
	/* The JSON in the form the loader reads (target_to_json); the
	 * loader checks the file as any other when --arch reads it. */
	target t = {0};
	cpu_model(model, sizeof(model));
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	char day[32];
	strftime(day, sizeof(day), "%Y-%m-%d", &tm);
	snprintf(desc, sizeof(desc), "this machine (%s, %lld threads), calibrated %s",
		 *model ? model : "unknown CPU", (long long)cpu.threads, day);
	t.name = (char *)TARGET_HOST;
	t.description = desc;
	t.kind = TARGET_CPU;
	t.cpu = cpu;
	t.dram_gb_per_s = dram;
	cJSON *full = target_to_json(&t);
	if (!full) {
		cJSON_Delete(src);
		cJSON_Delete(as);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	/* buffer_bytes follows from the caches when the file is read. */
	cJSON_DeleteItemFromObjectCaseSensitive(full, "buffer_bytes");
	char fp[64];
	runtime_fingerprint(fp, sizeof(fp));
	cJSON_AddStringToObject(full, "runtime", fp);
	cJSON_ReplaceItemInObjectCaseSensitive(full, "sources", src);
	cJSON_ReplaceItemInObjectCaseSensitive(full, "assumptions", as);
	return full;
}

int calibrate_cache_path(char *buf, size_t len)
{
	const char *v = getenv("MAMBALAYA_HOST_TARGET");
	int n;
	if (v && *v)
		n = snprintf(buf, len, "%s", v);
	else if ((v = getenv("XDG_CACHE_HOME")) && *v)
		n = snprintf(buf, len, "%s/mambalaya/host.json", v);
	else if ((v = getenv("HOME")) && *v)
		n = snprintf(buf, len, "%s/.cache/mambalaya/host.json", v);
	else
		return -1;
	return n > 0 && (size_t)n < len ? 0 : -1;
}

/* Measures this machine and writes the result to path (its directory
 * made).  0, or -1 with a message in e. */
static int measure_into(const char *path, char *e, size_t elen)
{
	char note[1024], dir[CAL_PATH];
	cJSON *j = calibrate_measure(2.0, note, sizeof(note), e, elen);
	char *text = j ? cJSON_Print(j) : NULL;
	snprintf(dir, sizeof(dir), "%s", path);
	char *slash = strrchr(dir, '/');
	if (slash)
		*slash = '\0';
	int rc = text ? 0 : -1;
	if (!text && j)
		snprintf(e, elen, "out of memory");
	else if (text && ((slash && fs_mkdirs(dir, e, elen) < 0) ||
			  fs_write_file(path, text, strlen(text), e, elen) < 0))
		rc = -1;
	free(text);
	cJSON_Delete(j);
	return rc;
}

target *calibrate_host(int *measured, char *err, size_t errlen)
{
	char path[CAL_PATH], e[1024], fp[64];
	struct stat st;
	*measured = 0;
	if (calibrate_cache_path(path, sizeof(path)) < 0) {
		snprintf(err, errlen, "--arch host: no place for the calibration (set HOME, "
				      "XDG_CACHE_HOME or MAMBALAYA_HOST_TARGET)");
		return NULL;
	}
	runtime_fingerprint(fp, sizeof(fp));
	target *t = NULL;
	for (int pass = 0; pass < 2; pass++) {
		if (pass == 1 || stat(path, &st) != 0) {
			if (measure_into(path, e, sizeof(e)) < 0) {
				snprintf(err, errlen, "calibrating this machine: %s", e);
				return NULL;
			}
			*measured = pass == 1 ? CALIBRATE_STALE : CALIBRATE_NEW;
		}
		t = target_load_file(path, e, sizeof(e));
		if (!t) {
			int line, col, off = 0;
			if (sscanf(e, "%d:%d: %n", &line, &col, &off) == 2 && off > 0)
				snprintf(err, errlen, "%s:%d:%d: error: %s", path, line, col,
					 e + off);
			else
				snprintf(err, errlen, "%s: error: %s (run `mambalaya calibrate -o %s` "
						      "to measure again)", path, e, path);
			return NULL;
		}
		if (t->kind != TARGET_CPU) {
			snprintf(err, errlen,
				 "%s: error: field \"kind\": expected \"cpu\" for --arch host", path);
			target_free(t);
			return NULL;
		}
		/* Rates measured with another runtime are stale: measure
		 * again, once.  A file without the field (written by hand)
		 * is used as it is. */
		if (pass == 1 || !t->runtime || strcmp(t->runtime, fp) == 0)
			break;
		target_free(t);
		t = NULL;
	}
	return t;
}
