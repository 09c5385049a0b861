/* test_lexer.c - unit tests of the scanner (grammar/lexer.l).
 *
 * The scanner is driven directly, token by token, through the interface the
 * parser uses (lex_init, ein_yylex, lex_destroy).  Each test turns the token
 * stream into a compact text and compares it with the expected one:
 *   ID:x  identifier      T:x  tensor name (before '_{')   N:1.5  number
 *   _{  EOL  ::  <=  >=  ==  !=  keywords as written, other tokens as their
 *   character.  The stream ends at the end of the file (not shown).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/diag.h"
#include "front/ast.h"
#include "lex_state.h"
#include "parser.h"

int ein_yylex(YYSTYPE *lval, YYLTYPE *lloc, yyscan_t scanner);

#define MAX_OUT 4096

/* What one scan produced. */
typedef struct scan {
	char toks[MAX_OUT];  /* the token stream as text */
	char locs[MAX_OUT];  /* "line:col-end_line:end_col" of every token */
	char *diags;         /* what the scanner reported, flushed */
	int errors;
	int depth;           /* brackets still open at the end */
} scan;

static void append(char *buf, const char *s)
{
	size_t n = strlen(buf);

	assert_true(n + strlen(s) + 2 < MAX_OUT);
	if (n)
		buf[n++] = ' ';
	strcpy(buf + n, s);
}

static const char *tok_text(int t, const YYSTYPE *v, char *buf, size_t len)
{
	switch (t) {
	case T_IDENT:
		snprintf(buf, len, "ID:%s", v->str);
		return buf;
	case T_TENSOR:
		snprintf(buf, len, "T:%s", v->str);
		return buf;
	case T_NUMBER:
		snprintf(buf, len, "N:%s", v->str);
		return buf;
	case T_LSUB: return "_{";
	case T_EOL: return "EOL";
	case T_COLONCOLON: return "::";
	case T_LE: return "<=";
	case T_GE: return ">=";
	case T_EQEQ: return "==";
	case T_NE: return "!=";
	case T_PARAM: return "param";
	case T_INPUT: return "input";
	case T_WEIGHT: return "weight";
	case T_OUTPUT: return "output";
	case T_TENSORKW: return "tensor";
	case T_WHERE: return "where";
	case T_GEN: return "gen";
	case T_UNTIL: return "until";
	default:
		assert_true(t > 0 && t < 128);
		snprintf(buf, len, "%c", t);
		return buf;
	}
}

/* Scans src (len bytes, so that it may hold NUL bytes) to the end. */
static void scan_n(const char *src, size_t len, scan *out)
{
	memset(out, 0, sizeof(*out));
	diag_ctx *d = diag_new("t.ein", src, len);
	assert_non_null(d);
	struct lex_state st;
	memset(&st, 0, sizeof(st));
	st.diag = d;
	yyscan_t sc = NULL;
	assert_int_equal(lex_init(&st, &sc), 0);
	for (int n = 0;; n++) {
		YYSTYPE v;
		YYLTYPE l;
		char buf[512], loc[64];
		memset(&v, 0, sizeof(v));
		assert_true(n < 1000); /* the scanner must reach the end */
		int t = ein_yylex(&v, &l, sc);
		if (t == 0)
			break;
		append(out->toks, tok_text(t, &v, buf, sizeof(buf)));
		snprintf(loc, sizeof(loc), "%d:%d-%d:%d", l.line, l.col,
			 l.end_line, l.end_col);
		append(out->locs, loc);
		if (t == T_IDENT || t == T_TENSOR || t == T_NUMBER)
			free(v.str);
	}
	out->depth = st.depth;
	lex_destroy(sc);
	out->errors = diag_error_count(d);
	size_t sz = 0;
	FILE *f = open_memstream(&out->diags, &sz);
	assert_non_null(f);
	diag_flush(d, f);
	fclose(f);
	diag_free(d);
}

static void scan_s(const char *src, scan *out)
{
	scan_n(src, strlen(src), out);
}

/* Checks the token stream of src, and that it scans without diagnostics. */
#define assert_tokens(src, want)                                            \
	do {                                                                \
		scan s_;                                                    \
		scan_s((src), &s_);                                         \
		assert_string_equal(s_.toks, (want));                       \
		assert_string_equal(s_.diags, "");                          \
		free(s_.diags);                                             \
	} while (0)

/* ------------------------------------------------------------- tokens */

static void test_einsum_tokens(void **state)
{
	(void)state;
	assert_tokens("B_{i,j} = A_{i,k} * W_{k,j}\n",
		      "T:B _{ ID:i , ID:j } = T:A _{ ID:i , ID:k } * T:W _{ "
		      "ID:k , ID:j } EOL");
}

