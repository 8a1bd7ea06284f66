/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/model on real directories: the FORMATS 6.5 goldens rebuilt from the upstream fixture
 * description (sample model folder in files and small-shards mode, empty folder, one empty
 * file), the upstream v1.1.0 signed model's resources and root, component order versus string
 * order ("a/b" < "a-b" < "a.b") and numeric shard order on disk, ignore paths (directories, git
 * defaults, lookalikes), symlink refusal and following, special files and unsignable names,
 * walk and hashing failures (missing model, file instead of directory, too deep, too many
 * shards, files changed after the walk), progress reporting, thread-count independence and a
 * statement round trip. Parsing and comparison rules: test-model-manifest.c.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "format.h"
#include "intoto.h"
#include "macro.h"
#include <hwsign/protocol.h>

#include "model-hash.h"
#include "model-manifest.h"
#include "model-path.h"
#include "model-walk.h"

#define POISON_PTR   ((void *)(uintptr_t)0xdeadbeef)
#define EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

static char tmproot[PATH_MAX];

static int setup(void **state)
{
    const char *base = getenv("TMPDIR");
    int n = snprintf(tmproot, sizeof(tmproot), "%s/test-model.XXXXXX",
                     base && *base ? base : "/tmp");

    if (n < 0 || (size_t)n >= sizeof(tmproot) || !mkdtemp(tmproot))
        return -1;
    return 0;
}

static int teardown(void **state)
{
    char cmd[PATH_MAX + 16];
    int n = snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmproot);

    if (n < 0 || (size_t)n >= sizeof(cmd))
        return -1;
    return system(cmd) == 0 ? 0 : -1;
}

/* A fresh directory tmproot/name (removed first if present); returns its path (static). */
static const char *fresh_dir(const char *name)
{
    static char path[PATH_MAX];
    char cmd[PATH_MAX + 16];

    assert_true((size_t)snprintf(path, sizeof(path), "%s/%s", tmproot, name) < sizeof(path));
    assert_true((size_t)snprintf(cmd, sizeof(cmd), "rm -rf '%s'", path) < sizeof(cmd));
    assert_int_equal(system(cmd), 0);
    assert_int_equal(mkdir(path, 0755), 0);
    return path;
}

/* dir/rel with content (parents created). */
static void put(const char *dir, const char *rel, const void *data, size_t len)
{
    char path[PATH_MAX];
    int fd;

    assert_true((size_t)snprintf(path, sizeof(path), "%s/%s", dir, rel) < sizeof(path));
    for (char *s = strchr(path + strlen(dir) + 1, '/'); s; s = strchr(s + 1, '/')) {
        *s = '\0';
        assert_true(mkdir(path, 0755) == 0 || errno == EEXIST);
        *s = '/';
    }
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, data, len), (ssize_t)len);
    assert_int_equal(close(fd), 0);
}

static void puts_(const char *dir, const char *rel, const char *text)
{
    put(dir, rel, text, strlen(text));
}

static void link_(const char *dir, const char *rel, const char *target)
{
    char path[PATH_MAX];

    assert_true((size_t)snprintf(path, sizeof(path), "%s/%s", dir, rel) < sizeof(path));
    assert_int_equal(symlink(target, path), 0);
}

static char *hex(const uint8_t *d, size_t n)
{
    char *h = NULL;

    assert_int_equal(hex_encode(d, n, &h), 0);
    return h;
}

static void assert_root(const struct model_manifest *m, const char *want)
{
    uint8_t root[32];
    char *h;

    assert_int_equal(model_manifest_root(m, root), 0);
    h = hex(root, 32);
    assert_string_equal(h, want);
    free(h);
}

static void sha256_hex(const void *data, size_t len, char out[65])
{
    uint8_t d[32];
    unsigned n = 0;
    char *h;

    assert_int_equal(EVP_Digest(data, len, d, &n, EVP_sha256(), NULL), 1);
    h = hex(d, 32);
    memcpy(out, h, 65);
    free(h);
}

struct ser_opts {
    enum model_method method;
    uint64_t shard_size;
    bool allow_symlinks;
    bool shard_empty_files;
    unsigned threads;
    const char *const *ignore;
    size_t n_ignore;
    const char *name;
};

/* Walk and hash dir; returns the model_hash result, the manifest in *ret. */
static int serialize(const char *dir, const struct ser_opts *o, struct model_manifest **ret)
{
    struct model_walk_config wc = {
            .ignore = o->ignore, .n_ignore = o->n_ignore, .allow_symlinks = o->allow_symlinks};
    struct model_hash_config hc = {
            .ser = {.method = o->method ? o->method : MODEL_METHOD_FILES,
                    .shard_size = o->shard_size,
                    .allow_symlinks = o->allow_symlinks},
            .shard_empty_files = o->shard_empty_files,
            .threads = o->threads,
    };
    struct model_tree *t = NULL;
    struct model_diag diag;
    int r;

    r = model_walk(dir, &wc, &t, &diag);
    if (r < 0)
        return r;
    assert_int_equal(model_tree_n_refused(t), 0);
    r = model_hash(t, o->name ? o->name : "model", o->ignore, o->n_ignore, &hc, ret, &diag);
    model_tree_free(t);
    return r;
}

