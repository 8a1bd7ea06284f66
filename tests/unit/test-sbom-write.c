/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/sbom writers and reader: CycloneDX 1.6 and SPDX 2.3 goldens for a fixed inventory (every
 * component kind, host facts, a Debian source package, an expression, a licence that does not
 * translate), the reference SBOM's external links, an empty environment, refused inputs
 * (duplicate names, malformed serial), and reading documents back (ours and the FORMATS.md §8
 * examples written by other tools): which SHA-256 each records for which name.
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

#include "cyclonedx.h"
#include "sbom-doc.h"
#include "sbom.h"
#include "spdx.h"

#define POISON ((char *)(uintptr_t)0xdeadbeef)

/*
 * The goldens below were reviewed field by field against FORMATS.md §8 and validated with
 * @cyclonedx/cyclonedx-library 10.3.0 (JsonStrictValidator 1.6) and ajv against the SPDX 2.3
 * schema; the package verification code is SHA1("0101...01" "5555...55") (SPDX 2.3 §7.9).
 */
static const char golden_cdx[] =
        "{\"bomFormat\":\"CycloneDX\",\"specVersion\":\"1.6\",\"serialNumber\":\"urn:uuid:"
        "3e671687-395b-41f5-a30f-a58921a69b79\",\"version\":1,\"metadata\":{\"timesta"
        "mp\":\"2025-01-01T00:00:00Z\",\"tools\":{\"components\":[{\"type\":\"application"
        "\",\"name\":\"hwsign\",\"version\":\"0.1.0\"}]},\"component\":{\"type\":\"operating-"
        "system\",\"bom-ref\":\"host\",\"name\":\"debian\",\"version\":\"12\",\"description\":"
        "\"Debian GNU/Linux 12 (bookworm)\"},\"properties\":[{\"name\":\"hwsign:host:k"
        "ernel\",\"value\":\"6.1.0\"},{\"name\":\"hwsign:host:machine\",\"value\":\"x86_64\""
        "}]},\"components\":[{\"type\":\"library\",\"bom-ref\":\"pkg:npm/%40s/b@2.0.0\",\""
        "name\":\"@s/b\",\"version\":\"2.0.0\",\"purl\":\"pkg:npm/%40s/b@2.0.0\"},{\"type\":"
        "\"library\",\"bom-ref\":\"pkg:pypi/pyyaml@6.0\",\"name\":\"PyYAML\",\"version\":\"6"
        ".0\",\"licenses\":[{\"license\":{\"id\":\"GPL-2.0-or-later\"}},{\"license\":{\"nam"
        "e\":\"public-domain\"}}],\"purl\":\"pkg:pypi/pyyaml@6.0\"},{\"type\":\"file\",\"bo"
        "m-ref\":\"file:app.bin\",\"name\":\"app.bin\",\"hashes\":[{\"alg\":\"SHA-256\",\"con"
        "tent\":\"111111111111111111111111111111111111111111111111111111111111111"
        "1\"},{\"alg\":\"SHA-1\",\"content\":\"2222222222222222222222222222222222222222"
        "\"}]},{\"type\":\"library\",\"bom-ref\":\"pkg:deb/debian/libc6@2.36-9%2Bdeb12u"
        "4?arch=amd64&distro=debian-12\",\"name\":\"libc6\",\"version\":\"2.36-9+deb12u"
        "4\",\"licenses\":[{\"expression\":\"LGPL-2.1-or-later\"}],\"purl\":\"pkg:deb/deb"
        "ian/libc6@2.36-9%2Bdeb12u4?arch=amd64&distro=debian-12\",\"properties\":["
        "{\"name\":\"hwsign:deb:source\",\"value\":\"glibc\"}]},{\"type\":\"machine-learni"
        "ng-model\",\"bom-ref\":\"model:m\",\"name\":\"m\",\"hashes\":[{\"alg\":\"SHA-256\",\"c"
        "ontent\":\"3333333333333333333333333333333333333333333333333333333333333"
        "333\"}],\"components\":[{\"type\":\"file\",\"bom-ref\":\"model:m/a\",\"name\":\"a\",\""
        "hashes\":[{\"alg\":\"SHA-256\",\"content\":\"444444444444444444444444444444444"
        "4444444444444444444444444444444\"},{\"alg\":\"SHA-1\",\"content\":\"5555555555"
        "555555555555555555555555555555\"}]},{\"type\":\"file\",\"bom-ref\":\"model:m/d"
        "/b\",\"name\":\"d/b\",\"hashes\":[{\"alg\":\"SHA-256\",\"content\":\"666666666666666"
        "6666666666666666666666666666666666666666666666666\"},{\"alg\":\"SHA-1\",\"co"
        "ntent\":\"0101010101010101010101010101010101010101\"}]}]}]}";

