/* test_parser.c - unit tests of the parser (grammar/parser.y, compiler/front/ast.c).
 *
 * Accepted sources are parsed with ast_parse and the tree is printed in a
 * compact prefix form, one statement a line:
 *   expressions  (+ a b) (- a b) (* a b) (/ a b) (. a b) for juxtaposition,
 *                (neg a), f(a, b), T_{i, j}, names, numbers (ints as i:N)
 *   statements   param N = e | input A[R: e, e]:f16 | [label:] lhs = e
 *                followed by :: map(+, union) ..., where (a < b <= c) ...,
 *                gen i until (i == I)
 * Rejected sources are compared with the full text of their diagnostics.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/diag.h"
#include "front/ast.h"

/* ------------------------------------------------------------- printing */

static void print_node(FILE *f, const ast_node *n)
{
	switch (n->kind) {
	case AST_NUM:
		if (n->is_int)
			fprintf(f, "i:%" PRId64, n->ival);
		else
			fprintf(f, "%g", n->num);
		return;
	case AST_IDENT:
		fputs(n->name, f);
		return;
	case AST_ACCESS:
	case AST_CALL:
		fprintf(f, "%s%s", n->name, n->kind == AST_ACCESS ? "_{" : "(");
		for (int i = 0; i < n->args.n; i++) {
			if (i)
				fputs(", ", f);
			print_node(f, n->args.v[i]);
		}
		fputs(n->kind == AST_ACCESS ? "}" : ")", f);
		return;
	case AST_NEG:
		fputs("(neg ", f);
		print_node(f, n->a);
		fputs(")", f);
		return;
	case AST_BINARY:
	case AST_JUXT:
		fprintf(f, "(%c ", n->kind == AST_JUXT ? '.' : n->op);
		print_node(f, n->a);
		fputs(" ", f);
		print_node(f, n->b);
		fputs(")", f);
		return;
	}
	fail_msg("bad node kind %d", (int)n->kind);
}

static void print_cond(FILE *f, const ast_cond *c)
{
	fputs("(", f);
	for (int i = 0; i < c->n; i++) {
		if (i)
			fprintf(f, " %s ", c->ops[i - 1]);
		print_node(f, c->e[i]);
	}
	fputs(")", f);
}

static void print_stmt(FILE *f, const ast_stmt *s)
{
	switch (s->kind) {
	case AST_S_PARAM:
		fprintf(f, "param %s = ", s->name);
		print_node(f, s->value);
		break;
	case AST_S_DECL:
		fprintf(f, "%s %s", s->role, s->name);
		if (s->ndims >= 0) {
			fputs("[", f);
			for (int d = 0; d < s->ndims; d++) {
				if (d)
					fputs(", ", f);
				if (s->dims[d].rank)
					fprintf(f, "%s: ", s->dims[d].rank);
				print_node(f, s->dims[d].extent);
			}
			fputs("]", f);
		}
		if (s->type)
			fprintf(f, ":%s", s->type);
		break;
	case AST_S_EINSUM:
		if (s->label)
			fprintf(f, "%s: ", s->label);
		print_node(f, s->lhs);
		fputs(" = ", f);
		print_node(f, s->rhs);
		for (int i = 0; i < s->nspec; i++) {
			fprintf(f, " %s%s(", i ? "" : ":: ", s->spec[i].name);
			for (int a = 0; a < s->spec[i].nargs; a++)
				fprintf(f, "%s%s", a ? ", " : "", s->spec[i].args[a]);
			fputs(")", f);
		}
		for (int i = 0; i < s->nfilters; i++) {
			fputs(" where ", f);
			print_cond(f, s->filters[i]);
		}
		if (s->gen_var) {
			fprintf(f, " gen %s until ", s->gen_var);
			print_cond(f, s->until);
		}
		break;
	}
	fputs("\n", f);
}

typedef struct parsed {
	ast_program *prog;
	char *tree;  /* the program, printed */
	char *diags; /* the diagnostics, flushed */
	int errors;
} parsed;

