/* report_html.c - the report's page: its style and script, the header with
 * the headline figures, the sections in the order a reader asks (what
 * fuses, where time goes, where traffic goes, how the policies compare,
 * what the buffer buys, what the simulator saw), and the tables beside the
 * charts (see report.h). */
#include "report_impl.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/units.h"

static const char style[] =
	"<style>\n"
	":root{--fg:#1f2328;--muted:#59636e;--line:#d1d9e0;--bg:#f6f8fa;--card:#fff}\n"
	"*{box-sizing:border-box}\n"
	"body{margin:0;font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;"
	"color:var(--fg);background:var(--bg)}\n"
	"main{max-width:1240px;margin:0 auto;padding:18px 22px 40px}\n"
	"h1{font-size:22px;margin:4px 0 2px}h2{font-size:17px;margin:0 0 10px}\n"
	".sub{color:var(--muted);margin:0 0 14px}\n"
	"section{background:var(--card);border:1px solid var(--line);border-radius:8px;"
	"padding:16px 18px;margin:14px 0}\n"
	".cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(150px,1fr));gap:10px}\n"
	".card{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:10px 12px}\n"
	".card b{display:block;font-size:20px}.card span{color:var(--muted);font-size:12px}\n"
	".two{display:grid;grid-template-columns:repeat(auto-fit,minmax(520px,1fr));gap:18px;"
	"align-items:start}\n"
	".fusion{grid-template-columns:minmax(260px,2fr) minmax(440px,3fr)}\n"
	".chart{width:100%;height:auto;display:block}\n"
	".chart text{font-size:11px;fill:#333}.chart .title{font-size:12px;fill:#555}\n"
	".chart .grid{stroke:#eaeef2}.chart .frame{stroke:#8c959f}\n"
	".chart .inbar{fill:#fff;font-size:10px;pointer-events:none}\n"
	".chart .unit{font-size:9px;fill:#59636e}.chart .note{font-size:10px;fill:#555}\n"
	".edges path{fill:none;stroke:#8a8f98;stroke-width:1.4}\n"
	".edges path:hover{stroke:#1f2328;stroke-width:2.4}\n"
	".node{cursor:default}.dim{opacity:.25}\n"
	"table{border-collapse:collapse;width:100%;font-size:12.5px}\n"
	"th,td{text-align:left;padding:4px 8px;border-bottom:1px solid var(--line);"
	"vertical-align:top}\n"
	"th{color:var(--muted);font-weight:600}td.n,th.n{text-align:right;white-space:nowrap;"
	"font-variant-numeric:tabular-nums}\n"
	"tr.chosen td{font-weight:600}.sw{display:inline-block;width:10px;height:10px;"
	"border-radius:2px;margin-right:6px}\n"
	".scroll{max-height:560px;overflow:auto}\n"
	"#tip{position:fixed;display:none;max-width:420px;white-space:pre-line;background:#1f2328;"
	"color:#fff;padding:6px 9px;border-radius:5px;font-size:12px;pointer-events:none;z-index:9}\n"
	".warn{color:#9a6700}footer{color:var(--muted);font-size:12px;margin-top:18px}\n"
	"</style>\n";

/* In <head>, before any other script: an error anywhere marks the page. */
static const char error_hook[] =
	"<script>window.addEventListener('error',function(){"
	"document.documentElement.setAttribute('data-errors','1');});</script>\n";

/* Tooltips for every [data-tip]; hovering a group (a graph node or a table
 * row) dims the others.  It sets data-ready last, so a test can tell that
 * it ran without an error. */
static const char script[] =
	"<script>\n"
	"(function(){\n"
	"var tip=document.getElementById('tip');\n"
	"function group(el){var g=el&&el.closest?el.closest('[data-group]'):null;"
	"return g?g.getAttribute('data-group'):null;}\n"
	"function mark(g){document.querySelectorAll('#graph .node').forEach(function(n){"
	"n.classList.toggle('dim',g!==null&&n.getAttribute('data-group')!==g);});}\n"
	"document.addEventListener('mouseover',function(e){\n"
	" var t=e.target.closest?e.target.closest('[data-tip]'):null;\n"
	" if(t){tip.textContent=t.getAttribute('data-tip');tip.style.display='block';}\n"
	" else tip.style.display='none';\n"
	" mark(group(e.target));});\n"
	"document.addEventListener('mousemove',function(e){\n"
	" var x=Math.min(e.clientX+14,window.innerWidth-tip.offsetWidth-8);\n"
	" var y=e.clientY+14+tip.offsetHeight>window.innerHeight?e.clientY-tip.offsetHeight-10:"
	"e.clientY+14;\n"
	" tip.style.left=Math.max(4,x)+'px';tip.style.top=Math.max(4,y)+'px';});\n"
	"document.body.setAttribute('data-ready','1');\n"
	"})();\n"
	"</script>\n";

