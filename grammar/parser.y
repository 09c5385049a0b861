/* parser.y - the grammar of the extended-Einsum language.
 *
 * The grammar, informally (docs/language.md has the full description):
 *
 *   program    := { statement end }
 *   end        := newline | ';'
 *   statement  := 'param' NAME '=' expr { ',' NAME '=' expr }
 *               | role decl { ',' decl }
 *               | einsum
 *   role       := 'input' | 'weight' | 'output' | 'tensor'
 *   decl       := NAME [ '[' [ dim { ',' dim } ] ']' ] [ ':' TYPE ] [ draw ]
 *   draw       := '~' NAME '(' expr ',' expr ')'     what --random draws:
 *                                                    uniform(LO, HI)
 *   dim        := [ RANK ':' ] expr                  extent, affine in params
 *   einsum     := [ LABEL ':' ] lhs '=' expr { clause }
 *   lhs        := NAME '_{' [ expr { ',' expr } ] '}' | NAME
 *   clause     := '::' specitem { specitem }        map/reduce spec
 *               | 'where' cond { ',' cond }          filters
 *               | 'gen' VAR 'until' cond             generational rank
 *   specitem   := NAME '(' arg { ',' arg } ')'       map(op[,merge]), reduce(op[,merge])
 *   cond       := expr cmp expr { cmp expr }         cmp: < <= > >= == !=
 *   expr       := term { ('+' | '-') term }
 *   term       := juxt { ('*' | '/') juxt }
 *   juxt       := unary { primary }                  juxtaposition: the map operator
 *   unary      := '-' unary | primary
 *   primary    := NUMBER | NAME | NAME '_{' [expr {',' expr}] '}'
 *               | NAME '(' expr { ',' expr } ')' | '(' expr ')'
 *
 * Newlines inside brackets or after an operator do not end a statement
 * (lexer.l).  Errors are reported through diag and recovery skips to the end
 * of the statement, so that every syntax error of a file is reported.
 */
%define api.pure full
%define parse.error custom
/* Lookahead correction: without it, default reductions run before an error
 * is detected and the "expected ..." list of a message misses tokens (after
 * `(A + 1`, it would not list '*' or an operand). */
%define parse.lac full
%define api.location.type {ein_loc}
%locations
%param {yyscan_t scanner}
%parse-param {struct parse_state *ps}

%code requires {
#include "front/ast.h"
#include "lex_state.h"

struct parse_state {
	ast_program *prog;
	struct lex_state *lex;
	const char *role;
	ast_stmt *cur; /* the Einsum being parsed */
	int oom;
};

typedef struct parse_dim {
	char *rank;
	ein_loc rank_loc;
	ast_node *extent;
} parse_dim;

#define YYLLOC_DEFAULT(Cur, Rhs, N)                                          \
	do {                                                                 \
		if (N) {                                                     \
			(Cur).line = YYRHSLOC(Rhs, 1).line;                  \
			(Cur).col = YYRHSLOC(Rhs, 1).col;                    \
			(Cur).end_line = YYRHSLOC(Rhs, N).end_line;          \
			(Cur).end_col = YYRHSLOC(Rhs, N).end_col;            \
		} else {                                                     \
			(Cur).line = (Cur).end_line = YYRHSLOC(Rhs, 0).end_line; \
			(Cur).col = (Cur).end_col = YYRHSLOC(Rhs, 0).end_col; \
		}                                                            \
	} while (0)
}

