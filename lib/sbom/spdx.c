/* SPDX-License-Identifier: Apache-2.0 */
/* SPDX 2.3 JSON writer (see spdx.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <openssl/evp.h>

#include "crypto-cleanup.h"
#include "cyclonedx.h"
#include "json.h"
#include "spdx.h"

#define SPDX_ID_NAME_MAX 64u                      /* name part kept in an SPDXID */
#define SPDX_ID_MAX      (SPDX_ID_NAME_MAX + 64u) /* "SPDXRef-Package-N-NAME" */
#define SPDX_NOASSERTION "NOASSERTION"
#define SPDX_HOST_ID     "SPDXRef-Host"
#define SPDX_DOC_ID      "SPDXRef-DOCUMENT"
#define SPDX_EXT_DOC_ID  "DocumentRef-inventory"
#define SPDX_FILE_MAX    (SBOM_MAX_PATH + SBOM_MAX_FIELD + 8u) /* "./MODEL/PATH" */

static int add_str(struct json_object *o, const char *key, const char *s)
{
    return fjson_add_string(o, key, s, strlen(s));
}

/* SPDXID: PREFIX-N-NAME with NAME reduced to the allowed [A-Za-z0-9.-]. */
static void make_id(char out[static SPDX_ID_MAX], const char *prefix, size_t n, const char *name)
{
    size_t len = (size_t)snprintf(out, SPDX_ID_MAX, "%s-%zu-", prefix, n);

    for (const char *p = name; *p && len < SPDX_ID_MAX - 1 && p - name < SPDX_ID_NAME_MAX; p++)
        out[len++] = strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-", *p)
                             ? *p
                             : '-';
    out[len] = '\0';
}

static int add_checksum(struct json_object *arr, const char *alg, const uint8_t *d, size_t len)
{
    struct json_object *c = json_object_new_object();
    char hex[2 * SBOM_SHA256_LEN + 1];
    int r;

    sbom_hex(d, len, hex);
    if ((r = fjson_append(arr, c)) < 0 || (r = add_str(c, "algorithm", alg)) < 0)
        return r;
    return add_str(c, "checksumValue", hex);
}

static int add_relationship(struct json_object *rels, const char *from, const char *type,
                            const char *to)
{
    struct json_object *o = json_object_new_object();
    int r;

    if ((r = fjson_append(rels, o)) < 0 || (r = add_str(o, "spdxElementId", from)) < 0 ||
        (r = add_str(o, "relationshipType", type)) < 0)
        return r;
    return add_str(o, "relatedSpdxElement", to);
}

/* One file element: "./PATH" with SHA1 and SHA256. */
static int add_file(struct json_object *files, const char *id, const char *path,
                    const uint8_t *sha256, const uint8_t *sha1)
{
    struct json_object *f = json_object_new_object(), *sums;
    char name[SPDX_FILE_MAX];
    int r;

    if (snprintf(name, sizeof(name), "./%s", path) >= (int)sizeof(name)) {
        json_object_put(f);
        return -ENAMETOOLONG;
    }
    if ((r = fjson_append(files, f)) < 0 || (r = add_str(f, "SPDXID", id)) < 0 ||
        (r = add_str(f, "fileName", name)) < 0)
        return r;
    sums = json_object_new_array();
    if ((r = fjson_add(f, "checksums", sums)) < 0 ||
        (r = add_checksum(sums, "SHA1", sha1, SBOM_SHA1_LEN)) < 0 ||
        (r = add_checksum(sums, "SHA256", sha256, SBOM_SHA256_LEN)) < 0 ||
        (r = add_str(f, "licenseConcluded", SPDX_NOASSERTION)) < 0)
        return r;
    return add_str(f, "copyrightText", SPDX_NOASSERTION);
}

static int package_common(struct json_object *p, const char *id, const char *name,
                          const char *version)
{
    int r;

    if ((r = add_str(p, "SPDXID", id)) < 0 || (r = add_str(p, "name", name)) < 0 ||
        (version && (r = add_str(p, "versionInfo", version)) < 0))
        return r;
    return add_str(p, "downloadLocation", SPDX_NOASSERTION);
}

