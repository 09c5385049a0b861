/* cascade.c - helpers of the checked cascade IR (see cascade.h). */
#include "cascade.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void ein_expr_free(ein_expr *e)
{
	if (!e)
		return;
	ein_expr_free(e->a);
	ein_expr_free(e->b);
	free(e);
}

void ein_cascade_free(ein_cascade *c)
{
	if (!c)
		return;
	for (int p = 0; p < c->nparams; p++)
		free(c->params[p].name);
	for (int t = 0; t < c->ntensors; t++) {
		ein_tensor *tt = &c->tensors[t];
		free(tt->name);
		for (int d = 0; d < tt->ndims; d++)
			free(tt->dims[d].rank);
		free(tt->writers);
		free(tt->readers);
	}
	free(c->tensors);
	for (int e = 0; e < c->neinsums; e++) {
		ein_einsum *es = &c->einsums[e];
		free(es->name);
		ein_expr_free(es->rhs);
		free(es->reads);
		for (int v = 0; v < es->nvars; v++)
			free(es->vars[v].name);
		free(es->conds);
	}
	free(c->einsums);
	free(c->file);
	free(c);
}

int64_t ein_aff_eval(const ein_cascade *c, const ein_aff *a,
		     const int64_t *vars)
{
	int64_t v = a->c;
	for (int p = 0; p < c->nparams; p++)
		v += a->pc[p] * c->params[p].value;
	if (vars)
		for (int k = 0; k < EIN_MAX_VARS; k++)
			v += a->vc[k] * vars[k];
	return v;
}

int ein_cascade_find_tensor(const ein_cascade *c, const char *name)
{
	for (int t = 0; t < c->ntensors; t++)
		if (strcmp(c->tensors[t].name, name) == 0)
			return t;
	return -1;
}

int ein_cascade_find_einsum(const ein_cascade *c, const char *name)
{
	for (int e = 0; e < c->neinsums; e++)
		if (c->einsums[e].name && strcmp(c->einsums[e].name, name) == 0)
			return e;
	return -1;
}

int ein_cascade_find_param(const ein_cascade *c, const char *name)
{
	for (int p = 0; p < c->nparams; p++)
		if (strcmp(c->params[p].name, name) == 0)
			return p;
	return -1;
}

const char *ein_role_name(ein_role r)
{
	switch (r) {
	case EIN_ROLE_INPUT:
		return "input";
	case EIN_ROLE_WEIGHT:
		return "weight";
	case EIN_ROLE_OUTPUT:
		return "output";
	case EIN_ROLE_TEMP:
		return "temp";
	}
	return "?";
}

const char *ein_type_name(ein_type t)
{
	switch (t) {
	case EIN_TY_F32:
		return "f32";
	case EIN_TY_F16:
		return "f16";
	case EIN_TY_BF16:
		return "bf16";
	case EIN_TY_F64:
		return "f64";
	}
	return "?";
}

int ein_type_bytes(ein_type t)
{
	switch (t) {
	case EIN_TY_F16:
	case EIN_TY_BF16:
		return 2;
	case EIN_TY_F64:
		return 8;
	case EIN_TY_F32:
		break;
	}
	return 4;
}

static const char *const fn_names[EIN_FN_COUNT] = {
	"exp",	"log",	"sqrt", "rsqrt", "sigmoid", "silu",  "softplus",
	"tanh", "relu", "abs",	"neg",	 "recip",   "square"};

const char *ein_fn_name(ein_fn f)
{
	return (f >= 0 && f < EIN_FN_COUNT) ? fn_names[f] : "?";
}

const char *ein_binop_name(ein_binop op)
{
	switch (op) {
	case EIN_OP_ADD:
		return "+";
	case EIN_OP_SUB:
		return "-";
	case EIN_OP_MUL:
		return "*";
	case EIN_OP_DIV:
		return "/";
	case EIN_OP_MAX:
		return "max";
	case EIN_OP_MIN:
		return "min";
	}
	return "?";
}

