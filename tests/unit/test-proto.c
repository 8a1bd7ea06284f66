/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Wire codec (lib/proto): round trips of every request and reply, known-answer frames written
 * out by hand from the framing rules, refusal of every truncation, trailing data and
 * over-limit field, frame-length checks on the header alone, the error table, and ret_*
 * outputs left untouched on failure.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "proto-attest.h"
#include "proto-stage.h"
#include "proto.h"

#define POISON  0xA5
#define BIG_OUT (4u * HWSIGN_MAX_MSG)

static struct sbuf *new_out(void)
{
    struct sbuf *b = sbuf_new(BIG_OUT);
    assert_non_null(b);
    return b;
}

/*
 * Checks that out holds exactly one complete frame, returns a copy of its body after the
 * header (type and id checked against the expectations) in *ret_payload / *ret_len.
 */
static void split_frame(const struct sbuf *out, uint8_t want_type, uint32_t want_id,
                        uint8_t **ret_payload, size_t *ret_len)
{
    _cleanup_(sbuf_freep) struct sbuf *body = NULL;
    size_t blen = 0;
    uint8_t type;
    uint32_t id;

    assert_int_equal(proto_frame_check(out, &blen), 1);
    assert_int_equal(blen + HWSIGN_FRAME_HEADER, sbuf_len(out));
    body = sbuf_from(sbuf_ptr(out) + HWSIGN_FRAME_HEADER, blen);
    assert_non_null(body);
    assert_int_equal(proto_get_header(body, &type, &id), 0);
    assert_int_equal(type, want_type);
    assert_int_equal(id, want_id);
    *ret_len = sbuf_len(body);
    *ret_payload = malloc(*ret_len ? *ret_len : 1);
    assert_non_null(*ret_payload);
    memcpy(*ret_payload, sbuf_ptr(body), *ret_len);
}

/* ---- a table of every decoder, each writing into an opaque result area ---- */

struct failure_res {
    uint32_t code;
    char *msg;
};
struct sig_res {
    uint8_t *sig;
    size_t len;
    uint64_t index;
};
struct list_res {
    struct hwsign_key_info *keys;
    size_t n;
};

static int dec_empty(struct sbuf *b, void *ret)
{
    return proto_get_empty(b);
}
static int dec_name(struct sbuf *b, void *ret)
{
    return proto_get_name_req(b, ret);
}
static int dec_sign(struct sbuf *b, void *ret)
{
    return proto_get_sign_req(b, ret);
}
static int dec_create(struct sbuf *b, void *ret)
{
    return proto_get_key_create_req(b, ret);
}
static int dec_add(struct sbuf *b, void *ret)
{
    return proto_get_key_add_req(b, ret);
}
static int dec_delete(struct sbuf *b, void *ret)
{
    return proto_get_key_delete_req(b, ret);
}
static int dec_failure(struct sbuf *b, void *ret)
{
    struct failure_res *f = ret;
    return proto_get_failure(b, &f->code, &f->msg);
}
static void rel_failure(void *ret)
{
    free(((struct failure_res *)ret)->msg);
}
static int dec_signature(struct sbuf *b, void *ret)
{
    struct sig_res *s = ret;
    return proto_get_signature(b, &s->sig, &s->len, &s->index, NULL, NULL);
}
static void rel_signature(void *ret)
{
    free(((struct sig_res *)ret)->sig);
}
static int dec_key_info(struct sbuf *b, void *ret)
{
    return proto_get_key_info(b, ret);
}
static void rel_key_info(void *ret)
{
    proto_key_info_clear(ret);
}
static int dec_key_list(struct sbuf *b, void *ret)
{
    struct list_res *l = ret;
    return proto_get_key_list(b, &l->keys, &l->n);
}
static void rel_key_list(void *ret)
{
    struct list_res *l = ret;
    for (size_t i = 0; i < l->n; i++)
        proto_key_info_clear(&l->keys[i]);
    free(l->keys);
}
static int dec_status(struct sbuf *b, void *ret)
{
    return proto_get_status(b, ret);
}
static void rel_status(void *ret)
{
    proto_status_free(*(struct hwsign_status **)ret);
}
struct data_res {
    const uint8_t *p;
    size_t n;
};
static int dec_stage_begin(struct sbuf *b, void *ret)
{
    return proto_get_stage_begin_req(b, ret);
}
static int dec_stage_data(struct sbuf *b, void *ret)
{
    struct data_res *d = ret;
    return proto_get_stage_data_req(b, &d->p, &d->n);
}
static int dec_stage_data_reply(struct sbuf *b, void *ret)
{
    return proto_get_stage_data_reply(b, ret);
}
static int dec_stage_sig(struct sbuf *b, void *ret)
{
    return proto_get_stage_signature(b, ret);
}
static void rel_stage_sig(void *ret)
{
    proto_stage_signature_clear(ret);
}

struct decoder {
    const char *name;
    int (*fn)(struct sbuf *b, void *ret);
    void (*release)(void *ret);
    size_t ret_size;
};

enum {
    D_EMPTY,
    D_NAME,
    D_SIGN,
    D_CREATE,
    D_ADD,
    D_DELETE,
    D_FAILURE,
    D_SIG,
    D_INFO,
    D_LIST,
    D_STATUS,
    D_STAGE_BEGIN,
    D_STAGE_DATA,
    D_STAGE_DATA_REPLY,
    D_STAGE_SIG
};

static const struct decoder decoders[] = {
        [D_EMPTY] = {"empty", dec_empty, NULL, 1},
        [D_NAME] = {"name", dec_name, NULL, HWSIGN_MAX_NAME + 1},
        [D_SIGN] = {"sign", dec_sign, NULL, sizeof(struct proto_sign_req)},
        [D_CREATE] = {"create", dec_create, NULL, sizeof(struct proto_key_req)},
        [D_ADD] = {"add", dec_add, NULL, sizeof(struct proto_key_req)},
        [D_DELETE] = {"delete", dec_delete, NULL, sizeof(struct proto_key_req)},
        [D_FAILURE] = {"failure", dec_failure, rel_failure, sizeof(struct failure_res)},
        [D_SIG] = {"signature", dec_signature, rel_signature, sizeof(struct sig_res)},
        [D_INFO] = {"key-info", dec_key_info, rel_key_info, sizeof(struct hwsign_key_info)},
        [D_LIST] = {"key-list", dec_key_list, rel_key_list, sizeof(struct list_res)},
        [D_STATUS] = {"status", dec_status, rel_status, sizeof(struct hwsign_status *)},
        [D_STAGE_BEGIN] = {"stage-begin", dec_stage_begin, NULL,
                           sizeof(struct proto_stage_begin_req)},
        [D_STAGE_DATA] = {"stage-data", dec_stage_data, NULL, sizeof(struct data_res)},
        [D_STAGE_DATA_REPLY] = {"stage-data-reply", dec_stage_data_reply, NULL, sizeof(uint64_t)},
        [D_STAGE_SIG] = {"stage-signature", dec_stage_sig, rel_stage_sig,
                         sizeof(struct proto_stage_signature)},
};

static bool all_poison(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != POISON)
            return false;
    return true;
}

/*
 * Runs decoder d on a copy of len bytes (exact-size allocation, so ASan sees any over-read)
 * with a poisoned result area. On failure asserts the area is untouched. Returns the result.
 */
static int run_decoder(int d, const uint8_t *data, size_t len)
{
    const struct decoder *dec = &decoders[d];
    uint8_t *copy = malloc(len ? len : 1), *area = malloc(dec->ret_size);
    struct sbuf *b;
    int r;

    assert_non_null(copy);
    assert_non_null(area);
    if (len)
        memcpy(copy, data, len);
    memset(area, POISON, dec->ret_size);
    b = sbuf_from(copy, len);
    assert_non_null(b);
    r = dec->fn(b, area);
    if (r < 0) {
        if (!all_poison(area, dec->ret_size))
            fail_msg("decoder %s wrote its output on failure (%d)", dec->name, r);
    } else if (dec->release) {
        dec->release(area);
    }
    sbuf_free(b);
    free(area);
    free(copy);
    return r;
}

/* Every proper prefix fails, the whole payload decodes, one extra byte fails with -EBADMSG. */
static void check_strict(int d, const uint8_t *payload, size_t len)
{
    uint8_t *longer = malloc(len + 1);

    assert_non_null(longer);
    assert_int_equal(run_decoder(d, payload, len), 0);
    for (size_t n = 0; n < len; n++) {
        int r = run_decoder(d, payload, n);
        if (r >= 0)
            fail_msg("decoder %s accepted a body truncated to %zu of %zu bytes", decoders[d].name,
                     n, len);
    }
    if (len)
        memcpy(longer, payload, len);
    longer[len] = 0;
    assert_int_equal(run_decoder(d, longer, len + 1), -EBADMSG);
    free(longer);
}

/* Encodes with the given call, splits the frame and runs the strictness checks. */
#define CHECK_ENCODED(dec, type, id, call)                                                         \
    do {                                                                                           \
        _cleanup_(sbuf_freep) struct sbuf *out = new_out();                                        \
        _cleanup_free_ uint8_t *pl = NULL;                                                         \
        size_t pl_len;                                                                             \
        assert_int_equal((call), 0);                                                               \
        split_frame(out, (type), (id), &pl, &pl_len);                                              \
        check_strict((dec), pl, pl_len);                                                           \
    } while (0)

static const uint8_t digest64[64] = {
        0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c,
        0x0d, 0x0e, 0x0f, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19,
        0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f, 0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26,
        0x27, 0x28, 0x29, 0x2a, 0x2b, 0x2c, 0x2d, 0x2e, 0x2f, 0x30, 0x31, 0x32, 0x33,
        0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3a, 0x3b, 0x3c, 0x3d, 0x3e, 0x3f};

/* ---- round trips: requests ---- */

