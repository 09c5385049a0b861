/* check_einsum.c - one Einsum whole: generational ranks, rank extents, the
 * reduction-scope rule, the shapes of implicit tensors (see
 * check_impl.h). */
#include "check_impl.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "analysis/poly.h"

/* The generational rank: `gen v until v == E` (or >=, >) bounds v to
 * [0, E).  Sets the variable's extent. */
static void check_gen(chk *k)
{
	ein_einsum *es = k->es;
	const ast_stmt *s = k->st;
	int v = chk_find_var(es, s->gen_var);
	if (v < 0) {
		diag_error(k->diag, s->gen_loc,
			   "'%s' is not a rank variable of this Einsum",
			   s->gen_var);
		k->bad[es->index] = 1;
		return;
	}
	if (es->vars[v].reduced) {
		diag_error(k->diag, s->gen_loc,
			   "the generational rank '%s' must index the output",
			   s->gen_var);
		diag_hint(k->diag, "a generation is a rank of the tensor being "
				   "defined, e.g. H_{i+1,...} = f(H_{i,...})");
		k->bad[es->index] = 1;
		return;
	}
	es->gen_var = v;
	es->vars[v].generational = true;
	ein_cond *cs = NULL;
	int n = 0;
	if (chk_cond_to_ir(k, s->until, &cs, &n) < 0 || n != 1) {
		if (n > 1) {
			diag_error(k->diag, s->until->loc,
				   "a stopping condition is one comparison");
			diag_hint(k->diag, "write `until %s == E`: the generations "
					   "are %s = 0, 1, ..., E-1",
				  s->gen_var, s->gen_var);
		}
		free(cs);
		k->bad[es->index] = 1;
		return;
	}
	/* cs[0].aff >= 0 (or == 0) must be  +-(v - E)  with E free of vars. */
	ein_aff a = cs[0].aff;
	int eq = cs[0].eq;
	ein_loc loc = cs[0].loc;
	free(cs);
	int64_t co = a.vc[v];
	a.vc[v] = 0;
	if (chk_aff_has_vars(&a) || (co != 1 && !(eq && co == -1))) {
		diag_error(k->diag, loc,
			   "a stopping condition has the form `%s == E` or `%s >= E`, "
			   "with E free of rank variables",
			   s->gen_var, s->gen_var);
		diag_hint(k->diag, "write `until %s == E`: the generations are %s "
				   "= 0, 1, ..., E-1",
			  s->gen_var, s->gen_var);
		k->bad[es->index] = 1;
		return;
	}
	/* co*v + rest >= 0 (co == 1): v >= -rest, stop at E = -rest.
	 * co == -1 with eq: v == rest. */
	ein_aff ext = a;
	if (co == 1)
		chk_aff_scale(&ext, -1);
	for (int i = 0; i < EIN_MAX_VARS; i++)
		ext.vc[i] = 0;
	es->vars[v].extent = ext;
	es->vars[v].size = ein_aff_eval(k->c, &ext, NULL);
	if (es->vars[v].size < 0) {
		char buf[128], val[64];
		ein_aff_str(k->c, &ext, NULL, buf, sizeof(buf));
		snprintf(val, sizeof(val), "%" PRId64, es->vars[v].size);
		/* "stops at N-5 = -1", but not "stops at -1 = -1". */
		diag_error(k->diag, loc,
			   "the generational rank '%s' stops at %s%s%s, before "
			   "its first generation %s = 0",
			   s->gen_var, buf, chk_aff_is_const(&ext) ? "" : " = ",
			   chk_aff_is_const(&ext) ? "" : val, s->gen_var);
		k->bad[es->index] = 1;
	}
}

/* Is tensor t's shape known when Einsum e is checked? */
static int shape_known(const chk *k, int t, int e)
{
	const ein_tensor *tt = &k->c->tensors[t];
	if (tt->declared)
		return 1;
	(void)e;
	return tt->nelems >= 0;
}

