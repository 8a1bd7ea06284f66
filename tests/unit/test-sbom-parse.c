/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/sbom pure parsers: the purl encoding table (Debian epochs, '+', '~', scoped npm names,
 * PEP 503), licence names -> SPDX expressions, DEP-5 copyright files, dpkg status stanzas
 * (continuation lines, missing fields, statuses that do not count, the size bound), Python core
 * metadata (broken ones refused) and package.json; outputs untouched on failure.
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

#include "dpkg.h"
#include "license.h"
#include "npm.h"
#include "purl.h"
#include "pydist.h"
#include "sbom.h"

#define POISON ((char *)(uintptr_t)0xdeadbeef)

static void purl_check(int r, char *got, const char *want)
{
    if (r != 0)
        fail_msg("purl failed (%d), want %s", r, want);
    assert_string_equal(got, want);
    free(got);
}
/* call writes p through &p: evaluate it before reading p. */
#define purl_is(call, p_unused, want)                                                              \
    do {                                                                                           \
        int r_ = (call);                                                                           \
        purl_check(r_, p, want);                                                                   \
        p = NULL;                                                                                  \
    } while (0)

static void test_purl_deb(void **state)
{
    char *p = NULL;

    /* Epoch ':' stays (the spec forbids encoding the colon), '+' is %2B, '~' stays. */
    purl_is(purl_deb("debian", "bsdutils", "1:2.38.1-5+deb12u3", "amd64", "debian-12", &p), p,
            "pkg:deb/debian/bsdutils@1:2.38.1-5%2Bdeb12u3?arch=amd64&distro=debian-12");
    purl_is(purl_deb("debian", "clang", "1:14.0-55.7~deb12u1", "amd64", NULL, &p), p,
            "pkg:deb/debian/clang@1:14.0-55.7~deb12u1?arch=amd64");
    purl_is(purl_deb("debian", "curl", "7.50.3-1", "i386", "jessie", &p), p,
            "pkg:deb/debian/curl@7.50.3-1?arch=i386&distro=jessie");
    /* Names and vendor lower-cased; no version, no qualifiers. */
    purl_is(purl_deb("Debian", "Foo", NULL, NULL, NULL, &p), p, "pkg:deb/debian/foo");
    purl_is(purl_deb("debian", "g++-12", "12.2.0-14", "all", NULL, &p), p,
            "pkg:deb/debian/g%2B%2B-12@12.2.0-14?arch=all");
    /* Only distro: its own '?'. */
    purl_is(purl_deb("ubuntu", "dpkg", "1.19.0.4", NULL, "ubuntu-18.04", &p), p,
            "pkg:deb/ubuntu/dpkg@1.19.0.4?distro=ubuntu-18.04");

    p = POISON;
    assert_int_equal(purl_deb("debian", "", "1", NULL, NULL, &p), -EINVAL);
    assert_int_equal(purl_deb(NULL, "x", "1", NULL, NULL, &p), -EINVAL);
    assert_ptr_equal(p, POISON);
}

static void test_purl_pypi_npm(void **state)
{
    char *p = NULL, big[SBOM_MAX_FIELD + 2];

    /* PEP 503: lower case, runs of - _ . become one '-'. */
    purl_is(purl_pypi("Foo_Bar.baz--Qux", "1.0", &p), p, "pkg:pypi/foo-bar-baz-qux@1.0");
    purl_is(purl_pypi("PyYAML", "6.0", &p), p, "pkg:pypi/pyyaml@6.0");
    /* Local versions and epochs: '+' and '!' encoded. */
    purl_is(purl_pypi("torch", "2.1.0+cpu", &p), p, "pkg:pypi/torch@2.1.0%2Bcpu");
    purl_is(purl_pypi("x", "1!2.0", &p), p, "pkg:pypi/x@1%212.0");
    purl_is(purl_pep503_name("A__b..C", &p), p, "a-b-c");

    purl_is(purl_npm("@angular/core", "16.0.0", &p), p, "pkg:npm/%40angular/core@16.0.0");
    purl_is(purl_npm("lodash", "4.17.21", &p), p, "pkg:npm/lodash@4.17.21");
    purl_is(purl_npm("Legacy", "1.0.0-beta+exp.sha", &p), p, "pkg:npm/legacy@1.0.0-beta%2Bexp.sha");
    purl_is(purl_encode("a b/c@d?e#f%g", &p), p, "a%20b%2Fc%40d%3Fe%23f%25g");
    /* UTF-8 bytes are encoded one by one. */
    purl_is(purl_encode("\xc3\xa9", &p), p, "%C3%A9");

    p = POISON;
    assert_int_equal(purl_npm("@scope", "1", &p), -EINVAL);
    assert_int_equal(purl_npm("@/x", "1", &p), -EINVAL);
    assert_int_equal(purl_npm("@a/b/c", "1", &p), -EINVAL);
    assert_int_equal(purl_npm("a/b", "1", &p), -EINVAL);
    assert_int_equal(purl_pypi("", "1", &p), -EINVAL);
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    assert_int_equal(purl_pypi(big, "1", &p), -EMSGSIZE);
    assert_int_equal(purl_npm("x", big, &p), -EMSGSIZE);
    big[SBOM_MAX_FIELD] = '\0'; /* exactly at the limit: fine */
    assert_int_equal(purl_encode(big, &p), 0);
    free(p);
}

