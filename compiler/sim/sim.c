/* sim.c - the Mambalaya simulator (see sim.h and docs/isa.md). */
#include "sim.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#define CHUNK 512 /* elements a kernel evaluates per micro-op at a time */

/* One timed instruction of the current tile, for the trace. */
typedef struct rec {
	int insn;
	int track; /* 0 DMA, 1 2D array, 2 1D array */
	double dur;
	int sw; /* a mode switch precedes it */
} rec;

typedef struct recs {
	rec *v;
	int n, cap;
} recs;

/* Timing state of the group being run (times in cycles from the start). */
typedef struct timing {
	int in_group, group;
	double g0;	   /* the group's start */
	double end;	   /* the end of the last group */
	double dma_free;   /* the DMA engine is free from */
	double comp1, comp2; /* compute of tiles k-1 and k-2 ends */
	double L, S, C, C2, C1; /* the current tile: loads, stores, compute */
	int has;	   /* the current tile did something */
	int computed;	   /* ... on the array: a TILE before that keeps it open */
	double pS;	   /* stores of the previous tile, still to run */
	int mode;	   /* array mode: -1 none, 0 1D, 1 2D */
	recs ld, comp, st, pst;
	double g_dram, g_dma, g_2d, g_1d, g_sw;
	double g_rd[MLB_MAX_LEVELS], g_wr[MLB_MAX_LEVELS]; /* bytes per level (0: DMA) */
	double g_ov; /* per-tile overheads */
	int64_t g_tiles;
} timing;

struct sim {
	const mlb_module *m;
	sim_options o;
	float *dram;
	float *gb;
	int64_t ngb;
	int64_t r[MLB_NREGS];
	int64_t alloc;
	int64_t steps, work;
	double *tmp;
	size_t tmp_cap;
	float *mv;
	size_t mv_cap;
	timing t;
	sim_stats *st;
	int pc;
	int trace_first;
	char *err;
	size_t errlen;
	int failed;
};

static void __attribute__((format(printf, 2, 3))) fault(sim *s, const char *fmt, ...)
{
	if (s->failed)
		return;
	s->failed = 1;
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	const mlb_insn *in = &s->m->insns[s->pc];
	if (in->op >= MLB_LOAD && in->op <= MLB_FILL)
		snprintf(s->err, s->errlen, "instruction %d (%s d%u): %s", s->pc,
			 mlb_opcode_name(in->op), in->x, msg);
	else
		snprintf(s->err, s->errlen, "instruction %d (%s): %s", s->pc,
			 mlb_opcode_name(in->op), msg);
}

sim *sim_new(const mlb_module *m, const sim_options *o, char *err, size_t errlen)
{
	sim *s = calloc(1, sizeof(*s));
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->m = m;
	if (o)
		s->o = *o;
	if (s->o.max_steps <= 0)
		s->o.max_steps = (int64_t)1 << 31;
	if (s->o.max_trip <= 0)
		s->o.max_trip = (int64_t)1 << 32;
	if (s->o.max_work <= 0)
		s->o.max_work = (int64_t)1 << 38;
	if (s->o.max_dram <= 0)
		s->o.max_dram = (int64_t)1 << 32;
	if (s->o.max_events <= 0)
		s->o.max_events = (int64_t)1 << 20;
	if (s->o.max_buffer <= 0)
		s->o.max_buffer = (int64_t)1 << 30;
	if (m->dram_values > s->o.max_dram) {
		snprintf(err, errlen, "the stream's DRAM holds %lld values; the simulator's limit is "
				      "%lld", (long long)m->dram_values, (long long)s->o.max_dram);
		free(s);
		return NULL;
	}
	s->ngb = m->target.buffer_bytes / m->target.bytes_per_value;
	if (s->ngb > s->o.max_buffer) {
		snprintf(err, errlen, "the target's buffer holds %lld values; the simulator's limit is "
				      "%lld", (long long)s->ngb, (long long)s->o.max_buffer);
		free(s);
		return NULL;
	}
	s->dram = calloc((size_t)(m->dram_values ? m->dram_values : 1), sizeof(float));
	s->gb = calloc((size_t)(s->ngb ? s->ngb : 1), sizeof(float));
	if (!s->dram || !s->gb) {
		snprintf(err, errlen, "out of memory for %lld DRAM values and a %lld-value buffer",
			 (long long)m->dram_values, (long long)s->ngb);
		sim_free(s);
		return NULL;
	}
	return s;
}

void sim_free(sim *s)
{
	if (!s)
		return;
	free(s->dram);
	free(s->gb);
	free(s->tmp);
	free(s->mv);
	free(s->t.ld.v);
	free(s->t.comp.v);
	free(s->t.st.v);
	free(s->t.pst.v);
	free(s);
}

float *sim_tensor(sim *s, int t)
{
	if (t < 0 || t >= s->m->ntensors || s->m->tensors[t].dram < 0)
		return NULL;
	return s->dram + s->m->tensors[t].dram;
}

void sim_stats_clear(sim_stats *st)
{
	free(st->groups);
	memset(st, 0, sizeof(*st));
}

/* -------------------------------------------------------------- trace */

static double cyc_us(const sim *s, double c)
{
	return c / (s->m->target.clock_ghz * 1e3);
}

/* May one more event be written?  Past max_events, events are counted as
 * dropped instead. */
static int trace_take(sim *s)
{
	if (s->st->trace_events >= s->o.max_events) {
		s->st->trace_dropped++;
		return 0;
	}
	s->st->trace_events++;
	return 1;
}

static void trace_event(sim *s, const char *name, const char *extra, int tid, double start,
			double dur, int insn)
{
	FILE *f = s->o.trace;
	if (!f || dur <= 0 || !trace_take(s))
		return;
	fprintf(f, ",\n{\"name\":\"%s%s\",\"ph\":\"X\",\"pid\":1,\"tid\":%d,\"ts\":%.6f,"
		   "\"dur\":%.6f",
		name, extra ? extra : "", tid, cyc_us(s, start), cyc_us(s, dur));
	if (insn >= 0)
		fprintf(f, ",\"args\":{\"insn\":%d}", insn);
	fputc('}', f);
}

/* The buffer allocation as a counter track ("buffer"): a group holds its
 * allocation from its start to its end. */
static void trace_buffer(sim *s, double at, int64_t values)
{
	FILE *f = s->o.trace;
	if (!f || !trace_take(s))
		return;
	fprintf(f, ",\n{\"name\":\"buffer\",\"ph\":\"C\",\"pid\":1,\"ts\":%.6f,"
		   "\"args\":{\"bytes\":%lld}}",
		cyc_us(s, at), (long long)(values * s->m->target.bytes_per_value));
}

static const char *const track_names[] = {"DMA", "2D array", "1D array", "groups"};

static void trace_begin(sim *s)
{
	FILE *f = s->o.trace;
	if (!f)
		return;
	fprintf(f, "{\"displayTimeUnit\":\"ns\",\"otherData\":{\"module\":\"%s\",\"target\":\"%s\","
		   "\"clock_ghz\":%.17g},\n\"traceEvents\":[\n"
		   "{\"name\":\"process_name\",\"ph\":\"M\",\"pid\":1,\"args\":{\"name\":\"%s on %s\"}}",
		s->m->name, s->m->target.name, s->m->target.clock_ghz, s->m->name,
		s->m->target.name);
	for (int i = 0; i < 4; i++)
		fprintf(f, ",\n{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":1,\"tid\":%d,"
			   "\"args\":{\"name\":\"%s\"}}",
			i, track_names[i]);
}

static void trace_end(sim *s)
{
	if (s->o.trace)
		fprintf(s->o.trace, "\n]}\n");
}

