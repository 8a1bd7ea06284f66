/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Bounded memory: a model holding a 2 GiB sparse file (a few bytes written in the middle) is
 * hashed in files mode and in shards mode with the largest thread count, and the process's peak
 * RSS (getrusage ru_maxrss) grows by less than MEMORY_BUDGET (MODEL_MAX_THREADS buffers of
 * MODEL_HASH_CHUNK, 2 MiB, plus thread stacks and arenas): the hashing buffers are per thread,
 * never per file or per byte. The digests are checked against SHA-256 computed here independently
 * with one streaming EVP context.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "model-hash.h"
#include "model-manifest.h"
#include "model-walk.h"

#define MODEL_SIZE    (UINT64_C(2) << 30)            /* 2 GiB */
#define SHARD         (UINT64_C(64) << 20)           /* 32 shards */
#define MARK_OFFSET   ((UINT64_C(1) << 30) + 12345u) /* inside shard 16 */
#define MARK          "written in the middle of a hole"
#define MEMORY_BUDGET (16u * 1024u) /* KiB of peak RSS growth allowed */
#define REF_CHUNK     (1u << 20)

static char dir[PATH_MAX];

static int setup(void **state)
{
    const char *base = getenv("TMPDIR");
    char path[PATH_MAX + 16];
    int n = snprintf(dir, sizeof(dir), "%s/test-model-memory.XXXXXX",
                     base && *base ? base : "/tmp");
    int fd;

    if (n < 0 || (size_t)n >= sizeof(dir) || !mkdtemp(dir))
        return -1;
    n = snprintf(path, sizeof(path), "%s/weights.bin", dir);
    if (n < 0 || (size_t)n >= sizeof(path))
        return -1;
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0 || ftruncate(fd, (off_t)MODEL_SIZE) < 0 ||
        pwrite(fd, MARK, strlen(MARK), (off_t)MARK_OFFSET) != (ssize_t)strlen(MARK) || close(fd))
        return -1;
    return 0;
}

static int teardown(void **state)
{
    char cmd[PATH_MAX + 16];
    int n = snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);

    if (n < 0 || (size_t)n >= sizeof(cmd))
        return -1;
    return system(cmd) == 0 ? 0 : -1;
}

static long peak_rss_kib(void)
{
    struct rusage ru;

    assert_int_equal(getrusage(RUSAGE_SELF, &ru), 0);
    return ru.ru_maxrss;
}

/* SHA-256 of the model file's bytes [start, end), rebuilt here: zeros with MARK in them. */
static void reference(uint64_t start, uint64_t end, uint8_t out[32])
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    uint8_t *buf = malloc(REF_CHUNK);
    unsigned n = 0;

    assert_non_null(ctx);
    assert_non_null(buf);
    assert_int_equal(EVP_DigestInit_ex(ctx, EVP_sha256(), NULL), 1);
    for (uint64_t pos = start; pos < end;) {
        size_t len = (size_t)(end - pos < REF_CHUNK ? end - pos : REF_CHUNK);

        memset(buf, 0, len);
        for (size_t i = 0; i < strlen(MARK); i++)
            if (MARK_OFFSET + i >= pos && MARK_OFFSET + i < pos + len)
                buf[MARK_OFFSET + i - pos] = (uint8_t)MARK[i];
        assert_int_equal(EVP_DigestUpdate(ctx, buf, len), 1);
        pos += len;
    }
    assert_int_equal(EVP_DigestFinal_ex(ctx, out, &n), 1);
    free(buf);
    EVP_MD_CTX_free(ctx);
}

static void hash_model(enum model_method method, struct model_manifest **ret)
{
    struct model_walk_config wc = {0};
    struct model_hash_config hc = {
            .ser = {.method = method, .shard_size = SHARD},
            .threads = MODEL_MAX_THREADS,
    };
    struct model_tree *t = NULL;

    assert_int_equal(model_walk(dir, &wc, &t, NULL), 0);
    assert_int_equal(model_tree_n_files(t), 1);
    assert_int_equal(model_tree_total_bytes(t), MODEL_SIZE);
    assert_int_equal(model_hash(t, "big", NULL, 0, &hc, ret, NULL), 0);
    model_tree_free(t);
}

static void test_files_bounded(void **state)
{
    struct model_manifest *m = NULL;
    uint8_t want[32];
    long before = peak_rss_kib(), grown;

    hash_model(MODEL_METHOD_FILES, &m);
    grown = peak_rss_kib() - before;
    print_message("files: peak RSS grew by %ld KiB hashing %llu bytes\n", grown,
                  (unsigned long long)MODEL_SIZE);
    assert_true(grown < (long)MEMORY_BUDGET);
    assert_int_equal(model_manifest_n_resources(m), 1);
    reference(0, MODEL_SIZE, want);
    assert_memory_equal(model_manifest_resource(m, 0)->digest, want, 32);
    model_manifest_free(m);
}

static void test_shards_bounded(void **state)
{
    struct model_manifest *m = NULL;
    uint8_t zero[32], marked[32];
    long before = peak_rss_kib(), grown;
    const uint64_t marked_shard = MARK_OFFSET / SHARD;

    hash_model(MODEL_METHOD_SHARDS, &m);
    grown = peak_rss_kib() - before;
    print_message("shards: peak RSS grew by %ld KiB hashing %llu bytes on %u threads\n", grown,
                  (unsigned long long)MODEL_SIZE, model_hash_threads(MODEL_MAX_THREADS));
    assert_true(grown < (long)MEMORY_BUDGET);
    assert_int_equal(model_manifest_n_resources(m), MODEL_SIZE / SHARD);
    reference(0, SHARD, zero);
    reference(marked_shard * SHARD, (marked_shard + 1) * SHARD, marked);
    for (uint64_t i = 0; i < MODEL_SIZE / SHARD; i++) {
        const struct model_resource *r = model_manifest_resource(m, i);

        assert_int_equal(r->start, i * SHARD);
        assert_int_equal(r->end, (i + 1) * SHARD);
        assert_memory_equal(r->digest, i == marked_shard ? marked : zero, 32);
    }
    model_manifest_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_shards_bounded),
            cmocka_unit_test(test_files_bounded),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
