/* SPDX-License-Identifier: Apache-2.0 */
/* Licence names -> SPDX expressions; DEP-5 copyright files (see license.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "license.h"
#include "sbuf.h"

/* An expression may grow when names are normalised ("GPL-2+" -> "GPL-2.0-or-later"). */
#define LICENSE_MAX_EXPR  (4u * SBOM_MAX_LICENSE)
#define LICENSE_MAX_DEPTH 8u /* parentheses nesting */
#define DEP5_FORMAT_MARK  "copyright-format"

/* GNU licences: "-only" / "-or-later" in SPDX, "" / "+" in DEP-5. */
static const struct {
    const char *dep5, *spdx;
} gnu[] = {
        {"GPL-1", "GPL-1.0"},     {"GPL-1.0", "GPL-1.0"},   {"GPL-2", "GPL-2.0"},
        {"GPL-2.0", "GPL-2.0"},   {"GPL-3", "GPL-3.0"},     {"GPL-3.0", "GPL-3.0"},
        {"LGPL-2", "LGPL-2.0"},   {"LGPL-2.0", "LGPL-2.0"}, {"LGPL-2.1", "LGPL-2.1"},
        {"LGPL-3", "LGPL-3.0"},   {"LGPL-3.0", "LGPL-3.0"}, {"AGPL-3", "AGPL-3.0"},
        {"AGPL-3.0", "AGPL-3.0"}, {"GFDL-1.1", "GFDL-1.1"}, {"GFDL-1.2", "GFDL-1.2"},
        {"GFDL-1.3", "GFDL-1.3"},
};

/* Other SPDX identifiers, with the aliases package metadata uses for them. */
static const struct {
    const char *spdx, *alias[3];
} known[] = {
        {"0BSD", {}},
        {"AFL-3.0", {}},
        {"Apache-1.0", {}},
        {"Apache-1.1", {}},
        {"Apache-2.0", {"Apache 2.0", "Apache-2", "Apache License 2.0"}},
        {"Artistic-1.0", {"Artistic"}},
        {"Artistic-1.0-Perl", {}},
        {"Artistic-2.0", {}},
        {"BSD-1-Clause", {}},
        {"BSD-2-Clause", {"Simplified BSD"}},
        {"BSD-3-Clause", {"New BSD", "Modified BSD"}},
        {"BSD-4-Clause", {}},
        {"BSL-1.0", {"Boost"}},
        {"BlueOak-1.0.0", {}},
        {"CC-BY-3.0", {}},
        {"CC-BY-4.0", {}},
        {"CC-BY-SA-3.0", {}},
        {"CC-BY-SA-4.0", {}},
        {"CC0-1.0", {"CC0"}},
        {"CDDL-1.0", {}},
        {"CDDL-1.1", {}},
        {"EPL-1.0", {}},
        {"EPL-2.0", {}},
        {"EUPL-1.2", {}},
        {"FTL", {}},
        {"HPND", {}},
        {"ICU", {}},
        {"IJG", {}},
        {"ISC", {"ISC License"}},
        {"Info-ZIP", {}},
        {"LPPL-1.3c", {}},
        {"Libpng", {}},
        {"libpng-2.0", {}},
        {"MIT", {"Expat", "MIT License"}},
        {"MIT-0", {}},
        {"MPL-1.0", {}},
        {"MPL-1.1", {}},
        {"MPL-2.0", {}},
        {"MS-PL", {}},
        {"NCSA", {}},
        {"NTP", {}},
        {"OFL-1.1", {}},
        {"OLDAP-2.8", {}},
        {"OpenSSL", {}},
        {"PHP-3.01", {}},
        {"PostgreSQL", {}},
        {"PSF-2.0", {"PSF-2", "PSF"}},
        {"Python-2.0", {}},
        {"Ruby", {}},
        {"SGI-B-2.0", {}},
        {"Sleepycat", {}},
        {"TCL", {}},
        {"Unicode-3.0", {}},
        {"Unicode-DFS-2016", {}},
        {"Unlicense", {}},
        {"UPL-1.0", {}},
        {"Vim", {}},
        {"W3C", {}},
        {"WTFPL", {}},
        {"X11", {}},
        {"Zlib", {}},
        {"ZPL-2.1", {"Zope-2.1"}},
        {"blessing", {}},
        {"bzip2-1.0.6", {}},
        {"curl", {}},
};

