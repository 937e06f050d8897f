/* mustache: see include/tocsin/mustache.h.
 *
 * Start here.  Compilation is two passes over a flat token list: the
 * tokenizer splits text at newlines (so every line is a run of tokens) and
 * follows delimiter changes; then each line is checked for the spec's
 * "standalone" rule (one section, inverted, closing, comment, partial or
 * delimiter tag alone on its line, with only blanks around it), in which
 * case the blanks and the newline are dropped — a standalone partial keeps
 * its leading blanks as the indentation of every line it renders.  Finally
 * sections are nested into a tree, checking open/close names.  Rendering
 * walks the tree with a stack of contexts. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tocsin/mem.h"
#include "tocsin/mustache.h"

enum kind { T_TEXT, T_VAR, T_RAW, T_SECTION, T_INVERTED, T_CLOSE, T_COMMENT,
	T_PARTIAL, T_DELIM };

struct node {
	enum kind    kind;
	char        *text;   /* T_TEXT: the text; others: the name */
	size_t       len;
	size_t       line;
	int          standalone;
	char        *indent; /* standalone partial */
	struct node *kids;   /* sections */
	size_t       n_kids;
	int          dropped; /* removed by the standalone rule */
};

struct tc_mustache {
	char        *name;
	struct node *nodes; /* top level */
	size_t       n;
};

struct list {
	struct node *v;
	size_t       n, cap;
};

static void
push(struct list *l, struct node nd)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 32;
		l->v = tc_xreallocarray(l->v, l->cap, sizeof(*l->v));
	}
	l->v[l->n++] = nd;
}

static void
nodes_free(struct node *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].text);
		free(v[i].indent);
		nodes_free(v[i].kids, v[i].n_kids);
	}
	free(v);
}

void
tc_mustache_free(struct tc_mustache *t)
{
	if (t == NULL)
		return;
	nodes_free(t->nodes, t->n);
	free(t->name);
	free(t);
}

static int
is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static char *
trim_dup(const char *s, size_t len)
{
	while (len > 0 && (is_blank(*s) || *s == '\n' || *s == '\r'))
		s++, len--;
	while (len > 0 && (is_blank(s[len - 1]) || s[len - 1] == '\n' ||
			      s[len - 1] == '\r'))
		len--;
	return tc_xstrndup(s, len);
}

/* Pass 1: tokens, text split after each newline. */
static int
tokenize(const char *name, const char *s, size_t len, struct list *out,
    struct tc_err *err)
{
	char   open[16] = "{{", close[16] = "}}";
	size_t i = 0, line = 1;

	while (i < len) {
		size_t      ol = strlen(open), cl = strlen(close);
		const char *tag = memmem(s + i, len - i, open, ol);
		size_t      tend = tag ? (size_t)(tag - s) : len;

		/* Text up to the tag, one token per line. */
		while (i < tend) {
			const char *nl = memchr(s + i, '\n', tend - i);
			size_t      e = nl ? (size_t)(nl - s) + 1 : tend;

			push(out, (struct node){ .kind = T_TEXT,
				      .text = tc_xstrndup(s + i, e - i),
				      .len = e - i, .line = line });
			if (nl)
				line++;
			i = e;
		}
		if (tag == NULL)
			break;
		{
			size_t      b = i + ol, e;
			const char *c;
			enum kind   k = T_VAR;
			char        sigil;
			struct node nd = { .line = line };

			if (b < len && s[b] == '{' && strcmp(close, "}}") == 0 &&
			    strcmp(open, "{{") == 0) {
				/* Triple mustache: ends with "}}}". */
				c = memmem(s + b, len - b, "}}}", 3);
				if (c == NULL)
					return tc_err_set(err, TC_EINPUT,
					    "%s:%zu: unclosed tag", name, line);
				nd.kind = T_RAW;
				nd.text = trim_dup(s + b + 1, (size_t)(c - s) - b - 1);
				i = (size_t)(c - s) + 3;
				push(out, nd);
				continue;
			}
			c = memmem(s + b, len - b, close, cl);
			if (c == NULL)
				return tc_err_set(err, TC_EINPUT,
				    "%s:%zu: unclosed tag", name, line);
			e = (size_t)(c - s);
			while (b < e && is_blank(s[b]))
				b++;
			sigil = b < e ? s[b] : '\0';
			switch (sigil) {
			case '#':
				k = T_SECTION;
				break;
			case '^':
				k = T_INVERTED;
				break;
			case '/':
				k = T_CLOSE;
				break;
			case '!':
				k = T_COMMENT;
				break;
			case '>':
				k = T_PARTIAL;
				break;
			case '&':
				k = T_RAW;
				break;
			case '=':
				k = T_DELIM;
				break;
			case '{':
				k = T_RAW; /* {{{ with other delimiters */
				break;
			default:
				k = T_VAR;
			}
			if (k != T_VAR)
				b++;
			for (const char *p = s + i; p < c; p++)
				if (*p == '\n')
					line++;
			nd.kind = k;
			if (k == T_DELIM) {
				/* "=<% %>=": new delimiters, no blanks inside */
				size_t d = e;
				char   no[16], nc[16];

				while (d > b && is_blank(s[d - 1]))
					d--;
				if (d == b || s[d - 1] != '=')
					return tc_err_set(err, TC_EINPUT,
					    "%s:%zu: bad delimiter tag", name,
					    line);
				{
					char *spec = trim_dup(s + b, d - 1 - b);
					int   ok = sscanf(spec, "%15s %15s", no, nc) == 2 &&
					    strchr(no, '=') == NULL &&
					    strchr(nc, '=') == NULL;

					free(spec);
					if (!ok)
						return tc_err_set(err, TC_EINPUT,
						    "%s:%zu: bad delimiter tag",
						    name, line);
				}
				memcpy(open, no, sizeof(no));
				memcpy(close, nc, sizeof(nc));
				nd.text = tc_xstrdup("");
			} else {
				size_t te = e;

				if (k == T_RAW && sigil == '{' && te > b &&
				    s[te - 1] == '}')
					te--;
				nd.text = trim_dup(s + b, te - b);
				if (k != T_COMMENT && nd.text[0] == '\0') {
					free(nd.text);
					return tc_err_set(err, TC_EINPUT,
					    "%s:%zu: empty tag", name, line);
				}
			}
			push(out, nd);
			i = e + cl;
		}
	}
	return 0;
}

