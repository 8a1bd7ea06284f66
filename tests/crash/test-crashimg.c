/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of the crash-image generator (tests/crash/crashimg.c) on synthetic ioshim traces
 * written to a temporary directory: malformed and over-limit traces are refused with the
 * documented errors; the replay applies writes, truncations and fallocate modes; the images of
 * a known trace are exactly the documented ones (prefix bytes kept, torn units, holes, sizes),
 * distinct, seeded and capped.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "crashimg.h"
#include "fd-util.h"
#include "macro.h"

#define T_MAX_TRACE (64u * 1024u)
#define T_MAGIC     "HWSLOG2\n"

static char dir[] = "/tmp/hwsign-crashimg.XXXXXX";
static char path[sizeof(dir) + 16];

/* A trace under construction. */
struct tb {
    uint8_t buf[T_MAX_TRACE];
    size_t len;
    uint64_t seq;
};

static void tb_init(struct tb *t)
{
    uint32_t rs = sizeof(struct ioshim_rec), pad = 0;
    memset(t, 0, sizeof(*t));
    memcpy(t->buf, IOSHIM_MAGIC, IOSHIM_MAGIC_LEN);
    memcpy(t->buf + 8, &rs, 4);
    memcpy(t->buf + 12, &pad, 4);
    t->len = 16;
}

static void tb_rec(struct tb *t, uint32_t op, uint32_t call, uint32_t arg, uint64_t off,
                   uint64_t len, int64_t result, const void *data, size_t dlen)
{
    struct ioshim_rec r = {.op = op,
                           .call = call,
                           .fd = 3,
                           .arg = arg,
                           .seq = t->seq++,
                           .off = off,
                           .len = len,
                           .result = result};
    assert_true(t->len + sizeof(r) + dlen <= sizeof(t->buf));
    memcpy(t->buf + t->len, &r, sizeof(r));
    t->len += sizeof(r);
    if (dlen) {
        memcpy(t->buf + t->len, data, dlen);
        t->len += dlen;
    }
}

static void tb_snapshot(struct tb *t, const void *data, size_t n)
{
    tb_rec(t, IOSHIM_OP_SNAPSHOT, IOSHIM_CALL_NONE, n > 0, 0, n, 0, data, n);
}

static void tb_write(struct tb *t, uint64_t off, const void *data, size_t n)
{
    tb_rec(t, IOSHIM_OP_WRITE, IOSHIM_CALL_WRITE, 0, off, n, (int64_t)n, data, n);
}

static void tb_sync(struct tb *t)
{
    tb_rec(t, IOSHIM_OP_FDATASYNC, IOSHIM_CALL_FDATASYNC, 0, 0, 0, 0, NULL, 0);
}

static void tb_save(const struct tb *t, size_t len)
{
    _cleanup_close_ int fd = -1;
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(fd_write_all(fd, t->buf, len), 0);
}

static int load(const struct tb *t, size_t len, struct crashimg_trace **ret, char *err)
{
    tb_save(t, len);
    return crashimg_trace_load(path, ret, err, 256);
}

static int setup(void **state)
{
    (void)state;
    assert_non_null(mkdtemp(dir));
    assert_true((size_t)snprintf(path, sizeof(path), "%s/trace", dir) < sizeof(path));
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    (void)unlink(path);
    (void)rmdir(dir);
    return 0;
}

static void expect_load_error(struct tb *t, size_t len, int want, const char *msg)
{
    struct crashimg_trace *tr = (struct crashimg_trace *)0x1;
    char err[256] = "";
    assert_int_equal(load(t, len, &tr, err), want);
    assert_ptr_equal(tr, (struct crashimg_trace *)0x1); /* untouched on failure */
    assert_non_null(strstr(err, msg));
}