/* Picks each variable's extent: the generational bound, else a dimension it
 * indexes alone (output first, then the reads in order), else a parameter
 * named like it in capitals. */
static void infer_extents(chk *k)
{
	ein_einsum *es = k->es;
	for (int v = 0; v < es->nvars; v++) {
		ein_var *var = &es->vars[v];
		if (var->generational)
			continue;
		int found = 0;
		for (int r = -1; r < es->nreads && !found; r++) {
			const ein_access *a = r < 0 ? &es->out : &es->reads[r];
			if (r >= 0 && a->tensor == es->out.tensor &&
			    !k->c->tensors[a->tensor].declared)
				continue; /* its shape is still being inferred */
			if (!shape_known(k, a->tensor, es->index))
				continue;
			for (int d = 0; d < a->nidx && !found; d++)
				if (chk_aff_plain_var(&a->idx[d]) == v) {
					const ein_dim *dim =
						&k->c->tensors[a->tensor].dims[d];
					var->extent = dim->extent;
					var->size = dim->size;
					found = 1;
				}
		}
		if (found)
			continue;
		char up[64];
		size_t i;
		for (i = 0; var->name[i] && i + 1 < sizeof(up); i++)
			up[i] = (char)toupper((unsigned char)var->name[i]);
		up[i] = '\0';
		int p = ein_cascade_find_param(k->c, up);
		if (p >= 0) {
			memset(&var->extent, 0, sizeof(var->extent));
			var->extent.pc[p] = 1;
			var->size = k->c->params[p].value;
			continue;
		}
		diag_error(k->diag, var->loc,
			   "cannot tell the range of rank variable '%s'",
			   var->name);
		diag_hint(k->diag, "'%s' indexes no dimension of a tensor whose "
				   "shape is known by itself, and there is no "
				   "parameter '%s'; declare the output's shape or "
				   "add `param %s = ...`",
			  var->name, up, up);
		k->bad[es->index] = 1;
		var->size = 0;
	}
}

/* Which variables does an expression depend on (bit v). */
static uint32_t expr_vars(const ein_einsum *es, const ein_expr *e)
{
	if (!e)
		return 0;
	uint32_t m = 0;
	if (e->kind == EIN_X_VAR)
		m |= 1u << e->id;
	if (e->kind == EIN_X_ACCESS) {
		const ein_access *a = &es->reads[e->id];
		for (int d = 0; d < a->nidx; d++)
			for (int v = 0; v < es->nvars; v++)
				if (a->idx[d].vc[v])
					m |= 1u << v;
	}
	return m | expr_vars(es, e->a) | expr_vars(es, e->b);
}

static const char *expr_desc(const ein_expr *e)
{
	if (e->kind == EIN_X_UNARY)
		return ein_fn_name((ein_fn)e->op);
	return ein_binop_name((ein_binop)e->op);
}

/* The scope rule (docs/language.md, "Reductions"): an Einsum reduces its
 * whole right-hand side.  When only a part of it depends on the reduced
 * ranks, and what surrounds that part does not distribute over the
 * reduction, the user may have meant to reduce the part first: reject, and
 * show the split. */
