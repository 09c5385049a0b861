/* report_timeline.c - the simulator's run as a timeline: one lane per unit
 * (DMA, 2D array, 1D array) and one of groups, read from the trace the
 * simulator wrote, with the buffer's occupancy over time below (see
 * report_impl.h).  Busy spans closer than a pixel are merged, so a run of
 * any length draws in a bounded number of shapes. */
#include "report_impl.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/units.h"

#define TW 1140.0
#define TL 90.0 /* left margin */
#define TR 20.0
#define LANE 24.0

typedef struct span {
	double t0, t1;
	const char *name;
} span;

static int by_start(const void *a, const void *b)
{
	const span *x = a, *y = b;
	return x->t0 < y->t0 ? -1 : x->t0 > y->t0;
}

static double num(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

/* The events of lane tid (or the buffer counter for tid -1), sorted. */
static span *lane_events(const cJSON *events, int tid, int *n)
{
	int cap = 0, k = 0;
	span *v = NULL;
	const cJSON *e;
	cJSON_ArrayForEach(e, events)
	{
		const cJSON *ph = cJSON_GetObjectItemCaseSensitive(e, "ph");
		if (!cJSON_IsString(ph))
			continue;
		int counter = !strcmp(ph->valuestring, "C");
		if (tid < 0 ? !counter : (strcmp(ph->valuestring, "X") || num(e, "tid") != tid))
			continue;
		if (k == cap) {
			cap = cap ? 2 * cap : 256;
			span *nv = realloc(v, (size_t)cap * sizeof(span));
			if (!nv) {
				free(v);
				*n = -1;
				return NULL;
			}
			v = nv;
		}
		const cJSON *name = cJSON_GetObjectItemCaseSensitive(e, "name");
		span sp = {num(e, "ts"), num(e, "ts") + num(e, "dur"),
			   cJSON_IsString(name) ? name->valuestring : ""};
		if (counter)
			sp.t1 = num(cJSON_GetObjectItemCaseSensitive(e, "args"), "bytes");
		v[k++] = sp;
	}
	if (k)
		qsort(v, (size_t)k, sizeof(span), by_start);
	*n = k;
	return v;
}

static int group_index(const report_data *d, const char *name)
{
	for (int i = 0; i < d->nsim_groups; i++)
		if (!strcmp(d->sim_groups[i], name))
			return i;
	return -1;
}

static const char *const lane_names[] = {"DMA", "2D array", "1D array", "groups"};
static const char *const lane_colours[] = {"#ee7733", "#4477aa", "#66ccee", ""};

/* Lane l at y: merged busy spans, or the groups. */
static void draw_lane(sbuf *s, const report_data *d, const rs_scale *x, int l, double y,
		      const span *v, int n)
{
	double px = (x->hi - x->lo) / (x->p1 - x->p0); /* microseconds per pixel */
	sbuf_printf(s, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%s</text>", TL - 8,
		    y + 16, lane_names[l]);
	for (int i = 0; i < n;) {
		double a = v[i].t0, b = v[i].t1, busy = 0;
		int j = i;
		if (l == 3) {
			busy = b - a;
			j++;
		} else {
			for (; j < n && v[j].t0 <= b + 0.6 * px; j++) {
				b = fmax(b, v[j].t1);
				busy += v[j].t1 - v[j].t0;
			}
		}
		double x0 = rs_map(x, a), x1 = fmax(rs_map(x, b), x0 + 0.8);
		char dur[32];
		units_time(busy * 1e-6, dur, sizeof(dur));
		if (l == 3) {
			int gi = group_index(d, v[i].name);
			sbuf_printf(s, "<rect x=\"%.2f\" y=\"%.1f\" width=\"%.2f\" height=\"18\" "
				       "fill=\"%s\" stroke=\"#fff\" stroke-width=\"0.5\"",
				    x0, y + 3, x1 - x0, rs_group_colour(gi));
			rs_tip(s, "G%d %s: %s", gi + 1, v[i].name, dur);
			sbuf_printf(s, "\"/>");
			if (x1 - x0 > 7.0 * (double)strlen(v[i].name) + 8) {
				sbuf_printf(s, "<text class=\"inbar\" x=\"%.1f\" y=\"%.1f\">", x0 + 3, y + 16);
				rs_esc(s, v[i].name);
				sbuf_printf(s, "</text>");
			}
		} else {
			sbuf_printf(s, "<rect x=\"%.2f\" y=\"%.1f\" width=\"%.2f\" height=\"18\" fill=\"%s\"",
				    x0, y + 3, x1 - x0, lane_colours[l]);
			if (j - i == 1)
				rs_tip(s, "%s: %s", v[i].name, dur);
			else
				rs_tip(s, "%d operations, busy %s of this span", j - i, dur);
			sbuf_printf(s, "\"/>");
		}
		i = j;
	}
	sbuf_printf(s, "\n");
}

/* The buffer's occupancy: a step line under the lanes. */
static void draw_buffer(sbuf *s, const report_data *d, const rs_scale *x, double top, double h,
			const span *v, int n)
{
	double cap = (double)d->t->buffer_bytes, max = 0;
	for (int i = 0; i < n; i++)
		max = fmax(max, v[i].t1);
	/* The capacity is drawn when it is near the peak; far above, the
	 * title says it, so that the occupancy is not a flat line. */
	int show_cap = cap <= 1.5 * max || max <= 0;
	if (show_cap)
		max = fmax(max, cap);
	rs_scale y = {0, max * 1.05, top + h, top, 0};
	const char *un = max >= 1024.0 * 1024 ? "MiB" : "KiB";
	double f = max >= 1024.0 * 1024 ? 1.0 / (1024 * 1024) : 1.0 / 1024;
	rs_scale yl = {0, max * 1.05 * f, top + h, top, 0};
	char title[64], capb[32];
	units_mib(cap, capb, sizeof(capb));
	if (show_cap)
		snprintf(title, sizeof(title), "buffer (%s)", un);
	else
		snprintf(title, sizeof(title), "buffer (%s) of %s", un, capb);
	rs_axis_y(s, &yl, TL, TW - TR, rs_fmt_plain, title);
	if (show_cap)
		sbuf_printf(s, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#cc3311\" "
		       "stroke-dasharray=\"4 3\"/><text class=\"note\" x=\"%.1f\" y=\"%.1f\">capacity"
		       "</text>\n",
		    TL, TW - TR, rs_map(&y, cap), rs_map(&y, cap), TL + 4, rs_map(&y, cap) - 4);
	sbuf_printf(s, "<path fill=\"#4477aa\" fill-opacity=\"0.25\" stroke=\"#4477aa\" "
		       "stroke-width=\"1.2\" d=\"M%.1f %.1f",
		    rs_map(x, x->lo), rs_map(&y, 0));
	double last = 0;
	for (int i = 0; i < n; i++) {
		double px = rs_map(x, v[i].t0);
		sbuf_printf(s, " L%.1f %.1f L%.1f %.1f", px, rs_map(&y, last), px, rs_map(&y, v[i].t1));
		last = v[i].t1;
	}
	sbuf_printf(s, " L%.1f %.1f L%.1f %.1fZ\"/>\n", rs_map(x, x->hi), rs_map(&y, last),
		    rs_map(x, x->hi), rs_map(&y, 0));
}

void report_timeline(sbuf *s, const report_data *d)
{
	if (!d->simulated)
		return;
	const cJSON *events = cJSON_GetObjectItemCaseSensitive(d->trace, "traceEvents");
	span *v[5] = {0};
	int n[5] = {0}, bad = 0;
	double tmax = 0;
	for (int l = 0; l < 5; l++) {
		v[l] = lane_events(events, l < 4 ? l : -1, &n[l]);
		bad |= n[l] < 0;
		for (int i = 0; l < 4 && i < n[l]; i++)
			tmax = fmax(tmax, v[l][i].t1);
	}
	if (bad) {
		s->oom = 1;
		goto done;
	}
	double bh = 130, h = 30 + 4 * LANE + 30 + bh + 50;
	rs_scale x = {0, tmax > 0 ? tmax : 1, TL, TW - TR, 0};
	const char *un = "us";
	double f = 1;
	if (tmax >= 1000) {
		un = "ms";
		f = 1e-3;
	}
	rs_scale xl = {0, x.hi * f, TL, TW - TR, 0};
	char title[32];
	snprintf(title, sizeof(title), "time (%s)", un);
	rs_svg_begin(s, "timeline", TW, h, "the simulator's timeline and buffer occupancy");
	rs_axis_x(s, &xl, 20, 20 + 4 * LANE, rs_fmt_plain, NULL);
	for (int l = 0; l < 4; l++)
		draw_lane(s, d, &x, l, 20 + l * LANE, v[l], n[l]);
	double top = 20 + 4 * LANE + 34;
	draw_buffer(s, d, &x, top, bh, v[4], n[4]);
	rs_axis_x(s, &xl, top, top + bh, rs_fmt_plain, title);
	rs_svg_end(s);
done:
	for (int l = 0; l < 5; l++)
		free(v[l]);
}
