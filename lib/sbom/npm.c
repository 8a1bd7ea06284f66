/* SPDX-License-Identifier: Apache-2.0 */
/* npm packages in node_modules trees (see npm.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "json.h"
#include "license.h"
#include "npm.h"
#include "purl.h"
#include "rootfs.h"

#define NPM_MAX_LEGACY_LICENSES 16u /* entries read from a legacy "licenses" array */

static int get_field(const struct json_object *o, const char *key, const char **ret)
{
    size_t len = 0;
    int r = fjson_get_string(o, key, SBOM_MAX_FIELD, ret, &len);

    if (r < 0)
        return r == -ENOMEM ? r : -EBADMSG;
    if (len == 0 || !sbom_text_valid(*ret, len) || strchr(*ret, ' '))
        return -EBADMSG;
    return 0;
}

/* One licence value (a string): an SPDX expression when it translates, else a name. */
static int add_licence_text(struct sbom_component *c, const char *text)
{
    char *expr = NULL;
    int r;

    if (!*text || strlen(text) > SBOM_MAX_LICENSE || !sbom_text_valid(text, strlen(text)))
        return 0;
    r = license_to_spdx(text, &expr);
    if (r == -ENOMEM)
        return r;
    if (r >= 0 && !c->license_expr && c->n_license_names == 0) {
        c->license_expr = expr;
        return 0;
    }
    free(expr);
    return sbom_component_add_license_name(c, text);
}

static int licence_from_value(struct sbom_component *c, struct json_object *v)
{
    struct json_object *t;

    if (json_object_is_type(v, json_type_string))
        return add_licence_text(c, json_object_get_string(v));
    if (json_object_is_type(v, json_type_object) && json_object_object_get_ex(v, "type", &t) &&
        json_object_is_type(t, json_type_string))
        return add_licence_text(c, json_object_get_string(t));
    return 0;
}

int npm_parse_package_json(const char *data, size_t len, struct sbom_component *ret)
{
    _cleanup_(fjson_putp) struct json_object *o = NULL;
    struct sbom_component c = {.kind = SBOM_KIND_NPM};
    struct json_object *v;
    const char *name, *version;
    int r;

    if (len > SBOM_MAX_PACKAGE_JSON)
        return -EMSGSIZE;
    r = fjson_parse_object(data, len, SBOM_MAX_PACKAGE_JSON, &o);
    if (r < 0)
        return r == -ENOMEM ? r : -EBADMSG;
    if ((r = get_field(o, "name", &name)) < 0 || (r = get_field(o, "version", &version)) < 0)
        return r;
    if (!(c.name = strdup(name)) || !(c.version = strdup(version))) {
        r = -ENOMEM;
        goto fail;
    }
    r = purl_npm(c.name, c.version, &c.purl);
    if (r < 0) {
        r = r == -ENOMEM ? r : -EBADMSG;
        goto fail;
    }
    if (json_object_object_get_ex(o, "license", &v))
        r = licence_from_value(&c, v);
    else if (json_object_object_get_ex(o, "licenses", &v) &&
             json_object_is_type(v, json_type_array)) {
        size_t n = json_object_array_length(v);

        /* Every entry is a name; one expression results if each translates. */
        for (size_t i = 0; i < n && i < NPM_MAX_LEGACY_LICENSES && r >= 0; i++) {
            struct json_object *e = json_object_array_get_idx(v, i), *t;
            const char *text;

            if (!json_object_is_type(e, json_type_object) ||
                !json_object_object_get_ex(e, "type", &t) ||
                !json_object_is_type(t, json_type_string))
                continue;
            text = json_object_get_string(t);
            if (*text && strlen(text) <= SBOM_MAX_LICENSE && sbom_text_valid(text, strlen(text)))
                r = sbom_component_add_license_name(&c, text);
        }
        if (r >= 0)
            r = license_resolve(&c);
    }
    if (r < 0)
        goto fail;
    *ret = c;
    return 0;
fail:
    sbom_component_clear(&c);
    return r;
}