static double seconds(const report_data *d, double cycles)
{
	return cycles / (d->t->clock_ghz * 1e9);
}

static void card(sbuf *s, const char *value, const char *what)
{
	sbuf_printf(s, "<div class=\"card\"><b>");
	rs_esc(s, value);
	sbuf_printf(s, "</b><span>");
	rs_esc(s, what);
	sbuf_printf(s, "</span></div>\n");
}

static void header(sbuf *s, const report_data *d)
{
	const plan *p = d->plans[d->policy];
	const ein_cascade *c = d->g->c;
	sbuf_printf(s, "<h1>");
	rs_esc(s, c->file);
	sbuf_printf(s, "</h1><p class=\"sub\">policy <b>%s</b> on <b>", report_policy_names[d->policy]);
	rs_esc(s, d->t->name);
	sbuf_printf(s, "</b>");
	for (int i = 0; i < c->nparams; i++) {
		sbuf_printf(s, "%s", i ? ", " : " &middot; ");
		rs_esc(s, c->params[i].name);
		sbuf_printf(s, "=%lld", (long long)c->params[i].value);
	}
	sbuf_printf(s, " &middot; %d Einsums</p>\n<div class=\"cards\">\n", c->neinsums);
	char b[64], b2[64], t[96];
	units_time(p->latency_seconds, b, sizeof(b));
	card(s, b, "modelled latency");
	units_bytes(p->total.dram_bytes, b, sizeof(b));
	card(s, b, "DRAM traffic");
	snprintf(b, sizeof(b), "%d", p->ngroups);
	card(s, b, "fusion groups");
	units_mib(p->total.buffer_bytes, b, sizeof(b));
	units_mib((double)d->t->buffer_bytes, b2, sizeof(b2));
	snprintf(t, sizeof(t), "peak buffer of %s", b2);
	card(s, b, t);
	for (int pi = 0; pi < REPORT_NPOL; pi++) {
		if (pi == d->policy || p->latency_seconds <= 0)
			continue;
		snprintf(b, sizeof(b), "%.2fx", d->plans[pi]->latency_seconds / p->latency_seconds);
		snprintf(t, sizeof(t), "faster than %s", report_policy_names[pi]);
		card(s, b, t);
	}
	if (d->simulated) {
		units_time(d->sim.seconds, b, sizeof(b));
		card(s, b, "simulated latency");
	}
	sbuf_printf(s, "</div>\n");
}

/* The groups' table: members, fused ranks and tiles, figures. */
static void group_table(sbuf *s, const report_data *d)
{
	const plan *p = d->plans[d->policy];
	const ein_cascade *c = d->g->c;
	sbuf_printf(s, "<div class=\"scroll\"><table id=\"groups\"><tr><th>group</th><th>Einsums</th>"
		       "<th>fused ranks : tile</th><th class=\"n\">latency</th><th>bound</th>"
		       "<th class=\"n\">DRAM</th><th class=\"n\">buffer</th></tr>\n");
	for (int gi = 0; gi < p->ngroups; gi++) {
		const plan_group *gr = &p->groups[gi];
		sbuf_printf(s, "<tr data-group=\"%d\"><td><span class=\"sw\" style=\"background:%s\">"
			       "</span>G%d</td><td>",
			    gi, rs_group_colour(gi), gi + 1);
		for (int m = 0; m < gr->nmembers; m++) {
			sbuf_printf(s, "%s", m ? ", " : "");
			rs_esc(s, c->einsums[gr->members[m].einsum].name);
		}
		sbuf_printf(s, "</td><td>");
		for (int b = 0; b < gr->nband; b++) {
			sbuf_printf(s, "%s", b ? ", " : "");
			rs_esc(s, gr->band[b]);
			sbuf_printf(s, ":%lld", (long long)gr->tile[b]);
		}
		if (!gr->nband)
			sbuf_printf(s, "&ndash;");
		char lat[32], dram[32], buf[32];
		/* What binds the group: compute, DRAM, or an on-chip level. */
		const char *bound = gr->cost.comp_cycles >= gr->cost.mem_cycles ? "compute" : "memory";
		double top = gr->cost.comp_cycles > gr->cost.mem_cycles ? gr->cost.comp_cycles
									: gr->cost.mem_cycles;
		for (int l = 1; l < gr->cost.nlevels && l < PLAN_MAX_LEVELS; l++)
			if (gr->cost.level_cycles[l] > top) {
				top = gr->cost.level_cycles[l];
				bound = plan_level_name(p, l);
			}
		units_time(seconds(d, gr->cost.cycles), lat, sizeof(lat));
		units_bytes(gr->cost.dram_bytes, dram, sizeof(dram));
		units_mib(gr->cost.buffer_bytes, buf, sizeof(buf));
		sbuf_printf(s, "</td><td class=\"n\">%s</td><td>%s</td><td class=\"n\">%s</td>"
			       "<td class=\"n\">%s%s</td></tr>\n",
			    lat, bound, dram,
			    buf, gr->fits ? "" : " <span class=\"warn\">(does not fit)</span>");
	}
	sbuf_printf(s, "</table></div>\n");
}