%code {
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/diag.h"

int ein_yylex(YYSTYPE *lval, YYLTYPE *lloc, yyscan_t scanner);
#define yylex ein_yylex

/* The parser's stack: at most this many symbols pending (open brackets,
 * prefix minus signs, operators waiting for their right operand).  Beyond
 * it bison gives up with "memory exhausted": reported as nesting too deep. */
#define YYMAXDEPTH 10000

static void yyerror(YYLTYPE *loc, yyscan_t scanner, struct parse_state *ps,
		    const char *msg)
{
	(void)scanner;
	if (strcmp(msg, "memory exhausted") == 0) {
		diag_error(ps->lex->diag, *loc,
			   "brackets or operators nested too deeply (the "
			   "parser holds at most %d pending symbols); the rest "
			   "of the file is not checked", YYMAXDEPTH);
		diag_hint(ps->lex->diag, "remove redundant parentheses or "
					 "minus signs, or compute parts of the "
					 "expression in Einsums of their own");
		return;
	}
	diag_error(ps->lex->diag, *loc, "%s", msg);
}

/* An expression node deeper than AST_MAX_DEPTH (every pass walks
 * expressions recursively): reports it at loc, frees it, and starts error
 * recovery, which skips the rest of the statement.  Recovery resumes at the
 * next line, so forget open brackets (see yyreport_syntax_error). */
#define DEEP(n, loc)                                                        \
	do {                                                                \
		if ((n)->depth > AST_MAX_DEPTH) {                           \
			too_deep(ps, (loc));                                \
			ast_node_free(n);                                   \
			(n) = NULL;                                         \
			YYERROR;                                            \
		}                                                           \
	} while (0)

static void too_deep(struct parse_state *ps, ein_loc loc)
{
	diag_error(ps->lex->diag, loc,
		   "expression nested too deeply (more than %d levels of "
		   "operators, calls and indices)", AST_MAX_DEPTH);
	diag_hint(ps->lex->diag, "compute parts of the expression in Einsums "
				 "of their own, or balance a long sum with "
				 "parentheses");
	ps->lex->depth = 0;
}

/* The node just given an argument (its last) is one deeper than it. */
static void arg_depth(ast_node *n)
{
	int d = n->args.v[n->args.n - 1]->depth + 1;
	if (d > n->depth)
		n->depth = d;
}

/* Allocation failures inside actions: remember, stop cleanly. */
#define CHECK(x)                                                            \
	do {                                                                \
		if (!(x)) {                                                 \
			ps->oom = 1;                                        \
			YYABORT;                                            \
		}                                                           \
	} while (0)
}

%union {
	char *str;
	ast_node *node;
	ast_cond *cond;
	ast_stmt *stmt;
	ast_spec_item *spec;
	parse_dim dim;
	const char *op;
}

%token <str> T_IDENT "identifier"
%token <str> T_TENSOR "tensor name"
%token <str> T_NUMBER "number"
%token T_LSUB "'_{'"
%token T_EOL "end of line"
%token T_COLONCOLON "'::'"
%token T_LE "'<='"
%token T_GE "'>='"
%token T_EQEQ "'=='"
%token T_NE "'!='"
%token T_PARAM "'param'"
%token T_INPUT "'input'"
%token T_WEIGHT "'weight'"
%token T_OUTPUT "'output'"
%token T_TENSORKW "'tensor'"
%token T_WHERE "'where'"
%token T_GEN "'gen'"
%token T_UNTIL "'until'"

%type <node> expr term juxt unary primary access access_open call call_open lhs
%type <cond> cond
%type <stmt> einsum einsum_head decl_open decl_dims decl_head
%type <spec> spec_item spec_open
%type <dim> dim
%type <op> cmp
%type <str> type_opt spec_arg

%destructor { free($$); } <str>
%destructor { ast_node_free($$); } <node>
%destructor { ast_cond_free($$); } <cond>
%destructor { ast_stmt_free($$); } <stmt>
%destructor { if ($$) { ast_spec_item_clear($$); free($$); } } <spec>
%destructor { free($$.rank); ast_node_free($$.extent); } <dim>

/* NAME '(' is always a call: shift '(' rather than end the primary. */
%precedence T_IDENT
%precedence '('

%%

program
	: %empty
	| program stmt
	;

stmt
	: end
	| param_stmt end
	| decl_stmt end
	| einsum end { CHECK(ast_program_push(ps->prog, $1) == 0); }
	| error end { yyerrok; }
	;

end
	: T_EOL
	| ';'
	;

param_stmt
	: T_PARAM param_def
	| param_stmt ',' param_def
	;

