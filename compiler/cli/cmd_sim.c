/* cmd_sim.c - `mambalaya sim`: runs an accelerator stream (.mlb) on .npy
 * data with the simulator (runtime/sim.h) and reports its timing. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "base/fsio.h"
#include "base/units.h"
#include "cleanup.h"
#include "cli.h"
#include "progress.h"
#include "isa/mlb.h"
#include "ml_npy.h"
#include "sim/sim.h"

static void usage(void)
{
	printf("Usage: mambalaya sim FILE.mlb --in DIR --out DIR [--trace FILE] [--json]\n"
	       "\n"
	       "Runs an accelerator stream (written by `mambalaya compile --emit stream`)\n"
	       "on real float32 data: every input and weight is read from DIR/NAME.npy\n"
	       "(exactly the tensor's shape), every output written to OUTDIR/NAME.npy.\n"
	       "Reports the target's timing model: cycles per unit, DRAM traffic, buffer\n"
	       "occupancy, utilisations (docs/isa.md).\n"
	       "\n"
	       "Options:\n"
	       "  --in DIR          input and weight .npy files\n"
	       "  --out DIR         where the outputs go (created if missing)\n"
	       "  --trace FILE      write a Chrome/Perfetto trace (one track per unit)\n"
	       "  --json            print the summary as JSON (top level: cycles,\n"
	       "                    dram_bytes, units, groups, ...)\n"
	       "  --max-steps N     stop after N executed instructions (default 2^31)\n"
	       "  --max-trip N      largest trip count of one loop (default 2^32)\n"
	       "  --max-work N      largest number of box points over the run (default 2^38)\n"
	       "  --quiet           no progress line (shown only on a terminal, when the\n"
	       "                    run takes more than a second)\n"
	       "  -h, --help        show this help\n"
	       "\n"
	       "A malformed stream is rejected with the byte offset of the problem; a\n"
	       "fault while running (an address outside the buffer, a runaway loop)\n"
	       "names the instruction by its index.  Exit status: 0 success, 1 a bad\n"
	       "stream, bad data or a fault, 2 bad command line, 3 internal error.\n");
}

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int load_inputs(const mlb_module *m, sim *s, const char *dir)
{
	int bad = 0;
	for (int i = 0; i < m->ntensors; i++) {
		const mlb_tensor *t = &m->tensors[i];
		if (t->role != MLB_ROLE_INPUT && t->role != MLB_ROLE_WEIGHT)
			continue;
		char path[4096], err[256], a[256], b[256];
		float *data = NULL;
		int nd = 0;
		int64_t shape[NPY_MAX_DIMS];
		snprintf(path, sizeof(path), "%s/%s.npy", dir, t->name);
		if (npy_read_f32(path, &data, &nd, shape, err, sizeof(err)) < 0) {
			fprintf(stderr, "%s: error: %s\n", path, err);
			bad = 1;
			continue;
		}
		int same = nd == t->ndims;
		int64_t n = 1;
		for (int k = 0; same && k < nd; k++) {
			same = shape[k] == t->shape[k];
			n *= shape[k];
		}
		if (!same) {
			npy_shape_str(t->ndims, t->shape, a, sizeof(a));
			npy_shape_str(nd, shape, b, sizeof(b));
			fprintf(stderr, "%s: error: %s has shape %s, expected %s\n", path, t->name, b, a);
			bad = 1;
		} else {
			memcpy(sim_tensor(s, i), data, (size_t)n * sizeof(float));
		}
		free(data);
	}
	return bad ? -1 : 0;
}

/* The trace and the outputs must not be the input files (nor each other):
 * refused before anything is written.  Returns 0 or -1 after printing
 * why. */
