/* SPDX-License-Identifier: Apache-2.0 */
/* Package URLs (see purl.h). */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "purl.h"
#include "sbom-limits.h"
#include "sbuf.h"

/* Room for a whole purl: every byte of every component could triple when encoded. */
#define PURL_MAX (16u * SBOM_MAX_FIELD)

static bool keep_raw(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '-' || c == '_' || c == '~' || c == ':';
}

static int check_field(const char *s)
{
    size_t len;

    if (!s)
        return 0;
    len = strlen(s);
    if (len == 0)
        return -EINVAL;
    return len > SBOM_MAX_FIELD ? -EMSGSIZE : 0;
}

static int put_str(struct sbuf *b, const char *s)
{
    return sbuf_put(b, s, strlen(s));
}

/* Appends s percent-encoded; lower-cases ASCII letters first when lower is set. */
static int put_encoded(struct sbuf *b, const char *s, bool lower)
{
    static const char hex[] = "0123456789ABCDEF";

    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        unsigned char c = *p;
        int r;

        if (lower && c >= 'A' && c <= 'Z')
            c = (unsigned char)(c - 'A' + 'a');
        if (keep_raw(c))
            r = sbuf_put_u8(b, c);
        else {
            char esc[3] = {'%', hex[c >> 4], hex[c & 0xf]};
            r = sbuf_put(b, esc, sizeof(esc));
        }
        if (r < 0)
            return r;
    }
    return 0;
}

/* The buffer's bytes as a new NUL-terminated string. */
static int finish(struct sbuf *b, char **ret)
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

int purl_encode(const char *s, char **ret)
{
    _cleanup_(sbuf_freep) struct sbuf *b = NULL;
    int r;

    if ((r = check_field(s)) < 0)
        return r;
    b = sbuf_new(PURL_MAX);
    if (!b)
        return -ENOMEM;
    if ((r = put_encoded(b, s, false)) < 0)
        return r;
    return finish(b, ret);
}

/* "@VERSION" when version is set. */
static int put_version(struct sbuf *b, const char *version)
{
    int r;

    if (!version)
        return 0;
    if ((r = sbuf_put_u8(b, '@')) < 0)
        return r;
    return put_encoded(b, version, false);
}

int purl_deb(const char *vendor, const char *name, const char *version, const char *arch,
             const char *distro, char **ret)
{
    _cleanup_(sbuf_freep) struct sbuf *b = NULL;
    char sep = '?';
    int r;

    if (!vendor || !name)
        return -EINVAL;
    if ((r = check_field(vendor)) < 0 || (r = check_field(name)) < 0 ||
        (r = check_field(version)) < 0 || (r = check_field(arch)) < 0 ||
        (r = check_field(distro)) < 0)
        return r;
    b = sbuf_new(PURL_MAX);
    if (!b)
        return -ENOMEM;
    if ((r = put_str(b, "pkg:deb/")) < 0 || (r = put_encoded(b, vendor, true)) < 0 ||
        (r = sbuf_put_u8(b, '/')) < 0 || (r = put_encoded(b, name, true)) < 0 ||
        (r = put_version(b, version)) < 0)
        return r;
    /* Qualifiers sorted by key: arch < distro. */
    if (arch) {
        if ((r = sbuf_put_u8(b, (uint8_t)sep)) < 0 || (r = put_str(b, "arch=")) < 0 ||
            (r = put_encoded(b, arch, false)) < 0)
            return r;
        sep = '&';
    }
    if (distro) {
        if ((r = sbuf_put_u8(b, (uint8_t)sep)) < 0 || (r = put_str(b, "distro=")) < 0 ||
            (r = put_encoded(b, distro, false)) < 0)
            return r;
    }
    return finish(b, ret);
}

int purl_pep503_name(const char *name, char **ret)
{
    size_t len, out = 0;
    char *s;
    int r;

    if (!name)
        return -EINVAL;
    if ((r = check_field(name)) < 0)
        return r;
    len = strlen(name);
    s = malloc(len + 1);
    if (!s)
        return -ENOMEM;
    for (size_t i = 0; i < len; i++) {
        char c = name[i];

        if (c == '-' || c == '_' || c == '.') {
            if (out == 0 || s[out - 1] != '-')
                s[out++] = '-';
            continue;
        }
        s[out++] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
    }
    s[out] = '\0';
    *ret = s;
    return 0;
}

int purl_pypi(const char *name, const char *version, char **ret)
{
    _cleanup_(sbuf_freep) struct sbuf *b = NULL;
    _cleanup_free_ char *norm = NULL;
    int r;

    if ((r = purl_pep503_name(name, &norm)) < 0 || (r = check_field(version)) < 0)
        return r;
    b = sbuf_new(PURL_MAX);
    if (!b)
        return -ENOMEM;
    if ((r = put_str(b, "pkg:pypi/")) < 0 || (r = put_encoded(b, norm, false)) < 0 ||
        (r = put_version(b, version)) < 0)
        return r;
    return finish(b, ret);
}

int purl_npm(const char *name, const char *version, char **ret)
{
    _cleanup_(sbuf_freep) struct sbuf *b = NULL;
    _cleanup_free_ char *scope = NULL;
    const char *slash, *base = name;
    int r;

    if (!name)
        return -EINVAL;
    if ((r = check_field(name)) < 0 || (r = check_field(version)) < 0)
        return r;
    slash = strchr(name, '/');
    if (name[0] == '@') {
        /* "@scope/name": exactly one slash, both parts non-empty. */
        if (!slash || slash == name + 1 || !slash[1] || strchr(slash + 1, '/'))
            return -EINVAL;
        scope = strndup(name, (size_t)(slash - name));
        if (!scope)
            return -ENOMEM;
        base = slash + 1;
    } else if (slash)
        return -EINVAL;
    b = sbuf_new(PURL_MAX);
    if (!b)
        return -ENOMEM;
    if ((r = put_str(b, "pkg:npm/")) < 0)
        return r;
    if (scope && ((r = put_encoded(b, scope, true)) < 0 || (r = sbuf_put_u8(b, '/')) < 0))
        return r;
    if ((r = put_encoded(b, base, true)) < 0 || (r = put_version(b, version)) < 0)
        return r;
    return finish(b, ret);
}
