/* report_graph.c - the cascade as a graph: one node per Einsum, coloured by
 * its fusion group in the chosen plan, one edge per producer-consumer pair
 * (the tensors it carries in its tooltip), laid out in layers by longest
 * path from the sources, top to bottom, with barycentre sweeps to untangle
 * the edges (see report_impl.h). */
#include "report_impl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NODE_H 30.0
#define ROW_GAP 58.0
#define COL_GAP 22.0
#define MARGIN 16.0

typedef struct node {
	int layer, order;
	double pos; /* barycentre key while sorting */
	double x, y, w;
	int group, unit;
} node;

/* Order of Einsums i and j in a layer: by pos, then by index. */
static int by_pos(int i, int j, const node *n)
{
	if (n[i].pos != n[j].pos)
		return n[i].pos < n[j].pos ? -1 : 1;
	return i - j;
}

/* Insertion sort of idx[0..k) by their nodes' pos (k is small). */
static void sort_layer(int *idx, int k, node *n)
{
	for (int i = 1; i < k; i++)
		for (int j = i; j > 0 && by_pos(idx[j - 1], idx[j], n) > 0; j--) {
			int t = idx[j];
			idx[j] = idx[j - 1];
			idx[j - 1] = t;
		}
}

/* Layers by longest path; then orders by the mean order of the neighbours
 * in the layer above (down sweeps) or below (up sweeps). */
static int layout(const deps_graph *g, node *n, int **rows, int *rowlen)
{
	int ne = g->c->neinsums, nl = 0;
	for (int e = 0; e < ne; e++)
		n[e].layer = 0;
	for (int it = 0; it < ne; it++) {
		int changed = 0;
		for (int i = 0; i < g->nedges; i++) {
			const deps_edge *ed = &g->edges[i];
			if (n[ed->consumer].layer < n[ed->producer].layer + 1 &&
			    n[ed->producer].layer + 1 < ne) {
				n[ed->consumer].layer = n[ed->producer].layer + 1;
				changed = 1;
			}
		}
		if (!changed)
			break;
	}
	for (int e = 0; e < ne; e++)
		if (n[e].layer + 1 > nl)
			nl = n[e].layer + 1;
	for (int l = 0; l < nl; l++) {
		rowlen[l] = 0;
		for (int e = 0; e < ne; e++)
			if (n[e].layer == l)
				rows[l][rowlen[l]++] = e;
		for (int k = 0; k < rowlen[l]; k++)
			n[rows[l][k]].order = k;
	}
	for (int sweep = 0; sweep < 8; sweep++) {
		int down = sweep % 2 == 0;
		for (int li = 0; li < nl; li++) {
			int l = down ? li : nl - 1 - li;
			for (int k = 0; k < rowlen[l]; k++) {
				int e = rows[l][k];
				double sum = 0;
				int cnt = 0;
				for (int i = 0; i < g->nedges; i++) {
					const deps_edge *ed = &g->edges[i];
					int other = down ? (ed->consumer == e ? ed->producer : -1)
							 : (ed->producer == e ? ed->consumer : -1);
					if (other >= 0) {
						sum += n[other].order;
						cnt++;
					}
				}
				n[e].pos = cnt ? sum / cnt : n[e].order;
			}
			sort_layer(rows[l], rowlen[l], n);
			for (int k = 0; k < rowlen[l]; k++)
				n[rows[l][k]].order = k;
		}
	}
	return nl;
}

/* Which group of the chosen plan each Einsum is in, and its unit. */
static void assign_groups(const report_data *d, node *n)
{
	const plan *p = d->plans[d->policy];
	for (int gi = 0; gi < p->ngroups; gi++)
		for (int m = 0; m < p->groups[gi].nmembers; m++) {
			const plan_member *mb = &p->groups[gi].members[m];
			n[mb->einsum].group = gi;
			n[mb->einsum].unit = mb->unit;
		}
}

static void draw_edges(sbuf *s, const deps_graph *g, const node *n)
{
	const ein_cascade *c = g->c;
	sbuf_printf(s, "<g class=\"edges\">\n");
	for (int i = 0; i < g->nedges; i++) {
		const deps_edge *ed = &g->edges[i];
		int first = 1;
		for (int j = 0; j < i; j++)
			if (g->edges[j].producer == ed->producer && g->edges[j].consumer == ed->consumer)
				first = 0;
		if (!first)
			continue;
		const node *a = &n[ed->producer], *b = &n[ed->consumer];
		double x0 = a->x + a->w / 2, y0 = a->y + NODE_H, x1 = b->x + b->w / 2, y1 = b->y;
		double my = (y1 - y0) / 2;
		sbuf_printf(s, "<path d=\"M%.1f %.1f C%.1f %.1f %.1f %.1f %.1f %.1f\"", x0, y0, x0,
			    y0 + my, x1, y1 - my, x1, y1 - 4);
		/* The tensors this pair carries. */
		char tensors[512] = "";
		size_t len = 0;
		for (int j = i; j < g->nedges && len + 2 < sizeof(tensors); j++) {
			const deps_edge *o = &g->edges[j];
			if (o->producer != ed->producer || o->consumer != ed->consumer)
				continue;
			int w = snprintf(tensors + len, sizeof(tensors) - len, "%s%s", len ? ", " : "",
					 c->tensors[o->tensor].name);
			if (w < 0 || (size_t)w >= sizeof(tensors) - len)
				break;
			len += (size_t)w;
		}
		rs_tip(s, "%s \xe2\x86\x92 %s: %s", c->einsums[ed->producer].name,
		       c->einsums[ed->consumer].name, tensors);
		sbuf_printf(s, "\" marker-end=\"url(#arrow)\"/>\n");
	}
	sbuf_printf(s, "</g>\n");
}

