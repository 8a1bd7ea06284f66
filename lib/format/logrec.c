/* SPDX-License-Identifier: Apache-2.0 */
#include "logrec.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "crypto-cleanup.h"
#include "crypto.h"
#include "macro.h"

/* Framing around a body: u32 length before it, chain hash after it. */
#define LOGREC_FRAME (4u + LOGREC_HASH)
/* Smallest encoding of one subject: empty name (u32 length) + sha256 string (u32 + 32). */
#define LOGREC_MIN_SUBJECT (4u + 4u + LOGREC_HASH)

struct logrec *logrec_free(struct logrec *r)
{
    if (!r)
        return NULL;
    free(r->exe);
    free(r->unit);
    free(r->key);
    free(r->predicate_type);
    free(r->sig);
    free(r->spki);
    if (r->subjects)
        for (size_t i = 0; i < r->nsubjects; i++)
            free(r->subjects[i].name);
    free(r->subjects);
    free(r);
    return NULL;
}

void logrec_freep(struct logrec **r)
{
    *r = logrec_free(*r);
}

/* Every field but the subjects at its largest (exe, unit and predicate type as LOGREC_MAX_TEXT,
 * key name 64, digest 64) plus LOGREC_MAX_SUBJECT_BYTES of subjects fits one record. */
#define LOGREC_FIXED_MAX                                                                           \
    (1u + 1u + 8u + 8u + 4u + 4u + 4u + 3u * (4u + LOGREC_MAX_TEXT) + (4u + 64u) + 1u + 1u +       \
     (4u + 64u) + (4u + LOGREC_HASH) + 4u + (4u + LOGREC_MAX_SIG) + (4u + LOGREC_MAX_SPKI) +       \
     (4u + LOGREC_HASH))
_Static_assert(LOGREC_FIXED_MAX + LOGREC_MAX_SUBJECT_BYTES <= LOGREC_MAX_BODY,
               "LOGREC_MAX_SUBJECT_BYTES leaves no room for the other fields");

static bool text_valid(const char *s, bool may_be_empty)
{
    if (!s)
        return false;
    size_t n = strnlen(s, LOGREC_MAX_TEXT + 1);
    return n <= LOGREC_MAX_TEXT && (may_be_empty || n > 0);
}

/* The field rules shared by encode and decode (decode has already checked text limits). */
static int fields_valid(const struct logrec *r)
{
    if (r->request != LOGREC_DIGEST && r->request != LOGREC_STATEMENT)
        return -EINVAL;
    size_t dl = hash_len((enum hwsign_hash)r->hash);
    if (dl == 0 || dl > sizeof(r->digest) || r->digest_len != dl)
        return -EINVAL;
    if (r->request == LOGREC_DIGEST) {
        /* A bare digest has no statement, predicate type or subjects. */
        if (r->has_statement || (r->predicate_type && r->predicate_type[0]) || r->nsubjects != 0)
            return -EINVAL;
    } else {
        if (!r->has_statement || !r->predicate_type || !r->predicate_type[0])
            return -EINVAL;
        if (r->nsubjects > 0 && !r->subjects)
            return -EINVAL;
    }
    /* A statement's envelope hash is present exactly for statements. */
    if (r->has_envelope != (r->request == LOGREC_STATEMENT))
        return -EINVAL;
    if (!r->sig || r->sig_len == 0 || r->sig_len > LOGREC_MAX_SIG || !r->spki || r->spki_len == 0 ||
        r->spki_len > LOGREC_MAX_SPKI)
        return -EINVAL;
    return 0;
}