static void test_requests_round_trip(void **state)
{
    struct sbuf *out = new_out();
    uint8_t *pl;
    size_t len;
    struct sbuf *b;

    /* STATUS and LIST_KEYS: empty bodies. */
    assert_int_equal(proto_put_status_req(out, 1), 0);
    split_frame(out, HWSIGN_MSG_STATUS, 1, &pl, &len);
    assert_int_equal(len, 0);
    free(pl);
    sbuf_reset(out);
    assert_int_equal(proto_put_list_req(out, 0xffffffffu), 0);
    split_frame(out, HWSIGN_MSG_LIST_KEYS, 0xffffffffu, &pl, &len);
    assert_int_equal(len, 0);
    b = sbuf_from(pl, len);
    assert_int_equal(proto_get_empty(b), 0);
    sbuf_free(b);
    free(pl);
    sbuf_reset(out);

    /* KEY_INFO. */
    {
        char name[HWSIGN_MAX_NAME + 1];
        assert_int_equal(proto_put_name_req(out, HWSIGN_MSG_KEY_INFO, 7, "release-key.v2"), 0);
        split_frame(out, HWSIGN_MSG_KEY_INFO, 7, &pl, &len);
        b = sbuf_from(pl, len);
        assert_int_equal(proto_get_name_req(b, name), 0);
        assert_string_equal(name, "release-key.v2");
        sbuf_free(b);
        free(pl);
        sbuf_reset(out);
    }

    /* SIGN_DIGEST with every hash and both schemes. */
    {
        static const struct {
            uint8_t hash;
            size_t len;
        } hashes[] = {{HWSIGN_HASH_SHA256, 32}, {HWSIGN_HASH_SHA384, 48}, {HWSIGN_HASH_SHA512, 64}};
        for (size_t i = 0; i < ELEMENTSOF(hashes); i++)
            for (uint8_t scheme = 0; scheme <= HWSIGN_SCHEME_RSA_PSS; scheme++) {
                struct proto_sign_req q;
                assert_int_equal(proto_put_sign_req(out, 100 + (uint32_t)i, "k1", hashes[i].hash,
                                                    scheme, digest64, hashes[i].len),
                                 0);
                split_frame(out, HWSIGN_MSG_SIGN_DIGEST, 100 + (uint32_t)i, &pl, &len);
                b = sbuf_from(pl, len);
                assert_int_equal(proto_get_sign_req(b, &q), 0);
                assert_string_equal(q.key, "k1");
                assert_int_equal(q.hash, hashes[i].hash);
                assert_int_equal(q.scheme, scheme);
                assert_int_equal(q.digest_len, hashes[i].len);
                assert_memory_equal(q.digest, digest64, hashes[i].len);
                sbuf_free(b);
                free(pl);
                sbuf_reset(out);
            }
    }

    /* KEY_CREATE, KEY_ADD (with and without a backend), KEY_DELETE (both destroy values). */
    {
        struct proto_key_req q;
        assert_int_equal(proto_put_key_create_req(out, 9, "new-key", "tok1", "ecdsa-p384"), 0);
        split_frame(out, HWSIGN_MSG_KEY_CREATE, 9, &pl, &len);
        b = sbuf_from(pl, len);
        assert_int_equal(proto_get_key_create_req(b, &q), 0);
        assert_string_equal(q.name, "new-key");
        assert_string_equal(q.backend, "tok1");
        assert_string_equal(q.alg, "ecdsa-p384");
        assert_string_equal(q.uri, "");
        sbuf_free(b);
        free(pl);
        sbuf_reset(out);

        assert_int_equal(proto_put_key_add_req(out, 10, "old", "", "pkcs11:token=a;object=b"), 0);
        split_frame(out, HWSIGN_MSG_KEY_ADD, 10, &pl, &len);
        b = sbuf_from(pl, len);
        assert_int_equal(proto_get_key_add_req(b, &q), 0);
        assert_string_equal(q.name, "old");
        assert_string_equal(q.backend, "");
        assert_string_equal(q.uri, "pkcs11:token=a;object=b");
        assert_string_equal(q.alg, "");
        sbuf_free(b);
        free(pl);
        sbuf_reset(out);

        for (int destroy = 0; destroy <= 1; destroy++) {
            assert_int_equal(proto_put_key_delete_req(out, 11, "gone", destroy), 0);
            split_frame(out, HWSIGN_MSG_KEY_DELETE, 11, &pl, &len);
            b = sbuf_from(pl, len);
            assert_int_equal(proto_get_key_delete_req(b, &q), 0);
            assert_string_equal(q.name, "gone");
            assert_int_equal(q.destroy, destroy);
            sbuf_free(b);
            free(pl);
            sbuf_reset(out);
        }
    }
    sbuf_free(out);
}

/* ---- round trips: replies ---- */

static const uint8_t fake_spki[] = {0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48,
                                    0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x86, 0x48};

static struct proto_key_view sample_view(const char *name, bool spki)
{
    return (struct proto_key_view){
            .name = name,
            .backend = "tok1",
            .kind = "pkcs11",
            .alg = "ecdsa-p256",
            .locator = "pkcs11:token=t;object=o",
            .allow_users = "alice,bob",
            .allow_groups = "",
            .created = 0x0102030405060708ull,
            .spki = spki ? fake_spki : NULL,
            .spki_len = spki ? sizeof(fake_spki) : 0,
    };
}

static void assert_view_equal(const struct hwsign_key_info *k, const struct proto_key_view *v)
{
    assert_string_equal(k->name, v->name);
    assert_string_equal(k->backend, v->backend);
    assert_string_equal(k->backend_kind, v->kind);
    assert_string_equal(k->alg, v->alg);
    assert_string_equal(k->locator, v->locator);
    assert_string_equal(k->allow_users, v->allow_users);
    assert_string_equal(k->allow_groups, v->allow_groups);
    assert_true(k->created == v->created);
    assert_int_equal(k->spki_len, v->spki_len);
    if (v->spki_len)
        assert_memory_equal(k->spki, v->spki, v->spki_len);
    else
        assert_null(k->spki);
}

static void test_replies_round_trip(void **state)
{
    struct sbuf *out = new_out();
    struct sbuf *b;
    uint8_t *pl;
    size_t len;

    /* FAILURE */
    {
        uint32_t code;
        char *msg;
        assert_int_equal(proto_put_failure(out, 5, HWSIGN_ERR_NO_KEY, "no key named 'x'"), 0);
        split_frame(out, HWSIGN_MSG_FAILURE, 5, &pl, &len);
        b = sbuf_from(pl, len);
        assert_int_equal(proto_get_failure(b, &code, &msg), 0);
        assert_int_equal(code, HWSIGN_ERR_NO_KEY);
        assert_string_equal(msg, "no key named 'x'");
        free(msg);
        sbuf_free(b);
        free(pl);
        sbuf_reset(out);
    }
    /* A failure message longer than HWSIGN_MAX_TEXT is truncated, never refused. */
    {
        char longmsg[HWSIGN_MAX_TEXT + 100];
        uint32_t code;
        char *msg;
        memset(longmsg, 'm', sizeof(longmsg) - 1);
        longmsg[sizeof(longmsg) - 1] = '\0';
        assert_int_equal(proto_put_failure(out, 6, HWSIGN_ERR_INTERNAL, longmsg), 0);
        split_frame(out, HWSIGN_MSG_FAILURE, 6, &pl, &len);
        b = sbuf_from(pl, len);
        assert_int_equal(proto_get_failure(b, &code, &msg), 0);
        assert_int_equal(strlen(msg), HWSIGN_MAX_TEXT);
        free(msg);
        sbuf_free(b);
        free(pl);
        sbuf_reset(out);
    }
    /* OK (key delete) */
    assert_int_equal(proto_put_ok(out, HWSIGN_MSG_KEY_DELETE, 12), 0);
    split_frame(out, HWSIGN_MSG_REPLY | HWSIGN_MSG_KEY_DELETE, 12, &pl, &len);
    assert_int_equal(len, 0);
    free(pl);
    sbuf_reset(out);
    /* SIGNATURE */
    {
        uint8_t *sig;
        char *entry;
        size_t slen, elen;
        uint64_t idx;
        static const char ent[] = "{\"apiVersion\":\"0.0.1\"}";
        assert_int_equal(proto_put_signature(out, 13, digest64, 64, 42, ent, strlen(ent)), 0);
        split_frame(out, HWSIGN_MSG_REPLY | HWSIGN_MSG_SIGN_DIGEST, 13, &pl, &len);
        b = sbuf_from(pl, len);
        assert_int_equal(proto_get_signature(b, &sig, &slen, &idx, &entry, &elen), 0);
        assert_int_equal(slen, 64);
        assert_int_equal(idx, 42);
        assert_memory_equal(sig, digest64, 64);
        assert_int_equal(elen, strlen(ent));
        assert_string_equal(entry, ent);
        free(sig);
        free(entry);
        sbuf_free(b);
        free(pl);
        sbuf_reset(out);
    }
    /* KEY_INFO reply (also the reply type of create and add). */
    {
        struct proto_key_view v = sample_view("k1", true);
        struct hwsign_key_info k;
        assert_int_equal(proto_put_key_info(out, HWSIGN_MSG_KEY_CREATE, 14, &v), 0);
        split_frame(out, HWSIGN_MSG_REPLY | HWSIGN_MSG_KEY_CREATE, 14, &pl, &len);
        b = sbuf_from(pl, len);
        assert_int_equal(proto_get_key_info(b, &k), 0);
        assert_view_equal(&k, &v);
        proto_key_info_clear(&k);
        sbuf_free(b);
        free(pl);
        sbuf_reset(out);
    }
    /* LIST_KEYS reply: zero and three entries. */
    for (uint32_t n = 0; n <= 3; n += 3) {
        const char *names[] = {"a", "b.c", "d-e_f"};
        struct proto_key_view v[3];
        struct hwsign_key_info *keys;
        size_t got;
        size_t mark;
        assert_int_equal(proto_put_key_list_begin(out, 15, n, &mark), 0);
        for (uint32_t i = 0; i < n; i++) {
            v[i] = sample_view(names[i], false);
            assert_int_equal(proto_put_key_list_entry(out, &v[i]), 0);
        }
        assert_int_equal(proto_end(out, mark), 0);
        split_frame(out, HWSIGN_MSG_REPLY | HWSIGN_MSG_LIST_KEYS, 15, &pl, &len);
        b = sbuf_from(pl, len);
        assert_int_equal(proto_get_key_list(b, &keys, &got), 0);
        assert_int_equal(got, n);
        for (uint32_t i = 0; i < n; i++) {
            assert_view_equal(&keys[i], &v[i]);
            proto_key_info_clear(&keys[i]);
        }
        free(keys);
        sbuf_free(b);
        free(pl);
        sbuf_reset(out);
    }
    /* STATUS with two backends. */
    {
        const struct proto_backend_view bv[2] = {
                {.name = "tok1", .kind = "pkcs11", .detail = "token present", .state = 0},
                {.name = "tpm", .kind = "tpm", .detail = NULL, .state = 3},
        };
        struct hwsign_status *s;
        assert_int_equal(proto_put_status(out, 16, "0.1.0", 1234, 5, 6, bv, 2), 0);
        split_frame(out, HWSIGN_MSG_REPLY | HWSIGN_MSG_STATUS, 16, &pl, &len);
        b = sbuf_from(pl, len);
        assert_int_equal(proto_get_status(b, &s), 0);
        assert_string_equal(s->version, "0.1.0");
        assert_true(s->uptime_s == 1234);
        assert_int_equal(s->nkeys, 5);
        assert_int_equal(s->nconnections, 6);
        assert_int_equal(s->nbackends, 2);
        assert_string_equal(s->backends[0].name, "tok1");
        assert_string_equal(s->backends[0].kind, "pkcs11");
        assert_string_equal(s->backends[0].detail, "token present");
        assert_int_equal(s->backends[0].state, HWSIGN_BACKEND_OK);
        assert_string_equal(s->backends[1].detail, "");
        assert_int_equal(s->backends[1].state, HWSIGN_BACKEND_LOCKED_OUT);
        proto_status_free(s);
        sbuf_free(b);
        free(pl);
    }
    sbuf_free(out);
}

/* ---- known answers, written out by hand from docs: BE length, type, BE id, u32 strings ---- */