param_def
	: T_IDENT '=' expr {
		ast_stmt *s = ast_stmt_new(AST_S_PARAM, @$);
		if (!s) { free($1); ast_node_free($3); CHECK(0); }
		s->name = $1;
		s->name_loc = @1;
		s->value = $3;
		CHECK(ast_program_push(ps->prog, s) == 0);
	}
	;

decl_stmt
	: role decl_item
	| decl_stmt ',' decl_item
	;

role
	: T_INPUT { ps->role = "input"; }
	| T_WEIGHT { ps->role = "weight"; }
	| T_OUTPUT { ps->role = "output"; }
	| T_TENSORKW { ps->role = "tensor"; }
	;

decl_item
	: decl_head type_opt {
		ast_stmt *s = $1;
		s->type = $2;
		s->type_loc = @2;
		s->role = strdup(ps->role);
		if (!s->role) { ast_stmt_free(s); CHECK(0); }
		CHECK(ast_program_push(ps->prog, s) == 0);
	}
	| decl_head type_opt '~' T_IDENT '(' expr ',' expr ')' {
		ast_stmt *s = $1;
		s->type = $2;
		s->type_loc = @2;
		s->draw = $4;
		s->draw_loc = @4;
		s->draw_lo = $6;
		s->draw_hi = $8;
		s->role = strdup(ps->role);
		if (!s->role) { ast_stmt_free(s); CHECK(0); }
		CHECK(ast_program_push(ps->prog, s) == 0);
	}
	;

decl_head
	: T_IDENT {
		$$ = ast_stmt_new(AST_S_DECL, @1);
		if (!$$) { free($1); CHECK(0); }
		$$->name = $1;
		$$->name_loc = @1;
	}
	| decl_open ']' { $$ = $1; $$->ndims = 0; $$->loc = diag_span($$->loc, @2); }
	| decl_dims ']' { $$ = $1; $$->loc = diag_span($$->loc, @2); }
	;

decl_open
	: T_IDENT '[' {
		$$ = ast_stmt_new(AST_S_DECL, @1);
		if (!$$) { free($1); CHECK(0); }
		$$->name = $1;
		$$->name_loc = @1;
	}
	;

decl_dims
	: decl_open dim {
		$$ = $1;
		if (ast_stmt_add_dim($$, $2.rank, $2.rank_loc, $2.extent) < 0) {
			ast_stmt_free($$);
			CHECK(0);
		}
	}
	| decl_dims ',' dim {
		$$ = $1;
		if (ast_stmt_add_dim($$, $3.rank, $3.rank_loc, $3.extent) < 0) {
			ast_stmt_free($$);
			CHECK(0);
		}
	}
	;

dim
	: expr { $$.rank = NULL; $$.rank_loc = @1; $$.extent = $1; }
	| T_IDENT ':' expr { $$.rank = $1; $$.rank_loc = @1; $$.extent = $3; }
	;

type_opt
	: %empty { $$ = NULL; }
	| ':' T_IDENT { $$ = $2; @$ = @2; }
	;

einsum
	: einsum_head
	| einsum spec_list
	| einsum T_WHERE cond {
		$$ = $1;
		if (ast_stmt_add_filter($$, $3) < 0) { ast_stmt_free($$); CHECK(0); }
	}
	| einsum ',' cond {
		$$ = $1;
		if (ast_stmt_add_filter($$, $3) < 0) { ast_stmt_free($$); CHECK(0); }
	}
	| einsum T_GEN T_IDENT T_UNTIL cond {
		$$ = $1;
		if ($$->gen_var) {
			diag_error(ps->lex->diag, @2,
				   "this Einsum already has a generational rank");
			free($3);
			ast_cond_free($5);
		} else {
			$$->gen_var = $3;
			$$->gen_loc = @3;
			$$->until = $5;
		}
	}
	;

