/* ir_json.c - JSON and text forms of the cascade IR (see ir_json.h). */
#include "ir_json.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void ir_number_string(double x, char *buf, size_t len)
{
	if (isinf(x)) {
		snprintf(buf, len, x > 0 ? "inf" : "-inf");
		return;
	}
	for (int prec = 1; prec <= 17; prec++) {
		snprintf(buf, len, "%.*g", prec, x);
		if (strtod(buf, NULL) == x)
			break;
	}
	/* Keep it a float literal in the language when it looks integral
	 * but was not (1e+20 stays as printed). */
}

void ir_access_string(const ein_cascade *c, const ein_einsum *es,
		      const ein_access *a, char *buf, size_t len)
{
	const ein_tensor *t = &c->tensors[a->tensor];
	size_t w = (size_t)snprintf(buf, len, "%s", t->name);
	if (t->ndims == 0)
		return;
	if (w < len)
		w += (size_t)snprintf(buf + w, len - w, "_{");
	for (int d = 0; d < a->nidx && w < len; d++) {
		char s[256];
		ein_aff_str(c, &a->idx[d], es, s, sizeof(s));
		w += (size_t)snprintf(buf + w, len - w, "%s%s", d ? "," : "", s);
	}
	if (w < len)
		snprintf(buf + w, len - w, "}");
}

/* Precedence: 1 for + -, 2 for * /, 3 for unary minus, 4 for atoms. */
static int prec(const ein_expr *e)
{
	if (e->kind == EIN_X_BINARY) {
		if (e->op == EIN_OP_ADD || e->op == EIN_OP_SUB)
			return 1;
		if (e->op == EIN_OP_MUL || e->op == EIN_OP_DIV)
			return 2;
		return 4; /* max(a, b) */
	}
	if (e->kind == EIN_X_UNARY && e->op == EIN_FN_NEG)
		return 3;
	if (e->kind == EIN_X_NUM && e->num < 0)
		return 3;
	return 4;
}

typedef struct sbuf {
	char *p;
	size_t len, w;
} sbuf;

static void put(sbuf *b, const char *s)
{
	size_t n = strlen(s);
	if (b->w + n + 1 > b->len)
		n = b->w + 1 < b->len ? b->len - b->w - 1 : 0;
	memcpy(b->p + b->w, s, n);
	b->w += n;
	b->p[b->w] = '\0';
}

static void print_expr(sbuf *b, const ein_cascade *c, const ein_einsum *es,
		       const ein_expr *e, int min_prec)
{
	char tmp[512];
	int p = prec(e);
	int paren = p < min_prec;
	if (paren)
		put(b, "(");
	switch (e->kind) {
	case EIN_X_NUM:
		ir_number_string(e->num, tmp, sizeof(tmp));
		put(b, tmp);
		break;
	case EIN_X_PARAM:
		put(b, c->params[e->id].name);
		break;
	case EIN_X_VAR:
		put(b, es->vars[e->id].name);
		break;
	case EIN_X_ACCESS:
		ir_access_string(c, es, &es->reads[e->id], tmp, sizeof(tmp));
		put(b, tmp);
		break;
	case EIN_X_UNARY:
		if (e->op == EIN_FN_NEG) {
			put(b, "-");
			print_expr(b, c, es, e->a, 3);
		} else {
			put(b, ein_fn_name((ein_fn)e->op));
			put(b, "(");
			print_expr(b, c, es, e->a, 0);
			put(b, ")");
		}
		break;
	case EIN_X_BINARY:
		if (e->op == EIN_OP_MAX || e->op == EIN_OP_MIN) {
			put(b, ein_binop_name((ein_binop)e->op));
			put(b, "(");
			print_expr(b, c, es, e->a, 0);
			put(b, ", ");
			print_expr(b, c, es, e->b, 0);
			put(b, ")");
		} else {
			/* Left-associative: the right operand needs parens at
			 * equal precedence. */
			print_expr(b, c, es, e->a, p);
			put(b, " ");
			put(b, ein_binop_name((ein_binop)e->op));
			put(b, " ");
			print_expr(b, c, es, e->b, p + 1);
		}
		break;
	}
	if (paren)
		put(b, ")");
}

void ir_expr_string(const ein_cascade *c, const ein_einsum *es,
		    const ein_expr *e, char *buf, size_t len)
{
	sbuf b = {buf, len, 0};
	if (len)
		buf[0] = '\0';
	if (e && len)
		print_expr(&b, c, es, e, 0);
}

static cJSON *aff_json(const ein_cascade *c, const ein_aff *a,
		       const ein_einsum *es)
{
	char s[256];
	ein_aff_str(c, a, es, s, sizeof(s));
	return cJSON_CreateString(s);
}

static cJSON *access_json(const ein_cascade *c, const ein_einsum *es,
			  const ein_access *a)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "tensor", c->tensors[a->tensor].name);
	cJSON *idx = cJSON_AddArrayToObject(o, "indices");
	for (int d = 0; d < a->nidx; d++)
		cJSON_AddItemToArray(idx, aff_json(c, &a->idx[d], es));
	char s[512];
	ir_access_string(c, es, a, s, sizeof(s));
	cJSON_AddStringToObject(o, "text", s);
	cJSON_AddNumberToObject(o, "line", a->loc.line);
	cJSON_AddNumberToObject(o, "column", a->loc.col);
	return o;
}

static const char *merge_name(ein_merge m, ein_binop op)
{
	if (m == EIN_MERGE_UNION)
		return "union";
	if (m == EIN_MERGE_INTERSECT)
		return "intersect";
	return (op == EIN_OP_MUL || op == EIN_OP_DIV) ? "intersect" : "union";
}