static int add_package(struct json_object *pkgs, const struct sbom_component *c, const char *id)
{
    struct json_object *p = json_object_new_object(), *refs, *ref;
    int r;

    if ((r = fjson_append(pkgs, p)) < 0 || (r = package_common(p, id, c->name, c->version)) < 0 ||
        (r = fjson_add(p, "filesAnalyzed", json_object_new_boolean(0))) < 0)
        return r;
    if (c->source) {
        char info[3 * SBOM_MAX_FIELD];

        if (snprintf(info, sizeof(info), "built package from: %s%s%s", c->source,
                     c->source_version ? " " : "",
                     c->source_version ? c->source_version : "") >= (int)sizeof(info))
            return -EINVAL;
        if ((r = add_str(p, "sourceInfo", info)) < 0)
            return r;
    }
    if ((r = add_str(p, "licenseConcluded", SPDX_NOASSERTION)) < 0 ||
        (r = add_str(p, "licenseDeclared", c->license_expr ? c->license_expr : SPDX_NOASSERTION)) <
                0 ||
        (r = add_str(p, "copyrightText", SPDX_NOASSERTION)) < 0)
        return r;
    refs = json_object_new_array();
    if ((r = fjson_add(p, "externalRefs", refs)) < 0)
        return r;
    ref = json_object_new_object();
    if ((r = fjson_append(refs, ref)) < 0 ||
        (r = add_str(ref, "referenceCategory", "PACKAGE-MANAGER")) < 0 ||
        (r = add_str(ref, "referenceType", "purl")) < 0)
        return r;
    return add_str(ref, "referenceLocator", c->purl);
}