static int
blank_text(const struct node *n)
{
	for (size_t i = 0; i < n->len; i++)
		if (!is_blank(n->text[i]) && n->text[i] != '\n' &&
		    n->text[i] != '\r')
			return 0;
	return 1;
}

/* Pass 2: the standalone rule, line by line. */
static void
standalone(struct list *l)
{
	size_t start = 0;

	while (start < l->n) {
		size_t end = start, tags = 0, tag = 0;
		int    ok = 1, ends_nl = 0;

		/* A line: up to and including a text token ending in \n. */
		while (end < l->n) {
			struct node *n = &l->v[end];

			end++;
			if (n->kind == T_TEXT) {
				if (!blank_text(n))
					ok = 0;
				if (n->len && n->text[n->len - 1] == '\n') {
					ends_nl = 1;
					break;
				}
			} else if (n->kind == T_VAR || n->kind == T_RAW) {
				ok = 0;
			} else {
				tags++;
				tag = end - 1;
			}
		}
		(void)ends_nl;
		if (ok && tags == 1) {
			struct node *t = &l->v[tag];

			t->standalone = 1;
			if (t->kind == T_PARTIAL && tag > start &&
			    l->v[start].kind == T_TEXT)
				t->indent = tc_xstrdup(l->v[start].text);
			for (size_t i = start; i < end; i++)
				if (l->v[i].kind == T_TEXT)
					l->v[i].dropped = 1;
		}
		start = end;
	}
}

/* Pass 3: nest sections.  Consumes nodes from l->v[*i]. */
static int
nest(const char *name, struct list *l, size_t *i, const struct node *open,
    struct node **out, size_t *n_out, int depth, struct tc_err *err)
{
	struct list kids = { 0 };

	if (depth > TC_MUSTACHE_DEPTH_MAX)
		return tc_err_set(err, TC_ELIMIT,
		    "%s:%zu: sections nested deeper than %d", name,
		    open ? open->line : 0, TC_MUSTACHE_DEPTH_MAX);
	while (*i < l->n) {
		struct node n = l->v[(*i)++];

		l->v[*i - 1].text = NULL; /* ownership moves */
		l->v[*i - 1].indent = NULL;
		if (n.dropped || n.kind == T_COMMENT || n.kind == T_DELIM) {
			free(n.text);
			free(n.indent);
			continue;
		}
		if (n.kind == T_CLOSE) {
			if (open == NULL || strcmp(open->text, n.text) != 0) {
				int rc = open == NULL
				    ? tc_err_set(err, TC_EINPUT,
					  "%s:%zu: closing \"%s\" that was "
					  "never opened",
					  name, n.line, n.text)
				    : tc_err_set(err, TC_EINPUT,
					  "%s:%zu: closing \"%s\" but \"%s\" "
					  "(line %zu) is open",
					  name, n.line, n.text, open->text,
					  open->line);

				free(n.text);
				nodes_free(kids.v, kids.n);
				return rc;
			}
			free(n.text);
			*out = kids.v;
			*n_out = kids.n;
			return 0;
		}
		if (n.kind == T_SECTION || n.kind == T_INVERTED) {
			int rc = nest(name, l, i, &n, &n.kids, &n.n_kids,
			    depth + 1, err);

			if (rc < 0) {
				free(n.text);
				nodes_free(kids.v, kids.n);
				return rc;
			}
		}
		push(&kids, n);
	}
	if (open != NULL) {
		nodes_free(kids.v, kids.n);
		return tc_err_set(err, TC_EINPUT, "%s:%zu: unclosed section \"%s\"",
		    name, open->line, open->text);
	}
	*out = kids.v;
	*n_out = kids.n;
	return 0;
}

