/* SPDX-License-Identifier: Apache-2.0 */
#define _GNU_SOURCE /* memmem */
/* Hide every deprecated OpenSSL declaration: this module must build on the 3.0 API alone. */
#define OPENSSL_API_COMPAT    30000
#define OPENSSL_NO_DEPRECATED 1

#include "crypto.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "crypto-cleanup.h"
#include "format.h"
#include "sbuf.h"

/* PEM text accepted by spki_from_pem: base64 of a maximal SPKI with headers and line breaks. */
#define CRYPTO_MAX_PEM (2u * HWSIGN_MAX_SPKI + 256u)
/* Largest ECDSA scalar we convert (P-521: 66 bytes per half). */
#define ECDSA_MAX_HALF 66u
/* Largest EC field we export (P-384). */
#define EC_MAX_FIELD 48u
/* Comment of an OpenSSH public key line. */
#define SSH_MAX_COMMENT HWSIGN_MAX_TEXT
/* Wire blob of an OpenSSH public key: never larger than the SPKI it came from, plus headers. */
#define SSH_MAX_BLOB (HWSIGN_MAX_SPKI + 64u)
/* Longest curve group name we look at ("prime256v1", "secp384r1"). */
#define GROUP_NAME_MAX 64u

static const struct {
    enum hwsign_alg alg;
    const char *name;
} alg_table[] = {
        {HWSIGN_ALG_ECDSA_P256, "ecdsa-p256"},
        {HWSIGN_ALG_ECDSA_P384, "ecdsa-p384"},
        {HWSIGN_ALG_RSA_3072, "rsa-3072"},
};

static const struct {
    enum hwsign_hash hash;
    const char *name; /* our name, also a fetchable OpenSSL alias */
    size_t len;
} hash_table[] = {
        {HWSIGN_HASH_SHA256, "sha256", 32},
        {HWSIGN_HASH_SHA384, "sha384", 48},
        {HWSIGN_HASH_SHA512, "sha512", 64},
};

enum hwsign_alg alg_from_name(const char *name)
{
    if (!name)
        return HWSIGN_ALG_UNKNOWN;
    for (size_t i = 0; i < ELEMENTSOF(alg_table); i++) {
        if (streq(alg_table[i].name, name))
            return alg_table[i].alg;
    }
    return HWSIGN_ALG_UNKNOWN;
}

const char *alg_name(enum hwsign_alg alg)
{
    for (size_t i = 0; i < ELEMENTSOF(alg_table); i++) {
        if (alg_table[i].alg == alg)
            return alg_table[i].name;
    }
    return NULL;
}

size_t hash_len(enum hwsign_hash h)
{
    for (size_t i = 0; i < ELEMENTSOF(hash_table); i++) {
        if (hash_table[i].hash == h)
            return hash_table[i].len;
    }
    return 0;
}

const char *hash_name(enum hwsign_hash h)
{
    for (size_t i = 0; i < ELEMENTSOF(hash_table); i++) {
        if (hash_table[i].hash == h)
            return hash_table[i].name;
    }
    return NULL;
}

static int md_fetch(enum hwsign_hash h, EVP_MD **ret)
{
    const char *name = hash_name(h);
    EVP_MD *md;

    if (!name)
        return -EINVAL;
    md = EVP_MD_fetch(NULL, name, NULL);
    if (!md)
        return -ENOTRECOVERABLE;
    *ret = md;
    return 0;
}

/* Strict DER SPKI parse: the whole input must be one SubjectPublicKeyInfo. */
static int parse_spki(const uint8_t *spki, size_t len, EVP_PKEY **ret)
{
    const unsigned char *p = spki;
    EVP_PKEY *pkey;

    if (!spki || len == 0 || len > HWSIGN_MAX_SPKI)
        return -EINVAL;
    pkey = d2i_PUBKEY(NULL, &p, (long)len);
    if (!pkey)
        return -EINVAL;
    if (p != spki + len) {
        EVP_PKEY_free(pkey);
        return -EINVAL;
    }
    *ret = pkey;
    return 0;
}

/* NID of an EC key's named curve; NID_undef for explicit or unknown parameters. */
static int ec_curve_nid(const EVP_PKEY *pkey)
{
    char group[GROUP_NAME_MAX];
    size_t glen = 0;
    int nid;

    if (!EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group),
                                        &glen))
        return NID_undef;
    nid = OBJ_sn2nid(group);
    if (nid == NID_undef)
        nid = EC_curve_nist2nid(group);
    return nid;
}