static const char golden_spdx[] =
        "{\"spdxVersion\":\"SPDX-2.3\",\"dataLicense\":\"CC0-1.0\",\"SPDXID\":\"SPDXRef-DO"
        "CUMENT\",\"name\":\"hwsign-sbom\",\"documentNamespace\":\"urn:uuid:3e671687-39"
        "5b-41f5-a30f-a58921a69b79\",\"creationInfo\":{\"created\":\"2025-01-01T00:00"
        ":00Z\",\"creators\":[\"Tool: hwsign-0.1.0\"],\"comment\":\"host: Debian GNU/Li"
        "nux 12 (bookworm); kernel: 6.1.0; machine: x86_64\"},\"packages\":[{\"SPDX"
        "ID\":\"SPDXRef-Host\",\"name\":\"debian\",\"versionInfo\":\"12\",\"downloadLocatio"
        "n\":\"NOASSERTION\",\"filesAnalyzed\":false,\"primaryPackagePurpose\":\"OPERAT"
        "ING_SYSTEM\",\"description\":\"Debian GNU/Linux 12 (bookworm)\",\"licenseCon"
        "cluded\":\"NOASSERTION\",\"licenseDeclared\":\"NOASSERTION\",\"copyrightText\":"
        "\"NOASSERTION\"},{\"SPDXID\":\"SPDXRef-Package-0--s-b\",\"name\":\"@s/b\",\"versi"
        "onInfo\":\"2.0.0\",\"downloadLocation\":\"NOASSERTION\",\"filesAnalyzed\":false"
        ",\"licenseConcluded\":\"NOASSERTION\",\"licenseDeclared\":\"NOASSERTION\",\"cop"
        "yrightText\":\"NOASSERTION\",\"externalRefs\":[{\"referenceCategory\":\"PACKAG"
        "E-MANAGER\",\"referenceType\":\"purl\",\"referenceLocator\":\"pkg:npm/%40s/b@2"
        ".0.0\"}]},{\"SPDXID\":\"SPDXRef-Package-1-PyYAML\",\"name\":\"PyYAML\",\"version"
        "Info\":\"6.0\",\"downloadLocation\":\"NOASSERTION\",\"filesAnalyzed\":false,\"li"
        "censeConcluded\":\"NOASSERTION\",\"licenseDeclared\":\"NOASSERTION\",\"copyrig"
        "htText\":\"NOASSERTION\",\"externalRefs\":[{\"referenceCategory\":\"PACKAGE-MA"
        "NAGER\",\"referenceType\":\"purl\",\"referenceLocator\":\"pkg:pypi/pyyaml@6.0\""
        "}]},{\"SPDXID\":\"SPDXRef-Package-3-libc6\",\"name\":\"libc6\",\"versionInfo\":\""
        "2.36-9+deb12u4\",\"downloadLocation\":\"NOASSERTION\",\"filesAnalyzed\":false"
        ",\"sourceInfo\":\"built package from: glibc\",\"licenseConcluded\":\"NOASSERT"
        "ION\",\"licenseDeclared\":\"LGPL-2.1-or-later\",\"copyrightText\":\"NOASSERTIO"
        "N\",\"externalRefs\":[{\"referenceCategory\":\"PACKAGE-MANAGER\",\"referenceTy"
        "pe\":\"purl\",\"referenceLocator\":\"pkg:deb/debian/libc6@2.36-9%2Bdeb12u4?a"
        "rch=amd64&distro=debian-12\"}]},{\"SPDXID\":\"SPDXRef-Model-4-m\",\"name\":\"m"
        "\",\"downloadLocation\":\"NOASSERTION\",\"filesAnalyzed\":true,\"primaryPackag"
        "ePurpose\":\"OTHER\",\"checksums\":[{\"algorithm\":\"SHA256\",\"checksumValue\":\""
        "3333333333333333333333333333333333333333333333333333333333333333\"}],\"p"
        "ackageVerificationCode\":{\"packageVerificationCodeValue\":\"adbc6b2d04396"
        "819851b6c0c3e6c20068ceb0f8b\"},\"licenseConcluded\":\"NOASSERTION\",\"licens"
        "eDeclared\":\"NOASSERTION\",\"copyrightText\":\"NOASSERTION\",\"hasFiles\":[\"SP"
        "DXRef-File-4-0\",\"SPDXRef-File-4-1\"]}],\"files\":[{\"SPDXID\":\"SPDXRef-File"
        "-2-app.bin\",\"fileName\":\"./app.bin\",\"checksums\":[{\"algorithm\":\"SHA1\",\"c"
        "hecksumValue\":\"2222222222222222222222222222222222222222\"},{\"algorithm\""
        ":\"SHA256\",\"checksumValue\":\"1111111111111111111111111111111111111111111"
        "111111111111111111111\"}],\"licenseConcluded\":\"NOASSERTION\",\"copyrightTe"
        "xt\":\"NOASSERTION\"},{\"SPDXID\":\"SPDXRef-File-4-0\",\"fileName\":\"./m/a\",\"ch"
        "ecksums\":[{\"algorithm\":\"SHA1\",\"checksumValue\":\"55555555555555555555555"
        "55555555555555555\"},{\"algorithm\":\"SHA256\",\"checksumValue\":\"44444444444"
        "44444444444444444444444444444444444444444444444444444\"}],\"licenseConcl"
        "uded\":\"NOASSERTION\",\"copyrightText\":\"NOASSERTION\"},{\"SPDXID\":\"SPDXRef-"
        "File-4-1\",\"fileName\":\"./m/d/b\",\"checksums\":[{\"algorithm\":\"SHA1\",\"check"
        "sumValue\":\"0101010101010101010101010101010101010101\"},{\"algorithm\":\"SH"
        "A256\",\"checksumValue\":\"66666666666666666666666666666666666666666666666"
        "66666666666666666\"}],\"licenseConcluded\":\"NOASSERTION\",\"copyrightText\":"
        "\"NOASSERTION\"}],\"relationships\":[{\"spdxElementId\":\"SPDXRef-DOCUMENT\",\""
        "relationshipType\":\"DESCRIBES\",\"relatedSpdxElement\":\"SPDXRef-Host\"},{\"s"
        "pdxElementId\":\"SPDXRef-Host\",\"relationshipType\":\"CONTAINS\",\"relatedSpd"
        "xElement\":\"SPDXRef-Package-0--s-b\"},{\"spdxElementId\":\"SPDXRef-Host\",\"r"
        "elationshipType\":\"CONTAINS\",\"relatedSpdxElement\":\"SPDXRef-Package-1-Py"
        "YAML\"},{\"spdxElementId\":\"SPDXRef-DOCUMENT\",\"relationshipType\":\"DESCRIB"
        "ES\",\"relatedSpdxElement\":\"SPDXRef-File-2-app.bin\"},{\"spdxElementId\":\"S"
        "PDXRef-Host\",\"relationshipType\":\"CONTAINS\",\"relatedSpdxElement\":\"SPDXR"
        "ef-Package-3-libc6\"},{\"spdxElementId\":\"SPDXRef-Model-4-m\",\"relationshi"
        "pType\":\"CONTAINS\",\"relatedSpdxElement\":\"SPDXRef-File-4-0\"},{\"spdxEleme"
        "ntId\":\"SPDXRef-Model-4-m\",\"relationshipType\":\"CONTAINS\",\"relatedSpdxEl"
        "ement\":\"SPDXRef-File-4-1\"},{\"spdxElementId\":\"SPDXRef-DOCUMENT\",\"relati"
        "onshipType\":\"DESCRIBES\",\"relatedSpdxElement\":\"SPDXRef-Model-4-m\"}]}";

