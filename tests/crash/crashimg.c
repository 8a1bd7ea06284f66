/* SPDX-License-Identifier: Apache-2.0 */
#include "crashimg.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fd-util.h"
#include "macro.h"

/* fallocate modes the model knows (linux/falloc.h values, stable ABI). */
#define CRASHIMG_FL_KEEP_SIZE  0x01u
#define CRASHIMG_FL_PUNCH_HOLE 0x02u
#define CRASHIMG_FL_ZERO_RANGE 0x10u

enum op_kind { OP_WRITE, OP_TRUNCATE, OP_FALLOCATE, OP_SYNC };

struct op {
    enum op_kind kind;
    uint32_t arg;
    uint64_t off, len;
    const uint8_t *data; /* into the trace buffer (writes) */
};

struct crashimg_trace {
    uint8_t *buf;
    const uint8_t *initial;
    size_t initial_len;
    struct op *ops;
    size_t nops;
    struct crashimg_trace_stats stats;
};

/* A file's content in memory: bytes [0, len) of p; growth is zero-filled. */
struct fbuf {
    uint8_t *p;
    size_t len, cap;
};

static const char *const kind_names[CRASHIMG_KIND_MAX] = {
        [CRASHIMG_CLEAN] = "clean",           [CRASHIMG_TORN_SHORT] = "torn-short",
        [CRASHIMG_TORN_ZERO] = "torn-zero",   [CRASHIMG_SUBSET] = "subset",
        [CRASHIMG_SHORT_TAIL] = "short-tail",
};

static const char *const call_names[IOSHIM_CALL_MAX] = {
        [IOSHIM_CALL_NONE] = "none",
        [IOSHIM_CALL_OPEN] = "open",
        [IOSHIM_CALL_OPENAT] = "openat",
        [IOSHIM_CALL_CREAT] = "creat",
        [IOSHIM_CALL_DUP] = "dup",
        [IOSHIM_CALL_DUP2] = "dup2",
        [IOSHIM_CALL_DUP3] = "dup3",
        [IOSHIM_CALL_FCNTL] = "fcntl",
        [IOSHIM_CALL_CLOSE] = "close",
        [IOSHIM_CALL_CLOSE_RANGE] = "close_range",
        [IOSHIM_CALL_WRITE] = "write",
        [IOSHIM_CALL_PWRITE] = "pwrite",
        [IOSHIM_CALL_WRITEV] = "writev",
        [IOSHIM_CALL_PWRITEV] = "pwritev",
        [IOSHIM_CALL_PWRITEV2] = "pwritev2",
        [IOSHIM_CALL_FTRUNCATE] = "ftruncate",
        [IOSHIM_CALL_FALLOCATE] = "fallocate",
        [IOSHIM_CALL_POSIX_FALLOCATE] = "posix_fallocate",
        [IOSHIM_CALL_FSYNC] = "fsync",
        [IOSHIM_CALL_FDATASYNC] = "fdatasync",
        [IOSHIM_CALL_SYNC_FILE_RANGE] = "sync_file_range",
};

const char *crashimg_kind_name(enum crashimg_kind k)
{
    return (unsigned)k < CRASHIMG_KIND_MAX ? kind_names[k] : "?";
}

const char *crashimg_call_name(uint32_t call)
{
    return call < IOSHIM_CALL_MAX && call_names[call] ? call_names[call] : "?";
}

_printf_(4, 5) static int fail(char *err, size_t len, int r, const char *fmt, ...)
{
    va_list ap;
    if (err && len) {
        va_start(ap, fmt);
        (void)vsnprintf(err, len, fmt, ap);
        va_end(ap);
    }
    return r;
}

struct crashimg_trace *crashimg_trace_free(struct crashimg_trace *t)
{
    if (!t)
        return NULL;
    free(t->buf);
    free(t->ops);
    free(t);
    return NULL;
}

void crashimg_trace_freep(struct crashimg_trace **t)
{
    *t = crashimg_trace_free(*t);
}

/* off + len within the modelled file size. */
static bool range_ok(uint64_t off, uint64_t len)
{
    return off <= CRASHIMG_MAX_FILE && len <= CRASHIMG_MAX_FILE - off;
}

static int add_op(struct crashimg_trace *t, size_t *cap, const struct op *o)
{
    if (t->nops == *cap) {
        size_t ncap = *cap ? *cap * 2 : 256;
        struct op *n = reallocarray(t->ops, ncap, sizeof(*n));
        if (!n)
            return -ENOMEM;
        t->ops = n;
        *cap = ncap;
    }
    t->ops[t->nops++] = *o;
    return 0;
}

