/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fdatasync-count.so: LD_PRELOAD shim for bench-log.sh (a benchmark aid, not a test).
 *
 * Counts the fdatasync() calls of the process it is preloaded into, and the nanoseconds spent in
 * them (CLOCK_MONOTONIC), in two 64-bit counters kept in a MAP_SHARED file named by
 * $HWSIGN_BENCH_SYNC_COUNTER, so the benchmark can read them before and after each load
 * (`od -An -tu8 FILE`: calls, then ns) while the agent runs. The cost is two clock reads (vDSO)
 * and two relaxed atomic adds per call: unlike strace, it does not stop the process, so the
 * agent's batching (group commit) is the same as without it. Without the variable, or when the file
 * cannot be mapped, calls are passed through uncounted.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

typedef int (*fdatasync_fn)(int);

static uint64_t *counter; /* [0] calls, [1] ns in fdatasync */
static fdatasync_fn real_fdatasync;

__attribute__((constructor)) static void count_init(void)
{
    const char *path = getenv("HWSIGN_BENCH_SYNC_COUNTER");
    void *p;
    int fd;

    real_fdatasync = (fdatasync_fn)dlsym(RTLD_NEXT, "fdatasync");
    if (!path || !*path)
        return;
    fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return;
    if (ftruncate(fd, (off_t)(2 * sizeof(uint64_t))) == 0) {
        p = mmap(NULL, 2 * sizeof(uint64_t), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        if (p != MAP_FAILED)
            counter = p;
    }
    (void)close(fd);
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    (void)clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int fdatasync(int fd)
{
    uint64_t t0;
    int r, e;

    if (!real_fdatasync) {
        errno = ENOSYS;
        return -1;
    }
    if (!counter)
        return real_fdatasync(fd);
    t0 = now_ns();
    r = real_fdatasync(fd);
    e = errno;
    (void)__atomic_add_fetch(&counter[1], now_ns() - t0, __ATOMIC_RELAXED);
    (void)__atomic_add_fetch(&counter[0], 1, __ATOMIC_RELAXED);
    errno = e;
    return r;
}