static void assert_names(const struct model_manifest *m, const char *const *names, size_t n)
{
    assert_int_equal(model_manifest_n_resources(m), n);
    for (size_t i = 0; i < n; i++)
        assert_string_equal(model_manifest_resource(m, i)->name, names[i]);
}

/* ---- goldens (FORMATS 6.5) -------------------------------------------------------------- */

/* tests/conftest.py's sample_model_folder, as FORMATS 6.5 describes it. */
static const char *make_sample_model(void)
{
    const char *dir = fresh_dir("sample_model");
    char rel[32], text[64];

    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 3; j++) {
            snprintf(rel, sizeof(rel), "d%d/f%d%d", i, i, j);
            snprintf(text, sizeof(text), "This is file f%d%d in d%d.", i, j, i);
            puts_(dir, rel, text);
        }
    for (int i = 0; i < 4; i++) {
        snprintf(rel, sizeof(rel), "f%d", i);
        snprintf(text, sizeof(text), "This is file f%d in root.", i);
        puts_(dir, rel, text);
    }
    return dir;
}

static void test_golden_sample_files(void **state)
{
    static const char *const names[] = {"d0/f00", "d0/f01", "d0/f02", "d1/f10", "d1/f11",
                                        "d1/f12", "f0",     "f1",     "f2",     "f3"};
    const char *dir = make_sample_model();
    struct ser_opts o = {
            .ignore = model_git_paths, .n_ignore = MODEL_N_GIT_PATHS, .name = "sample_model"};
    struct model_manifest *m = NULL;
    char *h;

    assert_int_equal(serialize(dir, &o, &m), 0);
    assert_names(m, names, ELEMENTSOF(names));
    h = hex(model_manifest_resource(m, 0)->digest, 32);
    assert_string_equal(h, "fdd8925354242a7fd1515e79534317b800015607a609cd306e0b4dcfe6c92249");
    free(h);
    h = hex(model_manifest_resource(m, 9)->digest, 32);
    assert_string_equal(h, "912bcf5ebdf44dc7b4085b07940e0a81d157fba24b276e73fd911121d4544c4a");
    free(h);
    assert_root(m, "143cc682e555951649f18e2761c3d526d2502996f5e32dc187ef7f8a614f8df7");
    assert_int_equal(model_manifest_n_files(m), 10);
    model_manifest_free(m);
}

static void test_golden_sample_small_shards(void **state)
{
    const char *dir = make_sample_model();
    struct ser_opts o = {.method = MODEL_METHOD_SHARDS, .shard_size = 8, .name = "sample_model"};
    struct model_manifest *m = NULL;
    char alg[64], *h, *stmt = NULL;
    size_t len = 0;

    assert_int_equal(serialize(dir, &o, &m), 0);
    assert_int_equal(model_manifest_n_resources(m), 30);
    assert_string_equal(model_manifest_resource(m, 0)->name, "d0/f00:0:8");
    assert_string_equal(model_manifest_resource(m, 1)->name, "d0/f00:8:16");
    assert_string_equal(model_manifest_resource(m, 2)->name, "d0/f00:16:23");
    assert_string_equal(model_manifest_resource(m, 29)->name, "f3:16:24");
    assert_string_equal(model_manifest_resource(m, 2)->path, "d0/f00");
    assert_int_equal(model_manifest_resource(m, 2)->start, 16);
    assert_int_equal(model_manifest_resource(m, 2)->end, 23);
    h = hex(model_manifest_resource(m, 0)->digest, 32); /* SHA-256("This is ") */
    assert_string_equal(h, "a37010c994067764d86540bf479d93b4d0c3bb3955de7b61f951caf2fd0301b0");
    free(h);
    assert_root(m, "2139af57fd2a4f324ac7cd0fc04898cce73d0871b363c8eb3fc07ab7da4c8445");
    assert_int_equal(model_manifest_algorithm(m, alg, sizeof(alg)), 0);
    assert_string_equal(alg, "sha256-sharded-8");
    assert_int_equal(model_manifest_n_files(m), 10);
    /* The statement carries shard_size as an integer and every shard's algorithm. */
    assert_int_equal(model_manifest_statement(m, &stmt, &len), 0);
    assert_non_null(strstr(stmt, "\"shard_size\":8,"));
    assert_non_null(strstr(stmt,
                           "{\"name\":\"d0/f00:16:23\",\"algorithm\":\"sha256-sharded-8\","
                           "\"digest\":\"003b089e217915b12ca9509b2f8a01be7cfe662ffadeb1cd3cf3f"
                           "430c7b9773a\"}"));
    free(stmt);
    model_manifest_free(m);
}