/* One record at p (rec already copied out): validate it and append its operation, if any. */
static int parse_record(struct crashimg_trace *t, size_t *cap, const struct ioshim_rec *r,
                        const uint8_t *data, size_t avail, size_t *ret_data_len, char *err,
                        size_t errlen)
{
    struct crashimg_trace_stats *s = &t->stats;
    struct op o = {0};

    *ret_data_len = 0;
    if (r->call < IOSHIM_CALL_MAX)
        s->calls[r->call]++;
    switch (r->op) {
    case IOSHIM_OP_SNAPSHOT:
        if (r->seq != 0 || !range_ok(0, r->len) || r->len > avail)
            return fail(err, errlen, -EBADMSG, "record %llu: bad snapshot",
                        (unsigned long long)r->seq);
        t->initial = data;
        t->initial_len = (size_t)r->len;
        *ret_data_len = (size_t)r->len;
        return 0;
    case IOSHIM_OP_OPEN:
        s->opens++;
        return 0;
    case IOSHIM_OP_DUP:
        s->dups++;
        return 0;
    case IOSHIM_OP_CLOSE:
        s->closes++;
        return 0;
    case IOSHIM_OP_SYNC_FILE_RANGE:
        s->sync_ranges++;
        return 0;
    case IOSHIM_OP_WRITE:
        if (r->result <= 0) {
            if (r->len != 0)
                return fail(err, errlen, -EBADMSG, "record %llu: data with a failed write",
                            (unsigned long long)r->seq);
            s->failed += r->result < 0;
            return 0;
        }
        if ((uint64_t)r->result != r->len || r->len > avail || !range_ok(r->off, r->len))
            return fail(err, errlen, r->len > avail ? -EBADMSG : -EFBIG,
                        "record %llu: write of %llu bytes at %llu is truncated or too large",
                        (unsigned long long)r->seq, (unsigned long long)r->len,
                        (unsigned long long)r->off);
        *ret_data_len = (size_t)r->len;
        s->writes++;
        s->write_bytes += r->len;
        o = (struct op){.kind = OP_WRITE, .off = r->off, .len = r->len, .data = data};
        return add_op(t, cap, &o);
    case IOSHIM_OP_TRUNCATE:
        if (r->result < 0) {
            s->failed++;
            return 0;
        }
        if (!range_ok(r->off, 0))
            return fail(err, errlen, -EFBIG, "record %llu: truncate beyond the limit",
                        (unsigned long long)r->seq);
        s->truncates++;
        o = (struct op){.kind = OP_TRUNCATE, .off = r->off};
        return add_op(t, cap, &o);
    case IOSHIM_OP_FALLOCATE: {
        uint32_t m = r->arg & ~CRASHIMG_FL_KEEP_SIZE;
        if (r->result < 0) {
            s->failed++;
            return 0;
        }
        if ((m != 0 && m != CRASHIMG_FL_PUNCH_HOLE && m != CRASHIMG_FL_ZERO_RANGE) ||
            (m == CRASHIMG_FL_PUNCH_HOLE && !(r->arg & CRASHIMG_FL_KEEP_SIZE)))
            return fail(err, errlen, -EOPNOTSUPP, "record %llu: fallocate mode %#x not modelled",
                        (unsigned long long)r->seq, r->arg);
        if (!(r->arg & CRASHIMG_FL_KEEP_SIZE) && !range_ok(r->off, r->len))
            return fail(err, errlen, -EFBIG, "record %llu: fallocate beyond the limit",
                        (unsigned long long)r->seq);
        s->fallocates++;
        o = (struct op){.kind = OP_FALLOCATE, .arg = r->arg, .off = r->off, .len = r->len};
        return add_op(t, cap, &o);
    }
    case IOSHIM_OP_FSYNC:
    case IOSHIM_OP_FDATASYNC:
        if (r->result < 0) {
            s->failed++;
            return 0;
        }
        s->syncs++;
        o = (struct op){.kind = OP_SYNC};
        return add_op(t, cap, &o);
    case IOSHIM_OP_LOST:
        return fail(err, errlen, -EBADMSG,
                    "record %llu: the shim lost track of the file (reason %u): trace unusable",
                    (unsigned long long)r->seq, r->arg);
    default:
        return fail(err, errlen, -EBADMSG, "record %llu: unknown operation %u",
                    (unsigned long long)r->seq, r->op);
    }
}

