/* SPDX-License-Identifier: Apache-2.0 */
/* Shared by hwsign attest-blob (cmd-attest.c) and hwsign attest (cmd-attest-run.c). */
#pragma once

#include <stddef.h>

#include <hwsign/hwsign.h>

#include "dsse.h"

/*
 * The agent's DSSE envelope for key: payload type in-toto, exactly one signature, which
 * verifies with the key's public key (fetched from the agent) and whose keyid is the key's
 * hint; with stmt, the payload must be exactly stmt. *ret_hint gets the hint. Returns an exit
 * status (one-line error printed).
 */
int attest_check_envelope(struct hwsign_client *client, const char *key,
                          const struct dsse_envelope *env, const char *stmt, size_t stmt_len,
                          char **ret_hint);
/*
 * Has the agent sign the in-toto statement stmt with key and checks its envelope as above;
 * what names the thing signed in the error message ("the model"). *ret_env and *ret_hint are
 * written on success; the signature's log index is hwsign_last_log_index(client). Returns an
 * exit status (one-line error printed).
 */
int attest_sign_statement(struct hwsign_client *client, const char *key, const char *stmt,
                          size_t stmt_len, const char *what, struct dsse_envelope **ret_env,
                          char **ret_hint);