static void test_load_errors(void **state)
{
    (void)state;
    struct tb *t = calloc(1, sizeof(*t));
    struct crashimg_trace *tr = NULL;
    char err[256];
    uint8_t big[600] = {0};

    assert_non_null(t);
    /* Missing file. */
    (void)unlink(path);
    assert_int_equal(crashimg_trace_load(path, &tr, err, sizeof(err)), -ENOENT);
    assert_null(tr);
    /* Header only: no snapshot. Bad magic. Wrong record size. */
    tb_init(t);
    expect_load_error(t, t->len, -EBADMSG, "no snapshot");
    t->buf[0] = 'X';
    expect_load_error(t, t->len, -EBADMSG, "not an ioshim trace");
    tb_init(t);
    t->buf[8] = 7;
    expect_load_error(t, t->len, -EBADMSG, "record size");
    /* The first record must be the snapshot, and only the first. */
    tb_init(t);
    tb_write(t, 0, "abc", 3);
    expect_load_error(t, t->len, -EBADMSG, "misplaced");
    tb_init(t);
    tb_snapshot(t, NULL, 0);
    tb_snapshot(t, NULL, 0);
    expect_load_error(t, t->len, -EBADMSG, "misplaced");
    /* A cut record, cut data, a sequence gap. */
    tb_init(t);
    tb_snapshot(t, NULL, 0);
    tb_write(t, 0, "abcdef", 6);
    expect_load_error(t, t->len - 2, -EBADMSG, "truncated");
    expect_load_error(t, t->len - 6 - 10, -EBADMSG, "truncated record");
    tb_init(t);
    tb_snapshot(t, NULL, 0);
    t->seq++;
    tb_sync(t);
    expect_load_error(t, t->len, -EBADMSG, "out of sequence");
    /* The shim lost track; an fallocate mode outside the model; a write over the limit. */
    tb_init(t);
    tb_snapshot(t, NULL, 0);
    tb_rec(t, IOSHIM_OP_LOST, IOSHIM_CALL_NONE, IOSHIM_LOST_POSITION, 0, 0, 0, NULL, 0);
    expect_load_error(t, t->len, -EBADMSG, "lost track");
    tb_init(t);
    tb_snapshot(t, NULL, 0);
    tb_rec(t, IOSHIM_OP_FALLOCATE, IOSHIM_CALL_FALLOCATE, 0x08 /* COLLAPSE_RANGE */, 0, 4096, 0,
           NULL, 0);
    expect_load_error(t, t->len, -EOPNOTSUPP, "not modelled");
    tb_init(t);
    tb_snapshot(t, NULL, 0);
    tb_write(t, CRASHIMG_MAX_FILE - 100, big, sizeof(big));
    expect_load_error(t, t->len, -EFBIG, "too large");
    tb_init(t);
    tb_snapshot(t, NULL, 0);
    tb_rec(t, 99, 0, 0, 0, 0, 0, NULL, 0);
    expect_load_error(t, t->len, -EBADMSG, "unknown operation");
    /* Data with a failed write. */
    tb_init(t);
    tb_snapshot(t, NULL, 0);
    tb_rec(t, IOSHIM_OP_WRITE, IOSHIM_CALL_WRITE, 0, 0, 3, -EIO, "abc", 3);
    expect_load_error(t, t->len, -EBADMSG, "failed write");
    free(t);
}

static void test_replay(void **state)
{
    (void)state;
    struct tb *t = calloc(1, sizeof(*t));
    _cleanup_(crashimg_trace_freep) struct crashimg_trace *tr = NULL;
    _cleanup_free_ uint8_t *f = NULL;
    struct crashimg_trace_stats st;
    uint8_t want[64];
    size_t len;
    char err[256];

    assert_non_null(t);
    tb_init(t);
    tb_snapshot(t, "0123456789", 10);
    tb_write(t, 10, "abcdef", 6);                                                 /* 16 */
    tb_rec(t, IOSHIM_OP_WRITE, IOSHIM_CALL_WRITE, 0, 0, 0, -ENOSPC, NULL, 0);     /* no effect */
    tb_rec(t, IOSHIM_OP_TRUNCATE, IOSHIM_CALL_FTRUNCATE, 0, 12, 0, 0, NULL, 0);   /* 12 */
    tb_rec(t, IOSHIM_OP_TRUNCATE, IOSHIM_CALL_FTRUNCATE, 0, 3, 0, -EIO, NULL, 0); /* failed */
    tb_write(t, 20, "XY", 2); /* sparse: 12..19 zero, 22 bytes */
    tb_rec(t, IOSHIM_OP_FALLOCATE, IOSHIM_CALL_FALLOCATE, 0x10 /* ZERO_RANGE */, 1, 2, 0, NULL,
           0); /* "0  3..." */
    tb_rec(t, IOSHIM_OP_FALLOCATE, IOSHIM_CALL_FALLOCATE, 0x01 /* KEEP_SIZE */, 0, 40, 0, NULL,
           0); /* no change */
    tb_rec(t, IOSHIM_OP_FALLOCATE, IOSHIM_CALL_POSIX_FALLOCATE, 0, 0, 26, 0, NULL, 0); /* 26 */
    tb_rec(t, IOSHIM_OP_SYNC_FILE_RANGE, IOSHIM_CALL_SYNC_FILE_RANGE, 0, 0, 0, 0, NULL, 0);
    tb_sync(t);
    tb_rec(t, IOSHIM_OP_FSYNC, IOSHIM_CALL_FSYNC, 0, 0, 0, -EIO, NULL, 0); /* failed sync */
    assert_int_equal(load(t, t->len, &tr, err), 0);
    assert_int_equal(crashimg_final(tr, &f, &len), 0);
    memset(want, 0, sizeof(want));
    memcpy(want, "0123456789ab", 12);
    want[1] = want[2] = 0;
    memcpy(want + 20, "XY", 2);
    assert_int_equal(len, 26);
    assert_memory_equal(f, want, 26);
    crashimg_trace_stats(tr, &st);
    assert_int_equal(st.records, 12);
    assert_int_equal(st.writes, 2);
    assert_int_equal(st.write_bytes, 8);
    assert_int_equal(st.truncates, 1);
    assert_int_equal(st.fallocates, 3);
    assert_int_equal(st.syncs, 1);
    assert_int_equal(st.failed, 3);
    assert_int_equal(st.sync_ranges, 1);
    assert_int_equal(st.max_window_ops, 6);
    assert_int_equal(st.calls[IOSHIM_CALL_FALLOCATE], 2);
    assert_string_equal(crashimg_call_name(IOSHIM_CALL_POSIX_FALLOCATE), "posix_fallocate");
    assert_string_equal(crashimg_call_name(9999), "?");
    assert_string_equal(crashimg_kind_name(CRASHIMG_SUBSET), "subset");
    free(t);
}

