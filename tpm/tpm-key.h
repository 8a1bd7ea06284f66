/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Storage primary (SRK), key creation and loading, and the public-area rules (internal).
 *
 * SRK decision: the SRK is re-created at every open() with TPM2_CreatePrimary under
 * TPM_RH_OWNER from a fixed template, never persisted. A primary key is derived from the
 * hierarchy seed and the template, so the same template gives the same key on the same TPM
 * (until `tpm2 clear` changes the owner seed, which voids every key file anyway). Re-creating
 *  - needs no NV write, no persistent handle to provision or to collide with other software,
 *    and no owner authorization beyond the empty one (EvictControl would need it);
 *  - is exactly what tpm2-openssl does for a key file whose parent is 0x40000001, so our key
 *    files load there (and theirs here) only if we use its template: tpm2-openssl 1.1.1
 *    (Debian 12), src/tpm2-provider-pkey.c, primaryEccTemplate / tpm2_build_primary(), chosen
 *    whenever the TPM supports ECC — the TPM2B_PUBLIC below has the same content;
 *  - costs one CreatePrimary per open() (ms on swtpm, tens to hundreds of ms on a chip), and
 *    the SRK occupies one transient slot while open.
 * The SRK has an empty auth and noDA, like every key we create; the owner hierarchy's auth is
 * checked to be empty (TPMA_PERMANENT_OWNERAUTHSET clear) before we use it, so we never send
 * an auth value we are not sure of. Hierarchy auths are DA-exempt in any case.
 *
 * Keys: children of the SRK with fixedTPM | fixedParent | sensitiveDataOrigin | userWithAuth
 * | sign | noDA, empty auth, NULL scheme (the scheme and hash are chosen per signature):
 * ECC P-256, ECC P-384, RSA 3072 (exponent 65537).
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include <hwsign/protocol.h>
#include <tss2/tss2_esys.h>

#include "tpm-context.h"
#include "tpm-keyfile.h"

/* The tpm2-openssl-compatible SRK template (exposed for tests). */
extern const TPM2B_PUBLIC tpm_srk_template;

/*
 * Creates the SRK (transient). Refuses (-EACCES, nothing sent with an auth) when the owner
 * hierarchy has an auth value set.
 */
int tpm_key_create_srk(struct tpm_context *c, ESYS_TR *ret);

/* Creates a child key of alg under srk; it is not loaded. *ret is written only on success. */
int tpm_key_create(struct tpm_context *c, ESYS_TR srk, enum hwsign_alg alg,
                   struct tpm_keyfile *ret);

/*
 * Loads a key file's blobs under srk. A blob that does not fit this TPM's SRK (another TPM,
 * owner seed cleared, corrupted) gives -ENOKEY.
 */
int tpm_key_load(struct tpm_context *c, ESYS_TR srk, const struct tpm_keyfile *kf, ESYS_TR *ret);

/*
 * Checks a public area against what the backend can use safely and returns its algorithm:
 * a signing key (sign set, restricted clear) with userWithAuth and noDA (so an empty-auth
 * attempt can never count against the dictionary-attack counter), ECC P-256 / P-384 or
 * RSA 3072, NULL or plain ECDSA / RSASSA / RSAPSS scheme. -EOPNOTSUPP otherwise.
 */
int tpm_key_check_public(const TPMT_PUBLIC *pub, enum hwsign_alg *ret_alg);

/* DER SubjectPublicKeyInfo of a checked public area (OpenSSL 3 EVP_PKEY_fromdata). */
int tpm_key_spki(const TPMT_PUBLIC *pub, uint8_t **ret_spki, size_t *ret_len);