struct walk {
    int root_fd;
    struct sbom *s;
    size_t n_added;
};

static int walk_modules(struct walk *w, const char *dir, unsigned depth);

static int handle_package(struct walk *w, const char *pkgdir, unsigned depth)
{
    _cleanup_free_ char *text = NULL;
    struct sbom_component c = {};
    char path[SBOM_MAX_PATH];
    size_t len = 0;
    int r;

    if (rootfs_path(path, sizeof(path), "%s/package.json", pkgdir) < 0)
        return 0;
    r = rootfs_read(w->root_fd, path, SBOM_MAX_PACKAGE_JSON, false, &text, &len, NULL);
    if (r == -ENOMEM)
        return r;
    if (r == -ENOENT || r == -ENOTDIR)
        return 0;
    if (r < 0) {
        sbom_warn(w->s, "npm: broken package /%s: %s, skipped", path, strerror(-r));
        return 0;
    }
    r = npm_parse_package_json(text, len, &c);
    if (r == -ENOMEM)
        return r;
    if (r < 0) {
        sbom_warn(w->s, "npm: broken package /%s: not JSON with a name and version, skipped", path);
        return 0;
    }
    r = sbom_add(w->s, &c);
    if (r < 0)
        return r;
    w->n_added++;
    if (depth + 1 >= SBOM_MAX_NPM_DEPTH)
        return 0;
    if (rootfs_path(path, sizeof(path), "%s/node_modules", pkgdir) < 0)
        return 0;
    return walk_modules(w, path, depth + 1);
}

static int walk_modules(struct walk *w, const char *dir, unsigned depth)
{
    char **names = NULL;
    size_t n = 0;
    int r;

    r = rootfs_list(w->root_fd, dir, &names, &n);
    if (r == -ENOMEM)
        return r;
    if (r == -ENOENT || r == -ENOTDIR)
        return 0;
    if (r < 0) {
        sbom_warn(w->s, "npm: cannot list /%s: %s, skipped", dir, strerror(-r));
        return 0;
    }
    for (size_t i = 0; i < n && r >= 0; i++) {
        char path[SBOM_MAX_PATH];

        if (names[i][0] == '.' || rootfs_path(path, sizeof(path), "%s/%s", dir, names[i]) < 0)
            continue;
        if (names[i][0] != '@') {
            r = handle_package(w, path, depth);
            continue;
        }
        /* A scope directory: its entries are the packages. */
        {
            char **sub = NULL;
            size_t m = 0;

            r = rootfs_list(w->root_fd, path, &sub, &m);
            if (r == -ENOMEM)
                break;
            if (r < 0) {
                r = 0;
                continue;
            }
            for (size_t k = 0; k < m && r >= 0; k++) {
                char pkg[SBOM_MAX_PATH];

                if (sub[k][0] == '.' || rootfs_path(pkg, sizeof(pkg), "%s/%s", path, sub[k]) < 0)
                    continue;
                r = handle_package(w, pkg, depth);
            }
            rootfs_names_free(sub, m);
        }
    }
    rootfs_names_free(names, n);
    return r;
}

int npm_collect(int root_fd, const char *const *trees, size_t n_trees, struct sbom *s,
                size_t *ret_n)
{
    static const char *const global[] = {"usr/lib/node_modules", "usr/local/lib/node_modules"};
    struct walk w = {.root_fd = root_fd, .s = s};
    int r;

    if (n_trees > SBOM_MAX_ROOTS)
        return -E2BIG;
    for (size_t i = 0; i < ELEMENTSOF(global); i++)
        if ((r = walk_modules(&w, global[i], 0)) < 0)
            return r;
    for (size_t i = 0; i < n_trees; i++) {
        const char *t = trees[i];

        while (*t == '/')
            t++;
        if ((r = walk_modules(&w, *t ? t : ".", 0)) < 0)
            return r;
    }
    if (ret_n)
        *ret_n = w.n_added;
    return 0;
}