static char *dup_s(const char *s)
{
    char *d = strdup(s);

    assert_non_null(d);
    return d;
}

static void add(struct sbom *s, struct sbom_component *c)
{
    assert_int_equal(sbom_add(s, c), 0);
}

static struct sbom *inventory(void)
{
    struct sbom *s = sbom_new();
    struct sbom_component c;
    const struct sbom_host h = {.os_id = "debian",
                                .os_version_id = "12",
                                .os_pretty = "Debian GNU/Linux 12 (bookworm)",
                                .kernel = "6.1.0",
                                .machine = "x86_64"};

    assert_non_null(s);
    c = (struct sbom_component){
            .kind = SBOM_KIND_DEB,
            .name = dup_s("libc6"),
            .version = dup_s("2.36-9+deb12u4"),
            .arch = dup_s("amd64"),
            .source = dup_s("glibc"),
            .purl = dup_s("pkg:deb/debian/libc6@2.36-9%2Bdeb12u4?arch=amd64&distro=debian-12"),
            .license_expr = dup_s("LGPL-2.1-or-later")};
    add(s, &c);
    c = (struct sbom_component){.kind = SBOM_KIND_PYPI,
                                .name = dup_s("PyYAML"),
                                .version = dup_s("6.0"),
                                .purl = dup_s("pkg:pypi/pyyaml@6.0")};
    assert_int_equal(sbom_component_add_license_name(&c, "GPL-2+"), 0);
    assert_int_equal(sbom_component_add_license_name(&c, "public-domain"), 0);
    add(s, &c);
    c = (struct sbom_component){.kind = SBOM_KIND_NPM,
                                .name = dup_s("@s/b"),
                                .version = dup_s("2.0.0"),
                                .purl = dup_s("pkg:npm/%40s/b@2.0.0")};
    add(s, &c);
    c = (struct sbom_component){.kind = SBOM_KIND_FILE, .name = dup_s("app.bin"), .has_hash = true};
    memset(c.sha256, 0x11, sizeof(c.sha256));
    memset(c.sha1, 0x22, sizeof(c.sha1));
    add(s, &c);
    c = (struct sbom_component){
            .kind = SBOM_KIND_MODEL, .name = dup_s("m"), .has_hash = true, .n_files = 2};
    memset(c.sha256, 0x33, sizeof(c.sha256));
    c.files = calloc(2, sizeof(*c.files));
    assert_non_null(c.files);
    c.files[0].path = dup_s("a");
    memset(c.files[0].sha256, 0x44, SBOM_SHA256_LEN);
    memset(c.files[0].sha1, 0x55, SBOM_SHA1_LEN);
    c.files[1].path = dup_s("d/b");
    memset(c.files[1].sha256, 0x66, SBOM_SHA256_LEN);
    memset(c.files[1].sha1, 0x01, SBOM_SHA1_LEN);
    add(s, &c);
    assert_int_equal(sbom_set_host(s, &h), 0);
    assert_int_equal(sbom_sort(s), 0);
    return s;
}

