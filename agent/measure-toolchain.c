/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The measure module's toolchain: configured files hashed and cached by identity (see
 * measure.h). Its part of the JSON document is rendered here too, so the cache entries stay
 * private to this file.
 */
#include "measure.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json_object.h>

#include "crypto.h"
#include "json.h"
#include "measure-internal.h"

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
    r = hash_fd_limited(fd, HWSIGN_HASH_SHA256, MEASURE_MAX_TOOL_SIZE, digest, sizeof(digest));
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
    r = measure_json_add_text(o, "path", e->path);
    if (r >= 0)
        r = fjson_add_string(o, "status", status, strlen(status));
    if (r >= 0)
        r = measure_json_add_opt_text(o, "realpath", e->realpath);
    if (r >= 0)
        r = e->status == TC_OK ? measure_json_add_sha256(o, "sha256", e->sha256)
                               : measure_json_add_null(o, "sha256");
    if (r >= 0)
        r = e->status == TC_ERROR ? measure_json_add_errno(o, "error", e->error)
                                  : measure_json_add_null(o, "error");
    if (r < 0)
        return r;
    *ret = TAKE_PTR(o);
    return 0;
}

int measure_toolchain_render(const struct measure_toolchain *tc, struct json_object *tools)
{
    _cleanup_(fjson_putp) struct json_object *sub = NULL;
    int r = 0;

    for (size_t i = 0; r >= 0 && tc && i < tc->n; i++) {
        r = render_tool(&tc->e[i], &sub);
        if (r >= 0)
            r = fjson_append(tools, TAKE_PTR(sub));
    }
    return r;
}
