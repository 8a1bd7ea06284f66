/* SPDX-License-Identifier: Apache-2.0 */
/* The PKCS#11 key backend (libp11). The one header of pkcs11/ that agent/ includes. */
#pragma once

#include "key-backend.h"
#include "secret.h"

struct p11_config {
    const char *name;   /* instance name (config section) */
    const char *module; /* module path as configured; canonicalised and checked */
    const char *token;  /* token label */
    struct secret *pin; /* user PIN; ownership passes to the backend on success */
    /* Directories a module may live in (after realpath); NULL = the default list below. */
    const char *const *module_dirs;
};

/* Default module directories: /usr/lib, /usr/lib64, /usr/local/lib, /opt. */
extern const char *const p11_default_module_dirs[];

/*
 * Validate the configuration (module path canonicalised with realpath, inside module_dirs,
 * root-owned (or owned by the agent's euid) and not writable by group or others) and create
 * the instance. Does not load the module: open() does, on the worker thread.
 * -EPERM for a module outside the allowlist or with unsafe ownership, -ENOENT if missing.
 */
int p11_backend_new(const struct p11_config *cfg, struct key_backend **ret);

/*
 * Same as p11_backend_new(); on failure also writes a one-line reason (no secrets) to err when
 * err is non-NULL, since there is no instance whose last_error() could hold it.
 */
int p11_backend_new_err(const struct p11_config *cfg, struct key_backend **ret, char *err,
                        size_t err_len);