static cJSON *einsum_json(const ein_cascade *c, const ein_einsum *es)
{
	cJSON *o = cJSON_CreateObject();
	char s[4096];
	cJSON_AddStringToObject(o, "name", es->name);
	cJSON_AddNumberToObject(o, "index", es->index);
	cJSON_AddNumberToObject(o, "line", es->loc.line);
	cJSON_AddItemToObject(o, "output", access_json(c, es, &es->out));
	cJSON *vars = cJSON_AddArrayToObject(o, "ranks");
	for (int v = 0; v < es->nvars; v++) {
		const ein_var *var = &es->vars[v];
		cJSON *r = cJSON_CreateObject();
		cJSON_AddStringToObject(r, "name", var->name);
		cJSON_AddStringToObject(r, "kind",
					var->generational ? "generational"
					: var->reduced	  ? "reduced"
							  : "output");
		cJSON_AddItemToObject(r, "extent", aff_json(c, &var->extent, NULL));
		cJSON_AddNumberToObject(r, "size", (double)var->size);
		cJSON_AddItemToArray(vars, r);
	}
	cJSON *reads = cJSON_AddArrayToObject(o, "reads");
	for (int r = 0; r < es->nreads; r++)
		cJSON_AddItemToArray(reads, access_json(c, es, &es->reads[r]));
	cJSON *filters = cJSON_AddArrayToObject(o, "filters");
	for (int k = 0; k < es->nconds; k++) {
		char a[256];
		ein_aff_str(c, &es->conds[k].aff, es, a, sizeof(a));
		snprintf(s, sizeof(s), "%s %s 0", a, es->conds[k].eq ? "==" : ">=");
		cJSON_AddItemToArray(filters, cJSON_CreateString(s));
	}
	if (es->gen_var >= 0)
		cJSON_AddStringToObject(o, "generational", es->vars[es->gen_var].name);
	else
		cJSON_AddNullToObject(o, "generational");
	int reduced = 0;
	for (int v = 0; v < es->nvars; v++)
		reduced |= es->vars[v].reduced;
	cJSON *spec = cJSON_AddObjectToObject(o, "spec");
	cJSON_AddStringToObject(spec, "map", ein_binop_name(es->map_op));
	cJSON_AddStringToObject(spec, "map_merge", merge_name(es->map_merge, es->map_op));
	if (reduced) {
		cJSON_AddStringToObject(spec, "reduce", ein_binop_name(es->reduce_op));
		cJSON_AddStringToObject(spec, "reduce_merge",
					merge_name(es->reduce_merge, es->reduce_op));
	} else {
		cJSON_AddNullToObject(spec, "reduce");
		cJSON_AddNullToObject(spec, "reduce_merge");
	}
	ir_expr_string(c, es, es->rhs, s, sizeof(s));
	cJSON_AddStringToObject(o, "expr", s);
	return o;
}

cJSON *ir_json_cascade(const ein_cascade *c)
{
	cJSON *root = cJSON_CreateObject();
	if (!root)
		return NULL;
	cJSON_AddStringToObject(root, "format", "mambalaya-ir");
	cJSON_AddNumberToObject(root, "version", 1);
	cJSON *params = cJSON_AddArrayToObject(root, "params");
	for (int p = 0; p < c->nparams; p++) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "name", c->params[p].name);
		cJSON_AddNumberToObject(o, "value", (double)c->params[p].value);
		cJSON_AddBoolToObject(o, "overridden", c->params[p].overridden);
		cJSON_AddItemToArray(params, o);
	}
	cJSON *tensors = cJSON_AddArrayToObject(root, "tensors");
	for (int t = 0; t < c->ntensors; t++) {
		const ein_tensor *tt = &c->tensors[t];
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "name", tt->name);
		cJSON_AddStringToObject(o, "role", ein_role_name(tt->role));
		cJSON_AddStringToObject(o, "type", ein_type_name(tt->type));
		cJSON_AddBoolToObject(o, "declared", tt->declared);
		if (tt->has_draw) {
			cJSON *u = cJSON_AddObjectToObject(o, "random");
			cJSON *b = cJSON_AddArrayToObject(u, "uniform");
			cJSON_AddItemToArray(b, cJSON_CreateNumber(tt->draw_lo));
			cJSON_AddItemToArray(b, cJSON_CreateNumber(tt->draw_hi));
		}
		cJSON *ranks = cJSON_AddArrayToObject(o, "ranks");
		cJSON *ext = cJSON_AddArrayToObject(o, "extents");
		cJSON *shape = cJSON_AddArrayToObject(o, "shape");
		for (int d = 0; d < tt->ndims; d++) {
			cJSON_AddItemToArray(ranks, cJSON_CreateString(tt->dims[d].rank));
			cJSON_AddItemToArray(ext, aff_json(c, &tt->dims[d].extent, NULL));
			cJSON_AddItemToArray(shape, cJSON_CreateNumber((double)tt->dims[d].size));
		}
		cJSON_AddNumberToObject(o, "elements", (double)tt->nelems);
		cJSON *w = cJSON_AddArrayToObject(o, "written_by");
		for (int i = 0; i < tt->nwriters; i++)
			cJSON_AddItemToArray(w, cJSON_CreateString(c->einsums[tt->writers[i]].name));
		cJSON *r = cJSON_AddArrayToObject(o, "read_by");
		for (int i = 0; i < tt->nreaders; i++)
			cJSON_AddItemToArray(r, cJSON_CreateString(c->einsums[tt->readers[i]].name));
		cJSON_AddItemToArray(tensors, o);
	}
	cJSON *einsums = cJSON_AddArrayToObject(root, "einsums");
	for (int e = 0; e < c->neinsums; e++)
		cJSON_AddItemToArray(einsums, einsum_json(c, &c->einsums[e]));
	return root;
}