static const struct sbom_doc_info info = {.serial = "3e671687-395b-41f5-a30f-a58921a69b79",
                                          .timestamp = "2025-01-01T00:00:00Z",
                                          .name = "hwsign-sbom",
                                          .tool_version = "0.1.0"};

static void test_goldens(void **state)
{
    _cleanup_(sbom_freep) struct sbom *s = inventory();
    char *out = NULL;
    size_t len = 0;

    assert_int_equal(cdx_write(s, &info, &out, &len), 0);
    assert_int_equal(len, strlen(golden_cdx));
    assert_string_equal(out, golden_cdx);
    free(out);
    assert_int_equal(spdx_write(s, &info, &out, &len), 0);
    assert_int_equal(len, strlen(golden_spdx));
    assert_string_equal(out, golden_spdx);
    free(out);
}

static void test_reference(void **state)
{
    _cleanup_(sbom_freep) struct sbom *s = inventory();
    _cleanup_(sbom_freep) struct sbom *subjects = NULL;
    struct sbom_reference ref = {.serial = "0123abcd-0000-4000-8000-00000000000f",
                                 .file_name = "full.cdx.json"};
    struct sbom_doc_info with_ref = info;
    char *out = NULL;
    size_t len = 0;

    memset(ref.sha256, 0x77, sizeof(ref.sha256));
    memset(ref.sha1, 0x88, sizeof(ref.sha1));
    with_ref.ref = &ref;
    /* The reference SBOM keeps the subjects (artifact and model) and the host only. */
    assert_int_equal(sbom_copy_subjects(s, true, &subjects), 0);
    assert_int_equal(sbom_n_components(subjects), 2);
    assert_string_equal(sbom_component(subjects, 0)->name, "app.bin");
    assert_string_equal(sbom_component(subjects, 1)->name, "m");
    assert_int_equal(sbom_component(subjects, 1)->n_files, 2);
    assert_string_equal(sbom_host(subjects)->os_id, "debian");
    {
        _cleanup_(sbom_freep) struct sbom *bare = NULL;

        assert_int_equal(sbom_copy_subjects(s, false, &bare), 0);
        assert_int_equal(sbom_n_components(bare), 2);
        assert_int_equal(sbom_component(bare, 1)->n_files, 0);
        assert_memory_equal(sbom_component(bare, 1)->sha256, sbom_component(s, 4)->sha256,
                            SBOM_SHA256_LEN);
    }

    assert_int_equal(cdx_write(subjects, &with_ref, &out, &len), 0);
    assert_non_null(strstr(out, ",\"externalReferences\":[{\"url\":\"urn:cdx:0123abcd-0000-4000-"
                                "8000-00000000000f/1\",\"comment\":\"full inventory: "
                                "full.cdx.json\",\"type\":\"bom\",\"hashes\":[{\"alg\":\"SHA-"
                                "256\",\"content\":\"7777777777777777777777777777777777777777777"
                                "777777777777777777777\"}]}]}"));
    assert_null(strstr(out, "libc6"));
    free(out);
    assert_int_equal(spdx_write(subjects, &with_ref, &out, &len), 0);
    assert_non_null(strstr(out, "\"externalDocumentRefs\":[{\"externalDocumentId\":\"DocumentRef-"
                                "inventory\",\"spdxDocument\":\"urn:uuid:0123abcd-0000-4000-8000-"
                                "00000000000f\",\"checksum\":{\"algorithm\":\"SHA1\","
                                "\"checksumValue\":\"88888888888888888888888888888888888888"
                                "88\"}}]"));
    free(out);
    ref.serial = "0123ABCD-0000-4000-8000-00000000000F";
    out = POISON;
    assert_int_equal(cdx_write(subjects, &with_ref, &out, &len), -EINVAL);
    assert_int_equal(spdx_write(subjects, &with_ref, &out, &len), -EINVAL);
    assert_ptr_equal(out, POISON);
}

