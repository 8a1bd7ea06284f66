/* SPDX-License-Identifier: Apache-2.0 */
#include "measure.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <json-c/json_object.h>

#include "crypto-cleanup.h"
#include "crypto.h"
#include "format.h"
#include "json.h"
#include "parse.h"

#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif

/* Read size while hashing: memory stays bounded whatever the file size. */
#define HASH_CHUNK (64u * 1024u)
/* First allocation of read_text(); it doubles up to the caller's maximum. */
#define READ_INITIAL 4096u
/* /proc/PID/stat: comm is at most 64 bytes, the rest about 52 numbers. */
#define STAT_MAX 4096u
/* A decimal field of /proc/PID/stat (u64 or i64). */
#define STAT_FIELD_MAX 24u
/* Field number (1-based, proc(5)) of the process start time in /proc/PID/stat. */
#define STAT_FIELD_STARTTIME 22
/* /proc/self/fdinfo/FD of a pidfd: a handful of short lines. */
#define FDINFO_MAX 4096u
/* /etc/machine-id and boot_id files: 32 or 36 characters and a newline. */
#define ID_FILE_MAX    64u
#define MACHINE_ID_LEN 32u
#define BOOT_ID_LEN    36u
#define SHA256_HEX_LEN (2u * MEASURE_SHA256_LEN)
#define ERRNO_NAME_MAX 32u
#define DELETED_SUFFIX " (deleted)"
#define DEFAULT_PROC   "/proc"

void (*measure_test_hook)(enum measure_test_point point, pid_t pid, const char *path);

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

static char ascii_upper(char c)
{
    return c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c;
}

static bool ends_with(const char *s, size_t len, const char *suffix)
{
    size_t sl = strlen(suffix);
    return len >= sl && memcmp(s + len - sl, suffix, sl) == 0;
}