double ein_apply_fn(ein_fn f, double x)
{
	switch (f) {
	case EIN_FN_EXP:
		return exp(x);
	case EIN_FN_LOG:
		return log(x);
	case EIN_FN_SQRT:
		return sqrt(x);
	case EIN_FN_RSQRT:
		return 1.0 / sqrt(x);
	case EIN_FN_SIGMOID:
		return 1.0 / (1.0 + exp(-x));
	case EIN_FN_SILU:
		return x / (1.0 + exp(-x));
	case EIN_FN_SOFTPLUS:
		/* log(1+exp(x)) without overflow for large x. */
		return x > 30.0 ? x + log1p(exp(-x)) : log1p(exp(x));
	case EIN_FN_TANH:
		return tanh(x);
	case EIN_FN_RELU:
		return x > 0.0 ? x : 0.0;
	case EIN_FN_ABS:
		return fabs(x);
	case EIN_FN_NEG:
		return -x;
	case EIN_FN_RECIP:
		return 1.0 / x;
	case EIN_FN_SQUARE:
		return x * x;
	case EIN_FN_COUNT:
		break;
	}
	return NAN;
}

double ein_apply_binop(ein_binop op, double x, double y)
{
	switch (op) {
	case EIN_OP_ADD:
		return x + y;
	case EIN_OP_SUB:
		return x - y;
	case EIN_OP_MUL:
		return x * y;
	case EIN_OP_DIV:
		return x / y;
	case EIN_OP_MAX:
		return x > y ? x : y;
	case EIN_OP_MIN:
		return x < y ? x : y;
	}
	return NAN;
}

double ein_reduce_identity(ein_binop op)
{
	switch (op) {
	case EIN_OP_MAX:
		return -INFINITY;
	case EIN_OP_MIN:
		return INFINITY;
	default:
		return 0.0;
	}
}

/* Prints an affine form in source syntax ("I+W-1"). vars may be NULL. */
void ein_aff_str(const ein_cascade *c, const ein_aff *a,
		    const ein_einsum *es, char *buf, size_t len)
{
	size_t w = 0;
	buf[0] = '\0';
#define PUT(...)                                                             \
	do {                                                                 \
		if (w < len)                                                 \
			w += (size_t)snprintf(buf + w, len - w, __VA_ARGS__); \
	} while (0)
	int first = 1;
	for (int pass = 0; pass < 2; pass++) {
		int n = pass == 0 ? (es ? es->nvars : 0) : c->nparams;
		for (int i = 0; i < n; i++) {
			int64_t co = pass == 0 ? a->vc[i] : a->pc[i];
			const char *nm = pass == 0 ? es->vars[i].name
						   : c->params[i].name;
			if (!co)
				continue;
			if (co < 0)
				PUT("-");
			else if (!first)
				PUT("+");
			int64_t m = co < 0 ? -co : co;
			if (m != 1)
				PUT("%" PRId64 "*", m);
			PUT("%s", nm);
			first = 0;
		}
	}
	if (a->c || first) {
		if (a->c < 0)
			PUT("%" PRId64, a->c);
		else
			PUT("%s%" PRId64, first ? "" : "+", a->c);
	}
#undef PUT
}


uint32_t ein_access_vars(const ein_access *a)
{
	uint32_t v = 0;
	for (int k = 0; k < a->nidx; k++)
		for (int i = 0; i < EIN_MAX_VARS; i++)
			if (a->idx[k].vc[i])
				v |= 1u << i;
	return v;
}

int ein_aff_pure_var(const ein_cascade *c, const ein_einsum *es, const ein_aff *x)
{
	int v = -1, n = 0;
	for (int w = 0; w < es->nvars; w++)
		if (x->vc[w]) {
			v = w;
			n++;
		}
	for (int p = 0; p < c->nparams; p++)
		if (x->pc[p])
			return -1;
	return n == 1 && x->vc[v] == 1 && x->c == 0 ? v : -1;
}