static void assert_frame_bytes(const struct sbuf *out, const uint8_t *want, size_t want_len)
{
    assert_int_equal(sbuf_len(out), want_len);
    assert_memory_equal(sbuf_ptr(out), want, want_len);
}

static void test_known_answers(void **state)
{
    _cleanup_(sbuf_freep) struct sbuf *out = new_out();

    /* STATUS id 1: length 5, type 1, id 1. */
    static const uint8_t status[] = {0x00, 0x00, 0x00, 0x05, 0x01, 0x00, 0x00, 0x00, 0x01};
    /* KEY_INFO id 0x01020304 "k1": length 11 = type + id + u32 len + 2. */
    static const uint8_t key_info[] = {0x00, 0x00, 0x00, 0x0b, 0x03, 0x01, 0x02, 0x03,
                                       0x04, 0x00, 0x00, 0x00, 0x02, 'k',  '1'};
    /* SIGN_DIGEST id 0x2a, key "a", sha256 (1), default scheme (0), 32-byte digest 00..1f:
     * length 1 + 4 + (4 + 1) + 1 + 1 + (4 + 32) = 48. */
    uint8_t sign[4 + 48] = {0x00, 0x00, 0x00, 0x30, 0x04, 0x00, 0x00, 0x00, 0x2a, 0x00,
                            0x00, 0x00, 0x01, 'a',  0x01, 0x00, 0x00, 0x00, 0x00, 0x20};
    /* FAILURE id 7, code DENIED (3), message "no": length 1 + 4 + 4 + 4 + 2 = 15. */
    static const uint8_t failure[] = {0x00, 0x00, 0x00, 0x0f, 0x7f, 0x00, 0x00, 0x00, 0x07, 0x00,
                                      0x00, 0x00, 0x03, 0x00, 0x00, 0x00, 0x02, 'n',  'o'};
    /* KEY_DELETE id 2 "x" destroy: length 1 + 4 + 5 + 1 = 11. */
    static const uint8_t del[] = {0x00, 0x00, 0x00, 0x0b, 0x12, 0x00, 0x00, 0x00,
                                  0x02, 0x00, 0x00, 0x00, 0x01, 'x',  0x01};
    /* Reply to KEY_DELETE id 2: type 0x92, empty. */
    static const uint8_t ok[] = {0x00, 0x00, 0x00, 0x05, 0x92, 0x00, 0x00, 0x00, 0x02};

    memcpy(sign + 20, digest64, 32);

    assert_int_equal(proto_put_status_req(out, 1), 0);
    assert_frame_bytes(out, status, sizeof(status));
    sbuf_reset(out);
    assert_int_equal(proto_put_name_req(out, HWSIGN_MSG_KEY_INFO, 0x01020304u, "k1"), 0);
    assert_frame_bytes(out, key_info, sizeof(key_info));
    sbuf_reset(out);
    assert_int_equal(proto_put_sign_req(out, 0x2a, "a", HWSIGN_HASH_SHA256, HWSIGN_SCHEME_DEFAULT,
                                        digest64, 32),
                     0);
    assert_frame_bytes(out, sign, sizeof(sign));
    sbuf_reset(out);
    assert_int_equal(proto_put_failure(out, 7, HWSIGN_ERR_DENIED, "no"), 0);
    assert_frame_bytes(out, failure, sizeof(failure));
    sbuf_reset(out);
    assert_int_equal(proto_put_key_delete_req(out, 2, "x", true), 0);
    assert_frame_bytes(out, del, sizeof(del));
    sbuf_reset(out);
    assert_int_equal(proto_put_ok(out, HWSIGN_MSG_KEY_DELETE, 2), 0);
    assert_frame_bytes(out, ok, sizeof(ok));

    /* And the hand-written sign frame decodes to what was meant. */
    {
        _cleanup_(sbuf_freep) struct sbuf *b = sbuf_from(sign + 9, sizeof(sign) - 9);
        struct proto_sign_req q;
        assert_int_equal(proto_get_sign_req(b, &q), 0);
        assert_string_equal(q.key, "a");
        assert_int_equal(q.digest_len, 32);
        assert_memory_equal(q.digest, digest64, 32);
    }
}

/* ---- strictness: truncation at every offset, trailing bytes ---- */

static void test_truncation_and_trailing(void **state)
{
    const struct proto_key_view v = sample_view("k1", true), lv = sample_view("k2", false);
    const struct proto_backend_view bv[2] = {
            {.name = "tok1", .kind = "pkcs11", .detail = "ok", .state = 0},
            {.name = "t2", .kind = "tpm", .detail = "down", .state = 1},
    };

    CHECK_ENCODED(D_NAME, HWSIGN_MSG_KEY_INFO, 1,
                  proto_put_name_req(out, HWSIGN_MSG_KEY_INFO, 1, "name"));
    CHECK_ENCODED(D_SIGN, HWSIGN_MSG_SIGN_DIGEST, 2,
                  proto_put_sign_req(out, 2, "k", HWSIGN_HASH_SHA384, 0, digest64, 48));
    CHECK_ENCODED(D_CREATE, HWSIGN_MSG_KEY_CREATE, 3,
                  proto_put_key_create_req(out, 3, "k", "b", "ecdsa-p256"));
    CHECK_ENCODED(D_ADD, HWSIGN_MSG_KEY_ADD, 4,
                  proto_put_key_add_req(out, 4, "k", "", "pkcs11:object=x"));
    CHECK_ENCODED(D_DELETE, HWSIGN_MSG_KEY_DELETE, 5, proto_put_key_delete_req(out, 5, "k", 1));
    CHECK_ENCODED(D_FAILURE, HWSIGN_MSG_FAILURE, 6, proto_put_failure(out, 6, 4, "why"));
    {
        uint8_t sig71[71];
        memset(sig71, 0x30, sizeof(sig71));
        CHECK_ENCODED(D_SIG, HWSIGN_MSG_REPLY | HWSIGN_MSG_SIGN_DIGEST, 7,
                      proto_put_signature(out, 7, sig71, sizeof(sig71), 7, NULL, 0));
    }
    CHECK_ENCODED(D_INFO, HWSIGN_MSG_REPLY | HWSIGN_MSG_KEY_INFO, 8,
                  proto_put_key_info(out, HWSIGN_MSG_KEY_INFO, 8, &v));
    CHECK_ENCODED(D_STATUS, HWSIGN_MSG_REPLY | HWSIGN_MSG_STATUS, 9,
                  proto_put_status(out, 9, "1", 2, 3, 4, bv, 2));
    {
        _cleanup_(sbuf_freep) struct sbuf *out = new_out();
        _cleanup_free_ uint8_t *pl = NULL;
        size_t pl_len, mark;
        assert_int_equal(proto_put_key_list_begin(out, 10, 2, &mark), 0);
        assert_int_equal(proto_put_key_list_entry(out, &lv), 0);
        assert_int_equal(proto_put_key_list_entry(out, &v), 0);
        assert_int_equal(proto_end(out, mark), 0);
        split_frame(out, HWSIGN_MSG_REPLY | HWSIGN_MSG_LIST_KEYS, 10, &pl, &pl_len);
        check_strict(D_LIST, pl, pl_len);
    }
    /* Empty-body requests: nothing to truncate; one trailing byte is refused. */
    assert_int_equal(run_decoder(D_EMPTY, (const uint8_t *)"", 0), 0);
    assert_int_equal(run_decoder(D_EMPTY, (const uint8_t *)"x", 1), -EBADMSG);

    /* A message body shorter than type + id has no header. */
    for (size_t n = 0; n < HWSIGN_MSG_HEADER; n++) {
        static const uint8_t hdr[HWSIGN_MSG_HEADER] = {1, 0, 0, 0, 1};
        _cleanup_(sbuf_freep) struct sbuf *b = sbuf_from(hdr, n);
        uint8_t type = POISON;
        uint32_t id = 0xA5A5A5A5u;
        assert_int_equal(proto_get_header(b, &type, &id), -EBADMSG);
        assert_int_equal(type, POISON);
        assert_int_equal(id, 0xA5A5A5A5u);
    }
}

/* ---- over-limit and invalid fields, built by hand (encoders refuse them) ---- */

static struct sbuf *body_new(void)
{
    return new_out();
}

static int decode_body(int d, struct sbuf *b)
{
    return run_decoder(d, sbuf_ptr(b), sbuf_len(b));
}

static void put_sign_body(struct sbuf *b, const char *key, size_t key_len, uint8_t hash,
                          uint8_t scheme, size_t digest_len)
{
    uint8_t d[HWSIGN_MAX_DIGEST + 8] = {0};
    sbuf_reset(b);
    assert_int_equal(sbuf_put_string(b, key, key_len), 0);
    assert_int_equal(sbuf_put_u8(b, hash), 0);
    assert_int_equal(sbuf_put_u8(b, scheme), 0);
    assert_int_equal(sbuf_put_string(b, d, digest_len), 0);
}