/* Strict UTF-8: no overlong forms, no surrogates, nothing above U+10FFFF. */
static bool utf8_valid(const char *text, size_t len)
{
    const unsigned char *s = (const unsigned char *)text;
    size_t i = 0;

    while (i < len) {
        unsigned c = s[i];
        size_t n;
        unsigned cp;

        if (c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0xc2 && c <= 0xdf) {
            n = 1;
            cp = c & 0x1f;
        } else if (c >= 0xe0 && c <= 0xef) {
            n = 2;
            cp = c & 0x0f;
        } else if (c >= 0xf0 && c <= 0xf4) {
            n = 3;
            cp = c & 0x07;
        } else {
            return false;
        }
        if (len - i <= n)
            return false;
        for (size_t k = 1; k <= n; k++) {
            if ((s[i + k] & 0xc0) != 0x80)
                return false;
            cp = (cp << 6) | (s[i + k] & 0x3f);
        }
        if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10ffff ||
            (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        i += n + 1;
    }
    return true;
}

/* Symbolic errno name ("EACCES"); deterministic unlike strerror(), which follows the locale. */
static void errno_name(int err, char buf[static ERRNO_NAME_MAX])
{
    const char *name = strerrorname_np(err);
    int n;

    if (name)
        n = snprintf(buf, ERRNO_NAME_MAX, "%s", name);
    else
        n = snprintf(buf, ERRNO_NAME_MAX, "errno %d", err);
    if (n < 0 || (size_t)n >= ERRNO_NAME_MAX)
        buf[0] = '\0';
}

/* Copy a NUL-free string into a fixed buffer; false if it does not fit. */
static bool copy_str(char *dst, size_t cap, const char *src, size_t len)
{
    if (len >= cap)
        return false;
    memcpy(dst, src, len);
    dst[len] = '\0';
    return true;
}

static int join_path(char *buf, size_t cap, const char *a, const char *b)
{
    int n = snprintf(buf, cap, "%s%s", a, b);
    if (n < 0 || (size_t)n >= cap)
        return -ENAMETOOLONG;
    return 0;
}

static int proc_path(char *buf, size_t cap, const char *root, pid_t pid, const char *name)
{
    int n = snprintf(buf, cap, "%s/%d/%s", root, (int)pid, name);
    if (n < 0 || (size_t)n >= cap)
        return -ENAMETOOLONG;
    return 0;
}

/* Free a buffer that may hold secrets (environment). */
static void wipe_free(char *p, size_t len)
{
    if (p) {
        explicit_bzero(p, len);
        free(p);
    }
}

/*
 * Read at most max bytes from path into a new NUL-terminated buffer. *ret_truncated tells
 * whether more bytes followed. With wipe, every buffer given up on the way is wiped first
 * (the caller must wipe the result too).
 */
static int read_text(const char *path, size_t max, bool wipe, char **ret, size_t *ret_len,
                     bool *ret_truncated)
{
    _cleanup_close_ int fd = -EBADF;
    char *buf;
    size_t cap, len = 0;
    bool truncated = false;

    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return negative_errno();
    cap = MIN(max, (size_t)READ_INITIAL);
    buf = malloc(cap + 1);
    if (!buf)
        return -ENOMEM;
    for (;;) {
        ssize_t n;

        if (len == cap) {
            char probe, *nb;
            size_t ncap;

            if (cap == max) {
                do
                    n = read(fd, &probe, 1);
                while (n < 0 && errno == EINTR);
                if (n < 0)
                    goto fail;
                truncated = n > 0;
                break;
            }
            ncap = cap > max / 2 ? max : cap * 2;
            nb = malloc(ncap + 1);
            if (!nb) {
                errno = ENOMEM;
                goto fail;
            }
            memcpy(nb, buf, len);
            if (wipe)
                explicit_bzero(buf, len);
            free(buf);
            buf = nb;
            cap = ncap;
        }
        n = read(fd, buf + len, cap - len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            goto fail;
        }
        if (n == 0)
            break;
        len += (size_t)n;
    }
    buf[len] = '\0';
    *ret = buf;
    *ret_len = len;
    *ret_truncated = truncated;
    return 0;

fail : {
    int r = negative_errno();
    if (wipe)
        wipe_free(buf, len);
    else
        free(buf);
    return r;
}
}

/* SHA-256 of everything readable from fd; -EFBIG beyond max bytes. */
static int hash_fd(int fd, uint64_t max, uint8_t ret[static MEASURE_SHA256_LEN])
{
    _cleanup_(EVP_MD_freep) EVP_MD *md = NULL;
    _cleanup_(EVP_MD_CTX_freep) EVP_MD_CTX *ctx = NULL;
    _cleanup_free_ uint8_t *buf = NULL;
    uint8_t out[EVP_MAX_MD_SIZE];
    unsigned outlen = 0;
    uint64_t total = 0;

    md = EVP_MD_fetch(NULL, "SHA256", NULL);
    if (!md)
        return -ENOTRECOVERABLE;
    ctx = EVP_MD_CTX_new();
    buf = malloc(HASH_CHUNK);
    if (!ctx || !buf)
        return -ENOMEM;
    if (!EVP_DigestInit_ex(ctx, md, NULL))
        return -ENOTRECOVERABLE;
    for (;;) {
        ssize_t n = read(fd, buf, HASH_CHUNK);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return negative_errno();
        }
        if (n == 0)
            break;
        total += (uint64_t)n;
        if (total > max)
            return -EFBIG;
        if (!EVP_DigestUpdate(ctx, buf, (size_t)n))
            return -ENOTRECOVERABLE;
    }
    if (!EVP_DigestFinal_ex(ctx, out, &outlen) || outlen != MEASURE_SHA256_LEN)
        return -ENOTRECOVERABLE;
    memcpy(ret, out, MEASURE_SHA256_LEN);
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
        return copy_str(out, MEASURE_CONTAINER_ID + 1, c, len);
    for (size_t i = 0; i < ELEMENTSOF(prefixes); i++) {
        size_t pl = strlen(prefixes[i]);

        if (len == pl + MEASURE_CONTAINER_ID + strlen(scope) && memcmp(c, prefixes[i], pl) == 0 &&
            ends_with(c, len, scope) && all_hex_lower(c + pl, MEASURE_CONTAINER_ID))
            return copy_str(out, MEASURE_CONTAINER_ID + 1, c + pl, MEASURE_CONTAINER_ID);
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
                (void)copy_str(cg->unit, sizeof(cg->unit), path + start, clen);
            else
                (void)copy_str(cg->nested_unit, sizeof(cg->nested_unit), path + start, clen);
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
            (void)copy_str(cg.path, sizeof(cg.path), p, plen);
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
    r = read_text(path, ID_FILE_MAX, false, &text, &len, &truncated);
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
    (void)copy_str(h->machine_id_sha256, sizeof(h->machine_id_sha256), hex, strlen(hex));
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
        r = read_text(path, MEASURE_MAX_OS_RELEASE, false, &text, &len, &truncated);
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
        (void)copy_str(h->kernel, sizeof(h->kernel), u.release,
                       strnlen(u.release, sizeof(u.release)));
        (void)copy_str(h->arch, sizeof(h->arch), u.machine, strnlen(u.machine, sizeof(u.machine)));
    }
    r = host_os_release(root, h);
    if (r < 0)
        return r;
    r = read_id_file(root, "/proc/sys/kernel/random/boot_id", &boot, &len);
    if (r == -ENOMEM)
        return r;
    if (r >= 0 && boot_id_valid(boot, len))
        (void)copy_str(h->boot_id, sizeof(h->boot_id), boot, len);
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

/* ------------------------------------------------------------------------------------------ */
/* peer */

struct env_var {
    char *name;
    char *value; /* NULL: withheld (secret-looking name) */
};

struct measure_peer {
    uid_t uid;
    gid_t gid;
    pid_t pid;
    char *exe_path;
    uint8_t exe_sha256[MEASURE_SHA256_LEN];
    char *cmdline;     /* NUL-separated arguments, owned */
    const char **argv; /* pointers into cmdline */
    size_t argc;
    bool argv_truncated;
    char *cwd; /* NULL when not readable */
    bool have_cgroup;
    struct measure_cgroup cgroup;
    bool env_observable;
    int env_error; /* errno when not observable */
    bool env_truncated;
    struct env_var *env;
    size_t n_env;
};

struct measure_peer *measure_peer_free(struct measure_peer *m)
{
    if (!m)
        return NULL;
    free(m->exe_path);
    free(m->cmdline);
    free(m->argv);
    free(m->cwd);
    for (size_t i = 0; i < m->n_env; i++) {
        free(m->env[i].name);
        if (m->env[i].value)
            wipe_free(m->env[i].value, strlen(m->env[i].value));
    }
    free(m->env);
    free(m);
    return NULL;
}

const char *measure_peer_exe_path(const struct measure_peer *m)
{
    return m ? m->exe_path : NULL;
}

const uint8_t *measure_peer_exe_sha256(const struct measure_peer *m)
{
    return m ? m->exe_sha256 : NULL;
}

const struct measure_cgroup *measure_peer_cgroup(const struct measure_peer *m)
{
    return m && m->have_cgroup ? &m->cgroup : NULL;
}

static bool env_pattern_valid(const char *pat)
{
    size_t len;

    if (!pat)
        return false;
    len = strnlen(pat, MEASURE_MAX_ENV_NAME + 1);
    if (len == 0 || len > MEASURE_MAX_ENV_NAME)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = pat[i];
        if (c <= ' ' || c > '~' || c == '=')
            return false;
        if (c == '*' && i != len - 1)
            return false;
    }
    return !streq(pat, "*");
}

