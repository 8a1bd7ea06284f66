/* SPDX-License-Identifier: Apache-2.0 */
/* The inventory model (see sbom.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/rand.h>

#include "sbom.h"

struct sbom {
    struct sbom_component *items;
    size_t n, cap;
    struct sbom_host host;
    char **warnings;
    size_t n_warnings_stored, n_warnings;
};

struct sbom *sbom_new(void)
{
    return calloc(1, sizeof(struct sbom));
}

void sbom_component_clear(struct sbom_component *c)
{
    if (!c)
        return;
    free(c->name);
    free(c->version);
    free(c->arch);
    free(c->source);
    free(c->source_version);
    free(c->purl);
    free(c->license_expr);
    for (size_t i = 0; i < c->n_license_names; i++)
        free(c->license_names[i]);
    free(c->license_names);
    for (size_t i = 0; i < c->n_files; i++)
        free(c->files[i].path);
    free(c->files);
    *c = (struct sbom_component){};
}

static void host_fields_free(struct sbom_host *h)
{
    free(h->os_id);
    free(h->os_version_id);
    free(h->os_codename);
    free(h->os_pretty);
    free(h->kernel);
    free(h->machine);
    *h = (struct sbom_host){};
}

struct sbom *sbom_free(struct sbom *s)
{
    if (!s)
        return NULL;
    for (size_t i = 0; i < s->n; i++)
        sbom_component_clear(&s->items[i]);
    free(s->items);
    host_fields_free(&s->host);
    for (size_t i = 0; i < s->n_warnings_stored; i++)
        free(s->warnings[i]);
    free(s->warnings);
    free(s);
    return NULL;
}

int sbom_add(struct sbom *s, struct sbom_component *c)
{
    if (!c->name || c->kind < SBOM_KIND_DEB || c->kind > SBOM_KIND_MODEL) {
        sbom_component_clear(c);
        return -EINVAL;
    }
    if (s->n >= SBOM_MAX_COMPONENTS) {
        sbom_component_clear(c);
        return -E2BIG;
    }
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 256, bytes;
        struct sbom_component *p;

        if (cap > SBOM_MAX_COMPONENTS)
            cap = SBOM_MAX_COMPONENTS;
        if (!size_mul(cap, sizeof(*p), &bytes) || !(p = realloc(s->items, bytes))) {
            sbom_component_clear(c);
            return -ENOMEM;
        }
        s->items = p;
        s->cap = cap;
    }
    s->items[s->n++] = *c;
    *c = (struct sbom_component){};
    return 0;
}

int sbom_component_add_license_name(struct sbom_component *c, const char *name)
{
    char **p, *copy;

    for (size_t i = 0; i < c->n_license_names; i++)
        if (streq(c->license_names[i], name))
            return 0;
    if (c->n_license_names >= SBOM_MAX_LICENSES)
        return 0;
    copy = strdup(name);
    if (!copy)
        return -ENOMEM;
    p = realloc(c->license_names, (c->n_license_names + 1) * sizeof(*p));
    if (!p) {
        free(copy);
        return -ENOMEM;
    }
    c->license_names = p;
    c->license_names[c->n_license_names++] = copy;
    return 0;
}

/* NULL sorts first, so an absent version or architecture comes before any present one. */
static int strcmp_null(const char *a, const char *b)
{
    if (!a || !b)
        return (a != NULL) - (b != NULL);
    return strcmp(a, b);
}

static int component_cmp(const void *x, const void *y)
{
    const struct sbom_component *a = x, *b = y;
    int r;

    if ((r = strcmp(a->name, b->name)) != 0 || (r = strcmp_null(a->version, b->version)) != 0 ||
        (r = strcmp_null(a->arch, b->arch)) != 0)
        return r;
    if (a->kind != b->kind)
        return a->kind < b->kind ? -1 : 1;
    return strcmp_null(a->purl, b->purl);
}

static int purl_cmp(const void *x, const void *y)
{
    const struct sbom_component *a = *(struct sbom_component *const *)x,
                                *b = *(struct sbom_component *const *)y;
    int r = strcmp_null(a->purl, b->purl);

    if (r != 0)
        return r;
    /* Equal purls: the one first in inventory order is kept. */
    return a < b ? -1 : a > b;
}