static void test_field_limits(void **state)
{
    _cleanup_(sbuf_freep) struct sbuf *b = body_new();
    char name65[66], name64[65];

    memset(name65, 'n', 65);
    name65[65] = '\0';
    memcpy(name64, name65, 64);
    name64[64] = '\0';

    /* Names: 64 bytes fine, 65 too long, bad characters, empty, embedded NUL. */
    sbuf_reset(b);
    assert_int_equal(sbuf_put_cstring(b, name64), 0);
    assert_int_equal(decode_body(D_NAME, b), 0);
    sbuf_reset(b);
    assert_int_equal(sbuf_put_cstring(b, name65), 0);
    assert_int_equal(decode_body(D_NAME, b), -EMSGSIZE);
    sbuf_reset(b);
    assert_int_equal(sbuf_put_cstring(b, "../etc/passwd"), 0);
    assert_int_equal(decode_body(D_NAME, b), -EINVAL);
    sbuf_reset(b);
    assert_int_equal(sbuf_put_cstring(b, "-leading-dash"), 0);
    assert_int_equal(decode_body(D_NAME, b), -EINVAL);
    sbuf_reset(b);
    assert_int_equal(sbuf_put_cstring(b, ""), 0);
    assert_int_equal(decode_body(D_NAME, b), -EINVAL);
    sbuf_reset(b);
    assert_int_equal(sbuf_put_string(b, "ab\0cd", 5), 0);
    assert_int_equal(decode_body(D_NAME, b), -EBADMSG);
    /* A declared length far beyond the data (and beyond any limit). */
    sbuf_reset(b);
    assert_int_equal(sbuf_put_u32(b, 0xffffffffu), 0);
    assert_int_equal(decode_body(D_NAME, b), -EMSGSIZE);

    /* Sign requests: digest length must equal the hash length; hash and scheme known. */
    put_sign_body(b, "k", 1, HWSIGN_HASH_SHA256, 0, 32);
    assert_int_equal(decode_body(D_SIGN, b), 0);
    put_sign_body(b, "k", 1, HWSIGN_HASH_SHA256, 0, 31);
    assert_int_equal(decode_body(D_SIGN, b), -EINVAL);
    put_sign_body(b, "k", 1, HWSIGN_HASH_SHA256, 0, 48);
    assert_int_equal(decode_body(D_SIGN, b), -EINVAL);
    put_sign_body(b, "k", 1, HWSIGN_HASH_SHA512, 0, 32);
    assert_int_equal(decode_body(D_SIGN, b), -EINVAL);
    put_sign_body(b, "k", 1, HWSIGN_HASH_SHA256, 0, 0);
    assert_int_equal(decode_body(D_SIGN, b), -EINVAL);
    put_sign_body(b, "k", 1, HWSIGN_HASH_SHA512, 0, HWSIGN_MAX_DIGEST + 1);
    assert_int_equal(decode_body(D_SIGN, b), -EMSGSIZE);
    put_sign_body(b, "k", 1, 0, 0, 32);
    assert_int_equal(decode_body(D_SIGN, b), -EINVAL);
    put_sign_body(b, "k", 1, 4, 0, 64);
    assert_int_equal(decode_body(D_SIGN, b), -EINVAL);
    put_sign_body(b, "k", 1, 0xff, 0, 32);
    assert_int_equal(decode_body(D_SIGN, b), -EINVAL);
    put_sign_body(b, "k", 1, HWSIGN_HASH_SHA256, 2, 32);
    assert_int_equal(decode_body(D_SIGN, b), -EINVAL);
    put_sign_body(b, "k", 1, HWSIGN_HASH_SHA256, 0xff, 32);
    assert_int_equal(decode_body(D_SIGN, b), -EINVAL);
    put_sign_body(b, name65, 65, HWSIGN_HASH_SHA256, 0, 32);
    assert_int_equal(decode_body(D_SIGN, b), -EMSGSIZE);
    put_sign_body(b, "k\0", 2, HWSIGN_HASH_SHA256, 0, 32);
    assert_int_equal(decode_body(D_SIGN, b), -EBADMSG);

    /* Key create/add: optional backend may be empty but not invalid; alg and uri limits. */
    {
        char alg33[34], uri1025[1026];
        memset(alg33, 'a', 33);
        alg33[33] = '\0';
        memset(uri1025, 'u', 1025);
        uri1025[1025] = '\0';

        sbuf_reset(b);
        assert_int_equal(sbuf_put_cstring(b, "k"), 0);
        assert_int_equal(sbuf_put_cstring(b, "bad/backend"), 0);
        assert_int_equal(sbuf_put_cstring(b, "ecdsa-p256"), 0);
        assert_int_equal(decode_body(D_CREATE, b), -EINVAL);
        sbuf_reset(b);
        assert_int_equal(sbuf_put_cstring(b, "k"), 0);
        assert_int_equal(sbuf_put_cstring(b, name65), 0);
        assert_int_equal(sbuf_put_cstring(b, "ecdsa-p256"), 0);
        assert_int_equal(decode_body(D_CREATE, b), -EMSGSIZE);
        sbuf_reset(b);
        assert_int_equal(sbuf_put_cstring(b, "k"), 0);
        assert_int_equal(sbuf_put_cstring(b, ""), 0);
        assert_int_equal(sbuf_put_cstring(b, alg33), 0);
        assert_int_equal(decode_body(D_CREATE, b), -EMSGSIZE);
        sbuf_reset(b);
        assert_int_equal(sbuf_put_cstring(b, "k"), 0);
        assert_int_equal(sbuf_put_cstring(b, ""), 0);
        assert_int_equal(sbuf_put_cstring(b, uri1025), 0);
        assert_int_equal(decode_body(D_ADD, b), -EMSGSIZE);
        uri1025[1024] = '\0';
        sbuf_reset(b);
        assert_int_equal(sbuf_put_cstring(b, "k"), 0);
        assert_int_equal(sbuf_put_cstring(b, ""), 0);
        assert_int_equal(sbuf_put_cstring(b, uri1025), 0);
        assert_int_equal(decode_body(D_ADD, b), 0);
        sbuf_reset(b);
        assert_int_equal(sbuf_put_cstring(b, "k"), 0);
        assert_int_equal(sbuf_put_cstring(b, ""), 0);
        assert_int_equal(sbuf_put_string(b, "pkcs11:\0x", 9), 0);
        assert_int_equal(decode_body(D_ADD, b), -EBADMSG);
    }
    /* Key delete: destroy is a boolean. */
    for (unsigned v = 0; v < 256; v++) {
        sbuf_reset(b);
        assert_int_equal(sbuf_put_cstring(b, "k"), 0);
        assert_int_equal(sbuf_put_u8(b, (uint8_t)v), 0);
        assert_int_equal(decode_body(D_DELETE, b), v <= 1 ? 0 : -EINVAL);
    }

    /* Replies: empty or oversize signature, counts past their limits. */
    sbuf_reset(b);
    assert_int_equal(sbuf_put_string(b, NULL, 0), 0);
    assert_int_equal(decode_body(D_SIG, b), -EBADMSG);
    {
        uint8_t big[HWSIGN_MAX_SIG + 1] = {0};
        sbuf_reset(b);
        assert_int_equal(sbuf_put_string(b, big, sizeof(big)), 0);
        assert_int_equal(decode_body(D_SIG, b), -EMSGSIZE);
        sbuf_reset(b);
        assert_int_equal(sbuf_put_string(b, big, HWSIGN_MAX_SIG), 0);
        assert_int_equal(sbuf_put_u64(b, 1), 0);           /* the log index */
        assert_int_equal(decode_body(D_SIG, b), -EBADMSG); /* no log entry string */
        sbuf_reset(b);
        assert_int_equal(sbuf_put_string(b, big, HWSIGN_MAX_SIG), 0);
        assert_int_equal(sbuf_put_u64(b, 1), 0);
        assert_int_equal(sbuf_put_string(b, NULL, 0), 0); /* empty log entry */
        assert_int_equal(decode_body(D_SIG, b), 0);
        sbuf_reset(b);
        assert_int_equal(sbuf_put_string(b, big, 8), 0);
        assert_int_equal(sbuf_put_u64(b, 1), 0);
        assert_int_equal(sbuf_put_string(b, "a\0b", 3), 0); /* NUL inside the entry */
        assert_int_equal(decode_body(D_SIG, b), -EBADMSG);
    }
    {
        static const uint32_t counts[] = {HWSIGN_MAX_KEYS + 1, 0x10000000u, 0x7fffffffu,
                                          0xffffffffu};
        for (size_t i = 0; i < ELEMENTSOF(counts); i++) {
            sbuf_reset(b);
            assert_int_equal(sbuf_put_u32(b, counts[i]), 0);
            assert_int_equal(decode_body(D_LIST, b), -EMSGSIZE);
        }
        /* Count larger than the entries present. */
        sbuf_reset(b);
        assert_int_equal(sbuf_put_u32(b, HWSIGN_MAX_KEYS), 0);
        assert_int_equal(decode_body(D_LIST, b), -EBADMSG);
    }
    {
        static const uint32_t counts[] = {HWSIGN_MAX_BACKENDS + 1, 0xffffffffu};
        for (size_t i = 0; i < ELEMENTSOF(counts); i++) {
            sbuf_reset(b);
            assert_int_equal(sbuf_put_cstring(b, "v"), 0);
            assert_int_equal(sbuf_put_u64(b, 1), 0);
            assert_int_equal(sbuf_put_u32(b, 0), 0);
            assert_int_equal(sbuf_put_u32(b, 0), 0);
            assert_int_equal(sbuf_put_u32(b, counts[i]), 0);
            assert_int_equal(decode_body(D_STATUS, b), -EMSGSIZE);
        }
    }
    /* Failure message with a NUL, or longer than HWSIGN_MAX_TEXT. */
    sbuf_reset(b);
    assert_int_equal(sbuf_put_u32(b, 1), 0);
    assert_int_equal(sbuf_put_string(b, "a\0b", 3), 0);
    assert_int_equal(decode_body(D_FAILURE, b), -EBADMSG);
    {
        char text[HWSIGN_MAX_TEXT + 2];
        memset(text, 't', sizeof(text) - 1);
        text[sizeof(text) - 1] = '\0';
        sbuf_reset(b);
        assert_int_equal(sbuf_put_u32(b, 1), 0);
        assert_int_equal(sbuf_put_cstring(b, text), 0);
        assert_int_equal(decode_body(D_FAILURE, b), -EMSGSIZE);
    }
}

/* Encoders refuse over-limit fields and leave the output exactly as it was. */
static void test_encoder_limits(void **state)
{
    _cleanup_(sbuf_freep) struct sbuf *out = new_out();
    char name65[66];
    uint8_t big[HWSIGN_MAX_SPKI + 1] = {0};
    size_t before, mark;

    memset(name65, 'n', 65);
    name65[65] = '\0';
    assert_int_equal(proto_put_status_req(out, 1), 0); /* something already queued */
    before = sbuf_len(out);

    assert_int_equal(proto_put_name_req(out, HWSIGN_MSG_KEY_INFO, 1, name65), -EMSGSIZE);
    assert_int_equal(proto_put_name_req(out, HWSIGN_MSG_KEY_INFO, 1, NULL), -EMSGSIZE);
    assert_int_equal(proto_put_sign_req(out, 1, "k", 1, 0, big, HWSIGN_MAX_DIGEST + 1), -EMSGSIZE);
    assert_int_equal(proto_put_key_create_req(out, 1, "k", name65, "ecdsa-p256"), -EMSGSIZE);
    assert_int_equal(proto_put_signature(out, 1, big, HWSIGN_MAX_SIG + 1, 0, NULL, 0), -EMSGSIZE);
    assert_int_equal(
            proto_put_signature(out, 1, big, 8, 0, (const char *)big, HWSIGN_MAX_LOG_ENTRY + 1),
            -EMSGSIZE);
    {
        struct proto_key_view v = sample_view("k", true);
        v.spki = big;
        v.spki_len = HWSIGN_MAX_SPKI + 1;
        assert_int_equal(proto_put_key_info(out, HWSIGN_MSG_KEY_INFO, 1, &v), -EMSGSIZE);
    }
    {
        struct proto_backend_view bv[HWSIGN_MAX_BACKENDS + 1] = {{0}};
        assert_int_equal(proto_put_status(out, 1, "v", 0, 0, 0, bv, HWSIGN_MAX_BACKENDS + 1),
                         -EMSGSIZE);
    }
    assert_int_equal(sbuf_len(out), before);

    /* A listing that outgrows HWSIGN_MAX_MSG is removed whole by proto_end. */
    {
        char loc[HWSIGN_MAX_URI + 1];
        struct proto_key_view v = sample_view("k", false);
        int r = 0;
        memset(loc, 'l', HWSIGN_MAX_URI);
        loc[HWSIGN_MAX_URI] = '\0';
        v.locator = loc;
        assert_int_equal(proto_put_key_list_begin(out, 2, 80, &mark), 0);
        for (int i = 0; i < 80 && r == 0; i++)
            r = proto_put_key_list_entry(out, &v);
        assert_int_equal(r, 0);
        assert_true(sbuf_len(out) - mark > HWSIGN_FRAME_HEADER + HWSIGN_MAX_MSG);
        assert_int_equal(proto_end(out, mark), -EMSGSIZE);
        assert_int_equal(sbuf_len(out), before);
    }
    /* The earlier frame is intact. */
    {
        size_t blen;
        assert_int_equal(proto_frame_check(out, &blen), 1);
        assert_int_equal(blen, HWSIGN_MSG_HEADER);
    }
}