static void spdx_is(const char *text, const char *want)
{
    char *e = POISON;
    int r = license_to_spdx(text, &e);

    if (!want) {
        if (r != -ENOENT)
            fail_msg("'%s' translated (%d) to '%s'", text, r, r == 0 ? e : "");
        assert_ptr_equal(e, POISON);
        return;
    }
    if (r != 0)
        fail_msg("'%s' not translated (%d), want '%s'", text, r, want);
    assert_string_equal(e, want);
    free(e);
}

static void test_license_to_spdx(void **state)
{
    spdx_is("GPL-2+", "GPL-2.0-or-later");
    spdx_is("GPL-2", "GPL-2.0-only");
    spdx_is("lgpl-2.1+", "LGPL-2.1-or-later");
    spdx_is("GPL-3.0-or-later", "GPL-3.0-or-later");
    spdx_is("Expat", "MIT");
    spdx_is("BSD-3-clause", "BSD-3-Clause");
    spdx_is("Apache 2.0", "Apache-2.0");
    spdx_is("MPL-1.1+", "MPL-1.1+");
    spdx_is("  MIT License ", "MIT");
    spdx_is("GPL-2+ or Artistic", "GPL-2.0-or-later OR Artistic-1.0");
    spdx_is("MIT AND (Apache-2.0 OR BSD-2-Clause)", "MIT AND (Apache-2.0 OR BSD-2-Clause)");
    spdx_is("(MIT)", "MIT");
    spdx_is("LicenseRef-Proprietary", "LicenseRef-Proprietary");
    /* Not translated: unknown names, exceptions, commas, ambiguous mixes, bad parentheses. */
    spdx_is("public-domain", NULL);
    spdx_is("GPL", NULL);
    spdx_is("GPL-2+ with OpenSSL exception", NULL);
    spdx_is("MPL-1.1 or LGPL-2.1+, and SC", NULL);
    spdx_is("MIT and ISC or Zlib", NULL);
    spdx_is("(MIT", NULL);
    spdx_is("MIT)", NULL);
    spdx_is("MIT or", NULL);
    spdx_is("", NULL);
    spdx_is("((((((((((MIT))))))))))", NULL); /* nesting past LICENSE_MAX_DEPTH */
}

static void test_license_resolve(void **state)
{
    struct sbom_component c = {};

    assert_int_equal(sbom_component_add_license_name(&c, "GPL-2+"), 0);
    assert_int_equal(sbom_component_add_license_name(&c, "Expat or Zlib"), 0);
    assert_int_equal(sbom_component_add_license_name(&c, "GPL-2+"), 0); /* duplicate: ignored */
    assert_int_equal(c.n_license_names, 2);
    assert_int_equal(license_resolve(&c), 0);
    assert_string_equal(c.license_expr, "GPL-2.0-or-later AND (MIT OR Zlib)");
    /* One untranslatable name: no expression at all. */
    free(c.license_expr);
    c.license_expr = NULL;
    assert_int_equal(sbom_component_add_license_name(&c, "public-domain"), 0);
    assert_int_equal(license_resolve(&c), 0);
    assert_null(c.license_expr);
    sbom_component_clear(&c);
    /* The per-component cap. */
    for (unsigned i = 0; i < SBOM_MAX_LICENSES + 5; i++) {
        char n[32];

        snprintf(n, sizeof(n), "L%u", i);
        assert_int_equal(sbom_component_add_license_name(&c, n), 0);
    }
    assert_int_equal(c.n_license_names, SBOM_MAX_LICENSES);
    sbom_component_clear(&c);
}