static int refuse_overlaps(const mlb_module *m, const char *file, const char *in,
			   const char *out, const char *trace)
{
	for (int i = 0; i < m->ntensors; i++) {
		const mlb_tensor *t = &m->tensors[i];
		char pin[4096], pout[4096];
		snprintf(pin, sizeof(pin), "%s/%s.npy", in, t->name);
		snprintf(pout, sizeof(pout), "%s/%s.npy", out, t->name);
		const char *src[] = {pin};
		int read = t->role == MLB_ROLE_INPUT || t->role == MLB_ROLE_WEIGHT;
		if (read && cli_refuse_input("sim", trace, src, 1))
			return -1;
		for (int k = 0; k < m->ntensors && t->role == MLB_ROLE_OUTPUT; k++) {
			if (m->tensors[k].role != MLB_ROLE_INPUT && m->tensors[k].role != MLB_ROLE_WEIGHT)
				continue;
			snprintf(pin, sizeof(pin), "%s/%s.npy", in, m->tensors[k].name);
			if (cli_refuse_input("sim", pout, src, 1))
				return -1;
		}
		const char *other[] = {trace, file};
		if (t->role == MLB_ROLE_OUTPUT && cli_refuse_input("sim", pout, other, 2))
			return -1;
	}
	return 0;
}

static int write_outputs(const mlb_module *m, sim *s, const char *dir, int *count)
{
	char err[512];
	*count = 0;
	if (fs_mkdirs(dir, err, sizeof(err)) < 0) {
		fprintf(stderr, "mambalaya sim: error: %s\n", err);
		return -1;
	}
	for (int i = 0; i < m->ntensors; i++) {
		const mlb_tensor *t = &m->tensors[i];
		if (t->role != MLB_ROLE_OUTPUT)
			continue;
		char path[4096];
		snprintf(path, sizeof(path), "%s/%s.npy", dir, t->name);
		if (npy_write_f32(path, sim_tensor(s, i), t->ndims, t->shape, err, sizeof(err)) < 0) {
			fprintf(stderr, "%s: error: %s\n", path, err);
			return -1;
		}
		(*count)++;
	}
	return 0;
}

static void print_json(const mlb_module *m, const sim_stats *st, double host)
{
	cJSON *j = sim_stats_to_json(m, st, host);
	char *txt = j ? cJSON_Print(j) : NULL;
	if (txt)
		printf("%s\n", txt);
	free(txt);
	cJSON_Delete(j);
}

static void print_text(const char *file, const mlb_module *m, const sim_stats *st, double host)
{
	double cyc = st->cycles > 0 ? st->cycles : 1;
	printf("sim: %s on %s: %.6g cycles (%.4g us), DRAM %.6g bytes (read %.6g, written %.6g)\n",
	       file, m->target.name, st->cycles, st->seconds * 1e6, st->dram_bytes,
	       st->dram_read_bytes, st->dram_write_bytes);
	printf("  tile schedule (the trace): %.6g cycles\n", st->scheduled_cycles);
	printf("  DMA busy %.6g cycles (%.1f%%); 2D array %.6g cycles (utilisation %.1f%%); "
	       "1D array %.6g cycles (utilisation %.1f%%)\n",
	       st->dma_cycles, 100 * st->dma_cycles / cyc, st->cycles_2d, 100 * st->util_2d,
	       st->cycles_1d, 100 * st->util_1d);
	printf("  %" PRId64 " mode switch%s (%.6g cycles); peak buffer %" PRId64 " of %" PRId64
	       " bytes\n",
	       st->switches, st->switches == 1 ? "" : "es", st->switch_cycles,
	       st->peak_buffer_bytes, m->target.buffer_bytes);
	printf("  %" PRId64 " instructions executed (%" PRId64 " box operations, %d in the "
	       "program), %" PRId64 " tiles; simulated in %.3f s\n",
	       st->instructions, st->box_ops, m->ninsns, st->tiles, host);
	if (st->trace_dropped)
		printf("  trace: %" PRId64 " events written, %" PRId64 " dropped (limit)\n",
		       st->trace_events, st->trace_dropped);
}

static int parse_count(const char *opt, const char *v, int64_t *out)
{
	if (units_parse_size(v, out) < 0 || *out < 1) {
		cli_usage_error("sim", "%s: bad value '%s'", opt, v);
		return -1;
	}
	return 0;
}