einsum_head
	: lhs '=' expr {
		$$ = ast_stmt_new(AST_S_EINSUM, @$);
		if (!$$) { ast_node_free($1); ast_node_free($3); CHECK(0); }
		$$->lhs = $1;
		$$->rhs = $3;
		ps->cur = $$;
	}
	| T_IDENT ':' lhs '=' expr {
		$$ = ast_stmt_new(AST_S_EINSUM, diag_span(@3, @5));
		if (!$$) { free($1); ast_node_free($3); ast_node_free($5); CHECK(0); }
		$$->label = $1;
		$$->label_loc = @1;
		$$->lhs = $3;
		$$->rhs = $5;
		ps->cur = $$;
	}
	;

lhs
	: access
	| T_IDENT { $$ = ast_ident(@1, $1); CHECK($$); }
	;

spec_item
	: spec_open ')' { $$ = $1; $$->loc = diag_span($$->loc, @2); }
	;

/* `:: item item ...`: items follow the '::' and each other, so that a name
 * after an expression is juxtaposition, never a spec. */
spec_list
	: T_COLONCOLON spec_item {
		if (ast_stmt_add_spec(ps->cur, $2) < 0) { free($2); CHECK(0); }
		free($2);
	}
	| spec_list spec_item {
		if (ast_stmt_add_spec(ps->cur, $2) < 0) { free($2); CHECK(0); }
		free($2);
	}
	;

spec_open
	: T_IDENT '(' spec_arg {
		$$ = calloc(1, sizeof(*$$));
		if (!$$) { free($1); free($3); CHECK(0); }
		$$->name = $1;
		$$->loc = @1;
		if (ast_grow(&$$->args, 0, sizeof(char *)) < 0 ||
		    ast_grow(&$$->arg_locs, 0, sizeof(ein_loc)) < 0) { free($3); CHECK(0); }
		$$->args[0] = $3;
		$$->arg_locs[0] = @3;
		$$->nargs = 1;
	}
	| spec_open ',' spec_arg {
		$$ = $1;
		if (ast_grow(&$$->args, $$->nargs, sizeof(char *)) < 0 ||
		    ast_grow(&$$->arg_locs, $$->nargs, sizeof(ein_loc)) < 0) { free($3); CHECK(0); }
		$$->args[$$->nargs] = $3;
		$$->arg_locs[$$->nargs] = @3;
		$$->nargs++;
	}
	;

spec_arg
	: '+' { $$ = strdup("+"); CHECK($$); }
	| '-' { $$ = strdup("-"); CHECK($$); }
	| '*' { $$ = strdup("*"); CHECK($$); }
	| '/' { $$ = strdup("/"); CHECK($$); }
	| T_IDENT
	;

cond
	: expr cmp expr { $$ = ast_cond_new($1, $2, $3); CHECK($$); }
	| cond cmp expr { $$ = $1; if (ast_cond_push($$, $2, $3) < 0) { ast_cond_free($$); CHECK(0); } }
	;

cmp
	: '<' { $$ = "<"; }
	| T_LE { $$ = "<="; }
	| '>' { $$ = ">"; }
	| T_GE { $$ = ">="; }
	| T_EQEQ { $$ = "=="; }
	| T_NE { $$ = "!="; }
	| '=' {
		diag_error(ps->lex->diag, @1, "'=' in a condition");
		diag_hint(ps->lex->diag, "write '==' to compare");
		$$ = "==";
	}
	;

expr
	: term
	| expr '+' term { $$ = ast_binary(@$, '+', $1, $3); CHECK($$); DEEP($$, @2); }
	| expr '-' term { $$ = ast_binary(@$, '-', $1, $3); CHECK($$); DEEP($$, @2); }
	;

term
	: juxt
	| term '*' juxt { $$ = ast_binary(@$, '*', $1, $3); CHECK($$); DEEP($$, @2); }
	| term '/' juxt { $$ = ast_binary(@$, '/', $1, $3); CHECK($$); DEEP($$, @2); }
	;

juxt
	: unary
	| juxt primary { $$ = ast_juxt(@$, $1, $2); CHECK($$); DEEP($$, @2); }
	;