int logrec_encode_body(const struct logrec *r, struct sbuf *out)
{
    size_t start;
    int e = 0;

    if (!r || !out)
        return -EINVAL;
    /* exe, unit and predicate_type may be NULL, encoded as "" (unknown / none). */
    if ((r->exe && !text_valid(r->exe, true)) || (r->unit && !text_valid(r->unit, true)) ||
        !text_valid(r->key, false) || (r->predicate_type && !text_valid(r->predicate_type, true)))
        return -EINVAL;
    e = fields_valid(r);
    if (e < 0)
        return e;
    if (r->nsubjects > LOGREC_MAX_SUBJECTS)
        return -EMSGSIZE;
    for (size_t i = 0; i < r->nsubjects; i++)
        if (!text_valid(r->subjects[i].name, true))
            return -EINVAL;

    start = sbuf_len(out);
    if (e >= 0)
        e = sbuf_put_u8(out, LOGREC_VERSION);
    if (e >= 0)
        e = sbuf_put_u8(out, LOGREC_TYPE_SIGNATURE);
    if (e >= 0)
        e = sbuf_put_u64(out, r->seq);
    if (e >= 0)
        e = sbuf_put_u64(out, r->time_ns);
    if (e >= 0)
        e = sbuf_put_u32(out, r->uid);
    if (e >= 0)
        e = sbuf_put_u32(out, r->gid);
    if (e >= 0)
        e = sbuf_put_u32(out, r->pid);
    if (e >= 0)
        e = sbuf_put_cstring(out, r->exe);
    if (e >= 0)
        e = sbuf_put_cstring(out, r->unit);
    if (e >= 0)
        e = sbuf_put_cstring(out, r->key);
    if (e >= 0)
        e = sbuf_put_u8(out, r->request);
    if (e >= 0)
        e = sbuf_put_u8(out, r->hash);
    if (e >= 0)
        e = sbuf_put_string(out, r->digest, r->digest_len);
    if (e >= 0)
        e = sbuf_put_string(out, r->statement_sha256, r->has_statement ? LOGREC_HASH : 0);
    if (e >= 0)
        e = sbuf_put_cstring(out, r->predicate_type);
    if (e >= 0)
        e = sbuf_put_u32(out, (uint32_t)r->nsubjects);
    for (size_t i = 0; e >= 0 && i < r->nsubjects; i++) {
        e = sbuf_put_cstring(out, r->subjects[i].name);
        if (e >= 0)
            e = sbuf_put_string(out, r->subjects[i].sha256, LOGREC_HASH);
    }
    if (e >= 0)
        e = sbuf_put_string(out, r->sig, r->sig_len);
    if (e >= 0)
        e = sbuf_put_string(out, r->spki, r->spki_len);
    if (e >= 0)
        e = sbuf_put_string(out, r->envelope_sha256, r->has_envelope ? LOGREC_HASH : 0);
    if (e >= 0 && sbuf_len(out) - start > LOGREC_MAX_BODY)
        e = -EMSGSIZE;
    if (e < 0) {
        /* Leave out as it was: drop whatever part of the body was appended. */
        (void)sbuf_consume_end(out, sbuf_len(out) - start);
        return e;
    }
    return 0;
}

/* A text field: at most LOGREC_MAX_TEXT bytes, no NUL (sbuf_get_cstring refuses it). */
static int get_text(struct sbuf *b, char **ret)
{
    int e = sbuf_get_cstring(b, LOGREC_MAX_TEXT, ret);
    return e == -EMSGSIZE ? -EBADMSG : e;
}

/* A fixed-size hash string: exactly LOGREC_HASH bytes. */
static int get_hash(struct sbuf *b, uint8_t out[static LOGREC_HASH])
{
    const uint8_t *p;
    size_t n;
    int e = sbuf_get_string_direct(b, LOGREC_HASH, &p, &n);
    if (e < 0)
        return -EBADMSG;
    if (n != LOGREC_HASH)
        return -EBADMSG;
    memcpy(out, p, LOGREC_HASH);
    return 0;
}

/* A non-empty byte string of at most max bytes, copied. */
static int get_bytes(struct sbuf *b, size_t max, uint8_t **ret, size_t *ret_len)
{
    const uint8_t *p;
    size_t n;
    if (sbuf_get_string_direct(b, max, &p, &n) < 0 || n == 0)
        return -EBADMSG;
    *ret = malloc(n);
    if (!*ret)
        return -ENOMEM;
    memcpy(*ret, p, n);
    *ret_len = n;
    return 0;
}