static void test_golden_empty(void **state)
{
    struct ser_opts files = {0}, shards = {.method = MODEL_METHOD_SHARDS, .shard_size = 8};
    struct model_manifest *m = NULL;
    const char *dir;

    dir = fresh_dir("empty_model");
    assert_int_equal(serialize(dir, &files, &m), 0);
    assert_int_equal(model_manifest_n_resources(m), 0);
    assert_root(m, EMPTY_SHA256);
    model_manifest_free(m);
    assert_int_equal(serialize(dir, &shards, &m), 0);
    assert_int_equal(model_manifest_n_resources(m), 0);
    assert_root(m, EMPTY_SHA256);
    model_manifest_free(m);

    dir = fresh_dir("empty_file_inside_model");
    put(dir, "empty_file", "", 0);
    assert_int_equal(serialize(dir, &files, &m), 0);
    assert_int_equal(model_manifest_n_resources(m), 1);
    assert_string_equal(model_manifest_resource(m, 0)->name, "empty_file");
    {
        char *h = hex(model_manifest_resource(m, 0)->digest, 32);
        assert_string_equal(h, EMPTY_SHA256);
        free(h);
    }
    assert_root(m, "5df6e0e2761359d30a8275058e299fcc0381534545f55cf43e41983f5d4c9456");
    model_manifest_free(m);
    /* model_signing 1.1.x: an empty file has no shard. */
    assert_int_equal(serialize(dir, &shards, &m), 0);
    assert_int_equal(model_manifest_n_resources(m), 0);
    assert_root(m, EMPTY_SHA256);
    model_manifest_free(m);
    /* Later model_signing: the empty shard 0:0. */
    shards.shard_empty_files = true;
    assert_int_equal(serialize(dir, &shards, &m), 0);
    assert_int_equal(model_manifest_n_resources(m), 1);
    assert_string_equal(model_manifest_resource(m, 0)->name, "empty_file:0:0");
    assert_true(model_manifest_has_empty_shards(m));
    assert_root(m, "5df6e0e2761359d30a8275058e299fcc0381534545f55cf43e41983f5d4c9456");
    model_manifest_free(m);
}

/* The v1.1.0-elliptic-key model (FORMATS 6.5 a): its files and the paths it ignores. */
static void test_upstream_vector_resources(void **state)
{
    static const char *const ignore[] = {".git",           "model.sig",  "ignore-me",
                                         ".gitattributes", ".gitignore", ".github"};
    const char *dir = fresh_dir("v1.1.0-elliptic-key");
    struct ser_opts o = {.ignore = ignore, .n_ignore = ELEMENTSOF(ignore)};
    struct model_manifest *m = NULL;
    char *h, *name = NULL;

    puts_(dir, "signme-1", "signme-1\n");
    puts_(dir, "signme-2", "signme-2");
    put(dir, "ignore-me", "", 0);
    puts_(dir, "model.sig", "{}");
    assert_int_equal(model_name_from_dir(dir, NULL, &name), 0);
    assert_string_equal(name, "v1.1.0-elliptic-key");
    o.name = name;
    assert_int_equal(serialize(dir, &o, &m), 0);
    assert_string_equal(model_manifest_name(m), "v1.1.0-elliptic-key");
    assert_int_equal(model_manifest_n_resources(m), 2);
    assert_string_equal(model_manifest_resource(m, 0)->name, "signme-1");
    h = hex(model_manifest_resource(m, 0)->digest, 32);
    assert_string_equal(h, "bc9a717db6064a32cbe9eae6fc40651dd6d36ef1757183f590eff2b1765d7ebc");
    free(h);
    h = hex(model_manifest_resource(m, 1)->digest, 32);
    assert_string_equal(h, "32dcb1f8e1ae52d5963e56a6ba06ab58b424c15ed2a6b70d2feca1d089370028");
    free(h);
    assert_root(m, "92745110b1ab4368471cbe31664e10174e954b113a3df333db860317b2c6dec4");
    /* Recorded ignore paths: sorted in component order, no duplicates. */
    assert_int_equal(model_manifest_n_ignore(m), 6);
    assert_string_equal(model_manifest_ignore(m, 0), ".git");
    assert_string_equal(model_manifest_ignore(m, 1), ".gitattributes");
    assert_string_equal(model_manifest_ignore(m, 5), "model.sig");
    free(name);
    model_manifest_free(m);
}

/* ---- order -------------------------------------------------------------------------------- */