static void test_empty(void **state)
{
    _cleanup_(sbom_freep) struct sbom *s = sbom_new();
    char *out = NULL;
    size_t len = 0;

    assert_int_equal(sbom_sort(s), 0);
    assert_int_equal(cdx_write(s, &info, &out, &len), 0);
    assert_string_equal(out,
                        "{\"bomFormat\":\"CycloneDX\",\"specVersion\":\"1.6\",\"serialNumber\":"
                        "\"urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79\",\"version\":1,"
                        "\"metadata\":{\"timestamp\":\"2025-01-01T00:00:00Z\",\"tools\":{"
                        "\"components\":[{\"type\":\"application\",\"name\":\"hwsign\","
                        "\"version\":\"0.1.0\"}]}},\"components\":[]}");
    free(out);
    assert_int_equal(spdx_write(s, &info, &out, &len), 0);
    assert_string_equal(out, "{\"spdxVersion\":\"SPDX-2.3\",\"dataLicense\":\"CC0-1.0\",\"SPDXID\":"
                             "\"SPDXRef-DOCUMENT\",\"name\":\"hwsign-sbom\",\"documentNamespace\":"
                             "\"urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79\",\"creationInfo\":"
                             "{\"created\":\"2025-01-01T00:00:00Z\",\"creators\":[\"Tool: hwsign-"
                             "0.1.0\"]},\"packages\":[],\"files\":[],\"relationships\":[]}");
    free(out);
}

