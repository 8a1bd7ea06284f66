/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The measure module's host facts (measure_host_*) and the pure parsers of the system's text
 * files that measure.h exposes for tests and fuzzing: /proc/PID/cgroup (used by the peer
 * measurement in measure.c) and os-release(5). The host's part of the JSON document is rendered
 * here too, so struct measure_host stays private to this file.
 */
#include "measure.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include <json-c/json_object.h>

#include "crypto.h"
#include "format.h"
#include "json.h"
#include "measure-internal.h"

/* /etc/machine-id and boot_id files: 32 or 36 characters and a newline. */
#define ID_FILE_MAX    64u
#define MACHINE_ID_LEN 32u
#define BOOT_ID_LEN    36u
#define SHA256_HEX_LEN (2u * MEASURE_SHA256_LEN)
#define DELETED_SUFFIX " (deleted)"

/* ------------------------------------------------------------------------------------------ */
/* small helpers */

static bool is_hex_lower(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

static bool all_hex_lower(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (!is_hex_lower(s[i]))
            return false;
    return true;
}

static bool is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

static bool ends_with(const char *s, size_t len, const char *suffix)
{
    size_t sl = strlen(suffix);
    return len >= sl && memcmp(s + len - sl, suffix, sl) == 0;
}

static int join_path(char *buf, size_t cap, const char *a, const char *b)
{
    int n = snprintf(buf, cap, "%s%s", a, b);
    if (n < 0 || (size_t)n >= cap)
        return -ENAMETOOLONG;
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* cgroup */

static bool is_unit_name(const char *c, size_t len)
{
    static const char *const suffixes[] = {".service", ".scope", ".socket", ".mount", ".swap"};

    if (len == 0 || len > MEASURE_MAX_UNIT_NAME)
        return false;
    for (size_t i = 0; i < len; i++) {
        char ch = c[i];
        bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                  (ch >= '0' && ch <= '9') || ch == ':' || ch == '_' || ch == '.' || ch == '\\' ||
                  ch == '@' || ch == '-';
        if (!ok)
            return false;
    }
    for (size_t i = 0; i < ELEMENTSOF(suffixes); i++) {
        size_t sl = strlen(suffixes[i]);
        /* A name before the suffix, and not a bare template ("foo@.service"). */
        if (len > sl && ends_with(c, len, suffixes[i]) && c[len - sl - 1] != '@' && c[0] != '.')
            return true;
    }
    return false;
}

static bool container_id(const char *c, size_t len, char out[static MEASURE_CONTAINER_ID + 1])
{
    static const char *const prefixes[] = {"docker-", "cri-containerd-", "crio-", "libpod-"};
    static const char scope[] = ".scope";

    if (len == MEASURE_CONTAINER_ID && all_hex_lower(c, len))
        return measure_copy_str(out, MEASURE_CONTAINER_ID + 1, c, len);
    for (size_t i = 0; i < ELEMENTSOF(prefixes); i++) {
        size_t pl = strlen(prefixes[i]);

        if (len == pl + MEASURE_CONTAINER_ID + strlen(scope) && memcmp(c, prefixes[i], pl) == 0 &&
            ends_with(c, len, scope) && all_hex_lower(c + pl, MEASURE_CONTAINER_ID))
            return measure_copy_str(out, MEASURE_CONTAINER_ID + 1, c + pl, MEASURE_CONTAINER_ID);
    }
    return false;
}

/* Derive unit, nested unit and container id from an absolute cgroup path. */
static void cgroup_derive(const char *path, size_t len, struct measure_cgroup *cg)
{
    size_t pos = 0;

    if (ends_with(path, len, DELETED_SUFFIX))
        len -= strlen(DELETED_SUFFIX);
    while (pos < len) {
        size_t start, clen;

        while (pos < len && path[pos] == '/')
            pos++;
        start = pos;
        while (pos < len && path[pos] != '/')
            pos++;
        clen = pos - start;
        if (clen == 0)
            break;
        if (is_unit_name(path + start, clen)) {
            if (cg->unit[0] == '\0')
                (void)measure_copy_str(cg->unit, sizeof(cg->unit), path + start, clen);
            else
                (void)measure_copy_str(cg->nested_unit, sizeof(cg->nested_unit), path + start,
                                       clen);
        }
        (void)container_id(path + start, clen, cg->container);
    }
}

int measure_parse_cgroup(const char *text, size_t len, struct measure_cgroup *ret)
{
    struct measure_cgroup cg = {};
    bool found = false;
    size_t pos = 0;

    if (!text || !ret)
        return -EINVAL;
    while (pos < len) {
        size_t end = pos, plen;
        const char *p;

        while (end < len && text[end] != '\n')
            end++;
        if (end - pos >= 3 && memcmp(text + pos, "0::", 3) == 0) {
            if (found)
                return -EINVAL;
            found = true;
            p = text + pos + 3;
            plen = end - pos - 3;
            if (plen == 0 || p[0] != '/' || memchr(p, '\0', plen))
                return -EINVAL;
            if (plen > MEASURE_MAX_CGROUP_PATH)
                return -ENAMETOOLONG;
            (void)measure_copy_str(cg.path, sizeof(cg.path), p, plen);
            cgroup_derive(p, plen, &cg);
        }
        pos = end + 1;
    }
    if (!found)
        return -ENOENT;
    *ret = cg;
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* os-release */

/* Decode the shell-quoted value s[0..len) into out (cap bytes with the NUL). */
static int osrel_value(const char *s, size_t len, char *out, size_t cap)
{
    enum { BARE, DQUOTE, SQUOTE } q = BARE;
    size_t i, o = 0;

    for (i = 0; i < len; i++) {
        char c = s[i];

        if (q == SQUOTE) {
            if (c == '\'') {
                q = BARE;
                continue;
            }
        } else if (q == DQUOTE) {
            if (c == '"') {
                q = BARE;
                continue;
            }
            /* Inside double quotes a backslash only escapes these (as in sh). */
            if (c == '\\' && i + 1 < len &&
                (s[i + 1] == '"' || s[i + 1] == '\\' || s[i + 1] == '$' || s[i + 1] == '`'))
                c = s[++i];
        } else {
            if (is_blank(c))
                break;
            if (c == '\'') {
                q = SQUOTE;
                continue;
            }
            if (c == '"') {
                q = DQUOTE;
                continue;
            }
            if (c == '\\') {
                if (i + 1 >= len)
                    return -EINVAL;
                c = s[++i];
            }
        }
        if (o + 1 >= cap)
            return -EMSGSIZE;
        out[o++] = c;
    }
    if (q != BARE)
        return -EINVAL;
    while (i < len && is_blank(s[i]))
        i++;
    if (i < len && s[i] != '#')
        return -EINVAL;
    out[o] = '\0';
    return 0;
}

static void osrel_line(const char *line, size_t len, struct measure_os *os)
{
    char value[MEASURE_MAX_OS_FIELD + 1];
    size_t i = 0, klen;
    const char *key;

    if (len > MEASURE_MAX_OS_LINE || memchr(line, '\0', len))
        return;
    while (i < len && is_blank(line[i]))
        i++;
    if (i == len || line[i] == '#')
        return;
    key = line + i;
    while (i < len && (line[i] == '_' || (line[i] >= 'A' && line[i] <= 'Z') ||
                       (line[i] >= 'a' && line[i] <= 'z') ||
                       (i > (size_t)(key - line) && line[i] >= '0' && line[i] <= '9')))
        i++;
    klen = (size_t)(line + i - key);
    if (klen == 0 || i == len || line[i] != '=')
        return;
    if (osrel_value(line + i + 1, len - i - 1, value, sizeof(value)) < 0)
        return;
    if (klen == 2 && memcmp(key, "ID", 2) == 0)
        memcpy(os->id, value, sizeof(value));
    else if (klen == 10 && memcmp(key, "VERSION_ID", 10) == 0)
        memcpy(os->version_id, value, sizeof(value));
    else if (klen == 11 && memcmp(key, "PRETTY_NAME", 11) == 0)
        memcpy(os->pretty_name, value, sizeof(value));
}

int measure_parse_os_release(const char *text, size_t len, struct measure_os *ret)
{
    struct measure_os os = {};
    size_t pos = 0;

    if (!ret || (!text && len > 0))
        return -EINVAL;
    while (pos < len) {
        size_t end = pos;

        while (end < len && text[end] != '\n')
            end++;
        osrel_line(text + pos, end - pos, &os);
        pos = end + 1;
    }
    *ret = os;
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* host */

struct measure_host {
    char kernel[sizeof(((struct utsname *)0)->release)];
    char arch[sizeof(((struct utsname *)0)->machine)];
    struct measure_os os;
    char boot_id[BOOT_ID_LEN + 1];
    char machine_id_sha256[SHA256_HEX_LEN + 1];
};

struct measure_host *measure_host_free(struct measure_host *h)
{
    free(h);
    return NULL;
}

/* Read a small id file (one line); 0 with the line (newline stripped) or -errno. */
static int read_id_file(const char *root, const char *name, char **ret, size_t *ret_len)
{
    char path[PATH_MAX];
    char *text = NULL;
    size_t len;
    bool truncated;
    int r;

    r = join_path(path, sizeof(path), root, name);
    if (r < 0)
        return r;
    r = measure_read_text(path, ID_FILE_MAX, false, &text, &len, &truncated);
    if (r < 0)
        return r;
    if (truncated) {
        free(text);
        return -EFBIG;
    }
    if (len > 0 && text[len - 1] == '\n')
        text[--len] = '\0';
    *ret = text;
    *ret_len = len;
    return 0;
}

static bool boot_id_valid(const char *s, size_t len)
{
    if (len != BOOT_ID_LEN)
        return false;
    for (size_t i = 0; i < len; i++) {
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? s[i] != '-' : !is_hex_lower(s[i]))
            return false;
    }
    return true;
}

static int host_machine_id(const char *root, struct measure_host *h)
{
    static const char ctx[] = MEASURE_MACHINE_ID_CONTEXT;
    _cleanup_free_ char *text = NULL, *hex = NULL;
    uint8_t input[sizeof(ctx) - 1 + MACHINE_ID_LEN];
    uint8_t digest[MEASURE_SHA256_LEN];
    size_t len;
    int r;

    r = read_id_file(root, "/etc/machine-id", &text, &len);
    if (r == -ENOMEM)
        return r;
    /* machine-id(5): 32 lower-case hex digits; "uninitialized" and the like are no id. */
    if (r < 0 || len != MACHINE_ID_LEN || !all_hex_lower(text, len))
        return 0;
    memcpy(input, ctx, sizeof(ctx) - 1);
    memcpy(input + sizeof(ctx) - 1, text, MACHINE_ID_LEN);
    r = hash_buffer(HWSIGN_HASH_SHA256, input, sizeof(input), digest, sizeof(digest));
    /* machine-id(5) calls the id confidential: no stray copies. */
    explicit_bzero(input, sizeof(input));
    explicit_bzero(text, len);
    if (r < 0)
        return r;
    r = hex_encode(digest, sizeof(digest), &hex);
    if (r < 0)
        return r;
    (void)measure_copy_str(h->machine_id_sha256, sizeof(h->machine_id_sha256), hex, strlen(hex));
    return 0;
}

static int host_os_release(const char *root, struct measure_host *h)
{
    static const char *const files[] = {"/etc/os-release", "/usr/lib/os-release"};
    char path[PATH_MAX];
    int r = -ENOENT;

    /* os-release(5): /etc/os-release, falling back to /usr/lib/os-release only if missing. */
    for (size_t i = 0; i < ELEMENTSOF(files) && r == -ENOENT; i++) {
        _cleanup_free_ char *text = NULL;
        size_t len;
        bool truncated;

        r = join_path(path, sizeof(path), root, files[i]);
        if (r < 0)
            return r;
        r = measure_read_text(path, MEASURE_MAX_OS_RELEASE, false, &text, &len, &truncated);
        if (r == -ENOMEM)
            return r;
        if (r < 0)
            continue;
        /* An oversized file: parse the complete lines within the limit. */
        if (truncated)
            while (len > 0 && text[len - 1] != '\n')
                len--;
        (void)measure_parse_os_release(text, len, &h->os);
    }
    return 0;
}

int measure_host_read_at(const char *root, struct measure_host **ret)
{
    _cleanup_(measure_host_freep) struct measure_host *h = NULL;
    _cleanup_free_ char *boot = NULL;
    char probe[PATH_MAX];
    struct utsname u;
    size_t len;
    int r;

    if (!ret)
        return -EINVAL;
    if (!root)
        root = "";
    /* The longest path built below root: fail early and consistently on a too long root. */
    r = join_path(probe, sizeof(probe), root, "/proc/sys/kernel/random/boot_id");
    if (r < 0)
        return r;
    h = calloc(1, sizeof(*h));
    if (!h)
        return -ENOMEM;
    if (uname(&u) == 0) {
        (void)measure_copy_str(h->kernel, sizeof(h->kernel), u.release,
                               strnlen(u.release, sizeof(u.release)));
        (void)measure_copy_str(h->arch, sizeof(h->arch), u.machine,
                               strnlen(u.machine, sizeof(u.machine)));
    }
    r = host_os_release(root, h);
    if (r < 0)
        return r;
    r = read_id_file(root, "/proc/sys/kernel/random/boot_id", &boot, &len);
    if (r == -ENOMEM)
        return r;
    if (r >= 0 && boot_id_valid(boot, len))
        (void)measure_copy_str(h->boot_id, sizeof(h->boot_id), boot, len);
    r = host_machine_id(root, h);
    if (r < 0)
        return r;
    *ret = TAKE_PTR(h);
    return 0;
}

int measure_host_read(struct measure_host **ret)
{
    return measure_host_read_at(NULL, ret);
}

int measure_host_render(const struct measure_host *h, struct json_object **ret)
{
    _cleanup_(fjson_putp) struct json_object *o = json_object_new_object();
    _cleanup_(fjson_putp) struct json_object *os = json_object_new_object();
    int r;

    if (!o || !os)
        return -ENOMEM;
    r = measure_json_add_opt_text(o, "kernel", h->kernel);
    if (r >= 0)
        r = measure_json_add_opt_text(o, "arch", h->arch);
    if (r >= 0)
        r = measure_json_add_opt_text(os, "id", h->os.id);
    if (r >= 0)
        r = measure_json_add_opt_text(os, "version_id", h->os.version_id);
    if (r >= 0)
        r = measure_json_add_opt_text(os, "pretty_name", h->os.pretty_name);
    if (r >= 0)
        r = fjson_add(o, "os", TAKE_PTR(os));
    if (r >= 0)
        r = measure_json_add_opt_text(o, "boot_id", h->boot_id);
    if (r >= 0)
        r = measure_json_add_opt_text(o, "machine_id_sha256", h->machine_id_sha256);
    if (r < 0)
        return r;
    *ret = TAKE_PTR(o);
    return 0;
}