int logrec_decode_body(const uint8_t *body, size_t len, struct logrec **ret)
{
    _cleanup_(sbuf_freep) struct sbuf *b = NULL;
    _cleanup_(logrec_freep) struct logrec *r = NULL;
    const uint8_t *p;
    size_t n;
    uint8_t version, type;
    uint32_t nsub;
    int e;

    if ((!body && len > 0) || !ret)
        return -EINVAL;
    if (len > LOGREC_MAX_BODY)
        return -EBADMSG;
    b = sbuf_from(body, len);
    r = calloc(1, sizeof(*r));
    if (!b || !r)
        return -ENOMEM;

    if (sbuf_get_u8(b, &version) < 0 || sbuf_get_u8(b, &type) < 0)
        return -EBADMSG;
    if (version != LOGREC_VERSION || type != LOGREC_TYPE_SIGNATURE)
        return -EBADMSG;
    if (sbuf_get_u64(b, &r->seq) < 0 || sbuf_get_u64(b, &r->time_ns) < 0 ||
        sbuf_get_u32(b, &r->uid) < 0 || sbuf_get_u32(b, &r->gid) < 0 ||
        sbuf_get_u32(b, &r->pid) < 0)
        return -EBADMSG;
    if ((e = get_text(b, &r->exe)) < 0 || (e = get_text(b, &r->unit)) < 0 ||
        (e = get_text(b, &r->key)) < 0)
        return e;
    if (!r->key[0])
        return -EBADMSG;
    if (sbuf_get_u8(b, &r->request) < 0 || sbuf_get_u8(b, &r->hash) < 0)
        return -EBADMSG;
    if (sbuf_get_string_direct(b, sizeof(r->digest), &p, &n) < 0)
        return -EBADMSG;
    memcpy(r->digest, p, n);
    r->digest_len = n;
    if (sbuf_get_string_direct(b, LOGREC_HASH, &p, &n) < 0 || (n != 0 && n != LOGREC_HASH))
        return -EBADMSG;
    r->has_statement = n == LOGREC_HASH;
    if (r->has_statement)
        memcpy(r->statement_sha256, p, LOGREC_HASH);
    if ((e = get_text(b, &r->predicate_type)) < 0)
        return e;
    if (sbuf_get_u32(b, &nsub) < 0)
        return -EBADMSG;
    /* Limit first, then plausibility against the bytes present, then allocate. */
    if (nsub > LOGREC_MAX_SUBJECTS || (size_t)nsub > sbuf_len(b) / LOGREC_MIN_SUBJECT)
        return -EBADMSG;
    if (nsub > 0) {
        r->subjects = calloc(nsub, sizeof(*r->subjects));
        if (!r->subjects)
            return -ENOMEM;
    }
    for (uint32_t i = 0; i < nsub; i++) {
        r->nsubjects = i + 1; /* so logrec_free frees the names read so far */
        if ((e = get_text(b, &r->subjects[i].name)) < 0)
            return e;
        if (get_hash(b, r->subjects[i].sha256) < 0)
            return -EBADMSG;
    }
    r->nsubjects = nsub;
    if ((e = get_bytes(b, LOGREC_MAX_SIG, &r->sig, &r->sig_len)) < 0 ||
        (e = get_bytes(b, LOGREC_MAX_SPKI, &r->spki, &r->spki_len)) < 0)
        return e;
    if (sbuf_get_string_direct(b, LOGREC_HASH, &p, &n) < 0 || (n != 0 && n != LOGREC_HASH))
        return -EBADMSG;
    r->has_envelope = n == LOGREC_HASH;
    if (r->has_envelope)
        memcpy(r->envelope_sha256, p, LOGREC_HASH);
    if (sbuf_expect_end(b) < 0)
        return -EBADMSG;
    if (fields_valid(r) < 0)
        return -EBADMSG;
    e = hash_buffer(HWSIGN_HASH_SHA256, r->sig, r->sig_len, r->signature_sha256,
                    sizeof(r->signature_sha256));
    if (e < 0)
        return e;

    *ret = TAKE_PTR(r);
    return 0;
}

int logrec_chain(const uint8_t prev[static LOGREC_HASH], const uint8_t *body, size_t len,
                 uint8_t ret[static LOGREC_HASH])
{
    _cleanup_(EVP_MD_CTX_freep) EVP_MD_CTX *ctx = NULL;
    uint8_t out[EVP_MAX_MD_SIZE];
    unsigned int outlen = 0;

    if (!body && len > 0)
        return -EINVAL;
    ctx = EVP_MD_CTX_new();
    if (!ctx)
        return -ENOMEM;
    if (EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1 ||
        EVP_DigestUpdate(ctx, prev, LOGREC_HASH) != 1 ||
        (len > 0 && EVP_DigestUpdate(ctx, body, len) != 1) ||
        EVP_DigestFinal_ex(ctx, out, &outlen) != 1 || outlen != LOGREC_HASH)
        return -EIO;
    memcpy(ret, out, LOGREC_HASH);
    return 0;
}

