/* SPDX-License-Identifier: Apache-2.0 */
/*
 * note_parse and note_vkey_parse on arbitrary bytes. An accepted note is valid note text,
 * within the limits, and re-assembles from its text and note_format_signature lines to exactly
 * the input (the grammar is canonical). An accepted vkey re-formats to exactly the input.
 * Verification with a fixed P-256 key must only ever reject fuzzed signatures.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "macro.h"
#include "note.h"

#define CHECK(x)                                                                                   \
    do {                                                                                           \
        if (!(x)) {                                                                                \
            fprintf(stderr, "fuzz-note: check failed at line %d: %s\n", __LINE__, #x);             \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static EVP_PKEY *ec_key, *ed_key;

static void check_vkey(const uint8_t *data, size_t size)
{
    _cleanup_(note_vkey_freep) struct note_vkey *k = NULL;
    _cleanup_free_ char *again = NULL;
    int r;

    r = note_vkey_parse((const char *)data, size, &k);
    if (r < 0) {
        CHECK(r == -EINVAL || r == -EMSGSIZE);
        return;
    }
    CHECK(note_vkey_format(k->name, k->keyid, k->sigtype, k->key, k->key_len, &again) == 0);
    CHECK(strlen(again) == size && memcmp(again, data, size) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    _cleanup_(note_freep) struct note *n = NULL;
    _cleanup_free_ char *buf = NULL;
    const char *text;
    size_t text_len, nsig, pos;
    int r;

    if (!ec_key) {
        ec_key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
        ed_key = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
        CHECK(ec_key && ed_key);
    }
    check_vkey(data, size);

    r = note_parse((const char *)data, size, &n);
    if (r < 0) {
        CHECK(r == -EINVAL || r == -EMSGSIZE);
        CHECK(!n);
        return 0;
    }
    CHECK(size <= NOTE_MAX_SIZE && note_text_valid((const char *)data, size));
    text = note_text(n, &text_len);
    nsig = note_n_signatures(n);
    CHECK(text_len > 0 && text[text_len - 1] == '\n' && strlen(text) == text_len);
    CHECK(nsig >= 1 && nsig <= NOTE_MAX_SIGNATURES);
    CHECK(memcmp(text, data, text_len) == 0 && data[text_len] == '\n');

    buf = malloc(size + 1);
    CHECK(buf);
    memcpy(buf, text, text_len);
    buf[text_len] = '\n';
    pos = text_len + 1;
    for (size_t i = 0; i < nsig; i++) {
        _cleanup_free_ char *line = NULL;
        const char *name;
        const uint8_t *sig;
        size_t sig_len, line_len = 0;
        uint32_t id;

        CHECK(note_signature(n, i, &name, &id, &sig, &sig_len) == 0);
        CHECK(sig_len >= 1 && sig_len <= NOTE_MAX_SIG - NOTE_KEYID_SIZE);
        CHECK(note_format_signature(name, id, sig, sig_len, &line, &line_len) == 0);
        CHECK(pos + line_len <= size && memcmp(line, data + pos, line_len) == 0);
        pos += line_len;

        /* The signature's own (name, id) made known, with a key that never signed it. */
        {
            struct note_verifier v[2] = {{.name = name, .keyid = id, .pkey = ec_key},
                                         {.name = name, .keyid = id, .pkey = ed_key}};
            CHECK(note_verify(n, v, 1, NULL) == -EBADMSG);
            CHECK(note_verify(n, v + 1, 1, NULL) == -EBADMSG);
        }
    }
    CHECK(pos == size);
    CHECK(note_signature(n, nsig, NULL, NULL, NULL, NULL) == -ERANGE);
    return 0;
}
