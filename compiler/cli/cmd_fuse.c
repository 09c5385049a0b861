/* cmd_fuse.c - `mambalaya fuse`: is a candidate fusion group legal, and what
 * does one of its tiles need on chip? */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "analysis/deps.h"
#include "analysis/fusion.h"
#include "analysis/poly.h"
#include "base/diag.h"
#include "base/units.h"
#include "cli.h"

static const char usage_text[] =
	"Usage: mambalaya fuse FILE --group E1,E2,... --ranks R1,R2,...\n"
	"                      [--tile R=SIZE]... [--parallel R1,...] [--permutable]\n"
	"                      [-D NAME=VALUE]... [--json]\n"
	"\n"
	"Checks whether the Einsums E1, E2, ... (named by label, by output tensor,\n"
	"or T.k when several Einsums write T) can run as one fused loop nest whose\n"
	"outer tiled loops are the ranks R1, R2, ... (in that order), with the\n"
	"members in source order inside each tile.  Prints the verdict; when\n"
	"illegal, the dependent instances that would run in the wrong order; when\n"
	"legal, which fused ranks are parallel and the footprint of a tile of\n"
	"every tensor the group touches (computed with isl): elements on chip,\n"
	"elements carried from earlier tiles (halos, recurrence states), elements\n"
	"read again.\n"
	"\n"
	"Options:\n"
	"  --group LIST      the Einsums of the group (comma separated)\n"
	"  --ranks LIST      the fused ranks, outermost first\n"
	"  --tile R=SIZE     tile size of fused rank R (default 1; repeatable)\n"
	"  --parallel LIST   fused ranks that must run in parallel\n"
	"  --permutable      require legality for every tile size\n"
	"  -D NAME=VALUE     override a parameter (repeatable)\n"
	"  --json            print the result as JSON (docs/fusion.md)\n"
	"  -h, --help        show this help\n"
	"\n"
	"Exit status: 0 legal, 4 illegal, 1 errors in the input, 2 bad command\n"
	"line, 3 internal error.\n";

static void usage(void)
{
	fputs(usage_text, stdout);
}

#define FUSE_EXIT_ILLEGAL 4

/* Splits a comma-separated list into a modifiable buffer; returns count. */
static int split_list(char *buf, char **items, int max)
{
	int n = 0;
	for (char *p = strtok(buf, ","); p && n < max; p = strtok(NULL, ","))
		items[n++] = p;
	return n;
}

static const char *closest_einsum(const ein_cascade *c, const char *name)
{
	const char *best = NULL;
	int bd = 3;
	for (int e = 0; e < c->neinsums; e++) {
		int d = diag_edit_distance(name, c->einsums[e].name);
		if (d < bd) {
			bd = d;
			best = c->einsums[e].name;
		}
	}
	return best;
}

static void instance_json(cJSON *parent, const char *key, const ein_cascade *c,
			  int e, const int64_t *x)
{
	cJSON *o = cJSON_AddObjectToObject(parent, key);
	const ein_einsum *es = &c->einsums[e];
	for (int v = 0; v < es->nvars; v++)
		cJSON_AddNumberToObject(o, es->vars[v].name, (double)x[v]);
}

static int64_t tile_of(const deps_graph *g, const fusion_req *req, int e,
		       const int64_t *x, int k)
{
	int64_t v = x[g->var_of[e][req->band[k]]], t = req->tile[k];
	return v / t - ((v % t != 0) && (v < 0));
}

static void describe_witness(const deps_graph *g, const fusion_req *req,
			     const fusion_witness *w, char *buf, size_t len)
{
	const ein_cascade *c = g->c;
	char a[512], b[512], el[256], where[256] = "";
	deps_instance_str(c, w->producer, w->x, a, sizeof(a));
	deps_instance_str(c, w->consumer, w->y, b, sizeof(b));
	deps_element_str(c, w->producer, w->x, el, sizeof(el));
	if (w->band >= 0) {
		const char *r = g->ranks[req->band[w->band]];
		snprintf(where, sizeof(where), "tile %" PRId64 " of '%s' for the writer, tile %" PRId64 " for the %s",
			 tile_of(g, req, w->producer, w->x, w->band), r,
			 tile_of(g, req, w->consumer, w->y, w->band),
			 w->tensor >= 0 ? "reader" : "other");
	}
	if (w->tensor >= 0 && w->parallel)
		snprintf(buf, len,
			 "%s reads %s, written by %s in another tile of '%s' (%s): "
			 "'%s' cannot run in parallel",
			 b, el, a, g->ranks[req->band[w->band]], where,
			 g->ranks[req->band[w->band]]);
	else if (w->tensor >= 0)
		snprintf(buf, len,
			 "%s reads %s, written by %s, which would run later (%s)",
			 b, el, a, where[0] ? where : "same tile");
	else
		snprintf(buf, len,
			 "%s and %s access %s in this order, which the fused "
			 "schedule reverses (%s)",
			 a, b, el, where[0] ? where : "same tile");
}