static bool all_zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return false;
    return true;
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

/*
 * Checks the record at data[off..len): 1 valid (body and chain set), 0 invalid, -errno on a
 * local failure (memory, digest). *ret_reaches_end says whether the record reaches or declares
 * a length reaching past the end of the data, *ret_extent (when it fits, else left 0) the
 * record's declared size with framing (both only meaningful when invalid).
 */
static int check_record(const uint8_t *data, size_t len, size_t off, uint64_t seq,
                        const uint8_t prev[static LOGREC_HASH], struct logrec **ret_rec,
                        uint32_t *ret_blen, uint8_t ret_chain[static LOGREC_HASH],
                        bool *ret_reaches_end, size_t *ret_extent)
{
    _cleanup_(logrec_freep) struct logrec *rec = NULL;
    size_t rem = len - off;
    uint8_t chain[LOGREC_HASH];
    uint32_t blen;
    int e;

    if (rem < 4) {
        *ret_reaches_end = true;
        return 0;
    }
    blen = be32(data + off);
    /*
     * The writer never writes a length over the limit, so such a length is damage even if it
     * points past the end: otherwise one flipped high bit in an early length would make every
     * later (acknowledged) record look like a torn tail to be truncated.
     */
    if (blen > LOGREC_MAX_BODY) {
        *ret_reaches_end = false;
        return 0;
    }
    *ret_reaches_end = rem <= (size_t)blen + LOGREC_FRAME;
    if (rem < (size_t)blen + LOGREC_FRAME)
        return 0;
    *ret_extent = (size_t)blen + LOGREC_FRAME;
    e = logrec_decode_body(data + off + 4, blen, &rec);
    if (e == -ENOMEM)
        return e;
    if (e < 0 || rec->seq != seq)
        return 0;
    e = logrec_chain(prev, data + off + 4, blen, chain);
    if (e < 0)
        return e;
    if (memcmp(chain, data + off + 4 + blen, LOGREC_HASH) != 0)
        return 0;
    *ret_rec = TAKE_PTR(rec);
    *ret_blen = blen;
    memcpy(ret_chain, chain, LOGREC_HASH);
    return 1;
}

/*
 * A power loss during a group commit can leave a hole in the final, unsynced batch: the
 * filesystem may persist its sectors in any order and extend the size before all of them are
 * on disk, so a zeroed (never written) sector can sit between written ones. The writer
 * (agent/auditlog.c) leaves at most one batch unsynced and appends it as whole records right
 * after the synced ones; a batch is the records completed in one event-loop pass, a few KiB.
 * Holes are recognised in a final batch of up to LOGREC_MAX_BATCH bytes: one further back is
 * refused like any damage, which is safe (nothing is cut), so this bound matters for recovery
 * only, never for safety. So when the first bad record (at off, declared extent ext) is such a
 * hole,
 *   - it overlaps an unwritten 512-byte aligned sector lying inside the data. Such a sector
 *     keeps its old content: zeros, except durable bytes before the batch's start. So either
 *     the whole sector is zero, or (the batch, hence this record, starting inside it) the
 *     record's bytes from off to the sector's end are. A run of fewer than
 *     LOGREC_MIN_ZERO_RUN bytes does not count: it covers at most the two high bytes of the
 *     length, zero in every record. A flipped bit, garbage or a swapped record does not
 *     qualify;
 *   - everything from it to the end fits in one batch: len - off <= LOGREC_MAX_BATCH;
 *   - no later record is the one that should follow the last good record (seq == count and a
 *     chain continuing it): with a hole, that record is the damaged one itself; finding it
 *     intact further on means bytes were inserted or overwritten in the middle of the log.
 * Then every record from off on belongs to the unsynced batch: none was acknowledged, and
 * truncating at off keeps every synced record. Damage earlier than the last LOGREC_MAX_BATCH
 * bytes, or of another kind, stays damage. The price: zeroed sectors among the last records
 * of a log that were acknowledged look the same (as a flip in the last record already does);
 * only a saved checkpoint (size and root) tells them apart, and the agent refuses to open a
 * log shorter than its last checkpoint.
 */