static const char *insn_label(const sim *s, int insn, char *buf, size_t len)
{
	const mlb_insn *in = &s->m->insns[insn];
	const mlb_desc *d = &s->m->descs[in->x];
	if (d->kind == MLB_D_DMA)
		snprintf(buf, len, "%s %s", mlb_opcode_name(in->op), s->m->tensors[d->tensor].name);
	else
		snprintf(buf, len, "%s d%u", mlb_opcode_name(in->op), in->x);
	return buf;
}

static void trace_recs(sim *s, const recs *r, double start, int concurrent_split)
{
	if (!s->o.trace)
		return;
	double at[3] = {start, start, start};
	char buf[MLB_MAX_NAME + 32];
	for (int i = 0; i < r->n; i++) {
		const rec *e = &r->v[i];
		int lane = concurrent_split ? e->track : 0;
		if (e->sw)
			trace_event(s, e->track == 1 ? "mode switch to 2D" : "mode switch to 1D", NULL,
				    e->track, at[lane], e->dur, e->insn);
		else
			trace_event(s, insn_label(s, e->insn, buf, sizeof(buf)), NULL, e->track,
				    at[lane], e->dur, e->insn);
		at[lane] += e->dur;
	}
}

static void push(sim *s, recs *r, int insn, int track, double dur, int sw)
{
	if (!s->o.trace)
		return;
	if (r->n == r->cap) {
		int nc = r->cap ? r->cap * 2 : 64;
		rec *v = realloc(r->v, (size_t)nc * sizeof(rec));
		if (!v) {
			fault(s, "out of memory for the trace");
			return;
		}
		r->v = v;
		r->cap = nc;
	}
	rec e = {insn, track, dur, sw};
	r->v[r->n++] = e;
}

/* ------------------------------------------------------------- timing */

/* Schedules the current tile (docs/isa.md, "Timing"): its loads as soon
 * as the DMA engine and a buffer slot are free, the previous tile's stores
 * after them, its compute after its loads and the previous compute. */
static void finish_tile(sim *s, int final)
{
	timing *t = &s->t;
	if (!t->has)
		return;
	if (!t->computed && !final)
		return; /* loads for the tile to come */
	double comp = s->m->target.concurrent ? (t->C2 > t->C1 ? t->C2 : t->C1) : t->C;
	double free_slot = s->m->target.double_buffer ? t->comp2 : t->comp1;
	double ls = t->dma_free > free_slot ? t->dma_free : free_slot;
	trace_recs(s, &t->ld, ls, 0);
	double le = ls + t->L;
	t->dma_free = le;
	if (t->pst.n || t->pS > 0) {
		double ss = t->dma_free > t->comp1 ? t->dma_free : t->comp1;
		trace_recs(s, &t->pst, ss, 0);
		t->dma_free = ss + t->pS;
	}
	double cs = le > t->comp1 ? le : t->comp1;
	trace_recs(s, &t->comp, cs, s->m->target.concurrent);
	t->comp2 = t->comp1;
	t->comp1 = cs + comp;
	t->pS = t->S;
	recs tmp = t->pst;
	t->pst = t->st;
	t->st = tmp;
	t->st.n = 0;
	t->ld.n = 0;
	t->comp.n = 0;
	t->L = t->S = t->C = t->C1 = t->C2 = 0;
	t->has = 0;
	t->computed = 0;
	t->g_tiles++;
}

static void group_begin(sim *s, int g)
{
	timing *t = &s->t;
	t->in_group = 1;
	t->group = g;
	t->g0 = t->end;
	t->dma_free = t->comp1 = t->comp2 = t->g0;
	t->L = t->S = t->C = t->C1 = t->C2 = t->pS = 0;
	t->has = 0;
	t->computed = 0;
	t->mode = -1;
	t->ld.n = t->comp.n = t->st.n = t->pst.n = 0;
	t->g_dram = t->g_dma = t->g_2d = t->g_1d = t->g_sw = 0;
	memset(t->g_rd, 0, sizeof(t->g_rd));
	memset(t->g_wr, 0, sizeof(t->g_wr));
	t->g_ov = 0;
	t->g_tiles = 0;
}

/* Cycles of level l for these bytes (the cost model's rule: reads and
 * writes at their bandwidths, one after the other); 0 when the target
 * gives no levels beyond DRAM's rate. */
static double level_cycles(const mlb_target *tg, int l, double rd, double wr)
{
	if (tg->nlevels == 0) {
		if (l > 0)
			return 0;
		return (rd + wr) / (tg->dram_gb_per_s / tg->clock_ghz);
	}
	const mlb_level *lv = &tg->levels[l];
	return rd / (lv->read_gb_per_s / tg->clock_ghz) + wr / (lv->write_gb_per_s / tg->clock_ghz);
}

static double level_overhead(const mlb_target *tg, int l)
{
	return l < tg->nlevels ? tg->levels[l].tile_overhead_cycles : 0;
}

static void group_end(sim *s)
{
	timing *t = &s->t;
	finish_tile(s, 1);
	if (t->pst.n || t->pS > 0) {
		double ss = t->dma_free > t->comp1 ? t->dma_free : t->comp1;
		trace_recs(s, &t->pst, ss, 0);
		t->dma_free = ss + t->pS;
		t->pst.n = 0;
		t->pS = 0;
	}
	double e = t->dma_free > t->comp1 ? t->dma_free : t->comp1;
	if (e < t->g0)
		e = t->g0;
	/* The cost model's overlap rule on the simulated busy times: the
	 * busier side, plus the other's share of one tile (the fill and
	 * drain of a two-stage pipeline with uniform tiles). */
	const mlb_target *tg = &s->m->target;
	double comp = tg->concurrent ? (t->g_2d > t->g_1d ? t->g_2d : t->g_1d)
				     : t->g_2d + t->g_1d + t->g_sw;
	/* Per-tile overheads: a buffer tile per tile, PE tiles as counted. */
	t->g_ov += (double)t->g_tiles * level_overhead(tg, 1);
	comp += t->g_ov;
	/* The on-chip levels stream to the arrays while they compute: the
	 * array side takes the longest of the three (cost model). */
	double inner = comp, lc[MLB_MAX_LEVELS] = {0};
	int nl = tg->nlevels ? tg->nlevels : 1;
	lc[0] = t->g_dma;
	for (int l = 1; l < nl; l++) {
		lc[l] = level_cycles(tg, l, t->g_rd[l], t->g_wr[l]);
		if (lc[l] > inner)
			inner = lc[l];
	}
	double hi = inner > t->g_dma ? inner : t->g_dma, lo = inner > t->g_dma ? t->g_dma : inner;
	double lat = hi + lo / (t->g_tiles > 1 ? (double)t->g_tiles : 1.0);
	sim_group_stats *g = &s->st->groups[t->group];
	g->overhead_cycles += t->g_ov;
	s->st->overhead_cycles += t->g_ov;
	for (int l = 0; l < nl; l++) {
		g->level_read_bytes[l] += t->g_rd[l];
		g->level_write_bytes[l] += t->g_wr[l];
		g->level_cycles[l] += lc[l];
		s->st->level_read_bytes[l] += t->g_rd[l];
		s->st->level_write_bytes[l] += t->g_wr[l];
		s->st->level_cycles[l] += lc[l];
	}
	g->cycles += lat;
	g->scheduled_cycles += e - t->g0;
	s->st->cycles += lat;
	g->dram_bytes += t->g_dram;
	g->dma_cycles += t->g_dma;
	g->cycles_2d += t->g_2d;
	g->cycles_1d += t->g_1d;
	g->switch_cycles += t->g_sw;
	g->tiles += t->g_tiles;
	g->runs++;
	s->st->tiles += t->g_tiles;
	if (s->o.trace) {
		trace_event(s, s->m->groups[t->group], NULL, 3, t->g0, e - t->g0, -1);
		trace_buffer(s, t->g0, s->alloc);
		trace_buffer(s, e, 0);
	}
	t->end = e;
	t->in_group = 0;
	if (s->o.progress)
		s->o.progress(s->o.progress_ctx, (double)(t->group + 1), (double)s->m->ngroups);
}

