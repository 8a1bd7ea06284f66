/* SPDX-License-Identifier: Apache-2.0 */
#include "keystore.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "crypto.h"
#include "fd-util.h"
#include "format.h"
#include "macro.h"
#include "parse.h"

#define KEYSTORE_SUFFIX   ".key"
#define KEYSTORE_PATH_MAX 4096u

struct keystore {
    char dir[KEYSTORE_PATH_MAX];
    struct key_record *v;
    size_t n;
};

static int record_path(const struct keystore *ks, const char *name, char *buf, size_t len)
{
    int n = snprintf(buf, len, "%s/%s" KEYSTORE_SUFFIX, ks->dir, name);
    return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

static int set_field(struct key_record *r, const char *k, const char *v)
{
    size_t n = strlen(v);

    if (streq(k, "name") || streq(k, "backend") || streq(k, "kind")) {
        char *dst = streq(k, "name") ? r->name : streq(k, "backend") ? r->backend : r->kind;
        if (!name_is_valid(v))
            return -EINVAL;
        memcpy(dst, v, n + 1);
        return 0;
    }
    if (streq(k, "alg")) {
        r->alg = alg_from_name(v);
        return r->alg == HWSIGN_ALG_UNKNOWN ? -EINVAL : 0;
    }
    if (streq(k, "locator")) {
        if (n == 0 || n > HWSIGN_MAX_URI)
            return -EINVAL;
        memcpy(r->locator, v, n + 1);
        return 0;
    }
    if (streq(k, "created"))
        return parse_u64(v, UINT64_MAX, &r->created);
    if (streq(k, "spki")) {
        _cleanup_free_ uint8_t *der = NULL;
        size_t len;
        int e = base64_decode(v, n, &der, &len);
        if (e < 0)
            return e;
        if (len == 0 || len > sizeof(r->spki))
            return -EINVAL;
        memcpy(r->spki, der, len);
        r->spki_len = len;
        return 0;
    }
    return -EINVAL;
}

int key_record_parse(const char *text, size_t len, struct key_record *ret)
{
    struct key_record r = {0};
    size_t pos = 0;
    enum hwsign_alg spki_alg_v;

    if (len > KEYSTORE_MAX_FILE || memchr(text, '\0', len))
        return -EINVAL;
    while (pos < len) {
        char line[HWSIGN_MAX_SPKI * 2 + 64], *eq;
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - (text + pos)) : len - pos;
        int e;

        if (n >= sizeof(line))
            return -EINVAL;
        memcpy(line, text + pos, n);
        line[n] = '\0';
        pos += n + (nl ? 1 : 0);
        if (line[0] == '\0' || line[0] == '#')
            continue;
        eq = strchr(line, '=');
        if (!eq)
            return -EINVAL;
        *eq = '\0';
        e = set_field(&r, line, eq + 1);
        if (e < 0)
            return e;
    }
    if (!r.name[0] || !r.backend[0] || !r.kind[0] || r.alg == HWSIGN_ALG_UNKNOWN || !r.locator[0] ||
        r.spki_len == 0)
        return -EINVAL;
    /* The cached key must be what the record claims: it is the verification anchor. */
    if (spki_alg(r.spki, r.spki_len, &spki_alg_v) < 0 || spki_alg_v != r.alg)
        return -EINVAL;
    *ret = r;
    return 0;
}

int key_record_format(const struct key_record *rec, char **ret_text, size_t *ret_len)
{
    _cleanup_free_ char *b64 = NULL;
    char *text;
    int n, r;
    size_t cap;

    r = base64_encode(rec->spki, rec->spki_len, &b64);
    if (r < 0)
        return r;
    cap = strlen(b64) + strlen(rec->locator) + 512;
    text = malloc(cap);
    if (!text)
        return -ENOMEM;
    n = snprintf(text, cap,
                 "# hwsign key record: do not edit while the agent runs\n"
                 "name=%s\nbackend=%s\nkind=%s\nalg=%s\nlocator=%s\ncreated=%llu\nspki=%s\n",
                 rec->name, rec->backend, rec->kind, alg_name(rec->alg), rec->locator,
                 (unsigned long long)rec->created, b64);
    if (n < 0 || (size_t)n >= cap) {
        free(text);
        return -EMSGSIZE;
    }
    *ret_text = text;
    *ret_len = (size_t)n;
    return 0;
}

static int load_one(struct keystore *ks, const char *fname, struct key_record *ret)
{
    char path[KEYSTORE_PATH_MAX], name[HWSIGN_MAX_NAME + 1];
    _cleanup_free_ uint8_t *data = NULL;
    size_t len, flen = strlen(fname), slen = strlen(KEYSTORE_SUFFIX);
    int r;

    if (flen <= slen || flen - slen > HWSIGN_MAX_NAME)
        return -EINVAL;
    memcpy(name, fname, flen - slen);
    name[flen - slen] = '\0';
    r = record_path(ks, name, path, sizeof(path));
    if (r < 0)
        return r;
    r = read_file_bounded(path, KEYSTORE_MAX_FILE, &data, &len);
    if (r < 0)
        return r;
    r = key_record_parse((const char *)data, len, ret);
    if (r < 0)
        return r;
    /* The file name is the key's identity: a record naming another key is damaged. */
    return streq(ret->name, name) ? 0 : -EINVAL;
}