/* ---- frame checks on the length header alone ---- */

static int frame_check_bytes(const uint8_t *p, size_t n, size_t *ret_len)
{
    _cleanup_(sbuf_freep) struct sbuf *b = sbuf_from(p, n);
    assert_non_null(b);
    return proto_frame_check(b, ret_len);
}

static void test_frame_check(void **state)
{
    static const struct {
        uint32_t len;
        int want; /* with only the 4 header bytes present */
    } cases[] = {
            {0, -EBADMSG},
            {1, -EBADMSG},
            {4, -EBADMSG},
            {HWSIGN_MSG_HEADER, 0},
            {HWSIGN_MAX_MSG, 0},
            {HWSIGN_MAX_MSG + 1, -EMSGSIZE},
            {0x80000000u, -EMSGSIZE},
            {0xfffffffeu, -EMSGSIZE},
            {0xffffffffu, -EMSGSIZE},
    };
    uint8_t *full;
    size_t ret;

    for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
        uint8_t h[4] = {(uint8_t)(cases[i].len >> 24), (uint8_t)(cases[i].len >> 16),
                        (uint8_t)(cases[i].len >> 8), (uint8_t)cases[i].len};
        ret = 0xA5A5A5A5u;
        assert_int_equal(frame_check_bytes(h, 4, &ret), cases[i].want);
        assert_int_equal(ret, 0xA5A5A5A5u);
        /* 1-3 header bytes: never an answer yet, whatever they are. */
        for (size_t n = 0; n < 4; n++) {
            assert_int_equal(frame_check_bytes(h, n, &ret), 0);
            assert_int_equal(ret, 0xA5A5A5A5u);
        }
    }
    /* MAX with the whole body: complete; one byte short: not yet. */
    full = calloc(1, HWSIGN_FRAME_HEADER + HWSIGN_MAX_MSG + 1);
    assert_non_null(full);
    full[1] = 0x01; /* 0x00010000 = 64 KiB */
    assert_int_equal(frame_check_bytes(full, HWSIGN_FRAME_HEADER + HWSIGN_MAX_MSG - 1, &ret), 0);
    assert_int_equal(frame_check_bytes(full, HWSIGN_FRAME_HEADER + HWSIGN_MAX_MSG, &ret), 1);
    assert_int_equal(ret, HWSIGN_MAX_MSG);
    /* More than one frame buffered: reports the first. */
    ret = 0;
    assert_int_equal(frame_check_bytes(full, HWSIGN_FRAME_HEADER + HWSIGN_MAX_MSG + 1, &ret), 1);
    assert_int_equal(ret, HWSIGN_MAX_MSG);
    free(full);
    /* Smallest message: 5 bytes. */
    {
        static const uint8_t min[] = {0, 0, 0, 5, 1, 0, 0, 0, 9};
        assert_int_equal(frame_check_bytes(min, sizeof(min), &ret), 1);
        assert_int_equal(ret, 5);
    }
}

/* ---- error table ---- */

static void test_error_mapping(void **state)
{
    int seen[_HWSIGN_ERR_MAX] = {0};

    for (uint32_t code = 1; code < _HWSIGN_ERR_MAX; code++) {
        int e = proto_error_to_errno(code);
        assert_true(e < 0);
        assert_int_not_equal(e, -EPROTO);
        assert_int_equal(proto_errno_to_error(e), code);
        assert_string_not_equal(proto_error_name(code), "unknown");
        seen[code] = e;
        for (uint32_t other = 1; other < code; other++) {
            assert_int_not_equal(seen[other], e);
            assert_string_not_equal(proto_error_name(other), proto_error_name(code));
        }
    }
    assert_int_equal(proto_error_to_errno(0), -EPROTO);
    assert_int_equal(proto_error_to_errno(_HWSIGN_ERR_MAX), -EPROTO);
    assert_int_equal(proto_error_to_errno(0xffffffffu), -EPROTO);
    assert_string_equal(proto_error_name(0), "unknown");
    /* Errnos outside the table map to a defined code, never 0. */
    assert_int_equal(proto_errno_to_error(-EPERM), HWSIGN_ERR_DENIED);
    assert_int_equal(proto_errno_to_error(-ENOENT), HWSIGN_ERR_NO_KEY);
    assert_int_equal(proto_errno_to_error(-EBUSY), HWSIGN_ERR_BUSY);
    assert_int_equal(proto_errno_to_error(-ENOMEM), HWSIGN_ERR_INTERNAL);
    assert_int_equal(proto_errno_to_error(0), HWSIGN_ERR_INTERNAL);
    for (int e = 1; e < 134; e++) {
        uint32_t c = proto_errno_to_error(-e);
        assert_true(c >= 1 && c < _HWSIGN_ERR_MAX);
    }

    /* Message names. */
    assert_string_equal(proto_msg_name(HWSIGN_MSG_SIGN_DIGEST), "SIGN_DIGEST");
    assert_string_equal(proto_msg_name(HWSIGN_MSG_FAILURE), "FAILURE");
    assert_null(proto_msg_name(0));
    assert_null(proto_msg_name(0x84));
}

/* ---- ret_* untouched on failure: the poison checks above, plus the non-table outputs ---- */

static void test_outputs_untouched(void **state)
{
    _cleanup_(sbuf_freep) struct sbuf *out = sbuf_new(8);
    size_t mark = 0xA5A5A5A5u;

    /* proto_begin into a buffer too small for the header. */
    assert_non_null(out);
    assert_int_equal(sbuf_put(out, "1234", 4), 0);
    assert_int_equal(proto_begin(out, 1, 1, &mark), -EMSGSIZE);
    assert_int_equal(mark, 0xA5A5A5A5u);
    assert_int_equal(sbuf_len(out), 4);
    assert_int_equal(proto_put_key_list_begin(out, 1, 0, &mark), -EMSGSIZE);
    assert_int_equal(mark, 0xA5A5A5A5u);
    assert_int_equal(sbuf_len(out), 4);
    /* proto_end with a bad mark. */
    assert_int_equal(proto_end(out, 100), -EINVAL);
    assert_int_equal(proto_end(out, 0), -EINVAL);
}

/* Attestation messages: SIGN_PROVENANCE, TPM_QUOTE, KEY_CERTIFY requests, evidence replies. */
static struct sbuf *payload_of(struct sbuf *out, uint8_t type, uint32_t id)
{
    uint8_t *pl;
    size_t len;
    struct sbuf *b;

    split_frame(out, type, id, &pl, &len);
    b = sbuf_new(len + 1); /* a copy: sbuf_from would borrow pl */
    assert_non_null(b);
    assert_int_equal(sbuf_put(b, pl, len), 0);
    free(pl);
    sbuf_reset(out);
    return b;
}

static void test_attest_messages(void **state)
{
    (void)state;
    _cleanup_(sbuf_freep) struct sbuf *out = sbuf_new(HWSIGN_MAX_MSG + HWSIGN_FRAME_HEADER);
    uint8_t nonce[HWSIGN_NONCE_LEN], attest[40], sig[70], pcrs[100], pub[90], spki[91];
    struct hwsign_tpm_evidence q = {.attest = attest,
                                    .attest_len = sizeof(attest),
                                    .sig = sig,
                                    .sig_len = sizeof(sig),
                                    .sig_der = sig,
                                    .sig_der_len = 69,
                                    .pcrs = pcrs,
                                    .pcrs_len = sizeof(pcrs),
                                    .selection = (char *)"sha256:0,1",
                                    .ak_spki = spki,
                                    .ak_spki_len = sizeof(spki)};
    struct hwsign_tpm_evidence cert = q;

    assert_non_null(out);
    memset(nonce, 0x11, sizeof(nonce));
    memset(attest, 0x22, sizeof(attest));
    memset(sig, 0x33, sizeof(sig));
    memset(pcrs, 0x44, sizeof(pcrs));
    memset(pub, 0x55, sizeof(pub));
    memset(spki, 0x66, sizeof(spki));
    cert.pcrs = NULL;
    cert.pcrs_len = 0;
    cert.selection = NULL;
    cert.key_public = pub;
    cert.key_public_len = sizeof(pub);

    /* SIGN_PROVENANCE request. */
    {
        struct proto_provenance_req r;
        _cleanup_(sbuf_freep) struct sbuf *b = NULL;
        assert_int_equal(proto_put_sign_provenance_req(out, 3, "prov", "{}", 2), 0);
        b = payload_of(out, HWSIGN_MSG_SIGN_PROVENANCE, 3);
        assert_int_equal(proto_get_sign_provenance_req(b, &r), 0);
        assert_string_equal(r.key, "prov");
        assert_int_equal(r.claims_len, 2);
        assert_memory_equal(r.claims, "{}", 2);
        /* Empty claims and NUL bytes are refused. */
        assert_int_equal(proto_put_sign_provenance_req(out, 3, "prov", "a\0b", 3), 0);
        sbuf_free(b);
        b = payload_of(out, HWSIGN_MSG_SIGN_PROVENANCE, 3);
        assert_int_equal(proto_get_sign_provenance_req(b, &r), -EINVAL);
        assert_int_equal(proto_put_sign_provenance_req(out, 3, "prov", "", 0), 0);
        sbuf_free(b);
        b = payload_of(out, HWSIGN_MSG_SIGN_PROVENANCE, 3);
        assert_int_equal(proto_get_sign_provenance_req(b, &r), -EINVAL);
    }
    /* TPM_QUOTE request: the nonce is exactly 32 bytes. */
    {
        struct proto_quote_req r;
        _cleanup_(sbuf_freep) struct sbuf *b = NULL, *bad = sbuf_new(256);
        assert_int_equal(proto_put_tpm_quote_req(out, 4, nonce, "sha256:0-7"), 0);
        b = payload_of(out, HWSIGN_MSG_TPM_QUOTE, 4);
        assert_int_equal(proto_get_tpm_quote_req(b, &r), 0);
        assert_memory_equal(r.nonce, nonce, sizeof(nonce));
        assert_string_equal(r.selection, "sha256:0-7");
        assert_non_null(bad);
        assert_int_equal(sbuf_put_string(bad, nonce, 31), 0);
        assert_int_equal(sbuf_put_cstring(bad, ""), 0);
        assert_int_equal(proto_get_tpm_quote_req(bad, &r), -EINVAL);
    }
    /* KEY_CERTIFY request. */
    {
        struct proto_certify_req r;
        _cleanup_(sbuf_freep) struct sbuf *b = NULL;
        assert_int_equal(proto_put_key_certify_req(out, 5, "t1", nonce), 0);
        b = payload_of(out, HWSIGN_MSG_KEY_CERTIFY, 5);
        assert_int_equal(proto_get_key_certify_req(b, &r), 0);
        assert_string_equal(r.key, "t1");
        assert_memory_equal(r.nonce, nonce, sizeof(nonce));
    }
    /* Evidence: round trips; a quote needs PCRs and a selection and no public area, a
     * certification the reverse; attest, signatures and AK are required. */
    for (int kind = 0; kind < 2; kind++) {
        uint8_t type = kind ? HWSIGN_MSG_KEY_CERTIFY : HWSIGN_MSG_TPM_QUOTE;
        struct hwsign_tpm_evidence *e = NULL;
        _cleanup_(sbuf_freep) struct sbuf *b = NULL;

        assert_int_equal(proto_put_tpm_evidence(out, type, 6, kind ? &cert : &q), 0);
        b = payload_of(out, HWSIGN_MSG_REPLY | type, 6);
        assert_int_equal(proto_get_tpm_evidence(b, type, &e), 0);
        assert_int_equal(e->attest_len, sizeof(attest));
        assert_memory_equal(e->attest, attest, sizeof(attest));
        assert_int_equal(e->sig_der_len, 69);
        assert_int_equal(e->ak_spki_len, sizeof(spki));
        if (kind) {
            assert_null(e->pcrs);
            assert_null(e->selection);
            assert_int_equal(e->key_public_len, sizeof(pub));
        } else {
            assert_int_equal(e->pcrs_len, sizeof(pcrs));
            assert_string_equal(e->selection, "sha256:0,1");
            assert_null(e->key_public);
        }
        hwsign_tpm_evidence_free(e);
        /* The other kind's decoder refuses it. */
        assert_int_equal(proto_put_tpm_evidence(out, type, 6, kind ? &cert : &q), 0);
        sbuf_free(b);
        b = payload_of(out, HWSIGN_MSG_REPLY | type, 6);
        e = (struct hwsign_tpm_evidence *)(uintptr_t)0x5a;
        assert_int_equal(
                proto_get_tpm_evidence(b, kind ? HWSIGN_MSG_TPM_QUOTE : HWSIGN_MSG_KEY_CERTIFY, &e),
                -EBADMSG);
        assert_ptr_equal(e, (struct hwsign_tpm_evidence *)(uintptr_t)0x5a);
    }
    {
        struct hwsign_tpm_evidence noak = q, *e = NULL;
        _cleanup_(sbuf_freep) struct sbuf *b = NULL;
        noak.ak_spki = NULL;
        noak.ak_spki_len = 0;
        assert_int_equal(proto_put_tpm_evidence(out, HWSIGN_MSG_TPM_QUOTE, 7, &noak), 0);
        b = payload_of(out, HWSIGN_MSG_REPLY | HWSIGN_MSG_TPM_QUOTE, 7);
        assert_int_equal(proto_get_tpm_evidence(b, HWSIGN_MSG_TPM_QUOTE, &e), -EBADMSG);
        /* Over-limit fields are refused by the encoder. */
        noak = q;
        noak.attest_len = HWSIGN_MAX_TPM_BLOB + 1;
        assert_int_equal(proto_put_tpm_evidence(out, HWSIGN_MSG_TPM_QUOTE, 7, &noak), -EMSGSIZE);
        assert_int_equal(proto_put_tpm_evidence(out, HWSIGN_MSG_STATUS, 7, &q), -EINVAL);
    }
}

