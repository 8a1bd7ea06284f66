/* SPDX-License-Identifier: Apache-2.0 */
/* Debian packages from the dpkg status file (see dpkg.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dpkg.h"
#include "license.h"
#include "purl.h"
#include "rootfs.h"

struct view {
    const char *p;
    size_t len;
};

struct stanza {
    struct view package, status, version, arch, source;
    size_t line; /* first line, for warnings */
    bool any;    /* some field seen */
};

static bool view_eq(struct view v, const char *s)
{
    return v.len == strlen(s) && memcmp(v.p, s, v.len) == 0;
}

/* Splits "want flag status" and decides whether the package's files are on disk. */
static bool status_installed(struct view st)
{
    char buf[64], want[24], flag[24], state[24], extra;

    if (st.len == 0 || st.len >= sizeof(buf))
        return false;
    memcpy(buf, st.p, st.len);
    buf[st.len] = '\0';
    if (sscanf(buf, "%23s %23s %23s %c", want, flag, state, &extra) != 3)
        return false;
    return (streq(want, "install") || streq(want, "hold") || streq(want, "deinstall")) &&
           streq(flag, "ok") && streq(state, "installed");
}

/* A field value as a checked new string: *ret NULL (and a warning) if unusable. */
static int field_dup(struct sbom *s, const struct stanza *st, const char *what, struct view v,
                     char **ret)
{
    *ret = NULL;
    if (v.len > SBOM_MAX_FIELD || !sbom_text_valid(v.p, v.len) || memchr(v.p, ' ', v.len)) {
        sbom_warn(s,
                  "dpkg status: package at line %zu: %s field too long or not valid text, "
                  "skipped",
                  st->line, what);
        return 0;
    }
    *ret = strndup(v.p, v.len);
    return *ret ? 0 : -ENOMEM;
}

/* "NAME" or "NAME (VERSION)". */
static void split_source(struct view src, struct view *ret_name, struct view *ret_version)
{
    const char *open = memchr(src.p, '(', src.len);
    struct view name = src, ver = {};

    if (open) {
        const char *close = memchr(open, ')', src.len - (size_t)(open - src.p));

        name.len = (size_t)(open - src.p);
        if (close) {
            ver.p = open + 1;
            ver.len = (size_t)(close - open - 1);
        }
    }
    while (name.len > 0 && (name.p[name.len - 1] == ' ' || name.p[name.len - 1] == '\t'))
        name.len--;
    *ret_name = name;
    *ret_version = ver;
}

static int stanza_finish(const struct stanza *st, const struct dpkg_opts *opts, struct sbom *s,
                         size_t *n_added)
{
    struct sbom_component c = {.kind = SBOM_KIND_DEB};
    struct view src_name = {}, src_ver = {};
    int r;

    if (!st->any || !status_installed(st->status))
        return 0;
    if (!st->package.p || !st->version.p || !st->arch.p || st->package.len == 0 ||
        st->version.len == 0 || st->arch.len == 0) {
        sbom_warn(s, "dpkg status: installed package at line %zu lacks %s, skipped", st->line,
                  !st->package.p || !st->package.len   ? "Package"
                  : !st->version.p || !st->version.len ? "Version"
                                                       : "Architecture");
        return 0;
    }
    if ((r = field_dup(s, st, "Package", st->package, &c.name)) < 0 || !c.name ||
        (r = field_dup(s, st, "Version", st->version, &c.version)) < 0 || !c.version ||
        (r = field_dup(s, st, "Architecture", st->arch, &c.arch)) < 0 || !c.arch)
        goto out;
    if (st->source.p && st->source.len > 0) {
        split_source(st->source, &src_name, &src_ver);
        if (src_name.len > 0 &&
            (!view_eq(src_name, c.name) || (src_ver.len > 0 && !view_eq(src_ver, c.version)))) {
            if ((r = field_dup(s, st, "Source", src_name, &c.source)) < 0)
                goto out;
            if (src_ver.len > 0 && c.source &&
                (r = field_dup(s, st, "Source", src_ver, &c.source_version)) < 0)
                goto out;
        }
    }
    r = purl_deb(opts->vendor, c.name, c.version, c.arch, opts->distro, &c.purl);
    if (r == -ENOMEM)
        goto out;
    if (r < 0) {
        sbom_warn(s, "dpkg status: package %s: no package URL (%s), skipped", c.name, strerror(-r));
        r = 0;
        goto out;
    }
    if (opts->each && (r = opts->each(opts->userdata, &c)) < 0)
        goto out;
    r = sbom_add(s, &c);
    if (r >= 0)
        (*n_added)++;
out:
    sbom_component_clear(&c);
    return r;
}