static void policy_table(sbuf *s, const report_data *d)
{
	sbuf_printf(s, "<table id=\"policies\"><tr><th>policy</th><th class=\"n\">groups</th>"
		       "<th class=\"n\">latency</th><th class=\"n\">DRAM</th>"
		       "<th class=\"n\">peak buffer</th><th class=\"n\">2D util</th>"
		       "<th class=\"n\">1D util</th><th class=\"n\">vs unfused</th></tr>\n");
	double base = d->plans[0]->latency_seconds;
	for (int pi = 0; pi < REPORT_NPOL; pi++) {
		const plan *p = d->plans[pi];
		char lat[32], dram[32], buf[32];
		units_time(p->latency_seconds, lat, sizeof(lat));
		units_bytes(p->total.dram_bytes, dram, sizeof(dram));
		units_mib(p->total.buffer_bytes, buf, sizeof(buf));
		sbuf_printf(s, "<tr%s><td>%s</td><td class=\"n\">%d</td><td class=\"n\">%s</td>"
			       "<td class=\"n\">%s</td><td class=\"n\">%s</td><td class=\"n\">%.1f%%</td>"
			       "<td class=\"n\">%.1f%%</td><td class=\"n\">%.2fx</td></tr>\n",
			    pi == d->policy ? " class=\"chosen\"" : "", report_policy_names[pi], p->ngroups,
			    lat, dram, buf, 100 * p->total.util_2d, 100 * p->total.util_1d,
			    p->latency_seconds > 0 ? base / p->latency_seconds : 0);
	}
	sbuf_printf(s, "</table>\n");
}

/* The memory levels (a target with memory_levels): per level and policy,
 * bytes read and written and the share of the latency it is busy. */
static void levels_table(sbuf *s, const report_data *d)
{
	const plan *p = d->plans[d->policy];
	if (p->total.nlevels < 2)
		return;
	sbuf_printf(s, "<table id=\"levels\"><tr><th>memory level</th>");
	for (int pi = 0; pi < REPORT_NPOL; pi++)
		sbuf_printf(s, "<th class=\"n\">%s</th><th class=\"n\">busy</th>",
			    report_policy_names[pi]);
	sbuf_printf(s, "</tr>\n");
	for (int l = 0; l < p->total.nlevels && l < PLAN_MAX_LEVELS; l++) {
		sbuf_printf(s, "<tr><td>");
		rs_esc(s, plan_level_name(p, l));
		sbuf_printf(s, "</td>");
		for (int pi = 0; pi < REPORT_NPOL; pi++) {
			const plan_cost *c = &d->plans[pi]->total;
			char b[32];
			units_bytes(c->level_read_bytes[l] + c->level_write_bytes[l], b, sizeof(b));
			sbuf_printf(s, "<td class=\"n\">%s</td><td class=\"n\">%.1f%%</td>", b,
				    c->cycles > 0 ? 100 * c->level_cycles[l] / c->cycles : 0.0);
		}
		sbuf_printf(s, "</tr>\n");
	}
	sbuf_printf(s, "</table>\n");
}

