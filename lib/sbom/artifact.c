/* SPDX-License-Identifier: Apache-2.0 */
/* Artifacts and model directories with their hashes (see artifact.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "artifact.h"
#include "crypto-cleanup.h"
#include "model-manifest.h"

#define ARTIFACT_READ_BUF (1024u * 1024u) /* streaming buffer: memory stays bounded */

int artifact_hash_fd(int fd, uint8_t ret_sha256[static SBOM_SHA256_LEN],
                     uint8_t ret_sha1[static SBOM_SHA1_LEN])
{
    _cleanup_(EVP_MD_CTX_freep) EVP_MD_CTX *c256 = EVP_MD_CTX_new();
    _cleanup_(EVP_MD_CTX_freep) EVP_MD_CTX *c1 = EVP_MD_CTX_new();
    _cleanup_free_ uint8_t *buf = malloc(ARTIFACT_READ_BUF);
    uint8_t d256[EVP_MAX_MD_SIZE], d1[EVP_MAX_MD_SIZE];
    unsigned n256 = 0, n1 = 0;

    if (!c256 || !c1 || !buf)
        return -ENOMEM;
    if (EVP_DigestInit_ex(c256, EVP_sha256(), NULL) != 1 ||
        EVP_DigestInit_ex(c1, EVP_sha1(), NULL) != 1)
        return -ENOTRECOVERABLE;
    for (;;) {
        ssize_t n = read(fd, buf, ARTIFACT_READ_BUF);

        if (n < 0) {
            if (errno == EINTR)
                continue;
            return negative_errno();
        }
        if (n == 0)
            break;
        if (EVP_DigestUpdate(c256, buf, (size_t)n) != 1 ||
            EVP_DigestUpdate(c1, buf, (size_t)n) != 1)
            return -ENOTRECOVERABLE;
    }
    if (EVP_DigestFinal_ex(c256, d256, &n256) != 1 || EVP_DigestFinal_ex(c1, d1, &n1) != 1 ||
        n256 != SBOM_SHA256_LEN || n1 != SBOM_SHA1_LEN)
        return -ENOTRECOVERABLE;
    memcpy(ret_sha256, d256, SBOM_SHA256_LEN);
    memcpy(ret_sha1, d1, SBOM_SHA1_LEN);
    return 0;
}

static int hash_regular(int fd, uint8_t sha256[static SBOM_SHA256_LEN],
                        uint8_t sha1[static SBOM_SHA1_LEN])
{
    struct stat st;

    if (fstat(fd, &st) < 0)
        return negative_errno();
    if (!S_ISREG(st.st_mode))
        return S_ISDIR(st.st_mode) ? -EISDIR : -EBADFD;
    return artifact_hash_fd(fd, sha256, sha1);
}

static int valid_name(const char *name)
{
    size_t len = name ? strlen(name) : 0;

    if (len == 0 || !sbom_text_valid(name, len))
        return -EINVAL;
    return len > SBOM_MAX_FIELD ? -EMSGSIZE : 0;
}

int artifact_add_file(struct sbom *s, const char *path, const char *name)
{
    struct sbom_component c = {.kind = SBOM_KIND_FILE, .has_hash = true};
    _cleanup_close_ int fd = -EBADF;
    int r;

    if ((r = valid_name(name)) < 0)
        return r;
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return negative_errno();
    if ((r = hash_regular(fd, c.sha256, c.sha1)) < 0)
        return r;
    c.name = strdup(name);
    if (!c.name)
        return -ENOMEM;
    return sbom_add(s, &c);
}

/* The model tree's refusal, as an errno: a model we cannot hash faithfully is an error. */
static int refusal_errno(enum model_refusal why)
{
    switch (why) {
    case MODEL_REFUSED_SYMLINK:
    case MODEL_REFUSED_DANGLING:
        return -ELOOP;
    case MODEL_REFUSED_NAME:
        return -EILSEQ;
    default:
        return -EBADFD;
    }
}

int artifact_add_model(struct sbom *s, const char *dir, const char *name, struct model_diag *diag)
{
    const struct model_serialization ser = {.method = MODEL_METHOD_FILES};
    const struct model_walk_config cfg = {.ignore = model_git_paths, .n_ignore = MODEL_N_GIT_PATHS};
    struct sbom_component c = {.kind = SBOM_KIND_MODEL, .has_hash = true};
    _cleanup_(model_manifest_freep) struct model_manifest *m = NULL;
    _cleanup_(model_tree_freep) struct model_tree *t = NULL;
    size_t n;
    int r;

    if ((r = valid_name(name)) < 0)
        return r;
    r = model_walk(dir, &cfg, &t, diag);
    if (r < 0)
        return r;
    if (model_tree_n_refused(t) > 0) {
        enum model_refusal why = MODEL_REFUSED_SPECIAL;
        const char *path = model_tree_refused(t, 0, &why);

        if (diag && path)
            (void)snprintf(diag->path, sizeof(diag->path), "%s", path);
        return refusal_errno(why);
    }
    r = model_manifest_new(name, &ser, model_git_paths, MODEL_N_GIT_PATHS, &m);
    if (r < 0)
        return r;
    n = model_tree_n_files(t);
    c.files = calloc(n ? n : 1, sizeof(*c.files));
    if (!c.files)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++) {
        const struct model_file *f = model_tree_file(t, i);
        _cleanup_close_ int fd = -EBADF;

        r = model_tree_open(t, i, &fd);
        if (r >= 0)
            r = artifact_hash_fd(fd, c.files[i].sha256, c.files[i].sha1);
        if (r >= 0)
            r = model_manifest_add(m, f->path, 0, 0, c.files[i].sha256);
        if (r >= 0 && !(c.files[i].path = strdup(f->path)))
            r = -ENOMEM;
        if (r < 0) {
            if (diag)
                (void)snprintf(diag->path, sizeof(diag->path), "%s", f->path);
            c.n_files = i;
            sbom_component_clear(&c);
            return r;
        }
        c.n_files = i + 1;
    }
    /* The walk lists files in model-signing order, so the root is the model-signing digest. */
    if ((n > 0 && (r = model_manifest_sort(m)) < 0) || (r = model_manifest_root(m, c.sha256)) < 0) {
        sbom_component_clear(&c);
        return r;
    }
    c.name = strdup(name);
    if (!c.name) {
        sbom_component_clear(&c);
        return -ENOMEM;
    }
    return sbom_add(s, &c);
}
