/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Internal interface of the `hwsign log` command group, shared by cmd-log.c (verify, search,
 * the dispatcher) and cmd-log-proof.c (the mapped log file, proofs, checkpoints). Not part of
 * any library: every function prints its own one-line error where it says it returns an exit
 * status (enum cli_exit).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "logrec.h"
#include "main.h"
#include "merkle.h"

#define LOG_DEFAULT_STATE_DIR "/var/lib/hwsign"
#define LOG_RELATIVE_PATH     "log/records"
#define LOG_DEFAULT_PATH      LOG_DEFAULT_STATE_DIR "/" LOG_RELATIVE_PATH
#define LOG_PATH_MAX          4096u

/* ---- cmd-log.c ---- */

struct log_opts {
    const char *path;
    char path_buf[LOG_PATH_MAX];
    bool json;
};
/* --state-dir DIR: o->path = DIR/log/records. Returns an exit status (usage error printed). */
int log_set_state_dir(const char *cmd, struct log_opts *o, const char *dir);

/* ---- cmd-log-proof.c ---- */

/* A log file mapped read-only (PROT_READ, MAP_PRIVATE). An empty file is (NULL, 0). */
struct log_map {
    const uint8_t *data;
    size_t len;
};
/* Maps path. Returns an exit status (error printed: 4 unreadable or not a regular file). */
int log_map_file(const char *path, struct log_map *ret);
void log_unmap(struct log_map *m);
/*
 * Why the record at off (after count valid records whose chain hash is prev) is damaged, for
 * the one-line message; off 0 means the magic. logrec_scan has already decided that it is
 * damage; this only names the cause. Returns a static string.
 */
const char *log_diagnose(const struct log_map *m, size_t off, uint64_t count,
                         const uint8_t prev[static LOGREC_HASH]);

/*
 * Reads the signed checkpoint note at note_path, verifies its ECDSA (note type 0x02) signature
 * by the log key in key_path (PEM or DER SPKI; key name = the checkpoint's origin, key ID =
 * SHA-256(DER SPKI)[:4]) and parses its text. Returns an exit status: 0 (outputs written), 1
 * malformed, unsigned or badly signed checkpoint, 4 unreadable files or a key that is not ECDSA.
 * *ret_origin is a new string.
 */
/*
 * The same checks for a note text already in memory (what names it in messages). *ret_cp
 * (checkpoint.h) and *ret_keyid are written on success. Returns an exit status.
 */
struct checkpoint;
int log_verify_checkpoint_note(const char *what, const char *text, size_t len, const char *key_path,
                               struct checkpoint **ret_cp, uint32_t *ret_keyid);
/* The same with the log key's DER SPKI already loaded from key_path (named in messages). */
int log_verify_checkpoint_note_spki(const char *what, const char *text, size_t len,
                                    const uint8_t *spki, size_t spki_len, const char *key_path,
                                    struct checkpoint **ret_cp, uint32_t *ret_keyid);
int log_load_checkpoint(const char *note_path, const char *key_path, char **ret_origin,
                        uint64_t *ret_size, uint8_t ret_root[static MERKLE_HASH_SIZE]);

/* The subcommands: argv[0] is the subcommand's name. Return an exit status. */
int log_proof(int argc, char *argv[]);
int log_consistency(int argc, char *argv[]);
int log_checkpoint(int argc, char *argv[], const struct cli_context *ctx);
int log_verify_proof(int argc, char *argv[]);
int log_trusted_root(int argc, char *argv[]);