static void parse(const char *src, parsed *out)
{
	diag_ctx *d = diag_new("t.ein", src, strlen(src));
	assert_non_null(d);
	out->prog = ast_parse(d);
	assert_non_null(out->prog);
	size_t sz = 0;
	FILE *f = open_memstream(&out->tree, &sz);
	assert_non_null(f);
	for (int i = 0; i < out->prog->n; i++)
		print_stmt(f, out->prog->stmts[i]);
	fclose(f);
	out->errors = diag_error_count(d);
	f = open_memstream(&out->diags, &sz);
	assert_non_null(f);
	diag_flush(d, f);
	fclose(f);
	diag_free(d);
}

static void parsed_free(parsed *p)
{
	ast_program_free(p->prog);
	free(p->tree);
	free(p->diags);
}

/* src parses without any diagnostic into the tree `want`. */
static void check_tree(const char *src, const char *want)
{
	parsed p;
	parse(src, &p);
	assert_string_equal(p.diags, "");
	assert_string_equal(p.tree, want);
	parsed_free(&p);
}

/* src is rejected with exactly the diagnostics `want` (nerr errors); the
 * statements that did parse are `tree`. */
static void check_syntax(const char *src, int nerr, const char *want,
			 const char *tree)
{
	parsed p;
	parse(src, &p);
	assert_string_equal(p.diags, want);
	assert_int_equal(p.errors, nerr);
	if (tree)
		assert_string_equal(p.tree, tree);
	parsed_free(&p);
}

/* ---------------------------------------------------------- statements */

static void test_params(void **state)
{
	(void)state;
	check_tree("param N = 4\nparam D = 2 * N, R = cdiv(N, 16), M = -N + 1\n",
		   "param N = i:4\n"
		   "param D = (* i:2 N)\n"
		   "param R = cdiv(N, i:16)\n"
		   "param M = (+ (neg N) i:1)\n");
}

static void test_decls(void **state)
{
	(void)state;
	check_tree("input A[N, J: W-1], x\n"
		   "weight W[D]: bf16, V[]\n"
		   "output O[2*N]:f64\n"
		   "tensor T\n",
		   "input A[N, J: (- W i:1)]\n"
		   "input x\n"
		   "weight W[D]:bf16\n"
		   "weight V[]\n"
		   "output O[(* i:2 N)]:f64\n"
		   "tensor T\n");
}

static void test_decl_node_locations(void **state)
{
	(void)state;
	parsed p;
	parse("weight WX[ED, D]: f16\n", &p);
	assert_string_equal(p.diags, "");
	assert_int_equal(p.prog->n, 1);
	const ast_stmt *s = p.prog->stmts[0];
	assert_int_equal(s->name_loc.col, 8);
	assert_int_equal(s->name_loc.end_col, 9);
	/* The declaration spans the name and its brackets. */
	assert_int_equal(s->loc.col, 8);
	assert_int_equal(s->loc.end_col, 16);
	assert_int_equal(s->type_loc.col, 19);
	assert_int_equal(s->type_loc.end_col, 21);
	assert_int_equal(s->dims[1].extent->loc.col, 15);
	parsed_free(&p);
}

static void test_einsum_forms(void **state)
{
	(void)state;
	check_tree("B_{i} = A_{i}\n"
		   "s = x\n"
		   "lbl: C_{i+1, 0} = 2\n"
		   "E_{} = 1\n",
		   "B_{i} = A_{i}\n"
		   "s = x\n"
		   "lbl: C_{(+ i i:1), i:0} = i:2\n"
		   "E_{} = i:1\n");
}

static void test_clauses(void **state)
{
	(void)state;
	check_tree("Y_{n} = A_{n,k} V_{k} :: map(max, union) reduce(min) "
		   "where 0 <= k < K, n == 2 where k != 1 gen n until n >= N\n",
		   "Y_{n} = (. A_{n, k} V_{k}) :: map(max, union) reduce(min)"
		   " where (i:0 <= k < K) where (n == i:2) where (k != i:1)"
		   " gen n until (n >= N)\n");
	/* Spec operators may be any of + - * /. */
	check_tree("Y = a b :: map(-) reduce(+)\nZ = a b :: map(/) reduce(*)\n",
		   "Y = (. a b) :: map(-) reduce(+)\n"
		   "Z = (. a b) :: map(/) reduce(*)\n");
	check_tree("Y = a where i > 1, i <= 3\n",
		   "Y = a where (i > i:1) where (i <= i:3)\n");
}