static int pkey_alg(const EVP_PKEY *pkey, enum hwsign_alg *ret)
{
    if (EVP_PKEY_is_a(pkey, "EC")) {
        switch (ec_curve_nid(pkey)) {
        case NID_X9_62_prime256v1:
            *ret = HWSIGN_ALG_ECDSA_P256;
            return 0;
        case NID_secp384r1:
            *ret = HWSIGN_ALG_ECDSA_P384;
            return 0;
        default:
            return -EINVAL;
        }
    }
    if (EVP_PKEY_is_a(pkey, "RSA") && EVP_PKEY_get_bits(pkey) == 3072) {
        *ret = HWSIGN_ALG_RSA_3072;
        return 0;
    }
    return -EINVAL;
}

int spki_alg(const uint8_t *spki, size_t len, enum hwsign_alg *ret)
{
    _cleanup_(EVP_PKEY_freep) EVP_PKEY *pkey = NULL;
    enum hwsign_alg alg;
    int r;

    r = parse_spki(spki, len, &pkey);
    if (r < 0)
        return r;
    r = pkey_alg(pkey, &alg);
    if (r < 0)
        return r;
    *ret = alg;
    return 0;
}

int spki_to_pem(const uint8_t *spki, size_t len, char **ret_pem)
{
    _cleanup_(EVP_PKEY_freep) EVP_PKEY *pkey = NULL;
    _cleanup_(BIO_free_allp) BIO *bio = NULL;
    char *data = NULL, *pem;
    long n;
    int r;

    r = parse_spki(spki, len, &pkey);
    if (r < 0)
        return r;
    bio = BIO_new(BIO_s_mem());
    if (!bio)
        return -ENOMEM;
    if (!PEM_write_bio_PUBKEY(bio, pkey))
        return -ENOMEM;
    n = BIO_get_mem_data(bio, &data);
    if (n <= 0 || !data)
        return -ENOTRECOVERABLE;
    pem = malloc((size_t)n + 1);
    if (!pem)
        return -ENOMEM;
    memcpy(pem, data, (size_t)n);
    pem[n] = '\0';
    *ret_pem = pem;
    return 0;
}

/* PEM password callback that never asks: an "encrypted" public key is simply refused. */
static int no_password_cb(char *buf, int size, int rwflag, void *u)
{
    return -1;
}

int spki_from_pem(const uint8_t *pem, size_t len, uint8_t **ret_spki, size_t *ret_len)
{
    static const char begin[] = "-----BEGIN ";
    _cleanup_(EVP_PKEY_freep) EVP_PKEY *pkey = NULL;
    _cleanup_free_ uint8_t *der = NULL;
    unsigned char *p;
    int n, r;

    if (!pem || len == 0 || len > CRYPTO_MAX_PEM)
        return -EINVAL;
    if (memmem(pem, len, begin, sizeof(begin) - 1)) {
        _cleanup_(BIO_free_allp) BIO *bio = BIO_new_mem_buf(pem, (int)len);
        if (!bio)
            return -ENOMEM;
        pkey = PEM_read_bio_PUBKEY(bio, NULL, no_password_cb, NULL);
        if (!pkey)
            return -EINVAL;
    } else {
        r = parse_spki(pem, len, &pkey);
        if (r < 0)
            return r;
    }

    /* Re-encode: callers get canonical DER whatever the input looked like. */
    n = i2d_PUBKEY(pkey, NULL);
    if (n <= 0 || (size_t)n > HWSIGN_MAX_SPKI)
        return -EINVAL;
    der = malloc((size_t)n);
    if (!der)
        return -ENOMEM;
    p = der;
    if (i2d_PUBKEY(pkey, &p) != n)
        return -ENOTRECOVERABLE;
    *ret_spki = TAKE_PTR(der);
    *ret_len = (size_t)n;
    return 0;
}