/* Everything the generator hands out for one known trace. */
struct seen {
    size_t n, by_kind[CRASHIMG_KIND_MAX], points;
    uint64_t last_point;
    uint64_t hash; /* over the whole sequence: same seed, same images */
    uint64_t subset_hash;
    const uint8_t *target; /* the written bytes of the trace (after the 8-byte magic) */
    size_t target_len;
    int stop_at; /* return -ECANCELED at this image (0: never) */
};

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * UINT64_C(0x100000001b3);
    return h;
}

static int check_cb(void *ctx, const struct crashimg_image *im)
{
    struct seen *s = ctx;
    const struct crashimg_point *pt = im->point;

    s->n++;
    if (s->stop_at && (int)s->n == s->stop_at)
        return -ECANCELED;
    s->by_kind[im->kind]++;
    if (s->n == 1 || pt->index != s->last_point)
        s->points++;
    s->last_point = pt->index;
    /* Every image starts with the acknowledged prefix and is no longer than the window. */
    assert_true(im->len >= pt->acked_len);
    assert_memory_equal(im->data, pt->state[0], pt->acked_len);
    assert_true(im->len <= pt->state_len[pt->nstates - 1]);
    if (pt->index == 1) {
        /* Window 1 writes target at 8: each byte after the magic is the target's or zero. */
        assert_int_equal(pt->acked_len, 8);
        for (size_t i = 8; i < im->len; i++)
            assert_true(im->data[i] == 0 || im->data[i] == s->target[i - 8]);
        if (im->kind == CRASHIMG_TORN_SHORT)
            assert_int_equal(im->len % im->unit, 0); /* ends at a unit boundary */
        if (im->kind == CRASHIMG_TORN_ZERO)
            assert_int_equal(im->len, 8 + s->target_len);
        if (im->kind == CRASHIMG_SUBSET || im->kind == CRASHIMG_TORN_SHORT ||
            im->kind == CRASHIMG_TORN_ZERO) {
            /* Units are all-new or all-old: no unit mixes target bytes and zeros. */
            for (size_t u = 0; u * im->unit < im->len; u++) {
                size_t lo = MAX(u * im->unit, (size_t)8), hi = MIN((u + 1) * im->unit, im->len);
                bool any_new = false, any_old = false;
                for (size_t i = lo; i < hi; i++) {
                    any_new |= im->data[i] != 0;
                    any_old |= im->data[i] == 0;
                }
                assert_false(any_new && any_old);
            }
        }
        if (im->kind == CRASHIMG_SUBSET) {
            /* A hole: a zero unit before a written one. */
            bool zero_seen = false, hole = false;
            for (size_t u = 0; u * im->unit < im->len; u++) {
                size_t lo = MAX(u * im->unit, (size_t)8);
                if (lo >= im->len)
                    break;
                if (im->data[lo] == 0)
                    zero_seen = true;
                else if (zero_seen)
                    hole = true;
            }
            assert_true(hole);
            s->subset_hash = fnv(s->subset_hash, im->data, im->len);
        }
    }
    s->hash = fnv(s->hash, &im->kind, sizeof(im->kind));
    s->hash = fnv(s->hash, im->data, im->len);
    return 0;
}

static void known_trace(struct tb *t, uint8_t *target, size_t n)
{
    for (size_t i = 0; i < n; i++)
        target[i] = (uint8_t)(1 + i % 251); /* never zero */
    tb_init(t);
    tb_snapshot(t, NULL, 0);
    tb_write(t, 0, T_MAGIC, 8);
    tb_sync(t);
    tb_write(t, 8, target, n);
    tb_sync(t);
}