static void test_order_components(void **state)
{
    static const char *const want[] = {"a/a/x", "a/b", "a-b", "a.b", "ab"};
    const char *dir = fresh_dir("order");
    struct ser_opts o = {0};
    struct model_manifest *m = NULL;

    /* Created in strcmp order, which would be a-b, a.b, a/a/x, a/b, ab. */
    puts_(dir, "a-b", "1");
    puts_(dir, "a.b", "2");
    puts_(dir, "a/a/x", "3");
    puts_(dir, "a/b", "4");
    puts_(dir, "ab", "5");
    assert_int_equal(serialize(dir, &o, &m), 0);
    assert_names(m, want, ELEMENTSOF(want));
    model_manifest_free(m);
}

static void test_order_shards_numeric(void **state)
{
    static const char *const want[] = {"f:0:8",   "f:8:16",   "f:16:24", "f:24:25",
                                       "f-x:0:8", "f-x:8:10", "g:0:8"};
    const char *dir = fresh_dir("shard_order");
    struct ser_opts o = {.method = MODEL_METHOD_SHARDS, .shard_size = 8};
    struct model_manifest *m = NULL;
    char buf[32];

    memset(buf, 'x', sizeof(buf));
    put(dir, "g", buf, 8);    /* exactly one shard */
    put(dir, "f-x", buf, 10); /* a short last shard */
    put(dir, "f", buf, 25);   /* 16 sorts after 8 */
    assert_int_equal(serialize(dir, &o, &m), 0);
    assert_names(m, want, ELEMENTSOF(want));
    model_manifest_free(m);
}

/* ---- ignore, symlinks, special files ----------------------------------------------------- */

static void test_ignore_paths(void **state)
{
    static const char *const ignore[] = {
            ".git", ".gitattributes", ".github", ".gitignore", "model.sig", "ign", "sub/skip.bin"};
    static const char *const want[] = {".gitfoo", "ignx", "sub/.git/x", "sub/keep.bin"};
    const char *dir = fresh_dir("ignore");
    struct ser_opts o = {.ignore = ignore, .n_ignore = ELEMENTSOF(ignore)};
    struct model_manifest *m = NULL;
    char path[PATH_MAX];

    puts_(dir, ".git/HEAD", "ref");
    puts_(dir, ".github/workflows/ci.yml", "on: push");
    puts_(dir, ".gitignore", "*.o");
    puts_(dir, ".gitattributes", "* text");
    puts_(dir, ".gitfoo", "not git");
    puts_(dir, "model.sig", "{}");
    puts_(dir, "ign/a", "ignored");
    puts_(dir, "ignx", "not ignored");
    puts_(dir, "sub/.git/x", "only the top-level .git is a default");
    puts_(dir, "sub/skip.bin", "ignored file");
    puts_(dir, "sub/keep.bin", "kept");
    /* Inside an ignored directory nothing is even looked at: no refusal for these. */
    link_(dir, "ign/link", "/etc/hostname");
    assert_true((size_t)snprintf(path, sizeof(path), "%s/ign/fifo", dir) < sizeof(path));
    assert_int_equal(mkfifo(path, 0600), 0);
    assert_int_equal(serialize(dir, &o, &m), 0);
    assert_names(m, want, ELEMENTSOF(want));
    model_manifest_free(m);

    /* Non-canonical ignore paths are the caller's bug. */
    {
        static const char *const bad[] = {"a/"};
        struct model_walk_config wc = {.ignore = bad, .n_ignore = 1};
        struct model_tree *t = POISON_PTR;

        assert_int_equal(model_walk(dir, &wc, &t, NULL), -EINVAL);
        assert_ptr_equal(t, POISON_PTR);
    }
}