/* SSH mpint: big-endian two's complement, minimal, a 0x00 prefix when the top bit is set. */
static int put_mpint(struct sbuf *b, const BIGNUM *bn)
{
    uint8_t buf[HWSIGN_MAX_SPKI + 1];
    int n = BN_num_bytes(bn);
    bool pad;

    if (BN_is_negative(bn))
        return -EINVAL;
    if (n < 0 || (size_t)n > HWSIGN_MAX_SPKI)
        return -EOPNOTSUPP;
    buf[0] = 0;
    if (BN_bn2bin(bn, buf + 1) != n)
        return -ENOTRECOVERABLE;
    pad = n > 0 && (buf[1] & 0x80);
    return sbuf_put_string(b, pad ? buf : buf + 1, (size_t)n + pad);
}

static int ssh_blob_ec(const EVP_PKEY *pkey, struct sbuf *b, const char **ret_type)
{
    _cleanup_(BN_freep) BIGNUM *x = NULL, *y = NULL;
    uint8_t point[1 + 2 * EC_MAX_FIELD];
    const char *type, *curve;
    size_t field;
    int r;

    switch (ec_curve_nid(pkey)) {
    case NID_X9_62_prime256v1:
        type = "ecdsa-sha2-nistp256", curve = "nistp256", field = 32;
        break;
    case NID_secp384r1:
        type = "ecdsa-sha2-nistp384", curve = "nistp384", field = 48;
        break;
    default:
        return -EOPNOTSUPP;
    }
    /* Affine coordinates, so the point is uncompressed whatever form the SPKI carried. */
    if (!EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_EC_PUB_X, &x) ||
        !EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_EC_PUB_Y, &y))
        return -EINVAL;
    point[0] = POINT_CONVERSION_UNCOMPRESSED;
    if (BN_bn2binpad(x, point + 1, (int)field) < 0 ||
        BN_bn2binpad(y, point + 1 + field, (int)field) < 0)
        return -EINVAL;
    if ((r = sbuf_put_cstring(b, type)) < 0 || (r = sbuf_put_cstring(b, curve)) < 0 ||
        (r = sbuf_put_string(b, point, 1 + 2 * field)) < 0)
        return r;
    *ret_type = type;
    return 0;
}

static int ssh_blob_rsa(const EVP_PKEY *pkey, struct sbuf *b, const char **ret_type)
{
    _cleanup_(BN_freep) BIGNUM *n = NULL, *e = NULL;
    int r;

    if (!EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_N, &n) ||
        !EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_E, &e))
        return -EINVAL;
    if ((r = sbuf_put_cstring(b, "ssh-rsa")) < 0 || (r = put_mpint(b, e)) < 0 ||
        (r = put_mpint(b, n)) < 0)
        return r;
    *ret_type = "ssh-rsa";
    return 0;
}

static bool ssh_comment_valid(const char *s)
{
    size_t n = strnlen(s, SSH_MAX_COMMENT + 1);

    if (n > SSH_MAX_COMMENT)
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f)
            return false; /* a newline would start a second key line */
    }
    return true;
}

int spki_to_ssh(const uint8_t *spki, size_t len, const char *comment, char **ret)
{
    _cleanup_(EVP_PKEY_freep) EVP_PKEY *pkey = NULL;
    _cleanup_(sbuf_freep) struct sbuf *blob = NULL;
    _cleanup_free_ char *b64 = NULL;
    const char *type = NULL;
    size_t total;
    char *line;
    int r, n;

    if (comment && !ssh_comment_valid(comment))
        return -EINVAL;
    r = parse_spki(spki, len, &pkey);
    if (r < 0)
        return r;
    blob = sbuf_new(SSH_MAX_BLOB);
    if (!blob)
        return -ENOMEM;
    if (EVP_PKEY_is_a(pkey, "EC"))
        r = ssh_blob_ec(pkey, blob, &type);
    else if (EVP_PKEY_is_a(pkey, "RSA"))
        r = ssh_blob_rsa(pkey, blob, &type);
    else
        r = -EOPNOTSUPP;
    if (r < 0)
        return r;
    r = base64_encode(sbuf_ptr(blob), sbuf_len(blob), &b64);
    if (r < 0)
        return r;

    if (comment && comment[0] == '\0')
        comment = NULL;
    total = strlen(type) + 1 + strlen(b64) + (comment ? 1 + strlen(comment) : 0) + 1;
    line = malloc(total);
    if (!line)
        return -ENOMEM;
    n = snprintf(line, total, "%s %s%s%s", type, b64, comment ? " " : "", comment ? comment : "");
    if (n < 0 || (size_t)n >= total) {
        free(line);
        return -ENOTRECOVERABLE;
    }
    *ret = line;
    return 0;
}

