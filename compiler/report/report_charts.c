/* report_charts.c - the report's charts: per-group latency, traffic and
 * utilisation bars, the roofline, the policies, the buffer sweep and the
 * simulator's timeline (see report_impl.h).  Every chart is an SVG with a
 * viewBox, so it scales with the page. */
#include "report_impl.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/fusion.h"
#include "base/units.h"

const char *const report_policy_names[REPORT_NPOL] = {"unfused", "ssm-ri", "full"};

#define W 560.0 /* chart width: two side by side on a laptop */
#define LEFT 150.0
#define RIGHT 20.0
#define ROW 26.0

static const char *const policy_colours[REPORT_NPOL] = {"#bbbbbb", "#ee7733", "#0077bb"};
#define COMPUTE "#4477aa"
#define MEMORY "#ee7733"

/* Seconds in the unit that suits max: the factor and its name. */
static double time_unit(double max, const char **name)
{
	if (max >= 1) {
		*name = "s";
		return 1;
	}
	if (max >= 1e-3) {
		*name = "ms";
		return 1e3;
	}
	if (max >= 1e-6) {
		*name = "us";
		return 1e6;
	}
	*name = "ns";
	return 1e9;
}

static double bytes_unit(double max, const char **name)
{
	static const char *const names[] = {"B", "kB", "MB", "GB", "TB"};
	double f = 1;
	int u = 0;
	while (max / f >= 1000 && u < 4) {
		f *= 1000;
		u++;
	}
	*name = names[u];
	return 1 / f;
}

static double seconds(const report_data *d, double cycles)
{
	return cycles / (d->t->clock_ghz * 1e9);
}

/* A group's row label: its number and first member, "+N" for the rest. */
static void group_label(sbuf *s, const report_data *d, int gi, double x, double y)
{
	const plan_group *gr = &d->plans[d->policy]->groups[gi];
	const char *first = d->g->c->einsums[gr->members[0].einsum].name;
	char buf[64];
	if (gr->nmembers > 1)
		snprintf(buf, sizeof(buf), "%.14s%s +%d", first, strlen(first) > 14 ? "\xe2\x80\xa6" : "",
			 gr->nmembers - 1);
	else
		snprintf(buf, sizeof(buf), "%.18s%s", first, strlen(first) > 18 ? "\xe2\x80\xa6" : "");
	sbuf_printf(s, "<rect x=\"%.1f\" y=\"%.1f\" width=\"10\" height=\"10\" rx=\"2\" fill=\"%s\"/>",
		    x, y - 9, rs_group_colour(gi));
	sbuf_printf(s, "<text x=\"%.1f\" y=\"%.1f\">G%d ", x + 14, y, gi + 1);
	rs_esc(s, buf);
	sbuf_printf(s, "</text>");
}

void report_latency_bars(sbuf *s, const report_data *d)
{
	const plan *p = d->plans[d->policy];
	double max = 0;
	for (int gi = 0; gi < p->ngroups; gi++) {
		const plan_cost *c = &p->groups[gi].cost;
		double m = fmax(c->cycles, fmax(c->comp_cycles, c->mem_cycles));
		max = fmax(max, seconds(d, m));
	}
	const char *un;
	double f = time_unit(max > 0 ? max : 1e-9, &un);
	double h = 40 + p->ngroups * ROW + 50;
	rs_scale x = {0, max * f * 1.05 + 1e-12, LEFT, W - RIGHT, 0};
	char title[64];
	snprintf(title, sizeof(title), "time (%s)", un);
	rs_svg_begin(s, "latency", W, h, "latency of each group, compute and memory");
	const char *cols[] = {COMPUTE, MEMORY, "#222222"};
	const char *labels[] = {"compute", "memory (DRAM)", "latency"};
	rs_legend(s, LEFT, 18, 3, cols, labels);
	double top = 34;
	rs_axis_x(s, &x, top, top + p->ngroups * ROW, rs_fmt_plain, title);
	for (int gi = 0; gi < p->ngroups; gi++) {
		const plan_group *gr = &p->groups[gi];
		double y = top + gi * ROW;
		char lat[32], comp[32], mem[32];
		units_time(seconds(d, gr->cost.cycles), lat, sizeof(lat));
		units_time(seconds(d, gr->cost.comp_cycles), comp, sizeof(comp));
		units_time(seconds(d, gr->cost.mem_cycles), mem, sizeof(mem));
		group_label(s, d, gi, 8, y + 17);
		sbuf_printf(s, "<g");
		rs_tip(s, "G%d: latency %s\ncompute %s (2D %.0f, 1D %.0f cycles)\nmemory %s over %.0f tiles\n%s",
		       gi + 1, lat, comp, gr->cost.comp_cycles_2d, gr->cost.comp_cycles_1d, mem,
		       gr->ntiles, gr->cost.comp_cycles >= gr->cost.mem_cycles ? "compute-bound"
										: "memory-bound");
		sbuf_printf(s, "\">");
		double x0 = rs_map(&x, 0);
		sbuf_printf(s, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"8\" fill=\"%s\"/>", x0,
			    y + 5, rs_map(&x, seconds(d, gr->cost.comp_cycles) * f) - x0, COMPUTE);
		sbuf_printf(s, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"8\" fill=\"%s\"/>", x0,
			    y + 14, rs_map(&x, seconds(d, gr->cost.mem_cycles) * f) - x0, MEMORY);
		double xl = rs_map(&x, seconds(d, gr->cost.cycles) * f);
		sbuf_printf(s, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#222\" "
			       "stroke-width=\"2.5\"/><rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
			       "height=\"%.1f\" fill=\"transparent\"/></g>\n",
			    xl, xl, y + 2, y + 24, x0, y, W - RIGHT - x0, ROW);
	}
	rs_svg_end(s);
}

