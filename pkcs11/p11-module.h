/* SPDX-License-Identifier: Apache-2.0 */
/*
 * PKCS#11 modules: allowlisted loading, lifecycle, and the process-wide libp11 lock.
 *
 * A module is untrusted code (STYLE 19): it is loaded only from a path that realpath() puts
 * inside an allowed directory, owned by root or the agent's euid and not writable by group or
 * others, with every directory from the allowed one down to the file held to the same rule.
 *
 * libp11 0.4.12 is not safe for concurrent use (races fixed only in 0.4.20), so every call
 * into libp11 or a module function list, from any backend instance, happens under the one
 * lock.
 *
 * Contexts are shared: all instances using one module path hold references to one
 * PKCS11_CTX (the module is a process-wide singleton anyway: one C_Initialize/C_Finalize
 * state). The last release unloads it, which calls C_Finalize; that is also what makes
 * SoftHSM rescan its token directory after a token error. Instances enumerate slots on the
 * shared context themselves. Two instances on the same token share the module's login state
 * and each closing one closes all sessions of that slot (C_CloseAllSessions): configure one
 * instance per token.
 *
 * No fork() happens in pkcs11/; the agent must not fork after loading a module.
 */
#pragma once

#include <stddef.h>

#include <libp11.h>
#include <p11-kit/pkcs11.h>

#define P11_ERR_MAX     256u /* last-error and detail texts */
#define P11_MAX_MODULES 16u  /* distinct modules loaded at once (HWSIGN_MAX_BACKENDS) */

/* The process-wide libp11 lock. Not recursive. */
void p11_lock(void);
void p11_unlock(void);

/*
 * Canonicalises path and checks it as described above. dirs is a NULL-terminated list (NULL
 * for p11_default_module_dirs); directories that do not exist are skipped. On success
 * *ret_realpath is a new string. -ENOENT if the module is missing, -EPERM when outside the
 * allowlist, not a regular file, wrongly owned or writable by group/others (err says which),
 * -ENOMEM. err (may be NULL) receives a one-line reason on failure.
 */
int p11_module_check(const char *path, const char *const *dirs, char **ret_realpath, char *err,
                     size_t err_len);

/*
 * A reference to the context of the module at realpath, loading it (PKCS11_CTX_new +
 * PKCS11_CTX_load: dlopen, C_GetFunctionList, C_Initialize) if no instance holds it yet.
 * Caller holds p11_lock. -ENOMEM, -EMFILE past P11_MAX_MODULES modules, or -ENODEV with the
 * CK_RV (P11_RV_NONE if libp11 gave none) in *ret_rv.
 */
int p11_module_acquire(const char *realpath, PKCS11_CTX **ret_ctx, CK_RV *ret_rv);

/*
 * Drops a reference; the last one unloads the module (PKCS11_CTX_unload: C_Finalize, dlclose;
 * PKCS11_CTX_free). Caller holds p11_lock and has released its slots. NULL ok.
 */
void p11_module_release(PKCS11_CTX *ctx);

/*
 * The function list of the module libp11 already loaded from realpath (dlopen with
 * RTLD_NOLOAD, so nothing new is loaded). Valid while that context stays loaded. Callers must
 * never call C_Initialize or C_Finalize through it (libp11 owns them). -ENOENT if the module
 * is not loaded, -ENODEV if it has no usable C_GetFunctionList.
 */
int p11_module_function_list(const char *realpath, CK_FUNCTION_LIST **ret);
