/* check_util.c - what every part of the checker uses: source text for
 * messages, "did you mean" suggestions, the names of functions (see
 * check_impl.h). */
#include "check_impl.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "reserved.h"

static const char *const fn_names[] = {
	"exp",	"log",	"sqrt", "rsqrt", "sigmoid", "silu",  "softplus",
	"tanh", "relu", "abs",	"neg",	 "recip",   "square", "max", "min"};

#define NFN_NAMES ((int)(sizeof(fn_names) / sizeof(fn_names[0])))

char *chk_xstrdup(chk *k, const char *s)
{
	char *r = strdup(s ? s : "");
	if (!r)
		k->oom = 1;
	return r;
}

/* The source text of loc (single line; longer ranges are cut at the end of
 * the first line), into buf. */
const char *chk_src_text(const chk *k, ein_loc loc, char *buf, size_t len)
{
	size_t slen;
	const char *src = diag_source(k->diag, &slen);
	const char *p = src;
	buf[0] = '\0';
	for (int l = 1; l < loc.line && p; l++) {
		p = memchr(p, '\n', slen - (size_t)(p - src));
		if (p)
			p++;
	}
	if (!p || loc.col < 1)
		return buf;
	const char *end = src + slen;
	const char *s = p + loc.col - 1;
	if (s >= end)
		return buf;
	const char *e;
	if (loc.end_line == loc.line)
		e = p + loc.end_col;
	else {
		e = memchr(s, '\n', (size_t)(end - s));
		if (!e)
			e = end;
	}
	if (e > end)
		e = end;
	if (e <= s)
		return buf;
	size_t n = (size_t)(e - s);
	if (n >= len)
		n = len - 1;
	memcpy(buf, s, n);
	buf[n] = '\0';
	return buf;
}

/* Keeps cand as the best suggestion for name if it is closer.  An edit as
 * long as the name itself (any other one-letter name for "j") is a guess,
 * not a suggestion, unless only the case differs ("i" for "I"). */
static void consider(const char *name, const char *cand, const char **best,
		     int *bestd)
{
	int d = diag_edit_distance(name, cand);
	if (d >= *bestd)
		return;
	if (d >= (int)strlen(name) && strcasecmp(name, cand) != 0)
		return;
	*bestd = d;
	*best = cand;
}

/* The closest known name to `name` among parameters, tensors and functions
 * (what: bit 1 params, 2 tensors, 4 functions), or NULL. */
const char *chk_suggest(const chk *k, const char *name, int what)
{
	const char *best = NULL;
	int bestd = (int)strlen(name) <= 3 ? 1 : 2;
	bestd++;
	if (what & 1)
		for (int p = 0; p < k->c->nparams; p++)
			consider(name, k->c->params[p].name, &best, &bestd);
	if (what & 2)
		for (int t = 0; t < k->c->ntensors; t++)
			consider(name, k->c->tensors[t].name, &best, &bestd);
	if (what & 4)
		for (int f = 0; f < NFN_NAMES; f++)
			consider(name, fn_names[f], &best, &bestd);
	return best;
}

void chk_hint_suggest(chk *k, const char *name, int what)
{
	const char *s = chk_suggest(k, name, what);
	if (s)
		diag_hint(k->diag, "did you mean '%s'?", s);
}

/* Reports an integer literal too large for 64 bits (the parser keeps it as a
 * float number, see ast_num; only the source text tells it apart from one
 * written as a float).  Returns 1 if it reported. */
int chk_report_big_int(chk *k, const ast_node *n)
{
	char txt[128];
	if (n->kind != AST_NUM || n->is_int)
		return 0;
	chk_src_text(k, n->loc, txt, sizeof(txt));
	if (!txt[0] || strpbrk(txt, ".eE"))
		return 0;
	diag_error(k->diag, n->loc, "the integer %s is too large (64 bits)", txt);
	return 1;
}

int chk_find_fn(const char *name)
{
	for (int f = 0; f < NFN_NAMES; f++)
		if (strcmp(name, fn_names[f]) == 0)
			return f;
	return -1;
}

const char *chk_ordinal(int n, char *buf, size_t len)
{
	const char *suf = "th";
	if (n % 100 < 11 || n % 100 > 13) {
		if (n % 10 == 1)
			suf = "st";
		else if (n % 10 == 2)
			suf = "nd";
		else if (n % 10 == 3)
			suf = "rd";
	}
	snprintf(buf, len, "%d%s", n, suf);
	return buf;
}

int chk_reserved(chk *k, const char *name, ein_loc loc, const char *what)
{
	const char *why = ein_reserved(name);
	if (!why)
		return 0;
	diag_error(k->diag, loc, "'%s' cannot name a %s: it %s", name, what, why);
	diag_hint(k->diag, "rename it: tensor and parameter names become names in the "
			   "generated C");
	return 1;
}
