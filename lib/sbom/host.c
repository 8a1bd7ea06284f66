/* SPDX-License-Identifier: Apache-2.0 */
/* Host facts: os-release and uname (see host.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include "host.h"
#include "rootfs.h"

void host_clear(struct sbom_host *h)
{
    free(h->os_id);
    free(h->os_version_id);
    free(h->os_codename);
    free(h->os_pretty);
    free(h->kernel);
    free(h->machine);
    *h = (struct sbom_host){};
}

/* The value of one line (after "KEY="), unquoted, as a new string; NULL + 0 if unusable. */
static int unquote(const char *v, size_t len, char **ret)
{
    _cleanup_free_ char *out = malloc(len + 1);
    size_t n = 0;

    if (!out)
        return -ENOMEM;
    *ret = NULL;
    if (len >= 2 && (v[0] == '"' || v[0] == '\'') && v[len - 1] == v[0]) {
        char q = v[0];

        for (size_t i = 1; i + 1 < len; i++) {
            if (q == '"' && v[i] == '\\' && i + 2 < len)
                i++;
            out[n++] = v[i];
        }
    } else {
        memcpy(out, v, len);
        n = len;
    }
    out[n] = '\0';
    if (n == 0 || n > SBOM_MAX_FIELD || !sbom_text_valid(out, n))
        return 0;
    *ret = TAKE_PTR(out);
    return 0;
}

int host_parse_os_release(const char *data, size_t len, struct sbom_host *ret)
{
    static const char *const keys[] = {"ID", "VERSION_ID", "VERSION_CODENAME", "PRETTY_NAME"};
    struct sbom_host h = {};
    char **slots[] = {&h.os_id, &h.os_version_id, &h.os_codename, &h.os_pretty};
    const char *p = data, *end = data + len;

    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p)), *line_end = nl ? nl : end;
        size_t ll = (size_t)(line_end - p);

        for (size_t k = 0; k < ELEMENTSOF(keys); k++) {
            size_t kl = strlen(keys[k]);
            char *val = NULL;
            int r;

            if (ll <= kl || memcmp(p, keys[k], kl) != 0 || p[kl] != '=')
                continue;
            r = unquote(p + kl + 1, ll - kl - 1, &val);
            if (r < 0) {
                host_clear(&h);
                return r;
            }
            if (val) {
                free(*slots[k]);
                *slots[k] = val;
            }
        }
        p = nl ? nl + 1 : end;
    }
    *ret = h;
    return 0;
}

int host_collect(int root_fd, bool running_system, struct sbom *s)
{
    _cleanup_free_ char *text = NULL;
    struct sbom_host h = {};
    struct utsname u;
    size_t len = 0;
    int r;

    r = rootfs_read(root_fd, "etc/os-release", SBOM_MAX_OS_RELEASE, false, &text, &len, NULL);
    if (r == -ENOENT)
        r = rootfs_read(root_fd, "usr/lib/os-release", SBOM_MAX_OS_RELEASE, false, &text, &len,
                        NULL);
    if (r == -ENOMEM)
        return r;
    if (r < 0 && r != -ENOENT)
        sbom_warn(s, "os-release unreadable: %s", strerror(-r));
    if (r >= 0 && (r = host_parse_os_release(text, len, &h)) < 0)
        return r;
    if (running_system && uname(&u) == 0) {
        if (sbom_text_valid(u.release, strlen(u.release)) && !(h.kernel = strdup(u.release))) {
            host_clear(&h);
            return -ENOMEM;
        }
        if (sbom_text_valid(u.machine, strlen(u.machine)) && !(h.machine = strdup(u.machine))) {
            host_clear(&h);
            return -ENOMEM;
        }
    }
    r = sbom_set_host(s, &h);
    host_clear(&h);
    return r;
}