int ein_access_dim(const ein_access *a, int v)
{
	for (int d = 0; d < a->nidx; d++)
		if (a->idx[d].vc[v] == 1)
			return d;
	return -1;
}

static int push_int(int **v, int *n, int x)
{
	int *r = realloc(*v, (size_t)(*n + 1) * sizeof(int));
	if (!r)
		return -1;
	*v = r;
	r[(*n)++] = x;
	return 0;
}

int ein_cascade_link(ein_cascade *c, const char *skip)
{
	for (int e = 0; e < c->neinsums; e++) {
		ein_einsum *es = &c->einsums[e];
		if (skip && skip[e])
			continue;
		ein_tensor *o = &c->tensors[es->out.tensor];
		if (push_int(&o->writers, &o->nwriters, e) < 0)
			return -1;
		for (int r = 0; r < es->nreads; r++) {
			ein_tensor *tt = &c->tensors[es->reads[r].tensor];
			if (tt->nreaders && tt->readers[tt->nreaders - 1] == e)
				continue;
			if (push_int(&tt->readers, &tt->nreaders, e) < 0)
				return -1;
		}
	}
	return 0;
}

int ein_access_plain(const ein_access *a)
{
	for (int d = 0; d < a->nidx; d++) {
		int nz = 0, one = -1;
		for (int v = 0; v < EIN_MAX_VARS; v++)
			if (a->idx[d].vc[v]) {
				nz++;
				one = a->idx[d].vc[v];
			}
		if (nz != 1 || one != 1 || a->idx[d].c)
			return 0;
		for (int p = 0; p < EIN_MAX_PARAMS; p++)
			if (a->idx[d].pc[p])
				return 0;
	}
	return 1;
}

uint32_t ein_expr_vars(const ein_einsum *es, const ein_expr *x)
{
	if (!x)
		return 0;
	switch (x->kind) {
	case EIN_X_ACCESS:
		return ein_access_vars(&es->reads[x->id]);
	case EIN_X_VAR:
		return 1u << x->id;
	case EIN_X_UNARY:
		return ein_expr_vars(es, x->a);
	case EIN_X_BINARY:
		return ein_expr_vars(es, x->a) | ein_expr_vars(es, x->b);
	default:
		return 0;
	}
}

int ein_einsum_reduces(const ein_einsum *es)
{
	for (int v = 0; v < es->nvars; v++)
		if (es->vars[v].reduced)
			return 1;
	return 0;
}

int ein_einsum_nout(const ein_einsum *es)
{
	int n = 0;
	for (int v = 0; v < es->nvars; v++)
		n += !es->vars[v].reduced;
	return n;
}

int ein_einsum_reads(const ein_einsum *es, int t)
{
	for (int r = 0; r < es->nreads; r++)
		if (es->reads[r].tensor == t)
			return 1;
	return 0;
}

int ein_einsum_touches(const ein_einsum *es, int t)
{
	return es->out.tensor == t || ein_einsum_reads(es, t);
}

int ein_expr_product(const ein_cascade *c, const ein_expr *x, int *acc, int *nacc,
		     double *alpha)
{
	switch (x->kind) {
	case EIN_X_NUM:
		if (alpha)
			*alpha *= x->num;
		return 0;
	case EIN_X_PARAM:
		if (alpha)
			*alpha *= (double)c->params[x->id].value;
		return 0;
	case EIN_X_ACCESS:
		if (*nacc < 2)
			acc[*nacc] = x->id;
		(*nacc)++;
		return 0;
	case EIN_X_BINARY:
		if (x->op != EIN_OP_MUL)
			return -1;
		if (ein_expr_product(c, x->a, acc, nacc, alpha) < 0)
			return -1;
		return ein_expr_product(c, x->b, acc, nacc, alpha);
	default:
		return -1;
	}
}