unary
	: primary
	| '-' unary { $$ = ast_unary_neg(@$, $2); CHECK($$); DEEP($$, @1); }
	;

primary
	: T_NUMBER { $$ = ast_num(@1, $1); free($1); CHECK($$); }
	| T_IDENT { $$ = ast_ident(@1, $1); CHECK($$); }
	| access
	| call
	| '(' expr ')' { $$ = $2; }
	;

access
	: access_open '}' { $$ = $1; $$->loc = diag_span($$->loc, @2); }
	| T_TENSOR T_LSUB '}' { $$ = ast_access(@$, $1, @1); CHECK($$); }
	;

access_open
	: T_TENSOR T_LSUB expr {
		$$ = ast_access(@$, $1, @1);
		if (!$$) { ast_node_free($3); CHECK(0); }
		if (ast_list_push(&$$->args, $3) < 0) { ast_node_free($$); CHECK(0); }
		arg_depth($$);
		DEEP($$, @3);
	}
	| access_open ',' expr {
		$$ = $1;
		if (ast_list_push(&$$->args, $3) < 0) { ast_node_free($$); CHECK(0); }
		arg_depth($$);
		DEEP($$, @3);
	}
	;

call
	: call_open ')' { $$ = $1; $$->loc = diag_span($$->loc, @2); }
	;

call_open
	: T_IDENT '(' expr {
		$$ = ast_call(@$, $1, @1);
		if (!$$) { ast_node_free($3); CHECK(0); }
		if (ast_list_push(&$$->args, $3) < 0) { ast_node_free($$); CHECK(0); }
		arg_depth($$);
		DEEP($$, @3);
	}
	| call_open ',' expr {
		$$ = $1;
		if (ast_list_push(&$$->args, $3) < 0) { ast_node_free($$); CHECK(0); }
		arg_depth($$);
		DEEP($$, @3);
	}
	;

%%

/* Bison's token names are quoted aliases; print them without the quotes
 * bison adds around the alias itself. */
static const char *sym_text(yysymbol_kind_t sym, char *buf, size_t len)
{
	const char *n = yysymbol_name(sym);
	size_t l = strlen(n);
	if (l >= 2 && n[0] == '"' && n[l - 1] == '"') {
		snprintf(buf, len, "%.*s", (int)(l - 2), n + 1);
		return buf;
	}
	return n;
}

static int is_keyword(yysymbol_kind_t s)
{
	return s == YYSYMBOL_T_PARAM || s == YYSYMBOL_T_INPUT ||
	       s == YYSYMBOL_T_WEIGHT || s == YYSYMBOL_T_OUTPUT ||
	       s == YYSYMBOL_T_TENSORKW || s == YYSYMBOL_T_WHERE ||
	       s == YYSYMBOL_T_GEN || s == YYSYMBOL_T_UNTIL;
}

static int yyreport_syntax_error(const yypcontext_t *ctx, yyscan_t scanner,
				 struct parse_state *ps)
{
	(void)scanner;
	struct lex_state *lx = ps->lex;
	yysymbol_kind_t tok = yypcontext_token(ctx);
	/* The scanner stopped at its token limit and said so: the end of
	 * input it then gives is not the user's mistake. */
	if (lx->stopped)
		return 0;
	char found[80];
	/* The lexer ends the last statement with an EOL token of empty text
	 * at the end of the file: call it what it is. */
	if (tok == YYSYMBOL_YYEOF ||
	    (tok == YYSYMBOL_T_EOL && lx->last[0] == '\0'))
		snprintf(found, sizeof(found), "end of file");
	else if (tok == YYSYMBOL_T_EOL)
		snprintf(found, sizeof(found), "end of line");
	else
		snprintf(found, sizeof(found), "'%s'", lx->last);