static int print_result(const deps_graph *g, const fusion_req *req,
			const fusion_result *res, int json)
{
	const ein_cascade *c = g->c;
	char buf[2048];
	if (json) {
		cJSON *root = cJSON_CreateObject();
		cJSON *grp = cJSON_AddArrayToObject(root, "group");
		for (int e = 0; e < c->neinsums; e++)
			if (req->members[e])
				cJSON_AddItemToArray(grp, cJSON_CreateString(c->einsums[e].name));
		cJSON *band = cJSON_AddArrayToObject(root, "band");
		for (int k = 0; k < req->nband; k++) {
			cJSON *o = cJSON_CreateObject();
			cJSON_AddStringToObject(o, "rank", g->ranks[req->band[k]]);
			cJSON_AddNumberToObject(o, "tile", (double)req->tile[k]);
			cJSON_AddBoolToObject(o, "parallel", (res->parallel >> k) & 1);
			cJSON_AddItemToArray(band, o);
		}
		cJSON_AddBoolToObject(root, "legal", res->legal);
		cJSON *ws = cJSON_AddArrayToObject(root, "witnesses");
		for (int i = 0; i < res->nwitness; i++) {
			const fusion_witness *w = &res->witness[i];
			cJSON *o = cJSON_CreateObject();
			cJSON_AddStringToObject(o, "producer", c->einsums[w->producer].name);
			cJSON_AddStringToObject(o, "consumer", c->einsums[w->consumer].name);
			if (w->tensor >= 0)
				cJSON_AddStringToObject(o, "tensor", c->tensors[w->tensor].name);
			else
				cJSON_AddNullToObject(o, "tensor");
			instance_json(o, "producer_instance", c, w->producer, w->x);
			instance_json(o, "consumer_instance", c, w->consumer, w->y);
			if (w->band >= 0)
				cJSON_AddStringToObject(o, "rank", g->ranks[req->band[w->band]]);
			else
				cJSON_AddNullToObject(o, "rank");
			cJSON_AddStringToObject(o, "reason", w->parallel ? "parallel" : "backwards");
			describe_witness(g, req, w, buf, sizeof(buf));
			cJSON_AddStringToObject(o, "text", buf);
			cJSON_AddItemToArray(ws, o);
		}
		if (res->legal) {
			cJSON_AddNumberToObject(root, "tiles", (double)res->ntiles);
			cJSON *ti = cJSON_AddObjectToObject(root, "tile");
			for (int k = 0; k < req->nband; k++)
				cJSON_AddNumberToObject(ti, g->ranks[req->band[k]],
							(double)res->tile_index[k]);
			cJSON *ts = cJSON_AddArrayToObject(root, "tensors");
			for (int i = 0; i < res->nfp; i++) {
				const fusion_fp *f = &res->fp[i];
				const ein_tensor *tt = &c->tensors[f->tensor];
				cJSON *o = cJSON_CreateObject();
				cJSON_AddStringToObject(o, "name", tt->name);
				cJSON_AddStringToObject(o, "role", fusion_role_name(f->role));
				cJSON_AddNumberToObject(o, "elements", (double)f->footprint);
				cJSON_AddNumberToObject(o, "written", (double)f->written);
				cJSON_AddNumberToObject(o, "carried", (double)f->carried);
				cJSON_AddNumberToObject(o, "reread", (double)f->reread);
				cJSON_AddNumberToObject(o, "bytes",
							(double)(f->footprint * ein_type_bytes(tt->type)));
				cJSON_AddBoolToObject(o, "exact", f->exact);
				cJSON_AddItemToArray(ts, o);
			}
			cJSON_AddNumberToObject(root, "buffer_bytes", (double)res->buffer_bytes);
		}
		char *s = cJSON_Print(root);
		cJSON_Delete(root);
		if (!s)
			return -1;
		printf("%s\n", s);
		free(s);
		return 0;
	}
	printf("group:");
	for (int e = 0; e < c->neinsums; e++)
		if (req->members[e])
			printf(" %s", c->einsums[e].name);
	printf("\nfused ranks:");
	for (int k = 0; k < req->nband; k++)
		printf(" %s (tile %" PRId64 ", %s)", g->ranks[req->band[k]], req->tile[k],
		       (res->parallel >> k) & 1 ? "parallel" : "sequential");
	printf("\nverdict: %s\n", res->legal ? "legal" : "illegal");
	for (int i = 0; i < res->nwitness; i++) {
		describe_witness(g, req, &res->witness[i], buf, sizeof(buf));
		printf("  witness: %s\n", buf);
	}
	if (!res->legal)
		return 0;
	printf("tiles: %" PRId64 "; footprint of the tile (", res->ntiles);
	for (int k = 0; k < req->nband; k++)
		printf("%s%s=%" PRId64, k ? ", " : "", g->ranks[req->band[k]],
		       res->tile_index[k]);
	printf("):\n");
	printf("  %-8s %-8s %12s %12s %12s %12s %12s\n", "tensor", "role",
	       "elements", "written", "carried", "reread", "bytes");
	for (int i = 0; i < res->nfp; i++) {
		const fusion_fp *f = &res->fp[i];
		const ein_tensor *tt = &c->tensors[f->tensor];
		printf("  %-8s %-8s %12" PRId64 " %12" PRId64 " %12" PRId64 " %12" PRId64
		       " %12" PRId64 "%s\n",
		       tt->name, fusion_role_name(f->role), f->footprint, f->written,
		       f->carried, f->reread, f->footprint * ein_type_bytes(tt->type),
		       f->exact ? "" : " (upper bound)");
	}
	printf("buffer: %" PRId64 " bytes for one tile\n", res->buffer_bytes);
	return 0;
}