int crashimg_trace_load(const char *path, struct crashimg_trace **ret, char *err, size_t errlen)
{
    _cleanup_(crashimg_trace_freep) struct crashimg_trace *t = NULL;
    struct ioshim_rec r;
    uint32_t rec_size;
    size_t len, pos, cap = 0, window = 0;
    uint64_t n = 0;
    int e;

    if (!path || !ret)
        return -EINVAL;
    t = calloc(1, sizeof(*t));
    if (!t)
        return -ENOMEM;
    e = read_file_bounded(path, CRASHIMG_MAX_TRACE, &t->buf, &len);
    if (e < 0)
        return fail(err, errlen, e, "cannot read the trace %s: %s", path, strerror(-e));
    if (len < IOSHIM_MAGIC_LEN + 8 || memcmp(t->buf, IOSHIM_MAGIC, IOSHIM_MAGIC_LEN) != 0)
        return fail(err, errlen, -EBADMSG, "%s is not an ioshim trace", path);
    memcpy(&rec_size, t->buf + IOSHIM_MAGIC_LEN, sizeof(rec_size));
    if (rec_size != sizeof(struct ioshim_rec))
        return fail(err, errlen, -EBADMSG, "%s: record size %u, expected %zu", path, rec_size,
                    sizeof(struct ioshim_rec));
    for (pos = IOSHIM_MAGIC_LEN + 8; pos < len; n++) {
        size_t dlen;
        if (len - pos < sizeof(r))
            return fail(err, errlen, -EBADMSG, "%s: truncated record at byte %zu", path, pos);
        memcpy(&r, t->buf + pos, sizeof(r));
        pos += sizeof(r);
        if (r.seq != n || (n == 0) != (r.op == IOSHIM_OP_SNAPSHOT))
            return fail(err, errlen, -EBADMSG, "%s: record %llu out of sequence or misplaced", path,
                        (unsigned long long)n);
        e = parse_record(t, &cap, &r, t->buf + pos, len - pos, &dlen, err, errlen);
        if (e < 0)
            return e;
        pos += dlen;
    }
    if (n == 0)
        return fail(err, errlen, -EBADMSG, "%s: no snapshot record", path);
    for (size_t i = 0; i < t->nops; i++) {
        window = t->ops[i].kind == OP_SYNC ? 0 : window + 1;
        t->stats.max_window_ops = MAX(t->stats.max_window_ops, window);
    }
    t->stats.records = n;
    *ret = TAKE_PTR(t);
    return 0;
}

void crashimg_trace_stats(const struct crashimg_trace *t, struct crashimg_trace_stats *ret)
{
    *ret = t->stats;
}

/* Room for n bytes; p is never NULL afterwards (an empty file still has a buffer). */
static int fbuf_reserve(struct fbuf *f, size_t n)
{
    if (n <= f->cap && f->p)
        return 0;
    size_t ncap = MAX(MAX(n, f->cap * 2), (size_t)64);
    uint8_t *p = realloc(f->p, ncap);
    if (!p)
        return -ENOMEM;
    f->p = p;
    f->cap = ncap;
    return 0;
}

/* Set the size to n; new bytes read as zero. */
static int fbuf_resize(struct fbuf *f, size_t n)
{
    int e = fbuf_reserve(f, n);
    if (e < 0)
        return e;
    if (n > f->len)
        memset(f->p + f->len, 0, n - f->len);
    f->len = n;
    return 0;
}

static int fbuf_copy(struct fbuf *dst, const struct fbuf *src)
{
    int e = fbuf_reserve(dst, src->len);
    if (e < 0)
        return e;
    if (src->len)
        memcpy(dst->p, src->p, src->len);
    dst->len = src->len;
    return 0;
}

static int apply(struct fbuf *f, const struct op *o)
{
    size_t end;
    int e = 0;

    switch (o->kind) {
    case OP_WRITE:
        end = (size_t)(o->off + o->len);
        if (end > f->len)
            e = fbuf_resize(f, end);
        if (e >= 0)
            memcpy(f->p + o->off, o->data, (size_t)o->len);
        return e;
    case OP_TRUNCATE:
        return fbuf_resize(f, (size_t)o->off);
    case OP_FALLOCATE:
        if (o->arg & (CRASHIMG_FL_PUNCH_HOLE | CRASHIMG_FL_ZERO_RANGE)) {
            if (o->off < f->len)
                memset(f->p + o->off, 0, (size_t)MIN(o->len, f->len - o->off));
        }
        if (!(o->arg & CRASHIMG_FL_KEEP_SIZE) && o->off + o->len > f->len)
            e = fbuf_resize(f, (size_t)(o->off + o->len));
        return e;
    case OP_SYNC:
        return 0;
    }
    return -EINVAL;
}