	yysymbol_kind_t exp[YYNTOKENS];
	int n = yypcontext_expected_tokens(ctx, exp, YYNTOKENS);
	if (n < 0)
		n = 0;
	/* Summarise the many tokens that can start an expression, and those
	 * that can start a statement. */
	int has_expr = 0, has_stmt = 0, has_plus = 0, has_name = 0;
	for (int i = 0; i < n; i++) {
		if (exp[i] == YYSYMBOL_T_NUMBER)
			has_expr = 1;
		if (exp[i] == YYSYMBOL_T_PARAM)
			has_stmt = 1;
		if (strcmp(yysymbol_name(exp[i]), "'+'") == 0)
			has_plus = 1;
		if (exp[i] == YYSYMBOL_T_IDENT || exp[i] == YYSYMBOL_T_TENSOR)
			has_name = 1;
	}
	char want[600] = "";
	size_t w = 0;
	int items = 0;
	char buf[64];
	for (int i = 0; i < n && !has_stmt && w < sizeof(want) - 64; i++) {
		yysymbol_kind_t s = exp[i];
		const char *nm = yysymbol_name(s);
		/* A '-' after an operand is the binary one: keep it next to
		 * '+'; elsewhere it only starts an expression. */
		if (has_expr && (s == YYSYMBOL_T_NUMBER || s == YYSYMBOL_T_IDENT ||
				 s == YYSYMBOL_T_TENSOR || strcmp(nm, "'('") == 0 ||
				 (strcmp(nm, "'-'") == 0 && !has_plus)))
			continue;
		w += (size_t)snprintf(want + w, sizeof(want) - w, "%s%s",
				      items ? ", " : "", sym_text(s, buf, sizeof(buf)));
		items++;
	}
	if (has_stmt)
		snprintf(want, sizeof(want), "a statement");
	else if (has_expr)
		snprintf(want + w, sizeof(want) - w, "%san expression",
			 items ? " or " : "");
	ein_loc loc = *yypcontext_location(ctx);
	if (tok == YYSYMBOL_T_EOL && loc.col > 1)
		loc.end_col = loc.col;
	if (n > 0)
		diag_error(lx->diag, loc, "unexpected %s; expected %s", found, want);
	else
		diag_error(lx->diag, loc, "unexpected %s", found);
	/* A clause on a line of its own: the newline before it ended the
	 * Einsum. */
	if (has_stmt && (tok == YYSYMBOL_T_WHERE || tok == YYSYMBOL_T_GEN ||
			 tok == YYSYMBOL_T_COLONCOLON))
		diag_hint(lx->diag, "the newline before it ended the Einsum; "
				    "put '%s' on the same line",
			  lx->last);
	else if (is_keyword(tok) && !has_expr && (has_name || has_stmt))
		diag_hint(lx->diag, "'%s' is a keyword; it cannot be used as a name",
			  lx->last);
	/* Say which bracket is open, unless the unexpected token is that
	 * bracket itself. */
	if (lx->depth > 0 && lx->depth <= LEX_MAX_NEST) {
		char ch = lx->stack[lx->depth - 1].ch;
		ein_loc open = lx->stack[lx->depth - 1].loc;
		if (open.line != loc.line || open.col != loc.col)
			diag_note(lx->diag, open, "to close this '%c'", ch);
	}
	/* Forget the open brackets: recovery then resumes at the next line
	 * (inside brackets newlines do not end statements, so a missing
	 * closer would swallow the rest of the file), and the lexer does not
	 * report the same bracket again at the end of the file. */
	lx->depth = 0;
	return 0;
}

ast_program *ast_parse(struct diag_ctx *diag)
{
	struct lex_state lx;
	memset(&lx, 0, sizeof(lx));
	lx.diag = diag;
	struct parse_state ps = {0};
	yyscan_t scanner = NULL;
	ps.prog = calloc(1, sizeof(*ps.prog));
	ps.lex = &lx;
	if (!ps.prog)
		return NULL;
	if (lex_init(&lx, &scanner) < 0) {
		ast_program_free(ps.prog);
		return NULL;
	}
	yyparse(scanner, &ps);
	lex_destroy(scanner);
	if (ps.oom) {
		ast_program_free(ps.prog);
		return NULL;
	}
	return ps.prog;
}