static void test_symlinks(void **state)
{
    static const char *const want_refused[] = {"dang", "ld", "lf", "out"};
    char outside[PATH_MAX], sha_f[65], sha_out[65];
    struct model_walk_config wc = {0};
    struct model_tree *t = NULL;
    struct model_manifest *m = NULL;
    struct ser_opts o = {.allow_symlinks = true};
    enum model_refusal why = 0;
    const char *dir;

    assert_true((size_t)snprintf(outside, sizeof(outside), "%s/outside.bin", tmproot) <
                sizeof(outside));
    put(tmproot, "outside.bin", "outside the model", 17);
    dir = fresh_dir("links");
    puts_(dir, "f", "regular");
    puts_(dir, "d/g", "in d");
    link_(dir, "lf", "f");
    link_(dir, "ld", "d");
    link_(dir, "dang", "nowhere");
    link_(dir, "out", outside);

    /* Not allowed: every symlink refused, by name, and the walk goes on. */
    assert_int_equal(model_walk(dir, &wc, &t, NULL), 0);
    assert_int_equal(model_tree_n_files(t), 2);
    assert_string_equal(model_tree_file(t, 0)->path, "d/g");
    assert_string_equal(model_tree_file(t, 1)->path, "f");
    assert_int_equal(model_tree_n_refused(t), ELEMENTSOF(want_refused));
    for (size_t i = 0; i < ELEMENTSOF(want_refused); i++) {
        assert_string_equal(model_tree_refused(t, i, &why), want_refused[i]);
        assert_int_equal(why, MODEL_REFUSED_SYMLINK);
    }
    assert_null(model_tree_refused(t, 4, &why));
    t = model_tree_free(t);

    /* Allowed: followed to files inside and outside, directories skipped, dangling refused. */
    wc.allow_symlinks = true;
    assert_int_equal(model_walk(dir, &wc, &t, NULL), 0);
    assert_int_equal(model_tree_n_files(t), 4);
    assert_string_equal(model_tree_file(t, 0)->path, "d/g");
    assert_string_equal(model_tree_file(t, 1)->path, "f");
    assert_string_equal(model_tree_file(t, 2)->path, "lf");
    assert_string_equal(model_tree_file(t, 3)->path, "out");
    assert_int_equal(model_tree_file(t, 3)->size, 17);
    assert_int_equal(model_tree_n_refused(t), 1);
    assert_string_equal(model_tree_refused(t, 0, &why), "dang");
    assert_int_equal(why, MODEL_REFUSED_DANGLING);
    t = model_tree_free(t);

    /* Hashing with symlinks allowed: a link hashes as its target. */
    {
        char dang[PATH_MAX];

        assert_true((size_t)snprintf(dang, sizeof(dang), "%s/dang", dir) < sizeof(dang));
        assert_int_equal(unlink(dang), 0);
    }
    assert_int_equal(serialize(dir, &o, &m), 0);
    sha256_hex("regular", 7, sha_f);
    sha256_hex("outside the model", 17, sha_out);
    {
        char *h2 = hex(model_manifest_resource(m, 2)->digest, 32);
        char *h3 = hex(model_manifest_resource(m, 3)->digest, 32);

        assert_string_equal(model_manifest_resource(m, 2)->name, "lf");
        assert_string_equal(h2, sha_f);
        assert_string_equal(h3, sha_out);
        free(h2);
        free(h3);
    }
    assert_true(model_manifest_serialization(m)->allow_symlinks);
    model_manifest_free(m);

    /* The model directory itself a symlink. */
    {
        char linkdir[PATH_MAX];
        struct model_diag diag;

        assert_true((size_t)snprintf(linkdir, sizeof(linkdir), "%s/links-alias", tmproot) <
                    sizeof(linkdir));
        assert_int_equal(symlink(dir, linkdir), 0);
        wc.allow_symlinks = false;
        t = POISON_PTR;
        assert_int_equal(model_walk(linkdir, &wc, &t, &diag), -ELOOP);
        assert_ptr_equal(t, POISON_PTR);
        assert_string_equal(diag.path, ".");
        wc.allow_symlinks = true;
        t = NULL;
        assert_int_equal(model_walk(linkdir, &wc, &t, NULL), 0);
        assert_int_equal(model_tree_n_files(t), 4);
        model_tree_free(t);
    }
}

static void test_special_and_names(void **state)
{
    static const char *const want[] = {"bad?name", "ctl?", "fifo", "sock/..."};
    const char *dir = fresh_dir("special");
    struct model_walk_config wc = {0};
    struct model_tree *t = NULL;
    enum model_refusal why = 0;
    char path[PATH_MAX];

    puts_(dir, "ok", "fine");
    puts_(dir, "bad\xffname", "not UTF-8");
    puts_(dir, "ctl\x01", "control character");
    put(dir, "sock/...", "", 0); /* "..." is a fine name */
    assert_true((size_t)snprintf(path, sizeof(path), "%s/fifo", dir) < sizeof(path));
    assert_int_equal(mkfifo(path, 0600), 0);
    assert_int_equal(model_walk(dir, &wc, &t, NULL), 0);
    assert_int_equal(model_tree_n_files(t), 2);
    assert_string_equal(model_tree_file(t, 0)->path, "ok");
    assert_string_equal(model_tree_file(t, 1)->path, "sock/...");
    assert_int_equal(model_tree_n_refused(t), 3);
    assert_string_equal(model_tree_refused(t, 0, &why), want[0]);
    assert_int_equal(why, MODEL_REFUSED_NAME);
    assert_string_equal(model_tree_refused(t, 1, &why), want[1]);
    assert_int_equal(why, MODEL_REFUSED_NAME);
    assert_string_equal(model_tree_refused(t, 2, &why), want[2]);
    assert_int_equal(why, MODEL_REFUSED_SPECIAL);
    model_tree_free(t);
}

/* ---- failures ---------------------------------------------------------------------------- */