/* Colours of traffic by the tensor's role in the group. */
static const char *role_colour(int role, int spilled)
{
	if (spilled)
		return "#cc3311";
	return role == FUSION_IN ? "#0077bb" : role == FUSION_OUT ? "#009988" : "#ee7733";
}

static const char *const mp_names[] = {"-", "kept in the buffer", "spilled to DRAM",
				       "recomputed"};

void report_traffic_bars(sbuf *s, const report_data *d)
{
	const plan *p = d->plans[d->policy];
	const ein_cascade *c = d->g->c;
	double max = 0;
	for (int gi = 0; gi < p->ngroups; gi++)
		max = fmax(max, p->groups[gi].cost.dram_bytes);
	const char *un;
	double f = bytes_unit(max > 0 ? max : 1, &un);
	double h = 40 + p->ngroups * ROW + 50;
	rs_scale x = {0, max * f * 1.05 + 1e-12, LEFT, W - RIGHT, 0};
	char title[64];
	snprintf(title, sizeof(title), "DRAM traffic (%s)", un);
	rs_svg_begin(s, "traffic-bars", W, h, "DRAM traffic of each group by tensor");
	const char *cols[] = {role_colour(FUSION_IN, 0), role_colour(FUSION_OUT, 0),
			      role_colour(FUSION_INTERNAL, 0), role_colour(0, 1)};
	const char *labels[] = {"read in", "written out", "internal", "spilled"};
	rs_legend(s, LEFT, 18, 4, cols, labels);
	double top = 34;
	rs_axis_x(s, &x, top, top + p->ngroups * ROW, rs_fmt_plain, title);
	for (int gi = 0; gi < p->ngroups; gi++) {
		const plan_group *gr = &p->groups[gi];
		double y = top + gi * ROW, at = 0;
		group_label(s, d, gi, 8, y + 17);
		for (int ti = 0; ti < gr->ntensors; ti++) {
			const plan_tensor *pt = &gr->tensors[ti];
			if (pt->dram_bytes <= 0)
				continue;
			double x0 = rs_map(&x, at * f), x1 = rs_map(&x, (at + pt->dram_bytes) * f);
			at += pt->dram_bytes;
			char b[32], buf[32];
			units_bytes(pt->dram_bytes, b, sizeof(b));
			units_mib(pt->buffer_bytes, buf, sizeof(buf));
			int mp = pt->multipass >= 0 && pt->multipass <= 3 ? pt->multipass : 0;
			sbuf_printf(s, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.2f\" height=\"16\" "
				       "fill=\"%s\" stroke=\"#fff\" stroke-width=\"0.6\"",
				    x0, y + 5, x1 - x0, role_colour(pt->role, mp == PLAN_MP_SPILL));
			rs_tip(s, "%s in G%d: %s of DRAM traffic\n%s; retention level %d; %s in the buffer%s%s",
			       c->tensors[pt->tensor].name, gi + 1, b,
			       pt->role == FUSION_IN ? "read in" : pt->role == FUSION_OUT ? "written out"
											 : "internal",
			       pt->level, buf, mp ? "; multi-pass: " : "", mp ? mp_names[mp] : "");
			sbuf_printf(s, "\"/>");
			if (x1 - x0 > 7.5 * (double)strlen(c->tensors[pt->tensor].name) + 6) {
				sbuf_printf(s, "<text class=\"inbar\" x=\"%.1f\" y=\"%.1f\">", x0 + 3, y + 17);
				rs_esc(s, c->tensors[pt->tensor].name);
				sbuf_printf(s, "</text>");
			}
		}
		sbuf_printf(s, "\n");
	}
	rs_svg_end(s);
}

