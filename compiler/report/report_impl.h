/* report_impl.h - what the files of the report share (private to
 * compiler/report; see report.h).
 *
 *   report.c         the data: plans, sweep, simulation
 *   report_html.c    the page: style, script, header, sections, tables
 *   report_graph.c   the cascade as a layered graph coloured by group
 *   report_charts.c  bars, roofline, policies, sweep
 *   report_timeline.c the simulator's timeline and buffer occupancy
 *   report_svg.c     SVG primitives: escaping, colours, scales, axes
 *
 * Every function appends to an sbuf; an allocation failure shows as the
 * sbuf's oom flag, checked once at the end.
 */
#ifndef MAMBALAYA_REPORT_IMPL_H
#define MAMBALAYA_REPORT_IMPL_H

#include "base/sbuf.h"
#include "report.h"

/* ---- report_svg.c ---- */

/* text with & < > " ' escaped, for element content and attributes. */
void rs_esc(sbuf *s, const char *text);
/* The colour of fusion group i (a palette that cycles). */
const char *rs_group_colour(int i);

/* A scale from data to pixels, linear or log10. */
typedef struct rs_scale {
	double lo, hi; /* data */
	double p0, p1; /* pixels (p1 < p0 for a y axis) */
	int log;
} rs_scale;
double rs_map(const rs_scale *sc, double v);

/* Axis tick labels: how a value reads. */
typedef void (*rs_fmt)(double v, char *buf, size_t len);
void rs_fmt_plain(double v, char *buf, size_t len);

/* An axis along the bottom (x) or the left (y) of a plot whose other
 * extent is [o0, o1] in pixels, with grid lines, tick labels and a title. */
void rs_axis_x(sbuf *s, const rs_scale *sc, double o0, double o1, rs_fmt f, const char *title);
void rs_axis_y(sbuf *s, const rs_scale *sc, double o0, double o1, rs_fmt f, const char *title);
/* rs_axis_x with the n ticks v. */
void rs_axis_x_at(sbuf *s, const rs_scale *sc, double o0, double o1, rs_fmt f, const char *title,
		  const double *v, int n);

/* <svg> with a viewBox of w x h that scales to the page's width, and its
 * end. */
void rs_svg_begin(sbuf *s, const char *id, double w, double h, const char *label);
void rs_svg_end(sbuf *s);

/* Starts an element's data-tip attribute (the tooltip; closed by the
 * caller with '"'): its text is escaped. */
void rs_tip(sbuf *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A legend: n swatches with their labels, in one row at (x, y). */
void rs_legend(sbuf *s, double x, double y, int n, const char *const *colours,
	       const char *const *labels);

/* ---- report_graph.c ---- */
void report_graph(sbuf *s, const report_data *d);

/* ---- report_charts.c ---- */
void report_latency_bars(sbuf *s, const report_data *d);
void report_traffic_bars(sbuf *s, const report_data *d);
void report_util_bars(sbuf *s, const report_data *d);
void report_roofline(sbuf *s, const report_data *d);
/* dram: the DRAM traffic, else the latency. */
void report_policy_bars(sbuf *s, const report_data *d, int dram);
void report_sweep_plot(sbuf *s, const report_data *d, int dram);
void report_timeline(sbuf *s, const report_data *d);

/* The policies' names, by mapper_policy. */
extern const char *const report_policy_names[REPORT_NPOL];

#endif