struct tc_mustache *
tc_mustache_compile(const char *name, const char *src, size_t len,
    struct tc_err *err)
{
	struct list         l = { 0 };
	struct tc_mustache *t;
	size_t              i = 0;

	if (len > TC_MUSTACHE_SIZE_MAX) {
		tc_err_set(err, TC_ELIMIT, "%s: template larger than %d bytes",
		    name, TC_MUSTACHE_SIZE_MAX);
		return NULL;
	}
	{
		const char *nul = memchr(src, '\0', len);

		if (nul != NULL) {
			size_t line = 1;

			for (const char *c = src; c < nul; c++)
				line += *c == '\n';
			tc_err_set(err, TC_EINPUT, "%s:%zu: NUL byte in template",
			    name, line);
			return NULL;
		}
	}
	if (tokenize(name, src, len, &l, err) < 0) {
		nodes_free(l.v, l.n);
		return NULL;
	}
	standalone(&l);
	t = tc_xcalloc(1, sizeof(*t));
	t->name = tc_xstrdup(name);
	if (nest(name, &l, &i, NULL, &t->nodes, &t->n, 0, err) < 0) {
		for (size_t k = i; k < l.n; k++) {
			free(l.v[k].text);
			free(l.v[k].indent);
		}
		free(l.v);
		tc_mustache_free(t);
		return NULL;
	}
	free(l.v);
	return t;
}

/* --- rendering ------------------------------------------------------------ */

struct render {
	enum tc_mustache_mode  mode;
	tc_mustache_partial_cb partial;
	void                  *arg;
	struct tc_buf         *out;
	const json_t          *stack[TC_MUSTACHE_DEPTH_MAX * 2 + 8];
	size_t                 depth;
	int                    partials;
	struct tc_err         *err;
};

static const json_t *
lookup(struct render *r, const char *name)
{
	const json_t *v = NULL;
	char          part[256];
	const char   *p = name, *dot;
	size_t        n;

	if (strcmp(name, ".") == 0)
		return r->depth ? r->stack[r->depth - 1] : NULL;
	dot = strchr(p, '.');
	n = dot ? (size_t)(dot - p) : strlen(p);
	if (n >= sizeof(part))
		return NULL;
	memcpy(part, p, n);
	part[n] = '\0';
	for (size_t i = r->depth; i-- > 0;) {
		if (json_is_object(r->stack[i]) &&
		    (v = json_object_get(r->stack[i], part)) != NULL)
			break;
	}
	while (v != NULL && dot != NULL) {
		p = dot + 1;
		dot = strchr(p, '.');
		n = dot ? (size_t)(dot - p) : strlen(p);
		if (n >= sizeof(part))
			return NULL;
		memcpy(part, p, n);
		part[n] = '\0';
		v = json_is_object(v) ? json_object_get(v, part) : NULL;
	}
	return v;
}

static int
falsey(const json_t *v)
{
	return v == NULL || json_is_false(v) || json_is_null(v) ||
	    (json_is_array(v) && json_array_size(v) == 0);
}

static void
emit_value(struct render *r, const json_t *v, int escape)
{
	char        num[64];
	const char *s = NULL;
	size_t      len = 0;

	if (json_is_string(v)) {
		s = json_string_value(v);
		len = json_string_length(v);
	} else if (json_is_integer(v)) {
		len = (size_t)snprintf(num, sizeof(num), "%lld",
		    (long long)json_integer_value(v));
		s = num;
	} else if (json_is_real(v)) {
		len = (size_t)snprintf(num, sizeof(num), "%.15g",
		    json_real_value(v));
		s = num;
	} else if (json_is_true(v)) {
		s = "true", len = 4;
	} else if (json_is_false(v)) {
		s = "false", len = 5;
	}
	for (size_t i = 0; s && i < len; i++) {
		char c = s[i];

		if (r->mode == TC_MUSTACHE_TEXT) {
			if ((unsigned char)c < 0x20 && c != '\n' && c != '\t')
				c = '?';
			tc_buf_putc(r->out, c);
			continue;
		}
		if (escape && c == '&')
			tc_buf_puts(r->out, "&amp;");
		else if (escape && c == '<')
			tc_buf_puts(r->out, "&lt;");
		else if (escape && c == '>')
			tc_buf_puts(r->out, "&gt;");
		else if (escape && c == '"')
			tc_buf_puts(r->out, "&quot;");
		else
			tc_buf_putc(r->out, c);
	}
}