int sbom_sort(struct sbom *s)
{
    _cleanup_free_ struct sbom_component **by_purl = NULL;
    size_t out = 0;

    if (s->n == 0)
        return 0;
    qsort(s->items, s->n, sizeof(*s->items), component_cmp);
    /*
     * A purl names one package, whatever spelling of the name its metadata used ("Foo_Bar"
     * and "foo-bar" are one PyPI project): keep the first of each purl, drop the rest (their
     * name is cleared to mark them).
     */
    by_purl = calloc(s->n, sizeof(*by_purl));
    if (!by_purl)
        return -ENOMEM;
    for (size_t i = 0; i < s->n; i++)
        by_purl[i] = &s->items[i];
    qsort(by_purl, s->n, sizeof(*by_purl), purl_cmp);
    for (size_t i = 1, kept = 0; i < s->n; i++) {
        if (by_purl[i]->purl && by_purl[kept]->purl && streq(by_purl[i]->purl, by_purl[kept]->purl))
            sbom_component_clear(by_purl[i]);
        else
            kept = i;
    }
    for (size_t i = 0; i < s->n; i++) {
        if (!s->items[i].name)
            continue;
        if (out != i)
            s->items[out] = s->items[i];
        out++;
    }
    s->n = out;
    return 0;
}

size_t sbom_n_components(const struct sbom *s)
{
    return s->n;
}

const struct sbom_component *sbom_component(const struct sbom *s, size_t i)
{
    return i < s->n ? &s->items[i] : NULL;
}

size_t sbom_count_kind(const struct sbom *s, enum sbom_kind kind)
{
    size_t n = 0;

    for (size_t i = 0; i < s->n; i++)
        n += s->items[i].kind == kind;
    return n;
}

const struct sbom_host *sbom_host(const struct sbom *s)
{
    return &s->host;
}

static int set_str(char **dst, const char *src)
{
    char *copy;

    if (!src)
        return 0;
    copy = strdup(src);
    if (!copy)
        return -ENOMEM;
    free(*dst);
    *dst = copy;
    return 0;
}

int sbom_set_host(struct sbom *s, const struct sbom_host *h)
{
    int r;

    if ((r = set_str(&s->host.os_id, h->os_id)) < 0 ||
        (r = set_str(&s->host.os_version_id, h->os_version_id)) < 0 ||
        (r = set_str(&s->host.os_codename, h->os_codename)) < 0 ||
        (r = set_str(&s->host.os_pretty, h->os_pretty)) < 0 ||
        (r = set_str(&s->host.kernel, h->kernel)) < 0 ||
        (r = set_str(&s->host.machine, h->machine)) < 0)
        return r;
    return 0;
}

void sbom_warn(struct sbom *s, const char *fmt, ...)
{
    char buf[SBOM_MAX_WARNING], *copy, **p;
    va_list ap;
    int n;

    s->n_warnings++;
    if (s->n_warnings_stored >= SBOM_MAX_WARNINGS)
        return;
    va_start(ap, fmt);
    n = vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n >= sizeof(buf)) /* truncated: mark it */
        memcpy(buf + sizeof(buf) - 4, "...", 4);
    copy = strdup(buf);
    p = realloc(s->warnings, (s->n_warnings_stored + 1) * sizeof(*p));
    if (!copy || !p) {
        free(copy);
        if (p)
            s->warnings = p;
        return;
    }
    s->warnings = p;
    s->warnings[s->n_warnings_stored++] = copy;
}

size_t sbom_n_warnings(const struct sbom *s)
{
    return s->n_warnings;
}

const char *sbom_warning(const struct sbom *s, size_t i)
{
    return i < s->n_warnings_stored ? s->warnings[i] : NULL;
}

static int dup_opt(const char *src, char **dst)
{
    if (!src) {
        *dst = NULL;
        return 0;
    }
    *dst = strdup(src);
    return *dst ? 0 : -ENOMEM;
}

static int component_copy(const struct sbom_component *src, bool with_files,
                          struct sbom_component *dst)
{
    int r;