static bool env_allowed(const char *name, size_t len, const char *const *allow, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        size_t pl = strlen(allow[i]);

        if (allow[i][pl - 1] == '*') {
            if (len >= pl - 1 && memcmp(name, allow[i], pl - 1) == 0)
                return true;
        } else if (len == pl && memcmp(name, allow[i], pl) == 0) {
            return true;
        }
    }
    return false;
}

/* Whether the name contains, ignoring ASCII case, a word that marks secrets. */
static bool env_name_secret(const char *name, size_t len)
{
    static const char *const words[] = {"TOKEN",      "SECRET",  "PASSWORD",   "PASSWD",
                                        "PASSPHRASE", "KEY",     "CREDENTIAL", "AUTH",
                                        "COOKIE",     "SESSION", "PRIVATE"};

    for (size_t w = 0; w < ELEMENTSOF(words); w++) {
        size_t wl = strlen(words[w]);

        for (size_t i = 0; i + wl <= len; i++) {
            size_t k = 0;
            while (k < wl && ascii_upper(name[i + k]) == words[w][k])
                k++;
            if (k == wl)
                return true;
        }
    }
    return false;
}

static int env_cmp(const void *a, const void *b)
{
    const struct env_var *x = a, *y = b;
    return strcmp(x->name, y->name);
}

/* Filter environ text (NUL-separated NAME=VALUE entries) into m->env. */
static int env_filter(struct measure_peer *m, const char *text, size_t len, bool truncated,
                      const char *const *allow, size_t n_allow)
{
    size_t pos = 0;

    m->env = calloc(MEASURE_MAX_ENV_VARS, sizeof(*m->env));
    if (!m->env)
        return -ENOMEM;
    m->env_truncated = truncated;
    while (pos < len) {
        size_t end = pos, nlen = 0, vlen;
        const char *entry = text + pos, *eq;
        bool dup = false, printable = true, secret;
        struct env_var *v;

        while (end < len && text[end] != '\0')
            end++;
        /* An entry cut by the read limit is incomplete: leave it out. */
        if (end == len && truncated)
            break;
        pos = end + 1;
        eq = memchr(entry, '=', (size_t)(text + end - entry));
        if (!eq || eq == entry)
            continue;
        nlen = (size_t)(eq - entry);
        vlen = (size_t)(text + end - eq - 1);
        if (!env_allowed(entry, nlen, allow, n_allow))
            continue;
        for (size_t i = 0; i < nlen && printable; i++)
            printable = entry[i] > ' ' && entry[i] <= '~';
        for (size_t i = 0; i < m->n_env && !dup; i++)
            dup = strlen(m->env[i].name) == nlen && memcmp(m->env[i].name, entry, nlen) == 0;
        if (dup)
            continue; /* getenv() returns the first */
        if (!printable || nlen > MEASURE_MAX_ENV_NAME || m->n_env == MEASURE_MAX_ENV_VARS) {
            m->env_truncated = true;
            continue;
        }
        secret = env_name_secret(entry, nlen);
        if (!secret && vlen > MEASURE_MAX_ENV_VALUE) {
            m->env_truncated = true;
            continue;
        }
        v = &m->env[m->n_env];
        v->name = strndup(entry, nlen);
        if (!v->name)
            return -ENOMEM;
        m->n_env++; /* counted from here, so measure_peer_free releases it */
        if (!secret) {
            v->value = strndup(eq + 1, vlen);
            if (!v->value)
                return -ENOMEM;
        }
    }
    qsort(m->env, m->n_env, sizeof(*m->env), env_cmp);
    return 0;
}

/* Split cmdline text (NUL-separated) into argv, keeping only complete arguments. */
static int cmdline_split(struct measure_peer *m, char *text, size_t len, bool truncated)
{
    size_t pos = 0;

    m->cmdline = text;
    m->argv_truncated = truncated;
    m->argv = calloc(MEASURE_MAX_ARGS, sizeof(*m->argv));
    if (!m->argv)
        return -ENOMEM;
    while (pos < len) {
        size_t end = pos;

        while (end < len && text[end] != '\0')
            end++;
        if (end == len && truncated)
            break; /* cut by the limit */
        if (m->argc == MEASURE_MAX_ARGS) {
            m->argv_truncated = true;
            break;
        }
        m->argv[m->argc++] = text + pos; /* NUL-terminated: by the kernel or read_text */
        pos = end + 1;
    }
    return 0;
}