static void time_dma(sim *s, int insn, double values, int store)
{
	const mlb_target *tg = &s->m->target;
	double bytes = values * tg->bytes_per_value;
	double cyc = store ? level_cycles(tg, 0, 0, bytes) : level_cycles(tg, 0, bytes, 0);
	timing *t = &s->t;
	if (store) {
		t->g_wr[0] += bytes;
		t->S += cyc;
		s->st->dram_write_bytes += bytes;
		push(s, &t->st, insn, 0, cyc, 0);
	} else {
		t->g_rd[0] += bytes;
		t->L += cyc;
		s->st->dram_read_bytes += bytes;
		push(s, &t->ld, insn, 0, cyc, 0);
	}
	s->st->dram_bytes += bytes;
	s->st->dma_cycles += cyc;
	t->g_dram += bytes;
	t->g_dma += cyc;
	t->has = 1;
}

/* On-chip moves of carried data take no time: they stand for a circular
 * buffer, whose windows the hardware would rename (docs/isa.md). */
static void time_move(sim *s, int insn)
{
	(void)insn;
	s->t.has = 1;
}

/* MODE: the array reconfigures when the mode changes within a group (a
 * group starts in no mode: its predecessor's sync drained the array). */
static void exec_mode(sim *s, int insn, int mode)
{
	timing *t = &s->t;
	const mlb_target *tg = &s->m->target;
	if (tg->concurrent)
		return; /* two arrays: nothing to switch */
	if (t->mode >= 0 && t->mode != mode) {
		t->C += tg->switch_cycles;
		t->g_sw += tg->switch_cycles;
		s->st->switch_cycles += tg->switch_cycles;
		s->st->switches++;
		t->has = 1;
		push(s, &t->comp, insn, mode ? 1 : 2, tg->switch_cycles, 1);
	}
	t->mode = mode;
}

/* Values an array instruction moves at the on-chip levels: rd[l], wr[l]
 * read from and written to level l (1 the buffer, 2 PE storage), and the
 * PE tiles of the 2D array (cost model, docs/isa.md "Timing"). */
typedef struct lv_traffic {
	double rd[MLB_MAX_LEVELS], wr[MLB_MAX_LEVELS];
	double blocks;
} lv_traffic;

static void time_array(sim *s, int insn, int mode, double cyc, double useful,
		       const lv_traffic *lt)
{
	timing *t = &s->t;
	const mlb_target *tg = &s->m->target;
	if (!tg->concurrent && t->mode != mode) {
		fault(s, "the array is in %s mode: a mode %s instruction is missing",
		      t->mode < 0 ? "no" : t->mode ? "2D" : "1D", mode ? "2d" : "1d");
		return;
	}
	double bpv = (double)tg->bytes_per_value, dur = cyc;
	for (int l = 1; l < MLB_MAX_LEVELS; l++) {
		t->g_rd[l] += lt->rd[l] * bpv;
		t->g_wr[l] += lt->wr[l] * bpv;
		if (l < tg->nlevels) {
			/* The schedule: an instruction waits for its slowest level. */
			double lc = level_cycles(tg, l, lt->rd[l] * bpv, lt->wr[l] * bpv);
			if (lc > dur)
				dur = lc;
		}
	}
	double ov = lt->blocks * level_overhead(tg, 2);
	t->g_ov += ov;
	dur += ov;
	t->C += dur;
	t->computed = 1;
	if (mode) {
		t->C2 += dur;
		t->g_2d += cyc;
		s->st->cycles_2d += cyc;
		s->st->macs_2d += useful;
	} else {
		t->C1 += dur;
		t->g_1d += cyc;
		s->st->cycles_1d += cyc;
		s->st->lane_ops_1d += useful;
	}
	t->has = 1;
	push(s, &t->comp, insn, mode ? 1 : 2, dur, 0);
}

/* ---------------------------------------------------------- the boxes */

typedef struct box {
	int n;
	int64_t ext[MLB_MAX_DIMS];
	int64_t points;
} box;

/* Extents from registers; 0 points if any is not positive. */
static int get_box(sim *s, const mlb_insn *in, int ndim, box *b)
{
	b->n = ndim;
	b->points = 1;
	int empty = 0;
	for (int j = 0; j < ndim; j++) {
		b->ext[j] = s->r[in->a + j];
		if (b->ext[j] <= 0)
			empty = 1;
	}
	if (empty) {
		b->points = 0;
		return 0;
	}
	for (int j = 0; j < ndim; j++) {
		if (b->points > ((int64_t)1 << 50) / b->ext[j]) {
			fault(s, "a box of more than 2^50 points");
			return -1;
		}
		b->points *= b->ext[j];
	}
	s->work += b->points;
	if (s->work > s->o.max_work) {
		fault(s, "the run exceeds its work limit of %lld box points", (long long)s->o.max_work);
		return -1;
	}
	return 0;
}

/* Checks that a stream stays inside the group's allocation [0, lim) over
 * the box. */
static int check_stream(sim *s, int64_t base, const int32_t *stride, const box *b, int si,
			int64_t lim)
{
	__int128 lo = base, hi = base;
	for (int j = 0; j < b->n; j++) {
		__int128 span = (__int128)stride[j] * (b->ext[j] - 1);
		if (span < 0)
			lo += span;
		else
			hi += span;
	}
	if (lo < 0 || hi >= lim) {
		fault(s, "stream %d spans buffer addresses [%lld, %lld], outside the group's "
			 "allocation [0, %lld)",
		      si, (long long)(lo < INT64_MIN ? INT64_MIN : lo),
		      (long long)(hi > INT64_MAX ? INT64_MAX : hi), (long long)lim);
		return -1;
	}
	return 0;
}

static int check_streams(sim *s, const mlb_insn *in, const mlb_desc *d, const box *b)
{
	for (int i = 0; i < d->nstreams; i++)
		if (check_stream(s, s->r[in->b + i], d->stride[i], b, i, s->alloc) < 0)
			return -1;
	return 0;
}

/* dst[...] = src[...] over an n-dimensional box. */
static void copy_nd(float *dst, const int64_t *ds, const float *src, const int64_t *ss,
		    const int64_t *ext, int n)
{
	if (n == 0) {
		*dst = *src;
		return;
	}
	int64_t idx[MLB_MAX_DIMS] = {0};
	int64_t od = 0, os = 0;
	int64_t L = ext[n - 1], sd = ds[n - 1], sss = ss[n - 1];
	for (;;) {
		float *d = dst + od;
		const float *p = src + os;
		if (sd == 1 && sss == 1)
			memmove(d, p, (size_t)L * sizeof(float));
		else
			for (int64_t q = 0; q < L; q++)
				d[q * sd] = p[q * sss];
		int j = n - 2;
		while (j >= 0) {
			idx[j]++;
			od += ds[j];
			os += ss[j];
			if (idx[j] < ext[j])
				break;
			od -= ds[j] * ext[j];
			os -= ss[j] * ext[j];
			idx[j] = 0;
			j--;
		}
		if (j < 0)
			break;
	}
}