/* ---- staged statements: STATEMENT_BEGIN / _DATA / _SIGN (proto-stage.h) ---- */

#define STAGE_TYPE  "application/vnd.in-toto+json"
#define STAGE_KEYID "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

/* A STATEMENT_BEGIN body built by hand, so that values the encoder refuses can be sent. */
static void put_begin_body(struct sbuf *b, const char *key, size_t key_len, const char *type,
                           size_t type_len, uint64_t length)
{
    sbuf_reset(b);
    assert_int_equal(sbuf_put_string(b, key, key_len), 0);
    assert_int_equal(sbuf_put_string(b, type, type_len), 0);
    assert_int_equal(sbuf_put_u64(b, length), 0);
}

/* A STATEMENT_SIGN reply body built by hand. */
static void put_stage_sig_body(struct sbuf *b, const uint8_t *sig, size_t sig_len, uint64_t index,
                               const char *entry, size_t entry_len, const char *keyid,
                               size_t keyid_len)
{
    sbuf_reset(b);
    assert_int_equal(sbuf_put_string(b, sig, sig_len), 0);
    assert_int_equal(sbuf_put_u64(b, index), 0);
    assert_int_equal(sbuf_put_string(b, entry, entry_len), 0);
    assert_int_equal(sbuf_put_string(b, keyid, keyid_len), 0);
}

static void test_stage_round_trip(void **state)
{
    _cleanup_(sbuf_freep) struct sbuf *out = new_out();
    _cleanup_free_ uint8_t *chunk = malloc(HWSIGN_MAX_STAGE_CHUNK);
    static const uint64_t lengths[] = {1, 123456, HWSIGN_MAX_STATEMENT + 1,
                                       HWSIGN_MAX_STAGED_STATEMENT};
    static const size_t chunk_lens[] = {1, 1000, HWSIGN_MAX_STAGE_CHUNK - 1,
                                        HWSIGN_MAX_STAGE_CHUNK};
    char key64[HWSIGN_MAX_NAME + 1], type128[HWSIGN_MAX_PAYLOAD_TYPE + 1];
    struct sbuf *b;
    uint8_t *pl;
    size_t len;

    assert_non_null(chunk);
    for (size_t i = 0; i < HWSIGN_MAX_STAGE_CHUNK; i++)
        chunk[i] = (uint8_t)(i * 7 + 3);
    memset(key64, 'k', HWSIGN_MAX_NAME);
    key64[HWSIGN_MAX_NAME] = '\0';
    memset(type128, 't', HWSIGN_MAX_PAYLOAD_TYPE);
    type128[HWSIGN_MAX_PAYLOAD_TYPE] = '\0';

    /* STATEMENT_BEGIN: every length from 1 to the maximum; longest key and type. */
    for (size_t i = 0; i < ELEMENTSOF(lengths); i++) {
        struct proto_stage_begin_req q;
        assert_int_equal(proto_put_stage_begin_req(out, 40 + (uint32_t)i, "release.key-1",
                                                   STAGE_TYPE, lengths[i]),
                         0);
        split_frame(out, HWSIGN_MSG_STATEMENT_BEGIN, 40 + (uint32_t)i, &pl, &len);
        b = sbuf_from(pl, len);
        assert_int_equal(proto_get_stage_begin_req(b, &q), 0);
        assert_string_equal(q.key, "release.key-1");
        assert_string_equal(q.payload_type, STAGE_TYPE);
        assert_true(q.length == lengths[i]);
        sbuf_free(b);
        free(pl);
        sbuf_reset(out);
    }
    {
        struct proto_stage_begin_req q;
        assert_int_equal(proto_put_stage_begin_req(out, 1, key64, type128, 7), 0);
        split_frame(out, HWSIGN_MSG_STATEMENT_BEGIN, 1, &pl, &len);
        b = sbuf_from(pl, len);
        assert_int_equal(proto_get_stage_begin_req(b, &q), 0);
        assert_string_equal(q.key, key64);
        assert_string_equal(q.payload_type, type128);
        sbuf_free(b);
        free(pl);
        sbuf_reset(out);
    }

    /* STATEMENT_DATA: 1 byte up to exactly HWSIGN_MAX_STAGE_CHUNK, which fits one frame. */
    for (size_t i = 0; i < ELEMENTSOF(chunk_lens); i++) {
        const uint8_t *p = NULL;
        size_t n = 0;
        assert_int_equal(proto_put_stage_data_req(out, 50, chunk, chunk_lens[i]), 0);
        assert_true(sbuf_len(out) <= HWSIGN_FRAME_HEADER + HWSIGN_MAX_MSG);
        split_frame(out, HWSIGN_MSG_STATEMENT_DATA, 50, &pl, &len);
        b = sbuf_from(pl, len);
        assert_int_equal(proto_get_stage_data_req(b, &p, &n), 0);
        assert_int_equal(n, chunk_lens[i]);
        assert_memory_equal(p, chunk, n);
        /* A borrowed view into the body, not a copy. */
        assert_true(p >= pl && p + n <= pl + len);
        sbuf_free(b);
        free(pl);
        sbuf_reset(out);
    }

    /* STATEMENT_DATA reply: the running count, 0 to the maximum. */
    {
        static const uint64_t counts[] = {0, 1, HWSIGN_MAX_STAGE_CHUNK,
                                          HWSIGN_MAX_STAGED_STATEMENT};
        for (size_t i = 0; i < ELEMENTSOF(counts); i++) {
            uint64_t got = 0xA5A5;
            assert_int_equal(proto_put_stage_data_reply(out, 51, counts[i]), 0);
            split_frame(out, HWSIGN_MSG_REPLY | HWSIGN_MSG_STATEMENT_DATA, 51, &pl, &len);
            assert_int_equal(len, 8);
            b = sbuf_from(pl, len);
            assert_int_equal(proto_get_stage_data_reply(b, &got), 0);
            assert_true(got == counts[i]);
            sbuf_free(b);
            free(pl);
            sbuf_reset(out);
        }
    }

    /* STATEMENT_SIGN request: an empty body. */
    assert_int_equal(proto_put_stage_sign_req(out, 52), 0);
    split_frame(out, HWSIGN_MSG_STATEMENT_SIGN, 52, &pl, &len);
    assert_int_equal(len, 0);
    b = sbuf_from(pl, len);
    assert_int_equal(proto_get_empty(b), 0);
    sbuf_free(b);
    free(pl);
    sbuf_reset(out);

    /* STATEMENT_SIGN reply: with and without a log entry; the largest signature and entry. */
    {
        static const char entry[] = "{\"kind\":\"hwsign\",\"index\":42}";
        _cleanup_free_ char *big_entry = malloc(HWSIGN_MAX_LOG_ENTRY);
        struct {
            size_t sig_len;
            uint64_t index;
            const char *entry;
            size_t entry_len;
        } cases[] = {
                {71, 42, entry, sizeof(entry) - 1},
                {1, HWSIGN_LOG_INDEX_NONE, NULL, 0},
                {HWSIGN_MAX_SIG, 0, NULL, HWSIGN_MAX_LOG_ENTRY},
        };
        assert_non_null(big_entry);
        memset(big_entry, 'e', HWSIGN_MAX_LOG_ENTRY);
        cases[2].entry = big_entry;
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
            struct proto_stage_signature s;
            memset(&s, POISON, sizeof(s));
            assert_int_equal(proto_put_stage_signature(out, 53, chunk, cases[i].sig_len,
                                                       cases[i].index, cases[i].entry,
                                                       cases[i].entry_len, STAGE_KEYID),
                             0);
            split_frame(out, HWSIGN_MSG_REPLY | HWSIGN_MSG_STATEMENT_SIGN, 53, &pl, &len);
            b = sbuf_from(pl, len);
            assert_int_equal(proto_get_stage_signature(b, &s), 0);
            assert_int_equal(s.sig_len, cases[i].sig_len);
            assert_memory_equal(s.sig, chunk, s.sig_len);
            assert_true(s.log_index == cases[i].index);
            assert_int_equal(s.entry_len, cases[i].entry_len);
            assert_non_null(s.entry);
            assert_int_equal(strlen(s.entry), s.entry_len);
            if (cases[i].entry_len)
                assert_memory_equal(s.entry, cases[i].entry, s.entry_len);
            assert_string_equal(s.keyid, STAGE_KEYID);
            proto_stage_signature_clear(&s);
            assert_null(s.sig);
            assert_null(s.entry);
            proto_stage_signature_clear(&s); /* twice is harmless */
            proto_stage_signature_clear(NULL);
            sbuf_free(b);
            free(pl);
            sbuf_reset(out);
        }
    }
}

