/* report_svg.c - SVG primitives of the report: escaping, colours, scales,
 * axes, legends (see report_impl.h). */
#include "report_impl.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void rs_esc(sbuf *s, const char *text)
{
	for (const char *p = text ? text : ""; *p; p++) {
		switch (*p) {
		case '&': sbuf_printf(s, "&amp;"); break;
		case '<': sbuf_printf(s, "&lt;"); break;
		case '>': sbuf_printf(s, "&gt;"); break;
		case '"': sbuf_printf(s, "&quot;"); break;
		case '\'': sbuf_printf(s, "&#39;"); break;
		default: sbuf_printf(s, "%c", *p);
		}
	}
}

/* Twelve hues that stay apart for people with the common colour-vision
 * deficiencies (Paul Tol's "muted" and "bright" sets). */
static const char *const palette[] = {
	"#4477aa", "#ee6677", "#228833", "#ccbb44", "#66ccee", "#aa3377",
	"#332288", "#cc6677", "#117733", "#999933", "#88ccee", "#882255",
};

const char *rs_group_colour(int i)
{
	int n = (int)(sizeof(palette) / sizeof(palette[0]));
	return palette[((i % n) + n) % n];
}

double rs_map(const rs_scale *sc, double v)
{
	double lo = sc->lo, hi = sc->hi;
	if (sc->log) {
		v = log10(v > 0 ? v : lo);
		lo = log10(lo);
		hi = log10(hi);
	}
	if (hi == lo)
		return (sc->p0 + sc->p1) / 2;
	return sc->p0 + (v - lo) / (hi - lo) * (sc->p1 - sc->p0);
}

void rs_fmt_plain(double v, char *buf, size_t len)
{
	snprintf(buf, len, "%g", v);
}

/* Tick values of sc into v (at most 12): powers of ten on a log scale,
 * 1-2-5 steps on a linear one. */
static int ticks(const rs_scale *sc, double *v)
{
	int n = 0;
	if (sc->log) {
		double e0 = floor(log10(sc->lo)), e1 = ceil(log10(sc->hi));
		double step = e1 - e0 > 10 ? 2 : 1;
		for (double e = e0; e <= e1 && n < 12; e += step) {
			double x = pow(10, e);
			if (x >= sc->lo * 0.999 && x <= sc->hi * 1.001)
				v[n++] = x;
		}
		return n;
	}
	double span = sc->hi - sc->lo;
	if (span <= 0)
		span = fabs(sc->hi) > 0 ? fabs(sc->hi) : 1;
	double raw = span / 7, mag = pow(10, floor(log10(raw))), step = mag;
	if (raw / mag > 5)
		step = 10 * mag;
	else if (raw / mag > 2)
		step = 5 * mag;
	else if (raw / mag > 1)
		step = 2 * mag;
	for (double x = ceil(sc->lo / step) * step; x <= sc->hi + step * 1e-9 && n < 12; x += step)
		v[n++] = fabs(x) < step * 1e-9 ? 0 : x;
	return n;
}

void rs_axis_x(sbuf *s, const rs_scale *sc, double o0, double o1, rs_fmt f, const char *title)
{
	double v[12];
	int n = ticks(sc, v);
	rs_axis_x_at(s, sc, o0, o1, f, title, v, n);
}

void rs_axis_x_at(sbuf *s, const rs_scale *sc, double o0, double o1, rs_fmt f, const char *title,
		  const double *v, int n)
{
	char buf[64];
	sbuf_printf(s, "<g class=\"axis\">");
	for (int i = 0; i < n; i++) {
		double x = rs_map(sc, v[i]);
		f(v[i], buf, sizeof(buf));
		sbuf_printf(s, "<line class=\"grid\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\"/>",
			    x, x, o0, o1);
		sbuf_printf(s, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">", x, o1 + 14);
		rs_esc(s, buf);
		sbuf_printf(s, "</text>");
	}
	sbuf_printf(s, "<line class=\"frame\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\"/>",
		    sc->p0, sc->p1, o1, o1);
	if (title) {
		sbuf_printf(s, "<text class=\"title\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">",
			    (sc->p0 + sc->p1) / 2, o1 + 32);
		rs_esc(s, title);
		sbuf_printf(s, "</text>");
	}
	sbuf_printf(s, "</g>\n");
}

void rs_axis_y(sbuf *s, const rs_scale *sc, double o0, double o1, rs_fmt f, const char *title)
{
	double v[12];
	char buf[64];
	int n = ticks(sc, v);
	sbuf_printf(s, "<g class=\"axis\">");
	for (int i = 0; i < n; i++) {
		double y = rs_map(sc, v[i]);
		f(v[i], buf, sizeof(buf));
		sbuf_printf(s, "<line class=\"grid\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\"/>",
			    o0, o1, y, y);
		sbuf_printf(s, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">", o0 - 6, y + 4);
		rs_esc(s, buf);
		sbuf_printf(s, "</text>");
	}
	sbuf_printf(s, "<line class=\"frame\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\"/>",
		    o0, o0, sc->p0, sc->p1);
	if (title) {
		double y = (sc->p0 + sc->p1) / 2;
		sbuf_printf(s, "<text class=\"title\" transform=\"translate(%.1f %.1f) rotate(-90)\" "
			       "text-anchor=\"middle\">",
			    o0 - 52, y);
		rs_esc(s, title);
		sbuf_printf(s, "</text>");
	}
	sbuf_printf(s, "</g>\n");
}

void rs_svg_begin(sbuf *s, const char *id, double w, double h, const char *label)
{
	sbuf_printf(s, "<svg id=\"%s\" class=\"chart\" viewBox=\"0 0 %.0f %.0f\" "
		       "style=\"max-width:%.0fpx\" role=\"img\" aria-label=\"",
		    id, w, h, w);
	rs_esc(s, label);
	sbuf_printf(s, "\" xmlns=\"http://www.w3.org/2000/svg\">\n");
}

void rs_svg_end(sbuf *s)
{
	sbuf_printf(s, "</svg>\n");
}

void rs_tip(sbuf *s, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	sbuf_printf(s, " data-tip=\"");
	rs_esc(s, buf);
}

void rs_legend(sbuf *s, double x, double y, int n, const char *const *colours,
	       const char *const *labels)
{
	sbuf_printf(s, "<g class=\"legend\">");
	for (int i = 0; i < n; i++) {
		sbuf_printf(s, "<rect x=\"%.1f\" y=\"%.1f\" width=\"12\" height=\"12\" rx=\"2\" "
			       "fill=\"%s\"/><text x=\"%.1f\" y=\"%.1f\">",
			    x, y - 10, colours[i], x + 16, y);
		rs_esc(s, labels[i]);
		sbuf_printf(s, "</text>");
		x += 28 + 7.0 * (double)strlen(labels[i]);
	}
	sbuf_printf(s, "</g>\n");
}