static void exec_dma(sim *s, const mlb_insn *in, const mlb_desc *d, int store)
{
	const mlb_tensor *t = &s->m->tensors[d->tensor];
	box b;
	if (get_box(s, in, d->ndim, &b) < 0 || b.points == 0)
		return;
	int64_t gb = s->r[in->b];
	int64_t dstr[MLB_MAX_DIMS], gstr[MLB_MAX_DIMS];
	int64_t off = t->dram, st = 1;
	for (int k = t->ndims - 1; k >= 0; k--) {
		dstr[k] = st;
		st *= t->shape[k];
	}
	for (int k = 0; k < t->ndims; k++) {
		int64_t o = s->r[in->b + 1 + k];
		if (o < 0 || o > t->shape[k] || b.ext[k] > t->shape[k] - o) {
			fault(s, "%s of '%s' dimension %d covers [%lld, %lld), outside [0, %lld)",
			      store ? "store" : "load", t->name, k, (long long)o,
			      (long long)(o + b.ext[k]), (long long)t->shape[k]);
			return;
		}
		off += o * dstr[k];
		gstr[k] = d->stride[0][k];
	}
	if (check_stream(s, gb, d->stride[0], &b, 0, s->alloc) < 0)
		return;
	if (store)
		copy_nd(s->dram + off, dstr, s->gb + gb, gstr, b.ext, t->ndims);
	else
		copy_nd(s->gb + gb, gstr, s->dram + off, dstr, b.ext, t->ndims);
	time_dma(s, s->pc, (double)b.points, store);
}

static void exec_move(sim *s, const mlb_insn *in, const mlb_desc *d)
{
	box b;
	if (get_box(s, in, d->ndim, &b) < 0 || b.points == 0 || check_streams(s, in, d, &b) < 0)
		return;
	int64_t ds[MLB_MAX_DIMS], ss[MLB_MAX_DIMS], dense[MLB_MAX_DIMS];
	int64_t st = 1;
	for (int k = d->ndim - 1; k >= 0; k--) {
		ds[k] = d->stride[0][k];
		ss[k] = d->stride[1][k];
		dense[k] = st;
		st *= b.ext[k];
	}
	/* Through a scratch copy: the source and destination may overlap. */
	if ((size_t)b.points > s->mv_cap) {
		float *p = realloc(s->mv, (size_t)b.points * sizeof(float));
		if (!p) {
			fault(s, "out of memory");
			return;
		}
		s->mv = p;
		s->mv_cap = (size_t)b.points;
	}
	copy_nd(s->mv, dense, s->gb + s->r[in->b + 1], ss, b.ext, d->ndim);
	copy_nd(s->gb + s->r[in->b], ds, s->mv, dense, b.ext, d->ndim);
	time_move(s, s->pc);
}

static void fill_nd(float *dst, const int64_t *ds, const int64_t *ext, int n, float v)
{
	if (n == 0) {
		*dst = v;
		return;
	}
	int64_t idx[MLB_MAX_DIMS] = {0};
	int64_t od = 0, L = ext[n - 1], sd = ds[n - 1];
	for (;;) {
		float *p = dst + od;
		for (int64_t q = 0; q < L; q++)
			p[q * sd] = v;
		int j = n - 2;
		while (j >= 0) {
			idx[j]++;
			od += ds[j];
			if (idx[j] < ext[j])
				break;
			od -= ds[j] * ext[j];
			idx[j] = 0;
			j--;
		}
		if (j < 0)
			break;
	}
}

/* Sets the part of the output stream a box touches (its dimensions with a
 * nonzero stride) to v. */
static void fill_out(sim *s, int64_t base, const int32_t *stride, const box *b, float v)
{
	int64_t ds[MLB_MAX_DIMS], ext[MLB_MAX_DIMS];
	int n = 0;
	for (int j = 0; j < b->n; j++)
		if (stride[j]) {
			ds[n] = stride[j];
			ext[n++] = b->ext[j];
		}
	fill_nd(s->gb + base, ds, ext, n, v);
}

static void exec_fill(sim *s, const mlb_insn *in, const mlb_desc *d)
{
	box b;
	if (get_box(s, in, d->ndim, &b) < 0 || b.points == 0 || check_streams(s, in, d, &b) < 0)
		return;
	fill_out(s, s->r[in->b], d->stride[0], &b, d->value);
	/* No array time: the array sets its accumulators to the identity as
	 * it starts a reduction (docs/isa.md). */
	s->t.has = 1;
}

/* C (+)= alpha X Y over a box: the 2D array's MMA, and 1D kernels of that
 * shape.  Rows of C and Y along a dimension of stride 1 in both, with X
 * constant along it, run as blocked axpys; anything else point by point. */
static void mac_box(float *C, const int32_t *sc, const float *X, const int32_t *sx,
		    const float *Y, const int32_t *sy, const box *b, float alpha)
{
	int n = b->n, nd = -1, kd = -1, nk = 0;
	for (int j = 0; j < n; j++) {
		if (sx[j] == 0 && sc[j] == 1 && sy[j] == 1 && (nd < 0 || b->ext[j] > b->ext[nd]))
			nd = j;
	}
	for (int j = 0; j < n; j++)
		if (sc[j] == 0 && j != nd) {
			nk++;
			kd = j;
		}
	if (nd >= 0 && nk <= 1) {
		/* Outer dimensions: everything but the row and the reduction. */
		int64_t ext[MLB_MAX_DIMS], dc[MLB_MAX_DIMS], dx[MLB_MAX_DIMS], dy[MLB_MAX_DIMS];
		int no = 0;
		for (int j = 0; j < n; j++)
			if (j != nd && j != kd) {
				ext[no] = b->ext[j];
				dc[no] = sc[j];
				dx[no] = sx[j];
				dy[no++] = sy[j];
			}
		int64_t N = b->ext[nd], K = kd >= 0 ? b->ext[kd] : 1;
		int64_t kx = kd >= 0 ? sx[kd] : 0, ky = kd >= 0 ? sy[kd] : 0;
		/* Rows of Y for a block of k stay in cache across the outer
		 * points. */
		int64_t KB = N > 0 ? 32768 / N : K;
		if (KB < 1)
			KB = 1;
		for (int64_t k0 = 0; k0 < K; k0 += KB) {
			int64_t k1 = k0 + KB < K ? k0 + KB : K;
			int64_t idx[MLB_MAX_DIMS] = {0};
			int64_t oc = 0, ox = 0, oy = 0;
			for (;;) {
				float *restrict c = C + oc;
				for (int64_t k = k0; k < k1; k++) {
					float a = alpha * X[ox + k * kx];
					const float *restrict y = Y + oy + k * ky;
					for (int64_t q = 0; q < N; q++)
						c[q] += a * y[q];
				}
				int j = no - 1;
				while (j >= 0) {
					idx[j]++;
					oc += dc[j];
					ox += dx[j];
					oy += dy[j];
					if (idx[j] < ext[j])
						break;
					oc -= dc[j] * ext[j];
					ox -= dx[j] * ext[j];
					oy -= dy[j] * ext[j];
					idx[j] = 0;
					j--;
				}
				if (j < 0)
					break;
			}
		}
		return;
	}
	/* General strides: the innermost dimension point by point. */
	if (n == 0) {
		C[0] += alpha * X[0] * Y[0];
		return;
	}
	int64_t idx[MLB_MAX_DIMS] = {0};
	int64_t oc = 0, ox = 0, oy = 0;
	int64_t L = b->ext[n - 1], c1 = sc[n - 1], x1 = sx[n - 1], y1 = sy[n - 1];
	for (;;) {
		for (int64_t q = 0; q < L; q++)
			C[oc + q * c1] += alpha * X[ox + q * x1] * Y[oy + q * y1];
		int j = n - 2;
		while (j >= 0) {
			idx[j]++;
			oc += sc[j];
			ox += sx[j];
			oy += sy[j];
			if (idx[j] < b->ext[j])
				break;
			oc -= (int64_t)sc[j] * b->ext[j];
			ox -= (int64_t)sx[j] * b->ext[j];
			oy -= (int64_t)sy[j] * b->ext[j];
			idx[j] = 0;
			j--;
		}
		if (j < 0)
			break;
	}
}

/* The on-chip traffic of an MMA: the PE tiles of mlb_pe_tile_reads, with
 * each PE's share of the PE level. */
