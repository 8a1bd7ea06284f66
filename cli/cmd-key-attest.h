/* SPDX-License-Identifier: Apache-2.0 */
/* hwsign key ak | attest | verify-attestation (cmd-key-attest.c), run from cmd-key.c. */
#pragma once

#include "main.h"

int key_ak(int argc, char *argv[], const struct cli_context *ctx);
int key_attest(int argc, char *argv[], const struct cli_context *ctx);
int key_verify_attestation(int argc, char *argv[], const struct cli_context *ctx);