static void test_keywords(void **state)
{
	(void)state;
	assert_tokens("param input weight output tensor where gen until\n",
		      "param input weight output tensor where gen until EOL");
	/* Longer names that start like keywords are identifiers; so is a
	 * keyword followed by '_{' part of a longer name. */
	assert_tokens("params inputs gen_x where2 untilx\n",
		      "ID:params ID:inputs ID:gen_x ID:where2 ID:untilx EOL");
	/* Before '_{' a keyword is a tensor name (the checker then finds
	 * no such tensor, since a declaration cannot use the name). */
	assert_tokens("gen_{i}\n", "T:gen _{ ID:i } EOL");
}

static void test_underscores(void **state)
{
	(void)state;
	/* '_' belongs to names; only '_{' starts an index list. */
	assert_tokens("a_b_{x} a_b c_ {}\n", "T:a_b _{ ID:x } ID:a_b ID:c_ { } EOL");
	assert_tokens("X1_2_{0}\n", "T:X1_2 _{ N:0 } EOL");
}

static void test_numbers(void **state)
{
	(void)state;
	assert_tokens("1 12 1.5 1. .5 1e3 1E-3 2.5e+7 1.e2\n",
		      "N:1 N:12 N:1.5 N:1. N:.5 N:1e3 N:1E-3 N:2.5e+7 N:1.e2 EOL");
	/* An exponent needs digits: "1.5e" is a number and a name. */
	assert_tokens("1.5e\n", "N:1.5 ID:e EOL");
	/* A name cannot start with a digit. */
	assert_tokens("2x\n", "N:2 ID:x EOL");
}

static void test_operators(void **state)
{
	(void)state;
	assert_tokens("a :: b <= c >= d == e != f < g > h = i : j ; k\n",
		      "ID:a :: ID:b <= ID:c >= ID:d == ID:e != ID:f < ID:g > "
		      "ID:h = ID:i : ID:j ; ID:k EOL");
	assert_tokens("+-*/,()[]{}", "+ - * / , ( ) [ ] { } EOL");
}

static void test_comments_and_blanks(void **state)
{
	(void)state;
	assert_tokens("# a comment: = ( [ \xce\xb1\n", "");
	assert_tokens("a # b c\nd\n", "ID:a EOL ID:d EOL");
	assert_tokens("\t a \r\n", "ID:a EOL");
	assert_tokens("", "");
}

/* -------------------------------------------------- where lines end */

static void test_eol_after_operand(void **state)
{
	(void)state;
	/* A newline after something that can end an expression ends the
	 * statement; blank lines add nothing. */
	assert_tokens("a\n\n\nb\n", "ID:a EOL ID:b EOL");
	assert_tokens("1\n", "N:1 EOL");
	assert_tokens("a)\nb]\nc}\n", "ID:a ) EOL ID:b ] EOL ID:c } EOL");
}

static void test_no_eol_after_operator(void **state)
{
	(void)state;
	/* After an operator, a comma, '=', or a keyword the statement goes
	 * on. */
	assert_tokens("a +\n b\n", "ID:a + ID:b EOL");
	assert_tokens("a =\nb\n", "ID:a = ID:b EOL");
	assert_tokens("a ,\nb\n", "ID:a , ID:b EOL");
	assert_tokens("a where\nb\n", "ID:a where ID:b EOL");
	assert_tokens("a ::\nb\n", "ID:a :: ID:b EOL");
}

static void test_no_eol_in_brackets(void **state)
{
	(void)state;
	assert_tokens("f(a\n, b\n)\n", "ID:f ( ID:a , ID:b ) EOL");
	assert_tokens("A[\nN\n]\n", "ID:A [ ID:N ] EOL");
	assert_tokens("A_{i\n}\n", "T:A _{ ID:i } EOL");
	/* Nested: the line ends only when every bracket is closed. */
	assert_tokens("f(g(a)\n)\nb\n", "ID:f ( ID:g ( ID:a ) ) EOL ID:b EOL");
}

static void test_semicolon(void **state)
{
	(void)state;
	/* ';' ends a statement itself: no EOL for the newline after it. */
	assert_tokens("a; b;\nc\n", "ID:a ; ID:b ; ID:c EOL");
}

static void test_eol_at_eof(void **state)
{
	(void)state;
	/* The last statement ends even without a final newline. */
	assert_tokens("a", "ID:a EOL");
	assert_tokens("a +", "ID:a + EOL");
	assert_tokens("a\n", "ID:a EOL");
}

/* --------------------------------------------------------- locations */