static void check_reduction_scope(chk *k)
{
	ein_einsum *es = k->es;
	uint32_t red = 0;
	for (int v = 0; v < es->nvars; v++)
		if (es->vars[v].reduced)
			red |= 1u << v;
	if (!red || !es->rhs)
		return;
	const ein_expr *n = es->rhs;
	const ein_expr *bad = NULL, *other = NULL;
	for (;;) {
		uint32_t ma = n->a ? expr_vars(es, n->a) & red : 0;
		uint32_t mb = n->b ? expr_vars(es, n->b) & red : 0;
		const ein_expr *next = NULL, *sib = NULL;
		int left = 0;
		if (n->kind == EIN_X_UNARY && ma) {
			next = n->a;
			left = 1;
		} else if (n->kind == EIN_X_BINARY && ma && !mb) {
			next = n->a;
			sib = n->b;
			left = 1;
		} else if (n->kind == EIN_X_BINARY && mb && !ma) {
			next = n->b;
			sib = n->a;
		}
		if (!next)
			break;
		/* Does n distribute over the reduction? */
		int ok;
		if (es->reduce_op == EIN_OP_ADD)
			ok = (n->kind == EIN_X_UNARY && n->op == EIN_FN_NEG) ||
			     (n->kind == EIN_X_BINARY &&
			      (n->op == EIN_OP_MUL || (n->op == EIN_OP_DIV && left)));
		else
			ok = n->kind == EIN_X_BINARY &&
			     (n->op == EIN_OP_ADD || (n->op == EIN_OP_SUB && left));
		if (!ok && !bad) {
			bad = n;
			other = sib;
		}
		n = next;
	}
	if (!bad)
		return;
	/* n is now the smallest part holding every reduced rank. */
	char rnames[128] = "", part[256], sibt[256], whole[512];
	size_t w = 0;
	for (int v = 0; v < es->nvars; v++)
		if ((red >> v) & 1)
			w += (size_t)snprintf(rnames + w, sizeof(rnames) - w, "%s%s",
					      w ? ", " : "", es->vars[v].name);
	chk_src_text(k, n->loc, part, sizeof(part));
	const char *opname = es->reduce_op == EIN_OP_ADD   ? "sum"
			     : es->reduce_op == EIN_OP_MAX ? "max"
							   : "min";
	if (bad->kind == EIN_X_UNARY)
		diag_error(k->diag, n->loc,
			   "ambiguous reduction: only '%s' depends on the "
			   "reduced rank%s %s, and %s(...) around it does not "
			   "distribute over the %s",
			   part, strchr(rnames, ',') ? "s" : "", rnames,
			   expr_desc(bad), opname);
	else
		diag_error(k->diag, n->loc,
			   "ambiguous reduction: only '%s' depends on the "
			   "reduced rank%s %s, and combining it by '%s' with "
			   "'%s' does not distribute over the %s",
			   part, strchr(rnames, ',') ? "s" : "", rnames,
			   expr_desc(bad),
			   chk_src_text(k, other->loc, sibt, sizeof(sibt)), opname);
	/* Suggest the split, when the texts are on one line. */
	const ast_stmt *s = k->st;
	char lhs[256];
	chk_src_text(k, s->lhs->loc, lhs, sizeof(lhs));
	chk_src_text(k, s->rhs->loc, whole, sizeof(whole));
	if (s->rhs->loc.line == s->rhs->loc.end_line && n->loc.line == s->rhs->loc.line) {
		const ein_tensor *out = &k->c->tensors[es->out.tensor];
		char tmp[300];
		char idx[256];
		const char *brace = strstr(lhs, "_{");
		snprintf(idx, sizeof(idx), "%s", brace ? brace : "");
		snprintf(tmp, sizeof(tmp), "%s_r%s", out->name, idx);
		int off = n->loc.col - s->rhs->loc.col;
		int len = n->loc.end_col - n->loc.col + 1;
		if (off >= 0 && (size_t)(off + len) <= strlen(whole))
			diag_hint(k->diag,
				  "an Einsum maps, then reduces its whole "
				  "right-hand side; to reduce first, split it: "
				  "`%s = %s` then `%s = %.*s%s%s`",
				  tmp, part, lhs, off, whole, tmp, whole + off + len);
	} else {
		diag_hint(k->diag, "an Einsum maps, then reduces its whole "
				   "right-hand side; to reduce first, compute the "
				   "reduction in an Einsum of its own");
	}
	k->bad[es->index] = 1;
}

/* Extent (parametric and value) of output dimension d implied by this
 * Einsum's writes: the largest index written, plus one. */