void report_util_bars(sbuf *s, const report_data *d)
{
	const plan *p = d->plans[d->policy];
	double h = 40 + p->ngroups * ROW + 50;
	rs_scale x = {0, 100, LEFT, W - RIGHT, 0};
	rs_svg_begin(s, "utilisation", W, h, "utilisation of each unit per group");
	const char *cols[] = {"#4477aa", "#66ccee", "#ee7733"};
	const char *labels[] = {"2D array", "1D array", "DRAM bandwidth"};
	rs_legend(s, LEFT, 18, 3, cols, labels);
	double top = 34;
	rs_axis_x(s, &x, top, top + p->ngroups * ROW, rs_fmt_plain, "utilisation (%)");
	for (int gi = 0; gi < p->ngroups; gi++) {
		const plan_cost *c = &p->groups[gi].cost;
		double y = top + gi * ROW, v[3] = {c->util_2d, c->util_1d, c->mem_util};
		group_label(s, d, gi, 8, y + 17);
		sbuf_printf(s, "<g");
		rs_tip(s, "G%d: 2D array %.1f%%, 1D array %.1f%%, DRAM %.1f%% of the latency", gi + 1,
		       100 * v[0], 100 * v[1], 100 * v[2]);
		sbuf_printf(s, "\">");
		for (int u = 0; u < 3; u++) {
			double x0 = rs_map(&x, 0);
			sbuf_printf(s, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"6\" fill=\"%s\"/>",
				    x0, y + 4 + 6.5 * u, rs_map(&x, 100 * fmin(1, fmax(0, v[u]))) - x0, cols[u]);
		}
		sbuf_printf(s, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
			       "fill=\"transparent\"/></g>\n",
			    LEFT, y, W - RIGHT - LEFT, ROW);
	}
	rs_svg_end(s);
}

static void fmt_pow(double v, char *buf, size_t len)
{
	int e = (int)lround(log10(v));
	if (e >= 0 && e <= 3)
		snprintf(buf, len, "%g", v);
	else
		snprintf(buf, len, "1e%d", e);
}

/* Einsum mb's operations and seconds in the plan; 0 if it has none. */
static int member_rate(const report_data *d, const plan_member *mb, double *ops, double *sec)
{
	*ops = d->points[mb->einsum];
	*sec = seconds(d, mb->cost.cycles);
	return *ops > 0 && *sec > 0;
}

