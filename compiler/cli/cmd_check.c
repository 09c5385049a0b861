/* cmd_check.c - `mambalaya check`: check a source, print a summary or the
 * IR as JSON. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "front/ir_json.h"

static const char usage_text[] =
	"Usage: mambalaya check FILE [-D NAME=VALUE]... [--dump-ir=json] [--quiet]\n"
	"\n"
	"Checks an extended-Einsum source: names, rank extents, tensor shapes,\n"
	"bounds of every access (proved with isl), conflicting writes, reads of\n"
	"elements not yet written, generational ranks and reductions.  Every\n"
	"error of the file is reported as FILE:LINE:COL: error: MESSAGE with the\n"
	"source line and a caret.\n"
	"\n"
	"Options:\n"
	"  -D NAME=VALUE     override a parameter (repeatable)\n"
	"  --dump-ir=json    print the checked cascade IR as JSON (docs/ir.md)\n"
	"  --quiet           print nothing on success\n"
	"  -h, --help        show this help\n"
	"\n"
	"Exit status: 0 checked, 1 errors in the input, 2 bad command line,\n"
	"3 internal error.\n";

static void usage(void)
{
	fputs(usage_text, stdout);
}

static void print_summary(const ein_cascade *c)
{
	printf("%s: ok: %d parameters, %d tensors, %d Einsums\n", c->file,
	       c->nparams, c->ntensors, c->neinsums);
	printf("parameters:");
	for (int p = 0; p < c->nparams; p++)
		printf(" %s=%" PRId64 "%s", c->params[p].name, c->params[p].value,
		       c->params[p].overridden ? "(-D)" : "");
	printf("\ntensors:\n");
	for (int t = 0; t < c->ntensors; t++) {
		const ein_tensor *tt = &c->tensors[t];
		char ranks[256] = "", shape[256] = "";
		size_t w = 0, s = 0;
		for (int d = 0; d < tt->ndims; d++) {
			w += (size_t)snprintf(ranks + w, sizeof(ranks) - w, "%s%s",
					      d ? "," : "", tt->dims[d].rank);
			s += (size_t)snprintf(shape + s, sizeof(shape) - s,
					      "%s%" PRId64, d ? "x" : "",
					      tt->dims[d].size);
		}
		printf("  %-6s %-6s %-5s [%s] %s%s\n", ein_role_name(tt->role),
		       tt->name, ein_type_name(tt->type), ranks,
		       tt->ndims ? shape : "scalar", tt->declared ? "" : " (inferred)");
	}
	printf("einsums:\n");
	for (int e = 0; e < c->neinsums; e++) {
		const ein_einsum *es = &c->einsums[e];
		char out[512], rhs[4096], notes[512] = "";
		ir_access_string(c, es, &es->out, out, sizeof(out));
		ir_expr_string(c, es, es->rhs, rhs, sizeof(rhs));
		size_t w = 0;
		for (int v = 0; v < es->nvars; v++) {
			if (es->vars[v].reduced)
				w += (size_t)snprintf(notes + w, sizeof(notes) - w,
						      "%sreduces %s (%s)", w ? ", " : "",
						      es->vars[v].name,
						      ein_binop_name(es->reduce_op));
			if (es->vars[v].generational)
				w += (size_t)snprintf(notes + w, sizeof(notes) - w,
						      "%sgenerational %s", w ? ", " : "",
						      es->vars[v].name);
		}
		if (es->nconds)
			w += (size_t)snprintf(notes + w, sizeof(notes) - w,
					      "%s%d filter%s", w ? ", " : "",
					      es->nconds, es->nconds == 1 ? "" : "s");
		printf("  %2d %-8s %s = %s%s%s%s\n", e + 1, es->name, out, rhs,
		       notes[0] ? "   [" : "", notes, notes[0] ? "]" : "");
	}
}

int cmd_check(int argc, char **argv)
{
	const char *file = NULL, *dump = NULL;
	int quiet = 0;
	cli_defines defs = {0};
	for (int i = 1; i < argc;) {
		int r = cli_take_define("check", argc, argv, &i, &defs);
		if (r < 0)
			return CLI_EXIT_USAGE;
		if (r)
			continue;
		r = cli_take_value("check", "--dump-ir", argc, argv, &i, &dump);
		if (r < 0)
			return CLI_EXIT_USAGE;
		if (r)
			continue;
		if (strcmp(argv[i], "--quiet") == 0) {
			quiet = 1;
			i++;
			continue;
		}
		r = cli_take_rest("check", usage, argv, &i, &file);
		if (r != CLI_ARG_NEXT)
			return cli_rest_status(r);
	}
	if (!file) {
		cli_usage_error("check", "no FILE given");
		return CLI_EXIT_USAGE;
	}
	if (dump && strcmp(dump, "json") != 0) {
		cli_usage_error("check", "--dump-ir supports only 'json', not '%s'",
				dump);
		return CLI_EXIT_USAGE;
	}
	int status = CLI_EXIT_OK;
	ein_cascade *c = cli_load(file, &defs, &status);
	if (!c)
		return status;
	if (dump) {
		cJSON *j = ir_json_cascade(c);
		char *s = j ? cJSON_Print(j) : NULL;
		if (!s) {
			fprintf(stderr, "mambalaya: internal error: out of memory "
					"printing JSON\n");
			status = CLI_EXIT_INTERNAL;
		} else {
			printf("%s\n", s);
		}
		free(s);
		cJSON_Delete(j);
	} else if (!quiet) {
		print_summary(c);
	}
	ein_cascade_free(c);
	return status;
}
