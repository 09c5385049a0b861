/* simagree.c - compare the simulator's timing with the mapper's plan.
 *
 *   simagree SIM.json PLAN.json [--tol T] [--bytes-only]
 *
 * SIM.json is `mambalaya sim --json`, PLAN.json `mambalaya plan --json` for
 * the same cascade, sizes, policy and target.  The plan's cycles are taken
 * from total.latency_seconds (six significant digits) times the clock,
 * because total.cycles is rounded to an integer, which is more than 5% of
 * the smallest examples.  When both have "levels" (the memory hierarchy),
 * the bytes each level moves (read and written) are compared too.  Prints
 * one line per quantity; exits 1 when the cycles, the DRAM bytes or a
 * level's bytes differ by more than T (default 0.05) relative to the plan,
 * 2 on a usage or file error.  --bytes-only prints the cycles but does not
 * fail on them (the transformer's causal triangles, docs/isa.md section 8).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

static cJSON *load(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		fprintf(stderr, "simagree: cannot open %s\n", path);
		return NULL;
	}
	char *buf = NULL;
	size_t n = 0, cap = 0;
	for (;;) {
		if (n == cap) {
			cap = cap ? cap * 2 : 65536;
			char *nb = realloc(buf, cap + 1);
			if (!nb) {
				free(buf);
				fclose(f);
				return NULL;
			}
			buf = nb;
		}
		size_t r = fread(buf + n, 1, cap - n, f);
		if (!r)
			break;
		n += r;
	}
	fclose(f);
	buf[n] = '\0';
	cJSON *j = cJSON_Parse(buf);
	free(buf);
	if (!j)
		fprintf(stderr, "simagree: %s is not valid JSON\n", path);
	return j;
}

static int num(const cJSON *o, const char *a, const char *b, double *out)
{
	const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, a);
	if (b)
		x = cJSON_GetObjectItemCaseSensitive(x, b);
	if (!cJSON_IsNumber(x))
		return -1;
	*out = x->valuedouble;
	return 0;
}

static int check(const char *what, double sim, double plan, double tol)
{
	double rel = plan != 0 ? (sim - plan) / plan : (sim == 0 ? 0 : INFINITY);
	int ok = fabs(rel) <= tol;
	printf("%-10s sim %14.6g  plan %14.6g  (%+.2f%%)  %s\n", what, sim, plan, 100 * rel,
	       ok ? "ok" : "FAIL");
	return ok ? 0 : 1;
}

int main(int argc, char **argv)
{
	double tol = 0.05;
	int bytes_only = 0;
	for (int i = 3; i < argc; i++) {
		if (strcmp(argv[i], "--tol") == 0 && i + 1 < argc)
			tol = strtod(argv[++i], NULL);
		else if (strcmp(argv[i], "--bytes-only") == 0)
			bytes_only = 1;
		else
			argc = 0;
	}
	if (argc < 3) {
		fprintf(stderr, "usage: simagree SIM.json PLAN.json [--tol T] [--bytes-only]\n");
		return 2;
	}
	cJSON *s = load(argv[1]), *p = load(argv[2]);
	double sc, sb, clock, lat, pb, pc;
	int rc = 2;
	if (!s || !p || num(s, "cycles", NULL, &sc) < 0 || num(s, "dram_bytes", NULL, &sb) < 0 ||
	    num(s, "clock_ghz", NULL, &clock) < 0 || num(p, "total", "latency_seconds", &lat) < 0 ||
	    num(p, "total", "dram_bytes", &pb) < 0 || num(p, "total", "cycles", &pc) < 0) {
		fprintf(stderr, "simagree: a field is missing (cycles, dram_bytes, clock_ghz; "
				"total.latency_seconds, total.dram_bytes, total.cycles)\n");
		goto done;
	}
	double plan_cycles = lat * clock * 1e9;
	printf("plan total.cycles %.0f (rounded), from latency_seconds %.6g\n", pc, plan_cycles);
	rc = check("cycles", sc, plan_cycles, tol);
	if (bytes_only)
		rc = 0;
	rc |= check("dram_bytes", sb, pb, tol);
	const cJSON *sl = cJSON_GetObjectItemCaseSensitive(s, "levels");
	const cJSON *pl = cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(p, "total"), "levels");
	if (cJSON_GetArraySize(sl) != cJSON_GetArraySize(pl)) {
		printf("levels: sim has %d, plan %d  FAIL\n", cJSON_GetArraySize(sl),
		       cJSON_GetArraySize(pl));
		rc |= 1;
	}
	for (int l = 0; l < cJSON_GetArraySize(sl) && l < cJSON_GetArraySize(pl); l++) {
		const cJSON *a = cJSON_GetArrayItem(sl, l), *b = cJSON_GetArrayItem(pl, l);
		double ar, aw, br, bw;
		if (num(a, "read_bytes", NULL, &ar) < 0 || num(a, "write_bytes", NULL, &aw) < 0 ||
		    num(b, "read_bytes", NULL, &br) < 0 || num(b, "write_bytes", NULL, &bw) < 0) {
			fprintf(stderr, "simagree: level %d lacks read_bytes or write_bytes\n", l);
			rc = 2;
			goto done;
		}
		char what[32];
		snprintf(what, sizeof(what), "level %d", l);
		rc |= check(what, ar + aw, br + bw, tol);
	}
done:
	cJSON_Delete(s);
	cJSON_Delete(p);
	return rc;
}
