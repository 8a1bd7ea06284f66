/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzzes the TSS2 PRIVATE KEY parser (tpm/tpm-keyfile.c) and the public-area checks and SPKI
 * builder (tpm/tpm-key.c) on arbitrary bytes, then checks invariants: whatever decodes
 * re-encodes (unless its public type is not a key type) and decodes again to the same blobs.
 * An input not starting with '-' is also wrapped into a PEM block as the DER body, so the
 * fuzzer reaches the DER and blob parsers without having to discover base64.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "format.h"
#include "tpm-key.h"
#include "tpm-keyfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void one(const uint8_t *data, size_t size)
{
    struct tpm_keyfile kf, again;
    enum hwsign_alg alg = HWSIGN_ALG_UNKNOWN;
    uint8_t *spki = NULL;
    size_t spki_len = 0, len = 0;
    char *pem = NULL;

    if (tpm_keyfile_decode(data, size, &kf) < 0)
        return;
    if (tpm_keyfile_encode(&kf, &pem, &len) == 0) {
        if (tpm_keyfile_decode((const uint8_t *)pem, len, &again) < 0 ||
            again.priv.size != kf.priv.size ||
            memcmp(again.priv.buffer, kf.priv.buffer, kf.priv.size) != 0 ||
            again.pub.publicArea.type != kf.pub.publicArea.type)
            abort();
        free(pem);
    }
    if (tpm_key_check_public(&kf.pub.publicArea, &alg) == 0 &&
        tpm_key_spki(&kf.pub.publicArea, &spki, &spki_len) == 0)
        free(spki);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char begin[] = "-----BEGIN TSS2 PRIVATE KEY-----\n",
                      end[] = "\n-----END TSS2 PRIVATE KEY-----\n";
    char *b64 = NULL, *pem = NULL;

    one(data, size);
    if (size == 0 || data[0] == '-' || size > TPM_KEYFILE_MAX / 2)
        return 0;
    if (base64_encode(data, size, &b64) < 0)
        return 0;
    if (asprintf(&pem, "%s%s%s", begin, b64, end) > 0) {
        one((const uint8_t *)pem, strlen(pem));
        free(pem);
    }
    free(b64);
    return 0;
}
