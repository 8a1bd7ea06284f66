/* SPDX-License-Identifier: Apache-2.0 */
/*
 * intoto_statement_parse on arbitrary bytes. An accepted statement stays within the limits, and
 * rebuilding it from its accessors (subjects, predicateType, predicate text) gives a statement
 * that parses back to the same values: build and parse agree on every rule.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "intoto.h"
#include "macro.h"

#define CHECK(x)                                                                                   \
    do {                                                                                           \
        if (!(x)) {                                                                                \
            fprintf(stderr, "fuzz-intoto: check failed at line %d: %s\n", __LINE__, #x);           \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    _cleanup_(intoto_statement_freep) struct intoto_statement *st = NULL, *again = NULL;
    _cleanup_free_ struct intoto_subject *subs = NULL;
    _cleanup_free_ char *out = NULL;
    const char *pred, *ptype;
    size_t n, out_len = 0;
    int r;

    r = intoto_statement_parse(data, size, &st);
    if (r < 0) {
        CHECK(r == -EINVAL || r == -EMSGSIZE);
        return 0;
    }
    n = intoto_statement_subject_count(st);
    CHECK(n >= 1 && n <= INTOTO_MAX_SUBJECTS);
    subs = calloc(n, sizeof(*subs));
    CHECK(subs);
    for (size_t i = 0; i < n; i++) {
        subs[i].name = intoto_statement_subject_name(st, i);
        CHECK(subs[i].name && strlen(subs[i].name) >= 1 && strlen(subs[i].name) <= INTOTO_MAX_NAME);
        CHECK(intoto_statement_subject_digest(st, i, "sha256") != NULL);
        memcpy(subs[i].sha256, intoto_statement_subject_sha256(st, i), 32);
        CHECK(intoto_statement_find_sha256(st, subs[i].sha256, NULL) == 0);
    }
    CHECK(intoto_statement_subject_name(st, n) == NULL);
    ptype = intoto_statement_predicate_type(st);
    pred = intoto_statement_predicate(st);
    CHECK(strlen(ptype) <= INTOTO_MAX_TYPE_URI && pred[0] == '{');

    r = intoto_statement_build(subs, n, ptype, pred, strlen(pred), &out, &out_len);
    if (r == -EMSGSIZE)
        return 0; /* re-escaping (e.g. U+007F as \u007f) may grow a near-limit statement */
    CHECK(r == 0);
    CHECK(intoto_statement_parse((const uint8_t *)out, out_len, &again) == 0);
    CHECK(intoto_statement_subject_count(again) == n);
    for (size_t i = 0; i < n; i++) {
        CHECK(streq(intoto_statement_subject_name(again, i), subs[i].name));
        CHECK(memcmp(intoto_statement_subject_sha256(again, i), subs[i].sha256, 32) == 0);
    }
    CHECK(streq(intoto_statement_predicate_type(again), ptype));
    CHECK(streq(intoto_statement_predicate(again), pred));
    return 0;
}