#define LOGREC_SECTOR       512u /* smallest unit a disk writes atomically */
#define LOGREC_MIN_ZERO_RUN 3u   /* shortest unwritten run that can alter a length */

/*
 * An aligned sector inside data[0, len) overlapping [from, to) whose bytes from max(start,
 * from) to its end are all zero (at least LOGREC_MIN_ZERO_RUN of them).
 */
static bool zero_sector_in(const uint8_t *data, size_t len, size_t from, size_t to)
{
    for (size_t s = from / LOGREC_SECTOR * LOGREC_SECTOR; s < to && s + LOGREC_SECTOR <= len;
         s += LOGREC_SECTOR) {
        size_t lo = MAX(s, from);
        if (s + LOGREC_SECTOR - lo >= LOGREC_MIN_ZERO_RUN &&
            all_zero(data + lo, s + LOGREC_SECTOR - lo))
            return true;
    }
    return false;
}

/* 1 when the bad record at off is a hole in the final unsynced batch (see above), else 0. */
static int unsynced_hole(const uint8_t *data, size_t len, size_t off, size_t ext, uint64_t seq,
                         const uint8_t prev[static LOGREC_HASH])
{
    if (ext == 0 || len - off > LOGREC_MAX_BATCH || !zero_sector_in(data, len, off, off + ext))
        return 0;
    for (size_t p = off + 1; len - p >= LOGREC_FRAME + 2; p++) {
        _cleanup_(logrec_freep) struct logrec *rec = NULL;
        uint8_t next[LOGREC_HASH];
        uint32_t blen;
        bool reaches_end;
        size_t x = 0;
        int e;

        /* Cheap filter first: a body starts with its version and type. */
        if (data[p + 4] != LOGREC_VERSION || data[p + 5] != LOGREC_TYPE_SIGNATURE)
            continue;
        e = check_record(data, len, p, seq, prev, &rec, &blen, next, &reaches_end, &x);
        if (e != 0)
            return e < 0 ? e : 0;
    }
    return 1;
}

int logrec_scan(const uint8_t *data, size_t len, logrec_scan_cb cb, void *ctx, size_t *ret_end,
                uint64_t *ret_count, uint8_t ret_chain[static LOGREC_HASH], bool *ret_torn)
{
    uint8_t chain[LOGREC_HASH] = {0};
    uint64_t count = 0;
    size_t off = 0;
    bool torn = false;
    int result = 0, e;

    if ((!data && len > 0) || !ret_end || !ret_count || !ret_chain || !ret_torn)
        return -EINVAL;
    if (len < LOGREC_MAGIC_LEN || memcmp(data, LOGREC_MAGIC, LOGREC_MAGIC_LEN) != 0) {
        result = -EBADMSG;
        goto done;
    }
    off = LOGREC_MAGIC_LEN;
    while (off < len) {
        _cleanup_(logrec_freep) struct logrec *rec = NULL;
        uint8_t next[LOGREC_HASH];
        uint32_t blen = 0;
        bool reaches_end = false;
        size_t ext = 0;

        e = check_record(data, len, off, count, chain, &rec, &blen, next, &reaches_end, &ext);
        if (e < 0)
            return e;
        if (e == 0) {
            /*
             * Torn: an incomplete final write, or a file extended without its data (zeros
             * from the record on, or from the end of the record's declared extent on).
             */
            if (reaches_end || all_zero(data + off, len - off) ||
                (ext > 0 && all_zero(data + off + ext, len - off - ext)))
                torn = true;
            else if ((e = unsynced_hole(data, len, off, ext, count, chain)) < 0)
                return e;
            else if (e > 0)
                torn = true; /* a hole in the final unsynced batch */
            else
                result = -EBADMSG;
            break;
        }
        if (cb) {
            e = cb(ctx, rec, data + off + 4, blen, next);
            if (e < 0)
                return e;
        }
        memcpy(chain, next, LOGREC_HASH);
        count++;
        off += (size_t)blen + LOGREC_FRAME;
    }

done:
    *ret_end = off;
    *ret_count = count;
    memcpy(ret_chain, chain, LOGREC_HASH);
    *ret_torn = torn;
    return result;
}
