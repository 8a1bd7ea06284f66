/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Offline verification of a TPM2_Certify proof: "this signing key lives in the TPM whose
 * attestation key (AK) signed this". Pure: bytes in, verdict out; no TPM, no tpm2-tss, no I/O,
 * no logging. Every TPM structure is parsed through sbuf (STYLE 12) by the rules of TPM 2.0
 * Library Part 2 (big-endian, no padding); the test cross-checks the parser against tpm2-tss's
 * marshalling and a real TPM (swtpm).
 *
 * A proof has four parts (FORMATS.md §9 layouts; what `hwsign key attest` will carry):
 *   attest      marshalled TPMS_ATTEST (TPM2B_ATTEST contents, no size prefix), type
 *               TPM_ST_ATTEST_CERTIFY (0x8017), extraData = the verifier's 32-byte nonce
 *   signature   by the AK over H(attest): a marshalled TPMT_SIGNATURE (ECDSA or RSASSA, the hash
 *               named inside), or "plain": DER ECDSA / PKCS#1 v1.5 RSA over SHA-256, what
 *               `openssl dgst -sha256 -verify ak.pem -signature sig attest` accepts
 *   ak          the AK's public key, DER SubjectPublicKeyInfo or PEM "PUBLIC KEY"
 *   public      the certified key's marshalled TPMT_PUBLIC (TPM2B_PUBLIC contents, no size
 *               prefix). Its Name, nameAlg || H_nameAlg(public), is what the TPM certifies.
 *
 * What a successful tpm_attest_verify_certify() proves, and what it does not: the AK signed a
 * TPM-generated certification (magic TPM_GENERATED_VALUE, which a restricted AK only signs for
 * the TPM itself) of an object whose public area is `public`, in answer to this nonce; the
 * object is a signing key with fixedTPM | fixedParent | sensitiveDataOrigin, so its private
 * part was made in that TPM and can never leave it; and, when key_spki is given, it is that
 * key. It does NOT establish that the AK is a restricted key of a genuine TPM: the caller must
 * trust ak by other means (an EK-certified enrollment, TPM2_ActivateCredential, or a record
 * made when the machine was provisioned).
 *
 * Return codes (outputs ret_* written only on success):
 *   -EINVAL       NULL argument; malformed attest / signature / public area / SPKI, trailing bytes
 *   -EMSGSIZE     an input over one of the TPM_ATTEST_MAX_* limits
 *   -EOPNOTSUPP   a well-formed structure outside what we verify: signature algorithm other than
 *                 ECDSA / RSASSA, hash other than SHA-256/384/512 (SHA-1 is refused), nameAlg
 *                 other than SHA-256/384/512, key type other than ECC P-256/384/521 or RSA
 *   -EBADMSG      the signature does not verify with the AK, or the signed structure is not a
 *                 TPM-generated certification (magic, type)
 *   -ESTALE       extraData is not the nonce (a replayed or foreign proof)
 *   -ENOKEY       the certified Name is not the Name of `public`, or `public` holds a key other
 *                 than key_spki
 *   -EKEYREJECTED `public` is not a signing key bound to its TPM (TPM_ATTEST_REQUIRED_ATTRS)
 *   -ENOMEM       allocation failure
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define TPM_ATTEST_NONCE_LEN  32u   /* extraData we bind (= TPM_QUOTE_NONCE_LEN of tpm.h) */
#define TPM_ATTEST_MAX        2048u /* marshalled TPMS_ATTEST bytes (a certify is ~170) */
#define TPM_ATTEST_MAX_PUBLIC 1024u /* marshalled TPMT_PUBLIC bytes (RSA-4096 is ~600) */
#define TPM_ATTEST_MAX_SIG    1024u /* signature bytes, either form (= HWSIGN_MAX_SIG) */
#define TPM_ATTEST_MAX_AK     4352u /* AK SPKI as DER or PEM (2 * HWSIGN_MAX_SPKI + 256) */
#define TPM_ATTEST_MAX_NAME   66u   /* TPM2B_NAME: nameAlg (2) + SHA-512 digest (64) */
#define TPM_ATTEST_MAX_DATA   66u   /* TPM2B_DATA (extraData): sizeof(TPMT_HA) */

/* TPM 2.0 constants the proof is checked against (Part 2). */
#define TPM_ATTEST_GENERATED_VALUE 0xff544347u /* TPMS_ATTEST.magic, "\xffTCG" */
#define TPM_ATTEST_ST_CERTIFY      0x8017u     /* TPM_ST_ATTEST_CERTIFY */
/*
 * Attributes the certified key must have: fixedTPM (0x2), fixedParent (0x10),
 * sensitiveDataOrigin (0x20), sign (0x40000).
 */