int spki_fingerprint(const uint8_t *spki, size_t len, char **ret_hex)
{
    uint8_t digest[HWSIGN_MAX_DIGEST];
    int r;

    if (!spki && len > 0)
        return -EINVAL;
    r = hash_buffer(HWSIGN_HASH_SHA256, spki ? spki : (const uint8_t *)"", len, digest,
                    sizeof(digest));
    if (r < 0)
        return r;
    return hex_encode(digest, hash_len(HWSIGN_HASH_SHA256), ret_hex);
}

int spki_parse(const uint8_t *spki, size_t spki_len, EVP_PKEY **ret)
{
    return parse_spki(spki, spki_len, ret);
}

int sig_verify_digest_pkey(EVP_PKEY *pkey, enum hwsign_hash hash, enum hwsign_scheme scheme,
                           const uint8_t *digest, size_t digest_len, const uint8_t *sig,
                           size_t sig_len)
{
    _cleanup_(EVP_PKEY_CTX_freep) EVP_PKEY_CTX *ctx = NULL;
    _cleanup_(EVP_MD_freep) EVP_MD *md = NULL;
    size_t hl = hash_len(hash);
    bool rsa;
    int r;

    if (!pkey || hl == 0 || !digest || digest_len != hl)
        return -EINVAL;
    if (scheme != HWSIGN_SCHEME_DEFAULT && scheme != HWSIGN_SCHEME_RSA_PSS)
        return -EINVAL;
    if (sig_len > HWSIGN_MAX_SIG)
        return -EMSGSIZE;
    if (!sig || sig_len == 0)
        return -EBADMSG;
    rsa = EVP_PKEY_is_a(pkey, "RSA");
    if (!rsa && !EVP_PKEY_is_a(pkey, "EC"))
        return -EOPNOTSUPP;
    if (!rsa && scheme == HWSIGN_SCHEME_RSA_PSS)
        return -EINVAL;
    r = md_fetch(hash, &md);
    if (r < 0)
        return r;

    ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
    if (!ctx)
        return -ENOMEM;
    if (EVP_PKEY_verify_init(ctx) <= 0 || EVP_PKEY_CTX_set_signature_md(ctx, md) <= 0)
        return -ENOTRECOVERABLE;
    if (rsa && scheme == HWSIGN_SCHEME_RSA_PSS) {
        if (EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PSS_PADDING) <= 0 ||
            EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, md) <= 0 ||
            EVP_PKEY_CTX_set_rsa_pss_saltlen(ctx, (int)hl) <= 0)
            return -ENOTRECOVERABLE;
    } else if (rsa) {
        if (EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) <= 0)
            return -ENOTRECOVERABLE;
    }
    /* 0 is a wrong signature, < 0 one that did not even decode (bad DER): both are bad. */
    if (EVP_PKEY_verify(ctx, sig, sig_len, digest, digest_len) != 1)
        return -EBADMSG;
    return 0;
}

int sig_verify_digest(const uint8_t *spki, size_t spki_len, enum hwsign_hash hash,
                      enum hwsign_scheme scheme, const uint8_t *digest, size_t digest_len,
                      const uint8_t *sig, size_t sig_len)
{
    _cleanup_(EVP_PKEY_freep) EVP_PKEY *pkey = NULL;
    size_t hl = hash_len(hash);
    int r;

    /* Argument checks before the (slow) decode, so errors do not depend on the key. */
    if (hl == 0 || !digest || digest_len != hl)
        return -EINVAL;
    if (scheme != HWSIGN_SCHEME_DEFAULT && scheme != HWSIGN_SCHEME_RSA_PSS)
        return -EINVAL;
    if (sig_len > HWSIGN_MAX_SIG)
        return -EMSGSIZE;
    if (!sig || sig_len == 0)
        return -EBADMSG;
    r = parse_spki(spki, spki_len, &pkey);
    if (r < 0)
        return r;
    return sig_verify_digest_pkey(pkey, hash, scheme, digest, digest_len, sig, sig_len);
}

