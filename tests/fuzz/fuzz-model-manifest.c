/* SPDX-License-Identifier: Apache-2.0 */
/*
 * model_manifest_from_statement on arbitrary statements (intoto_statement_parse first, as
 * verify-model does after the signature verified). An accepted manifest is within the limits,
 * sorted, its resources canonical; its statement rebuilds, parses back to an equal manifest
 * (empty comparison) and, when the input's resources were already sorted, to the same root.
 * The input is also run through the path rules: normalisation gives canonical paths only, and
 * comparison is antisymmetric.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "intoto.h"
#include "macro.h"
#include "model-manifest.h"
#include "model-path.h"

#define CHECK(x)                                                                                   \
    do {                                                                                           \
        if (!(x)) {                                                                                \
            fprintf(stderr, "fuzz-model-manifest: check failed at line %d: %s\n", __LINE__, #x);   \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_paths(const uint8_t *data, size_t size)
{
    char a[128], b[128], *norm = NULL;
    size_t half = MIN(size / 2, sizeof(a) - 1), rest = MIN(size - half, sizeof(b) - 1);
    int ab, ba;

    memcpy(a, data, half);
    a[half] = '\0';
    memcpy(b, data + half, rest);
    b[rest] = '\0';
    if (model_path_normalize(a, &norm) == 0) {
        CHECK(model_path_is_canonical(norm, strlen(norm)));
        free(norm);
    }
    if (model_path_is_canonical(a, strlen(a)) && model_path_is_canonical(b, strlen(b))) {
        ab = model_path_compare(a, b);
        ba = model_path_compare(b, a);
        CHECK((ab < 0) == (ba > 0) && (ab == 0) == (ba == 0));
        CHECK((ab == 0) == streq(a, b));
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    _cleanup_(intoto_statement_freep) struct intoto_statement *st = NULL, *st2 = NULL;
    _cleanup_(model_manifest_freep) struct model_manifest *m = NULL, *m2 = NULL;
    _cleanup_(model_diff_freep) struct model_diff *d = NULL;
    _cleanup_free_ char *stmt = NULL;
    size_t len = 0;
    int r;

    check_paths(data, size);
    if (intoto_statement_parse(data, size, &st) < 0)
        return 0;
    if (model_manifest_from_statement(st, &m) < 0)
        return 0;
    CHECK(model_manifest_n_resources(m) <= MODEL_MAX_RESOURCES);
    CHECK(model_manifest_n_ignore(m) <= MODEL_MAX_IGNORE);
    for (size_t i = 0; i < model_manifest_n_resources(m); i++) {
        const struct model_resource *res = model_manifest_resource(m, i);

        CHECK(model_path_is_canonical(res->path, strlen(res->path)));
        CHECK(model_manifest_has_path(m, res->path));
        if (i > 0)
            CHECK(model_path_compare(model_manifest_resource(m, i - 1)->path, res->path) <= 0);
    }
    for (size_t i = 0; i < model_manifest_n_ignore(m); i++)
        CHECK(model_path_is_canonical(model_manifest_ignore(m, i),
                                      strlen(model_manifest_ignore(m, i))));
    r = model_manifest_statement(m, &stmt, &len);
    if (r == -EMSGSIZE)
        return 0; /* the float shard_size or long names can grow past the limit */
    CHECK(r == 0);
    CHECK(intoto_statement_parse((const uint8_t *)stmt, len, &st2) == 0);
    CHECK(model_manifest_from_statement(st2, &m2) == 0);
    CHECK(model_manifest_compare(m, m2, &d) == 0);
    CHECK(model_diff_count(d) == 0);
    CHECK(streq(model_manifest_name(m), model_manifest_name(m2)));
    CHECK(model_manifest_n_ignore(m) == model_manifest_n_ignore(m2));
    return 0;
}