/* Field name match at the start of a line: "Name:" (case-insensitive, as deb822 says). */
static bool field_is(const char *line, size_t len, const char *name, struct view *ret)
{
    size_t n = strlen(name);
    const char *v, *end = line + len;

    if (len <= n || line[n] != ':' || strncasecmp(line, name, n) != 0)
        return false;
    v = line + n + 1;
    while (v < end && (*v == ' ' || *v == '\t'))
        v++;
    while (end > v && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
        end--;
    *ret = (struct view){v, (size_t)(end - v)};
    return true;
}

int dpkg_parse_status(const char *data, size_t len, const struct dpkg_opts *opts, struct sbom *s,
                      size_t *ret_n)
{
    const char *p = data, *end = data + len;
    struct stanza st = {};
    size_t n_added = 0, lineno = 0;
    int r;

    if (!opts || !opts->vendor)
        return -EINVAL;
    if (len > SBOM_MAX_DPKG_STATUS)
        return -EMSGSIZE;
    for (;;) {
        const char *nl = p < end ? memchr(p, '\n', (size_t)(end - p)) : NULL;
        const char *line_end = nl ? nl : end;
        size_t ll = (size_t)(line_end - p);
        bool blank = true;

        lineno++;
        for (size_t i = 0; i < ll && blank; i++)
            blank = p[i] == ' ' || p[i] == '\t' || p[i] == '\r';
        if (blank) {
            if ((r = stanza_finish(&st, opts, s, &n_added)) < 0)
                return r;
            st = (struct stanza){};
            if (!nl)
                break;
        } else if (p[0] != ' ' && p[0] != '\t' && p[0] != '#') {
            struct view v;

            if (!st.any)
                st.line = lineno;
            st.any = true;
            if (field_is(p, ll, "Package", &v))
                st.package = v;
            else if (field_is(p, ll, "Status", &v))
                st.status = v;
            else if (field_is(p, ll, "Version", &v))
                st.version = v;
            else if (field_is(p, ll, "Architecture", &v))
                st.arch = v;
            else if (field_is(p, ll, "Source", &v))
                st.source = v;
        }
        p = nl ? nl + 1 : end;
    }
    if (ret_n)
        *ret_n = n_added;
    return 0;
}

struct licence_ctx {
    int root_fd;
    struct sbom *s;
};

/* Licence of one package from its machine-readable copyright file, when there is one. */
static int add_licence(void *userdata, struct sbom_component *c)
{
    struct licence_ctx *ctx = userdata;
    _cleanup_free_ char *text = NULL;
    char path[SBOM_MAX_PATH];
    size_t len = 0;
    int r;

    if (rootfs_path(path, sizeof(path), "usr/share/doc/%s/copyright", c->name) < 0)
        return 0;
    r = rootfs_read(ctx->root_fd, path, SBOM_MAX_COPYRIGHT, false, &text, &len, NULL);
    if (r == -ENOMEM)
        return r;
    if (r < 0)
        return 0; /* absent, too large or unreadable: licence unknown */
    r = license_dep5_parse(text, len, c, NULL);
    if (r == -ENOMEM)
        return r;
    return license_resolve(c);
}

static bool token_ok(const char *s)
{
    if (!s || !*s)
        return false;
    for (; *s; s++)
        if (!strchr("abcdefghijklmnopqrstuvwxyz0123456789._-", *s))
            return false;
    return true;
}

int dpkg_collect(int root_fd, struct sbom *s, size_t *ret_n)
{
    const struct sbom_host *h = sbom_host(s);
    struct licence_ctx ctx = {.root_fd = root_fd, .s = s};
    struct dpkg_opts opts = {.vendor = "debian", .each = add_licence, .userdata = &ctx};
    _cleanup_free_ char *text = NULL, *distro = NULL;
    size_t len = 0, n = 0;
    int r;

    r = rootfs_read(root_fd, "var/lib/dpkg/status", SBOM_MAX_DPKG_STATUS, false, &text, &len, NULL);
    if (r == -ENOENT) {
        if (ret_n)
            *ret_n = 0;
        return 0;
    }
    if (r < 0)
        return r;
    if (token_ok(h->os_id))
        opts.vendor = h->os_id;
    if (token_ok(h->os_id) && h->os_version_id) {
        if (asprintf(&distro, "%s-%s", h->os_id, h->os_version_id) < 0) {
            distro = NULL;
            return -ENOMEM;
        }
        opts.distro = distro;
    } else if (h->os_codename)
        opts.distro = h->os_codename;
    r = dpkg_parse_status(text, len, &opts, s, &n);
    if (r < 0)
        return r;
    if (ret_n)
        *ret_n = n;
    return 0;
}