/* Strictness: every truncation refused, one trailing byte is -EBADMSG. */
static void test_stage_strict(void **state)
{
    uint8_t chunk[300];

    for (size_t i = 0; i < sizeof(chunk); i++)
        chunk[i] = (uint8_t)(i * 13);
    CHECK_ENCODED(D_STAGE_BEGIN, HWSIGN_MSG_STATEMENT_BEGIN, 60,
                  proto_put_stage_begin_req(out, 60, "k", STAGE_TYPE, 5000));
    CHECK_ENCODED(D_STAGE_DATA, HWSIGN_MSG_STATEMENT_DATA, 61,
                  proto_put_stage_data_req(out, 61, chunk, 300));
    CHECK_ENCODED(D_STAGE_DATA_REPLY, HWSIGN_MSG_REPLY | HWSIGN_MSG_STATEMENT_DATA, 62,
                  proto_put_stage_data_reply(out, 62, 300));
    CHECK_ENCODED(D_STAGE_SIG, HWSIGN_MSG_REPLY | HWSIGN_MSG_STATEMENT_SIGN, 63,
                  proto_put_stage_signature(out, 63, chunk, 70, 9, "entry", 5, STAGE_KEYID));
    CHECK_ENCODED(D_STAGE_SIG, HWSIGN_MSG_REPLY | HWSIGN_MSG_STATEMENT_SIGN, 64,
                  proto_put_stage_signature(out, 64, chunk, 70, HWSIGN_LOG_INDEX_NONE, NULL, 0,
                                            STAGE_KEYID));
}

/* Frames written out by hand from the framing rules and protocol.h / proto-stage.h. */
static void test_stage_known_answers(void **state)
{
    _cleanup_(sbuf_freep) struct sbuf *out = new_out();
    /* BEGIN id 0x01020304, key "k", type "t", length 0x0102: 1 + 4 + 5 + 5 + 8 = 23. */
    static const uint8_t begin[] = {0x00, 0x00, 0x00, 0x17, 0x0b, 0x01, 0x02, 0x03, 0x04,
                                    0x00, 0x00, 0x00, 0x01, 'k',  0x00, 0x00, 0x00, 0x01,
                                    't',  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x02};
    /* DATA id 5 "ab": 1 + 4 + 4 + 2 = 11. */
    static const uint8_t data[] = {0x00, 0x00, 0x00, 0x0b, 0x0c, 0x00, 0x00, 0x00,
                                   0x05, 0x00, 0x00, 0x00, 0x02, 'a',  'b'};
    /* DATA reply id 5, received 0x0a0b: type 0x8c, 1 + 4 + 8 = 13. */
    static const uint8_t data_reply[] = {0x00, 0x00, 0x00, 0x0d, 0x8c, 0x00, 0x00, 0x00, 0x05,
                                         0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0a, 0x0b};
    /* SIGN id 6: header only. */
    static const uint8_t sign[] = {0x00, 0x00, 0x00, 0x05, 0x0d, 0x00, 0x00, 0x00, 0x06};
    /* SIGN reply id 7, sig 30 01, index 3, no entry, keyid STAGE_KEYID: type 0x8d,
     * 1 + 4 + (4 + 2) + 8 + 4 + (4 + 64) = 91. */
    uint8_t sign_reply[4 + 91] = {0x00, 0x00, 0x00, 0x5b, 0x8d, 0x00, 0x00, 0x00, 0x07, 0x00, 0x00,
                                  0x00, 0x02, 0x30, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
                                  0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x40};
    static const uint8_t sig2[] = {0x30, 0x01};

    memcpy(sign_reply + 31, STAGE_KEYID, 64);
    assert_int_equal(proto_put_stage_begin_req(out, 0x01020304u, "k", "t", 0x0102), 0);
    assert_int_equal(sbuf_len(out), sizeof(begin));
    assert_memory_equal(sbuf_ptr(out), begin, sizeof(begin));
    sbuf_reset(out);
    assert_int_equal(proto_put_stage_data_req(out, 5, (const uint8_t *)"ab", 2), 0);
    assert_int_equal(sbuf_len(out), sizeof(data));
    assert_memory_equal(sbuf_ptr(out), data, sizeof(data));
    sbuf_reset(out);
    assert_int_equal(proto_put_stage_data_reply(out, 5, 0x0a0b), 0);
    assert_int_equal(sbuf_len(out), sizeof(data_reply));
    assert_memory_equal(sbuf_ptr(out), data_reply, sizeof(data_reply));
    sbuf_reset(out);
    assert_int_equal(proto_put_stage_sign_req(out, 6), 0);
    assert_int_equal(sbuf_len(out), sizeof(sign));
    assert_memory_equal(sbuf_ptr(out), sign, sizeof(sign));
    sbuf_reset(out);
    assert_int_equal(proto_put_stage_signature(out, 7, sig2, 2, 3, NULL, 0, STAGE_KEYID), 0);
    assert_int_equal(sbuf_len(out), sizeof(sign_reply));
    assert_memory_equal(sbuf_ptr(out), sign_reply, sizeof(sign_reply));

    /* ... and the hand-written bodies decode. */
    assert_int_equal(run_decoder(D_STAGE_BEGIN, begin + 9, sizeof(begin) - 9), 0);
    assert_int_equal(run_decoder(D_STAGE_DATA, data + 9, sizeof(data) - 9), 0);
    assert_int_equal(run_decoder(D_STAGE_DATA_REPLY, data_reply + 9, sizeof(data_reply) - 9), 0);
    assert_int_equal(run_decoder(D_STAGE_SIG, sign_reply + 9, sizeof(sign_reply) - 9), 0);
}

static void test_stage_encoder_limits(void **state)
{
    _cleanup_(sbuf_freep) struct sbuf *out = new_out();
    _cleanup_free_ uint8_t *big = calloc(1, HWSIGN_MAX_STAGE_CHUNK + 1);
    _cleanup_free_ char *big_entry = malloc(HWSIGN_MAX_LOG_ENTRY + 2);
    char name65[HWSIGN_MAX_NAME + 2], type129[HWSIGN_MAX_PAYLOAD_TYPE + 2];
    char keyid[PROTO_KEYID_LEN + 2];
    size_t before;

    assert_non_null(big);
    assert_non_null(big_entry);
    memset(big_entry, 'e', HWSIGN_MAX_LOG_ENTRY + 1);
    big_entry[HWSIGN_MAX_LOG_ENTRY + 1] = '\0';
    memset(name65, 'n', HWSIGN_MAX_NAME + 1);
    name65[HWSIGN_MAX_NAME + 1] = '\0';
    memset(type129, 't', HWSIGN_MAX_PAYLOAD_TYPE + 1);
    type129[HWSIGN_MAX_PAYLOAD_TYPE + 1] = '\0';
    assert_int_equal(proto_put_status_req(out, 1), 0); /* something already queued */
    before = sbuf_len(out);

    /* BEGIN: length, key and type limits. */
    assert_int_equal(proto_put_stage_begin_req(out, 1, "k", STAGE_TYPE,
                                               (uint64_t)HWSIGN_MAX_STAGED_STATEMENT + 1),
                     -EMSGSIZE);
    assert_int_equal(proto_put_stage_begin_req(out, 1, "k", STAGE_TYPE, UINT64_MAX), -EMSGSIZE);
    assert_int_equal(proto_put_stage_begin_req(out, 1, name65, STAGE_TYPE, 10), -EMSGSIZE);
    assert_int_equal(proto_put_stage_begin_req(out, 1, "k", type129, 10), -EMSGSIZE);
    assert_int_equal(proto_put_stage_begin_req(out, 1, NULL, STAGE_TYPE, 10), -EMSGSIZE);
    assert_int_equal(proto_put_stage_begin_req(out, 1, "k", NULL, 10), -EMSGSIZE);

    /* DATA: empty or over the chunk limit. */
    assert_int_equal(proto_put_stage_data_req(out, 1, big, 0), -EINVAL);
    assert_int_equal(proto_put_stage_data_req(out, 1, NULL, 5), -EINVAL);
    assert_int_equal(proto_put_stage_data_req(out, 1, big, HWSIGN_MAX_STAGE_CHUNK + 1), -EMSGSIZE);

    /* SIGN reply: keyid must be 64 lowercase hex; a signature is required; size limits. */
    memcpy(keyid, STAGE_KEYID, PROTO_KEYID_LEN + 1);
    keyid[10] = 'A';
    assert_int_equal(proto_put_stage_signature(out, 1, big, 8, 0, NULL, 0, keyid), -EINVAL);
    keyid[10] = 'g';
    assert_int_equal(proto_put_stage_signature(out, 1, big, 8, 0, NULL, 0, keyid), -EINVAL);
    memcpy(keyid, STAGE_KEYID, PROTO_KEYID_LEN);
    keyid[PROTO_KEYID_LEN - 1] = '\0'; /* 63 */
    assert_int_equal(proto_put_stage_signature(out, 1, big, 8, 0, NULL, 0, keyid), -EINVAL);
    keyid[PROTO_KEYID_LEN - 1] = 'f';
    keyid[PROTO_KEYID_LEN] = 'f';
    keyid[PROTO_KEYID_LEN + 1] = '\0'; /* 65 */
    assert_int_equal(proto_put_stage_signature(out, 1, big, 8, 0, NULL, 0, keyid), -EINVAL);
    assert_int_equal(proto_put_stage_signature(out, 1, big, 8, 0, NULL, 0, ""), -EINVAL);
    assert_int_equal(proto_put_stage_signature(out, 1, big, 8, 0, NULL, 0, NULL), -EINVAL);
    assert_int_equal(proto_put_stage_signature(out, 1, big, 0, 0, NULL, 0, STAGE_KEYID), -EINVAL);
    assert_int_equal(proto_put_stage_signature(out, 1, NULL, 8, 0, NULL, 0, STAGE_KEYID), -EINVAL);
    assert_int_equal(
            proto_put_stage_signature(out, 1, big, HWSIGN_MAX_SIG + 1, 0, NULL, 0, STAGE_KEYID),
            -EMSGSIZE);
    assert_int_equal(proto_put_stage_signature(out, 1, big, 8, 0, big_entry,
                                               HWSIGN_MAX_LOG_ENTRY + 1, STAGE_KEYID),
                     -EMSGSIZE);

    /* Nothing was appended by any refused call; the earlier frame is intact. */
    assert_int_equal(sbuf_len(out), before);
    {
        size_t blen;
        assert_int_equal(proto_frame_check(out, &blen), 1);
        assert_int_equal(blen, HWSIGN_MSG_HEADER);
    }
}