static void test_refused(void **state)
{
    _cleanup_(sbom_freep) struct sbom *s = inventory();
    struct sbom_doc_info bad = info;
    struct sbom_component c = {.kind = SBOM_KIND_FILE, .name = dup_s("app.bin"), .has_hash = true};
    char *out = POISON;
    size_t len = 99;

    bad.serial = "3e671687-395b-41f5-a30f-a58921a69b7";
    assert_int_equal(cdx_write(s, &bad, &out, &len), -EINVAL);
    bad.serial = "3e671687x395b-41f5-a30f-a58921a69b79";
    assert_int_equal(spdx_write(s, &bad, &out, &len), -EINVAL);
    bad = info;
    bad.timestamp = NULL;
    assert_int_equal(cdx_write(s, &bad, &out, &len), -EINVAL);
    assert_int_equal(cdx_write(s, NULL, &out, &len), -EINVAL);
    /* Two artifacts of one name would share a bom-ref. */
    add(s, &c);
    assert_int_equal(sbom_sort(s), 0);
    assert_int_equal(cdx_write(s, &info, &out, &len), -EINVAL);
    assert_int_equal(spdx_write(s, &info, &out, &len), -EINVAL);
    assert_ptr_equal(out, POISON);
    assert_int_equal(len, 99);
}

static void find_is(const struct sbom_doc *d, const char *name, uint8_t byte)
{
    uint8_t want[SBOM_SHA256_LEN];
    size_t i = 99;

    memset(want, byte, sizeof(want));
    assert_int_equal(sbom_doc_find_name(d, name, &i), 0);
    assert_memory_equal(sbom_doc_entry_sha256(d, i), want, sizeof(want));
    assert_int_equal(sbom_doc_find_sha256(d, want, &i), 0);
    assert_string_equal(sbom_doc_entry_name(d, i), name);
}

static void test_read_back(void **state)
{
    struct sbom_doc *d = NULL;
    uint8_t other[SBOM_SHA256_LEN];

    memset(other, 0x99, sizeof(other));
    assert_int_equal(sbom_doc_parse(golden_cdx, strlen(golden_cdx), &d), 0);
    assert_int_equal(sbom_doc_format(d), SBOM_FORMAT_CYCLONEDX);
    assert_int_equal(sbom_doc_n_entries(d), 4); /* app.bin, m, m/a, m/d/b */
    find_is(d, "app.bin", 0x11);
    find_is(d, "m", 0x33);
    find_is(d, "d/b", 0x66);
    assert_int_equal(sbom_doc_find_sha256(d, other, NULL), -ENOENT);
    assert_int_equal(sbom_doc_find_name(d, "libc6", NULL), -ENOENT); /* no hash recorded */
    assert_null(sbom_doc_entry_name(d, 4));
    d = sbom_doc_free(d);

    assert_int_equal(sbom_doc_parse(golden_spdx, strlen(golden_spdx), &d), 0);
    assert_int_equal(sbom_doc_format(d), SBOM_FORMAT_SPDX);
    assert_int_equal(sbom_doc_n_entries(d), 4);
    find_is(d, "app.bin", 0x11); /* "./app.bin" */
    find_is(d, "m", 0x33);
    find_is(d, "m/d/b", 0x66);
    d = sbom_doc_free(d);
    assert_string_equal(sbom_format_predicate_type(SBOM_FORMAT_CYCLONEDX),
                        "https://cyclonedx.org/bom");
    assert_string_equal(sbom_format_predicate_type(SBOM_FORMAT_SPDX), "https://spdx.dev/Document");
}

