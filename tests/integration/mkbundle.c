/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Test helper for bundle-interop.sh: sign ARTIFACT with a software P-256 key (PEM) through
 * lib/format and write, into OUTDIR,
 *   msg.sigstore.json   messageSignature bundle (signature over the artifact bytes)
 *   msg.sig.der         the same DER signature, for `openssl dgst -sha256 -verify`
 *   dsse.sigstore.json  dsseEnvelope bundle around an in-toto Statement v1 for the artifact
 *   pub.pem             the public key
 * Exit status 0 on success, 1 on any failure (with one line on stderr).
 *
 * usage: mkbundle KEY.pem ARTIFACT OUTDIR
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/pem.h>

#include "bundle.h"
#include "crypto-cleanup.h"
#include "crypto.h"
#include "fd-util.h"

#define PREDICATE_TYPE "https://example.com/hwsign-interop/v1"
#define PREDICATE      "{\"tool\":\"hwsign mkbundle\",\"note\":\"a/b\"}"

static int sign_digest(EVP_PKEY *key, const uint8_t dg[32], uint8_t *sig, size_t *len)
{
    _cleanup_(EVP_PKEY_CTX_freep) EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, key, NULL);

    if (!ctx || EVP_PKEY_sign_init(ctx) <= 0 ||
        EVP_PKEY_CTX_set_signature_md(ctx, EVP_sha256()) <= 0 ||
        EVP_PKEY_sign(ctx, sig, len, dg, 32) <= 0)
        return -ENOTRECOVERABLE;
    return 0;
}

static int write_out(const char *dir, const char *name, const void *data, size_t len)
{
    char path[4096];
    int n = snprintf(path, sizeof(path), "%s/%s", dir, name);

    if (n < 0 || (size_t)n >= sizeof(path))
        return -ENAMETOOLONG;
    return write_file_atomic(path, data, len, 0644);
}

static int run(const char *key_path, const char *artifact, const char *dir)
{
    _cleanup_(EVP_PKEY_freep) EVP_PKEY *key = NULL;
    _cleanup_(BIO_free_allp) BIO *bio = NULL;
    _cleanup_(openssl_freep) unsigned char *spki = NULL;
    _cleanup_free_ char *hint = NULL, *pem = NULL, *msg = NULL, *stmt = NULL, *dsse = NULL;
    _cleanup_(bundle_freep) struct bundle *check = NULL;
    const char *base = strrchr(artifact, '/') ? strrchr(artifact, '/') + 1 : artifact;
    struct intoto_subject subject = {.name = base};
    uint8_t sig[HWSIGN_MAX_SIG], pae_dg[32];
    size_t sig_len = sizeof(sig), n = 0, stmt_len = 0;
    int spki_len, r;

    bio = BIO_new_file(key_path, "r");
    if (!bio || !(key = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL)))
        return -EINVAL;
    spki_len = i2d_PUBKEY(key, &spki);
    if (spki_len <= 0)
        return -EINVAL;
    r = bundle_hint_from_spki(spki, (size_t)spki_len, &hint);
    if (r < 0)
        return r;
    r = spki_to_pem(spki, (size_t)spki_len, &pem);
    if (r < 0)
        return r;
    r = write_out(dir, "pub.pem", pem, strlen(pem));
    if (r < 0)
        return r;
    r = hash_file(artifact, HWSIGN_HASH_SHA256, subject.sha256, sizeof(subject.sha256));
    if (r < 0)
        return r;

    /* messageSignature: ECDSA-SHA256 over the artifact = over its SHA-256 digest. */
    r = sign_digest(key, subject.sha256, sig, &sig_len);
    if (r < 0)
        return r;
    r = bundle_encode_message_signature(hint, subject.sha256, sig, sig_len, &msg, &n);
    if (r < 0)
        return r;
    r = bundle_decode(msg, n, &check);
    if (r < 0)
        return r;
    r = bundle_verify(check, key, subject.sha256, NULL);
    if (r < 0)
        return r;
    check = bundle_free(check);
    r = write_out(dir, "msg.sigstore.json", msg, n);
    if (r < 0)
        return r;
    r = write_out(dir, "msg.sig.der", sig, sig_len);
    if (r < 0)
        return r;

    /* dsseEnvelope: ECDSA-SHA256 over the PAE of the Statement. */
    r = intoto_statement_build(&subject, 1, PREDICATE_TYPE, PREDICATE, strlen(PREDICATE), &stmt,
                               &stmt_len);
    if (r < 0)
        return r;
    r = dsse_pae_sha256(INTOTO_PAYLOAD_TYPE, strlen(INTOTO_PAYLOAD_TYPE), (uint8_t *)stmt, stmt_len,
                        pae_dg);
    if (r < 0)
        return r;
    sig_len = sizeof(sig);
    r = sign_digest(key, pae_dg, sig, &sig_len);
    if (r < 0)
        return r;
    r = bundle_encode_dsse(hint, INTOTO_PAYLOAD_TYPE, (uint8_t *)stmt, stmt_len, sig, sig_len,
                           &dsse, &n);
    if (r < 0)
        return r;
    r = bundle_decode(dsse, n, &check);
    if (r < 0)
        return r;
    r = bundle_verify(check, key, subject.sha256, NULL);
    if (r < 0)
        return r;
    return write_out(dir, "dsse.sigstore.json", dsse, n);
}

int main(int argc, char **argv)
{
    int r;

    if (argc != 4) {
        fprintf(stderr, "usage: %s KEY.pem ARTIFACT OUTDIR\n", argv[0]);
        return 2;
    }
    r = run(argv[1], argv[2], argv[3]);
    if (r < 0) {
        fprintf(stderr, "mkbundle: %s\n", strerror(-r));
        return 1;
    }
    return 0;
}