static void test_stage_decoder_limits(void **state)
{
    _cleanup_(sbuf_freep) struct sbuf *b = body_new();
    _cleanup_free_ uint8_t *big = calloc(1, HWSIGN_MAX_LOG_ENTRY + 1);
    char name65[HWSIGN_MAX_NAME + 1], type129[HWSIGN_MAX_PAYLOAD_TYPE + 1];
    char keyid[PROTO_KEYID_LEN + 1];
    static const uint8_t sig[] = {0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01};

    assert_non_null(big);
    memset(name65, 'n', sizeof(name65));
    memset(type129, 't', sizeof(type129));

    /* BEGIN: declared length 0 / 1 / max / max + 1 / 2^64 - 1. */
    put_begin_body(b, "k", 1, STAGE_TYPE, strlen(STAGE_TYPE), 0);
    assert_int_equal(decode_body(D_STAGE_BEGIN, b), -EINVAL);
    put_begin_body(b, "k", 1, STAGE_TYPE, strlen(STAGE_TYPE), 1);
    assert_int_equal(decode_body(D_STAGE_BEGIN, b), 0);
    put_begin_body(b, "k", 1, STAGE_TYPE, strlen(STAGE_TYPE), HWSIGN_MAX_STAGED_STATEMENT);
    assert_int_equal(decode_body(D_STAGE_BEGIN, b), 0);
    put_begin_body(b, "k", 1, STAGE_TYPE, strlen(STAGE_TYPE),
                   (uint64_t)HWSIGN_MAX_STAGED_STATEMENT + 1);
    assert_int_equal(decode_body(D_STAGE_BEGIN, b), -EMSGSIZE);
    put_begin_body(b, "k", 1, STAGE_TYPE, strlen(STAGE_TYPE), UINT64_MAX);
    assert_int_equal(decode_body(D_STAGE_BEGIN, b), -EMSGSIZE);
    /* Payload type: empty, exactly the limit, one over, an embedded NUL. */
    put_begin_body(b, "k", 1, "", 0, 10);
    assert_int_equal(decode_body(D_STAGE_BEGIN, b), -EINVAL);
    put_begin_body(b, "k", 1, type129, HWSIGN_MAX_PAYLOAD_TYPE, 10);
    assert_int_equal(decode_body(D_STAGE_BEGIN, b), 0);
    put_begin_body(b, "k", 1, type129, HWSIGN_MAX_PAYLOAD_TYPE + 1, 10);
    assert_int_equal(decode_body(D_STAGE_BEGIN, b), -EMSGSIZE);
    put_begin_body(b, "k", 1, "app\0x", 5, 10);
    assert_int_equal(decode_body(D_STAGE_BEGIN, b), -EBADMSG);
    /* Key name: bad characters, empty, too long. */
    put_begin_body(b, "../k", 4, STAGE_TYPE, strlen(STAGE_TYPE), 10);
    assert_int_equal(decode_body(D_STAGE_BEGIN, b), -EINVAL);
    put_begin_body(b, "k k", 3, STAGE_TYPE, strlen(STAGE_TYPE), 10);
    assert_int_equal(decode_body(D_STAGE_BEGIN, b), -EINVAL);
    put_begin_body(b, "", 0, STAGE_TYPE, strlen(STAGE_TYPE), 10);
    assert_int_equal(decode_body(D_STAGE_BEGIN, b), -EINVAL);
    put_begin_body(b, name65, HWSIGN_MAX_NAME + 1, STAGE_TYPE, strlen(STAGE_TYPE), 10);
    assert_int_equal(decode_body(D_STAGE_BEGIN, b), -EMSGSIZE);
    put_begin_body(b, name65, HWSIGN_MAX_NAME, STAGE_TYPE, strlen(STAGE_TYPE), 10);
    assert_int_equal(decode_body(D_STAGE_BEGIN, b), 0);

    /* DATA: empty, exactly the chunk limit, one over, a length beyond the body. */
    {
        _cleanup_free_ uint8_t *chunk = calloc(1, HWSIGN_MAX_STAGE_CHUNK + 1);
        assert_non_null(chunk);
        sbuf_reset(b);
        assert_int_equal(sbuf_put_string(b, chunk, 0), 0);
        assert_int_equal(decode_body(D_STAGE_DATA, b), -EINVAL);
        sbuf_reset(b);
        assert_int_equal(sbuf_put_string(b, chunk, HWSIGN_MAX_STAGE_CHUNK), 0);
        assert_int_equal(decode_body(D_STAGE_DATA, b), 0);
        sbuf_reset(b);
        assert_int_equal(sbuf_put_string(b, chunk, HWSIGN_MAX_STAGE_CHUNK + 1), 0);
        assert_int_equal(decode_body(D_STAGE_DATA, b), -EMSGSIZE);
        sbuf_reset(b);
        assert_int_equal(sbuf_put_u32(b, 100), 0);
        assert_int_equal(sbuf_put(b, chunk, 99), 0);
        assert_int_equal(decode_body(D_STAGE_DATA, b), -EBADMSG);
    }

    /* DATA reply: a count beyond what one staged statement can hold is refused. */
    sbuf_reset(b);
    assert_int_equal(sbuf_put_u64(b, HWSIGN_MAX_STAGED_STATEMENT), 0);
    assert_int_equal(decode_body(D_STAGE_DATA_REPLY, b), 0);
    sbuf_reset(b);
    assert_int_equal(sbuf_put_u64(b, (uint64_t)HWSIGN_MAX_STAGED_STATEMENT + 1), 0);
    assert_int_equal(decode_body(D_STAGE_DATA_REPLY, b), -EBADMSG);
    sbuf_reset(b);
    assert_int_equal(sbuf_put_u64(b, UINT64_MAX), 0);
    assert_int_equal(decode_body(D_STAGE_DATA_REPLY, b), -EBADMSG);

    /* SIGN reply: the well-formed body first, then one defect at a time. */
    put_stage_sig_body(b, sig, sizeof(sig), 1, "e", 1, STAGE_KEYID, PROTO_KEYID_LEN);
    assert_int_equal(decode_body(D_STAGE_SIG, b), 0);
    memcpy(keyid, STAGE_KEYID, sizeof(keyid));
    keyid[0] = 'A'; /* uppercase hex */
    put_stage_sig_body(b, sig, sizeof(sig), 1, "", 0, keyid, PROTO_KEYID_LEN);
    assert_int_equal(decode_body(D_STAGE_SIG, b), -EBADMSG);
    keyid[0] = 'z'; /* not hex */
    put_stage_sig_body(b, sig, sizeof(sig), 1, "", 0, keyid, PROTO_KEYID_LEN);
    assert_int_equal(decode_body(D_STAGE_SIG, b), -EBADMSG);
    keyid[0] = '\0'; /* NUL inside */
    put_stage_sig_body(b, sig, sizeof(sig), 1, "", 0, keyid, PROTO_KEYID_LEN);
    assert_int_equal(decode_body(D_STAGE_SIG, b), -EBADMSG);
    put_stage_sig_body(b, sig, sizeof(sig), 1, "", 0, STAGE_KEYID, PROTO_KEYID_LEN - 1);
    assert_int_equal(decode_body(D_STAGE_SIG, b), -EBADMSG);
    put_stage_sig_body(b, sig, sizeof(sig), 1, "", 0, "", 0);
    assert_int_equal(decode_body(D_STAGE_SIG, b), -EBADMSG);
    {
        char keyid65[PROTO_KEYID_LEN + 2];
        memcpy(keyid65, STAGE_KEYID, PROTO_KEYID_LEN);
        keyid65[PROTO_KEYID_LEN] = 'a';
        keyid65[PROTO_KEYID_LEN + 1] = '\0';
        put_stage_sig_body(b, sig, sizeof(sig), 1, "", 0, keyid65, PROTO_KEYID_LEN + 1);
        assert_int_equal(decode_body(D_STAGE_SIG, b), -EMSGSIZE);
    }
    /* Empty or over-limit signature. */
    put_stage_sig_body(b, sig, 0, 1, "", 0, STAGE_KEYID, PROTO_KEYID_LEN);
    assert_int_equal(decode_body(D_STAGE_SIG, b), -EBADMSG);
    put_stage_sig_body(b, big, HWSIGN_MAX_SIG + 1, 1, "", 0, STAGE_KEYID, PROTO_KEYID_LEN);
    assert_int_equal(decode_body(D_STAGE_SIG, b), -EMSGSIZE);
    put_stage_sig_body(b, big, HWSIGN_MAX_SIG, 1, "", 0, STAGE_KEYID, PROTO_KEYID_LEN);
    assert_int_equal(decode_body(D_STAGE_SIG, b), 0);
    /* Log entry: a NUL inside, exactly the limit, one over. */
    put_stage_sig_body(b, sig, sizeof(sig), 1, "a\0b", 3, STAGE_KEYID, PROTO_KEYID_LEN);
    assert_int_equal(decode_body(D_STAGE_SIG, b), -EBADMSG);
    memset(big, 'e', HWSIGN_MAX_LOG_ENTRY + 1);
    put_stage_sig_body(b, sig, sizeof(sig), 1, (const char *)big, HWSIGN_MAX_LOG_ENTRY, STAGE_KEYID,
                       PROTO_KEYID_LEN);
    assert_int_equal(decode_body(D_STAGE_SIG, b), 0);
    put_stage_sig_body(b, sig, sizeof(sig), 1, (const char *)big, HWSIGN_MAX_LOG_ENTRY + 1,
                       STAGE_KEYID, PROTO_KEYID_LEN);
    assert_int_equal(decode_body(D_STAGE_SIG, b), -EMSGSIZE);
    /* Trailing bytes after a complete body. */
    put_stage_sig_body(b, sig, sizeof(sig), 1, "", 0, STAGE_KEYID, PROTO_KEYID_LEN);
    assert_int_equal(sbuf_put_u8(b, 0), 0);
    assert_int_equal(decode_body(D_STAGE_SIG, b), -EBADMSG);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_requests_round_trip),
            cmocka_unit_test(test_replies_round_trip),
            cmocka_unit_test(test_known_answers),
            cmocka_unit_test(test_truncation_and_trailing),
            cmocka_unit_test(test_field_limits),
            cmocka_unit_test(test_encoder_limits),
            cmocka_unit_test(test_frame_check),
            cmocka_unit_test(test_error_mapping),
            cmocka_unit_test(test_outputs_untouched),
            cmocka_unit_test(test_attest_messages),
            cmocka_unit_test(test_stage_round_trip),
            cmocka_unit_test(test_stage_strict),
            cmocka_unit_test(test_stage_known_answers),
            cmocka_unit_test(test_stage_encoder_limits),
            cmocka_unit_test(test_stage_decoder_limits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
