/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Offline verification of TPM evidence: a TPM2_Certify proof ("this signing key lives in the
 * TPM whose attestation key (AK) signed this") and a TPM2_Quote with its PCR values ("the TPM
 * of this AK held these PCR values when asked with this nonce"). Pure: bytes in, verdict out;
 * no TPM, no tpm2-tss, no I/O, no logging. Every TPM structure is parsed through sbuf (STYLE 12)
 * by the rules of TPM 2.0 Library Part 2 (big-endian, no padding); the tests cross-check the
 * parser against tpm2-tss's marshalling, a real TPM (swtpm) and tpm2_checkquote.
 *
 * A certify proof has four parts (FORMATS.md §9 layouts; what `hwsign key attest` will carry):
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
 * A quote proof (struct tpm_attest_quote) has attest (type TPM_ST_ATTEST_QUOTE, 0x8018),
 * signature and ak as above, and travels with the PCR file: tpm2-tools' "serialized" format,
 * what `tpm2_quote -o` writes and `tpm2_checkquote -f` reads without -l, and what
 * tpm_quote_pcrs_serialized() (tpm/tpm.h) returns. It is a dump of C structures in the byte
 * order of the machine that wrote it (we read it in ours: a file from a machine of the other
 * byte order is refused as malformed), with the padding of the x86-64 / AArch64 / ... ABIs:
 *   TPML_PCR_SELECTION  132 bytes: UINT32 count, then 16 slots of 8 bytes
 *                       {UINT16 hash, UINT8 sizeofSelect, BYTE pcrSelect[4], 1 pad byte}
 *   UINT32 lists        the number of TPML_DIGEST that follow
 *   TPML_DIGEST x lists 532 bytes each: UINT32 count (1..8), then 8 slots of 66 bytes
 *                       {UINT16 size, BYTE buffer[64]}
 * The values fill the selected PCRs in selection order (bank by bank as listed, ascending PCR
 * index within a bank), the order pcrDigest hashes them in. Slots past a count, bytes past a
 * digest's size or past sizeofSelect, and padding are ignored (tpm2_checkquote ignores them
 * too, and pcrDigest does not cover them); everything else is strict: a selection slot count
 * over 16, sizeofSelect over 4, an unknown bank (-EOPNOTSUPP), a bank twice, no PCR selected,
 * an empty list or one of more than 8, a digest whose size is not its bank's, more or fewer
 * values than selected PCRs, and missing or trailing bytes are errors.
 *
 * What a successful tpm_attest_verify_quote() proves: the AK signed a TPM-generated quote in
 * answer to this nonce, and the PCR values returned are exactly the ones it quoted (its
 * selection equals the file's and its pcrDigest is the hash of the values, the hash being the
 * signature's: SHA-256 for our AKs). Trusting ak is the caller's business, as above; comparing
 * the values with expected ones is the policy's (tpm_attest_pcrs_expect).
 *
 * Return codes (outputs ret_* written only on success):
 *   -EINVAL       NULL argument; malformed attest / signature / public area / SPKI / PCR file
 *                 / PCR text, trailing bytes
 *   -EMSGSIZE     an input over one of the TPM_ATTEST_MAX_* limits
 *   -EOPNOTSUPP   a well-formed structure outside what we verify: signature algorithm other than
 *                 ECDSA / RSASSA, hash other than SHA-256/384/512 (SHA-1 is refused), nameAlg
 *                 other than SHA-256/384/512, key type other than ECC P-256/384/521 or RSA, a
 *                 PCR bank other than SHA-1/256/384/512
 *   -EBADMSG      the signature does not verify with the AK, or the signed structure is not a
 *                 TPM-generated certification / quote (magic, type)
 *   -ESTALE       extraData is not the nonce (a replayed or foreign proof)
 *   -ENOKEY       certify: the certified Name is not the Name of `public`, or `public` holds a
 *                 key other than key_spki. quote: the PCR file is not what the TPM quoted (its
 *                 selection differs from the quote's, or its values do not hash to pcrDigest)
 *   -EKEYREJECTED `public` is not a signing key bound to its TPM (TPM_ATTEST_REQUIRED_ATTRS)
 *   -ENOENT       policy: the expected PCR is not among the quoted ones
 *   -EACCES       policy: the quoted PCR holds another value than the expected one
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
#define TPM_ATTEST_ST_QUOTE        0x8018u     /* TPM_ST_ATTEST_QUOTE */
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

/* ---- quotes and PCR values -------------------------------------------------------------- */

/* PCR banks (TPM_ALG_ID) whose values we read; their digests are 20, 32, 48 and 64 bytes. */
#define TPM_ATTEST_ALG_SHA1   0x0004u
#define TPM_ATTEST_ALG_SHA256 0x000bu
#define TPM_ATTEST_ALG_SHA384 0x000cu
#define TPM_ATTEST_ALG_SHA512 0x000du

/* Limits of a PCR selection and of the serialized PCR file (see the top of this file). */
#define TPM_ATTEST_MAX_SELECTIONS 16u /* TPMS_PCR_SELECTION slots (TPM2_NUM_PCR_BANKS) */
#define TPM_ATTEST_PCR_SELECT_MAX 4u  /* sizeofSelect: bitmap bytes (TPM2_PCR_SELECT_MAX) */
#define TPM_ATTEST_MAX_PCR_INDEX  31u /* PCR indexes 0..31 (TPM2_MAX_PCRS - 1) */
#define TPM_ATTEST_MAX_PCR_BANKS  4u  /* distinct banks in one selection: the four above */
#define TPM_ATTEST_MAX_PCR_VALUES (TPM_ATTEST_MAX_PCR_BANKS * (TPM_ATTEST_MAX_PCR_INDEX + 1u))
#define TPM_ATTEST_MAX_PCR_DIGEST 64u  /* a PCR value: SHA-512 */
#define TPM_ATTEST_PCR_LIST_MAX   8u   /* digests in one TPML_DIGEST */
#define TPM_ATTEST_MAX_PCR_LISTS  32u  /* TPML_DIGEST lists (tpm2-tools reads at most 32) */
#define TPM_ATTEST_PCR_SEL_BYTES  132u /* sizeof(TPML_PCR_SELECTION) in the file */
#define TPM_ATTEST_PCR_LIST_BYTES 532u /* sizeof(TPML_DIGEST) in the file */
#define TPM_ATTEST_MAX_PCR_FILE                                                                    \
    (TPM_ATTEST_PCR_SEL_BYTES + 4u + TPM_ATTEST_MAX_PCR_LISTS * TPM_ATTEST_PCR_LIST_BYTES)
/* "sha512:31=" + 128 hex digits + NUL: the longest PCR text (tpm_attest_pcr_format). */
#define TPM_ATTEST_PCR_TEXT_MAX (10u + 2u * TPM_ATTEST_MAX_PCR_DIGEST + 1u)

/* A quote proof; every buffer is borrowed. */
struct tpm_attest_quote {
    const uint8_t *attest; /* marshalled TPMS_ATTEST of type TPM_ST_ATTEST_QUOTE */
    size_t attest_len;
    const uint8_t *sig; /* the AK's signature over attest, in sig_format */
    size_t sig_len;
    enum tpm_attest_sig_format sig_format;
    const uint8_t *ak; /* the AK's SPKI, DER or PEM */
    size_t ak_len;
};

/* One PCR value. */
struct tpm_attest_pcr {
    uint16_t bank; /* TPM_ATTEST_ALG_SHA1 ... TPM_ATTEST_ALG_SHA512 */
    uint8_t index; /* 0..TPM_ATTEST_MAX_PCR_INDEX */
    uint8_t len;   /* the bank's digest size */
    uint8_t value[TPM_ATTEST_MAX_PCR_DIGEST];
};

/* PCR values in selection order (bank by bank, ascending index); malloc'd by the parsers. */
struct tpm_attest_pcrs {
    size_t count;
    struct tpm_attest_pcr pcr[TPM_ATTEST_MAX_PCR_VALUES];
};

/* Accepts NULL; returns NULL. */
struct tpm_attest_pcrs *tpm_attest_pcrs_free(struct tpm_attest_pcrs *p);
static inline void tpm_attest_pcrs_freep(struct tpm_attest_pcrs **p)
{
    *p = tpm_attest_pcrs_free(*p);
}

/*
 * Parses a serialized PCR file (layout and rules at the top of this file) into its values, in
 * selection order. Unauthenticated: only tpm_attest_verify_quote() ties them to a quote.
 * -EINVAL malformed, -EMSGSIZE over TPM_ATTEST_MAX_PCR_FILE, -EOPNOTSUPP unknown bank, -ENOMEM.
 */
int tpm_attest_pcrs_parse(const uint8_t *file, size_t len, struct tpm_attest_pcrs **ret);

/*
 * Verifies a quote with its PCR file: the signature over attest with the AK, the magic and
 * type (TPM_ST_ATTEST_QUOTE), extraData == nonce, the PCR file (tpm_attest_pcrs_parse), the
 * quote's TPML_PCR_SELECTION == the file's (same banks in the same order, same PCRs), and
 * pcrDigest == H(the values concatenated in selection order), H the signature's hash. Checked
 * in that order; the first failure is returned (codes at the top of this file; -ENOKEY for a
 * PCR file that is not the quoted one). On success, *ret_values (when ret_values is not NULL)
 * receives the now authenticated values, to free with tpm_attest_pcrs_free().
 */
int tpm_attest_verify_quote(const struct tpm_attest_quote *proof,
                            const uint8_t nonce[static TPM_ATTEST_NONCE_LEN], const uint8_t *pcrs,
                            size_t pcrs_len, struct tpm_attest_pcrs **ret_values);

/* The value of PCR index in bank, or NULL if it is not in p (or p is NULL). */
const struct tpm_attest_pcr *tpm_attest_pcrs_find(const struct tpm_attest_pcrs *p, uint16_t bank,
                                                  unsigned index);

/*
 * Policy check of one expected value: 0 if p holds PCR want->index of bank want->bank with
 * the value want->value; -ENOENT if that PCR was not quoted, -EACCES if it holds another
 * value, -EINVAL for NULL or a want that tpm_attest_pcr_parse would not produce.
 */
int tpm_attest_pcrs_expect(const struct tpm_attest_pcrs *p, const struct tpm_attest_pcr *want);

/*
 * Parses the policy text of one PCR value, "BANK:INDEX=HEX": BANK sha1, sha256, sha384 or
 * sha512; INDEX decimal 0..TPM_ATTEST_MAX_PCR_INDEX without leading zeros; HEX the value,
 * exactly the bank's digest size, either case. No spaces. -EINVAL otherwise, -EMSGSIZE if s is
 * TPM_ATTEST_PCR_TEXT_MAX bytes or longer.
 */
int tpm_attest_pcr_parse(const char *s, struct tpm_attest_pcr *ret);

/*
 * The policy text of pcr, "sha256:7=<lower-case hex>", NUL-terminated into buf (len bytes;
 * TPM_ATTEST_PCR_TEXT_MAX always suffice). -EINVAL for an unknown bank, an index over
 * TPM_ATTEST_MAX_PCR_INDEX or a len that is not the bank's, -ENOBUFS if buf is too small,
 * -ENOMEM; buf is written only on success.
 */
int tpm_attest_pcr_format(const struct tpm_attest_pcr *pcr, char *buf, size_t len);