static void test_locations(void **state)
{
	(void)state;
	scan s;
	scan_s("B_{i} = A_{i}\n  x12 = 1.5\n", &s);
	assert_string_equal(s.toks,
			    "T:B _{ ID:i } = T:A _{ ID:i } EOL ID:x12 = N:1.5 EOL");
	/* Columns are 1-based and the end is inclusive.  The EOL token is
	 * the newline itself. */
	assert_string_equal(s.locs,
			    "1:1-1:1 1:2-1:3 1:4-1:4 1:5-1:5 1:7-1:7 1:9-1:9 "
			    "1:10-1:11 1:12-1:12 1:13-1:13 1:14-1:14 "
			    "2:3-2:5 2:7-2:7 2:9-2:11 2:12-2:12");
	free(s.diags);
}

static void test_location_of_end(void **state)
{
	(void)state;
	scan s;
	/* The EOL that ends the file's last line is just after its last
	 * character, with or without a final newline. */
	scan_s("ab +", &s);
	assert_string_equal(s.locs, "1:1-1:2 1:4-1:4 1:5-1:5");
	free(s.diags);
	scan_s("ab +\n", &s);
	assert_string_equal(s.locs, "1:1-1:2 1:4-1:4 1:5-1:5");
	free(s.diags);
	scan_s("a\nb # c", &s);
	assert_string_equal(s.locs, "1:1-1:1 1:2-1:2 2:1-2:1 2:6-2:6");
	free(s.diags);
}

static void test_locations_crlf_tabs(void **state)
{
	(void)state;
	scan s;
	/* '\r' and tabs are one column each, like any byte. */
	scan_s("a\r\n\tbb\r\n", &s);
	assert_string_equal(s.toks, "ID:a EOL ID:bb EOL");
	assert_string_equal(s.locs, "1:1-1:1 1:3-1:3 2:2-2:3 2:5-2:5");
	free(s.diags);
}

static void test_locations_in_brackets(void **state)
{
	(void)state;
	scan s;
	scan_s("f(a\n  b)\n", &s);
	assert_string_equal(s.toks, "ID:f ( ID:a ID:b ) EOL");
	assert_string_equal(s.locs, "1:1-1:1 1:2-1:2 1:3-1:3 2:3-2:3 2:4-2:4 "
				    "2:5-2:5");
	free(s.diags);
}

/* ------------------------------------------------------- diagnostics */

static void test_bad_character(void **state)
{
	(void)state;
	scan s;
	scan_s("a @ b $\n", &s);
	/* Bad characters are reported and skipped. */
	assert_string_equal(s.toks, "ID:a ID:b EOL");
	assert_int_equal(s.errors, 2);
	assert_string_equal(s.diags,
			    "t.ein:1:3: error: unexpected character '@'\n"
			    "    1 | a @ b $\n"
			    "      |   ^\n"
			    "t.ein:1:7: error: unexpected character '$'\n"
			    "    1 | a @ b $\n"
			    "      |       ^\n");
	free(s.diags);
}

static void test_non_ascii_run(void **state)
{
	(void)state;
	scan s;
	/* One error for a run of non-ASCII bytes (two UTF-8 characters);
	 * the caret counts a character as one column. */
	scan_s("x = \xce\xb1\xce\xb2 y\n", &s);
	assert_string_equal(s.toks, "ID:x = ID:y EOL");
	assert_int_equal(s.errors, 1);
	assert_string_equal(s.diags,
			    "t.ein:1:5: error: unexpected non-ASCII text; the "
			    "language is ASCII (outside comments)\n"
			    "    1 | x = \xce\xb1\xce\xb2 y\n"
			    "      |     ^~\n");
	free(s.diags);
}

static void test_control_and_nul(void **state)
{
	(void)state;
	scan s;
	/* check_load_file refuses NUL bytes, but the scanner must still
	 * survive them when given a buffer directly. */
	scan_n("a\x01 b\0c\n", 7, &s);
	assert_string_equal(s.toks, "ID:a ID:b ID:c EOL");
	assert_int_equal(s.errors, 2);
	assert_string_equal(s.diags,
			    "t.ein:1:2: error: unexpected control character 0x01\n"
			    "    1 | a? b?c\n"
			    "      |  ^\n"
			    "t.ein:1:5: error: unexpected control character 0x00\n"
			    "    1 | a? b?c\n"
			    "      |     ^\n");
	free(s.diags);
}