int crashimg_final(const struct crashimg_trace *t, uint8_t **ret, size_t *ret_len)
{
    struct fbuf f = {0};
    int e = fbuf_resize(&f, t->initial_len);

    if (e >= 0 && t->initial_len)
        memcpy(f.p, t->initial, t->initial_len);
    for (size_t i = 0; e >= 0 && i < t->nops; i++)
        e = apply(&f, &t->ops[i]);
    if (e < 0) {
        free(f.p);
        return e;
    }
    *ret = f.p ? f.p : malloc(1);
    if (!*ret)
        return -ENOMEM;
    *ret_len = f.len;
    return 0;
}

void crashimg_params_default(struct crashimg_params *ret)
{
    *ret = (struct crashimg_params){
            .seed = 1,
            .max_cuts = CRASHIMG_MAX_CUTS,
            .subsets_512 = CRASHIMG_SUBSETS_512,
            .subsets_4096 = CRASHIMG_SUBSETS_4096,
            .short_tails = CRASHIMG_SHORT_TAILS,
            .max_per_point = CRASHIMG_MAX_PER_POINT,
    };
}

void crashimg_params_quick(struct crashimg_params *ret)
{
    crashimg_params_default(ret);
    ret->max_cuts = CRASHIMG_QUICK_CUTS;
    ret->subsets_512 = CRASHIMG_QUICK_SUBSETS_512;
    ret->subsets_4096 = CRASHIMG_QUICK_SUBSETS_4096;
    ret->short_tails = CRASHIMG_QUICK_SHORT_TAILS;
}