static const char dep5[] =
        "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n"
        "Upstream-Name: example\n"
        "License: GPL-2+\n"
        "\n"
        "Files: *\n"
        "Copyright: 2000 Someone\n"
        "License: GPL-2+\n"
        " This program is free software; long text follows.\n"
        " .\n"
        " License: NOT-A-FIELD (continuation)\n"
        "\n"
        "Files: lib/*\r\n"
        "License: Expat\r\n"
        "\r\n"
        "License: Expat\n"
        " Permission is hereby granted (stand-alone text paragraph: skipped)\n"
        "\n"
        "License: Artistic\n"
        "\n"
        "Files: debian/*\n"
        "License: BSD-3-clause";

static void test_dep5(void **state)
{
    struct sbom_component c = {};
    size_t n = 99;

    assert_int_equal(license_dep5_parse(dep5, strlen(dep5), &c, &n), 0);
    assert_int_equal(n, 3);
    assert_int_equal(c.n_license_names, 3);
    assert_string_equal(c.license_names[0], "GPL-2+");
    assert_string_equal(c.license_names[1], "Expat");
    assert_string_equal(c.license_names[2], "BSD-3-clause");
    assert_int_equal(license_resolve(&c), 0);
    assert_string_equal(c.license_expr, "GPL-2.0-or-later AND MIT AND BSD-3-Clause");
    sbom_component_clear(&c);

    /* Free-form copyright files and empty ones are not machine-readable. */
    n = 99;
    assert_int_equal(
            license_dep5_parse("This is the Debian package of foo.\n\nLicense: MIT\n", 48, &c, &n),
            -EMEDIUMTYPE);
    assert_int_equal(license_dep5_parse("", 0, &c, &n), -EMEDIUMTYPE);
    assert_int_equal(n, 99);
    assert_int_equal(c.n_license_names, 0);
    /* Machine-readable but no licence: 0 names. */
    assert_int_equal(license_dep5_parse("Format: copyright-format/1.0\n", 29, &c, &n), 0);
    assert_int_equal(n, 0);
}

static const struct dpkg_opts opts = {.vendor = "debian", .distro = "debian-12"};

static void test_dpkg_stanzas(void **state)
{
    static const char status[] =
            "Package: libc6\n"
            "Status: install ok installed\n"
            "Priority: optional\n"
            "Architecture: amd64\n"
            "Multi-Arch: same\n"
            "Source: glibc\n"
            "Version: 2.36-9+deb12u4\n"
            "Description: GNU C Library: Shared libraries\n"
            " Contains the standard libraries that are used by nearly all programs on\n"
            " the system.\n"
            "Conffiles:\n"
            " /etc/ld.so.conf 4317c6de8564b68d628c21efa96b37e4 obsolete\n"
            "\n"
            "Package: removed\n"
            "Status: deinstall ok config-files\n"
            "Architecture: amd64\n"
            "Version: 1.0\n"
            "\n"
            "Package: broken-install\n"
            "Status: install reinstreq half-installed\n"
            "Architecture: amd64\n"
            "Version: 1.0\n"
            "\n"
            "Package: held\n"
            "Status: hold ok installed\n"
            "Architecture: all\n"
            "Version: 1:0.5~rc1-2\n"
            "Source: held-src (1:0.5~rc1-1)\n"
            "\n"
            "Package: no-version\n"
            "Status: install ok installed\n"
            "Architecture: amd64\n"
            "\n"
            "\n"
            "Package: bash\n"
            "Status: install ok installed\n"
            "Architecture: amd64\n"
            "Source: bash (5.2.15-2)\n"
            "Version: 5.2.15-2+b8\n"; /* last stanza, no trailing newline after it */
    _cleanup_(sbom_freep) struct sbom *s = sbom_new();
    const struct sbom_component *c;
    size_t n = 0;

    assert_non_null(s);
    assert_int_equal(dpkg_parse_status(status, strlen(status), &opts, s, &n), 0);
    assert_int_equal(n, 3);
    assert_int_equal(sbom_sort(s), 0);
    assert_int_equal(sbom_n_components(s), 3);

    c = sbom_component(s, 0);
    assert_string_equal(c->name, "bash");
    assert_string_equal(c->version, "5.2.15-2+b8");
    assert_string_equal(c->source, "bash"); /* same name, other version: recorded */
    assert_string_equal(c->source_version, "5.2.15-2");
    assert_string_equal(c->purl, "pkg:deb/debian/bash@5.2.15-2%2Bb8?arch=amd64&distro=debian-12");
    c = sbom_component(s, 1);
    assert_string_equal(c->name, "held");
    assert_string_equal(c->arch, "all");
    assert_string_equal(c->source, "held-src");
    assert_string_equal(c->source_version, "1:0.5~rc1-1");
    assert_string_equal(c->purl, "pkg:deb/debian/held@1:0.5~rc1-2?arch=all&distro=debian-12");
    c = sbom_component(s, 2);
    assert_string_equal(c->name, "libc6");
    assert_string_equal(c->source, "glibc");
    assert_null(c->source_version); /* same version as the binary */
    assert_null(sbom_component(s, 3));
    /* The installed package without a Version was skipped with a warning naming it. */
    assert_int_equal(sbom_n_warnings(s), 1);
    assert_non_null(strstr(sbom_warning(s, 0), "lacks Version"));
}

