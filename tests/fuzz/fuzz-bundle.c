/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bundle_decode on arbitrary bytes, then bundle_verify with a fixed P-256 key (which must only
 * ever answer with the documented codes) and a re-encode/decode round trip of what was
 * accepted.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bundle.h"
#include "macro.h"

#define CHECK(x)                                                                                   \
    do {                                                                                           \
        if (!(x)) {                                                                                \
            fprintf(stderr, "fuzz-bundle: check failed at line %d: %s\n", __LINE__, #x);           \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static EVP_PKEY *fuzz_key(void)
{
    static EVP_PKEY *key;

    if (!key)
        key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    CHECK(key);
    return key;
}

static void round_trip(const struct bundle *b)
{
    _cleanup_(bundle_freep) struct bundle *again = NULL;
    _cleanup_free_ char *json = NULL;
    const char *hint = bundle_get_hint(b)[0] ? bundle_get_hint(b) : "h";
    const uint8_t *sig, *sig2;
    size_t sl, sl2, n = 0;
    int r;

    if (bundle_get_kind(b) == BUNDLE_MESSAGE_SIGNATURE) {
        sig = bundle_get_signature(b, &sl);
        CHECK(bundle_encode_message_signature(hint, bundle_get_message_digest(b), sig, sl, &json,
                                              &n) == 0);
        CHECK(bundle_decode(json, n, &again) == 0);
        CHECK(memcmp(bundle_get_message_digest(again), bundle_get_message_digest(b), 32) == 0);
        sig2 = bundle_get_signature(again, &sl2);
        CHECK(sl2 == sl && memcmp(sig2, sig, sl) == 0);
    } else {
        const struct dsse_envelope *env = bundle_get_envelope(b);
        const char *type = dsse_envelope_payload_type(env);
        const uint8_t *payload = NULL, *p2;
        size_t plen, plen2;

        payload = dsse_envelope_payload(env, &plen);
        CHECK(plen > 0);
        CHECK(dsse_envelope_signature(env, 0, &sig, &sl, NULL) == 0);
        if (sl == 0)
            return; /* the encoder refuses an empty signature */
        r = bundle_encode_dsse(hint, type, payload, plen, sig, sl, &json, &n);
        CHECK(r == 0);
        r = bundle_decode(json, n, &again);
        if (r == -EMSGSIZE)
            return; /* canonical base64 of a near-limit payload may outgrow BUNDLE_MAX_JSON */
        CHECK(r == 0);
        p2 = dsse_envelope_payload(bundle_get_envelope(again), &plen2);
        CHECK(plen2 == plen && memcmp(p2, payload, plen) == 0);
        CHECK(streq(dsse_envelope_payload_type(bundle_get_envelope(again)), type));
    }
    CHECK(streq(bundle_get_hint(again), hint));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    _cleanup_(bundle_freep) struct bundle *b = NULL;
    struct intoto_statement *st = NULL;
    uint8_t zero[32] = {0};
    int r;

    r = bundle_decode((const char *)data, size, &b);
    if (r < 0) {
        CHECK(r == -EINVAL || r == -EMSGSIZE || r == -EOPNOTSUPP);
        return 0;
    }
    CHECK(strlen(bundle_get_hint(b)) <= BUNDLE_MAX_HINT);
    CHECK((bundle_get_kind(b) == BUNDLE_DSSE_ENVELOPE) == (bundle_get_envelope(b) != NULL));

    /* A random key never verifies a fuzzed signature; the answer is one documented code. */
    r = bundle_verify(b, fuzz_key(), NULL, &st);
    CHECK(r == -EBADMSG);
    r = bundle_verify(b, fuzz_key(), zero, &st);
    CHECK(r == -EBADMSG || r == -ENOENT);
    round_trip(b);
    return 0;
}