int cmd_sim(int argc, char **argv)
{
	const char *file = NULL, *in = NULL, *out = NULL, *trace = NULL;
	const char *steps_s = NULL, *trip_s = NULL, *work_s = NULL;
	int json = 0, quiet = 0;
	for (int i = 1; i < argc;) {
		int r = cli_take_value("sim", "--in", argc, argv, &i, &in);
		if (!r)
			r = cli_take_value("sim", "--out", argc, argv, &i, &out);
		if (!r)
			r = cli_take_value("sim", "--trace", argc, argv, &i, &trace);
		if (!r)
			r = cli_take_value("sim", "--max-steps", argc, argv, &i, &steps_s);
		if (!r)
			r = cli_take_value("sim", "--max-trip", argc, argv, &i, &trip_s);
		if (!r)
			r = cli_take_value("sim", "--max-work", argc, argv, &i, &work_s);
		if (r < 0)
			return CLI_EXIT_USAGE;
		if (r)
			continue;
		const char *a = argv[i];
		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			usage();
			return CLI_EXIT_OK;
		} else if (strcmp(a, "--json") == 0) {
			json = 1;
		} else if (strcmp(a, "--quiet") == 0) {
			quiet = 1;
		} else if (a[0] == '-' && a[1]) {
			cli_usage_error("sim", "unknown option '%s'", a);
			return CLI_EXIT_USAGE;
		} else if (file) {
			cli_usage_error("sim", "only one FILE may be given");
			return CLI_EXIT_USAGE;
		} else {
			file = a;
		}
		i++;
	}
	if (!file || !in || !out) {
		cli_usage_error("sim", "FILE, --in DIR and --out DIR are required");
		return CLI_EXIT_USAGE;
	}
	sim_options o;
	memset(&o, 0, sizeof(o));
	if ((steps_s && parse_count("--max-steps", steps_s, &o.max_steps) < 0) ||
	    (trip_s && parse_count("--max-trip", trip_s, &o.max_trip) < 0) ||
	    (work_s && parse_count("--max-work", work_s, &o.max_work) < 0))
		return CLI_EXIT_USAGE;
	char err[1024];
	mlb_module *m = NULL;
	sim *s = NULL;
	fs_out tf = {0};
	int slot = -1;
	sim_stats st;
	memset(&st, 0, sizeof(st));
	cli_progress pr;
	memset(&pr, 0, sizeof(pr));
	int status = CLI_EXIT_USER;
	const char *inputs[] = {file};
	if (cli_refuse_input("sim", trace, inputs, 1))
		return CLI_EXIT_USER;
	if (mlb_read_file(file, &m, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s: error: %s\n", file, err);
		goto done;
	}
	if (refuse_overlaps(m, file, in, out, trace) < 0)
		goto done;
	if (trace) {
		/* Written to a temporary, renamed once the run succeeds: a
		 * failed or killed run leaves no truncated trace. */
		cli_cleanup_install();
		if (fs_out_open(&tf, trace, err, sizeof(err)) < 0) {
			fprintf(stderr, "mambalaya sim: error: %s\n", err);
			goto done;
		}
		slot = cli_cleanup_add(tf.tmp, 0);
		o.trace = tf.f;
	}
	cli_progress_start(&pr, "sim", "groups", quiet);
	o.progress = cli_progress_cb;
	o.progress_ctx = &pr;
	s = sim_new(m, &o, err, sizeof(err));
	if (!s) {
		fprintf(stderr, "%s: error: %s\n", file, err);
		goto done;
	}
	if (load_inputs(m, s, in) < 0)
		goto done;
	double t0 = now();
	int r = sim_run(s, &st, err, sizeof(err));
	double host = now() - t0;
	cli_progress_end(&pr);
	if (r < 0) {
		fprintf(stderr, "%s: error: %s\n", file, err);
		goto done;
	}
	int nout = 0;
	if (write_outputs(m, s, out, &nout) < 0)
		goto done;
	if (json)
		print_json(m, &st, host);
	else {
		print_text(file, m, &st, host);
		printf("  wrote %d output%s to %s\n", nout, nout == 1 ? "" : "s", out);
	}
	status = CLI_EXIT_OK;
done:
	cli_progress_end(&pr);
	if (tf.f) {
		if (status == CLI_EXIT_OK && fs_out_commit(&tf, err, sizeof(err)) < 0) {
			fprintf(stderr, "mambalaya sim: error: %s\n", err);
			status = CLI_EXIT_USER;
		}
		fs_out_abort(&tf);
	}
	cli_cleanup_forget(slot);
	sim_stats_clear(&st);
	sim_free(s);
	mlb_free(m);
	return status;
}