static void test_dpkg_limits(void **state)
{
    _cleanup_(sbom_freep) struct sbom *s = sbom_new();
    struct dpkg_opts no_vendor = {};
    char *big, stanza[SBOM_MAX_FIELD + 200];
    size_t n = 77;
    int len;

    /* Over the size bound: refused before parsing (the memory is never read). */
    big = malloc(SBOM_MAX_DPKG_STATUS + 1u);
    assert_non_null(big);
    memset(big, '\n', SBOM_MAX_DPKG_STATUS + 1u);
    assert_int_equal(dpkg_parse_status(big, SBOM_MAX_DPKG_STATUS + 1u, &opts, s, &n), -EMSGSIZE);
    assert_int_equal(n, 77);
    /* At the bound: blank lines only, nothing found. */
    assert_int_equal(dpkg_parse_status(big, SBOM_MAX_DPKG_STATUS, &opts, s, &n), 0);
    assert_int_equal(n, 0);
    free(big);
    assert_int_equal(dpkg_parse_status("", 0, &no_vendor, s, &n), -EINVAL);

    /* A field over SBOM_MAX_FIELD: that package is skipped with a warning. */
    len = snprintf(stanza, sizeof(stanza),
                   "Package: %0*d\nStatus: install ok installed\nArchitecture: amd64\n"
                   "Version: 1\n",
                   (int)SBOM_MAX_FIELD + 1, 0);
    assert_true(len > 0 && (size_t)len < sizeof(stanza));
    assert_int_equal(dpkg_parse_status(stanza, (size_t)len, &opts, s, &n), 0);
    assert_int_equal(n, 0);
    assert_int_equal(sbom_n_warnings(s), 1);
    /* Invalid UTF-8 in a version: skipped too. */
    {
        static const char bad_utf8[] = "Package: x\nStatus: install ok installed\n"
                                       "Architecture: amd64\nVersion: 1\xff\n";

        assert_int_equal(dpkg_parse_status(bad_utf8, strlen(bad_utf8), &opts, s, &n), 0);
    }
    assert_int_equal(n, 0);
    assert_int_equal(sbom_n_warnings(s), 2);
}