static void mma_traffic(const mlb_target *tg, double bt, double mm, double nn, double kk,
			lv_traffic *lt)
{
	double r = (double)tg->rows, c = (double)tg->cols, per_pe = 1;
	if (tg->nlevels > 2) {
		double pes = r * c * (double)tg->cores;
		per_pe = floor((double)tg->levels[2].bytes / pes / (double)tg->bytes_per_value);
		if (per_pe < 1)
			per_pe = 1;
	}
	double blocks, best = mlb_pe_tile_reads(r, c, per_pe, mm, nn, kk, &blocks);
	memset(lt, 0, sizeof(*lt));
	lt->rd[1] = bt * best;
	lt->wr[1] = bt * mm * nn;
	lt->rd[2] = bt * 2 * mm * nn * kk;
	lt->wr[2] = bt * mm * nn;
	lt->blocks = bt * blocks;
}

static void exec_mma(sim *s, const mlb_insn *in, const mlb_desc *d)
{
	box b;
	if (get_box(s, in, d->ndim, &b) < 0 || b.points == 0 || check_streams(s, in, d, &b) < 0)
		return;
	float *C = s->gb + s->r[in->b];
	if (d->flags & MLB_F_OVERWRITE)
		fill_out(s, s->r[in->b], d->stride[0], &b, 0.0f);
	mac_box(C, d->stride[0], s->gb + s->r[in->b + 1], d->stride[1], s->gb + s->r[in->b + 2],
		d->stride[2], &b, d->value);
	/* Output-stationary: a rows x cols tile of outputs takes max(K,
	 * drain) cycles; the operands may be swapped (cost model). */
	const mlb_target *tg = &s->m->target;
	double bt = 1, mm = 1, nn = 1, kk = 1;
	for (int j = 0; j < d->ndim; j++) {
		double e = (double)b.ext[j];
		switch (d->cls[j]) {
		case MLB_C_M:
			mm *= e;
			break;
		case MLB_C_N:
			nn *= e;
			break;
		case MLB_C_K:
			kk *= e;
			break;
		default:
			bt *= e;
		}
	}
	double r = (double)tg->rows, c = (double)tg->cols;
	double t1 = ceil(mm / r) * ceil(nn / c), t2 = ceil(nn / r) * ceil(mm / c);
	double tiles = bt * (t1 < t2 ? t1 : t2);
	double kc = kk > (double)tg->drain_cycles ? kk : (double)tg->drain_cycles;
	lv_traffic lt;
	mma_traffic(tg, bt, t1 <= t2 ? mm : nn, t1 <= t2 ? nn : mm, kk, &lt);
	time_array(s, s->pc, 1, ceil(tiles / (double)tg->cores) * kc, bt * mm * nn * kk, &lt);
}

static double apply_fn(int f, double x)
{
	switch (f) {
	case MLB_FN_EXP:
		return exp(x);
	case MLB_FN_LOG:
		return log(x);
	case MLB_FN_SQRT:
		return sqrt(x);
	case MLB_FN_RSQRT:
		return 1.0 / sqrt(x);
	case MLB_FN_SIGMOID:
		return 1.0 / (1.0 + exp(-x));
	case MLB_FN_SILU:
		return x / (1.0 + exp(-x));
	case MLB_FN_SOFTPLUS:
		return x > 30.0 ? x + log1p(exp(-x)) : log1p(exp(x));
	case MLB_FN_TANH:
		return tanh(x);
	case MLB_FN_RELU:
		return x > 0.0 ? x : 0.0;
	case MLB_FN_ABS:
		return fabs(x);
	case MLB_FN_NEG:
		return -x;
	case MLB_FN_RECIP:
		return 1.0 / x;
	case MLB_FN_SQUARE:
		return x * x;
	}
	return NAN;
}

static void un_chunk(int f, double *restrict o, const double *restrict a, int64_t n)
{
	switch (f) {
	case MLB_FN_NEG:
		for (int64_t q = 0; q < n; q++)
			o[q] = -a[q];
		return;
	case MLB_FN_SQUARE:
		for (int64_t q = 0; q < n; q++)
			o[q] = a[q] * a[q];
		return;
	case MLB_FN_RELU:
		for (int64_t q = 0; q < n; q++)
			o[q] = a[q] > 0.0 ? a[q] : 0.0;
		return;
	case MLB_FN_EXP:
		for (int64_t q = 0; q < n; q++)
			o[q] = exp(a[q]);
		return;
	default:
		for (int64_t q = 0; q < n; q++)
			o[q] = apply_fn(f, a[q]);
	}
}

static void bin_chunk(int op, double *restrict o, const double *a, const double *b, int64_t n)
{
	switch (op) {
	case MLB_OP_ADD:
		for (int64_t q = 0; q < n; q++)
			o[q] = a[q] + b[q];
		return;
	case MLB_OP_SUB:
		for (int64_t q = 0; q < n; q++)
			o[q] = a[q] - b[q];
		return;
	case MLB_OP_MUL:
		for (int64_t q = 0; q < n; q++)
			o[q] = a[q] * b[q];
		return;
	case MLB_OP_DIV:
		for (int64_t q = 0; q < n; q++)
			o[q] = a[q] / b[q];
		return;
	case MLB_OP_MAX:
		for (int64_t q = 0; q < n; q++)
			o[q] = a[q] > b[q] ? a[q] : b[q];
		return;
	case MLB_OP_MIN:
		for (int64_t q = 0; q < n; q++)
			o[q] = a[q] < b[q] ? a[q] : b[q];
		return;
	}
}

static double combine(int op, double x, double y)
{
	switch (op) {
	case MLB_OP_MAX:
		return x > y ? x : y;
	case MLB_OP_MIN:
		return x < y ? x : y;
	default:
		return x + y;
	}
}

static float identity(int op)
{
	return op == MLB_OP_MAX ? -INFINITY : op == MLB_OP_MIN ? INFINITY : 0.0f;
}

/* Cycles of a 1D kernel over the box (mirrors the cost model's terms:
 * operations hoisted to the dimensions they depend on, operand reads
 * overlapped with them). */
static double vexpr_cycles(const sim *s, const mlb_desc *d, const box *b, double *useful,
			   lv_traffic *lt)
{
	const mlb_target *tg = &s->m->target;
	double lanes = (double)tg->lanes, ops = 0, use = 0;
	int seq = (d->flags & MLB_F_SEQ) != 0, nreads = 0;
	double steps = seq ? (double)b->ext[0] : 1;
	for (uint32_t i = 0; i < d->nuops; i++) {
		const mlb_uop *u = &s->m->uops[d->uop + i];
		if (!u->cost)
			continue;
		if (u->op == MLB_U_LD) {
			nreads++;
			continue;
		}
		double p = 1;
		for (int j = 0; j < b->n; j++)
			if ((u->mask >> j) & 1)
				p *= (double)b->ext[j];
		double c = tg->op_cycles[u->cost - 1];
		if (seq && (u->mask & 1))
			ops += steps * ceil(p / steps / lanes) * c;
		else
			ops += ceil(p / lanes) * c;
		use += p * c;
	}
	double p = (double)b->points;
	double rd = (seq ? steps * ceil(p / steps / lanes) : ceil(p / lanes)) * nreads *
		    tg->op_cycles[MLB_COST_READ];
	*useful = use;
	/* Operands from the buffer into the lanes, a result per output
	 * position back (stream 0's dimensions); the datapath reads the
	 * operands and writes a result per point. */
	double outs = 1;
	for (int j = 0; j < b->n; j++)
		if (d->stride[0][j] != 0)
			outs *= (double)b->ext[j];
	memset(lt, 0, sizeof(*lt));
	lt->rd[1] = lt->rd[2] = p * nreads;
	lt->wr[1] = outs;
	lt->wr[2] = p;
	return ops > rd ? ops : rd;
}