static bool ends_with(const char *s, size_t len, const char *suffix, size_t *ret_base)
{
    size_t n = strlen(suffix);

    if (len <= n || strncasecmp(s + len - n, suffix, n) != 0)
        return false;
    *ret_base = len - n;
    return true;
}

static const char *gnu_lookup(const char *s, size_t len)
{
    for (size_t i = 0; i < ELEMENTSOF(gnu); i++)
        if (strlen(gnu[i].dep5) == len && strncasecmp(gnu[i].dep5, s, len) == 0)
            return gnu[i].spdx;
    return NULL;
}

static const char *known_lookup(const char *s, size_t len)
{
    for (size_t i = 0; i < ELEMENTSOF(known); i++) {
        if (strlen(known[i].spdx) == len && strncasecmp(known[i].spdx, s, len) == 0)
            return known[i].spdx;
        for (size_t k = 0; k < ELEMENTSOF(known[i].alias) && known[i].alias[k]; k++)
            if (strlen(known[i].alias[k]) == len && strncasecmp(known[i].alias[k], s, len) == 0)
                return known[i].spdx;
    }
    return NULL;
}

static bool idstring(const char *s, size_t len)
{
    if (len == 0)
        return false;
    for (size_t i = 0; i < len; i++)
        if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-", s[i]))
            return false;
    return true;
}

/* One licence name s[0..len) -> its SPDX form appended to b. -ENOENT if unknown. */
static int put_atom(struct sbuf *b, const char *s, size_t len)
{
    const char *id;
    size_t base;
    int r;

    if (len > 11 && strncmp(s, "LicenseRef-", 11) == 0 && idstring(s + 11, len - 11))
        return sbuf_put(b, s, len);
    if (ends_with(s, len, "-or-later", &base) && (id = gnu_lookup(s, base)))
        goto later;
    if (ends_with(s, len, "-only", &base) && (id = gnu_lookup(s, base)))
        goto only;
    if (ends_with(s, len, "+", &base)) {
        if ((id = gnu_lookup(s, base)))
            goto later;
        if ((id = known_lookup(s, base))) {
            if ((r = sbuf_put(b, id, strlen(id))) < 0)
                return r;
            return sbuf_put_u8(b, '+');
        }
        return -ENOENT;
    }
    if ((id = gnu_lookup(s, len)))
        goto only;
    if ((id = known_lookup(s, len)))
        return sbuf_put(b, id, strlen(id));
    return -ENOENT;
later:
    if ((r = sbuf_put(b, id, strlen(id))) < 0)
        return r;
    return sbuf_put(b, "-or-later", 9);
only:
    if ((r = sbuf_put(b, id, strlen(id))) < 0)
        return r;
    return sbuf_put(b, "-only", 5);
}

enum tok { TOK_END, TOK_ATOM, TOK_AND, TOK_OR, TOK_OPEN, TOK_CLOSE, TOK_BAD };

struct lexer {
    const char *p, *end;
    const char *atom; /* TOK_ATOM: the text */
    size_t atom_len;
};

static enum tok next_tok(struct lexer *lx)
{
    const char *start;
    size_t n;

    while (lx->p < lx->end && (*lx->p == ' ' || *lx->p == '\t'))
        lx->p++;
    if (lx->p == lx->end)
        return TOK_END;
    if (*lx->p == '(' || *lx->p == ')')
        return *lx->p++ == '(' ? TOK_OPEN : TOK_CLOSE;
    start = lx->p;
    while (lx->p < lx->end && !strchr(" \t()", *lx->p))
        lx->p++;
    n = (size_t)(lx->p - start);
    if ((n == 2 && (strncmp(start, "or", 2) == 0 || strncmp(start, "OR", 2) == 0)))
        return TOK_OR;
    if ((n == 3 && (strncmp(start, "and", 3) == 0 || strncmp(start, "AND", 3) == 0)))
        return TOK_AND;
    /* WITH clauses and DEP-5 commas are not translated. */
    if (memchr(start, ',', n) || (n == 4 && strncasecmp(start, "with", 4) == 0))
        return TOK_BAD;
    lx->atom = start;
    lx->atom_len = n;
    return TOK_ATOM;
}

/*
 * level := factor (OP factor)*, one operator kind per level; factor := atom | '(' level ')'.
 * *ret_compound tells whether the level used an operator (the caller keeps its parentheses).
 */