static void test_walk_errors(void **state)
{
    struct model_walk_config wc = {0};
    struct model_tree *t = POISON_PTR;
    struct model_diag diag;
    char path[PATH_MAX];
    const char *dir;

    assert_true((size_t)snprintf(path, sizeof(path), "%s/no-such-model", tmproot) < sizeof(path));
    assert_int_equal(model_walk(path, &wc, &t, &diag), -ENOENT);
    assert_string_equal(diag.path, ".");
    put(tmproot, "a-file", "x", 1);
    assert_true((size_t)snprintf(path, sizeof(path), "%s/a-file", tmproot) < sizeof(path));
    assert_int_equal(model_walk(path, &wc, &t, &diag), -ENOTDIR);
    assert_int_equal(model_walk(NULL, &wc, &t, &diag), -EINVAL);
    assert_int_equal(model_walk(tmproot, NULL, &t, &diag), -EINVAL);
    assert_ptr_equal(t, POISON_PTR);

    /* Deeper than MODEL_MAX_DEPTH. */
    dir = fresh_dir("deep");
    {
        char rel[3 * (MODEL_MAX_DEPTH + 2)] = "";
        size_t o = 0;

        for (unsigned i = 0; i <= MODEL_MAX_DEPTH; i++) {
            rel[o++] = 'd';
            rel[o++] = '/';
        }
        memcpy(rel + o, "f", 2);
        puts_(dir, rel, "deep");
        assert_int_equal(model_walk(dir, &wc, &t, &diag), -ELOOP);
        assert_ptr_equal(t, POISON_PTR);
        assert_true(strlen(diag.path) > 2 * MODEL_MAX_DEPTH - 2);
    }
    /* An unreadable directory (not as root, who reads everything). */
    if (geteuid() != 0) {
        dir = fresh_dir("noperm");
        puts_(dir, "locked/f", "x");
        assert_true((size_t)snprintf(path, sizeof(path), "%s/locked", dir) < sizeof(path));
        assert_int_equal(chmod(path, 0), 0);
        assert_int_equal(model_walk(dir, &wc, &t, &diag), -EACCES);
        assert_string_equal(diag.path, "locked");
        assert_int_equal(chmod(path, 0755), 0);
    }
}

static void test_hash_limits(void **state)
{
    const char *dir = fresh_dir("many_shards");
    struct model_walk_config wc = {0};
    struct model_hash_config hc = {.ser = {.method = MODEL_METHOD_SHARDS, .shard_size = 1}};
    struct model_manifest *m = POISON_PTR;
    struct model_tree *t = NULL;
    static char buf[MODEL_MAX_RESOURCES + 1];

    put(dir, "f", buf, sizeof(buf)); /* one shard too many at size 1 */
    assert_int_equal(model_walk(dir, &wc, &t, NULL), 0);
    assert_int_equal(model_hash(t, "m", NULL, 0, &hc, &m, NULL), -EMSGSIZE);
    assert_ptr_equal(m, POISON_PTR);
    /* At the limit it works. */
    hc.ser.shard_size = 2;
    assert_int_equal(model_hash(t, "m", NULL, 0, &hc, &m, NULL), 0);
    assert_int_equal(model_manifest_n_resources(m), MODEL_MAX_RESOURCES / 2 + 1);
    /* ... and its statement (~4 MiB) is one the agent signs in chunks, not in one frame. */
    {
        char *stmt = POISON_PTR;
        size_t len = 0;

        assert_int_equal(model_manifest_statement(m, &stmt, &len), 0);
        assert_true(len > HWSIGN_MAX_STATEMENT && len <= HWSIGN_MAX_STAGED_STATEMENT);
        free(stmt);
    }
    model_manifest_free(m);
    m = POISON_PTR;
    /* Bad configurations. */
    hc.ser.shard_size = 0;
    assert_int_equal(model_hash(t, "m", NULL, 0, &hc, &m, NULL), -EINVAL);
    hc.ser.shard_size = MODEL_MAX_SHARD_SIZE + 1;
    assert_int_equal(model_hash(t, "m", NULL, 0, &hc, &m, NULL), -EINVAL);
    hc.ser = (struct model_serialization){.method = 7};
    assert_int_equal(model_hash(t, "m", NULL, 0, &hc, &m, NULL), -EINVAL);
    hc.ser = (struct model_serialization){.method = MODEL_METHOD_FILES};
    assert_int_equal(model_hash(t, "", NULL, 0, &hc, &m, NULL), -EINVAL);
    assert_int_equal(model_hash(t, "a/b", NULL, 0, &hc, &m, NULL), 0); /* a name, not checked */
    model_manifest_free(m);
    model_tree_free(t);
}

