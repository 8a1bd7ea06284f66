/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Internal to the measure module (agent/measure*.c); the agent includes measure.h only.
 *
 *   measure.c            peer facts, the JSON document, and the helpers declared here
 *   measure-host.c       host facts, the cgroup and os-release parsers, the "host" member
 *   measure-toolchain.c  the toolchain cache, the "toolchain" member
 *
 * Each file keeps its own structures private and renders its own part of the document with the
 * JSON helpers below; measure_render_json() (measure.c) puts the parts together.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "measure.h"

struct json_object;

/* ---- text and files (measure.c) ---- */

/* Copies a NUL-free src[0..len) into dst (cap bytes with the NUL); false if it does not fit. */
bool measure_copy_str(char *dst, size_t cap, const char *src, size_t len);

/*
 * Reads at most max bytes from path (O_CLOEXEC | O_NOCTTY) into a new NUL-terminated buffer
 * (*ret, free() it; *ret_len without the NUL). *ret_truncated tells whether more bytes followed.
 * With wipe, every buffer given up on the way is wiped first (the caller must wipe the result
 * too). 0, or -errno of open/read, -ENOMEM; outputs written only on success.
 */
int measure_read_text(const char *path, size_t max, bool wipe, char **ret, size_t *ret_len,
                      bool *ret_truncated);

/* ---- JSON members (measure.c); 0 or -ENOMEM ---- */

/* key: null. */
int measure_json_add_null(struct json_object *obj, const char *key);
/*
 * key: the NUL-terminated text s, as a JSON string when it is valid UTF-8, else as
 * {"base64": "..."}: never lossy (see measure.h).
 */
int measure_json_add_text(struct json_object *obj, const char *key, const char *s);
/* The same, but null when s is NULL or empty (an unknown fact). */
int measure_json_add_opt_text(struct json_object *obj, const char *key, const char *s);
/* key: lower-case hex of a MEASURE_SHA256_LEN-byte digest. */
int measure_json_add_sha256(struct json_object *obj, const char *key,
                            const uint8_t d[static MEASURE_SHA256_LEN]);
/* key: the symbolic name of errno value err ("EACCES"), locale-independent. */
int measure_json_add_errno(struct json_object *obj, const char *key, int err);

/* ---- the document's parts ---- */

/* The "host" object of h (measure-host.c). *ret only on success. */
int measure_host_render(const struct measure_host *h, struct json_object **ret);

/* Appends one object per toolchain entry to the array tools; tc NULL appends nothing. */
int measure_toolchain_render(const struct measure_toolchain *tc, struct json_object *tools);
