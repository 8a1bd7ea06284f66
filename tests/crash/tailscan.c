/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tailscan LOG: logrec_scan (lib/format/logrec.c) on holes of an unsynced final batch versus
 * damage, crafted on bytes of a valid log (made by test-mklog; any record format works: only
 * the scan's own record offsets are used). LOG must scan clean and be at least
 * TAILSCAN_MIN_LOG bytes.
 *
 *   inside  = in the last TAILSCAN_NEAR bytes (well within the scanner's batch window)
 *   outside = at least TAILSCAN_FAR bytes before the end (well beyond it)
 *
 * Expected: a zeroed 512-byte sector or 4 KiB block inside, and the bytes from the start of a
 * record to its sector's end zeroed inside (the batch began in that sector), are torn tails cut
 * at the record they hit; the same outside is damage; a bit flip in any record but the last
 * inside is damage; a zeroed block INSERTED before a record inside (the record that should
 * continue the chain is still there, intact, further on) is damage, while the same block
 * overwriting that record is a torn tail. Exit 0 when all hold, 1 otherwise (each failure
 * printed), 2 usage or an unusable LOG.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fd-util.h"
#include "logrec.h"
#include "macro.h"

#define TAILSCAN_MAX_LOG  (64u * 1024u * 1024u)
#define TAILSCAN_MAX_RECS 100000u
#define TAILSCAN_NEAR     (LOGREC_MAX_BATCH / 4u)
#define TAILSCAN_FAR      (LOGREC_MAX_BATCH * 3u)
#define TAILSCAN_MIN_LOG  (TAILSCAN_FAR + LOGREC_MAX_BATCH)
#define TAILSCAN_INSERT   1024u /* zero bytes inserted before a record */
#define TAILSCAN_SECTOR   512u
#define TAILSCAN_BLOCK    4096u

struct log {
    const uint8_t *data;
    size_t len;
    size_t off[TAILSCAN_MAX_RECS + 1]; /* record i starts at off[i]; off[n] = end */
    size_t n;
};

static int failures;

static int collect(void *ctx, const struct logrec *r, const uint8_t *body, size_t body_len,
                   const uint8_t chain[static LOGREC_HASH])
{
    struct log *l = ctx;
    if (l->n >= TAILSCAN_MAX_RECS)
        return -E2BIG;
    l->off[l->n] = (size_t)(body - l->data) - 4;
    l->n++;
    l->off[l->n] = (size_t)(body - l->data) + body_len + LOGREC_HASH;
    return 0;
}

/* The record holding byte p. */
static size_t record_at(const struct log *l, size_t p)
{
    size_t i = 0;
    while (i + 1 < l->n && l->off[i + 1] <= p)
        i++;
    return i;
}

static bool quiet; /* print failures only */

/* want_torn: 0 with torn at record want_rec; else -EBADMSG after want_rec records. */
static void expect(const char *what, const uint8_t *d, size_t len, const struct log *l,
                   bool want_torn, size_t want_rec)
{
    size_t end;
    uint64_t count;
    uint8_t chain[LOGREC_HASH];
    bool torn;
    int r = logrec_scan(d, len, NULL, NULL, &end, &count, chain, &torn);
    bool ok = want_torn ? r == 0 && torn : r == -EBADMSG && !torn;

    ok = ok && count == want_rec && end == l->off[want_rec];
    if (!ok) {
        failures++;
        fprintf(stderr,
                "FAIL: %s: scan %d torn %d count %llu end %zu; expected %s after %zu "
                "records (offset %zu)\n",
                what, r, torn, (unsigned long long)count, end, want_torn ? "torn" : "damage",
                want_rec, l->off[want_rec]);
    } else if (!quiet) {
        printf("ok: %s: %s after %zu records\n", what, want_torn ? "torn tail" : "damage",
               want_rec);
    }
}

/* A copy of the log with [at, at + n) zeroed. */
static void zeroed(const struct log *l, uint8_t *d, size_t at, size_t n)
{
    memcpy(d, l->data, l->len);
    memset(d + at, 0, n);
}

int main(int argc, char *argv[])
{
    _cleanup_free_ uint8_t *data = NULL, *d = NULL;
    struct log *l;
    size_t len, end, s;
    uint64_t count;
    uint8_t chain[LOGREC_HASH];
    bool torn;
    int r;

    if (argc != 2) {
        fprintf(stderr, "usage: tailscan LOG\n");
        return 2;
    }
    r = read_file_bounded(argv[1], TAILSCAN_MAX_LOG, &data, &len);
    l = calloc(1, sizeof(*l));
    if (r < 0 || !l) {
        fprintf(stderr, "tailscan: cannot read %s: %s\n", argv[1], strerror(r < 0 ? -r : ENOMEM));
        free(l);
        return 2;
    }
    l->data = data;
    l->len = len;
    l->off[0] = LOGREC_MAGIC_LEN;
    r = logrec_scan(data, len, collect, l, &end, &count, chain, &torn);
    if (r < 0 || torn || end != len || len < TAILSCAN_MIN_LOG || l->n < 16) {
        fprintf(stderr, "tailscan: %s must be a clean log of at least %u bytes\n", argv[1],
                TAILSCAN_MIN_LOG);
        free(l);
        return 2;
    }
    d = malloc(len + TAILSCAN_INSERT);
    if (!d) {
        free(l);
        return 2;
    }

    /* Inside the window: an aligned sector and a block that have records after them. */
    s = (len - TAILSCAN_NEAR) / TAILSCAN_SECTOR * TAILSCAN_SECTOR;
    zeroed(l, d, s, TAILSCAN_SECTOR);
    expect("zeroed sector near the end", d, len, l, true, record_at(l, s));
    s = (len - TAILSCAN_NEAR) / TAILSCAN_BLOCK * TAILSCAN_BLOCK;
    zeroed(l, d, s, TAILSCAN_BLOCK);
    expect("zeroed 4 KiB block near the end", d, len, l, true, record_at(l, s));

    /* The batch began inside a sector: zeros from a record's start to the sector's end. */
    for (size_t i = record_at(l, len - TAILSCAN_NEAR); i + 2 < l->n; i++) {
        size_t a = l->off[i], e = (a / TAILSCAN_SECTOR + 1) * TAILSCAN_SECTOR;
        if (e - a < 16 || e - a > TAILSCAN_SECTOR - 16)
            continue;
        zeroed(l, d, a, e - a);
        expect("zeros from a record's start to its sector's end, near the end", d, len, l, true, i);
        break;
    }

    /* Outside the window the same is damage. */
    s = (len - TAILSCAN_FAR) / TAILSCAN_SECTOR * TAILSCAN_SECTOR;
    zeroed(l, d, s, TAILSCAN_SECTOR);
    expect("zeroed sector far from the end", d, len, l, false, record_at(l, s));
    s = (len - TAILSCAN_FAR) / TAILSCAN_BLOCK * TAILSCAN_BLOCK;
    zeroed(l, d, s, TAILSCAN_BLOCK);
    expect("zeroed 4 KiB block far from the end", d, len, l, false, record_at(l, s));
    for (size_t i = record_at(l, len - TAILSCAN_FAR); i + 2 < l->n; i++) {
        size_t a = l->off[i], e = (a / TAILSCAN_SECTOR + 1) * TAILSCAN_SECTOR;
        if (e - a < 16 || e - a > TAILSCAN_SECTOR - 16)
            continue;
        zeroed(l, d, a, e - a);
        expect("zeros from a record's start to its sector's end, far from the end", d, len, l,
               false, i);
        break;
    }

    /* Non-zero damage is never a hole: a flipped bit in every record near the end but the
     * last (whose damage cannot be told from a torn final write), in its length and body. */
    {
        int bad = failures;
        size_t n = 0;
        quiet = true;
        for (size_t i = record_at(l, len - TAILSCAN_NEAR); i + 1 < l->n; i++) {
            static const size_t at[] = {3, 40};
            for (size_t k = 0; k < ELEMENTSOF(at); k++) {
                memcpy(d, data, len);
                d[l->off[i] + at[k]] ^= 0x04;
                expect("flip near the end", d, len, l, false, i);
                n++;
            }
        }
        quiet = false;
        printf("%s: %zu bit flips in the records near the end: %d not refused\n",
               failures == bad ? "ok" : "FAIL", n, failures - bad);
    }

    /* A zeroed block inserted before a record near the end: that record still continues the
     * chain further on, so this is not a torn batch. Overwriting it instead is one. */
    {
        size_t i = record_at(l, len - TAILSCAN_NEAR) + 1, a = l->off[i];
        memcpy(d, data, a);
        memset(d + a, 0, TAILSCAN_INSERT);
        memcpy(d + a + TAILSCAN_INSERT, data + a, len - a);
        expect("zeros inserted before a record near the end", d, len + TAILSCAN_INSERT, l, false,
               i);
        zeroed(l, d, a, TAILSCAN_INSERT);
        expect("zeros overwriting records near the end", d, len, l, true, i);
    }
    free(l);
    if (failures)
        fprintf(stderr, "tailscan: %d check(s) failed\n", failures);
    return failures ? 1 : 0;
}
