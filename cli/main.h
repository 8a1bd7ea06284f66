/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Shared declarations of the hwsign command-line tool: the command table entry type, the
 * command groups (one file each) and the helpers they share.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <hwsign/hwsign.h>

#include "macro.h"

/* Cleanup functions for libhwsign objects. */
DEFINE_TRIVIAL_CLEANUP_FUNC(struct hwsign_client *, hwsign_disconnect);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct hwsign_status *, hwsign_status_free);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct hwsign_key_info *, hwsign_key_info_free);

/* State from the global options, handed to every command. */
struct cli_context {
    const char *socket; /* --socket PATH; NULL = hwsign_default_socket() */
};

/*
 * A command or subcommand. run() gets argv[0] = its own name, parses its options with
 * getopt_long (optind reset by the callee) and returns an enum cli_exit value.
 */
struct cli_command {
    const char *name;
    int (*run)(int argc, char *argv[], const struct cli_context *ctx);
};

/* Command groups: argv[0] is "key", "sign", ... */
int cmd_key(int argc, char *argv[], const struct cli_context *ctx);
int cmd_sign(int argc, char *argv[], const struct cli_context *ctx);
int cmd_attest_blob(int argc, char *argv[], const struct cli_context *ctx);
int cmd_attest(int argc, char *argv[], const struct cli_context *ctx); /* cmd-attest-run.c */
int cmd_verify(int argc, char *argv[], const struct cli_context *ctx);
int cmd_status(int argc, char *argv[], const struct cli_context *ctx);
/* hwsign log verify|search: offline audit of the signing log file (no agent). */
int cmd_log(int argc, char *argv[], const struct cli_context *ctx);
/* hwsign sign-model / verify-model: OpenSSF model signing (cmd-model.c). */
int cmd_sign_model(int argc, char *argv[], const struct cli_context *ctx);
int cmd_verify_model(int argc, char *argv[], const struct cli_context *ctx);
/* hwsign sbom: SBOM inventory as CycloneDX / SPDX, optionally signed (cmd-sbom.c). */
int cmd_sbom(int argc, char *argv[], const struct cli_context *ctx);

/*
 * Connects to the agent (ctx->socket or the library default). On failure prints the one-line
 * error and returns the exit status; 0 on success.
 */
int cli_connect(const struct cli_context *ctx, struct hwsign_client **ret);

/*
 * SHA-256 of a file, streaming with bounded memory; path "-" reads stdin to EOF.
 * 0 or -errno (ret written on success only).
 */
int hash_input_sha256(const char *path, uint8_t ret[static 32]);

/*
 * A whole user-named file (symlinks followed, O_CLOEXEC) of at most max bytes, or stdin to EOF
 * for "-". 0, -EFBIG when larger, or -errno (cmd-verify.c).
 */
int read_input_bounded(const char *path, size_t max, uint8_t **ret, size_t *ret_len);
/*
 * A PEM or DER public key file -> DER SPKI. Returns an exit status; on failure the one-line
 * error is printed (4: unreadable, too large or not a public key).
 */
int load_public_key_file(const char *path, uint8_t **ret_spki, size_t *ret_len);