/* --------------------------------------------------------- expressions */

static void test_precedence(void **state)
{
	(void)state;
	check_tree("y = a + b * c - d / e\n",
		   "y = (- (+ a (* b c)) (/ d e))\n");
	/* Juxtaposition binds tighter than * and /. */
	check_tree("y = a b * c d\n", "y = (* (. a b) (. c d))\n");
	/* Left-associative. */
	check_tree("y = a - b - c\ny = a / b / c\ny = a b c\n",
		   "y = (- (- a b) c)\n"
		   "y = (/ (/ a b) c)\n"
		   "y = (. (. a b) c)\n");
	check_tree("y = (a + b) * c\n", "y = (* (+ a b) c)\n");
}

static void test_unary_minus(void **state)
{
	(void)state;
	/* A '-' after an operand is binary, even with no blank after it;
	 * a leading '-' applies to one operand only, before juxtaposition. */
	check_tree("y = a -b\ny = -a b\ny = - - a\ny = a * -b\n",
		   "y = (- a b)\n"
		   "y = (. (neg a) b)\n"
		   "y = (neg (neg a))\n"
		   "y = (* a (neg b))\n");
}

static void test_calls_and_numbers(void **state)
{
	(void)state;
	check_tree("y = exp(a) max(a, 0.5) f(g(x_{1}), 2)\n",
		   "y = (. (. exp(a) max(a, 0.5)) f(g(x_{i:1}), i:2))\n");
	check_tree("y = 1.5e3 + 7 + 1e2 + .25\n",
		   "y = (+ (+ (+ 1500 i:7) 100) 0.25)\n");
	/* Too large for int64: kept as a float (the checker rejects it
	 * where an integer is needed). */
	check_tree("y = 99999999999999999999\n", "y = 1e+20\n");
	check_tree("y = 9223372036854775807\n", "y = i:9223372036854775807\n");
}

static void test_multiline(void **state)
{
	(void)state;
	/* Inside brackets and after an operator, a newline does not end the
	 * statement; ';' separates statements on one line; comments and
	 * blank lines are ignored. */
	check_tree("# header\n\n"
		   "Y_{b,\n    i} = A_{b, i} +   # comment\n"
		   "      f(x,\n        y)\n"
		   "\n"
		   "a = 1; b = 2\n",
		   "Y_{b, i} = (+ A_{b, i} f(x, y))\n"
		   "a = i:1\n"
		   "b = i:2\n");
}

static void test_node_locations(void **state)
{
	(void)state;
	parsed p;
	parse("lbl: Y_{i} = A_{i} * exp(B_{i})\n", &p);
	assert_string_equal(p.diags, "");
	const ast_stmt *s = p.prog->stmts[0];
	assert_int_equal(s->label_loc.col, 1);
	assert_int_equal(s->label_loc.end_col, 3);
	/* A labelled Einsum's range starts at its left-hand side. */
	assert_int_equal(s->loc.col, 6);
	assert_int_equal(s->loc.end_col, 31);
	assert_int_equal(s->lhs->loc.col, 6);
	assert_int_equal(s->lhs->loc.end_col, 10);
	assert_int_equal(s->rhs->loc.col, 14);
	assert_int_equal(s->rhs->loc.end_col, 31);
	const ast_node *call = s->rhs->b;
	assert_int_equal(call->kind, AST_CALL);
	assert_int_equal(call->loc.col, 22);
	assert_int_equal(call->loc.end_col, 31);
	assert_int_equal(call->name_loc.col, 22);
	assert_int_equal(call->name_loc.end_col, 24);
	parsed_free(&p);
}

