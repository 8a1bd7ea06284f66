/* SPDX-License-Identifier: Apache-2.0 */
/*
 * slsa_predicate_parse on arbitrary bytes. An accepted predicate stays within the limits, and
 * rebuilding it from its accessors (buildType, parameters, the dependencies the builder can
 * express, builder id, metadata) gives a predicate that parses back to the same values: build
 * and parse agree on every rule.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "slsa.h"

#define CHECK(x)                                                                                   \
    do {                                                                                           \
        if (!(x)) {                                                                                \
            fprintf(stderr, "fuzz-slsa: check failed at line %d: %s\n", __LINE__, #x);             \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_same(const char *a, const char *b)
{
    CHECK((a == NULL) == (b == NULL));
    if (a)
        CHECK(streq(a, b));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    _cleanup_(slsa_provenance_freep) struct slsa_provenance *p = NULL, *again = NULL;
    _cleanup_free_ struct slsa_dependency *deps = NULL;
    _cleanup_free_ char *out = NULL;
    struct slsa_build_params params = {};
    size_t n, n_kept = 0, out_len = 0;
    const char *ts;
    int r;

    r = slsa_predicate_parse((const char *)data, size, &p);
    if (r < 0) {
        CHECK(r == -EINVAL || r == -EMSGSIZE);
        return 0;
    }
    CHECK(size <= SLSA_MAX_PREDICATE);
    CHECK(strlen(slsa_provenance_build_type(p)) <= SLSA_MAX_URI);
    CHECK(strlen(slsa_provenance_builder_id(p)) <= SLSA_MAX_URI);
    CHECK(slsa_provenance_external_parameters(p)[0] == '{');
    CHECK(slsa_provenance_byproduct_count(p) <= SLSA_MAX_BYPRODUCTS);
    ts = slsa_provenance_started_on(p);
    CHECK(!ts || slsa_timestamp_parse(ts, strlen(ts), NULL) == 0);
    ts = slsa_provenance_finished_on(p);
    CHECK(!ts || slsa_timestamp_parse(ts, strlen(ts), NULL) == 0);

    n = slsa_provenance_dependency_count(p);
    CHECK(n <= SLSA_MAX_DEPENDENCIES);
    CHECK(slsa_provenance_dependency(p, n) == NULL);
    deps = calloc(n + 1, sizeof(*deps));
    CHECK(deps);
    /* Descriptors with only other digests or content have nothing the builder can express. */
    for (size_t i = 0; i < n; i++) {
        const struct slsa_dependency *d = slsa_provenance_dependency(p, i);
        CHECK(d);
        if (d->uri || d->sha256 || d->git_commit)
            deps[n_kept++] = *d;
    }

    params.build_type = slsa_provenance_build_type(p);
    params.external_parameters = slsa_provenance_external_parameters(p);
    params.internal_parameters = slsa_provenance_internal_parameters(p);
    params.dependencies = deps;
    params.n_dependencies = n_kept;
    params.builder_id = slsa_provenance_builder_id(p);
    params.invocation_id = slsa_provenance_invocation_id(p);
    params.started_on = slsa_provenance_started_on(p);
    params.finished_on = slsa_provenance_finished_on(p);
    r = slsa_predicate_build(&params, &out, &out_len);
    if (r == -EMSGSIZE)
        return 0; /* re-escaping (e.g. U+007F as \u007f) may grow a near-limit predicate */
    CHECK(r == 0);
    CHECK(slsa_predicate_parse(out, out_len, &again) == 0);
    check_same(slsa_provenance_build_type(again), params.build_type);
    check_same(slsa_provenance_builder_id(again), params.builder_id);
    check_same(slsa_provenance_external_parameters(again), params.external_parameters);
    check_same(slsa_provenance_internal_parameters(again), params.internal_parameters);
    check_same(slsa_provenance_invocation_id(again), params.invocation_id);
    check_same(slsa_provenance_started_on(again), params.started_on);
    check_same(slsa_provenance_finished_on(again), params.finished_on);
    CHECK(slsa_provenance_dependency_count(again) == n_kept);
    for (size_t i = 0; i < n_kept; i++) {
        const struct slsa_dependency *d = slsa_provenance_dependency(again, i);
        check_same(d->uri, deps[i].uri);
        check_same(d->name, deps[i].name);
        check_same(d->sha256, deps[i].sha256);
        check_same(d->git_commit, deps[i].git_commit);
    }
    return 0;
}
