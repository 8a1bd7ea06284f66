/* SPDX-License-Identifier: Apache-2.0 */
/*
 * checkpoint: the tlog-checkpoint.md example quoted in FORMATS 7.2 parses and re-formats byte
 * for byte; a Rekor v1 style origin (spaces) parses; extensions round-trip; every malformed
 * text (leading zeros, signs, bad base64, wrong root length, missing or empty lines) fails
 * without touching the output; the formatter refuses what the recommendation excludes.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checkpoint.h"
#include "macro.h"

#define EXAMPLE                                                                                    \
    "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
#define ROOT "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I="

static void test_example_round_trip(void **state)
{
    static const uint8_t root0[4] = {0x0a, 0xc5, 0x18, 0x6a}; /* CsUYap... */
    _cleanup_(checkpoint_freep) struct checkpoint *c = NULL;
    _cleanup_free_ char *out = NULL;
    size_t len = 0;

    assert_int_equal(checkpoint_parse(EXAMPLE, strlen(EXAMPLE), &c), 0);
    assert_string_equal(c->origin, "example.com/behind-the-sofa");
    assert_int_equal(c->size, 20852163);
    assert_memory_equal(c->root, root0, sizeof(root0));
    assert_int_equal(c->n_extensions, 0);
    assert_int_equal(checkpoint_format(c->origin, c->size, c->root, NULL, 0, &out, &len), 0);
    assert_int_equal(len, strlen(EXAMPLE));
    assert_string_equal(out, EXAMPLE);
}

static void test_sizes_and_extensions(void **state)
{
    static const char *const ext[] = {"ext one", "\xc3\xa9t\xc3\xa9"};
    _cleanup_(checkpoint_freep) struct checkpoint *c = NULL, *d = NULL, *e = NULL;
    _cleanup_free_ char *out = NULL, *out2 = NULL;
    const char *rekor = "rekor.sigstage.dev - 8202293616175992157\n0\n" ROOT "\n";
    size_t len = 0;

    assert_int_equal(checkpoint_parse(rekor, strlen(rekor), &c), 0);
    assert_string_equal(c->origin, "rekor.sigstage.dev - 8202293616175992157");
    assert_int_equal(c->size, 0);
    /* We do not emit what the recommendation excludes. */
    assert_int_equal(checkpoint_format(c->origin, 0, c->root, NULL, 0, &out, &len), -EINVAL);
    assert_null(out);

    assert_int_equal(checkpoint_format("example.com/log", UINT64_MAX, c->root, ext, 2, &out, &len),
                     0);
    assert_string_equal(out, "example.com/log\n18446744073709551615\n" ROOT "\next one\n"
                             "\xc3\xa9t\xc3\xa9\n");
    assert_int_equal(checkpoint_parse(out, len, &d), 0);
    assert_int_equal(d->size, UINT64_MAX);
    assert_int_equal(d->n_extensions, 2);
    assert_string_equal(d->extensions[0], ext[0]);
    assert_string_equal(d->extensions[1], ext[1]);
    assert_int_equal(checkpoint_format(d->origin, d->size, d->root,
                                       (const char *const *)d->extensions, d->n_extensions, &out2,
                                       NULL),
                     0);
    assert_string_equal(out2, out);
    /* An origin with '+' parses (clients must not assume the URL form). */
    {
        const char *s = "a+b\n1\n" ROOT "\n";
        assert_int_equal(checkpoint_parse(s, strlen(s), &e), 0);
    }
}

