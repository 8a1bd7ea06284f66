/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Key record fuzzer: key_record_parse on the input; an accepted record formats and parses
 * back to the same record.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "keystore.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct key_record r, r2;
    char *text = NULL;
    size_t len;

    if (key_record_parse((const char *)data, size, &r) < 0)
        return 0;
    if (r.spki_len == 0 || r.spki_len > HWSIGN_MAX_SPKI || !r.name[0] || r.pending)
        abort();
    if (key_record_format(&r, &text, &len) < 0)
        abort();
    if (key_record_parse(text, len, &r2) < 0)
        abort();
    if (strcmp(r.name, r2.name) != 0 || strcmp(r.locator, r2.locator) != 0 || r.alg != r2.alg ||
        r.created != r2.created || r.spki_len != r2.spki_len ||
        memcmp(r.spki, r2.spki, r.spki_len) != 0)
        abort();
    free(text);
    return 0;
}