void report_roofline(sbuf *s, const report_data *d)
{
	const plan *p = d->plans[d->policy];
	const target *t = d->t;
	const ein_cascade *c = d->g->c;
	double clk = t->clock_ghz * 1e9, bw = target_bytes_per_cycle(t) * clk;
	double peak2 = target_peak_macs(t) * clk;
	double peak1 = (double)t->lanes * clk;
	double imin = 1e30, imax = 0, pmin = 1e30, pmax = fmax(peak1, peak2);
	for (int gi = 0; gi < p->ngroups; gi++)
		for (int m = 0; m < p->groups[gi].nmembers; m++) {
			const plan_member *mb = &p->groups[gi].members[m];
			double ops, sec;
			if (!member_rate(d, mb, &ops, &sec))
				continue;
			if (mb->cost.dram_bytes > 0) {
				imin = fmin(imin, ops / mb->cost.dram_bytes);
				imax = fmax(imax, ops / mb->cost.dram_bytes);
			}
			pmin = fmin(pmin, ops / sec);
		}
	if (imax <= 0) {
		imin = 0.1;
		imax = 10;
	}
	double ridge = peak2 / bw;
	rs_scale x = {pow(10, floor(log10(fmin(imin, ridge / 10)))),
		      pow(10, ceil(log10(fmax(imax, ridge) * 10))), 70, W - 30, 1};
	rs_scale y = {pow(10, floor(log10(fmin(pmin, peak1 / 100)))), pow(10, ceil(log10(pmax * 1.5))),
		      330, 40, 1};
	rs_svg_begin(s, "roofline", W, 380, "roofline: attained operations per second of every Einsum");
	const char *cols[] = {"#222222", "#777777"};
	const char *labels[] = {"2D array roof", "1D array roof"};
	rs_legend(s, 70, 18, 2, cols, labels);
	rs_axis_x(s, &x, 40, 330, fmt_pow, "operations per DRAM byte");
	rs_axis_y(s, &y, 70, W - 30, fmt_pow, "operations / s");
	/* The roofs: min(peak, intensity * bandwidth). */
	for (int r = 0; r < 2; r++) {
		double peak = r ? peak1 : peak2, knee = peak / bw;
		double xa = fmax(x.lo, y.lo / bw);
		sbuf_printf(s, "<polyline class=\"roof\" fill=\"none\" stroke=\"%s\" stroke-width=\"1.6\" "
			       "%s points=\"%.1f,%.1f %.1f,%.1f %.1f,%.1f\"/>\n",
			    cols[r], r ? "stroke-dasharray=\"5 3\"" : "", rs_map(&x, xa),
			    rs_map(&y, xa * bw), rs_map(&x, knee), rs_map(&y, peak), rs_map(&x, x.hi),
			    rs_map(&y, peak));
	}
	for (int gi = 0; gi < p->ngroups; gi++)
		for (int m = 0; m < p->groups[gi].nmembers; m++) {
			const plan_member *mb = &p->groups[gi].members[m];
			double ops, sec;
			if (!member_rate(d, mb, &ops, &sec))
				continue;
			int onchip = mb->cost.dram_bytes <= 0;
			double in = onchip ? x.hi : ops / mb->cost.dram_bytes;
			double px = rs_map(&x, in), py = rs_map(&y, ops / sec);
			char lat[32];
			units_time(sec, lat, sizeof(lat));
			sbuf_printf(s, "<g class=\"pt\"");
			rs_tip(s, "%s (G%d, %s array)\n%.4g operations in %s: %.3g op/s\n%s",
			       c->einsums[mb->einsum].name, gi + 1, mb->unit == PLAN_UNIT_2D ? "2D" : "1D",
			       ops, lat, ops / sec,
			       onchip ? "no DRAM traffic of its own (drawn at the right edge)" : "");
			if (mb->unit == PLAN_UNIT_2D)
				sbuf_printf(s, "\"><circle cx=\"%.1f\" cy=\"%.1f\" r=\"5\" fill=\"%s\" "
					       "fill-opacity=\"%s\" stroke=\"%s\"/></g>\n",
					    px, py, rs_group_colour(gi), onchip ? "0" : "0.85",
					    rs_group_colour(gi));
			else
				sbuf_printf(s, "\"><rect x=\"%.1f\" y=\"%.1f\" width=\"9\" height=\"9\" "
					       "fill=\"%s\" fill-opacity=\"%s\" stroke=\"%s\"/></g>\n",
					    px - 4.5, py - 4.5, rs_group_colour(gi), onchip ? "0" : "0.85",
					    rs_group_colour(gi));
		}
	rs_svg_end(s);
}

/* One horizontal bar per policy of values v (formatted by f). */
static void policy_chart(sbuf *s, const report_data *d, const char *id, const char *what,
			 const double *v, int bytes)
{
	double max = 0;
	for (int pi = 0; pi < REPORT_NPOL; pi++)
		max = fmax(max, v[pi]);
	const char *un;
	double f = bytes ? bytes_unit(max > 0 ? max : 1, &un) : time_unit(max > 0 ? max : 1e-9, &un);
	rs_scale x = {0, max * f * 1.12 + 1e-12, 90, 360, 0};
	char title[64];
	snprintf(title, sizeof(title), "%s (%s)", what, un);
	rs_svg_begin(s, id, 380, 40 + REPORT_NPOL * 30 + 40, what);
	rs_axis_x(s, &x, 20, 20 + REPORT_NPOL * 30, rs_fmt_plain, title);
	for (int pi = 0; pi < REPORT_NPOL; pi++) {
		double y = 20 + pi * 30, x0 = rs_map(&x, 0), x1 = rs_map(&x, v[pi] * f);
		char b[32];
		if (bytes)
			units_bytes(v[pi], b, sizeof(b));
		else
			units_time(v[pi], b, sizeof(b));
		sbuf_printf(s, "<text x=\"84\" y=\"%.1f\" text-anchor=\"end\"%s>%s</text>", y + 19,
			    pi == d->policy ? " font-weight=\"bold\"" : "", report_policy_names[pi]);
		sbuf_printf(s, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"18\" fill=\"%s\"",
			    x0, y + 6, x1 - x0, policy_colours[pi]);
		rs_tip(s, "%s: %s %s", report_policy_names[pi], what, b);
		sbuf_printf(s, "\"/><text x=\"%.1f\" y=\"%.1f\">%s</text>\n", x1 + 4, y + 19, b);
	}
	rs_svg_end(s);
}