static int parse_level(struct lexer *lx, struct sbuf *b, unsigned depth, bool nested,
                       bool *ret_compound)
{
    enum tok op = TOK_END, t;
    bool first = true;
    int r;

    if (depth > LICENSE_MAX_DEPTH)
        return -ENOENT;
    for (;;) {
        t = next_tok(lx);
        if (t == TOK_ATOM) {
            if ((r = put_atom(b, lx->atom, lx->atom_len)) < 0)
                return r;
        } else if (t == TOK_OPEN) {
            _cleanup_(sbuf_freep) struct sbuf *sub = sbuf_new(LICENSE_MAX_EXPR);
            bool compound = false;

            if (!sub)
                return -ENOMEM;
            if ((r = parse_level(lx, sub, depth + 1, true, &compound)) < 0)
                return r;
            /* "(MIT)" -> "MIT"; "(A OR B)" keeps its parentheses. */
            if ((compound && (r = sbuf_put_u8(b, '(')) < 0) ||
                (r = sbuf_put(b, sbuf_ptr(sub), sbuf_len(sub))) < 0 ||
                (compound && (r = sbuf_put_u8(b, ')')) < 0))
                return r;
        } else
            return -ENOENT;
        first = false;

        t = next_tok(lx);
        if (t == TOK_END)
            break;
        if (t == TOK_CLOSE) {
            if (!nested)
                return -ENOENT;
            break;
        }
        if (t != TOK_AND && t != TOK_OR)
            return -ENOENT;
        if (op != TOK_END && op != t)
            return -ENOENT; /* "A and B or C": ambiguous without parentheses */
        op = t;
        if ((r = sbuf_put(b, t == TOK_AND ? " AND " : " OR ", t == TOK_AND ? 5 : 4)) < 0)
            return r;
    }
    if (first || (nested && t != TOK_CLOSE) || (!nested && t != TOK_END))
        return -ENOENT;
    *ret_compound = op != TOK_END;
    return 0;
}

static int to_string(struct sbuf *b, char **ret)
{
    size_t len = sbuf_len(b);
    char *s = malloc(len + 1);

    if (!s)
        return -ENOMEM;
    memcpy(s, sbuf_ptr(b), len);
    s[len] = '\0';
    *ret = s;
    return 0;
}

/* "(A OR B)" -> "A OR B" when the first parenthesis closes at the very end. */
static void strip_outer_parens(char *s)
{
    size_t len = strlen(s);
    int depth = 0;

    if (len < 2 || s[0] != '(' || s[len - 1] != ')')
        return;
    for (size_t i = 0; i < len; i++) {
        depth += s[i] == '(' ? 1 : s[i] == ')' ? -1 : 0;
        if (depth == 0 && i + 1 < len)
            return; /* "(A) AND (B)" */
    }
    memmove(s, s + 1, len - 2);
    s[len - 2] = '\0';
}

int license_to_spdx(const char *text, char **ret_expr)
{
    _cleanup_(sbuf_freep) struct sbuf *b = NULL;
    const char *start = text, *end;
    struct lexer lx;
    bool compound = false;
    int r;

    if (!text)
        return -ENOENT;
    if (strlen(text) > SBOM_MAX_LICENSE)
        return -EMSGSIZE;
    while (*start == ' ' || *start == '\t')
        start++;
    end = start + strlen(start);
    while (end > start && (end[-1] == ' ' || end[-1] == '\t'))
        end--;
    if (end == start)
        return -ENOENT;
    b = sbuf_new(LICENSE_MAX_EXPR);
    if (!b)
        return -ENOMEM;
    /* The whole text may be one multi-word alias ("Apache 2.0", "MIT License"). */
    r = put_atom(b, start, (size_t)(end - start));
    if (r == -ENOENT) {
        sbuf_reset(b);
        lx = (struct lexer){.p = start, .end = end};
        r = parse_level(&lx, b, 0, false, &compound);
    }
    if (r == -EMSGSIZE)
        return -EMSGSIZE;
    if (r < 0)
        return r == -ENOMEM ? r : -ENOENT;
    r = to_string(b, ret_expr);
    if (r >= 0)
        strip_outer_parens(*ret_expr);
    return r;
}