static void draw_nodes(sbuf *s, const report_data *d, const node *n)
{
	const ein_cascade *c = d->g->c;
	const plan *p = d->plans[d->policy];
	sbuf_printf(s, "<g class=\"nodes\">\n");
	for (int e = 0; e < c->neinsums; e++) {
		const node *v = &n[e];
		const char *col = rs_group_colour(v->group);
		const plan_group *gr = &p->groups[v->group];
		char band[256] = "";
		size_t len = 0;
		for (int b = 0; b < gr->nband && len + 2 < sizeof(band); b++) {
			int w = snprintf(band + len, sizeof(band) - len, "%s%s:%lld", b ? ", " : "",
					 gr->band[b], (long long)gr->tile[b]);
			if (w < 0 || (size_t)w >= sizeof(band) - len)
				break;
			len += (size_t)w;
		}
		sbuf_printf(s, "<g class=\"node\" data-group=\"%d\"", v->group);
		rs_tip(s, "%s (writes %s)\ngroup %d of %d, %s array\nfused ranks: %s",
		       c->einsums[e].name, c->tensors[c->einsums[e].out.tensor].name, v->group + 1,
		       p->ngroups, v->unit == PLAN_UNIT_2D ? "2D" : "1D", len ? band : "none");
		sbuf_printf(s, "\"><rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.0f\" rx=\"6\" "
			       "fill=\"%s\" fill-opacity=\"0.18\" stroke=\"%s\" stroke-width=\"2\"/>",
			    v->x, v->y, v->w, NODE_H, col, col);
		sbuf_printf(s, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">", v->x + v->w / 2 - 8,
			    v->y + 19);
		const char *name = c->einsums[e].name;
		if (strlen(name) > 18) {
			char cut[20];
			snprintf(cut, sizeof(cut), "%.16s", name);
			rs_esc(s, cut);
			sbuf_printf(s, "\xe2\x80\xa6");
		} else {
			rs_esc(s, name);
		}
		sbuf_printf(s, "</text><text class=\"unit\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%s"
			       "</text></g>\n",
			    v->x + v->w - 5, v->y + 19, v->unit == PLAN_UNIT_2D ? "2D" : "1D");
	}
	sbuf_printf(s, "</g>\n");
}

void report_graph(sbuf *s, const report_data *d)
{
	const deps_graph *g = d->g;
	int ne = g->c->neinsums;
	node *n = calloc((size_t)ne, sizeof(node));
	int **rows = calloc((size_t)ne, sizeof(int *));
	int *rowlen = calloc((size_t)ne, sizeof(int));
	double *rowsw = calloc((size_t)ne, sizeof(double));
	int ok = n && rows && rowlen && rowsw;
	for (int l = 0; ok && l < ne; l++)
		ok = (rows[l] = calloc((size_t)ne, sizeof(int))) != NULL;
	if (!ok) {
		s->oom = 1;
		goto done;
	}
	int nl = layout(g, n, rows, rowlen);
	assign_groups(d, n);
	/* Widths from the labels; x from the order, each row centred. */
	for (int e = 0; e < ne; e++) {
		size_t len = strlen(g->c->einsums[e].name);
		n[e].w = 44.0 + 7.2 * (double)(len > 18 ? 17 : len);
	}
	double width = 0;
	for (int l = 0; l < nl; l++) {
		double rw = 0;
		for (int k = 0; k < rowlen[l]; k++)
			rw += n[rows[l][k]].w + (k ? COL_GAP : 0);
		rowsw[l] = rw;
		if (rw > width)
			width = rw;
	}
	width += 2 * MARGIN;
	for (int l = 0; l < nl; l++) {
		double x = (width - rowsw[l]) / 2;
		for (int k = 0; k < rowlen[l]; k++) {
			node *v = &n[rows[l][k]];
			v->x = x;
			v->y = MARGIN + l * (NODE_H + ROW_GAP);
			x += v->w + COL_GAP;
		}
	}
	double height = 2 * MARGIN + nl * NODE_H + (nl - 1) * ROW_GAP;
	rs_svg_begin(s, "graph", width < 320 ? 320 : width, height,
		     "the cascade's Einsums coloured by fusion group");
	sbuf_printf(s, "<defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"8\" refY=\"5\" "
		       "markerWidth=\"7\" markerHeight=\"7\" orient=\"auto-start-reverse\">"
		       "<path d=\"M0 0L10 5L0 10z\" fill=\"#8a8f98\"/></marker></defs>\n");
	draw_edges(s, g, n);
	draw_nodes(s, d, n);
	rs_svg_end(s);
done:
	for (int l = 0; rows && l < ne; l++)
		free(rows[l]);
	free(rows);
	free(rowlen);
	free(rowsw);
	free(n);
}
