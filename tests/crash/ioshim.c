/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ioshim.so: LD_PRELOAD I/O recorder for one file (format and contract: ioshim.h).
 *
 * Every interposed function first checks, with one atomic load, whether its descriptor is
 * tracked; untracked calls go straight to libc, so the shim costs nothing measurable on
 * sockets, pipes and other files. Tracked calls run under one mutex with all signals blocked:
 * the offset of the write is taken, the real call made and the record written before the lock
 * is released, so the trace order is the order the kernel saw. Records go to the trace with
 * libc's write() (resolved with dlsym(RTLD_NEXT)), never through our own wrappers.
 *
 * Under a sanitizer build the executable carries its own interceptors for some of these
 * functions; they call "the next" definition (dlsym RTLD_NEXT), which is ours, so the chain
 * program -> sanitizer -> shim -> libc holds.
 */
#undef _FORTIFY_SOURCE /* the fortify wrappers would clash with our definitions of open etc. */
#define _GNU_SOURCE
#include "ioshim.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

/* Entry points glibc declares only under _FORTIFY_SOURCE; we interpose them too. */
int __open_2(const char *path, int flags);
int __open64_2(const char *path, int flags);
int __openat_2(int dirfd, const char *path, int flags);
int __openat64_2(int dirfd, const char *path, int flags);

#define IOSHIM_PATH_MAX 4096u
#define IOSHIM_CHUNK    (64u * 1024u) /* snapshot read size */

/* A read-only view of bytes to record (struct iovec has a non-const base). */
struct cvec {
    const void *p;
    size_t n;
};

static struct {
    int (*open)(const char *, int, ...);
    int (*openat)(int, const char *, int, ...);
    int (*dup)(int);
    int (*dup2)(int, int);
    int (*dup3)(int, int, int);
    int (*fcntl)(int, int, ...);
    int (*close)(int);
    int (*close_range)(unsigned int, unsigned int, int);
    void (*closefrom)(int);
    ssize_t (*write)(int, const void *, size_t);
    ssize_t (*pwrite)(int, const void *, size_t, off_t);
    ssize_t (*writev)(int, const struct iovec *, int);
    ssize_t (*pwritev)(int, const struct iovec *, int, off_t);
    ssize_t (*pwritev2)(int, const struct iovec *, int, off_t, int);
    int (*ftruncate)(int, off_t);
    int (*fallocate)(int, int, off_t, off_t);
    int (*posix_fallocate)(int, off_t, off_t);
    int (*fsync)(int);
    int (*fdatasync)(int);
    int (*sync_file_range)(int, off_t, off_t, unsigned int);
} real;

static pthread_once_t resolve_once = PTHREAD_ONCE_INIT;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static char target[IOSHIM_PATH_MAX];
static bool enabled;                    /* set once by the constructor; read-only afterwards */
static int trace_fd = -1;               /* atomic: read without the lock by close() */
static bool broken;                     /* a trace write failed: stop recording (under lock) */
static uint64_t seq;                    /* under lock */
static uint8_t tracked[IOSHIM_MAX_FDS]; /* atomic bytes: 1 = descriptor on the target */

static void *next_sym(const char *name)
{
    return dlsym(RTLD_NEXT, name);
}

