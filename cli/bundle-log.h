/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Signing-log entries in Sigstore bundles (docs/log.md "Log entries in bundles").
 *
 * Attaching: after a signature, the agent returned the record's entry body
 * (hwsign_last_log_entry); the CLI asks for an inclusion proof against a signed checkpoint
 * (hwsign_log_proof), checks that the proof leads from the entry to the checkpoint's root, and
 * adds a TransparencyLogEntry (lib/format/logentry.h) to the bundle's tlogEntries.
 *
 * Verifying (offline, with the log key): the entry's checkpoint must carry a valid signature
 * by the log key, the inclusion proof must lead from SHA-256(0x00 || entry body) to the
 * checkpoint's root at its size, and the entry body must name this bundle's signature, digest
 * (or DSSE payload hash) and signing key.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <hwsign/hwsign.h>

struct bundle;

/*
 * Adds the log entry of the client's last signature to the bundle JSON *json (replaced on
 * success). *ret_attached false (and a note on stderr naming the reason) when the agent
 * logged no entry or issues no checkpoints; an agent that fails to prove its own record is an
 * error. Returns an exit status.
 */
int bundle_log_attach(struct hwsign_client *client, char **json, size_t *json_len,
                      bool *ret_attached);

struct bundle_log_result {
    uint64_t index;     /* the record */
    uint64_t tree_size; /* of the checkpoint proving it */
    char origin[256];   /* the checkpoint's origin */
};

/*
 * Checks b's signing-log entry against the log key in log_key_path (PEM or DER SPKI). signer
 * is the DER SPKI of the key the bundle was verified with. 0 with *ret filled; otherwise an
 * exit status, the one-line reason printed (1: no entry by this log, or one that does not
 * prove inclusion of this signature; 4: unreadable key or malformed entry).
 */
int bundle_log_verify(const struct bundle *b, const uint8_t *signer, size_t signer_len,
                      const char *log_key_path, struct bundle_log_result *ret);