static void test_malformed(void **state)
{
    static const char *const bad[] = {
            "",
            "\n",
            "example.com/log\n",
            "example.com/log\n1\n",
            "example.com/log\n1\n" ROOT,                         /* no final newline */
            "\n1\n" ROOT "\n",                                   /* empty origin */
            "example.com/log\n\n" ROOT "\n",                     /* empty size */
            "example.com/log\n1\n\n",                            /* empty root */
            "example.com/log\n01\n" ROOT "\n",                   /* leading zero */
            "example.com/log\n00\n" ROOT "\n",                   /* leading zero */
            "example.com/log\n+1\n" ROOT "\n",                   /* sign */
            "example.com/log\n-1\n" ROOT "\n",                   /* sign */
            "example.com/log\n 1\n" ROOT "\n",                   /* space */
            "example.com/log\n1 \n" ROOT "\n",                   /* space */
            "example.com/log\n0x10\n" ROOT "\n",                 /* hex */
            "example.com/log\n18446744073709551616\n" ROOT "\n", /* UINT64_MAX + 1 */
            "example.com/log\n99999999999999999999\n" ROOT "\n", /* overflow */
            "example.com/log\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I\n",   /* unpadded */
            "example.com/log\n1\nCsUYapGGPo4dkMgIAUqom_Xajj7h2fB2MPA3j2jxq2I=\n",  /* URL-safe */
            "example.com/log\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2J=\n",  /* trailing bits
                                                                                    */
            "example.com/log\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I= \n", /* space */
            "example.com/log\n1\n CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n", /* space */
            "example.com/log\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=CsUY\n", /* long */
            "example.com/log\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jx\n",         /* 30 bytes */
            "example.com/log\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2IAAAA=\n", /* 35 bytes */
            "example.com/log\n1\n" ROOT "\n\n",      /* empty extension line */
            "example.com/log\n1\n" ROOT "\n\next\n", /* empty line then extension */
            "example.com/log\r\n1\n" ROOT "\n",      /* CR */
            "exa\x01mple.com/log\n1\n" ROOT "\n",    /* control */
            "exa\xffmple.com/log\n1\n" ROOT "\n",    /* bad UTF-8 */
    };

    for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
        struct checkpoint *c = (struct checkpoint *)0x1;
        int r = checkpoint_parse(bad[i], strlen(bad[i]), &c);
        if (r != -EINVAL)
            fail_msg("case %zu: %d", i, r);
        assert_ptr_equal(c, (struct checkpoint *)0x1);
    }
}

static void test_limits_and_format_errors(void **state)
{
    static const uint8_t root[MERKLE_HASH_SIZE] = {0};
    const char *ext_empty[] = {""}, *ext_nl[] = {"a\nb"}, *ext_null[] = {NULL};
    const char *many[CHECKPOINT_MAX_EXTENSIONS + 1];
    _cleanup_free_ char *big = NULL, *out = NULL;
    struct checkpoint *c = NULL;
    size_t len;

    assert_int_equal(checkpoint_format("", 1, root, NULL, 0, &out, NULL), -EINVAL);
    assert_int_equal(checkpoint_format("a b", 1, root, NULL, 0, &out, NULL), -EINVAL);
    assert_int_equal(checkpoint_format("a+b", 1, root, NULL, 0, &out, NULL), -EINVAL);
    assert_int_equal(checkpoint_format("a", 1, root, ext_empty, 1, &out, NULL), -EINVAL);
    assert_int_equal(checkpoint_format("a", 1, root, ext_nl, 1, &out, NULL), -EINVAL);
    assert_int_equal(checkpoint_format("a", 1, root, ext_null, 1, &out, NULL), -EINVAL);
    assert_int_equal(checkpoint_format("a", 1, root, NULL, 1, &out, NULL), -EINVAL);
    for (size_t i = 0; i < ELEMENTSOF(many); i++)
        many[i] = "x";
    assert_int_equal(checkpoint_format("a", 1, root, many, ELEMENTSOF(many), &out, NULL),
                     -EMSGSIZE);
    assert_null(out);

    /* Too many extension lines, an origin over its limit, text over the limit. */
    big = malloc(CHECKPOINT_MAX_TEXT + 1);
    assert_non_null(big);
    len = (size_t)snprintf(big, CHECKPOINT_MAX_TEXT, "a\n1\n" ROOT "\n");
    for (size_t i = 0; i <= CHECKPOINT_MAX_EXTENSIONS; i++)
        len += (size_t)snprintf(big + len, CHECKPOINT_MAX_TEXT - len, "x\n");
    assert_int_equal(checkpoint_parse(big, len, &c), -EMSGSIZE);
    memset(big, 'o', CHECKPOINT_MAX_ORIGIN + 1);
    len = CHECKPOINT_MAX_ORIGIN + 1;
    len += (size_t)snprintf(big + len, CHECKPOINT_MAX_TEXT - len, "\n1\n" ROOT "\n");
    assert_int_equal(checkpoint_parse(big, len, &c), -EMSGSIZE);
    assert_int_equal(checkpoint_parse(big, CHECKPOINT_MAX_TEXT + 1, &c), -EMSGSIZE);
    assert_null(c);
    assert_null(checkpoint_free(NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_example_round_trip),
            cmocka_unit_test(test_sizes_and_extensions),
            cmocka_unit_test(test_malformed),
            cmocka_unit_test(test_limits_and_format_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