static void test_images(void **state)
{
    (void)state;
    struct tb *t = calloc(1, sizeof(*t));
    _cleanup_(crashimg_trace_freep) struct crashimg_trace *tr = NULL;
    static uint8_t target[8000];
    struct crashimg_params p;
    struct crashimg_stats st = {0}, st2 = {0};
    struct seen a = {.target = target, .target_len = sizeof(target)}, b = a, c = a;
    char err[256];

    assert_non_null(t);
    known_trace(t, target, sizeof(target));
    assert_int_equal(load(t, t->len, &tr, err), 0);
    crashimg_params_default(&p);
    assert_int_equal(crashimg_generate(tr, &p, check_cb, &a, &st), 0);
    /* Points: before the first sync, between the two, after the last. */
    assert_int_equal(st.points, 3);
    assert_int_equal(a.points, 3);
    assert_int_equal(st.images, a.n);
    for (int k = 0; k < CRASHIMG_KIND_MAX; k++)
        assert_int_equal(st.by_kind[k], a.by_kind[k]);
    /* One clean image per point (C_m is the next point's C_0), torn and holed ones. */
    assert_int_equal(st.by_kind[CRASHIMG_CLEAN], 3);
    assert_true(st.by_kind[CRASHIMG_TORN_SHORT] >= CRASHIMG_MAX_CUTS - 1);
    assert_true(st.by_kind[CRASHIMG_TORN_ZERO] >= CRASHIMG_MAX_CUTS);
    assert_true(st.by_kind[CRASHIMG_SUBSET] >= CRASHIMG_SUBSETS_512);
    /* Short tails: 3 in the 8008-byte window, up to 3 (distinct) of the 8-byte magic. */
    assert_true(st.by_kind[CRASHIMG_SHORT_TAIL] > CRASHIMG_SHORT_TAILS);
    assert_true(st.by_kind[CRASHIMG_SHORT_TAIL] <= 2 * CRASHIMG_SHORT_TAILS);
    assert_true(st.duplicates > 0);
    assert_int_equal(st.capped, 0);
    /* Same seed, same images; another seed, other holes. */
    assert_int_equal(crashimg_generate(tr, &p, check_cb, &b, &st2), 0);
    assert_int_equal(a.hash, b.hash);
    p.seed = 2;
    assert_int_equal(crashimg_generate(tr, &p, check_cb, &c, &st2), 0);
    assert_true(a.subset_hash != c.subset_hash);
    /* The cap per point, and a callback error stops the run (stats untouched). */
    crashimg_params_default(&p);
    p.max_per_point = 3;
    memset(&b, 0, sizeof(b));
    b.target = target;
    b.target_len = sizeof(target);
    assert_int_equal(crashimg_generate(tr, &p, check_cb, &b, &st2), 0);
    assert_int_equal(st2.capped, 2);
    assert_int_equal(st2.images, 1 + 3 + 3);
    memset(&st2, 0x5a, sizeof(st2));
    memset(&b, 0, sizeof(b));
    b.target = target;
    b.target_len = sizeof(target);
    b.stop_at = 4;
    assert_int_equal(crashimg_generate(tr, &p, check_cb, &b, &st2), -ECANCELED);
    assert_int_equal(st2.points, UINT64_C(0x5a5a5a5a5a5a5a5a));
    /* Quick budget: fewer images, every point. */
    crashimg_params_quick(&p);
    assert_int_equal(crashimg_generate(tr, &p, check_cb, &c, &st2), 0);
    assert_int_equal(st2.points, 3);
    assert_true(st2.images < st.images);
    assert_int_equal(crashimg_generate(tr, NULL, check_cb, &c, &st2), -EINVAL);
    free(t);
}

static int count_cb(void *ctx, const struct crashimg_image *im)
{
    (void)im;
    (*(size_t *)ctx)++;
    return 0;
}

static void test_window_limit(void **state)
{
    (void)state;
    struct tb *t = calloc(1, sizeof(*t));
    struct crashimg_trace *tr = NULL;
    struct crashimg_params p;
    struct crashimg_stats st;
    size_t n = 0;
    char err[256];

    assert_non_null(t);
    tb_init(t);
    tb_snapshot(t, NULL, 0);
    for (uint32_t i = 0; i <= CRASHIMG_MAX_WINDOW_OPS; i++)
        tb_write(t, i, "z", 1);
    assert_int_equal(load(t, t->len, &tr, err), 0);
    crashimg_params_default(&p);
    assert_int_equal(crashimg_generate(tr, &p, count_cb, &n, &st), -E2BIG);
    tr = crashimg_trace_free(tr);
    assert_null(tr);
    free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_load_errors),
            cmocka_unit_test(test_replay),
            cmocka_unit_test(test_images),
            cmocka_unit_test(test_window_limit),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
