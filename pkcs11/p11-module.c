/* SPDX-License-Identifier: Apache-2.0 */
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>

#include "macro.h"
#include "p11-module.h"
#include "p11-rv.h"
#include "pkcs11.h"

const char *const p11_default_module_dirs[] = {"/usr/lib", "/usr/lib64", "/usr/local/lib", "/opt",
                                               NULL};

static pthread_mutex_t p11_mutex = PTHREAD_MUTEX_INITIALIZER;

/* Loaded modules, guarded by p11_mutex. */
static struct module_ref {
    char *path;
    PKCS11_CTX *ctx;
    unsigned refs;
} modules[P11_MAX_MODULES];

void p11_lock(void)
{
    pthread_mutex_lock(&p11_mutex);
}

void p11_unlock(void)
{
    pthread_mutex_unlock(&p11_mutex);
}

_printf_(3, 4) static void set_err(char *err, size_t len, const char *fmt, ...)
{
    va_list ap;

    if (!err || len == 0)
        return;
    va_start(ap, fmt);
    if (vsnprintf(err, len, fmt, ap) < 0)
        err[0] = '\0';
    va_end(ap);
}

/* Owned by root or us, and not writable by group or others. */
static bool owner_mode_ok(const struct stat *st)
{
    return (st->st_uid == 0 || st->st_uid == geteuid()) && (st->st_mode & (S_IWGRP | S_IWOTH)) == 0;
}

/* If real lies below dir (a canonical directory), the length of dir's prefix, else 0. */
static size_t under_dir(const char *real, const char *dir)
{
    size_t n = strlen(dir);

    if (n == 1 && dir[0] == '/')
        return 1;
    if (strncmp(real, dir, n) == 0 && real[n] == '/')
        return n;
    return 0;
}

/* Checks dir and every directory below it on the way to real's parent. */
static int check_dirs(char *real, size_t prefix, char *err, size_t err_len)
{
    char *slash = real + prefix;

    for (;;) {
        struct stat st;
        char saved = *slash;

        *slash = '\0';
        int r = stat(slash == real ? "/" : real, &st);
        if (r < 0) {
            r = -errno;
            set_err(err, err_len, "cannot stat module directory %s: %s", slash == real ? "/" : real,
                    strerror(errno));
        } else if (!owner_mode_ok(&st)) {
            r = -EPERM;
            set_err(err, err_len,
                    "module directory %s must be owned by root (or uid %u) and not writable by "
                    "group or others",
                    slash == real ? "/" : real, (unsigned)geteuid());
        }
        *slash = saved;
        if (r < 0)
            return r;
        slash = strchr(slash + 1, '/');
        if (!slash)
            return 0;
    }
}

int p11_module_check(const char *path, const char *const *dirs, char **ret_realpath, char *err,
                     size_t err_len)
{
    _cleanup_free_ char *real = NULL;
    size_t prefix = 0;
    struct stat st;
    int r;

    if (!path || !ret_realpath) {
        set_err(err, err_len, "no module path configured");
        return -EINVAL;
    }
    if (!dirs)
        dirs = p11_default_module_dirs;
    real = realpath(path, NULL);
    if (!real) {
        r = errno == ENOMEM ? -ENOMEM : errno == ENOENT || errno == ENOTDIR ? -ENOENT : -EPERM;
        set_err(err, err_len, "module %s: %s", path, strerror(errno));
        return r;
    }
    for (size_t i = 0; dirs[i] && prefix == 0; i++) {
        _cleanup_free_ char *d = realpath(dirs[i], NULL);
        if (d)
            prefix = under_dir(real, d);
    }
    if (prefix == 0) {
        set_err(err, err_len, "module %s (%s) is outside the allowed module directories", path,
                real);
        return -EPERM;
    }
    if (stat(real, &st) < 0) {
        set_err(err, err_len, "module %s: %s", real, strerror(errno));
        return -ENOENT;
    }
    if (!S_ISREG(st.st_mode)) {
        set_err(err, err_len, "module %s is not a regular file", real);
        return -EPERM;
    }
    if (!owner_mode_ok(&st)) {
        set_err(err, err_len,
                "module %s must be owned by root (or uid %u) and not writable by group or "
                "others",
                real, (unsigned)geteuid());
        return -EPERM;
    }
    r = check_dirs(real, prefix == 1 ? 0 : prefix, err, err_len);
    if (r < 0)
        return r == -ENOENT ? -ENOENT : -EPERM;
    *ret_realpath = TAKE_PTR(real);
    return 0;
}

int p11_module_acquire(const char *realpath, PKCS11_CTX **ret_ctx, CK_RV *ret_rv)
{
    struct module_ref *free_slot = NULL;
    PKCS11_CTX *ctx;
    char *path;

    for (size_t i = 0; i < P11_MAX_MODULES; i++) {
        if (modules[i].path && streq(modules[i].path, realpath)) {
            modules[i].refs++;
            *ret_ctx = modules[i].ctx;
            return 0;
        }
        if (!modules[i].path && !free_slot)
            free_slot = &modules[i];
    }
    if (!free_slot) {
        *ret_rv = P11_RV_NONE;
        return -EMFILE;
    }
    path = strdup(realpath);
    ERR_clear_error();
    ctx = path ? PKCS11_CTX_new() : NULL;
    if (!ctx) {
        free(path);
        *ret_rv = CKR_HOST_MEMORY;
        return -ENOMEM;
    }
    if (PKCS11_CTX_load(ctx, realpath) < 0) {
        *ret_rv = p11_rv_take();
        PKCS11_CTX_free(ctx);
        free(path);
        return -ENODEV;
    }
    *free_slot = (struct module_ref){path, ctx, 1};
    *ret_ctx = ctx;
    return 0;
}

void p11_module_release(PKCS11_CTX *ctx)
{
    if (!ctx)
        return;
    for (size_t i = 0; i < P11_MAX_MODULES; i++) {
        if (modules[i].ctx != ctx)
            continue;
        if (--modules[i].refs > 0)
            return;
        PKCS11_CTX_unload(ctx);
        PKCS11_CTX_free(ctx);
        free(modules[i].path);
        modules[i] = (struct module_ref){0};
        ERR_clear_error(); /* C_Finalize on a vanished device may leave noise */
        return;
    }
}

int p11_module_function_list(const char *realpath, CK_FUNCTION_LIST **ret)
{
    CK_C_GetFunctionList get;
    CK_FUNCTION_LIST *fl = NULL;
    void *h;

    h = dlopen(realpath, RTLD_NOW | RTLD_NOLOAD);
    if (!h)
        return -ENOENT;
    /* The module stays loaded by libp11's own handle; ours only added a reference. */
    *(void **)&get = dlsym(h, "C_GetFunctionList");
    if (!get || get(&fl) != CKR_OK || !fl) {
        dlclose(h);
        return -ENODEV;
    }
    dlclose(h);
    *ret = fl;
    return 0;
}
