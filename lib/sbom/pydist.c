/* SPDX-License-Identifier: Apache-2.0 */
/* Python distributions: core metadata and the site-packages scan (see pydist.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "license.h"
#include "purl.h"
#include "pydist.h"
#include "rootfs.h"

#define CLASSIFIER_LICENSE "License ::"

struct hdr {
    const char *p;
    size_t len;
    bool continued; /* the field had continuation lines */
};

static void trim(const char **p, size_t *len)
{
    while (*len > 0 && (**p == ' ' || **p == '\t')) {
        (*p)++;
        (*len)--;
    }
    while (*len > 0 && ((*p)[*len - 1] == ' ' || (*p)[*len - 1] == '\t' || (*p)[*len - 1] == '\r'))
        (*len)--;
}

static bool token_valid(const char *p, size_t len)
{
    return len > 0 && len <= SBOM_MAX_FIELD && sbom_text_valid(p, len) && !memchr(p, ' ', len) &&
           !memchr(p, '\t', len);
}

int pydist_parse_metadata(const char *data, size_t len, struct sbom_component *ret)
{
    struct sbom_component c = {.kind = SBOM_KIND_PYPI};
    struct hdr name = {}, version = {}, lic = {}, expr = {};
    struct hdr *last = NULL;
    const char *p = data, *end = data + len;
    int r;

    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p)), *line_end = nl ? nl : end;
        size_t ll = (size_t)(line_end - p);
        const char *colon;

        if (ll == 0 || (ll == 1 && p[0] == '\r'))
            break; /* end of the header part */
        if (p[0] == ' ' || p[0] == '\t') {
            if (last)
                last->continued = true;
        } else if ((colon = memchr(p, ':', ll))) {
            size_t klen = (size_t)(colon - p);
            const char *v = colon + 1;
            size_t vlen = ll - klen - 1;
            struct hdr *slot = NULL;

            trim(&v, &vlen);
            if (klen == 4 && strncasecmp(p, "Name", 4) == 0)
                slot = &name;
            else if (klen == 7 && strncasecmp(p, "Version", 7) == 0)
                slot = &version;
            else if (klen == 7 && strncasecmp(p, "License", 7) == 0)
                slot = &lic;
            else if (klen == 18 && strncasecmp(p, "License-Expression", 18) == 0)
                slot = &expr;
            else if (klen == 10 && strncasecmp(p, "Classifier", 10) == 0 &&
                     vlen > strlen(CLASSIFIER_LICENSE) &&
                     strncmp(v, CLASSIFIER_LICENSE, strlen(CLASSIFIER_LICENSE)) == 0) {
                /* "License :: OSI Approved :: MIT License" -> "MIT License". */
                const char *seg = v;
                for (const char *q = v; q + 4 <= v + vlen; q++)
                    if (memcmp(q, " :: ", 4) == 0)
                        seg = q + 4;
                if (seg != v && v + vlen > seg && (size_t)(v + vlen - seg) <= SBOM_MAX_LICENSE &&
                    sbom_text_valid(seg, (size_t)(v + vlen - seg))) {
                    _cleanup_free_ char *n = strndup(seg, (size_t)(v + vlen - seg));

                    if (!n) {
                        r = -ENOMEM;
                        goto fail;
                    }
                    /* Classifiers only count when no License field says more (below). */
                    if ((r = sbom_component_add_license_name(&c, n)) < 0)
                        goto fail;
                }
            }
            if (slot && !slot->p) {
                *slot = (struct hdr){v, vlen, false};
                last = slot;
            } else
                last = NULL;
        } else
            last = NULL;
        p = nl ? nl + 1 : end;
    }

    if (!name.p || !version.p || !token_valid(name.p, name.len) ||
        !token_valid(version.p, version.len)) {
        r = -EBADMSG;
        goto fail;
    }
    if (!(c.name = strndup(name.p, name.len)) || !(c.version = strndup(version.p, version.len))) {
        r = -ENOMEM;
        goto fail;
    }
    r = purl_pypi(c.name, c.version, &c.purl);
    if (r < 0) {
        r = r == -ENOMEM ? r : -EBADMSG;
        goto fail;
    }

    /* Licence: expression, else a one-line License field, else the classifiers kept above. */
    if (expr.p && expr.len > 0 && expr.len <= SBOM_MAX_LICENSE &&
        sbom_text_valid(expr.p, expr.len)) {
        _cleanup_free_ char *text = strndup(expr.p, expr.len);

        if (!text) {
            r = -ENOMEM;
            goto fail;
        }
        r = license_to_spdx(text, &c.license_expr);
        if (r == -ENOMEM)
            goto fail;
        if (r < 0) {
            for (size_t i = 0; i < c.n_license_names; i++)
                free(c.license_names[i]);
            c.n_license_names = 0;
            if ((r = sbom_component_add_license_name(&c, text)) < 0)
                goto fail;
        }
    } else if (lic.p && !lic.continued && lic.len > 0 && lic.len <= SBOM_MAX_LICENSE &&
               sbom_text_valid(lic.p, lic.len) &&
               !(lic.len == 7 && strncasecmp(lic.p, "UNKNOWN", 7) == 0)) {
        _cleanup_free_ char *text = strndup(lic.p, lic.len);

        if (!text) {
            r = -ENOMEM;
            goto fail;
        }
        for (size_t i = 0; i < c.n_license_names; i++)
            free(c.license_names[i]);
        c.n_license_names = 0;
        if ((r = sbom_component_add_license_name(&c, text)) < 0)
            goto fail;
    }
    if (!c.license_expr && (r = license_resolve(&c)) < 0)
        goto fail;
    *ret = c;
    return 0;
