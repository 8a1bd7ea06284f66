/* SPDX-License-Identifier: Apache-2.0 */
#include "auditlog.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fd-util.h"
#include "logentry.h"
#include "macro.h"
#include "merkle.h"
#include "sbuf.h"

#define AUDITLOG_PATH_MAX 4096u

struct auditlog {
    char dir[AUDITLOG_PATH_MAX];
    char path[AUDITLOG_PATH_MAX];
    int fd;
    /* Durable state: what is synced on disk. */
    uint64_t size; /* records */
    off_t end;     /* bytes */
    uint8_t chain[LOGREC_HASH];
    struct merkle_tree *tree; /* every durable record's leaf (for proofs) */
    /* Pending batch (not yet written) and its records' leaf hashes. */
    struct sbuf *batch;
    uint8_t (*pending_leaf)[MERKLE_HASH_SIZE];
    size_t pending_cap;
    uint64_t pending;
    uint8_t pending_chain[LOGREC_HASH];
    bool failed;
    char error[AUDITLOG_PATH_MAX + 256];
};

_printf_(4, 5) static int fail(char *err, size_t len, int r, const char *fmt, ...)
{
    va_list ap;
    if (err && len) {
        va_start(ap, fmt);
        (void)vsnprintf(err, len, fmt, ap);
        va_end(ap);
    }
    return r;
}

static int scan_leaf(void *ctx, const struct logrec *r, const uint8_t *body, size_t body_len,
                     const uint8_t chain[static LOGREC_HASH])
{
    struct merkle_tree *tree = ctx;
    uint8_t leaf[MERKLE_HASH_SIZE];
    int e = logentry_leaf_hash(r, body, body_len, leaf);
    return e < 0 ? e : merkle_tree_append(tree, leaf);
}

static int fsync_dir(const char *dir)
{
    _cleanup_close_ int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 || fsync(fd) < 0)
        return negative_errno();
    return 0;
}

/*
 * A file no longer than the magic holding a proper prefix of it, or only zero bytes, is a log
 * whose creation a power loss cut short (the magic written, not yet synced; or the size
 * extended without the data). It holds no record, so starting it afresh loses nothing; any
 * other short content (another file, another version's magic) is still refused by the scan.
 */
static bool unsynced_magic(int fd, off_t size)
{
    uint8_t buf[LOGREC_MAGIC_LEN];
    bool zeros = true;

    if (size <= 0 || size > (off_t)LOGREC_MAGIC_LEN ||
        pread(fd, buf, (size_t)size, 0) != (ssize_t)size)
        return false;
    if (memcmp(buf, LOGREC_MAGIC, (size_t)size) == 0)
        return size < (off_t)LOGREC_MAGIC_LEN; /* the whole magic: a valid empty log */
    for (off_t i = 0; i < size; i++)
        zeros = zeros && buf[i] == 0;
    return zeros;
}

/* Read and verify the file on l->fd; set the durable state; truncate a torn tail. */
static int load(struct auditlog *l, char *err, size_t errlen)
{
    struct stat st;
    uint8_t *map = NULL;
    size_t end = 0;
    uint64_t count = 0;
    bool torn = false;
    int r;

    l->tree = merkle_tree_free(l->tree);
    r = merkle_tree_new(&l->tree);
    if (r < 0)
        return r;
    if (fstat(l->fd, &st) < 0)
        return fail(err, errlen, negative_errno(), "cannot stat %s: %m", l->path);
    if (unsynced_magic(l->fd, st.st_size)) {
        if (ftruncate(l->fd, 0) < 0)
            return fail(err, errlen, negative_errno(), "cannot reset %s: %m", l->path);
        (void)snprintf(l->error, sizeof(l->error),
                       "started the log afresh: it held only %lld bytes of an unsynced header",
                       (long long)st.st_size);
        st.st_size = 0;
    }
    if (st.st_size == 0) {
        r = fd_write_all(l->fd, LOGREC_MAGIC, LOGREC_MAGIC_LEN);
        if (r < 0 || fdatasync(l->fd) < 0 || fsync_dir(l->dir) < 0)
            return fail(err, errlen, r < 0 ? r : negative_errno(), "cannot initialise %s: %m",
                        l->path);
        l->size = 0;
        l->end = LOGREC_MAGIC_LEN;
        memset(l->chain, 0, sizeof(l->chain));
        return 0;
    }
    map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, l->fd, 0);
    if (map == MAP_FAILED)
        return fail(err, errlen, negative_errno(), "cannot map %s: %m", l->path);
    r = logrec_scan(map, (size_t)st.st_size, scan_leaf, l->tree, &end, &count, l->chain, &torn);
    munmap(map, (size_t)st.st_size);
    if (r < 0)
        return fail(err, errlen, -EBADMSG,
                    "%s is damaged after record %llu (offset %zu): refusing to sign on top of a "
                    "log that does not verify; run 'hwsign log verify --log %s'",
                    l->path, (unsigned long long)count, end, l->path);
    if (torn) {
        if (ftruncate(l->fd, (off_t)end) < 0 || fdatasync(l->fd) < 0)
            return fail(err, errlen, negative_errno(), "cannot truncate the torn tail of %s: %m",
                        l->path);
        (void)snprintf(l->error, sizeof(l->error),
                       "truncated a torn, never acknowledged final record at offset %zu", end);
    }
    l->size = count;
    l->end = (off_t)end;
    return 0;
}