/* Is the kernel LD a, LD b, MUL, ACC add: a multiply-accumulate? */
static int is_mac_kernel(const sim *s, const mlb_desc *d, int *xa, int *ya)
{
	if (d->nuops != 4 && d->nuops != 3)
		return 0;
	const mlb_uop *u = &s->m->uops[d->uop];
	if (d->nuops == 4) {
		if (u[0].op != MLB_U_LD || u[1].op != MLB_U_LD || u[2].op != MLB_U_BIN ||
		    u[2].fn != MLB_OP_MUL || u[2].a != 0 || u[2].b != 1 || u[3].op != MLB_U_ACC ||
		    u[3].fn != MLB_OP_ADD || u[3].a != 2)
			return 0;
		*xa = u[0].a;
		*ya = u[1].a;
		return 1;
	}
	/* LD a, MUL a a, ACC: a square. */
	if (u[0].op != MLB_U_LD || u[1].op != MLB_U_BIN || u[1].fn != MLB_OP_MUL || u[1].a != 0 ||
	    u[1].b != 0 || u[2].op != MLB_U_ACC || u[2].fn != MLB_OP_ADD || u[2].a != 1)
		return 0;
	*xa = *ya = u[0].a;
	return 1;
}

static int ensure_tmp(sim *s, size_t n)
{
	if (n <= s->tmp_cap)
		return 0;
	double *p = realloc(s->tmp, n * sizeof(double));
	if (!p) {
		fault(s, "out of memory");
		return -1;
	}
	s->tmp = p;
	s->tmp_cap = n;
	return 0;
}

/* A box's points as a loop nest: dimension j of the nest is perm[j] of
 * the box, with extent ext[j] and stride str[i][j] in stream i. */
typedef struct vnest {
	int n, perm[MLB_MAX_DIMS];
	int64_t ext[MLB_MAX_DIMS], str[MLB_MAX_STREAMS][MLB_MAX_DIMS];
} vnest;

/* The nest of a VEXPR's box: the sequential dimension stays first; the
 * innermost is the longest one along which the output moves; dimensions
 * contiguous in every stream are merged (unless a micro-op reads a
 * variable's value, which needs them apart). */
static void vexpr_nest(const mlb_desc *d, const box *b, int seq, int has_var, vnest *v)
{
	int n = b->n, ns = d->nstreams;
	int inner = -1;
	for (int j = seq ? 1 : 0; j < n; j++) {
		int better = inner < 0 ||
			     ((d->stride[0][j] != 0) > (d->stride[0][inner] != 0)) ||
			     ((d->stride[0][j] != 0) == (d->stride[0][inner] != 0) &&
			      b->ext[j] > b->ext[inner]);
		if (better)
			inner = j;
	}
	int np = 0;
	for (int j = 0; j < n; j++)
		if (j != inner)
			v->perm[np++] = j;
	if (inner >= 0)
		v->perm[np++] = inner;
	for (int j = 0; j < n; j++) {
		v->ext[j] = b->ext[v->perm[j]];
		for (int i = 0; i < ns; i++)
			v->str[i][j] = d->stride[i][v->perm[j]];
	}
	if (!has_var) {
		for (int j = n - 2; j >= (seq ? 1 : 0); j--) {
			int ok = 1;
			for (int i = 0; i < ns && ok; i++)
				ok = v->str[i][j] == v->str[i][j + 1] * v->ext[j + 1];
			if (!ok)
				continue;
			v->ext[j] *= v->ext[j + 1];
			for (int i = 0; i < ns; i++)
				v->str[i][j] = v->str[i][j + 1];
			for (int q = j + 1; q < n - 1; q++) {
				v->ext[q] = v->ext[q + 1];
				v->perm[q] = v->perm[q + 1];
				for (int i = 0; i < ns; i++)
					v->str[i][q] = v->str[i][q + 1];
			}
			n--;
		}
	}
	if (n == 0) {
		n = 1;
		v->ext[0] = 1;
		v->perm[0] = 0;
		for (int i = 0; i < ns; i++)
			v->str[i][0] = 0;
	}
	v->n = n;
}

/* Where a VEXPR's evaluation stands: the streams' bases and offsets, the
 * outer indices, and len points of the innermost dimension from q0. */
typedef struct vpos {
	const int64_t *base, *off, *idx;
	int64_t q0, len, chunk;
} vpos;

/* Micro-op v over one chunk, into t (its row of s->tmp). */
static void vexpr_uop(sim *s, const mlb_insn *in, const mlb_desc *d, const vnest *vn,
		      const vpos *at, const mlb_uop *v, double *t)
{
	const int n = vn->n, ns = d->nstreams;
	const int64_t len = at->len, q0 = at->q0, chunk = at->chunk;
	float *gb = s->gb;
	switch (v->op) {
	case MLB_U_LD: {
		int64_t sd = vn->str[v->a][n - 1];
		const float *p = gb + at->base[v->a] + at->off[v->a] + q0 * sd;
		if (sd == 1)
			for (int64_t q = 0; q < len; q++)
				t[q] = p[q];
		else if (sd == 0)
			for (int64_t q = 0; q < len; q++)
				t[q] = p[0];
		else
			for (int64_t q = 0; q < len; q++)
				t[q] = p[q * sd];
		break;
	}
	case MLB_U_CST:
		for (int64_t q = 0; q < len; q++)
			t[q] = v->value;
		break;
	case MLB_U_VAR: {
		double x0 = (double)s->r[in->b + ns + v->b];
		int pos = -1;
		for (int j = 0; j < n; j++)
			if (vn->perm[j] == v->a)
				pos = j;
		if (pos == n - 1)
			for (int64_t q = 0; q < len; q++)
				t[q] = x0 + (double)(q0 + q);
		else
			for (int64_t q = 0; q < len; q++)
				t[q] = x0 + (pos >= 0 ? (double)at->idx[pos] : 0.0);
		break;
	}
	case MLB_U_UN:
		un_chunk(v->fn, t, s->tmp + (size_t)v->a * (size_t)chunk, len);
		break;
	case MLB_U_BIN:
		bin_chunk(v->fn, t, s->tmp + (size_t)v->a * (size_t)chunk,
			  s->tmp + (size_t)v->b * (size_t)chunk, len);
		break;
	case MLB_U_ST: {
		int64_t sd = vn->str[0][n - 1];
		float *o = gb + at->base[0] + at->off[0] + q0 * sd;
		const double *a = s->tmp + (size_t)v->a * (size_t)chunk;
		if (sd == 1)
			for (int64_t q = 0; q < len; q++)
				o[q] = (float)a[q];
		else
			for (int64_t q = 0; q < len; q++)
				o[q * sd] = (float)a[q];
		break;
	}
	case MLB_U_ACC: {
		int64_t sd = vn->str[0][n - 1];
		float *o = gb + at->base[0] + at->off[0] + q0 * sd;
		const double *a = s->tmp + (size_t)v->a * (size_t)chunk;
		if (sd == 0) {
			double r = o[0];
			for (int64_t q = 0; q < len; q++)
				r = combine(v->fn, r, a[q]);
			o[0] = (float)r;
		} else {
			for (int64_t q = 0; q < len; q++)
				o[q * sd] = (float)combine(v->fn, o[q * sd], a[q]);
		}
		break;
	}
	}
}