int ecdsa_raw_to_der(const uint8_t *raw, size_t raw_len, uint8_t **ret_der, size_t *ret_len)
{
    _cleanup_(BN_freep) BIGNUM *r = NULL, *s = NULL;
    _cleanup_(ECDSA_SIG_freep) ECDSA_SIG *sig = NULL;
    _cleanup_free_ uint8_t *der = NULL;
    size_t half = raw_len / 2;
    unsigned char *p;
    int n;

    if (!raw || raw_len == 0 || raw_len % 2 != 0 || half > ECDSA_MAX_HALF)
        return -EINVAL;
    r = BN_bin2bn(raw, (int)half, NULL);
    s = BN_bin2bn(raw + half, (int)half, NULL);
    if (!r || !s)
        return -ENOMEM;
    if (BN_is_zero(r) || BN_is_zero(s))
        return -EINVAL; /* never a valid ECDSA signature */
    sig = ECDSA_SIG_new();
    if (!sig)
        return -ENOMEM;
    if (!ECDSA_SIG_set0(sig, r, s))
        return -ENOMEM;
    r = s = NULL; /* owned by sig now */

    n = i2d_ECDSA_SIG(sig, NULL);
    if (n <= 0)
        return -ENOTRECOVERABLE;
    der = malloc((size_t)n);
    if (!der)
        return -ENOMEM;
    p = der;
    if (i2d_ECDSA_SIG(sig, &p) != n)
        return -ENOTRECOVERABLE;
    *ret_der = TAKE_PTR(der);
    *ret_len = (size_t)n;
    return 0;
}

int hash_buffer(enum hwsign_hash h, const void *data, size_t len, uint8_t *ret_digest, size_t cap)
{
    _cleanup_(EVP_MD_freep) EVP_MD *md = NULL;
    uint8_t out[EVP_MAX_MD_SIZE];
    unsigned outlen = 0;
    size_t hl = hash_len(h);
    int r;

    if (hl == 0 || (!data && len > 0))
        return -EINVAL;
    if (cap < hl)
        return -ENOBUFS;
    r = md_fetch(h, &md);
    if (r < 0)
        return r;
    if (!EVP_Digest(data ? data : "", len, out, &outlen, md, NULL) || outlen != hl)
        return -ENOTRECOVERABLE;
    memcpy(ret_digest, out, hl);
    return 0;
}

int hash_fd_limited(int fd, enum hwsign_hash h, uint64_t max_bytes, uint8_t *ret_digest, size_t cap)
{
    _cleanup_(EVP_MD_freep) EVP_MD *md = NULL;
    _cleanup_(EVP_MD_CTX_freep) EVP_MD_CTX *ctx = NULL;
    _cleanup_free_ uint8_t *buf = NULL;
    uint8_t out[EVP_MAX_MD_SIZE];
    unsigned outlen = 0;
    uint64_t total = 0;
    size_t hl = hash_len(h);
    int r;

    if (hl == 0 || !ret_digest)
        return -EINVAL;
    if (cap < hl)
        return -ENOBUFS;
    if (fd < 0)
        return -EBADF;
    r = md_fetch(h, &md);
    if (r < 0)
        return r;
    buf = malloc(HASH_FD_CHUNK);
    ctx = EVP_MD_CTX_new();
    if (!buf || !ctx)
        return -ENOMEM;
    if (!EVP_DigestInit_ex(ctx, md, NULL))
        return -ENOTRECOVERABLE;
    for (;;) {
        ssize_t n = read(fd, buf, HASH_FD_CHUNK);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return negative_errno();
        }
        if (n == 0)
            break;
        total += (uint64_t)n;
        if (total > max_bytes)
            return -EFBIG;
        if (!EVP_DigestUpdate(ctx, buf, (size_t)n))
            return -ENOTRECOVERABLE;
    }
    if (!EVP_DigestFinal_ex(ctx, out, &outlen) || outlen != hl)
        return -ENOTRECOVERABLE;
    memcpy(ret_digest, out, hl);
    return 0;
}

int hash_fd(int fd, enum hwsign_hash h, uint8_t *ret_digest, size_t cap)
{
    return hash_fd_limited(fd, h, UINT64_MAX, ret_digest, cap);
}

int hash_file(const char *path, enum hwsign_hash h, uint8_t *ret_digest, size_t cap)
{
    _cleanup_close_ int fd = -EBADF;
    size_t hl = hash_len(h);

    if (hl == 0 || !path)
        return -EINVAL;
    if (cap < hl)
        return -ENOBUFS;
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return negative_errno();
    return hash_fd(fd, h, ret_digest, cap);
}