#define TPM_ATTEST_REQUIRED_ATTRS 0x00040032u

enum tpm_attest_sig_format {
    TPM_ATTEST_SIG_TPMT = 0,  /* marshalled TPMT_SIGNATURE */
    TPM_ATTEST_SIG_PLAIN = 1, /* DER ECDSA or PKCS#1 v1.5 RSA, over SHA-256 */
};

/* The fields of a TPMS_ATTEST of type TPM_ST_ATTEST_CERTIFY. */
struct tpm_attest_info {
    uint32_t magic;
    uint16_t type;
    uint8_t signer_name[TPM_ATTEST_MAX_NAME]; /* qualifiedSigner: the AK's Qualified Name */
    size_t signer_name_len;
    uint8_t extra_data[TPM_ATTEST_MAX_DATA]; /* the nonce */
    size_t extra_data_len;
    uint64_t clock; /* clockInfo */
    uint32_t reset_count;
    uint32_t restart_count;
    uint8_t safe;
    uint64_t firmware_version;
    uint8_t name[TPM_ATTEST_MAX_NAME]; /* attested.certify.name: the certified object's Name */
    size_t name_len;
    uint8_t qualified_name[TPM_ATTEST_MAX_NAME]; /* attested.certify.qualifiedName */
    size_t qualified_name_len;
};

/* A certify proof; every buffer is borrowed. */
struct tpm_attest_certify {
    const uint8_t *attest; /* marshalled TPMS_ATTEST */
    size_t attest_len;
    const uint8_t *sig; /* the AK's signature over attest, in sig_format */
    size_t sig_len;
    enum tpm_attest_sig_format sig_format;
    const uint8_t *ak; /* the AK's SPKI, DER or PEM */
    size_t ak_len;
    const uint8_t *key_public; /* the certified key's marshalled TPMT_PUBLIC */
    size_t key_public_len;
};

/*
 * Parses a marshalled TPMS_ATTEST of type TPM_ST_ATTEST_CERTIFY; nothing is verified but the
 * syntax and that magic and type are those of a certification. -EINVAL malformed or trailing
 * bytes, -EMSGSIZE over TPM_ATTEST_MAX, -EBADMSG wrong magic or type.
 */
int tpm_attest_parse(const uint8_t *attest, size_t len, struct tpm_attest_info *ret);

/*
 * The Name the attestation certifies (attested.certify.name), to match against a key's
 * TPMT_PUBLIC (tpm_attest_public_name). ret_name has room for TPM_ATTEST_MAX_NAME bytes.
 * Errors as tpm_attest_parse. Unauthenticated: verify the signature before trusting it.
 */
int tpm_attest_certified_name(const uint8_t *attest, size_t len,
                              uint8_t ret_name[static TPM_ATTEST_MAX_NAME], size_t *ret_name_len);

/*
 * The Name of a marshalled TPMT_PUBLIC: nameAlg (2 bytes, big-endian) || H_nameAlg(pub). The
 * whole structure is parsed first (the subset of key types described above; -EINVAL malformed or
 * trailing bytes, -EOPNOTSUPP other types, nameAlgs or schemes, -EMSGSIZE over
 * TPM_ATTEST_MAX_PUBLIC). ret_name has room for TPM_ATTEST_MAX_NAME bytes.
 */
int tpm_attest_public_name(const uint8_t *pub, size_t len,
                           uint8_t ret_name[static TPM_ATTEST_MAX_NAME], size_t *ret_name_len);

/*
 * The key of a marshalled TPMT_PUBLIC as a DER SubjectPublicKeyInfo (malloc'd), and its
 * objectAttributes. Errors as tpm_attest_public_name, and -EINVAL for a point off its curve
 * or an empty modulus. ret_attrs may be NULL.
 */
int tpm_attest_public_spki(const uint8_t *pub, size_t len, uint8_t **ret_spki, size_t *ret_len,
                           uint32_t *ret_attrs);

/*
 * Verifies a certify proof (see the top of this file for what it proves): the signature over
 * attest with the AK, the magic and type, extraData == nonce, the certified Name == the Name of
 * key_public, TPM_ATTEST_REQUIRED_ATTRS on key_public and, when key_spki is not NULL, that
 * key_public holds the same public key as key_spki (DER or PEM; compared as keys, not bytes).
 * Checked in that order; the first failure is returned. 0 when every check passes.
 */
int tpm_attest_verify_certify(const struct tpm_attest_certify *proof,
                              const uint8_t nonce[static TPM_ATTEST_NONCE_LEN],
                              const uint8_t *key_spki, size_t key_spki_len);