struct proc_stat {
    char state;
    uint64_t starttime;
};

static int parse_stat(const char *text, size_t len, struct proc_stat *ret)
{
    struct proc_stat st = {};
    size_t pos = len;

    /* comm (field 2) may hold spaces and parentheses: the fields resume after the last ')'. */
    while (pos > 0 && text[pos - 1] != ')')
        pos--;
    if (pos == 0)
        return -EINVAL;
    for (int field = 3; field <= STAT_FIELD_STARTTIME; field++) {
        size_t start;

        if (pos >= len || text[pos] != ' ')
            return -EINVAL;
        start = ++pos;
        while (pos < len && text[pos] != ' ' && text[pos] != '\n')
            pos++;
        if (pos == start)
            return -EINVAL;
        if (field == 3) {
            if (pos - start != 1)
                return -EINVAL;
            st.state = text[start];
        } else if (field == STAT_FIELD_STARTTIME) {
            char num[STAT_FIELD_MAX];
            int r;

            if (!copy_str(num, sizeof(num), text + start, pos - start))
                return -EINVAL;
            r = parse_u64(num, UINT64_MAX, &st.starttime);
            if (r < 0)
                return r;
        }
    }
    *ret = st;
    return 0;
}

static int read_stat(const char *root, pid_t pid, struct proc_stat *ret)
{
    _cleanup_free_ char *text = NULL;
    char path[PATH_MAX];
    size_t len;
    bool truncated;
    int r;

    r = proc_path(path, sizeof(path), root, pid, "stat");
    if (r < 0)
        return r;
    r = read_text(path, STAT_MAX, false, &text, &len, &truncated);
    if (r < 0)
        return r;
    if (truncated)
        return -EINVAL;
    return parse_stat(text, len, ret);
}

/*
 * Whether the process exists: 1 yes, 0 gone, or -errno. EPERM counts as existing: the kernel
 * looks the process up before it checks permission.
 */
static int process_exists(pid_t pid, int pidfd)
{
    long r;

    if (pidfd >= 0)
        r = syscall(SYS_pidfd_send_signal, pidfd, 0, NULL, 0);
    else
        r = kill(pid, 0);
    if (r == 0 || errno == EPERM)
        return 1;
    if (errno == ESRCH)
        return 0;
    return negative_errno();
}

static bool gone_errno(int r)
{
    return r == -ENOENT || r == -ESRCH;
}

static bool state_dead(char state)
{
    return state == 'Z' || state == 'X' || state == 'x';
}

/* A /proc read failed with ENOENT/ESRCH: -ESRCH if the process is gone, else -EACCES (hidden). */
static int missing_proc_entry(pid_t pid, int pidfd)
{
    int r = process_exists(pid, pidfd);
    if (r < 0)
        return r;
    return r == 0 ? -ESRCH : -EACCES;
}

/* With a pidfd: the pid the kernel holds for it must be ours (fdinfo "Pid:", Linux >= 5.10). */
static int pidfd_check_pid(pid_t pid, int pidfd)
{
    _cleanup_free_ char *text = NULL;
    char path[64], num[STAT_FIELD_MAX];
    const char *line;
    size_t len, vlen;
    bool truncated;
    uint64_t v;
    int r;

    r = snprintf(path, sizeof(path), DEFAULT_PROC "/self/fdinfo/%d", pidfd);
    if (r < 0 || (size_t)r >= sizeof(path))
        return -EINVAL;
    r = read_text(path, FDINFO_MAX, false, &text, &len, &truncated);
    if (r < 0)
        return r == -ENOENT ? -EBADF : r;
    line = strstr(text, "\nPid:\t");
    if (!line)
        return 0; /* old kernel: nothing to compare */
    line += strlen("\nPid:\t");
    vlen = strcspn(line, "\n");
    if (vlen == 2 && memcmp(line, "-1", 2) == 0)
        return -ESRCH; /* the process has exited */
    if (!copy_str(num, sizeof(num), line, vlen) || parse_u64(num, INT_MAX, &v) < 0)
        return -EINVAL;
    return (pid_t)v == pid ? 0 : -EINVAL;
}

static int read_link(const char *path, char **ret)
{
    char buf[MEASURE_MAX_PATH + 1];
    ssize_t n;
    char *s;

    n = readlink(path, buf, sizeof(buf));
    if (n < 0)
        return negative_errno();
    if ((size_t)n >= sizeof(buf))
        return -ENAMETOOLONG;
    s = strndup(buf, (size_t)n);
    if (!s)
        return -ENOMEM;
    *ret = s;
    return 0;
}

/* The executable: open once, hash that fd, note its identity for the final check. */
static int peer_exe(const char *root, const struct peer *p, struct measure_peer *m,
                    struct stat *ret_st)
{
    _cleanup_close_ int fd = -EBADF;
    char path[PATH_MAX];
    struct stat st;
    int r;