static void test_hash_stale(void **state)
{
    const char *dir = fresh_dir("stale");
    struct model_walk_config wc = {0};
    struct model_hash_config hc = {.ser = {.method = MODEL_METHOD_FILES}};
    struct model_manifest *m = POISON_PTR;
    struct model_tree *t = NULL;
    struct model_diag diag;
    char path[PATH_MAX], tmp[PATH_MAX];

    puts_(dir, "a", "aaaa");
    puts_(dir, "b/c", "cccc");
    assert_true((size_t)snprintf(path, sizeof(path), "%s/b/c", dir) < sizeof(path));
    assert_true((size_t)snprintf(tmp, sizeof(tmp), "%s/b/new", dir) < sizeof(tmp));

    /* Replaced by another file (same size, same name). */
    assert_int_equal(model_walk(dir, &wc, &t, NULL), 0);
    puts_(dir, "b/new", "CCCC");
    assert_int_equal(rename(tmp, path), 0);
    assert_int_equal(model_hash(t, "m", NULL, 0, &hc, &m, &diag), -ESTALE);
    assert_string_equal(diag.path, "b/c");
    assert_ptr_equal(m, POISON_PTR);
    t = model_tree_free(t);

    /* Shrunk, grown, removed. */
    assert_int_equal(model_walk(dir, &wc, &t, NULL), 0);
    assert_int_equal(truncate(path, 2), 0);
    assert_int_equal(model_hash(t, "m", NULL, 0, &hc, &m, &diag), -ESTALE);
    assert_int_equal(truncate(path, 9), 0);
    assert_int_equal(model_hash(t, "m", NULL, 0, &hc, &m, &diag), -ESTALE);
    assert_int_equal(unlink(path), 0);
    assert_int_equal(model_hash(t, "m", NULL, 0, &hc, &m, &diag), -ESTALE);
    assert_string_equal(diag.path, "b/c");
    /* Swapped for a symlink to a file with the same bytes. */
    puts_(dir, "b/target", "cccc");
    t = model_tree_free(t);
    puts_(dir, "b/c", "cccc");
    assert_int_equal(model_walk(dir, &wc, &t, NULL), 0);
    assert_int_equal(unlink(path), 0);
    assert_int_equal(symlink("target", path), 0);
    assert_int_equal(model_hash(t, "m", NULL, 0, &hc, &m, &diag), -ESTALE);
    assert_ptr_equal(m, POISON_PTR);
    model_tree_free(t);
}

struct progress_log {
    pthread_t thread;
    unsigned calls;
    uint64_t last_done, total;
    bool decreasing, other_thread;
};

static void on_progress(uint64_t done, uint64_t total, void *userdata)
{
    struct progress_log *p = userdata;

    if (!pthread_equal(pthread_self(), p->thread))
        p->other_thread = true;
    if (done < p->last_done || done > total)
        p->decreasing = true;
    p->calls++;
    p->last_done = done;
    p->total = total;
}

static void test_progress_and_threads(void **state)
{
    const char *dir = fresh_dir("progress");
    struct progress_log log = {.thread = pthread_self()};
    struct model_walk_config wc = {0};
    struct model_hash_config hc = {.ser = {.method = MODEL_METHOD_SHARDS, .shard_size = 1 << 20},
                                   .progress = on_progress,
                                   .userdata = &log};
    struct model_manifest *m[4] = {0};
    struct model_tree *t = NULL;
    static uint8_t big[24u << 20];
    uint8_t root[4][32];

    for (size_t i = 0; i < sizeof(big); i++)
        big[i] = (uint8_t)(i * 7 + (i >> 11));
    put(dir, "big.bin", big, sizeof(big));
    put(dir, "small.bin", big, 1000);
    assert_int_equal(model_walk(dir, &wc, &t, NULL), 0);
    assert_int_equal(model_tree_total_bytes(t), sizeof(big) + 1000);
    assert_int_equal(model_hash(t, "m", NULL, 0, &hc, &m[0], NULL), 0);
    assert_true(log.calls >= 1);
    assert_int_equal(log.last_done, sizeof(big) + 1000);
    assert_int_equal(log.total, sizeof(big) + 1000);
    assert_false(log.decreasing);
    assert_false(log.other_thread);
    /* The same manifest whatever the number of threads. */
    for (unsigned k = 1; k < 4; k++) {
        hc.threads = k == 1 ? 1 : k == 2 ? 3 : MODEL_MAX_THREADS;
        hc.progress = NULL;
        assert_int_equal(model_hash(t, "m", NULL, 0, &hc, &m[k], NULL), 0);
    }
    for (unsigned k = 0; k < 4; k++)
        assert_int_equal(model_manifest_root(m[k], root[k]), 0);
    for (unsigned k = 1; k < 4; k++)
        assert_memory_equal(root[0], root[k], 32);
    /* Independently: shard 3 is SHA-256 of big[3 MiB, 4 MiB). */
    {
        char want[65], *got;

        sha256_hex(big + (3u << 20), 1u << 20, want);
        assert_string_equal(model_manifest_resource(m[0], 3)->name, "big.bin:3145728:4194304");
        got = hex(model_manifest_resource(m[0], 3)->digest, 32);
        assert_string_equal(got, want);
        free(got);
        sha256_hex(big, 1000, want);
        got = hex(model_manifest_resource(m[0], 24)->digest, 32);
        assert_string_equal(model_manifest_resource(m[0], 24)->name, "small.bin:0:1000");
        assert_string_equal(got, want);
        free(got);
    }
    assert_true(model_hash_threads(0) >= 1);
    assert_int_equal(model_hash_threads(1000), MODEL_MAX_THREADS);
    for (unsigned k = 0; k < 4; k++)
        model_manifest_free(m[k]);
    model_tree_free(t);
}