static void write_extent(chk *k, const ein_access *a, int d, ein_aff *ext,
			 int64_t *size)
{
	const ein_einsum *es = k->es;
	ein_aff r = a->idx[d];
	for (int v = 0; v < es->nvars; v++) {
		int64_t co = r.vc[v];
		r.vc[v] = 0;
		if (co > 0) {
			/* co * (extent - 1) */
			ein_aff t = es->vars[v].extent;
			t.c -= 1;
			chk_aff_add(&r, &t, co);
		}
	}
	for (int v = 0; v < EIN_MAX_VARS; v++)
		r.vc[v] = 0;
	r.c += 1;
	*ext = r;
	*size = ein_aff_eval(k->c, &r, NULL);
}

/* Grows the shape of an implicit output tensor to cover this Einsum's
 * writes. */
static void infer_output_shape(chk *k)
{
	ein_einsum *es = k->es;
	ein_tensor *tt = &k->c->tensors[es->out.tensor];
	if (tt->declared)
		return;
	for (int d = 0; d < tt->ndims; d++) {
		ein_aff ext;
		int64_t size;
		write_extent(k, &es->out, d, &ext, &size);
		if (tt->nelems < 0 || size > tt->dims[d].size) {
			tt->dims[d].extent = ext;
			tt->dims[d].size = size;
			free(tt->dims[d].rank);
			int p = chk_aff_plain_param(&ext);
			char nm[128];
			if (p >= 0)
				snprintf(nm, sizeof(nm), "%s", k->c->params[p].name);
			else
				ein_aff_str(k->c, &ext, NULL, nm, sizeof(nm));
			tt->dims[d].rank = chk_xstrdup(k, nm);
		}
	}
	int64_t n = 1;
	for (int d = 0; d < tt->ndims; d++) {
		if (tt->dims[d].size < 1)
			tt->dims[d].size = 1;
		if (__builtin_mul_overflow(n, tt->dims[d].size, &n) ||
		    n > ((int64_t)1 << MAX_ELEMS_LOG2))
			n = (int64_t)1 << MAX_ELEMS_LOG2;
	}
	tt->nelems = n;
}

static int reads_tensor(const ein_einsum *es, int t)
{
	for (int r = 0; r < es->nreads; r++)
		if (es->reads[r].tensor == t)
			return 1;
	return 0;
}