    r = proc_path(path, sizeof(path), root, p->pid, "exe");
    if (r < 0)
        return r;
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        r = negative_errno();
        if (r == -EPERM)
            return -EACCES;
        if (gone_errno(r)) {
            /* A zombie or a kernel thread has no exe; a gone process has no directory. */
            struct proc_stat ps;
            int s = read_stat(root, p->pid, &ps);
            if (gone_errno(s))
                return missing_proc_entry(p->pid, p->pidfd);
            if (s == 0 && state_dead(ps.state))
                return -ESRCH;
        }
        return r;
    }
    if (fstat(fd, &st) < 0)
        return negative_errno();
    if (!S_ISREG(st.st_mode))
        return -EINVAL;
    if ((uint64_t)st.st_size > MEASURE_MAX_EXE_SIZE)
        return -EFBIG;
    r = read_link(path, &m->exe_path);
    if (r < 0)
        return gone_errno(r) ? -ESRCH : r;
    r = hash_fd(fd, MEASURE_MAX_EXE_SIZE, m->exe_sha256);
    if (r < 0)
        return r;
    *ret_st = st;
    return 0;
}

static int peer_cmdline(const char *root, pid_t pid, struct measure_peer *m)
{
    char path[PATH_MAX];
    char *text = NULL;
    size_t len;
    bool truncated;
    int r;

    r = proc_path(path, sizeof(path), root, pid, "cmdline");
    if (r < 0)
        return r;
    r = read_text(path, MEASURE_MAX_CMDLINE, false, &text, &len, &truncated);
    if (r < 0)
        return gone_errno(r) ? -ESRCH : r;
    return cmdline_split(m, text, len, truncated); /* takes text */
}

static int peer_cgroup(const char *root, pid_t pid, struct measure_peer *m)
{
    _cleanup_free_ char *text = NULL;
    char path[PATH_MAX];
    size_t len;
    bool truncated;
    int r;

    r = proc_path(path, sizeof(path), root, pid, "cgroup");
    if (r < 0)
        return r;
    r = read_text(path, MEASURE_MAX_CGROUP_FILE, false, &text, &len, &truncated);
    if (r == -ENOMEM)
        return r;
    if (r < 0)
        return 0; /* best effort */
    m->have_cgroup = measure_parse_cgroup(text, len, &m->cgroup) == 0;
    return 0;
}

static int peer_cwd(const char *root, pid_t pid, struct measure_peer *m)
{
    char path[PATH_MAX];
    int r;

    r = proc_path(path, sizeof(path), root, pid, "cwd");
    if (r < 0)
        return r;
    r = read_link(path, &m->cwd);
    return r == -ENOMEM ? r : 0; /* best effort */
}

static int peer_environ(const char *root, pid_t pid, const char *const *allow, size_t n_allow,
                        struct measure_peer *m)
{
    char path[PATH_MAX];
    char *text = NULL;
    size_t len = 0;
    bool truncated;
    int r;

    r = proc_path(path, sizeof(path), root, pid, "environ");
    if (r < 0)
        return r;
    r = read_text(path, MEASURE_MAX_ENVIRON, true, &text, &len, &truncated);
    if (r == -ENOMEM)
        return r;
    if (r < 0) {
        m->env_observable = false;
        m->env_error = -r;
        return 0;
    }
    m->env_observable = true;
    r = env_filter(m, text, len, truncated, allow, n_allow);
    wipe_free(text, len);
    return r;
}

/* The facts read belong to the process that connected: see measure_peer_read in the header. */
static int peer_verify(const char *root, const struct peer *p, const struct proc_stat *before,
                       const struct stat *exe_st)
{
    char path[PATH_MAX];
    struct proc_stat after;
    struct stat st;
    int r;

    r = read_stat(root, p->pid, &after);
    if (r < 0)
        return gone_errno(r) ? -ESRCH : r;
    if (state_dead(after.state) || after.starttime != before->starttime)
        return -ESRCH;
    r = proc_path(path, sizeof(path), root, p->pid, "exe");
    if (r < 0)
        return r;
    if (stat(path, &st) < 0) {
        r = negative_errno();
        return gone_errno(r) ? -ESRCH : r;
    }
    if (st.st_dev != exe_st->st_dev || st.st_ino != exe_st->st_ino)
        return -ESRCH; /* exec'd another file meanwhile */
    if (p->pidfd >= 0) {
        r = process_exists(p->pid, p->pidfd);
        if (r < 0)
            return r;
        if (r == 0)
            return -ESRCH;
    }
    return 0;
}

int measure_peer_read_at(const char *proc_root, const struct peer *p, const char *const *env_allow,
                         size_t n_env_allow, struct measure_peer **ret)
{
    _cleanup_(measure_peer_freep) struct measure_peer *m = NULL;
    struct proc_stat before;
    struct stat exe_st;
    int r;

    if (!proc_root || !p || p->pid <= 0 || !ret || (n_env_allow > 0 && !env_allow))
        return -EINVAL;
    if (n_env_allow > MEASURE_MAX_ENV_ALLOW)
        return -EMSGSIZE;
    for (size_t i = 0; i < n_env_allow; i++)
        if (!env_pattern_valid(env_allow[i]))
            return -EINVAL;

    m = calloc(1, sizeof(*m));
    if (!m)
        return -ENOMEM;
    m->uid = p->uid;
    m->gid = p->gid;
    m->pid = p->pid;

    if (p->pidfd >= 0) {
        r = pidfd_check_pid(p->pid, p->pidfd);
        if (r < 0)
            return r;
    }
    r = read_stat(proc_root, p->pid, &before);
    if (gone_errno(r))
        return missing_proc_entry(p->pid, p->pidfd);
    if (r < 0)
        return r;
    if (state_dead(before.state))
        return -ESRCH;

    r = peer_exe(proc_root, p, m, &exe_st);
    if (r < 0)
        return r;
    r = peer_cmdline(proc_root, p->pid, m);
    if (r < 0)
        return r;
    r = peer_cgroup(proc_root, p->pid, m);
    if (r < 0)
        return r;
    r = peer_cwd(proc_root, p->pid, m);
    if (r < 0)
        return r;
    r = peer_environ(proc_root, p->pid, env_allow, n_env_allow, m);
    if (r < 0)
        return r;

    if (measure_test_hook)
        measure_test_hook(MEASURE_TEST_PEER_BEFORE_VERIFY, p->pid, NULL);
    r = peer_verify(proc_root, p, &before, &exe_st);
    if (r < 0)
        return r;
    *ret = TAKE_PTR(m);
    return 0;
}