static void test_spec_and_gen_locations(void **state)
{
	(void)state;
	parsed p;
	parse("Y = a b :: map(max, union) gen i until i == I\n", &p);
	assert_string_equal(p.diags, "");
	const ast_stmt *s = p.prog->stmts[0];
	assert_int_equal(s->spec[0].loc.col, 12);
	assert_int_equal(s->spec[0].loc.end_col, 26);
	assert_int_equal(s->spec[0].arg_locs[0].col, 16);
	assert_int_equal(s->spec[0].arg_locs[1].col, 21);
	assert_int_equal(s->gen_loc.col, 32);
	assert_int_equal(s->until->loc.col, 40);
	assert_int_equal(s->until->loc.end_col, 45);
	parsed_free(&p);
}

/* ------------------------------------------------------- syntax errors */

static void test_error_expected_expression(void **state)
{
	(void)state;
	check_syntax("y = a + * b\n", 1,
		     "t.ein:1:9: error: unexpected '*'; expected an expression\n"
		     "    1 | y = a + * b\n"
		     "      |         ^\n",
		     "");
}

static void test_error_expected_list(void **state)
{
	(void)state;
	/* The list is exact (lookahead correction): after an operand, every
	 * operator, every clause and another operand may follow. */
	check_syntax("y = a )\n", 1,
		     "t.ein:1:7: error: unexpected ')'; expected end of line, "
		     "'::', 'where', 'gen', ';', ',', '+', '-', '*', '/' or an "
		     "expression\n"
		     "    1 | y = a )\n"
		     "      |       ^\n",
		     "");
}

static void test_error_unclosed_paren_at_eof(void **state)
{
	(void)state;
	/* One error, just after the last character (there is no final
	 * newline), with a note at the '('. */
	check_syntax("y = (a + 1", 1,
		     "t.ein:1:11: error: unexpected end of file; expected ')', "
		     "'+', '-', '*', '/' or an expression\n"
		     "    1 | y = (a + 1\n"
		     "      |           ^\n"
		     "t.ein:1:5: note: to close this '('\n"
		     "    1 | y = (a + 1\n"
		     "      |     ^\n",
		     "");
}

static void test_error_unclosed_resumes(void **state)
{
	(void)state;
	/* A '(' never closed: the error shows at the next line, and parsing
	 * resumes after it (the last line parses, the third is an error). */
	check_syntax("y = f(a\nz = 1\nw = = 2\nv = 3\n", 2,
		     "t.ein:2:3: error: unexpected '='; expected ',', ')', '+', "
		     "'-', '*', '/' or an expression\n"
		     "    2 | z = 1\n"
		     "      |   ^\n"
		     "t.ein:1:6: note: to close this '('\n"
		     "    1 | y = f(a\n"
		     "      |      ^\n"
		     "t.ein:3:5: error: unexpected '='; expected an expression\n"
		     "    3 | w = = 2\n"
		     "      |     ^\n",
		     "v = i:3\n");
}

static void test_error_statement_start(void **state)
{
	(void)state;
	check_syntax("a = 1\n  where i < 2\n", 1,
		     "t.ein:2:3: error: unexpected 'where'; expected a statement\n"
		     "    2 |   where i < 2\n"
		     "      |   ^~~~~\n"
		     "  hint: the newline before it ended the Einsum; put 'where' "
		     "on the same line\n",
		     "a = i:1\n");
	check_syntax(") = 1\n", 1,
		     "t.ein:1:1: error: unexpected ')'; expected a statement\n"
		     "    1 | ) = 1\n"
		     "      | ^\n",
		     "");
}

static void test_error_keyword_as_name(void **state)
{
	(void)state;
	check_syntax("param gen = 3\n", 1,
		     "t.ein:1:7: error: unexpected 'gen'; expected identifier\n"
		     "    1 | param gen = 3\n"
		     "      |       ^~~\n"
		     "  hint: 'gen' is a keyword; it cannot be used as a name\n",
		     "");
}

static void test_error_eq_in_condition(void **state)
{
	(void)state;
	/* Reported, and the Einsum is kept with '==' so that checking can
	 * go on. */
	check_syntax("y = a where i = 2\n", 1,
		     "t.ein:1:15: error: '=' in a condition\n"
		     "    1 | y = a where i = 2\n"
		     "      |               ^\n"
		     "  hint: write '==' to compare\n",
		     "y = a where (i == i:2)\n");
}