int auditlog_open(const char *state_dir, struct auditlog **ret, char *err, size_t errlen)
{
    struct auditlog *l;
    int n, r;

    l = calloc(1, sizeof(*l));
    if (!l)
        return -ENOMEM;
    l->fd = -1;
    n = snprintf(l->dir, sizeof(l->dir), "%s/" AUDITLOG_DIR, state_dir);
    if (n > 0 && (size_t)n < sizeof(l->dir))
        n = snprintf(l->path, sizeof(l->path), "%s/" AUDITLOG_FILE, l->dir);
    if (n < 0 || (size_t)n >= sizeof(l->path)) {
        auditlog_free(l);
        return fail(err, errlen, -ENAMETOOLONG, "state directory path too long");
    }
    if (mkdir(l->dir, 0700) < 0 && errno != EEXIST) {
        r = negative_errno();
        auditlog_free(l);
        return fail(err, errlen, r, "cannot create %s: %s", state_dir, strerror(-r));
    }
    l->batch = sbuf_new(AUDITLOG_MAX_BATCH);
    l->fd = open(l->path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (!l->batch || l->fd < 0) {
        r = l->batch ? negative_errno() : -ENOMEM;
        auditlog_free(l);
        return fail(err, errlen, r, "cannot open the signing log: %s", strerror(-r));
    }
    if (flock(l->fd, LOCK_EX | LOCK_NB) < 0) {
        r = errno == EWOULDBLOCK ? -EBUSY : negative_errno();
        auditlog_free(l);
        return fail(err, errlen, r, "the signing log is in use by another agent (%s)",
                    strerror(-r));
    }
    r = load(l, err, errlen);
    if (r < 0) {
        auditlog_free(l);
        return r;
    }
    memcpy(l->pending_chain, l->chain, sizeof(l->chain));
    *ret = l;
    return 0;
}

struct auditlog *auditlog_free(struct auditlog *l)
{
    if (!l)
        return NULL;
    if (l->fd >= 0)
        close(l->fd); /* releases the flock */
    merkle_tree_free(l->tree);
    free(l->pending_leaf);
    sbuf_free(l->batch);
    free(l);
    return NULL;
}

int auditlog_append(struct auditlog *l, struct logrec *r, uint64_t *ret_seq, char **ret_entry,
                    size_t *ret_entry_len)
{
    _cleanup_(sbuf_freep) struct sbuf *body = sbuf_new(LOGREC_MAX_BODY);
    _cleanup_free_ char *entry = NULL;
    uint8_t chain[LOGREC_HASH];
    size_t mark = sbuf_len(l->batch), entry_len = 0;
    int e;

    if (l->failed)
        return -EIO;
    if (!body)
        return -ENOMEM;
    if (l->pending == l->pending_cap) {
        size_t cap = l->pending_cap ? l->pending_cap * 2 : 64;
        void *p = reallocarray(l->pending_leaf, cap, MERKLE_HASH_SIZE);
        if (!p)
            return -ENOMEM;
        l->pending_leaf = p;
        l->pending_cap = cap;
    }
    r->seq = l->size + l->pending;
    e = logrec_encode_body(r, body);
    if (e >= 0)
        e = logentry_body(r, sbuf_ptr(body), sbuf_len(body), &entry, &entry_len);
    if (e >= 0)
        e = merkle_leaf_hash(entry, entry_len, l->pending_leaf[l->pending]);
    if (e >= 0)
        e = logrec_chain(l->pending_chain, sbuf_ptr(body), sbuf_len(body), chain);
    if (e >= 0)
        e = sbuf_put_u32(l->batch, (uint32_t)sbuf_len(body));
    if (e >= 0)
        e = sbuf_put(l->batch, sbuf_ptr(body), sbuf_len(body));
    if (e >= 0)
        e = sbuf_put(l->batch, chain, sizeof(chain));
    if (e < 0) {
        (void)sbuf_consume_end(l->batch, sbuf_len(l->batch) - mark);
        return e;
    }
    memcpy(l->pending_chain, chain, sizeof(chain));
    l->pending++;
    if (ret_seq)
        *ret_seq = r->seq;
    if (ret_entry) {
        *ret_entry = TAKE_PTR(entry);
        *ret_entry_len = entry_len;
    }
    return 0;
}

static void set_failed(struct auditlog *l, const char *what, int e)
{
    l->failed = true;
    (void)snprintf(l->error, sizeof(l->error), "%s %s: %s", what, l->path, strerror(-e));
}

int auditlog_commit(struct auditlog *l)
{
    const uint8_t *p;
    size_t len;
    int e;

    if (l->pending == 0)
        return l->failed ? -EIO : 0;
    if (l->failed) {
        sbuf_reset(l->batch);
        l->pending = 0;
        return -EIO;
    }
    p = sbuf_ptr(l->batch);
    len = sbuf_len(l->batch);
    e = fd_write_all(l->fd, p, len);
    if (e < 0) {
        set_failed(l, "writing", e);
    } else if (fdatasync(l->fd) < 0) {
        e = negative_errno();
        set_failed(l, "syncing", e);
    }
    if (e < 0) {
        /* The batch is lost: its signatures are never released. Nothing here is retried. */
        sbuf_reset(l->batch);
        l->pending = 0;
        memcpy(l->pending_chain, l->chain, sizeof(l->chain));
        return -EIO;
    }
    /* Durable: advance the state and the Merkle tree over the batch's records. */
    for (uint64_t i = 0; i < l->pending; i++) {
        e = merkle_tree_append(l->tree, l->pending_leaf[i]);
        if (e < 0) {
            /* The records are durable but the in-memory tree cannot follow: stop signing;
             * recovery reloads the tree from the file. */
            set_failed(l, "indexing", e);
            sbuf_reset(l->batch);
            l->pending = 0;
            return e;
        }
    }
    sbuf_reset(l->batch);
    l->size += l->pending;
    l->end += (off_t)len;
    l->pending = 0;
    memcpy(l->chain, l->pending_chain, sizeof(l->chain));
    return 0;
}

uint64_t auditlog_size(const struct auditlog *l)
{
    return l->size;
}

int auditlog_root(const struct auditlog *l, uint8_t ret[static LOGREC_HASH])
{
    return merkle_tree_root(l->tree, merkle_tree_size(l->tree), ret);
}

int auditlog_inclusion_proof(const struct auditlog *l, uint64_t index, uint64_t size,
                             uint8_t ret_proof[MERKLE_MAX_PROOF][MERKLE_HASH_SIZE], size_t *ret_len)
{
    if (index >= size || size > l->size)
        return -EINVAL;
    return merkle_tree_inclusion_proof(l->tree, index, size, ret_proof, ret_len);
}

bool auditlog_failed(const struct auditlog *l)
{
    return l->failed;
}

const char *auditlog_error(const struct auditlog *l)
{
    return l->error;
}

int auditlog_recover(struct auditlog *l)
{
    char err[AUDITLOG_PATH_MAX + 256];
    int fd, r;

    if (!l->failed)
        return 0;
    /* A new descriptor: after a failed fsync the old one's state cannot be trusted. */
    fd = open(l->path, O_RDWR | O_APPEND | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return negative_errno();
    if (flock(fd, LOCK_EX | LOCK_NB) < 0 && errno != EWOULDBLOCK) {
        r = negative_errno();
        close(fd);
        return r;
    }
    if (ftruncate(fd, l->end) < 0 || fdatasync(fd) < 0) {
        r = negative_errno();
        close(fd);
        return r;
    }
    close(l->fd);
    l->fd = fd;
    if (flock(l->fd, LOCK_EX | LOCK_NB) < 0)
        return negative_errno();
    r = load(l, err, sizeof(err));
    if (r < 0) {
        (void)snprintf(l->error, sizeof(l->error), "%s", err);
        return r;
    }
    memcpy(l->pending_chain, l->chain, sizeof(l->chain));
    l->failed = false;
    l->error[0] = '\0';
    return 0;
}