static void resolve(void)
{
    real.open = (int (*)(const char *, int, ...))next_sym("open");
    real.openat = (int (*)(int, const char *, int, ...))next_sym("openat");
    real.dup = (int (*)(int))next_sym("dup");
    real.dup2 = (int (*)(int, int))next_sym("dup2");
    real.dup3 = (int (*)(int, int, int))next_sym("dup3");
    real.fcntl = (int (*)(int, int, ...))next_sym("fcntl");
    real.close = (int (*)(int))next_sym("close");
    real.close_range = (int (*)(unsigned int, unsigned int, int))next_sym("close_range");
    real.closefrom = (void (*)(int))next_sym("closefrom");
    real.write = (ssize_t(*)(int, const void *, size_t))next_sym("write");
    real.pwrite = (ssize_t(*)(int, const void *, size_t, off_t))next_sym("pwrite");
    real.writev = (ssize_t(*)(int, const struct iovec *, int))next_sym("writev");
    real.pwritev = (ssize_t(*)(int, const struct iovec *, int, off_t))next_sym("pwritev");
    real.pwritev2 = (ssize_t(*)(int, const struct iovec *, int, off_t, int))next_sym("pwritev2");
    real.ftruncate = (int (*)(int, off_t))next_sym("ftruncate");
    real.fallocate = (int (*)(int, int, off_t, off_t))next_sym("fallocate");
    real.posix_fallocate = (int (*)(int, off_t, off_t))next_sym("posix_fallocate");
    real.fsync = (int (*)(int))next_sym("fsync");
    real.fdatasync = (int (*)(int))next_sym("fdatasync");
    real.sync_file_range = (int (*)(int, off_t, off_t, unsigned int))next_sym("sync_file_range");
}

static void ensure(void)
{
    (void)pthread_once(&resolve_once, resolve);
}

/* A missing libc function: fail the call as the kernel would for an unknown syscall. */
#define NEED(fn, fail)                                                                             \
    do {                                                                                           \
        ensure();                                                                                  \
        if (!real.fn) {                                                                            \
            errno = ENOSYS;                                                                        \
            return fail;                                                                           \
        }                                                                                          \
    } while (0)

static bool is_tracked(int fd)
{
    return enabled && fd >= 0 && (unsigned)fd < IOSHIM_MAX_FDS &&
           __atomic_load_n(&tracked[fd], __ATOMIC_ACQUIRE);
}

static void set_tracked(int fd, bool on)
{
    if (fd >= 0 && (unsigned)fd < IOSHIM_MAX_FDS)
        __atomic_store_n(&tracked[fd], on ? 1 : 0, __ATOMIC_RELEASE);
}

static int get_trace_fd(void)
{
    return __atomic_load_n(&trace_fd, __ATOMIC_ACQUIRE);
}

struct guard {
    sigset_t old;
};

static void enter(struct guard *g)
{
    sigset_t all;
    (void)sigfillset(&all);
    (void)pthread_sigmask(SIG_BLOCK, &all, &g->old);
    (void)pthread_mutex_lock(&lock);
}

static void leave(struct guard *g)
{
    (void)pthread_mutex_unlock(&lock);
    (void)pthread_sigmask(SIG_SETMASK, &g->old, NULL);
}

