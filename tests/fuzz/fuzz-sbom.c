/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The SBOM inventory parsers (lib/sbom) on arbitrary bytes, each input given to all of them:
 * the dpkg status database, Python METADATA, npm package.json, DEP-5 copyright files and the
 * SBOM reader (CycloneDX / SPDX JSON). None may crash, leak or return anything but its
 * documented codes; what the collectors accept must leave the inventory consistent (the count
 * they report is what was added, and every component has a name).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dpkg.h"
#include "license.h"
#include "macro.h"
#include "npm.h"
#include "pydist.h"
#include "sbom-doc.h"
#include "sbom.h"

#define CHECK(x)                                                                                   \
    do {                                                                                           \
        if (!(x)) {                                                                                \
            fprintf(stderr, "fuzz-sbom: check failed at line %d: %s\n", __LINE__, #x);             \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool known(int r)
{
    return r >= 0 || r == -EINVAL || r == -EMSGSIZE || r == -ENOMEM || r == -EBADMSG ||
           r == -ENOENT || r == -EOPNOTSUPP || r == -E2BIG || r == -EMEDIUMTYPE;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    struct dpkg_opts opts = {.vendor = "debian", .distro = "debian-12"};
    struct sbom_component c = {0};
    size_t n = 0;
    int r;

    {
        _cleanup_(sbom_freep) struct sbom *s = sbom_new();
        if (!s)
            return 0;
        r = dpkg_parse_status(text, size, &opts, s, &n);
        CHECK(known(r));
        if (r >= 0) {
            CHECK(n == sbom_n_components(s));
            for (size_t i = 0; i < n; i++)
                CHECK(sbom_component(s, i)->name && sbom_component(s, i)->name[0]);
        }
    }
    r = pydist_parse_metadata(text, size, &c);
    CHECK(known(r));
    if (r >= 0)
        CHECK(c.name && c.name[0]);
    sbom_component_clear(&c);
    r = npm_parse_package_json(text, size, &c);
    CHECK(known(r));
    if (r >= 0)
        CHECK(c.name && c.name[0]);
    sbom_component_clear(&c);
    r = license_dep5_parse(text, size, &c, &n);
    CHECK(known(r));
    sbom_component_clear(&c);
    {
        _cleanup_(sbom_doc_freep) struct sbom_doc *d = NULL;
        r = sbom_doc_parse(text, size, &d);
        CHECK(known(r));
        CHECK((r >= 0) == (d != NULL));
        if (d)
            for (size_t i = 0; i < sbom_doc_n_entries(d); i++) {
                size_t at = 0;
                const uint8_t *sha = sbom_doc_entry_sha256(d, i);
                CHECK(sbom_doc_entry_name(d, i) != NULL);
                /* What an entry records can be found again. */
                if (sha)
                    CHECK(sbom_doc_find_sha256(d, sha, &at) == 0 && at <= i);
            }
    }
    return 0;
}