static void test_error_two_gens(void **state)
{
	(void)state;
	check_syntax("y = a gen i until i == 2 gen j until j == 3\n", 1,
		     "t.ein:1:26: error: this Einsum already has a generational "
		     "rank\n"
		     "    1 | y = a gen i until i == 2 gen j until j == 3\n"
		     "      |                          ^~~\n",
		     "y = a gen i until (i == i:2)\n");
}

static void test_error_spec(void **state)
{
	(void)state;
	check_syntax("y = a b :: map(max\n", 1,
		     "t.ein:1:19: error: unexpected end of file; expected ',', "
		     "')'\n"
		     "    1 | y = a b :: map(max\n"
		     "      |                   ^\n"
		     "t.ein:1:15: note: to close this '('\n"
		     "    1 | y = a b :: map(max\n"
		     "      |               ^\n",
		     "");
	check_syntax("y = a b :: map(%)\n", 2,
		     "t.ein:1:16: error: unexpected character '%'\n"
		     "    1 | y = a b :: map(%)\n"
		     "      |                ^\n"
		     "t.ein:1:17: error: unexpected ')'; expected identifier, '+', "
		     "'-', '*', '/'\n"
		     "    1 | y = a b :: map(%)\n"
		     "      |                 ^\n",
		     "");
}

static void test_error_every_statement(void **state)
{
	(void)state;
	/* Every syntax error of a file is reported; good statements between
	 * them are kept. */
	check_syntax("param = 1\na = 1\nb = ) \nc = 2\ninput [N]\nd = 3 ;; e = +\n",
		     4,
		     "t.ein:1:7: error: unexpected '='; expected identifier\n"
		     "    1 | param = 1\n"
		     "      |       ^\n"
		     "t.ein:3:5: error: unexpected ')'; expected an expression\n"
		     "    3 | b = ) \n"
		     "      |     ^\n"
		     "t.ein:5:7: error: unexpected '['; expected identifier\n"
		     "    5 | input [N]\n"
		     "      |       ^\n"
		     "t.ein:6:14: error: unexpected '+'; expected an expression\n"
		     "    6 | d = 3 ;; e = +\n"
		     "      |              ^\n",
		     "a = i:1\nc = i:2\nd = i:3\n");
}

static void test_error_non_ascii_name(void **state)
{
	(void)state;
	/* The bad bytes are skipped; what is left parses. */
	check_syntax("y\xc3\xa9 = a\n", 1,
		     "t.ein:1:2: error: unexpected non-ASCII text; the language "
		     "is ASCII (outside comments)\n"
		     "    1 | y\xc3\xa9 = a\n"
		     "      |  ^\n",
		     "y = a\n");
}

static void test_empty_program(void **state)
{
	(void)state;
	check_tree("", "");
	check_tree("\n\n# only a comment\n;;\n", "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_params),
		cmocka_unit_test(test_decls),
		cmocka_unit_test(test_decl_node_locations),
		cmocka_unit_test(test_einsum_forms),
		cmocka_unit_test(test_clauses),
		cmocka_unit_test(test_precedence),
		cmocka_unit_test(test_unary_minus),
		cmocka_unit_test(test_calls_and_numbers),
		cmocka_unit_test(test_multiline),
		cmocka_unit_test(test_node_locations),
		cmocka_unit_test(test_spec_and_gen_locations),
		cmocka_unit_test(test_error_expected_expression),
		cmocka_unit_test(test_error_expected_list),
		cmocka_unit_test(test_error_unclosed_paren_at_eof),
		cmocka_unit_test(test_error_unclosed_resumes),
		cmocka_unit_test(test_error_statement_start),
		cmocka_unit_test(test_error_keyword_as_name),
		cmocka_unit_test(test_error_eq_in_condition),
		cmocka_unit_test(test_error_two_gens),
		cmocka_unit_test(test_error_spec),
		cmocka_unit_test(test_error_every_statement),
		cmocka_unit_test(test_error_non_ascii_name),
		cmocka_unit_test(test_empty_program),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