static void exec_vexpr(sim *s, const mlb_insn *in, const mlb_desc *d)
{
	box b;
	if (get_box(s, in, d->ndim, &b) < 0 || b.points == 0 || check_streams(s, in, d, &b) < 0)
		return;
	const mlb_uop *u = &s->m->uops[d->uop];
	int nu = (int)d->nuops, ns = d->nstreams;
	const mlb_uop *last = &u[nu - 1];
	int acc = last->op == MLB_U_ACC;
	if (acc && (d->flags & MLB_F_OVERWRITE))
		fill_out(s, s->r[in->b], d->stride[0], &b, identity(last->fn));
	double useful;
	lv_traffic lt;
	double cyc = vexpr_cycles(s, d, &b, &useful, &lt);
	int xa, ya;
	if (acc && !(d->flags & MLB_F_SEQ) && is_mac_kernel(s, d, &xa, &ya)) {
		mac_box(s->gb + s->r[in->b], d->stride[0], s->gb + s->r[in->b + xa],
			d->stride[xa], s->gb + s->r[in->b + ya], d->stride[ya], &b, 1.0f);
		time_array(s, s->pc, 0, cyc, useful, &lt);
		return;
	}
	int seq = (d->flags & MLB_F_SEQ) != 0, has_var = 0;
	for (int i = 0; i < nu; i++)
		has_var |= u[i].op == MLB_U_VAR;
	vnest vn;
	vexpr_nest(d, &b, seq, has_var, &vn);
	const int n = vn.n;
	/* A lone sequential dimension is evaluated one step at a time. */
	int64_t chunk = seq && n == 1 ? 1 : CHUNK;
	if (ensure_tmp(s, (size_t)nu * (size_t)chunk) < 0)
		return;
	int64_t base[MLB_MAX_STREAMS];
	for (int i = 0; i < ns; i++)
		base[i] = s->r[in->b + i];
	int64_t idx[MLB_MAX_DIMS] = {0}, off[MLB_MAX_STREAMS] = {0};
	int64_t L = vn.ext[n - 1];
	vpos at = {base, off, idx, 0, 0, chunk};
	for (;;) {
		for (at.q0 = 0; at.q0 < L; at.q0 += chunk) {
			at.len = L - at.q0 < chunk ? L - at.q0 : chunk;
			for (int i = 0; i < nu; i++)
				vexpr_uop(s, in, d, &vn, &at, &u[i], s->tmp + (size_t)i * (size_t)chunk);
		}
		int j = n - 2;
		while (j >= 0) {
			idx[j]++;
			for (int i = 0; i < ns; i++)
				off[i] += vn.str[i][j];
			if (idx[j] < vn.ext[j])
				break;
			for (int i = 0; i < ns; i++)
				off[i] -= vn.str[i][j] * vn.ext[j];
			idx[j] = 0;
			j--;
		}
		if (j < 0)
			break;
	}
	time_array(s, s->pc, 0, cyc, useful, &lt);
}

/* ---------------------------------------------------------------- run */

static int ovf(sim *s, int bad)
{
	if (bad)
		fault(s, "integer overflow");
	return bad;
}

/* The scalar instructions: arithmetic, comparisons and selects on the
 * registers.  Returns 1 if in is one of them. */
static int exec_alu(sim *s, const mlb_insn *in)
{
	int64_t *r = s->r;
	int64_t v;
	switch (in->op) {
	case MLB_NOP:
		return 1;
	case MLB_LI:
		r[in->a] = in->imm;
		return 1;
	case MLB_ADD:
		if (!ovf(s, __builtin_add_overflow(r[in->b], r[in->c], &v)))
			r[in->a] = v;
		return 1;
	case MLB_SUB:
		if (!ovf(s, __builtin_sub_overflow(r[in->b], r[in->c], &v)))
			r[in->a] = v;
		return 1;
	case MLB_MUL:
		if (!ovf(s, __builtin_mul_overflow(r[in->b], r[in->c], &v)))
			r[in->a] = v;
		return 1;
	case MLB_ADDI:
		if (!ovf(s, __builtin_add_overflow(r[in->b], in->imm, &v)))
			r[in->a] = v;
		return 1;
	case MLB_MULI:
		if (!ovf(s, __builtin_mul_overflow(r[in->b], in->imm, &v)))
			r[in->a] = v;
		return 1;
	case MLB_DIVF:
	case MLB_MODF: {
		int64_t a = r[in->b], b = r[in->c];
		if (b == 0 || (a == INT64_MIN && b == -1)) {
			fault(s, "division by zero or overflow");
			return 1;
		}
		int64_t q = a / b;
		if (a % b != 0 && ((a < 0) != (b < 0)))
			q--;
		r[in->a] = in->op == MLB_DIVF ? q : a - b * q;
		return 1;
	}
	case MLB_MIN:
		r[in->a] = r[in->b] < r[in->c] ? r[in->b] : r[in->c];
		return 1;
	case MLB_MAX:
		r[in->a] = r[in->b] > r[in->c] ? r[in->b] : r[in->c];
		return 1;
	case MLB_SLT:
		r[in->a] = r[in->b] < r[in->c];
		return 1;
	case MLB_SLE:
		r[in->a] = r[in->b] <= r[in->c];
		return 1;
	case MLB_SEQ:
		r[in->a] = r[in->b] == r[in->c];
		return 1;
	case MLB_AND:
		r[in->a] = r[in->b] != 0 && r[in->c] != 0;
		return 1;
	case MLB_OR:
		r[in->a] = r[in->b] != 0 || r[in->c] != 0;
		return 1;
	case MLB_SEL:
		r[in->a] = r[in->b] != 0 ? r[in->c] : r[in->imm];
		return 1;
	default:
		return 0;
	}
}

/* Control flow: HALT, loops and branches.  Returns 1 if in is one of them,
 * with *next the next instruction (-1 to stop). */
static int exec_control(sim *s, const mlb_insn *in, int *next)
{
	int64_t *r = s->r;
	int64_t v;
	switch (in->op) {
	case MLB_HALT:
		*next = -1;
		return 1;
	case MLB_LOOP: {
		int64_t it = r[in->a], hi = r[in->b];
		if (it > hi) {
			*next = (int)in->x + 1;
			return 1;
		}
		/* The trip count, checked before the loop runs. */
		__int128 trips = ((__int128)hi - it) / in->imm + 1;
		if (trips > s->o.max_trip) {
			fault(s, "the loop would run %lld times; the limit is %lld",
			      (long long)(trips > INT64_MAX ? INT64_MAX : trips),
			      (long long)s->o.max_trip);
		}
		return 1;
	}
	case MLB_ENDLOOP:
		if (ovf(s, __builtin_add_overflow(r[in->a], in->imm, &v)))
			return 1;
		r[in->a] = v;
		if (v <= r[in->b])
			*next = (int)in->x + 1;
		return 1;
	case MLB_BZ:
		if (r[in->a] == 0)
			*next = (int)in->x;
		return 1;
	case MLB_JMP:
		*next = (int)in->x;
		return 1;
	default:
		return 0;
	}
}

/* Groups and tiles (GROUP, TILE, SYNC), box operations and mode switches.
 * Returns 1 if in is one of them. */
static int exec_unit(sim *s, const mlb_insn *in, int pc)
{
	const mlb_module *m = s->m;
	sim_stats *st = s->st;
	switch (in->op) {
	case MLB_GROUP:
		if (in->imm > s->ngb) {
			fault(s, "group '%s' allocates %lld values of a %lld-value buffer",
			      m->groups[in->x], (long long)in->imm, (long long)s->ngb);
			return 1;
		}
		s->alloc = in->imm;
		{
			int64_t bytes = in->imm * m->target.bytes_per_value;
			if (bytes > st->peak_buffer_bytes)
				st->peak_buffer_bytes = bytes;
			if (in->imm > st->groups[in->x].buffer_values)
				st->groups[in->x].buffer_values = in->imm;
		}
		group_begin(s, (int)in->x);
		return 1;
	case MLB_TILE:
		finish_tile(s, 0);
		return 1;
	case MLB_SYNC:
		group_end(s);
		s->alloc = 0;
		return 1;
	case MLB_LOAD:
	case MLB_STORE:
		st->box_ops++;
		exec_dma(s, in, &m->descs[in->x], in->op == MLB_STORE);
		return 1;
	case MLB_MOVE:
		st->box_ops++;
		exec_move(s, in, &m->descs[in->x]);
		return 1;
	case MLB_VEXPR:
		st->box_ops++;
		exec_vexpr(s, in, &m->descs[in->x]);
		return 1;
	case MLB_MMA:
		st->box_ops++;
		exec_mma(s, in, &m->descs[in->x]);
		return 1;
	case MLB_FILL:
		st->box_ops++;
		exec_fill(s, in, &m->descs[in->x]);
		return 1;
	case MLB_MODE:
		exec_mode(s, pc, in->a);
		return 1;
	default:
		return 0;
	}
}

