/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A fake key backend for agent tests and the dispatcher fuzzer: implements key_backend_ops with
 * a real OpenSSL P-256 key, so the agent's verify-after-sign passes, plus modes that return a
 * signature that does not verify, report the device absent (-ENODEV), or block inside sign()
 * until released (a stuck device). Thread-safe: the mode is changed from the test thread while
 * the agent's worker thread calls the ops.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "key-backend.h"
#include "keystore.h"

#define FAKE_KIND           "fake"
#define FAKE_LOCATOR_PREFIX "fake:"

enum fake_mode {
    FAKE_OK,          /* sign correctly */
    FAKE_WRONG,       /* return a well-formed ECDSA signature over another digest */
    FAKE_UNAVAILABLE, /* open() and every op fail with -ENODEV, health UNAVAILABLE */
    FAKE_SLOW,        /* sign() blocks until fake_backend_release() or slow_ms passed */
};

struct fake_backend;

/* New instance named name with its own fresh P-256 key. NULL on failure. */
struct fake_backend *fake_backend_new(const char *name);
/* Releases a blocked call first. Accepts NULL; returns NULL. */
struct fake_backend *fake_backend_free(struct fake_backend *f);
struct key_backend *fake_backend_base(struct fake_backend *f);

void fake_backend_set_mode(struct fake_backend *f, enum fake_mode mode, unsigned slow_ms);
/* Wake every call blocked in FAKE_SLOW (and make later ones return at once until re-armed). */
void fake_backend_release(struct fake_backend *f);
/* Wait until sign() has been entered at least n times in total; false after timeout_ms. */
bool fake_backend_wait_entered(struct fake_backend *f, unsigned n, unsigned timeout_ms);
unsigned fake_backend_sign_calls(struct fake_backend *f);

/* DER SPKI of the instance's key. */
const uint8_t *fake_backend_spki(const struct fake_backend *f, size_t *ret_len);
/* A key record for key name on this instance (what keystore_commit expects). */
void fake_backend_record(const struct fake_backend *f, const char *name, struct key_record *ret);
/* Sign digest with the instance's key (DER ECDSA), for tests that need a reference. */
int fake_backend_sign_raw(struct fake_backend *f, const uint8_t *digest, size_t digest_len,
                          uint8_t *sig, size_t *sig_len);