/* ---- statements ---------------------------------------------------------------------------- */

static struct model_manifest *parse_statement(const char *stmt, size_t len, int *ret_r)
{
    struct intoto_statement *st = NULL;
    struct model_manifest *m = NULL;

    assert_int_equal(intoto_statement_parse((const uint8_t *)stmt, len, &st), 0);
    *ret_r = model_manifest_from_statement(st, &m);
    intoto_statement_free(st);
    return m;
}

static void test_statement_roundtrip(void **state)
{
    static const char *const ignore[] = {"z", "model.sig", ".git", "z"};
    const char *dir = make_sample_model();
    struct ser_opts o = {.ignore = ignore, .n_ignore = ELEMENTSOF(ignore), .name = "sample_model"};
    struct model_manifest *m = NULL, *back = NULL;
    struct model_diff *d = NULL;
    char *s1 = NULL, *s2 = NULL;
    size_t l1 = 0, l2 = 0;
    int r;

    assert_int_equal(serialize(dir, &o, &m), 0);
    assert_int_equal(model_manifest_statement(m, &s1, &l1), 0);
    assert_int_equal(model_manifest_statement(m, &s2, &l2), 0);
    assert_int_equal(l1, l2);
    assert_memory_equal(s1, s2, l1);
    assert_int_equal(strlen(s1), l1);
    assert_non_null(strstr(s1, "\"predicateType\":\"https://model_signing/signature/v1.0\""));
    assert_non_null(
            strstr(s1, "\"subject\":[{\"name\":\"sample_model\",\"digest\":{\"sha256\":"
                       "\"143cc682e555951649f18e2761c3d526d2502996f5e32dc187ef7f8a614f8df7\"}}]"));
    assert_non_null(strstr(s1, "\"serialization\":{\"method\":\"files\",\"hash_type\":\"sha256\","
                               "\"allow_symlinks\":false,\"ignore_paths\":[\".git\",\"model.sig\","
                               "\"z\"]}"));
    assert_null(strstr(s1, "shard_size"));
    back = parse_statement(s1, l1, &r);
    assert_int_equal(r, 0);
    assert_string_equal(model_manifest_name(back), "sample_model");
    assert_int_equal(model_manifest_n_ignore(back), 3);
    assert_int_equal(model_manifest_compare(m, back, &d), 0);
    assert_int_equal(model_diff_count(d), 0);
    model_diff_free(d);
    model_manifest_free(back);
    free(s1);
    free(s2);
    model_manifest_free(m);
}

static bool keep_prefix(const char *path, void *userdata)
{
    const char *prefix = userdata;

    return strncmp(path, prefix, strlen(prefix)) == 0;
}

static void test_retain(void **state)
{
    const char *dir = fresh_dir("retain");
    struct model_walk_config wc = {0};
    struct model_tree *t = NULL;

    puts_(dir, "keep", "12345");
    puts_(dir, "drop", "1");
    link_(dir, "link-drop", "keep");
    link_(dir, "keep-link", "keep");
    assert_int_equal(model_walk(dir, &wc, &t, NULL), 0);
    assert_int_equal(model_tree_total_bytes(t), 6);
    assert_int_equal(model_tree_n_refused(t), 2);
    model_tree_retain(t, keep_prefix, (void *)"keep");
    assert_int_equal(model_tree_n_files(t), 1);
    assert_string_equal(model_tree_file(t, 0)->path, "keep");
    assert_int_equal(model_tree_total_bytes(t), 5);
    assert_int_equal(model_tree_n_refused(t), 1);
    assert_string_equal(model_tree_refused(t, 0, NULL), "keep-link");
    model_tree_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_golden_sample_files),
            cmocka_unit_test(test_golden_sample_small_shards),
            cmocka_unit_test(test_golden_empty),
            cmocka_unit_test(test_upstream_vector_resources),
            cmocka_unit_test(test_order_components),
            cmocka_unit_test(test_order_shards_numeric),
            cmocka_unit_test(test_ignore_paths),
            cmocka_unit_test(test_symlinks),
            cmocka_unit_test(test_special_and_names),
            cmocka_unit_test(test_walk_errors),
            cmocka_unit_test(test_hash_limits),
            cmocka_unit_test(test_hash_stale),
            cmocka_unit_test(test_progress_and_threads),
            cmocka_unit_test(test_statement_roundtrip),
            cmocka_unit_test(test_retain),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
