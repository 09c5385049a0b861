/* lex_state.h - state shared by the scanner (lexer.l) and the parser
 * (parser.y).  Private to the grammar.  The parser's caller owns it; the
 * AST it builds is returned to that caller (front/ast.h). */
#ifndef MAMBALAYA_LEX_STATE_H
#define MAMBALAYA_LEX_STATE_H

#include "front/cascade.h"

struct diag_ctx;

#define LEX_MAX_NEST 64
#define LEX_MAX_NAME 255 /* characters in an identifier */
/* Tokens in a source: with the 10 MiB limit alone, a file of one-character
 * expressions would make a syntax tree of about a gigabyte. */
#define LEX_MAX_TOKENS (1L << 20)

struct lex_state {
	struct diag_ctx *diag;
	int line, col;
	int depth;    /* open brackets */
	int can_end;  /* a newline now ends the statement */
	int pending;  /* a token was returned since the last EOL */
	char last[40]; /* text of the last token, for messages */
	long ntokens;  /* returned so far */
	int stopped;   /* over LEX_MAX_TOKENS: the rest reads as the end */
	struct {
		char ch;
		ein_loc loc;
	} stack[LEX_MAX_NEST];
};

#ifndef YY_TYPEDEF_YY_SCANNER_T
#define YY_TYPEDEF_YY_SCANNER_T
typedef void *yyscan_t;
#endif

int lex_init(struct lex_state *st, yyscan_t *scanner);
void lex_destroy(yyscan_t scanner);

#endif