static void test_unclosed_at_eof(void **state)
{
	(void)state;
	scan s;
	/* Scanned alone (the parser reports these first, with a note), the
	 * scanner reports the brackets still open at the end, innermost
	 * first. */
	scan_s("f(A[\n  x_{1", &s);
	assert_string_equal(s.toks, "ID:f ( ID:A [ T:x _{ N:1 EOL");
	assert_int_equal(s.errors, 3);
	assert_int_equal(s.depth, 0);
	assert_string_equal(s.diags,
			    "t.ein:1:2: error: '(' is never closed\n"
			    "    1 | f(A[\n"
			    "      |  ^\n"
			    "  hint: add the matching ')'\n"
			    "t.ein:1:4: error: '[' is never closed\n"
			    "    1 | f(A[\n"
			    "      |    ^\n"
			    "  hint: add the matching ']'\n"
			    "t.ein:2:4: error: '{' is never closed\n"
			    "    2 |   x_{1\n"
			    "      |    ^~\n"
			    "  hint: add the matching '}'\n");
	free(s.diags);
}

static void test_stray_closer(void **state)
{
	(void)state;
	scan s;
	/* A closer with nothing open is the parser's to report; the depth
	 * must not go negative (the next newline still ends the line). */
	scan_s(")\na\n", &s);
	assert_string_equal(s.toks, ") EOL ID:a EOL");
	assert_int_equal(s.errors, 0);
	assert_int_equal(s.depth, 0);
	free(s.diags);
}

static void test_long_token(void **state)
{
	(void)state;
	char src[300];
	memset(src, 'a', 250);
	strcpy(src + 250, "\n");
	scan s;
	scan_s(src, &s);
	/* A long name is kept whole. */
	assert_int_equal(strlen(s.toks), strlen("ID: EOL") + 250);
	free(s.diags);
}

/* Past LEX_MAX_TOKENS the scanner reports the next token once, at its
 * position, and ends the input there: nothing after it is read (a name
 * over the length limit is not reported) and no token text is left to
 * free (ASan's leak check in the sanitized build). */
static void test_token_limit(void **state)
{
	(void)state;
	size_t n = (size_t)LEX_MAX_TOKENS;
	size_t len = 2 * n + 2 + 300 + 1;
	char *src = malloc(len + 1);
	assert_non_null(src);
	for (size_t i = 0; i < n; i++)
		memcpy(src + 2 * i, "x ", 2);
	memcpy(src + 2 * n, "y ", 2);
	memset(src + 2 * n + 2, 'a', 300);
	src[len - 1] = '\n';
	src[len] = '\0';
	diag_ctx *d = diag_new("t.ein", src, len);
	free(src);
	assert_non_null(d);
	struct lex_state st;
	memset(&st, 0, sizeof(st));
	st.diag = d;
	yyscan_t sc = NULL;
	assert_int_equal(lex_init(&st, &sc), 0);
	YYSTYPE v;
	YYLTYPE l;
	size_t count = 0;
	int t;
	while ((t = ein_yylex(&v, &l, sc)) != 0) {
		assert_int_equal(t, T_IDENT);
		free(v.str);
		count++;
	}
	assert_int_equal(count, n);
	assert_int_equal(ein_yylex(&v, &l, sc), 0); /* and it stays there */
	lex_destroy(sc);
	assert_int_equal(diag_error_count(d), 1);
	char *out = NULL;
	size_t sz = 0;
	FILE *f = open_memstream(&out, &sz);
	assert_non_null(f);
	diag_flush(d, f);
	fclose(f);
	diag_free(d);
	assert_non_null(strstr(out, "t.ein:1:2097153: error: the source has more "
				    "than 1048576 tokens"));
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_einsum_tokens),
		cmocka_unit_test(test_keywords),
		cmocka_unit_test(test_underscores),
		cmocka_unit_test(test_numbers),
		cmocka_unit_test(test_operators),
		cmocka_unit_test(test_comments_and_blanks),
		cmocka_unit_test(test_eol_after_operand),
		cmocka_unit_test(test_no_eol_after_operator),
		cmocka_unit_test(test_no_eol_in_brackets),
		cmocka_unit_test(test_semicolon),
		cmocka_unit_test(test_eol_at_eof),
		cmocka_unit_test(test_locations),
		cmocka_unit_test(test_location_of_end),
		cmocka_unit_test(test_locations_crlf_tabs),
		cmocka_unit_test(test_locations_in_brackets),
		cmocka_unit_test(test_bad_character),
		cmocka_unit_test(test_non_ascii_run),
		cmocka_unit_test(test_control_and_nul),
		cmocka_unit_test(test_unclosed_at_eof),
		cmocka_unit_test(test_stray_closer),
		cmocka_unit_test(test_long_token),
		cmocka_unit_test(test_token_limit),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