int license_resolve(struct sbom_component *c)
{
    _cleanup_(sbuf_freep) struct sbuf *b = NULL;
    char **exprs;
    size_t n = 0;
    int r = 0;

    if (c->n_license_names == 0)
        return 0;
    exprs = calloc(c->n_license_names, sizeof(*exprs));
    b = sbuf_new(LICENSE_MAX_EXPR * 2);
    if (!exprs || !b) {
        free(exprs);
        return -ENOMEM;
    }
    for (size_t i = 0; i < c->n_license_names; i++) {
        char *e = NULL;
        bool dup = false;

        r = license_to_spdx(c->license_names[i], &e);
        if (r < 0)
            goto out;
        for (size_t k = 0; k < n && !dup; k++)
            dup = streq(exprs[k], e);
        if (dup)
            free(e);
        else
            exprs[n++] = e;
    }
    for (size_t i = 0; i < n; i++) {
        bool paren = n > 1 && strchr(exprs[i], ' ');

        if ((i > 0 && (r = sbuf_put(b, " AND ", 5)) < 0) ||
            (paren && (r = sbuf_put_u8(b, '(')) < 0) ||
            (r = sbuf_put(b, exprs[i], strlen(exprs[i]))) < 0 ||
            (paren && (r = sbuf_put_u8(b, ')')) < 0))
            goto out;
    }
    free(c->license_expr);
    c->license_expr = NULL;
    r = to_string(b, &c->license_expr);
out:
    for (size_t i = 0; i < n; i++)
        free(exprs[i]);
    free(exprs);
    /* Untranslatable or too long: keep the names only. */
    return r == -ENOMEM ? r : 0;
}

/* The value of field name on this line ("Name: value"), case-insensitive; NULL if another. */
static const char *field_value(const char *line, size_t len, const char *name, size_t *ret_len)
{
    size_t n = strlen(name);
    const char *v, *end = line + len;

    if (len <= n || strncasecmp(line, name, n) != 0 || line[n] != ':')
        return NULL;
    v = line + n + 1;
    while (v < end && (*v == ' ' || *v == '\t'))
        v++;
    while (end > v && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
        end--;
    *ret_len = (size_t)(end - v);
    return v;
}

int license_dep5_parse(const char *data, size_t len, struct sbom_component *c, size_t *ret_n)
{
    const char *p = data, *end = data + len;
    const char *lic = NULL;
    size_t lic_len = 0, added = 0, para = 0;
    bool has_files = false, in_para = false, machine_readable = false;
    int r;

    for (;;) {
        const char *nl = p < end ? memchr(p, '\n', (size_t)(end - p)) : NULL;
        const char *line_end = nl ? nl : end;
        size_t ll = (size_t)(line_end - p), vlen = 0;
        const char *v;
        bool blank = true;

        for (size_t i = 0; i < ll; i++)
            if (!strchr(" \t\r", p[i]))
                blank = false;
        if (blank || p >= end) {
            /* End of a paragraph: the header's or a Files paragraph's synopsis counts. */
            if (in_para) {
                if (para == 0 && !machine_readable)
                    return -EMEDIUMTYPE;
                if (lic && lic_len > 0 && lic_len <= SBOM_MAX_LICENSE &&
                    sbom_text_valid(lic, lic_len) && (para == 0 || has_files)) {
                    _cleanup_free_ char *name = strndup(lic, lic_len);
                    size_t before = c->n_license_names;

                    if (!name)
                        return -ENOMEM;
                    if ((r = sbom_component_add_license_name(c, name)) < 0)
                        return r;
                    added += c->n_license_names - before;
                }
                para++;
            }
            in_para = false;
            lic = NULL;
            has_files = false;
            if (p >= end)
                break;
        } else if (p[0] != ' ' && p[0] != '\t' && p[0] != '#') {
            in_para = true;
            if (para == 0 && (v = field_value(p, ll, "Format", &vlen)) &&
                memmem(v, vlen, DEP5_FORMAT_MARK, strlen(DEP5_FORMAT_MARK)))
                machine_readable = true;
            if (field_value(p, ll, "Files", &vlen))
                has_files = true;
            if ((v = field_value(p, ll, "License", &vlen))) {
                lic = v;
                lic_len = vlen;
            }
        }
        if (!nl)
            p = end;
        else
            p = nl + 1;
    }
    if (para == 0)
        return -EMEDIUMTYPE;
    if (ret_n)
        *ret_n = added;
    return 0;
}