static int ensure_dir(const char *path, mode_t mode)
{
    struct stat st;

    if (mkdir(path, mode) < 0 && errno != EEXIST)
        return negative_errno();
    if (lstat(path, &st) < 0)
        return negative_errno();
    if (!S_ISDIR(st.st_mode))
        return -ENOTDIR;
    if (st.st_uid != geteuid() || (st.st_mode & (S_IWGRP | S_IWOTH)))
        return -EPERM;
    return 0;
}

int keystore_open(const char *state_dir, struct keystore **ret, unsigned *ret_bad)
{
    struct keystore *ks;
    DIR *d;
    struct dirent *de;
    unsigned bad = 0;
    int n, r;

    ks = calloc(1, sizeof(*ks));
    if (!ks)
        return -ENOMEM;
    n = snprintf(ks->dir, sizeof(ks->dir), "%s/keys", state_dir);
    if (n < 0 || (size_t)n >= sizeof(ks->dir)) {
        keystore_free(ks);
        return -ENAMETOOLONG;
    }
    r = ensure_dir(state_dir, 0700);
    if (r >= 0)
        r = ensure_dir(ks->dir, 0700);
    if (r < 0) {
        keystore_free(ks);
        return r;
    }
    ks->v = calloc(HWSIGN_MAX_KEYS, sizeof(*ks->v));
    if (!ks->v) {
        keystore_free(ks);
        return -ENOMEM;
    }
    d = opendir(ks->dir);
    if (!d) {
        r = negative_errno();
        keystore_free(ks);
        return r;
    }
    while ((de = readdir(d))) {
        size_t l = strlen(de->d_name);
        if (de->d_name[0] == '.' || l <= strlen(KEYSTORE_SUFFIX) ||
            !streq(de->d_name + l - strlen(KEYSTORE_SUFFIX), KEYSTORE_SUFFIX))
            continue;
        if (ks->n >= HWSIGN_MAX_KEYS) {
            bad++;
            continue;
        }
        if (load_one(ks, de->d_name, &ks->v[ks->n]) < 0 ||
            spki_parse(ks->v[ks->n].spki, ks->v[ks->n].spki_len, &ks->v[ks->n].pub) < 0) {
            bad++;
            continue;
        }
        ks->n++;
    }
    closedir(d);
    *ret = ks;
    if (ret_bad)
        *ret_bad = bad;
    return 0;
}

struct keystore *keystore_free(struct keystore *ks)
{
    if (!ks)
        return NULL;
    for (size_t i = 0; ks->v && i < ks->n; i++)
        EVP_PKEY_free(ks->v[i].pub);
    free(ks->v);
    free(ks);
    return NULL;
}

size_t keystore_count(const struct keystore *ks)
{
    size_t n = 0;
    for (size_t i = 0; i < ks->n; i++)
        if (!ks->v[i].pending)
            n++;
    return n;
}

const struct key_record *keystore_at(const struct keystore *ks, size_t i)
{
    return i < ks->n && !ks->v[i].pending ? &ks->v[i] : NULL;
}

static struct key_record *find_any(const struct keystore *ks, const char *name)
{
    for (size_t i = 0; i < ks->n; i++)
        if (streq(ks->v[i].name, name))
            return &ks->v[i];
    return NULL;
}

const struct key_record *keystore_find(const struct keystore *ks, const char *name)
{
    const struct key_record *r = find_any(ks, name);
    return r && !r->pending ? r : NULL;
}

int keystore_reserve(struct keystore *ks, const char *name)
{
    struct key_record *r;

    if (!name_is_valid(name))
        return -EINVAL;
    if (find_any(ks, name))
        return -EEXIST;
    if (ks->n >= HWSIGN_MAX_KEYS)
        return -EUSERS;
    r = &ks->v[ks->n++];
    memset(r, 0, sizeof(*r));
    memcpy(r->name, name, strlen(name) + 1);
    r->pending = true;
    return 0;
}

static void drop_at(struct keystore *ks, struct key_record *r)
{
    size_t i = (size_t)(r - ks->v);
    EVP_PKEY_free(r->pub);
    memmove(&ks->v[i], &ks->v[i + 1], (ks->n - i - 1) * sizeof(*ks->v));
    ks->n--;
}

void keystore_unreserve(struct keystore *ks, const char *name)
{
    struct key_record *r = find_any(ks, name);
    if (r && r->pending)
        drop_at(ks, r);
}

int keystore_commit(struct keystore *ks, const struct key_record *rec)
{
    struct key_record *r = find_any(ks, rec->name);
    char path[KEYSTORE_PATH_MAX];
    _cleanup_free_ char *text = NULL;
    EVP_PKEY *pub = NULL;
    size_t len;
    int e;

    if (!r || !r->pending)
        return -ENOKEY;
    e = spki_parse(rec->spki, rec->spki_len, &pub);
    if (e >= 0)
        e = key_record_format(rec, &text, &len);
    if (e >= 0)
        e = record_path(ks, rec->name, path, sizeof(path));
    if (e >= 0)
        e = write_file_atomic(path, text, len, 0600);
    if (e < 0) {
        EVP_PKEY_free(pub);
        return e;
    }
    *r = *rec;
    r->pub = pub;
    r->pending = false;
    return 0;
}

int keystore_remove(struct keystore *ks, const char *name)
{
    struct key_record *r = find_any(ks, name);
    char path[KEYSTORE_PATH_MAX];
    int e;

    if (!r || r->pending)
        return -ENOKEY;
    e = record_path(ks, name, path, sizeof(path));
    if (e < 0)
        return e;
    if (unlink(path) < 0 && errno != ENOENT)
        return negative_errno();
    drop_at(ks, r);
    return 0;
}