static void test_read_foreign(void **state)
{
    /* FORMATS.md §8.1 and §8.3 examples (written by other tools), hex case varied. */
    static const char cdx[] =
            "{\"bomFormat\":\"CycloneDX\",\"specVersion\":\"1.6\",\"metadata\":{\"component\":{"
            "\"type\":\"machine-learning-model\",\"name\":\"subject\",\"hashes\":[{\"alg\":\"SHA-"
            "256\",\"content\":\"BC9A717DB6064A32CBE9EAE6FC40651DD6D36EF1757183F590EFF2B1765D7EBC"
            "\"}]}},\"components\":[{\"type\":\"file\",\"name\":\"model.safetensors\",\"hashes\":"
            "[{\"alg\":\"SHA-1\",\"content\":\"0000000000000000000000000000000000000000\"},{\"alg"
            "\":\"SHA-256\",\"content\":\"32dcb1f8e1ae52d5963e56a6ba06ab58b424c15ed2a6b70d2feca1d"
            "089370028\"},{\"alg\":\"SHA-256\",\"content\":\"short\"}]},{\"name\":\"nohash\"},7]}";
    static const char spdx[] =
            "{\"spdxVersion\":\"SPDX-2.2\",\"SPDXID\":\"SPDXRef-DOCUMENT\",\"packages\":[{"
            "\"SPDXID\":\"SPDXRef-Package-model\",\"name\":\"example-model\",\"checksums\":[{"
            "\"algorithm\":\"SHA256\",\"checksumValue\":\"bc9a717db6064a32cbe9eae6fc40651dd6d36e"
            "f1757183f590eff2b1765d7ebc\"}]}]}";
    static const char *const refused[] = {
            "{}",
            "{\"bomFormat\":\"CycloneDX\"}",
            "{\"spdxVersion\":\"SPDX-3.0\"}",
            "[]",
            "{\"bomFormat\":\"CycloneDX\",\"specVersion\":\"1.6\",\"bomFormat\":\"x\"}",
    };
    uint8_t want[SBOM_SHA256_LEN] = {0xbc, 0x9a, 0x71, 0x7d};
    struct sbom_doc *d = NULL, *poison = (struct sbom_doc *)POISON;
    size_t i = 99;

    assert_int_equal(sbom_doc_parse(cdx, strlen(cdx), &d), 0);
    assert_int_equal(sbom_doc_n_entries(d), 2);
    assert_int_equal(sbom_doc_find_name(d, "subject", &i), 0);
    assert_memory_equal(sbom_doc_entry_sha256(d, i), want, 4);
    assert_int_equal(sbom_doc_find_name(d, "model.safetensors", &i), 0);
    d = sbom_doc_free(d);
    assert_int_equal(sbom_doc_parse(spdx, strlen(spdx), &d), 0);
    assert_int_equal(sbom_doc_find_name(d, "example-model", &i), 0);
    assert_memory_equal(sbom_doc_entry_sha256(d, i), want, 4);
    d = sbom_doc_free(d);

    for (size_t k = 0; k < ELEMENTSOF(refused); k++) {
        d = poison;
        if (sbom_doc_parse(refused[k], strlen(refused[k]), &d) != -EINVAL)
            fail_msg("document %zu accepted", k);
        assert_ptr_equal(d, poison);
    }
    assert_int_equal(sbom_doc_parse("{}", SBOM_MAX_DOCUMENT + 1u, &d), -EMSGSIZE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_goldens),   cmocka_unit_test(test_reference),
            cmocka_unit_test(test_empty),     cmocka_unit_test(test_refused),
            cmocka_unit_test(test_read_back), cmocka_unit_test(test_read_foreign),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