/* splitmix64: a small, well-mixed, seedable generator (reproducible images). */
static uint64_t next_rand(uint64_t *s)
{
    uint64_t z = (*s += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

/* Everything needed while the images of one crash point are produced. */
struct point_gen {
    const struct crashimg_params *p;
    struct crashimg_point pt;
    crashimg_cb cb;
    void *ctx;
    struct crashimg_stats *st;
    uint8_t *img; /* scratch image, capacity cap */
    size_t cap;
    /* Tails (bytes after acked_len) of the images already emitted, for exact dedup. */
    uint8_t **seen;
    size_t *seen_len;
    size_t nseen;
    bool capped;
    uint8_t *present; /* per unit of the write being torn */
    size_t present_cap;
};

static int emit_image(struct point_gen *g, enum crashimg_kind kind, uint32_t unit, uint32_t op,
                      uint32_t variant, size_t len)
{
    struct crashimg_image im = {
            .point = &g->pt,
            .kind = kind,
            .unit = unit,
            .op = op,
            .variant = variant,
            .data = g->img,
            .len = len,
    };
    size_t a = g->pt.acked_len, tl = len - a;
    uint8_t *copy;

    for (size_t i = 0; i < g->nseen; i++)
        if (g->seen_len[i] == tl && memcmp(g->seen[i], g->img + a, tl) == 0) {
            g->st->duplicates++;
            return 0;
        }
    if (g->nseen >= g->p->max_per_point) {
        g->capped = true;
        return 0;
    }
    copy = malloc(tl ? tl : 1);
    if (!copy)
        return -ENOMEM;
    if (tl)
        memcpy(copy, g->img + a, tl);
    g->seen[g->nseen] = copy;
    g->seen_len[g->nseen] = tl;
    g->nseen++;
    g->st->images++;
    g->st->by_kind[kind]++;
    return g->cb(g->ctx, &im);
}

/*
 * The image of write o (base -> target) torn at unit size u: units marked in g->present are
 * on disk (target's bytes), the others keep base's bytes (zero beyond base's size); the file
 * size is size.
 */
static void build_torn(struct point_gen *g, const uint8_t *base, size_t base_len,
                       const uint8_t *target, size_t target_len, const struct op *o, uint32_t u,
                       size_t size)
{
    size_t u0 = (size_t)o->off / u, u1 = (size_t)(o->off + o->len - 1) / u;

    memset(g->img, 0, size);
    memcpy(g->img, base, MIN(base_len, size));
    for (size_t k = u0; k <= u1; k++) {
        size_t lo = k * u, hi = MIN(MIN((k + 1) * u, target_len), size);
        if (g->present[k - u0] && lo < hi)
            memcpy(g->img + lo, target + lo, hi - lo);
    }
}

/* The i-th of n cut points spread over [lo, hi] (all of them when there are few). */
static size_t nth_cut(size_t lo, size_t hi, size_t i, size_t n)
{
    size_t count = hi - lo + 1;
    if (count <= n)
        return lo + i;
    return lo + (count - 1) * i / (n - 1);
}

static int torn_images(struct point_gen *g, uint32_t j, const struct op *o, uint32_t u,
                       uint32_t nsubsets, uint64_t *rng)
{
    const uint8_t *base = g->pt.state[j - 1], *target = g->pt.state[j];
    size_t bl = g->pt.state_len[j - 1], tl = g->pt.state_len[j];
    size_t u0 = (size_t)o->off / u, n = (size_t)(o->off + o->len - 1) / u - u0 + 1;
    int e;

    if (n > g->present_cap) {
        uint8_t *p = realloc(g->present, n);
        if (!p)
            return -ENOMEM;
        g->present = p;
        g->present_cap = n;
    }
    /* Prefixes of units: i units on disk, i = 0 .. n-1 (i = n is C_j itself). */
    size_t ncuts = MIN(n, (size_t)g->p->max_cuts);
    for (size_t c = 0; c < ncuts; c++) {
        size_t i = nth_cut(0, n - 1, c, ncuts);
        size_t cut_end = (u0 + i) * u;
        memset(g->present, 0, n);
        memset(g->present, 1, i);
        /* Short: the size ends after the last unit on disk (not below the old size). */
        size_t short_len = MAX(bl, MIN(tl, cut_end));
        build_torn(g, base, bl, target, tl, o, u, short_len);
        e = emit_image(g, CRASHIMG_TORN_SHORT, u, j, (uint32_t)i, short_len);
        if (e < 0)
            return e;
        build_torn(g, base, bl, target, tl, o, u, tl);
        e = emit_image(g, CRASHIMG_TORN_ZERO, u, j, (uint32_t)i, tl);
        if (e < 0)
            return e;
    }
    /* Random subsets with a hole: a unit missing before a unit on disk. */
    for (uint32_t v = 0; n >= 2 && v < nsubsets; v++) {
        bool hole = false;
        size_t last = 0;
        for (uint32_t a = 0; !hole && a < CRASHIMG_SUBSET_ATTEMPTS; a++) {
            bool missing = false;
            for (size_t k = 0; k < n; k++) {
                g->present[k] = next_rand(rng) & 1;
                if (!g->present[k])
                    missing = true;
                else if (missing)
                    hole = true;
                if (g->present[k])
                    last = k;
            }
        }
        if (!hole)
            continue;
        size_t len = v % 2 == 0 ? tl : MAX(bl, MIN(tl, (u0 + last + 1) * u));
        build_torn(g, base, bl, target, tl, o, u, len);
        e = emit_image(g, CRASHIMG_SUBSET, u, j, v, len);
        if (e < 0)
            return e;
    }
    return 0;
}

/* synced_after: the window ends with a sync, so C_m is the next point's C_0 (checked there,
 * against a longer acknowledged prefix) and is counted as a duplicate here. */
static int point_images(struct point_gen *g, const struct op *const *wops, size_t m,
                        bool synced_after)
{
    const struct crashimg_params *p = g->p;
    uint64_t rng = p->seed ^ (g->pt.index * UINT64_C(0xD1B54A32D192ED03));
    size_t last_len = g->pt.state_len[m];
    int e;

    for (size_t j = 0; j <= m; j++) {
        if (j == m && m > 0 && synced_after) {
            g->st->duplicates++;
            continue;
        }
        memcpy(g->img, g->pt.state[j], g->pt.state_len[j]);
        e = emit_image(g, CRASHIMG_CLEAN, 0, (uint32_t)j, 0, g->pt.state_len[j]);
        if (e < 0)
            return e;
    }
    for (size_t j = 1; j <= m; j++) {
        if (wops[j - 1]->kind != OP_WRITE || wops[j - 1]->len == 0)
            continue;
        e = torn_images(g, (uint32_t)j, wops[j - 1], CRASHIMG_SECTOR, p->subsets_512, &rng);
        if (e >= 0)
            e = torn_images(g, (uint32_t)j, wops[j - 1], CRASHIMG_BLOCK, p->subsets_4096, &rng);
        if (e < 0)
            return e;
    }
    /* Short tails: the window's last state cut at a byte after the acknowledged prefix. */
    for (uint32_t v = 0; last_len >= g->pt.acked_len + 2 && v < p->short_tails; v++) {
        size_t len = g->pt.acked_len + 1 + next_rand(&rng) % (last_len - g->pt.acked_len - 1);
        memcpy(g->img, g->pt.state[m], len);
        e = emit_image(g, CRASHIMG_SHORT_TAIL, 1, (uint32_t)m, v, len);
        if (e < 0)
            return e;
    }
    return 0;
}

static void point_reset(struct point_gen *g)
{
    for (size_t i = 0; i < g->nseen; i++)
        free(g->seen[i]);
    g->nseen = 0;
    g->capped = false;
}

int crashimg_generate(const struct crashimg_trace *t, const struct crashimg_params *p,
                      crashimg_cb cb, void *ctx, struct crashimg_stats *ret_stats)
{
    struct crashimg_stats st = {0};
    struct fbuf states[CRASHIMG_MAX_WINDOW_OPS + 1] = {{0}};
    const uint8_t *sp[CRASHIMG_MAX_WINDOW_OPS + 1];
    size_t sl[CRASHIMG_MAX_WINDOW_OPS + 1];
    const struct op *wops[CRASHIMG_MAX_WINDOW_OPS];
    struct point_gen g = {.p = p, .cb = cb, .ctx = ctx, .st = &st};
    size_t i = 0;
    int e = 0;

    if (!t || !p || !cb || p->max_per_point == 0)
        return -EINVAL;
    g.seen = calloc(p->max_per_point, sizeof(*g.seen));
    g.seen_len = calloc(p->max_per_point, sizeof(*g.seen_len));
    if (!g.seen || !g.seen_len)
        e = -ENOMEM;
    if (e >= 0)
        e = fbuf_resize(&states[0], t->initial_len);
    if (e >= 0 && t->initial_len)
        memcpy(states[0].p, t->initial, t->initial_len);

    for (uint64_t k = 0; e >= 0; k++) {
        size_t m = 0, maxlen;
        /* The window: mutating operations up to the next successful sync. */
        while (i < t->nops && t->ops[i].kind != OP_SYNC) {
            if (m == CRASHIMG_MAX_WINDOW_OPS) {
                e = -E2BIG;
                break;
            }
            wops[m++] = &t->ops[i++];
        }
        maxlen = states[0].len;
        for (size_t j = 1; e >= 0 && j <= m; j++) {
            e = fbuf_copy(&states[j], &states[j - 1]);
            if (e >= 0)
                e = apply(&states[j], wops[j - 1]);
            maxlen = MAX(maxlen, states[j].len);
        }
        if (e < 0)
            break;
        g.pt = (struct crashimg_point){.index = k, .nstates = m + 1, .state = sp, .state_len = sl};
        g.pt.acked_len = states[0].len;
        for (size_t j = 0; j <= m; j++) {
            sp[j] = states[j].p;
            sl[j] = states[j].len;
            size_t c = 0, lim = MIN(g.pt.acked_len, states[j].len);
            while (c < lim && states[j].p[c] == states[0].p[c])
                c++;
            g.pt.acked_len = c;
        }
        if (maxlen > g.cap || !g.img) {
            uint8_t *n = realloc(g.img, MAX(maxlen, (size_t)1));
            if (!n) {
                e = -ENOMEM;
                break;
            }
            g.img = n;
            g.cap = maxlen;
        }
        st.points++;
        point_reset(&g);
        e = point_images(&g, wops, m, i < t->nops);
        st.capped += g.capped;
        if (e < 0)
            break;
        /* The next window starts from everything applied and synced. */
        if (m > 0) {
            struct fbuf tmp = states[0];
            states[0] = states[m];
            states[m] = tmp;
        }
        if (i >= t->nops)
            break;
        i++; /* the sync */
    }
    point_reset(&g);
    for (size_t j = 0; j <= CRASHIMG_MAX_WINDOW_OPS; j++)
        free(states[j].p);
    free(g.img);
    free(g.seen);
    free(g.seen_len);
    free(g.present);
    if (e < 0)
        return e;
    if (ret_stats)
        *ret_stats = st;
    return 0;
}
