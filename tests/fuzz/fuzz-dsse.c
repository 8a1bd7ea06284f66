/* SPDX-License-Identifier: Apache-2.0 */
/*
 * dsse_envelope_decode on arbitrary bytes. Whatever is accepted stays within the limits,
 * re-encodes (in the canonical form) and decodes back to the same payload, type, signatures
 * and keyids; its PAE has the exact size 1.1 gives.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dsse.h"
#include "macro.h"

#define CHECK(x)                                                                                   \
    do {                                                                                           \
        if (!(x)) {                                                                                \
            fprintf(stderr, "fuzz-dsse: check failed at line %d: %s\n", __LINE__, #x);             \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t digits(size_t v)
{
    size_t n = 1;
    while (v >= 10) {
        v /= 10;
        n++;
    }
    return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    _cleanup_(dsse_envelope_freep) struct dsse_envelope *env = NULL, *again = NULL;
    struct dsse_signature sigs[DSSE_MAX_SIGNATURES];
    _cleanup_free_ char *json = NULL;
    _cleanup_free_ uint8_t *pae = NULL;
    const uint8_t *payload, *payload2;
    const char *type;
    size_t plen, plen2, n = 0, pae_len = 0, nsig;
    bool all_signed = true;
    int r;

    r = dsse_envelope_decode((const char *)data, size, &env);
    if (r < 0) {
        CHECK(r == -EINVAL || r == -EMSGSIZE);
        return 0;
    }
    type = dsse_envelope_payload_type(env);
    payload = dsse_envelope_payload(env, &plen);
    nsig = dsse_envelope_n_signatures(env);
    CHECK(strlen(type) <= DSSE_MAX_PAYLOAD_TYPE && plen <= DSSE_MAX_PAYLOAD);
    CHECK(nsig >= 1 && nsig <= DSSE_MAX_SIGNATURES);

    CHECK(dsse_pae(type, strlen(type), payload, plen, &pae, &pae_len) == 0);
    CHECK(pae_len == 6 + 1 + digits(strlen(type)) + 1 + strlen(type) + 1 + digits(plen) + 1 + plen);
    CHECK(memcmp(pae + pae_len - plen, payload, plen) == 0 || plen == 0);

    for (size_t i = 0; i < nsig; i++) {
        CHECK(dsse_envelope_signature(env, i, &sigs[i].sig, &sigs[i].sig_len, &sigs[i].keyid) == 0);
        CHECK(sigs[i].sig_len <= DSSE_MAX_SIG && strlen(sigs[i].keyid) <= DSSE_MAX_KEYID);
        all_signed = all_signed && sigs[i].sig_len > 0;
    }
    CHECK(dsse_envelope_signature(env, nsig, NULL, NULL, NULL) == -ERANGE);
    if (!all_signed)
        return 0; /* the encoder refuses empty signatures */

    r = dsse_envelope_encode(type, payload, plen, sigs, nsig, &json, &n);
    if (r == -EMSGSIZE)
        return 0; /* canonical base64 of a near-limit envelope may outgrow DSSE_MAX_ENVELOPE */
    CHECK(r == 0);
    r = dsse_envelope_decode(json, n, &again);
    if (r == -EMSGSIZE)
        return 0;
    CHECK(r == 0);
    CHECK(streq(dsse_envelope_payload_type(again), type));
    payload2 = dsse_envelope_payload(again, &plen2);
    CHECK(plen2 == plen && memcmp(payload2, payload, plen) == 0);
    CHECK(dsse_envelope_n_signatures(again) == nsig);
    for (size_t i = 0; i < nsig; i++) {
        const uint8_t *s;
        size_t sl;
        const char *kid;
        CHECK(dsse_envelope_signature(again, i, &s, &sl, &kid) == 0);
        CHECK(sl == sigs[i].sig_len && memcmp(s, sigs[i].sig, sl) == 0);
        CHECK(streq(kid, sigs[i].keyid));
    }
    return 0;
}