int measure_peer_read(const struct peer *p, const char *const *env_allow, size_t n_env_allow,
                      struct measure_peer **ret)
{
    return measure_peer_read_at(DEFAULT_PROC, p, env_allow, n_env_allow, ret);
}

/* ------------------------------------------------------------------------------------------ */
/* toolchain */

enum tc_status {
    TC_UNMEASURED = 0,
    TC_OK,
    TC_MISSING,
    TC_ERROR,
};

struct tc_key {
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtim;
    struct timespec ctim;
};

struct tc_entry {
    char *path;
    char *realpath; /* NULL when not resolved */
    enum tc_status status;
    int error; /* errno for TC_ERROR */
    struct tc_key key;
    uint8_t sha256[MEASURE_SHA256_LEN];
};

struct measure_toolchain {
    struct tc_entry *e;
    size_t n;
    uint64_t hashed;
};

struct measure_toolchain *measure_toolchain_free(struct measure_toolchain *tc)
{
    if (!tc)
        return NULL;
    for (size_t i = 0; i < tc->n; i++) {
        free(tc->e[i].path);
        free(tc->e[i].realpath);
    }
    free(tc->e);
    free(tc);
    return NULL;
}

int measure_toolchain_new(const char *const *paths, size_t n, struct measure_toolchain **ret)
{
    _cleanup_(measure_toolchain_freep) struct measure_toolchain *tc = NULL;

    if (!ret || (n > 0 && !paths))
        return -EINVAL;
    if (n > MEASURE_MAX_TOOLCHAIN)
        return -EMSGSIZE;
    for (size_t i = 0; i < n; i++) {
        if (!paths[i] || paths[i][0] != '/')
            return -EINVAL;
        if (strnlen(paths[i], MEASURE_MAX_PATH) >= MEASURE_MAX_PATH)
            return -EMSGSIZE;
    }
    tc = calloc(1, sizeof(*tc));
    if (!tc)
        return -ENOMEM;
    tc->e = calloc(n ? n : 1, sizeof(*tc->e));
    if (!tc->e)
        return -ENOMEM;
    for (; tc->n < n; tc->n++) {
        tc->e[tc->n].path = strdup(paths[tc->n]);
        if (!tc->e[tc->n].path)
            return -ENOMEM;
    }
    *ret = TAKE_PTR(tc);
    return 0;
}

uint64_t measure_toolchain_hash_count(const struct measure_toolchain *tc)
{
    return tc ? tc->hashed : 0;
}

static void tc_key_from(const struct stat *st, struct tc_key *k)
{
    *k = (struct tc_key){
            .dev = st->st_dev,
            .ino = st->st_ino,
            .size = st->st_size,
            .mtim = st->st_mtim,
            .ctim = st->st_ctim,
    };
}

static bool tc_key_eq(const struct tc_key *a, const struct tc_key *b)
{
    return a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
           a->mtim.tv_sec == b->mtim.tv_sec && a->mtim.tv_nsec == b->mtim.tv_nsec &&
           a->ctim.tv_sec == b->ctim.tv_sec && a->ctim.tv_nsec == b->ctim.tv_nsec;
}

static void tc_fail(struct tc_entry *e, int err)
{
    e->status = err == ENOENT || err == ENOTDIR ? TC_MISSING : TC_ERROR;
    e->error = err;
    memset(e->sha256, 0, sizeof(e->sha256));
}

static int tc_update_entry(struct measure_toolchain *tc, struct tc_entry *e)
{
    _cleanup_free_ char *rp = NULL;
    _cleanup_close_ int fd = -EBADF;
    uint8_t digest[MEASURE_SHA256_LEN];
    struct stat st;
    struct tc_key key, after;
    int r;

    rp = realpath(e->path, NULL);
    if (!rp) {
        if (errno == ENOMEM)
            return -ENOMEM;
        free(e->realpath);
        e->realpath = NULL;
        tc_fail(e, errno);
        return 0;
    }
    free(e->realpath);
    e->realpath = TAKE_PTR(rp);
    /* O_NONBLOCK: a FIFO put in the compiler's place must not hang the agent. */
    fd = open(e->realpath, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0 || fstat(fd, &st) < 0) {
        tc_fail(e, errno);
        return 0;
    }
    if (!S_ISREG(st.st_mode)) {
        tc_fail(e, S_ISDIR(st.st_mode) ? EISDIR : EINVAL);
        return 0;
    }
    if ((uint64_t)st.st_size > MEASURE_MAX_TOOL_SIZE) {
        tc_fail(e, EFBIG);
        return 0;
    }
    tc_key_from(&st, &key);
    if (e->status == TC_OK && tc_key_eq(&key, &e->key))
        return 0;
    tc->hashed++;
    r = hash_fd(fd, MEASURE_MAX_TOOL_SIZE, digest);
    if (r == -ENOMEM)
        return r;
    if (r < 0) {
        tc_fail(e, -r);
        return 0;
    }
    if (measure_test_hook)
        measure_test_hook(MEASURE_TEST_TOOL_HASHED, 0, e->realpath);
    if (fstat(fd, &st) < 0) {
        tc_fail(e, errno);
        return 0;
    }
    tc_key_from(&st, &after);
    if (!tc_key_eq(&key, &after)) {
        tc_fail(e, EAGAIN); /* written to while we read it: try again next time */
        return 0;
    }
    e->key = key;
    memcpy(e->sha256, digest, sizeof(digest));
    e->status = TC_OK;
    e->error = 0;
    return 0;
}