/* The summary figures of a finished run. */
static void finish_stats(sim *s, sim_stats *st)
{
	const mlb_module *m = s->m;
	st->instructions = s->steps;
	st->scheduled_cycles = s->t.end;
	st->seconds = st->cycles / (m->target.clock_ghz * 1e9);
	if (st->cycles > 0) {
		const mlb_target *tg = &m->target;
		st->util_2d = st->macs_2d / (st->cycles * (double)tg->rows * (double)tg->cols *
					     (double)tg->cores);
		st->util_1d = st->lane_ops_1d / (st->cycles * (double)tg->lanes);
		st->util_dma = st->dma_cycles / st->cycles;
	}
}

int sim_run(sim *s, sim_stats *st, char *err, size_t errlen)
{
	const mlb_module *m = s->m;
	memset(st, 0, sizeof(*st));
	st->groups = calloc((size_t)(m->ngroups ? m->ngroups : 1), sizeof(sim_group_stats));
	if (!st->groups) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	st->ngroups = m->ngroups;
	s->st = st;
	s->err = err;
	s->errlen = errlen;
	s->failed = 0;
	s->steps = s->work = 0;
	s->alloc = 0;
	memset(s->r, 0, sizeof(s->r));
	s->t.in_group = 0;
	s->t.end = 0;
	trace_begin(s);
	int pc = 0;
	while (!s->failed) {
		s->pc = pc;
		if (++s->steps > s->o.max_steps) {
			fault(s, "the run exceeds its limit of %lld executed instructions",
			      (long long)s->o.max_steps);
			break;
		}
		const mlb_insn *in = &m->insns[pc];
		int next = pc + 1;
		if (!exec_alu(s, in) && !exec_control(s, in, &next) && !exec_unit(s, in, pc))
			fault(s, "unknown opcode %d", in->op);
		if (next < 0)
			break;
		pc = next;
	}
	finish_stats(s, st);
	trace_end(s);
	return s->failed ? -1 : 0;
}

static void unit_json(cJSON *units, const char *name, double busy, double util, const char *extra,
		      double extra_v)
{
	cJSON *u = cJSON_AddObjectToObject(units, name);
	cJSON_AddNumberToObject(u, "busy_cycles", busy);
	cJSON_AddNumberToObject(u, "utilisation", util);
	if (extra)
		cJSON_AddNumberToObject(u, extra, extra_v);
}

/* Per level: name, bytes read and written, busy cycles and their share
 * of the cycles (as the plan's "levels"). */
static void levels_json(cJSON *o, const mlb_target *tg, const double *rd, const double *wr,
			const double *cyc, double cycles)
{
	int nl = tg->nlevels ? tg->nlevels : 1;
	cJSON *ls = cJSON_AddArrayToObject(o, "levels");
	for (int l = 0; l < nl; l++) {
		cJSON *r = cJSON_CreateObject();
		cJSON_AddStringToObject(r, "name", tg->nlevels ? tg->levels[l].name : "DRAM");
		cJSON_AddNumberToObject(r, "read_bytes", rd[l]);
		cJSON_AddNumberToObject(r, "write_bytes", wr[l]);
		cJSON_AddNumberToObject(r, "cycles", cyc[l]);
		cJSON_AddNumberToObject(r, "util", cycles > 0 ? cyc[l] / cycles : 0);
		cJSON_AddItemToArray(ls, r);
	}
}

cJSON *sim_stats_to_json(const mlb_module *m, const sim_stats *st, double host)
{
	cJSON *j = cJSON_CreateObject();
	cJSON_AddStringToObject(j, "module", m->name);
	cJSON_AddStringToObject(j, "target", m->target.name);
	cJSON_AddNumberToObject(j, "clock_ghz", m->target.clock_ghz);
	cJSON_AddNumberToObject(j, "cycles", st->cycles);
	cJSON_AddNumberToObject(j, "scheduled_cycles", st->scheduled_cycles);
	cJSON_AddNumberToObject(j, "seconds", st->seconds);
	cJSON_AddNumberToObject(j, "dram_bytes", st->dram_bytes);
	cJSON_AddNumberToObject(j, "dram_read_bytes", st->dram_read_bytes);
	cJSON_AddNumberToObject(j, "dram_write_bytes", st->dram_write_bytes);
	cJSON *units = cJSON_AddObjectToObject(j, "units");
	unit_json(units, "dma", st->dma_cycles, st->util_dma, NULL, 0);
	unit_json(units, "array2d", st->cycles_2d, st->util_2d, "macs", st->macs_2d);
	unit_json(units, "array1d", st->cycles_1d, st->util_1d, "lane_ops", st->lane_ops_1d);
	cJSON_AddNumberToObject(j, "mode_switches", (double)st->switches);
	cJSON_AddNumberToObject(j, "switch_cycles", st->switch_cycles);
	cJSON_AddNumberToObject(j, "overhead_cycles", st->overhead_cycles);
	levels_json(j, &m->target, st->level_read_bytes, st->level_write_bytes, st->level_cycles,
		    st->cycles);
	cJSON_AddNumberToObject(j, "peak_buffer_bytes", (double)st->peak_buffer_bytes);
	cJSON_AddNumberToObject(j, "buffer_bytes", (double)m->target.buffer_bytes);
	cJSON_AddNumberToObject(j, "instructions", (double)st->instructions);
	cJSON_AddNumberToObject(j, "box_instructions", (double)st->box_ops);
	cJSON_AddNumberToObject(j, "program_instructions", (double)m->ninsns);
	cJSON_AddNumberToObject(j, "tiles", (double)st->tiles);
	cJSON *gs = cJSON_AddArrayToObject(j, "groups");
	for (int i = 0; i < st->ngroups; i++) {
		const sim_group_stats *g = &st->groups[i];
		cJSON *o = cJSON_CreateObject();
		cJSON_AddNumberToObject(o, "id", i);
		cJSON_AddStringToObject(o, "name", m->groups[i]);
		cJSON_AddNumberToObject(o, "cycles", g->cycles);
		cJSON_AddNumberToObject(o, "scheduled_cycles", g->scheduled_cycles);
		cJSON_AddNumberToObject(o, "dram_bytes", g->dram_bytes);
		cJSON_AddNumberToObject(o, "dma_cycles", g->dma_cycles);
		cJSON_AddNumberToObject(o, "cycles_2d", g->cycles_2d);
		cJSON_AddNumberToObject(o, "cycles_1d", g->cycles_1d);
		cJSON_AddNumberToObject(o, "switch_cycles", g->switch_cycles);
		cJSON_AddNumberToObject(o, "overhead_cycles", g->overhead_cycles);
		levels_json(o, &m->target, g->level_read_bytes, g->level_write_bytes,
			    g->level_cycles, g->cycles);
		cJSON_AddNumberToObject(o, "tiles", (double)g->tiles);
		cJSON_AddNumberToObject(o, "buffer_bytes",
					(double)g->buffer_values * m->target.bytes_per_value);
		cJSON_AddItemToArray(gs, o);
	}
	if (st->trace_dropped)
		cJSON_AddNumberToObject(j, "trace_events_dropped", (double)st->trace_dropped);
	cJSON_AddNumberToObject(j, "host_seconds", host);
	return j;
}