fail:
    sbom_component_clear(&c);
    return r;
}

/* One metadata file: parse and add, or warn. */
static int add_one(int root_fd, const char *path, struct sbom *s, size_t *n_added)
{
    _cleanup_free_ char *text = NULL;
    struct sbom_component c = {};
    size_t len = 0;
    int r;

    r = rootfs_read(root_fd, path, SBOM_MAX_METADATA, true, &text, &len, NULL);
    if (r == -ENOMEM)
        return r;
    if (r < 0) {
        sbom_warn(s, "python: broken distribution metadata /%s: %s, skipped", path, strerror(-r));
        return 0;
    }
    r = pydist_parse_metadata(text, len, &c);
    if (r == -ENOMEM)
        return r;
    if (r < 0) {
        sbom_warn(s,
                  "python: broken distribution metadata /%s: no valid Name and Version, "
                  "skipped",
                  path);
        return 0;
    }
    r = sbom_add(s, &c);
    if (r < 0)
        return r;
    (*n_added)++;
    return 0;
}

static bool has_suffix(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);

    return n > k && streq(s + n - k, suffix);
}

/* Every distribution in one directory. */
static int scan_dir(int root_fd, const char *dir, struct sbom *s, size_t *n_added)
{
    char **names = NULL;
    size_t n = 0;
    int r;

    r = rootfs_list(root_fd, dir, &names, &n);
    if (r == -ENOENT || r == -ENOTDIR)
        return 0;
    if (r == -ENOMEM)
        return r;
    if (r < 0) {
        sbom_warn(s, "python: cannot list /%s: %s, skipped", dir, strerror(-r));
        return 0;
    }
    for (size_t i = 0; i < n && r >= 0; i++) {
        char path[SBOM_MAX_PATH];

        if (has_suffix(names[i], ".dist-info")) {
            if (rootfs_path(path, sizeof(path), "%s/%s/METADATA", dir, names[i]) < 0)
                continue;
            r = add_one(root_fd, path, s, n_added);
        } else if (has_suffix(names[i], ".egg-info")) {
            _cleanup_close_ int fd = -EBADF;

            if (rootfs_path(path, sizeof(path), "%s/%s", dir, names[i]) < 0)
                continue;
            /* A directory holds PKG-INFO; a plain file is PKG-INFO itself. */
            if (rootfs_openat(root_fd, path, O_RDONLY | O_DIRECTORY, &fd) >= 0 &&
                rootfs_path(path, sizeof(path), "%s/%s/PKG-INFO", dir, names[i]) < 0)
                continue;
            r = add_one(root_fd, path, s, n_added);
        }
    }
    rootfs_names_free(names, n);
    return r;
}

/* usr/lib/pythonX.Y/{dist,site}-packages and usr/lib/python3/dist-packages under base. */
static int scan_interpreters(int root_fd, const char *base, struct sbom *s, size_t *n_added)
{
    static const char *const kinds[] = {"dist-packages", "site-packages"};
    char **names = NULL;
    size_t n = 0;
    int r;

    r = rootfs_list(root_fd, base, &names, &n);
    if (r == -ENOMEM)
        return r;
    if (r < 0)
        return 0;
    for (size_t i = 0; i < n && r >= 0; i++) {
        if (strncmp(names[i], "python3", 7) != 0 || (names[i][7] && names[i][7] != '.'))
            continue;
        for (size_t k = 0; k < ELEMENTSOF(kinds) && r >= 0; k++) {
            char path[SBOM_MAX_PATH];

            if (rootfs_path(path, sizeof(path), "%s/%s/%s", base, names[i], kinds[k]) < 0)
                continue;
            r = scan_dir(root_fd, path, s, n_added);
        }
    }
    rootfs_names_free(names, n);
    return r;
}

int pydist_collect(int root_fd, const char *const *extra_dirs, size_t n_extra, struct sbom *s,
                   size_t *ret_n)
{
    size_t n_added = 0;
    int r;

    if (n_extra > SBOM_MAX_ROOTS)
        return -E2BIG;
    if ((r = scan_interpreters(root_fd, "usr/lib", s, &n_added)) < 0 ||
        (r = scan_interpreters(root_fd, "usr/local/lib", s, &n_added)) < 0)
        return r;
    for (size_t i = 0; i < n_extra; i++) {
        const char *d = extra_dirs[i];

        while (*d == '/')
            d++;
        if ((r = scan_dir(root_fd, *d ? d : ".", s, &n_added)) < 0)
            return r;
    }
    if (ret_n)
        *ret_n = n_added;
    return 0;
}