static void test_pydist_metadata(void **state)
{
    static const char good[] = "Metadata-Version: 2.1\n"
                               "Name: Foo_Bar\n"
                               "Version: 1.2.3\n"
                               "Summary: A thing\n"
                               "License: BSD-3-Clause\n"
                               "Classifier: License :: OSI Approved :: MIT License\n"
                               "\n"
                               "Name: not-a-header (description body)\n";
    static const char expr[] = "Metadata-Version: 2.4\r\n"
                               "Name: pkg\r\n"
                               "Version: 2.0\r\n"
                               "License-Expression: MIT OR Apache-2.0\r\n"
                               "License: ignored when there is an expression\r\n";
    static const char text_licence[] = "Name: pkg\n"
                                       "Version: 2.0\n"
                                       "License: Copyright (c) 2020 Someone\n"
                                       "        Permission is hereby granted...\n"
                                       "Classifier: License :: OSI Approved :: MIT License\n";
    static const char unknown[] = "Name: pkg\nVersion: 2.0\nLicense: UNKNOWN\n";
    static const char *const broken[] = {
            "",
            "Name: only-name\n",
            "Version: 1.0\n",
            "Name: \nVersion: 1\n",
            "Name: has space\nVersion: 1\n",
            "Name: x\nVersion: 1 2\n",
            "\nName: x\nVersion: 1\n", /* headers end at once */
            "Name: x\xc3\nVersion: 1\n",
    };
    struct sbom_component c = {}, poison = {.name = POISON};

    assert_int_equal(pydist_parse_metadata(good, strlen(good), &c), 0);
    assert_int_equal(c.kind, SBOM_KIND_PYPI);
    assert_string_equal(c.name, "Foo_Bar");
    assert_string_equal(c.version, "1.2.3");
    assert_string_equal(c.purl, "pkg:pypi/foo-bar@1.2.3");
    assert_string_equal(c.license_expr, "BSD-3-Clause"); /* License wins over classifiers */
    sbom_component_clear(&c);

    assert_int_equal(pydist_parse_metadata(expr, strlen(expr), &c), 0);
    assert_string_equal(c.license_expr, "MIT OR Apache-2.0");
    sbom_component_clear(&c);

    /* A multi-line License is a licence text: the classifier names the licence. */
    assert_int_equal(pydist_parse_metadata(text_licence, strlen(text_licence), &c), 0);
    assert_string_equal(c.license_expr, "MIT");
    assert_int_equal(c.n_license_names, 1);
    assert_string_equal(c.license_names[0], "MIT License");
    sbom_component_clear(&c);

    assert_int_equal(pydist_parse_metadata(unknown, strlen(unknown), &c), 0);
    assert_null(c.license_expr);
    assert_int_equal(c.n_license_names, 0);
    sbom_component_clear(&c);

    for (size_t i = 0; i < ELEMENTSOF(broken); i++) {
        struct sbom_component p = poison;

        if (pydist_parse_metadata(broken[i], strlen(broken[i]), &p) != -EBADMSG)
            fail_msg("broken metadata %zu accepted", i);
        assert_ptr_equal(p.name, POISON);
    }
}

static void test_npm_package_json(void **state)
{
    static const char scoped[] =
            "{\"name\":\"@Scope/Pkg\",\"version\":\"1.0.0\",\"license\":\"(MIT OR Apache-2.0)\"}";
    static const char legacy_obj[] =
            "{\"name\":\"old\",\"version\":\"0.1.0\",\"license\":{\"type\":\"BSD\"}}";
    static const char legacy_arr[] = "{\"name\":\"older\",\"version\":\"0.0.1\",\"licenses\":"
                                     "[{\"type\":\"MIT\"},{\"type\":\"Apache-2.0\"}]}";
    static const char see[] =
            "{\"name\":\"x\",\"version\":\"1.0.0\",\"license\":\"SEE LICENSE IN LICENSE.md\"}";
    static const char *const broken[] = {
            "",
            "[]",
            "{\"name\":\"x\"}",
            "{\"version\":\"1\"}",
            "{\"name\":1,\"version\":\"1\"}",
            "{\"name\":\"a/b/c\",\"version\":\"1\"}",
            "{\"name\":\"x\",\"version\":\"1\",\"name\":\"y\"}", /* duplicate key */
            "{\"name\":\"x\",\"version\":\"1\"} trailing",
    };
    struct sbom_component c = {}, poison = {.name = POISON};

    assert_int_equal(npm_parse_package_json(scoped, strlen(scoped), &c), 0);
    assert_string_equal(c.name, "@Scope/Pkg");
    assert_string_equal(c.purl, "pkg:npm/%40scope/pkg@1.0.0");
    assert_string_equal(c.license_expr, "MIT OR Apache-2.0");
    sbom_component_clear(&c);

    assert_int_equal(npm_parse_package_json(legacy_obj, strlen(legacy_obj), &c), 0);
    assert_null(c.license_expr); /* "BSD" says no version: a name only */
    assert_int_equal(c.n_license_names, 1);
    assert_string_equal(c.license_names[0], "BSD");
    sbom_component_clear(&c);

    assert_int_equal(npm_parse_package_json(legacy_arr, strlen(legacy_arr), &c), 0);
    assert_string_equal(c.license_expr, "MIT AND Apache-2.0");
    sbom_component_clear(&c);

    assert_int_equal(npm_parse_package_json(see, strlen(see), &c), 0);
    assert_null(c.license_expr);
    assert_string_equal(c.license_names[0], "SEE LICENSE IN LICENSE.md");
    sbom_component_clear(&c);

    for (size_t i = 0; i < ELEMENTSOF(broken); i++) {
        struct sbom_component p = poison;

        if (npm_parse_package_json(broken[i], strlen(broken[i]), &p) != -EBADMSG)
            fail_msg("broken package.json %zu accepted", i);
        assert_ptr_equal(p.name, POISON);
    }
    assert_int_equal(npm_parse_package_json("{}", SBOM_MAX_PACKAGE_JSON + 1u, &c), -EMSGSIZE);
}

