/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The agent's write-ahead signing log (format: lib/format/logrec.h; auditor's guide:
 * docs/log.md).
 *
 * Every signature becomes a record that is written and fdatasync'd BEFORE the signature is
 * released. Records completed together are committed together: one write(), one fdatasync()
 * (group commit). A failed write or sync puts the log into the failed state: the batch is
 * dropped (its signatures are never released), signing stops, and auditlog_recover() later
 * reopens the file from disk, truncates it to the last durable record and syncs again; a
 * retried fsync on the old descriptor is never trusted.
 *
 * At open the whole log is verified (framing, seq, chain). A torn final record or a hole in the
 * final unsynced batch (never acknowledged: not completely synced) is truncated; any other
 * damage refuses the open. A file of at most 8 bytes holding part of the magic or only zeros
 * (its creation cut short by a power loss) is started afresh.
 * One agent per log: the records file is flock()ed.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "logrec.h"
#include "merkle.h"

#define AUDITLOG_DIR       "log"
#define AUDITLOG_FILE      "records"
#define AUDITLOG_MAX_BATCH LOGREC_MAX_BATCH /* bytes of one group commit (then a new batch) */

struct auditlog;

/* Open STATE/log/records (created with its magic if new). -EBUSY if another agent holds it,
 * -EBADMSG if acknowledged records are damaged; err gets a one-line reason. */
int auditlog_open(const char *state_dir, struct auditlog **ret, char *err, size_t errlen);
struct auditlog *auditlog_free(struct auditlog *l);

/*
 * Queue a record for the next commit; r->seq is assigned (returned in *ret_seq). When
 * ret_entry is non-NULL it gets the record's transparency-log entry body (lib/format/
 * logentry.h, NUL-terminated, the caller frees it), whose hash is the record's Merkle leaf.
 */
int auditlog_append(struct auditlog *l, struct logrec *r, uint64_t *ret_seq, char **ret_entry,
                    size_t *ret_entry_len);
/* Write and sync everything queued. 0, or -errno with the log now failed. */
int auditlog_commit(struct auditlog *l);
/* Records durable so far, and whether signing must stop. */
uint64_t auditlog_size(const struct auditlog *l);
/* RFC 6962 root over the durable records. */
int auditlog_root(const struct auditlog *l, uint8_t ret[static LOGREC_HASH]);
/* RFC 9162 inclusion proof of record index in the tree of the first size durable records
 * (index < size <= auditlog_size): O(log^2 n) from the in-memory tree (64 bytes per record). */
int auditlog_inclusion_proof(const struct auditlog *l, uint64_t index, uint64_t size,
                             uint8_t ret_proof[MERKLE_MAX_PROOF][MERKLE_HASH_SIZE],
                             size_t *ret_len);
bool auditlog_failed(const struct auditlog *l);
const char *auditlog_error(const struct auditlog *l);
/* After a failure: reopen from disk, truncate to the durable end, sync. 0 when healthy again. */
int auditlog_recover(struct auditlog *l);
