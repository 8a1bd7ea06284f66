/* SPDX-License-Identifier: Apache-2.0 */
/*
 * I/O trace format written by the LD_PRELOAD shim ioshim.so (tests/crash/ioshim.c) and read by
 * the crash-image generator (tests/crash/crashimg.c). The trace is format-agnostic: it records
 * what reached one file (bytes at offsets, size changes, syncs), never what the bytes mean.
 *
 * Use:  LD_PRELOAD=ioshim.so HWSIGN_IOSHIM_TARGET=FILE HWSIGN_IOSHIM_TRACE=TRACE program ...
 *
 * The shim tracks every descriptor whose inode is FILE's (checked with fstat/stat after each
 * successful open/openat/creat, whatever path was used) and its duplicates (dup, dup2, dup3,
 * fcntl F_DUPFD[_CLOEXEC]) until they are closed (close, close_range, closefrom). On tracked
 * descriptors it records write, pwrite, writev, pwritev, pwritev2, ftruncate, fallocate,
 * posix_fallocate, fsync, fdatasync and sync_file_range, each after the real call returned,
 * with its result. Calls on other descriptors cost one atomic load and are passed through.
 *
 * File layout (host byte order; a reader checks the magic and the record size):
 *
 *   trace  = magic[8] ("HWSIOTR1") rec_size:u32 (= sizeof(struct ioshim_rec)) pad:u32 rec*
 *   rec    = struct ioshim_rec, then len bytes of data for IOSHIM_OP_WRITE (the bytes the call
 *            wrote, result > 0) and IOSHIM_OP_SNAPSHOT (the file's content when tracing began)
 *
 * The first record is always one IOSHIM_OP_SNAPSHOT: arg 1 when FILE existed (its content
 * follows), 0 when it did not. Records are in the order the calls completed: the shim
 * serialises all calls on tracked descriptors under one lock (held across the real call, so a
 * sync's record follows every write it covers and precedes any write it does not). Offsets of
 * appending writes (O_APPEND, RWF_APPEND) are the file size just before the call.
 *
 * Not captured (the shim records IOSHIM_OP_LOST when it sees them, and the generator then
 * refuses the trace): a tracked fd number >= IOSHIM_MAX_FDS, an initial file larger than
 * IOSHIM_MAX_SNAPSHOT or unreadable, a write whose offset cannot be told. Not seen at all: I/O
 * by other processes, writes through a shared mapping (mmap), io_uring, copy_file_range/
 * sendfile/splice into the file, syscalls made without libc's wrappers, and stdio streams
 * opened with fopen (their descriptor is opened inside libc). The signing log's writer uses
 * none of these (open, write, fdatasync, ftruncate, close; it maps the file read-only and
 * private to scan it). O_TRUNC at open is recorded as IOSHIM_OP_TRUNCATE to 0. Directory syncs
 * are not recorded: the trace models the file's data and size, not its directory entry.
 * O_SYNC/O_DSYNC descriptors and RWF_DSYNC writes are not treated as durability points (the
 * model stays conservative: only a successful fsync/fdatasync is).
 *
 * The shim never changes what a call does or returns (errno is preserved); it only adds the
 * lock (calls on the traced file from different threads are serialised) and blocks signals
 * while the lock is held, so a signal handler that touches the traced file cannot deadlock.
 * A close() of the trace's own descriptor by the program is skipped (returns 0). A fork()
 * while another thread is inside a traced call would leave the child's lock taken (the agent
 * never forks).
 */
#pragma once

#include <stdint.h>

#define IOSHIM_ENV_TARGET   "HWSIGN_IOSHIM_TARGET" /* the file to trace */
#define IOSHIM_ENV_TRACE    "HWSIGN_IOSHIM_TRACE"  /* where the trace goes (created, truncated) */
#define IOSHIM_MAGIC        "HWSIOTR1"
#define IOSHIM_MAGIC_LEN    8u
#define IOSHIM_MAX_FDS      4096u                 /* descriptors tracked by number: 0..4095 */
#define IOSHIM_MAX_SNAPSHOT (64u * 1024u * 1024u) /* initial content captured in the trace */
#define IOSHIM_TRACE_FD_MIN 900                   /* the trace fd is moved to >= this number */

enum ioshim_op {
    IOSHIM_OP_SNAPSHOT = 1,    /* arg: 1 file existed; len content bytes follow */
    IOSHIM_OP_OPEN,            /* fd opened on FILE: arg open flags, off its size after open */
    IOSHIM_OP_DUP,             /* fd is a duplicate of arg */
    IOSHIM_OP_CLOSE,           /* fd no longer tracked */
    IOSHIM_OP_WRITE,           /* result bytes written at off; len = result; data follows */
    IOSHIM_OP_TRUNCATE,        /* size set to off */
    IOSHIM_OP_FALLOCATE,       /* arg mode (FALLOC_FL_*), range off, len */
    IOSHIM_OP_FSYNC,           /* result 0: everything before is durable (data and size) */
    IOSHIM_OP_FDATASYNC,       /* result 0: as fsync for the model (size is data-relevant) */
    IOSHIM_OP_SYNC_FILE_RANGE, /* off, len, arg flags: never a durability point */
    IOSHIM_OP_LOST,            /* the shim missed something (arg says what): trace unusable */
};

/* Which libc entry point made the call (for statistics and the report). */
enum ioshim_call {
    IOSHIM_CALL_NONE = 0,
    IOSHIM_CALL_OPEN,
    IOSHIM_CALL_OPENAT,
    IOSHIM_CALL_CREAT,
    IOSHIM_CALL_DUP,
    IOSHIM_CALL_DUP2,
    IOSHIM_CALL_DUP3,
    IOSHIM_CALL_FCNTL,
    IOSHIM_CALL_CLOSE,
    IOSHIM_CALL_CLOSE_RANGE,
    IOSHIM_CALL_WRITE,
    IOSHIM_CALL_PWRITE,
    IOSHIM_CALL_WRITEV,
    IOSHIM_CALL_PWRITEV,
    IOSHIM_CALL_PWRITEV2,
    IOSHIM_CALL_FTRUNCATE,
    IOSHIM_CALL_FALLOCATE,
    IOSHIM_CALL_POSIX_FALLOCATE,
    IOSHIM_CALL_FSYNC,
    IOSHIM_CALL_FDATASYNC,
    IOSHIM_CALL_SYNC_FILE_RANGE,
    IOSHIM_CALL_MAX,
};

/* Reasons in arg of IOSHIM_OP_LOST. */
enum ioshim_lost {
    IOSHIM_LOST_FD_RANGE = 1, /* a descriptor on FILE >= IOSHIM_MAX_FDS */
    IOSHIM_LOST_SNAPSHOT,     /* FILE too large or unreadable at start */
    IOSHIM_LOST_POSITION,     /* the offset of a write could not be determined */
};

struct ioshim_rec {
    uint32_t op;   /* enum ioshim_op */
    uint32_t call; /* enum ioshim_call */
    int32_t fd;
    uint32_t arg;
    uint64_t seq;   /* 0, 1, 2, ... in trace order */
    uint64_t off;   /* see enum ioshim_op */
    uint64_t len;   /* data bytes following the record (WRITE, SNAPSHOT), or a range length */
    int64_t result; /* the call's return value, or -errno when it failed */
};