static bool write_full(int fd, const void *p, size_t n)
{
    const uint8_t *b = p;
    while (n > 0) {
        ssize_t w = real.write(fd, b, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return false;
        b += w;
        n -= (size_t)w;
    }
    return true;
}

static void complain(const char *what)
{
    char line[IOSHIM_PATH_MAX + 128];
    int n = snprintf(line, sizeof(line), "ioshim: %s: tracing disabled\n", what);
    if (n > 0 && real.write)
        (void)!real.write(STDERR_FILENO, line, (size_t)n < sizeof(line) ? (size_t)n : 0);
}

/* Append one record and, when v is given (writes, snapshot), its data: the first len bytes of
 * v[0..nv). Without v, len is only a field (a range length). Under the lock. */
static void emit(uint32_t op, uint32_t call, int fd, uint32_t arg, uint64_t off, uint64_t len,
                 int64_t result, const struct cvec *v, size_t nv)
{
    struct ioshim_rec r = {
            .op = op, .call = call, .fd = fd, .arg = arg, .off = off, .len = len, .result = result};
    int tfd = get_trace_fd();
    uint64_t left = len;

    if (broken || tfd < 0)
        return;
    broken = true; /* until the whole record is out: a failure below leaves it set */
    r.seq = seq++;
    if (!write_full(tfd, &r, sizeof(r)))
        goto out;
    for (size_t i = 0; v && i < nv && left > 0; i++) {
        size_t n = v[i].n < left ? v[i].n : (size_t)left;
        if (n && !write_full(tfd, v[i].p, n))
            goto out;
        left -= n;
    }
    /* left > 0 cannot happen (callers pass len <= the bytes in v): the trace would be cut. */
    broken = v && left > 0;
out:
    if (broken)
        complain("cannot write the trace (it ends here)");
}

static void emit_simple(uint32_t op, uint32_t call, int fd, uint32_t arg, uint64_t off,
                        uint64_t len, int64_t result)
{
    emit(op, call, fd, arg, off, len, result, NULL, 0);
}

static int64_t result_of(long r, int err)
{
    return r < 0 ? -(int64_t)err : (int64_t)r;
}

/* The inode of fd is the target's (the target is stat'ed now: it may have just been created). */
static bool is_target_fd(int fd)
{
    struct stat a, b;
    return fstat(fd, &a) == 0 && S_ISREG(a.st_mode) && stat(target, &b) == 0 &&
           a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

/* Called after every successful open: start tracking fd if it is the target. */
static int after_open(uint32_t call, int fd, int flags)
{
    struct guard g;
    struct stat st;
    int saved = errno;

    if (fd < 0 || !enabled || !is_target_fd(fd))
        return fd;
    enter(&g);
    if ((unsigned)fd >= IOSHIM_MAX_FDS) {
        emit_simple(IOSHIM_OP_LOST, call, fd, IOSHIM_LOST_FD_RANGE, 0, 0, 0);
    } else {
        if (flags & O_TRUNC)
            emit_simple(IOSHIM_OP_TRUNCATE, call, fd, 0, 0, 0, 0);
        set_tracked(fd, true);
        emit_simple(IOSHIM_OP_OPEN, call, fd, (uint32_t)flags,
                    fstat(fd, &st) == 0 ? (uint64_t)st.st_size : 0, 0, fd);
    }
    leave(&g);
    errno = saved;
    return fd;
}

static mode_t mode_arg(int flags, va_list ap)
{
    return (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE ? (mode_t)va_arg(ap, int) : 0;
}

int open(const char *path, int flags, ...)
{
    va_list ap;
    mode_t mode;

    NEED(open, -1);
    va_start(ap, flags);
    mode = mode_arg(flags, ap);
    va_end(ap);
    return after_open(IOSHIM_CALL_OPEN, real.open(path, flags, mode), flags);
}

int open64(const char *path, int flags, ...)
{
    va_list ap;
    mode_t mode;

    NEED(open, -1);
    va_start(ap, flags);
    mode = mode_arg(flags, ap);
    va_end(ap);
    return after_open(IOSHIM_CALL_OPEN, real.open(path, flags | O_LARGEFILE, mode), flags);
}

int __open_2(const char *path, int flags)
{
    NEED(open, -1);
    return after_open(IOSHIM_CALL_OPEN, real.open(path, flags), flags);
}

int __open64_2(const char *path, int flags)
{
    NEED(open, -1);
    return after_open(IOSHIM_CALL_OPEN, real.open(path, flags | O_LARGEFILE), flags);
}

int openat(int dirfd, const char *path, int flags, ...)
{
    va_list ap;
    mode_t mode;

    NEED(openat, -1);
    va_start(ap, flags);
    mode = mode_arg(flags, ap);
    va_end(ap);
    return after_open(IOSHIM_CALL_OPENAT, real.openat(dirfd, path, flags, mode), flags);
}

int openat64(int dirfd, const char *path, int flags, ...)
{
    va_list ap;
    mode_t mode;

    NEED(openat, -1);
    va_start(ap, flags);
    mode = mode_arg(flags, ap);
    va_end(ap);
    return after_open(IOSHIM_CALL_OPENAT, real.openat(dirfd, path, flags | O_LARGEFILE, mode),
                      flags);
}

int __openat_2(int dirfd, const char *path, int flags)
{
    NEED(openat, -1);
    return after_open(IOSHIM_CALL_OPENAT, real.openat(dirfd, path, flags), flags);
}

int __openat64_2(int dirfd, const char *path, int flags)
{
    NEED(openat, -1);
    return after_open(IOSHIM_CALL_OPENAT, real.openat(dirfd, path, flags | O_LARGEFILE), flags);
}

int creat(const char *path, mode_t mode)
{
    int flags = O_CREAT | O_WRONLY | O_TRUNC;
    NEED(open, -1);
    return after_open(IOSHIM_CALL_CREAT, real.open(path, flags, mode), flags);
}

int creat64(const char *path, mode_t mode)
{
    int flags = O_CREAT | O_WRONLY | O_TRUNC;
    NEED(open, -1);
    return after_open(IOSHIM_CALL_CREAT, real.open(path, flags | O_LARGEFILE, mode), flags);
}

/* Move the trace's descriptor away from fd (which the program is about to replace). */
static void relocate_trace_fd(int fd)
{
    int tfd = get_trace_fd();
    int nfd;

    if (tfd < 0 || tfd != fd)
        return;
    nfd = real.fcntl(tfd, F_DUPFD_CLOEXEC, tfd + 1);
    __atomic_store_n(&trace_fd, nfd, __ATOMIC_RELEASE);
    if (nfd < 0)
        broken = true;
}

/* newfd now refers to what oldfd refers to (newfd's previous file was closed by the call). */
static void after_dup(uint32_t call, int oldfd, int newfd, bool new_was_tracked)
{
    if (new_was_tracked && newfd != oldfd) {
        set_tracked(newfd, false);
        emit_simple(IOSHIM_OP_CLOSE, call, newfd, 0, 0, 0, 0);
    }
    if (is_tracked(oldfd)) {
        if ((unsigned)newfd >= IOSHIM_MAX_FDS) {
            emit_simple(IOSHIM_OP_LOST, call, newfd, IOSHIM_LOST_FD_RANGE, 0, 0, 0);
        } else {
            set_tracked(newfd, true);
            emit_simple(IOSHIM_OP_DUP, call, newfd, (uint32_t)oldfd, 0, 0, newfd);
        }
    }
}

int dup(int oldfd)
{
    struct guard g;
    int r, e;

    NEED(dup, -1);
    if (!is_tracked(oldfd))
        return real.dup(oldfd);
    enter(&g);
    r = real.dup(oldfd);
    e = errno;
    if (r >= 0)
        after_dup(IOSHIM_CALL_DUP, oldfd, r, false);
    leave(&g);
    errno = e;
    return r;
}

/* dup2/dup3: newfd may be tracked (it gets replaced) or be the trace's own descriptor. */
static int dup_to(uint32_t call, int oldfd, int newfd, int flags)
{
    struct guard g;
    bool was;
    int r, e;

    if (!is_tracked(oldfd) && !is_tracked(newfd) && newfd != get_trace_fd())
        return call == IOSHIM_CALL_DUP2 ? real.dup2(oldfd, newfd) : real.dup3(oldfd, newfd, flags);
    enter(&g);
    relocate_trace_fd(newfd);
    was = is_tracked(newfd);
    r = call == IOSHIM_CALL_DUP2 ? real.dup2(oldfd, newfd) : real.dup3(oldfd, newfd, flags);
    e = errno;
    if (r >= 0)
        after_dup(call, oldfd, r, was);
    leave(&g);
    errno = e;
    return r;
}

int dup2(int oldfd, int newfd)
{
    NEED(dup2, -1);
    return dup_to(IOSHIM_CALL_DUP2, oldfd, newfd, 0);
}

int dup3(int oldfd, int newfd, int flags)
{
    NEED(dup3, -1);
    return dup_to(IOSHIM_CALL_DUP3, oldfd, newfd, flags);
}

static int fcntl_common(int fd, int cmd, void *arg)
{
    struct guard g;
    int r, e;

    NEED(fcntl, -1);
    if ((cmd != F_DUPFD && cmd != F_DUPFD_CLOEXEC) || !is_tracked(fd))
        return real.fcntl(fd, cmd, arg);
    enter(&g);
    r = real.fcntl(fd, cmd, arg);
    e = errno;
    if (r >= 0)
        after_dup(IOSHIM_CALL_FCNTL, fd, r, false);
    leave(&g);
    errno = e;
    return r;
}

/* The third argument is an int or a pointer depending on cmd; libc itself reads it as a
 * pointer-sized value, which passes either through unchanged on the supported ABIs. */
int fcntl(int fd, int cmd, ...)
{
    va_list ap;
    void *arg;

    va_start(ap, cmd);
    arg = va_arg(ap, void *);
    va_end(ap);
    return fcntl_common(fd, cmd, arg);
}

int fcntl64(int fd, int cmd, ...)
{
    va_list ap;
    void *arg;

    va_start(ap, cmd);
    arg = va_arg(ap, void *);
    va_end(ap);
    return fcntl_common(fd, cmd, arg);
}

int close(int fd)
{
    struct guard g;
    int r, e;

    NEED(close, -1);
    if (fd >= 0 && fd == get_trace_fd())
        return 0; /* not the program's descriptor: keep the trace (documented in ioshim.h) */
    if (!is_tracked(fd))
        return real.close(fd);
    enter(&g);
    /* Untrack before the real close: the number may be reused by another thread at once. */
    set_tracked(fd, false);
    emit_simple(IOSHIM_OP_CLOSE, IOSHIM_CALL_CLOSE, fd, 0, 0, 0, 0);
    r = real.close(fd);
    e = errno;
    leave(&g);
    errno = e;
    return r;
}

/* Close [first, last] except the trace's descriptor; untrack what was tracked. */
static int close_span(unsigned int first, unsigned int last)
{
    unsigned int tfd;
    int r = 0;

    for (unsigned int fd = first; fd < IOSHIM_MAX_FDS && fd <= last; fd++)
        if (is_tracked((int)fd)) {
            set_tracked((int)fd, false);
            emit_simple(IOSHIM_OP_CLOSE, IOSHIM_CALL_CLOSE_RANGE, (int)fd, 0, 0, 0, 0);
        }
    if (get_trace_fd() < 0 || (unsigned)get_trace_fd() < first || (unsigned)get_trace_fd() > last)
        return real.close_range(first, last, 0);
    tfd = (unsigned)get_trace_fd();
    if (tfd > first)
        r = real.close_range(first, tfd - 1, 0);
    if (r == 0 && tfd < last)
        r = real.close_range(tfd + 1, last, 0);
    return r;
}

int close_range(unsigned int first, unsigned int last, int flags)
{
    struct guard g;
    int r, e;

    NEED(close_range, -1);
    if (!enabled || flags != 0 || first > last)
        return real.close_range(first, last, flags); /* CLOEXEC/UNSHARE only, or EINVAL */
    enter(&g);
    r = close_span(first, last);
    e = errno;
    leave(&g);
    errno = e;
    return r;
}

void closefrom(int lowfd)
{
    struct guard g;
    int e = errno;

    ensure();
    if (!enabled || !real.close_range || lowfd < 0) {
        if (real.closefrom)
            real.closefrom(lowfd);
        return;
    }
    enter(&g);
    if (close_span((unsigned)lowfd, ~0u) < 0 && real.closefrom)
        real.closefrom(lowfd);
    leave(&g);
    errno = e;
}

/*
 * Where a write on fd lands: the file size for appending writes (O_APPEND; on Linux pwrite on
 * an O_APPEND descriptor appends too; RWF_APPEND), else pos, or the current offset when pos is
 * negative. -1 when it cannot be told.
 */
static int64_t write_offset(int fd, int64_t pos, bool append)
{
    struct stat st;
    int fl = real.fcntl(fd, F_GETFL);

    if (fl < 0)
        return -1;
    if (append || (fl & O_APPEND))
        return fstat(fd, &st) == 0 ? (int64_t)st.st_size : -1;
    if (pos >= 0)
        return pos;
    return (int64_t)lseek(fd, 0, SEEK_CUR);
}

static void record_write(uint32_t call, int fd, int64_t off, ssize_t r, int err,
                         const struct cvec *v, size_t nv)
{
    if (r > 0 && off < 0) {
        emit_simple(IOSHIM_OP_LOST, call, fd, IOSHIM_LOST_POSITION, 0, 0, r);
        return;
    }
    emit(IOSHIM_OP_WRITE, call, fd, 0, off < 0 ? 0 : (uint64_t)off, r > 0 ? (uint64_t)r : 0,
         result_of(r, err), v, nv);
}

/* iov as read-only views (at most IOV_MAX entries, as the kernel accepts). */
static size_t to_cvec(const struct iovec *iov, int iovcnt, struct cvec *out)
{
    size_t n = 0;
    for (int i = 0; i < iovcnt && i < IOV_MAX; i++) {
        out[n].p = iov[i].iov_base;
        out[n].n = iov[i].iov_len;
        n++;
    }
    return n;
}

static ssize_t traced_write(uint32_t call, int fd, const void *buf, size_t n, int64_t pos)
{
    struct guard g;
    struct cvec v = {buf, n};
    int64_t off;
    ssize_t r;
    int e;

    enter(&g);
    off = write_offset(fd, pos, false);
    r = pos < 0 ? real.write(fd, buf, n) : real.pwrite(fd, buf, n, (off_t)pos);
    e = errno;
    record_write(call, fd, off, r, e, &v, 1);
    leave(&g);
    errno = e;
    return r;
}

ssize_t write(int fd, const void *buf, size_t n)
{
    NEED(write, -1);
    if (!is_tracked(fd))
        return real.write(fd, buf, n);
    return traced_write(IOSHIM_CALL_WRITE, fd, buf, n, -1);
}

ssize_t pwrite(int fd, const void *buf, size_t n, off_t off)
{
    NEED(pwrite, -1);
    if (!is_tracked(fd) || off < 0)
        return real.pwrite(fd, buf, n, off);
    return traced_write(IOSHIM_CALL_PWRITE, fd, buf, n, off);
}

ssize_t pwrite64(int fd, const void *buf, size_t n, off64_t off)
{
    return pwrite(fd, buf, n, (off_t)off);
}

/* writev, pwritev, pwritev2: pos < 0 means the current offset (writev; pwritev2 with -1). */
static ssize_t traced_writev(uint32_t call, int fd, const struct iovec *iov, int iovcnt,
                             int64_t pos, int flags)
{
    struct guard g;
    struct cvec *v;
    int64_t off;
    ssize_t r;
    int e;

    v = iovcnt > 0 && iovcnt <= IOV_MAX ? calloc((size_t)iovcnt, sizeof(*v)) : NULL;
    enter(&g);
    off = write_offset(fd, pos, (flags & RWF_APPEND) != 0);
    if (call == IOSHIM_CALL_WRITEV)
        r = real.writev(fd, iov, iovcnt);
    else if (call == IOSHIM_CALL_PWRITEV)
        r = real.pwritev(fd, iov, iovcnt, (off_t)pos);
    else
        r = real.pwritev2(fd, iov, iovcnt, (off_t)pos, flags);
    e = errno;
    if (r > 0 && !v)
        emit_simple(IOSHIM_OP_LOST, call, fd, IOSHIM_LOST_POSITION, 0, 0, r);
    else
        record_write(call, fd, off, r, e, v, v ? to_cvec(iov, iovcnt, v) : 0);
    leave(&g);
    free(v);
    errno = e;
    return r;
}

ssize_t writev(int fd, const struct iovec *iov, int iovcnt)
{
    NEED(writev, -1);
    if (!is_tracked(fd))
        return real.writev(fd, iov, iovcnt);
    return traced_writev(IOSHIM_CALL_WRITEV, fd, iov, iovcnt, -1, 0);
}

ssize_t pwritev(int fd, const struct iovec *iov, int iovcnt, off_t off)
{
    NEED(pwritev, -1);
    if (!is_tracked(fd) || off < 0)
        return real.pwritev(fd, iov, iovcnt, off);
    return traced_writev(IOSHIM_CALL_PWRITEV, fd, iov, iovcnt, off, 0);
}

ssize_t pwritev64(int fd, const struct iovec *iov, int iovcnt, off64_t off)
{
    return pwritev(fd, iov, iovcnt, (off_t)off);
}

ssize_t pwritev2(int fd, const struct iovec *iov, int iovcnt, off_t off, int flags)
{
    NEED(pwritev2, -1);
    if (!is_tracked(fd) || off < -1)
        return real.pwritev2(fd, iov, iovcnt, off, flags);
    return traced_writev(IOSHIM_CALL_PWRITEV2, fd, iov, iovcnt, off, flags);
}

ssize_t pwritev64v2(int fd, const struct iovec *iov, int iovcnt, off64_t off, int flags)
{
    return pwritev2(fd, iov, iovcnt, (off_t)off, flags);
}

int ftruncate(int fd, off_t len)
{
    struct guard g;
    int r, e;

    NEED(ftruncate, -1);
    if (!is_tracked(fd))
        return real.ftruncate(fd, len);
    enter(&g);
    r = real.ftruncate(fd, len);
    e = errno;
    emit_simple(IOSHIM_OP_TRUNCATE, IOSHIM_CALL_FTRUNCATE, fd, 0, len < 0 ? 0 : (uint64_t)len, 0,
                result_of(r, e));
    leave(&g);
    errno = e;
    return r;
}

int ftruncate64(int fd, off64_t len)
{
    return ftruncate(fd, (off_t)len);
}

int fallocate(int fd, int mode, off_t off, off_t len)
{
    struct guard g;
    int r, e;

    NEED(fallocate, -1);
    if (!is_tracked(fd) || off < 0 || len < 0)
        return real.fallocate(fd, mode, off, len);
    enter(&g);
    r = real.fallocate(fd, mode, off, len);
    e = errno;
    emit_simple(IOSHIM_OP_FALLOCATE, IOSHIM_CALL_FALLOCATE, fd, (uint32_t)mode, (uint64_t)off,
                (uint64_t)len, result_of(r, e));
    leave(&g);
    errno = e;
    return r;
}

int fallocate64(int fd, int mode, off64_t off, off64_t len)
{
    return fallocate(fd, mode, (off_t)off, (off_t)len);
}

/* posix_fallocate returns an error number instead of setting errno. */
int posix_fallocate(int fd, off_t off, off_t len)
{
    struct guard g;
    int r;

    ensure();
    if (!real.posix_fallocate)
        return ENOSYS;
    if (!is_tracked(fd) || off < 0 || len < 0)
        return real.posix_fallocate(fd, off, len);
    enter(&g);
    r = real.posix_fallocate(fd, off, len);
    /* The size recorded in len of the op, the mode 0: allocate and extend the size. */
    emit(IOSHIM_OP_FALLOCATE, IOSHIM_CALL_POSIX_FALLOCATE, fd, 0, (uint64_t)off, (uint64_t)len,
         r == 0 ? 0 : -(int64_t)r, NULL, 0);
    leave(&g);
    return r;
}

int posix_fallocate64(int fd, off64_t off, off64_t len)
{
    return posix_fallocate(fd, (off_t)off, (off_t)len);
}

static int traced_sync(uint32_t op, uint32_t call, int fd)
{
    struct guard g;
    int r, e;

    enter(&g);
    r = op == IOSHIM_OP_FSYNC ? real.fsync(fd) : real.fdatasync(fd);
    e = errno;
    emit_simple(op, call, fd, 0, 0, 0, result_of(r, e));
    leave(&g);
    errno = e;
    return r;
}

int fsync(int fd)
{
    NEED(fsync, -1);
    if (!is_tracked(fd))
        return real.fsync(fd);
    return traced_sync(IOSHIM_OP_FSYNC, IOSHIM_CALL_FSYNC, fd);
}

int fdatasync(int fd)
{
    NEED(fdatasync, -1);
    if (!is_tracked(fd))
        return real.fdatasync(fd);
    return traced_sync(IOSHIM_OP_FDATASYNC, IOSHIM_CALL_FDATASYNC, fd);
}

int sync_file_range(int fd, off_t off, off_t n, unsigned int flags)
{
    struct guard g;
    int r, e;

    NEED(sync_file_range, -1);
    if (!is_tracked(fd) || off < 0 || n < 0)
        return real.sync_file_range(fd, off, n, flags);
    enter(&g);
    r = real.sync_file_range(fd, off, n, flags);
    e = errno;
    emit_simple(IOSHIM_OP_SYNC_FILE_RANGE, IOSHIM_CALL_SYNC_FILE_RANGE, fd, flags, (uint64_t)off,
                (uint64_t)n, result_of(r, e));
    leave(&g);
    errno = e;
    return r;
}

/* Record the target's content as tracing begins (first record of every trace). False only when
 * the target cannot even be opened for another reason than not existing. */
static bool snapshot(void)
{
    struct stat st;
    uint8_t *buf = NULL;
    size_t have = 0;
    int fd = real.open(target, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    bool ok = false;

    if (fd < 0) {
        if (errno != ENOENT)
            return false;
        emit_simple(IOSHIM_OP_SNAPSHOT, IOSHIM_CALL_NONE, -1, 0, 0, 0, 0);
        return true;
    }
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || (uint64_t)st.st_size > IOSHIM_MAX_SNAPSHOT)
        goto out;
    buf = malloc((size_t)st.st_size + 1);
    if (!buf)
        goto out;
    while (have < (size_t)st.st_size) {
        size_t want = (size_t)st.st_size - have;
        ssize_t n = pread(fd, buf + have, want < IOSHIM_CHUNK ? want : IOSHIM_CHUNK, (off_t)have);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            goto out;
        have += (size_t)n;
    }
    {
        struct cvec v = {buf, have};
        emit(IOSHIM_OP_SNAPSHOT, IOSHIM_CALL_NONE, -1, 1, 0, have, 0, &v, 1);
    }
    ok = true;
out:
    /* Too large, not a regular file or unreadable: the trace says so and is refused later. */
    if (!ok)
        emit_simple(IOSHIM_OP_LOST, IOSHIM_CALL_NONE, -1, IOSHIM_LOST_SNAPSHOT, 0, 0, 0);
    free(buf);
    real.close(fd);
    return true;
}

__attribute__((constructor)) static void ioshim_init(void)
{
    const char *t = getenv(IOSHIM_ENV_TARGET), *tr = getenv(IOSHIM_ENV_TRACE);
    struct {
        char magic[IOSHIM_MAGIC_LEN];
        uint32_t rec_size, pad;
    } hdr = {.rec_size = sizeof(struct ioshim_rec)};
    struct guard g;
    int fd, n;

    ensure();
    if (!t || !*t || !tr || !*tr)
        return; /* not asked to trace: a pure pass-through */
    if (!real.open || !real.write || !real.fcntl || !real.close) {
        complain("libc functions not found");
        return;
    }
    if (t[0] == '/') {
        n = snprintf(target, sizeof(target), "%s", t);
    } else {
        char cwd[IOSHIM_PATH_MAX];
        n = getcwd(cwd, sizeof(cwd)) ? snprintf(target, sizeof(target), "%s/%s", cwd, t) : -1;
    }
    if (n < 0 || (size_t)n >= sizeof(target)) {
        complain("target path too long");
        return;
    }
    fd = real.open(tr, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        complain(tr);
        return;
    }
    trace_fd = real.fcntl(fd, F_DUPFD_CLOEXEC, IOSHIM_TRACE_FD_MIN);
    real.close(fd);
    if (trace_fd < 0) {
        complain("cannot move the trace descriptor");
        return;
    }
    memcpy(hdr.magic, IOSHIM_MAGIC, IOSHIM_MAGIC_LEN);
    enter(&g);
    if (!write_full(trace_fd, &hdr, sizeof(hdr)) || !snapshot()) {
        leave(&g);
        complain("cannot write the trace or read the target");
        real.close(trace_fd);
        trace_fd = -1;
        return;
    }
    enabled = true;
    leave(&g);
}