static int render_nodes(struct render *r, const struct node *v, size_t n,
    const char *indent, int *bol);

static void
emit_text(struct render *r, const char *s, size_t len, const char *indent,
    int *bol)
{
	for (size_t i = 0; i < len; i++) {
		if (*bol && indent && *indent)
			tc_buf_puts(r->out, indent);
		*bol = 0;
		tc_buf_putc(r->out, s[i]);
		if (s[i] == '\n')
			*bol = 1;
	}
}

static int
render_nodes(struct render *r, const struct node *v, size_t n,
    const char *indent, int *bol)
{
	for (size_t i = 0; i < n; i++) {
		const struct node *nd = &v[i];
		const json_t      *val;

		if (r->out->len > TC_MUSTACHE_OUTPUT_MAX)
			return tc_err_set(r->err, TC_ELIMIT,
			    "output larger than %d bytes",
			    TC_MUSTACHE_OUTPUT_MAX);
		switch (nd->kind) {
		case T_TEXT:
			emit_text(r, nd->text, nd->len, indent, bol);
			break;
		case T_VAR:
		case T_RAW:
			if (*bol && indent && *indent)
				tc_buf_puts(r->out, indent);
			*bol = 0;
			val = lookup(r, nd->text);
			if (val != NULL)
				emit_value(r, val, nd->kind == T_VAR);
			break;
		case T_SECTION:
		case T_INVERTED: {
			int rc;

			val = lookup(r, nd->text);
			if (nd->kind == T_INVERTED) {
				if (falsey(val) &&
				    (rc = render_nodes(r, nd->kids, nd->n_kids,
					 indent, bol)) < 0)
					return rc;
				break;
			}
			if (falsey(val))
				break;
			if (r->depth >= TC_NELEM(r->stack) - 1)
				return tc_err_set(r->err, TC_ELIMIT,
				    "context stack deeper than %zu",
				    TC_NELEM(r->stack));
			if (json_is_array(val)) {
				size_t  k;
				json_t *item;

				json_array_foreach(val, k, item)
				{
					r->stack[r->depth++] = item;
					rc = render_nodes(r, nd->kids,
					    nd->n_kids, indent, bol);
					r->depth--;
					if (rc < 0)
						return rc;
				}
			} else {
				r->stack[r->depth++] = val;
				rc = render_nodes(r, nd->kids, nd->n_kids, indent,
				    bol);
				r->depth--;
				if (rc < 0)
					return rc;
			}
			break;
		}
		case T_PARTIAL: {
			const struct tc_mustache *p;
			struct tc_buf             ind = TC_BUF_INIT;
			int                       rc, pbol = 1;

			if (r->partial == NULL ||
			    (p = r->partial(nd->text, r->arg)) == NULL)
				break;
			if (++r->partials > TC_MUSTACHE_PARTIAL_DEPTH_MAX)
				return tc_err_set(r->err, TC_ELIMIT,
				    "partials nested deeper than %d",
				    TC_MUSTACHE_PARTIAL_DEPTH_MAX);
			if (!nd->standalone && !*bol)
				pbol = 0;
			else if (!nd->standalone && *bol && indent && *indent) {
				tc_buf_puts(r->out, indent);
				pbol = 0;
			}
			tc_buf_puts(&ind, indent ? indent : "");
			if (nd->indent)
				tc_buf_puts(&ind, nd->indent);
			rc = render_nodes(r, p->nodes, p->n, tc_buf_cstr(&ind),
			    &pbol);
			tc_buf_deinit(&ind);
			r->partials--;
			if (rc < 0)
				return rc;
			*bol = pbol;
			break;
		}
		default:
			break;
		}
	}
	return 0;
}

int
tc_mustache_render(const struct tc_mustache *t, const json_t *ctx,
    enum tc_mustache_mode mode, tc_mustache_partial_cb partial, void *arg,
    struct tc_buf *out, struct tc_err *err)
{
	struct render r;
	int           bol = 1;

	memset(&r, 0, sizeof(r));
	r.mode = mode;
	r.partial = partial;
	r.arg = arg;
	r.out = out;
	r.err = err;
	if (ctx != NULL)
		r.stack[r.depth++] = ctx;
	tc_buf_reserve(out, 0);
	return render_nodes(&r, t->nodes, t->n, NULL, &bol);
}