    *dst = (struct sbom_component){
            .kind = src->kind, .has_hash = src->has_hash, .n_license_names = 0, .n_files = 0};
    memcpy(dst->sha256, src->sha256, sizeof(dst->sha256));
    memcpy(dst->sha1, src->sha1, sizeof(dst->sha1));
    if ((r = dup_opt(src->name, &dst->name)) < 0 ||
        (r = dup_opt(src->version, &dst->version)) < 0 ||
        (r = dup_opt(src->arch, &dst->arch)) < 0 || (r = dup_opt(src->source, &dst->source)) < 0 ||
        (r = dup_opt(src->source_version, &dst->source_version)) < 0 ||
        (r = dup_opt(src->purl, &dst->purl)) < 0 ||
        (r = dup_opt(src->license_expr, &dst->license_expr)) < 0)
        goto fail;
    for (size_t i = 0; i < src->n_license_names; i++)
        if ((r = sbom_component_add_license_name(dst, src->license_names[i])) < 0)
            goto fail;
    if (with_files && src->n_files > 0) {
        dst->files = calloc(src->n_files, sizeof(*dst->files));
        if (!dst->files) {
            r = -ENOMEM;
            goto fail;
        }
        for (size_t i = 0; i < src->n_files; i++) {
            dst->files[i] = src->files[i];
            dst->files[i].path = strdup(src->files[i].path);
            if (!dst->files[i].path) {
                dst->n_files = i;
                r = -ENOMEM;
                goto fail;
            }
        }
        dst->n_files = src->n_files;
    }
    return 0;
fail:
    sbom_component_clear(dst);
    return r;
}

int sbom_copy_subjects(const struct sbom *s, bool with_files, struct sbom **ret)
{
    _cleanup_(sbom_freep) struct sbom *copy = sbom_new();
    int r;

    if (!copy)
        return -ENOMEM;
    for (size_t i = 0; i < s->n; i++) {
        struct sbom_component c;

        if (s->items[i].kind != SBOM_KIND_FILE && s->items[i].kind != SBOM_KIND_MODEL)
            continue;
        if ((r = component_copy(&s->items[i], with_files, &c)) < 0 || (r = sbom_add(copy, &c)) < 0)
            return r;
    }
    r = sbom_set_host(copy, &s->host);
    if (r < 0)
        return r;
    r = sbom_sort(copy);
    if (r < 0)
        return r;
    *ret = TAKE_PTR(copy);
    return 0;
}

int sbom_uuid_new(char ret[static 37])
{
    uint8_t b[16];
    int n;

    if (RAND_bytes(b, sizeof(b)) != 1)
        return -ENOTRECOVERABLE;
    b[6] = (uint8_t)((b[6] & 0x0f) | 0x40); /* version 4 */
    b[8] = (uint8_t)((b[8] & 0x3f) | 0x80); /* RFC 4122 variant */
    n = snprintf(ret, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
                 b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12],
                 b[13], b[14], b[15]);
    return n == 36 ? 0 : -ENOTRECOVERABLE;
}

int sbom_timestamp(int64_t t, char ret[static 21])
{
    struct tm tm;
    time_t tt = (time_t)t;
    char buf[32];

    if ((int64_t)tt != t || !gmtime_r(&tt, &tm) || tm.tm_year + 1900 < 1000 ||
        tm.tm_year + 1900 > 9999)
        return -ERANGE;
    if (strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm) != 20)
        return -ERANGE;
    memcpy(ret, buf, 21);
    return 0;
}

bool sbom_text_valid(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;

    while (i < len) {
        unsigned char c = p[i];
        size_t need;
        uint32_t cp;

        if (c < 0x80) {
            if ((c < 0x20 && c != '\t') || c == 0x7f)
                return false;
            i++;
            continue;
        }
        if ((c & 0xe0) == 0xc0) {
            need = 1;
            cp = c & 0x1f;
        } else if ((c & 0xf0) == 0xe0) {
            need = 2;
            cp = c & 0x0f;
        } else if ((c & 0xf8) == 0xf0) {
            need = 3;
            cp = c & 0x07;
        } else
            return false;
        if (len - i <= need)
            return false;
        for (size_t k = 1; k <= need; k++) {
            if ((p[i + k] & 0xc0) != 0x80)
                return false;
            cp = (cp << 6) | (p[i + k] & 0x3f);
        }
        /* Overlong forms, surrogates and values past U+10FFFF. */
        if ((need == 1 && cp < 0x80) || (need == 2 && cp < 0x800) ||
            (need == 3 && (cp < 0x10000 || cp > 0x10ffff)) || (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        i += need + 1;
    }
    return true;
}

void sbom_hex(const uint8_t *data, size_t len, char *out)
{
    static const char digits[] = "0123456789abcdef";

    for (size_t i = 0; i < len; i++) {
        out[2 * i] = digits[data[i] >> 4];
        out[2 * i + 1] = digits[data[i] & 0xf];
    }
    out[2 * len] = '\0';
}
