/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Registered keys: name -> backend instance, locator, algorithm and cached public key.
 * Each key is one small text file STATE_DIR/keys/NAME.key, replaced atomically; the cached
 * public key is what every signature is verified against before release.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <hwsign/protocol.h>

#define KEYSTORE_MAX_FILE 8192u

struct key_record {
    char name[HWSIGN_MAX_NAME + 1];
    char backend[HWSIGN_MAX_NAME + 1];
    char kind[HWSIGN_MAX_NAME + 1];
    enum hwsign_alg alg;
    char locator[HWSIGN_MAX_URI + 1];
    uint64_t created;
    uint8_t spki[HWSIGN_MAX_SPKI];
    size_t spki_len;
    bool pending; /* name reserved by an in-flight create/add; not usable yet */
    /* spki parsed once (owned by the key store; jobs take their own reference). */
    struct evp_pkey_st *pub;
};

struct keystore;

/*
 * Open (creating STATE_DIR/keys with mode 0700 if needed) and load every record. A record that
 * cannot be parsed is reported through *ret_bad (count) and skipped, never deleted.
 */
int keystore_open(const char *state_dir, struct keystore **ret, unsigned *ret_bad);
struct keystore *keystore_free(struct keystore *ks);

size_t keystore_count(const struct keystore *ks);
const struct key_record *keystore_at(const struct keystore *ks, size_t i);
const struct key_record *keystore_find(const struct keystore *ks, const char *name);

/* Reserve a name for an in-flight create/add: -EEXIST if taken, -EUSERS past HWSIGN_MAX_KEYS. */
int keystore_reserve(struct keystore *ks, const char *name);
void keystore_unreserve(struct keystore *ks, const char *name);
/* Complete a reservation: persist rec (fsync'd) and make it usable. */
int keystore_commit(struct keystore *ks, const struct key_record *rec);
/* Remove the record file and the entry. -ENOKEY if absent. */
int keystore_remove(struct keystore *ks, const char *name);

/* Record file text <-> record (exposed for tests and fuzzing). */
int key_record_parse(const char *text, size_t len, struct key_record *ret);
int key_record_format(const struct key_record *rec, char **ret_text, size_t *ret_len);