static void check_einsum(chk *k, const ast_stmt *s)
{
	ein_cascade *c = k->c;
	ein_einsum *es = &c->einsums[c->neinsums];
	memset(es, 0, sizeof(*es));
	es->index = c->neinsums++;
	es->loc = s->loc;
	es->gen_var = -1;
	es->out.tensor = -1; /* until resolved */
	k->es = es;
	k->st = s;
	k->est[es->index] = s;
	k->bad[es->index] = 0;
	k->too_many_vars = 0;

	/* The output tensor. */
	const ast_node *lhs = s->lhs;
	int t = ein_cascade_find_tensor(c, lhs->name);
	if (t < 0 && ein_cascade_find_param(c, lhs->name) >= 0) {
		diag_error(k->diag, lhs->name_loc,
			   "'%s' is a parameter; it cannot be assigned",
			   lhs->name);
		k->bad[es->index] = 1;
		return;
	}
	if (t >= 0 && (c->tensors[t].role == EIN_ROLE_INPUT ||
		       c->tensors[t].role == EIN_ROLE_WEIGHT)) {
		diag_error(k->diag, lhs->name_loc,
			   "'%s' is %s %s; Einsums cannot write it", lhs->name,
			   c->tensors[t].role == EIN_ROLE_INPUT ? "an" : "a",
			   ein_role_name(c->tensors[t].role));
		diag_hint(k->diag, "declare it with `output` or `tensor`, or "
				   "write to another tensor");
		k->bad[es->index] = 1;
	}
	/* Rank variables: the output's first, then the reads'. */
	if (lhs->kind == AST_ACCESS)
		for (int i = 0; i < lhs->args.n; i++)
			chk_collect_vars(k, lhs->args.v[i]);
	int nout = es->nvars;
	chk_collect_rhs_vars(k, s->rhs);
	for (int v = 0; v < es->nvars; v++)
		es->vars[v].reduced = v >= nout;
	if (k->oom)
		return;
	if (chk_resolve_access(k, lhs, 1, &es->out) < 0)
		k->bad[es->index] = 1;
	t = es->out.tensor;
	if (k->bad[es->index] && t < 0)
		return;

	/* Name: the label, or the tensor's name (made unique later). */
	if (s->label) {
		int prev = ein_cascade_find_einsum(c, s->label);
		int par = ein_cascade_find_param(c, s->label);
		if (prev >= 0) {
			diag_error(k->diag, s->label_loc,
				   "the label '%s' is already used", s->label);
			diag_note(k->diag, k->est[prev]->label_loc,
				  "first used here");
			k->bad[es->index] = 1;
		} else if (par >= 0) {
			diag_error(k->diag, s->label_loc,
				   "the label '%s' is already a parameter's name",
				   s->label);
			diag_note(k->diag, c->params[par].loc,
				  "'%s' is defined here", s->label);
			k->bad[es->index] = 1;
		}
		es->name = chk_xstrdup(k, s->label);
	}

	chk_spec(k);
	es->rhs = chk_build_expr(k, s->rhs);
	if (!es->rhs)
		k->bad[es->index] = 1;
	for (int i = 0; i < s->nfilters; i++)
		if (chk_cond_to_ir(k, s->filters[i], &es->conds, &es->nconds) < 0)
			k->bad[es->index] = 1;
	if (s->gen_var)
		check_gen(k);
	if (k->oom)
		return;

	/* Recurrences: an Einsum may read its own output only across
	 * generations. */
	if (reads_tensor(es, es->out.tensor) && es->gen_var < 0 &&
	    !k->bad[es->index]) {
		diag_error(k->diag, lhs->loc, "'%s' is defined in terms of itself",
			   lhs->name);
		diag_hint(k->diag, "a recurrence needs a generational rank: add "
				   "`gen i until i == I` naming the rank that "
				   "advances");
		k->bad[es->index] = 1;
	} else if (es->gen_var >= 0 && !reads_tensor(es, es->out.tensor)) {
		diag_warning(k->diag, s->gen_loc,
			     "'%s' is marked generational but '%s' does not read "
			     "itself",
			     s->gen_var, lhs->name);
	}
	int reduced = 0;
	for (int v = 0; v < es->nvars; v++)
		reduced |= es->vars[v].reduced;
	for (int i = 0; i < s->nspec; i++)
		if (strcmp(s->spec[i].name, "reduce") == 0 && !reduced)
			diag_warning(k->diag, s->spec[i].loc,
				     "reduce(...) has no effect: no rank is "
				     "reduced");
	if (k->bad[es->index])
		return;
	infer_extents(k);
	check_reduction_scope(k);
	if (k->bad[es->index])
		return;
	infer_output_shape(k);
}

void chk_einsums(chk *k)
{
	ein_cascade *c = k->c;
	int n = 0;
	for (int i = 0; i < k->prog->n; i++)
		n += k->prog->stmts[i]->kind == AST_S_EINSUM;
	c->einsums = calloc((size_t)(n ? n : 1), sizeof(*c->einsums));
	k->bad = calloc((size_t)(n ? n : 1), 1);
	k->est = calloc((size_t)(n ? n : 1), sizeof(*k->est));
	if (!c->einsums || !k->bad || !k->est) {
		k->oom = 1;
		return;
	}
	for (int i = 0; i < k->prog->n && !k->oom; i++)
		if (k->prog->stmts[i]->kind == AST_S_EINSUM)
			check_einsum(k, k->prog->stmts[i]);
}