static void test_sbom_model(void **state)
{
    _cleanup_(sbom_freep) struct sbom *s = sbom_new();
    struct sbom_component c = {.kind = SBOM_KIND_NPM};
    char ts[21] = "poison", uuid[37];

    /* No name: refused, and the component is cleared either way. */
    c.version = strdup("1");
    assert_int_equal(sbom_add(s, &c), -EINVAL);
    assert_null(c.version);
    /* Two spellings of one PyPI project: one purl, kept once. */
    for (int i = 0; i < 2; i++) {
        c = (struct sbom_component){.kind = SBOM_KIND_PYPI,
                                    .name = strdup(i ? "foo_bar" : "Foo-Bar"),
                                    .version = strdup("1"),
                                    .purl = strdup("pkg:pypi/foo-bar@1")};
        assert_int_equal(sbom_add(s, &c), 0);
    }
    assert_int_equal(sbom_sort(s), 0);
    assert_int_equal(sbom_n_components(s), 1);
    assert_string_equal(sbom_component(s, 0)->name, "Foo-Bar");

    assert_int_equal(sbom_timestamp(0, ts), 0);
    assert_string_equal(ts, "1970-01-01T00:00:00Z");
    assert_int_equal(sbom_timestamp(1735689600, ts), 0);
    assert_string_equal(ts, "2025-01-01T00:00:00Z");
    assert_int_equal(sbom_timestamp(INT64_C(253402300800), ts), -ERANGE); /* year 10000 */
    assert_string_equal(ts, "2025-01-01T00:00:00Z");
    assert_int_equal(sbom_uuid_new(uuid), 0);
    assert_int_equal(strlen(uuid), 36);
    assert_int_equal(uuid[14], '4');
    assert_true(strspn(uuid, "0123456789abcdef-") == 36);

    assert_true(sbom_text_valid("caf\xc3\xa9\tok", 8));
    assert_false(sbom_text_valid("a\nb", 3));
    assert_false(sbom_text_valid("\xc0\xaf", 2));         /* overlong */
    assert_false(sbom_text_valid("\xed\xa0\x80", 3));     /* surrogate */
    assert_false(sbom_text_valid("\xf4\x90\x80\x80", 4)); /* past U+10FFFF */
    assert_false(sbom_text_valid("\xe2\x82", 2));         /* truncated */

    /* Warnings beyond the stored ones are counted. */
    for (unsigned i = 0; i < SBOM_MAX_WARNINGS + 3; i++)
        sbom_warn(s, "w%u", i);
    assert_int_equal(sbom_n_warnings(s), SBOM_MAX_WARNINGS + 3);
    assert_string_equal(sbom_warning(s, 0), "w0");
    assert_null(sbom_warning(s, SBOM_MAX_WARNINGS));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_purl_deb),
            cmocka_unit_test(test_purl_pypi_npm),
            cmocka_unit_test(test_license_to_spdx),
            cmocka_unit_test(test_license_resolve),
            cmocka_unit_test(test_dep5),
            cmocka_unit_test(test_dpkg_stanzas),
            cmocka_unit_test(test_dpkg_limits),
            cmocka_unit_test(test_pydist_metadata),
            cmocka_unit_test(test_npm_package_json),
            cmocka_unit_test(test_sbom_model),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