/* The command line of `fuse`. */
typedef struct fuse_args {
	const char *file, *group, *ranks, *par;
	const char *tiles[FUSION_MAX_BAND * 2];
	int ntiles, json, permutable;
	cli_defines defs;
} fuse_args;

/* Returns CLI_CONTINUE when the arguments are good, else an exit status
 * (after --help or a usage error). */
static int parse_args(int argc, char **argv, fuse_args *a)
{
	for (int i = 1; i < argc;) {
		const char *t = NULL;
		int r = cli_take_define("fuse", argc, argv, &i, &a->defs);
		if (!r)
			r = cli_take_value("fuse", "--group", argc, argv, &i, &a->group);
		if (!r)
			r = cli_take_value("fuse", "--ranks", argc, argv, &i, &a->ranks);
		if (!r)
			r = cli_take_value("fuse", "--parallel", argc, argv, &i, &a->par);
		if (!r) {
			r = cli_take_value("fuse", "--tile", argc, argv, &i, &t);
			if (r > 0) {
				if (a->ntiles == FUSION_MAX_BAND * 2) {
					cli_usage_error("fuse", "too many --tile options");
					return CLI_EXIT_USAGE;
				}
				a->tiles[a->ntiles++] = t;
			}
		}
		if (r < 0)
			return CLI_EXIT_USAGE;
		if (r)
			continue;
		if (strcmp(argv[i], "--json") == 0 || strcmp(argv[i], "--permutable") == 0) {
			a->json |= argv[i][2] == 'j';
			a->permutable |= argv[i][2] == 'p';
			i++;
			continue;
		}
		r = cli_take_rest("fuse", usage, argv, &i, &a->file);
		if (r != CLI_ARG_NEXT)
			return cli_rest_status(r);
	}
	if (!a->file || !a->group || !a->ranks) {
		cli_usage_error("fuse", "FILE, --group and --ranks are required");
		return CLI_EXIT_USAGE;
	}
	return CLI_CONTINUE;
}

/* --group: the members.  Returns 0 or -1 after a usage error. */
static int take_members(const fuse_args *a, const ein_cascade *c, char *members)
{
	char buf[4096];
	char *items[256];
	snprintf(buf, sizeof(buf), "%s", a->group);
	int n = split_list(buf, items, 256);
	for (int i = 0; i < n; i++) {
		int e = ein_cascade_find_einsum(c, items[i]);
		if (e < 0) {
			const char *s = closest_einsum(c, items[i]);
			cli_usage_error("fuse", "no Einsum named '%s'%s%s%s", items[i],
					s ? " (did you mean '" : "", s ? s : "", s ? "'?)" : "");
			return -1;
		}
		members[e] = 1;
	}
	return 0;
}