int measure_toolchain_update(struct measure_toolchain *tc)
{
    if (!tc)
        return -EINVAL;
    for (size_t i = 0; i < tc->n; i++) {
        int r = tc_update_entry(tc, &tc->e[i]);
        if (r < 0)
            return r;
    }
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* rendering */

static int add_null(struct json_object *obj, const char *key)
{
    return json_object_object_add(obj, key, NULL) < 0 ? -ENOMEM : 0;
}

/* Text as a JSON string when it is UTF-8, else as {"base64": ...}: never lossy. */
static struct json_object *json_text(const char *s, size_t len)
{
    _cleanup_(fjson_putp) struct json_object *o = NULL;
    _cleanup_free_ char *b64 = NULL;

    if (len > INT_MAX)
        return NULL;
    if (utf8_valid(s, len))
        return json_object_new_string_len(s, (int)len);
    if (base64_encode((const uint8_t *)s, len, &b64) < 0)
        return NULL;
    o = json_object_new_object();
    if (!o || fjson_add_string(o, "base64", b64, strlen(b64)) < 0)
        return NULL;
    return TAKE_PTR(o);
}

static int add_text(struct json_object *obj, const char *key, const char *s)
{
    return fjson_add(obj, key, json_text(s, strlen(s)));
}

/* Empty or NULL means unknown: null. */
static int add_opt_text(struct json_object *obj, const char *key, const char *s)
{
    return s && s[0] ? add_text(obj, key, s) : add_null(obj, key);
}

static int add_sha256(struct json_object *obj, const char *key, const uint8_t d[static 32])
{
    _cleanup_free_ char *hex = NULL;
    int r = hex_encode(d, MEASURE_SHA256_LEN, &hex);
    if (r < 0)
        return r;
    return fjson_add_string(obj, key, hex, strlen(hex));
}

static int add_int(struct json_object *obj, const char *key, int64_t v)
{
    return fjson_add(obj, key, json_object_new_int64(v));
}

static int add_bool(struct json_object *obj, const char *key, bool v)
{
    return fjson_add(obj, key, json_object_new_boolean(v));
}

static int add_errno(struct json_object *obj, const char *key, int err)
{
    char name[ERRNO_NAME_MAX];

    errno_name(err, name);
    return fjson_add_string(obj, key, name, strlen(name));
}

static int render_environment(const struct measure_peer *m, struct json_object **ret)
{
    _cleanup_(fjson_putp) struct json_object *o = json_object_new_object();
    _cleanup_(fjson_putp) struct json_object *vars = NULL;
    int r;

    if (!o)
        return -ENOMEM;
    r = add_bool(o, "observable", m->env_observable);
    if (r < 0)
        return r;
    if (!m->env_observable) {
        r = add_errno(o, "error", m->env_error);
        if (r < 0)
            return r;
        *ret = TAKE_PTR(o);
        return 0;
    }
    r = add_bool(o, "truncated", m->env_truncated);
    if (r < 0)
        return r;
    vars = json_object_new_object();
    if (!vars)
        return -ENOMEM;
    for (size_t i = 0; i < m->n_env; i++) {
        const struct env_var *v = &m->env[i];
        r = v->value ? add_text(vars, v->name, v->value) : add_null(vars, v->name);
        if (r < 0)
            return r;
    }
    r = fjson_add(o, "variables", TAKE_PTR(vars));
    if (r < 0)
        return r;
    *ret = TAKE_PTR(o);
    return 0;
}

static int render_peer(const struct measure_peer *m, struct json_object **ret)
{
    _cleanup_(fjson_putp) struct json_object *o = json_object_new_object();
    _cleanup_(fjson_putp) struct json_object *exe = json_object_new_object();
    _cleanup_(fjson_putp) struct json_object *argv = json_object_new_array();
    _cleanup_(fjson_putp) struct json_object *env = NULL;
    const struct measure_cgroup *cg = m->have_cgroup ? &m->cgroup : NULL;
    int r;

    if (!o || !exe || !argv)
        return -ENOMEM;
    r = add_int(o, "uid", (int64_t)m->uid);
    if (r >= 0)
        r = add_int(o, "gid", (int64_t)m->gid);
    if (r >= 0)
        r = add_int(o, "pid", (int64_t)m->pid);
    if (r >= 0)
        r = add_text(exe, "path", m->exe_path ? m->exe_path : "");
    if (r >= 0)
        r = add_sha256(exe, "sha256", m->exe_sha256);
    if (r >= 0)
        r = fjson_add(o, "exe", TAKE_PTR(exe));
    for (size_t i = 0; r >= 0 && i < m->argc; i++)
        r = fjson_append(argv, json_text(m->argv[i], strlen(m->argv[i])));
    if (r >= 0)
        r = fjson_add(o, "cmdline", TAKE_PTR(argv));
    if (r >= 0)
        r = add_bool(o, "cmdline_truncated", m->argv_truncated);
    if (r >= 0)
        r = add_opt_text(o, "cwd", m->cwd);
    if (r >= 0)
        r = add_opt_text(o, "cgroup", cg ? cg->path : NULL);
    if (r >= 0)
        r = add_opt_text(o, "unit", cg ? cg->unit : NULL);
    if (r >= 0)
        r = add_opt_text(o, "nested_unit", cg ? cg->nested_unit : NULL);
    if (r >= 0)
        r = add_opt_text(o, "container", cg ? cg->container : NULL);
    if (r >= 0)
        r = render_environment(m, &env);
    if (r >= 0)
        r = fjson_add(o, "environment", TAKE_PTR(env));
    if (r < 0)
        return r;
    *ret = TAKE_PTR(o);
    return 0;
}

static int render_host(const struct measure_host *h, struct json_object **ret)
{
    _cleanup_(fjson_putp) struct json_object *o = json_object_new_object();
    _cleanup_(fjson_putp) struct json_object *os = json_object_new_object();
    int r;

    if (!o || !os)
        return -ENOMEM;
    r = add_opt_text(o, "kernel", h->kernel);
    if (r >= 0)
        r = add_opt_text(o, "arch", h->arch);
    if (r >= 0)
        r = add_opt_text(os, "id", h->os.id);
    if (r >= 0)
        r = add_opt_text(os, "version_id", h->os.version_id);
    if (r >= 0)
        r = add_opt_text(os, "pretty_name", h->os.pretty_name);
    if (r >= 0)
        r = fjson_add(o, "os", TAKE_PTR(os));
    if (r >= 0)
        r = add_opt_text(o, "boot_id", h->boot_id);
    if (r >= 0)
        r = add_opt_text(o, "machine_id_sha256", h->machine_id_sha256);
    if (r < 0)
        return r;
    *ret = TAKE_PTR(o);
    return 0;
}

static const char *tc_status_name(enum tc_status s)
{
    switch (s) {
    case TC_OK:
        return "ok";
    case TC_MISSING:
        return "missing";
    case TC_ERROR:
        return "error";
    case TC_UNMEASURED:
        break;
    }
    return "unmeasured";
}

static int render_tool(const struct tc_entry *e, struct json_object **ret)
{
    _cleanup_(fjson_putp) struct json_object *o = json_object_new_object();
    const char *status = tc_status_name(e->status);
    int r;

    if (!o)
        return -ENOMEM;
    r = add_text(o, "path", e->path);
    if (r >= 0)
        r = fjson_add_string(o, "status", status, strlen(status));
    if (r >= 0)
        r = add_opt_text(o, "realpath", e->realpath);
    if (r >= 0)
        r = e->status == TC_OK ? add_sha256(o, "sha256", e->sha256) : add_null(o, "sha256");
    if (r >= 0)
        r = e->status == TC_ERROR ? add_errno(o, "error", e->error) : add_null(o, "error");
    if (r < 0)
        return r;
    *ret = TAKE_PTR(o);
    return 0;
}

int measure_render_json(const struct measure_host *host, const struct measure_peer *peer,
                        const struct measure_toolchain *tc, char **ret, size_t *ret_len)
{
    _cleanup_(fjson_putp) struct json_object *root = NULL, *sub = NULL, *tools = NULL;
    _cleanup_free_ char *text = NULL;
    size_t len;
    int r;

    if (!host || !ret)
        return -EINVAL;
    root = json_object_new_object();
    tools = json_object_new_array();
    if (!root || !tools)
        return -ENOMEM;
    r = fjson_add_string(root, "observer", MEASURE_OBSERVER, strlen(MEASURE_OBSERVER));
    if (r < 0)
        return r;
    if (peer) {
        r = render_peer(peer, &sub);
        if (r >= 0)
            r = fjson_add(root, "peer", TAKE_PTR(sub));
    } else {
        r = add_null(root, "peer");
    }
    if (r < 0)
        return r;
    r = render_host(host, &sub);
    if (r >= 0)
        r = fjson_add(root, "host", TAKE_PTR(sub));
    for (size_t i = 0; r >= 0 && tc && i < tc->n; i++) {
        r = render_tool(&tc->e[i], &sub);
        if (r >= 0)
            r = fjson_append(tools, TAKE_PTR(sub));
    }
    if (r >= 0)
        r = fjson_add(root, "toolchain", TAKE_PTR(tools));
    if (r < 0)
        return r;
    r = fjson_serialize(root, &text, &len);
    if (r < 0)
        return r;
    if (len > MEASURE_MAX_JSON)
        return -EMSGSIZE;
    *ret = TAKE_PTR(text);
    if (ret_len)
        *ret_len = len;
    return 0;
}