static int cmp_hex(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* SPDX 2.3 §7.9: SHA1 over the ascending-sorted lower-case hex SHA1s of the files. */
static int verification_code(const struct sbom_component *c, char out[static 41])
{
    _cleanup_(EVP_MD_CTX_freep) EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    _cleanup_free_ char *hexes = NULL;
    _cleanup_free_ char **sorted = NULL;
    uint8_t d[EVP_MAX_MD_SIZE];
    unsigned n = 0;

    hexes = malloc(c->n_files * 41 + 1);
    sorted = calloc(c->n_files + 1, sizeof(*sorted));
    if (!ctx || !hexes || !sorted)
        return -ENOMEM;
    for (size_t i = 0; i < c->n_files; i++) {
        sbom_hex(c->files[i].sha1, SBOM_SHA1_LEN, hexes + 41 * i);
        sorted[i] = hexes + 41 * i;
    }
    if (c->n_files > 0)
        qsort(sorted, c->n_files, sizeof(*sorted), cmp_hex);
    if (EVP_DigestInit_ex(ctx, EVP_sha1(), NULL) != 1)
        return -ENOTRECOVERABLE;
    for (size_t i = 0; i < c->n_files; i++)
        if (EVP_DigestUpdate(ctx, sorted[i], 40) != 1)
            return -ENOTRECOVERABLE;
    if (EVP_DigestFinal_ex(ctx, d, &n) != 1 || n != SBOM_SHA1_LEN)
        return -ENOTRECOVERABLE;
    sbom_hex(d, SBOM_SHA1_LEN, out);
    return 0;
}

static int add_model(struct json_object *pkgs, struct json_object *files, struct json_object *rels,
                     const struct sbom_component *c, const char *id, size_t index)
{
    struct json_object *p = json_object_new_object(), *sums, *has, *vc;
    char code[41];
    int r;

    if ((r = fjson_append(pkgs, p)) < 0 || (r = package_common(p, id, c->name, NULL)) < 0 ||
        (r = fjson_add(p, "filesAnalyzed", json_object_new_boolean(1))) < 0 ||
        (r = add_str(p, "primaryPackagePurpose", "OTHER")) < 0)
        return r;
    sums = json_object_new_array();
    if ((r = fjson_add(p, "checksums", sums)) < 0 ||
        (r = add_checksum(sums, "SHA256", c->sha256, SBOM_SHA256_LEN)) < 0)
        return r;
    if ((r = verification_code(c, code)) < 0)
        return r;
    vc = json_object_new_object();
    if ((r = fjson_add(p, "packageVerificationCode", vc)) < 0 ||
        (r = add_str(vc, "packageVerificationCodeValue", code)) < 0 ||
        (r = add_str(p, "licenseConcluded", SPDX_NOASSERTION)) < 0 ||
        (r = add_str(p, "licenseDeclared", SPDX_NOASSERTION)) < 0 ||
        (r = add_str(p, "copyrightText", SPDX_NOASSERTION)) < 0)
        return r;
    has = json_object_new_array();
    if ((r = fjson_add(p, "hasFiles", has)) < 0)
        return r;
    for (size_t i = 0; i < c->n_files; i++) {
        char fid[SPDX_ID_MAX], path[SPDX_FILE_MAX];

        if (snprintf(fid, sizeof(fid), "SPDXRef-File-%zu-%zu", index, i) >= (int)sizeof(fid) ||
            snprintf(path, sizeof(path), "%s/%s", c->name, c->files[i].path) >= (int)sizeof(path))
            return -ENAMETOOLONG;
        if ((r = add_file(files, fid, path, c->files[i].sha256, c->files[i].sha1)) < 0 ||
            (r = fjson_append(has, json_object_new_string(fid))) < 0 ||
            (r = add_relationship(rels, id, "CONTAINS", fid)) < 0)
            return r;
    }
    return 0;
}

static int add_host(struct json_object *pkgs, const struct sbom_host *h)
{
    struct json_object *p = json_object_new_object();
    int r;

    if ((r = fjson_append(pkgs, p)) < 0 ||
        (r = package_common(p, SPDX_HOST_ID, h->os_id, h->os_version_id)) < 0 ||
        (r = fjson_add(p, "filesAnalyzed", json_object_new_boolean(0))) < 0 ||
        (r = add_str(p, "primaryPackagePurpose", "OPERATING_SYSTEM")) < 0 ||
        (h->os_pretty && (r = add_str(p, "description", h->os_pretty)) < 0) ||
        (r = add_str(p, "licenseConcluded", SPDX_NOASSERTION)) < 0 ||
        (r = add_str(p, "licenseDeclared", SPDX_NOASSERTION)) < 0)
        return r;
    return add_str(p, "copyrightText", SPDX_NOASSERTION);
}

static int creation_info(const struct sbom *s, const struct sbom_doc_info *info,
                         struct json_object *doc)
{
    const struct sbom_host *h = sbom_host(s);
    struct json_object *ci = json_object_new_object(), *creators;
    char tool[SBOM_MAX_FIELD + 32], comment[5 * SBOM_MAX_FIELD + 64];
    int r;

    if (snprintf(tool, sizeof(tool), "Tool: %s-%s", SBOM_TOOL_NAME,
                 info->tool_version ? info->tool_version : "unknown") >= (int)sizeof(tool)) {
        json_object_put(ci);
        return -EINVAL;
    }
    if ((r = fjson_add(doc, "creationInfo", ci)) < 0 ||
        (r = add_str(ci, "created", info->timestamp)) < 0)
        return r;
    creators = json_object_new_array();
    if ((r = fjson_add(ci, "creators", creators)) < 0 ||
        (r = fjson_append(creators, json_object_new_string(tool))) < 0)
        return r;
    if (h->os_pretty || h->kernel || h->machine) {
        if (snprintf(comment, sizeof(comment), "host: %s; kernel: %s; machine: %s",
                     h->os_pretty ? h->os_pretty : "unknown", h->kernel ? h->kernel : "unknown",
                     h->machine ? h->machine : "unknown") >= (int)sizeof(comment))
            return -EINVAL;
        if ((r = add_str(ci, "comment", comment)) < 0)
            return r;
    }
    return 0;
}

static int external_ref(const struct sbom_reference *ref, struct json_object *doc)
{
    struct json_object *arr = json_object_new_array(), *e, *sum;
    char ns[64], hex[2 * SBOM_SHA1_LEN + 1];
    int r;

    if (!cdx_uuid_valid(ref->serial)) {
        json_object_put(arr);
        return -EINVAL;
    }
    if ((r = fjson_add(doc, "externalDocumentRefs", arr)) < 0)
        return r;
    (void)snprintf(ns, sizeof(ns), "urn:uuid:%s", ref->serial); /* 45 characters: fits */
    sbom_hex(ref->sha1, SBOM_SHA1_LEN, hex);
    e = json_object_new_object();
    if ((r = fjson_append(arr, e)) < 0 ||
        (r = add_str(e, "externalDocumentId", SPDX_EXT_DOC_ID)) < 0 ||
        (r = add_str(e, "spdxDocument", ns)) < 0)
        return r;
    sum = json_object_new_object();
    if ((r = fjson_add(e, "checksum", sum)) < 0 || (r = add_str(sum, "algorithm", "SHA1")) < 0)
        return r;
    return add_str(sum, "checksumValue", hex);
}

int spdx_write(const struct sbom *s, const struct sbom_doc_info *info, char **ret, size_t *ret_len)
{
    _cleanup_(fjson_putp) struct json_object *doc = NULL;
    const struct sbom_host *h = sbom_host(s);
    struct json_object *pkgs, *files, *rels;
    const struct sbom_component *prev = NULL;
    char ns[64];
    int r;

    if (!info || !cdx_uuid_valid(info->serial) || !info->timestamp || !info->name)
        return -EINVAL;
    doc = json_object_new_object();
    if (!doc)
        return -ENOMEM;
    (void)snprintf(ns, sizeof(ns), "urn:uuid:%s", info->serial); /* 45 characters: fits */
    if ((r = add_str(doc, "spdxVersion", SPDX_VERSION)) < 0 ||
        (r = add_str(doc, "dataLicense", "CC0-1.0")) < 0 ||
        (r = add_str(doc, "SPDXID", SPDX_DOC_ID)) < 0 ||
        (r = add_str(doc, "name", info->name)) < 0 ||
        (r = add_str(doc, "documentNamespace", ns)) < 0 || (r = creation_info(s, info, doc)) < 0 ||
        (info->ref && (r = external_ref(info->ref, doc)) < 0))
        return r;
    pkgs = json_object_new_array();
    if ((r = fjson_add(doc, "packages", pkgs)) < 0)
        return r;
    files = json_object_new_array();
    if ((r = fjson_add(doc, "files", files)) < 0)
        return r;
    rels = json_object_new_array();
    if ((r = fjson_add(doc, "relationships", rels)) < 0)
        return r;
    if (h->os_id && ((r = add_host(pkgs, h)) < 0 ||
                     (r = add_relationship(rels, SPDX_DOC_ID, "DESCRIBES", SPDX_HOST_ID)) < 0))
        return r;
    for (size_t i = 0; i < sbom_n_components(s); i++) {
        const struct sbom_component *c = sbom_component(s, i);
        char id[SPDX_ID_MAX];

        if (prev && prev->kind == c->kind &&
            (c->kind == SBOM_KIND_FILE || c->kind == SBOM_KIND_MODEL) && streq(prev->name, c->name))
            return -EINVAL; /* two files or models of one name */
        prev = c;
        switch (c->kind) {
        case SBOM_KIND_FILE:
            make_id(id, "SPDXRef-File", i, c->name);
            if ((r = add_file(files, id, c->name, c->sha256, c->sha1)) < 0 ||
                (r = add_relationship(rels, SPDX_DOC_ID, "DESCRIBES", id)) < 0)
                return r;
            break;
        case SBOM_KIND_MODEL:
            make_id(id, "SPDXRef-Model", i, c->name);
            if ((r = add_model(pkgs, files, rels, c, id, i)) < 0 ||
                (r = add_relationship(rels, SPDX_DOC_ID, "DESCRIBES", id)) < 0)
                return r;
            break;
        default:
            if (!c->purl)
                return -EINVAL;
            make_id(id, "SPDXRef-Package", i, c->name);
            if ((r = add_package(pkgs, c, id)) < 0 ||
                (r = add_relationship(rels, h->os_id ? SPDX_HOST_ID : SPDX_DOC_ID,
                                      h->os_id ? "CONTAINS" : "DESCRIBES", id)) < 0)
                return r;
            break;
        }
    }
    return fjson_serialize(doc, ret, ret_len);
}
