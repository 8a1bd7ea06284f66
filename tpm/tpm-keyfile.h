/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The TSS2 PRIVATE KEY file ("TPM 2.0 key file", as written by tpm2-openssl and
 * openssl_tpm2_engine): PEM label "TSS2 PRIVATE KEY" around the DER of
 *
 *   TPMKey ::= SEQUENCE {
 *       type        OBJECT IDENTIFIER,          -- 2.23.133.10.1.3 loadable key
 *       emptyAuth   [0] EXPLICIT BOOLEAN OPTIONAL,
 *       parent      INTEGER,                    -- 0x40000001: primary under TPM_RH_OWNER
 *       pubkey      OCTET STRING,               -- marshalled TPM2B_PUBLIC
 *       privkey     OCTET STRING }              -- marshalled TPM2B_PRIVATE
 *
 * Pure code (no TPM I/O): the decoder parses untrusted file contents and is fuzzed
 * (tests/fuzz/fuzz-tpm-keyfile.c). The subset hwsign writes is the subset it reads: one PEM
 * block and nothing but whitespace after it, canonical DER lengths, emptyAuth TRUE, parent
 * 0x40000001, no optional policy/secret fields, both blobs consumed exactly by the
 * tpm2-tss unmarshallers. One BER leniency: emptyAuth TRUE may be any non-zero byte, since
 * tpm2-openssl 1.1.1 writes 0x01 (we write DER 0xff, which it reads as TRUE).
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include <tss2/tss2_tpm2_types.h>

#define TPM_KEYFILE_MAX       16384u /* key file bytes (a 3072-bit RSA key file is ~2.5 KiB) */
#define TPM_KEYFILE_PARENT    TPM2_RH_OWNER /* the only parent we write and accept */
#define TPM_KEYFILE_PEM_LABEL "TSS2 PRIVATE KEY"

struct tpm_keyfile {
    TPM2B_PUBLIC pub;
    TPM2B_PRIVATE priv;
};

/*
 * PEM text (NUL-terminated, 64-column base64, trailing newline) of kf, emptyAuth TRUE, parent
 * TPM_KEYFILE_PARENT. -EINVAL if a blob is empty or does not marshal, -ENOMEM.
 */
int tpm_keyfile_encode(const struct tpm_keyfile *kf, char **ret_pem, size_t *ret_len);

/*
 * Parses a key file. -EMSGSIZE over TPM_KEYFILE_MAX; -EBADMSG for anything malformed (PEM
 * framing, label, base64, DER, blob marshalling, trailing bytes); -EOPNOTSUPP for a well-formed
 * key file hwsign does not use: another key type (importable, sealed), emptyAuth FALSE or
 * absent (the key needs an auth value), a parent other than TPM_KEYFILE_PARENT, or policy /
 * secret fields. *ret is written only on success.
 */
int tpm_keyfile_decode(const uint8_t *data, size_t len, struct tpm_keyfile *ret);