void report_policy_bars(sbuf *s, const report_data *d, int dram)
{
	double v[REPORT_NPOL];
	for (int pi = 0; pi < REPORT_NPOL; pi++)
		v[pi] = dram ? d->plans[pi]->total.dram_bytes : d->plans[pi]->latency_seconds;
	if (dram)
		policy_chart(s, d, "policy-dram", "DRAM traffic", v, 1);
	else
		policy_chart(s, d, "policy-latency", "latency", v, 0);
}

static void fmt_bytes_tick(double v, char *buf, size_t len)
{
	units_mib(v, buf, len);
}

/* One line per policy over the sweep; what: 0 latency, 1 DRAM. */
static void sweep_chart(sbuf *s, const report_data *d, int what)
{
	double max = 0, min = 1e300;
	for (int pi = 0; pi < REPORT_NPOL; pi++)
		for (int i = 0; i < d->nsweep; i++) {
			double v = what ? d->sweep_dram[pi][i] : d->sweep_latency[pi][i];
			if (v > 0) {
				max = fmax(max, v);
				min = fmin(min, v);
			}
		}
	if (max <= 0)
		max = min = 1;
	const char *un;
	double f = what ? bytes_unit(max, &un) : time_unit(max, &un);
	rs_scale x = {(double)d->sweep_bytes[0], (double)d->sweep_bytes[d->nsweep - 1], 80, W - 32, 1};
	if (x.hi <= x.lo)
		x.hi = x.lo * 2;
	rs_scale y = {0, max * f * 1.08, 300, 40, 0};
	char title[64];
	snprintf(title, sizeof(title), what ? "DRAM traffic (%s)" : "latency (%s)", un);
	rs_svg_begin(s, what ? "sweep-dram" : "sweep-latency", W, 350,
		     what ? "DRAM traffic against buffer size" : "latency against buffer size");
	const char *labels[REPORT_NPOL];
	for (int pi = 0; pi < REPORT_NPOL; pi++)
		labels[pi] = report_policy_names[pi];
	rs_legend(s, 80, 18, REPORT_NPOL, policy_colours, labels);
	double at[41];
	int nat = 0;
	for (int i = 0; i < d->nsweep && nat < 41; i++)
		at[nat++] = (double)d->sweep_bytes[i];
	rs_axis_x_at(s, &x, 40, 300, fmt_bytes_tick, "global buffer", at, nat);
	rs_axis_y(s, &y, 80, W - 20, rs_fmt_plain, title);
	double xt = rs_map(&x, (double)d->t->buffer_bytes);
	sbuf_printf(s, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"40\" y2=\"300\" stroke=\"#555\" "
		       "stroke-dasharray=\"4 3\"/><text x=\"%.1f\" y=\"52\" class=\"note\">target</text>\n",
		    xt, xt, xt + 4);
	for (int pi = 0; pi < REPORT_NPOL; pi++) {
		const double *v = what ? d->sweep_dram[pi] : d->sweep_latency[pi];
		sbuf_printf(s, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\" points=\"",
			    policy_colours[pi]);
		for (int i = 0; i < d->nsweep; i++)
			if (v[i] > 0)
				sbuf_printf(s, "%.1f,%.1f ", rs_map(&x, (double)d->sweep_bytes[i]),
					    rs_map(&y, v[i] * f));
		sbuf_printf(s, "\"/>\n");
		for (int i = 0; i < d->nsweep; i++) {
			if (v[i] <= 0)
				continue;
			char b[32], val[32];
			units_mib((double)d->sweep_bytes[i], b, sizeof(b));
			if (what)
				units_bytes(v[i], val, sizeof(val));
			else
				units_time(v[i], val, sizeof(val));
			sbuf_printf(s, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3.5\" fill=\"%s\"",
				    rs_map(&x, (double)d->sweep_bytes[i]), rs_map(&y, v[i] * f),
				    policy_colours[pi]);
			rs_tip(s, "%s with a %s buffer: %s", report_policy_names[pi], b, val);
			sbuf_printf(s, "\"/>");
		}
	}
	rs_svg_end(s);
}

void report_sweep_plot(sbuf *s, const report_data *d, int dram)
{
	if (d->nsweep >= 2)
		sweep_chart(s, d, dram);
}