/* --ranks and --tile: the band.  Returns 0 or -1 after a usage error. */
static int take_band(const fuse_args *a, const deps_graph *g, fusion_req *req)
{
	char buf[4096];
	char *items[256];
	snprintf(buf, sizeof(buf), "%s", a->ranks);
	int n = split_list(buf, items, 256);
	if (n > FUSION_MAX_BAND) {
		cli_usage_error("fuse", "at most %d fused ranks", FUSION_MAX_BAND);
		return -1;
	}
	for (int i = 0; i < n; i++) {
		int r = deps_rank(g, items[i]);
		if (r < 0) {
			cli_usage_error("fuse", "no rank named '%s' in this cascade", items[i]);
			return -1;
		}
		for (int k = 0; k < req->nband; k++)
			if (req->band[k] == r) {
				cli_usage_error("fuse", "rank '%s' is listed twice", items[i]);
				return -1;
			}
		req->band[req->nband] = r;
		req->tile[req->nband++] = 1;
	}
	for (int i = 0; i < a->ntiles; i++) {
		const char *tl = a->tiles[i], *eq = strchr(tl, '=');
		char nm[64];
		int64_t v = 0;
		if (!eq || eq == tl || (size_t)(eq - tl) >= sizeof(nm) ||
		    units_parse_size(eq + 1, &v) < 0 || v < 1) {
			cli_usage_error("fuse", "--tile needs RANK=SIZE with SIZE >= 1, not '%s'", tl);
			return -1;
		}
		snprintf(nm, sizeof(nm), "%.*s", (int)(eq - tl), tl);
		int found = 0;
		for (int k = 0; k < req->nband; k++)
			if (strcmp(g->ranks[req->band[k]], nm) == 0) {
				req->tile[k] = v;
				found = 1;
			}
		if (!found) {
			cli_usage_error("fuse", "--tile %s: '%s' is not a fused rank (--ranks)", tl,
					nm);
			return -1;
		}
	}
	return 0;
}

/* --parallel: band members asked to be parallel.  Returns 0 or -1. */
static int take_parallel(const fuse_args *a, const deps_graph *g, fusion_req *req)
{
	char buf[4096];
	char *items[256];
	if (!a->par)
		return 0;
	snprintf(buf, sizeof(buf), "%s", a->par);
	int n = split_list(buf, items, 256);
	for (int i = 0; i < n; i++) {
		int found = 0;
		for (int k = 0; k < req->nband; k++)
			if (strcmp(g->ranks[req->band[k]], items[i]) == 0) {
				req->want_parallel |= 1u << k;
				found = 1;
			}
		if (!found) {
			cli_usage_error("fuse", "--parallel %s: not a fused rank (--ranks)", items[i]);
			return -1;
		}
	}
	return 0;
}

int cmd_fuse(int argc, char **argv)
{
	fuse_args a = {0};
	int status = parse_args(argc, argv, &a);
	if (status != CLI_CONTINUE)
		return status;
	ein_cascade *c;
	isl_ctx *ctx;
	deps_graph *g;
	status = cli_analyse(a.file, &a.defs, &c, &ctx, &g);
	if (status)
		return status;
	char *members = calloc((size_t)(c->neinsums ? c->neinsums : 1), 1);
	char err[1024];
	fusion_req req = {0};
	fusion_result res = {0};
	if (!members) {
		fprintf(stderr, "mambalaya: internal error: out of memory\n");
		status = CLI_EXIT_INTERNAL;
		goto done;
	}
	if (take_members(&a, c, members) < 0 || take_band(&a, g, &req) < 0 ||
	    take_parallel(&a, g, &req) < 0) {
		status = CLI_EXIT_USAGE;
		goto done;
	}
	req.members = members;
	req.permutable = a.permutable;
	int r = fusion_check(g, &req, 1, &res, err, sizeof(err));
	if (r == -2) {
		fprintf(stderr, "mambalaya fuse: error: %s\n", err);
		status = CLI_EXIT_USER;
		goto done;
	}
	if (r < 0) {
		fprintf(stderr, "mambalaya: internal error: fusion analysis: %s\n", err);
		status = CLI_EXIT_INTERNAL;
		goto done;
	}
	if (print_result(g, &req, &res, a.json) < 0) {
		fprintf(stderr, "mambalaya: internal error: out of memory\n");
		status = CLI_EXIT_INTERNAL;
		goto done;
	}
	if (!res.legal)
		status = FUSE_EXIT_ILLEGAL;
done:
	fusion_result_clear(&res);
	free(members);
	cli_analysis_free(c, ctx, g);
	return status;
}