static void sim_cards(sbuf *s, const report_data *d)
{
	const sim_stats *st = &d->sim;
	const plan *p = d->plans[d->policy];
	char b[64], t[96];
	sbuf_printf(s, "<div class=\"cards\">\n");
	units_time(st->seconds, b, sizeof(b));
	snprintf(t, sizeof(t), "simulated (the model: %.4g us)", p->latency_seconds * 1e6);
	card(s, b, t);
	units_time(st->scheduled_cycles / (d->t->clock_ghz * 1e9), b, sizeof(b));
	card(s, b, "tile schedule (the timeline)");
	units_bytes(st->dram_bytes, b, sizeof(b));
	card(s, b, "DRAM traffic");
	units_mib((double)st->peak_buffer_bytes, b, sizeof(b));
	card(s, b, "peak buffer");
	snprintf(b, sizeof(b), "%.1f%% / %.1f%%", 100 * st->util_2d, 100 * st->util_1d);
	card(s, b, "2D / 1D array utilisation");
	snprintf(b, sizeof(b), "%lld", (long long)st->instructions);
	card(s, b, "instructions executed");
	sbuf_printf(s, "</div>\n");
	if (st->trace_dropped)
		sbuf_printf(s, "<p class=\"warn\">The timeline shows the first %lld events; %lld more "
			       "were not recorded.</p>\n",
			    (long long)st->trace_events, (long long)st->trace_dropped);
}

static void body(sbuf *s, const report_data *d)
{
	header(s, d);
	sbuf_printf(s, "<section id=\"fusion\"><h2>Fusion groups</h2><div class=\"two fusion\"><div>\n");
	report_graph(s, d);
	sbuf_printf(s, "</div><div>\n");
	group_table(s, d);
	sbuf_printf(s, "</div></div></section>\n");
	sbuf_printf(s, "<section id=\"time\"><h2>Where the time goes</h2><div class=\"two\"><div>\n");
	report_latency_bars(s, d);
	sbuf_printf(s, "</div><div>\n");
	report_util_bars(s, d);
	sbuf_printf(s, "</div></div></section>\n");
	sbuf_printf(s, "<section id=\"traffic\"><h2>Where the traffic goes</h2><div class=\"two\">"
		       "<div>\n");
	report_traffic_bars(s, d);
	sbuf_printf(s, "</div><div>\n");
	report_roofline(s, d);
	sbuf_printf(s, "</div></div></section>\n");
	sbuf_printf(s, "<section id=\"policies-section\"><h2>The policies side by side</h2>\n");
	policy_table(s, d);
	levels_table(s, d);
	sbuf_printf(s, "<div class=\"two\"><div>\n");
	report_policy_bars(s, d, 0);
	sbuf_printf(s, "</div><div>\n");
	report_policy_bars(s, d, 1);
	sbuf_printf(s, "</div></div></section>\n");
	if (d->nsweep >= 2) {
		sbuf_printf(s, "<section id=\"sweep\"><h2>What the buffer buys</h2><p class=\"sub\">"
			       "Each policy planned again with the global buffer from ");
		char lo[32], hi[32];
		units_mib((double)d->sweep_bytes[0], lo, sizeof(lo));
		units_mib((double)d->sweep_bytes[d->nsweep - 1], hi, sizeof(hi));
		sbuf_printf(s, "%s to %s; a missing point is a size where some group does not fit."
			       "</p><div class=\"two\"><div>\n",
			    lo, hi);
		report_sweep_plot(s, d, 0);
		sbuf_printf(s, "</div><div>\n");
		report_sweep_plot(s, d, 1);
		sbuf_printf(s, "</div></div></section>\n");
	}
	if (d->simulated) {
		sbuf_printf(s, "<section id=\"simulation\"><h2>The simulator's run</h2>\n");
		sim_cards(s, d);
		report_timeline(s, d);
		sbuf_printf(s, "</section>\n");
	}
	sbuf_printf(s, "<footer>");
	if (d->t->nassumptions) {
		sbuf_printf(s, "<p>The target's stated assumptions:</p><ul>");
		for (int i = 0; i < d->t->nassumptions; i++) {
			sbuf_printf(s, "<li>");
			rs_esc(s, d->t->assumptions[i]);
			sbuf_printf(s, "</li>");
		}
		sbuf_printf(s, "</ul>");
	}
	sbuf_printf(s, "<p>Made by mambalaya report: the analytical model of docs/cost-model.md"
		       "%s.</p></footer>\n",
		    d->simulated ? " and the simulator of docs/isa.md" : "");
}

char *report_html(const report_data *d)
{
	sbuf s = {0};
	sbuf_printf(&s, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
			"<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\n"
			"<title>");
	rs_esc(&s, d->g->c->file);
	sbuf_printf(&s, " &middot; mambalaya report</title>\n%s%s</head>\n<body>\n<div id=\"tip\"></div>"
			"\n<main>\n",
		    style, error_hook);
	body(&s, d);
	sbuf_printf(&s, "</main>\n%s</body></html>\n", script);
	if (s.oom) {
		sbuf_free(&s);
		return NULL;
	}
	return s.p;
}
