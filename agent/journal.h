/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Structured logging of the agent: journald (sd_journal_send with MESSAGE_ID, PEER_UID,
 * PEER_GID, PEER_PID, KEY_ID, BACKEND, NATIVE_ERROR fields) when running under systemd,
 * otherwise one line per event on stderr. Payloads and secrets are never logged.
 */
#pragma once

#include <syslog.h>

#include "config.h"
#include "macro.h"
#include "peer.h"

/* Message ids of events an auditor searches for. */
#define LOG_ID_PEER_REFUSED   "2c7d4b1a9e6f4d03a1b5c8e7f6a9d201"
#define LOG_ID_REQUEST_DENIED "2c7d4b1a9e6f4d03a1b5c8e7f6a9d202"
#define LOG_ID_SIGNED         "2c7d4b1a9e6f4d03a1b5c8e7f6a9d203"
#define LOG_ID_KEY_CHANGED    "2c7d4b1a9e6f4d03a1b5c8e7f6a9d204"
#define LOG_ID_BACKEND        "2c7d4b1a9e6f4d03a1b5c8e7f6a9d205"
#define LOG_ID_LIFECYCLE      "2c7d4b1a9e6f4d03a1b5c8e7f6a9d206"

struct log_fields {
    const char *msgid;
    const struct peer *peer;
    const char *key;
    const char *backend;
    const char *native; /* CKR_* / TSS2_RC text */
};

void log_setup(enum log_target target);
/* Logs at priority prio (LOG_ERR...). f may be NULL. */
_printf_(3, 4) void log_event(int prio, const struct log_fields *f, const char *fmt, ...);
#define log_info(...)    log_event(LOG_INFO, NULL, __VA_ARGS__)
#define log_warning(...) log_event(LOG_WARNING, NULL, __VA_ARGS__)
#define log_error(...)   log_event(LOG_ERR, NULL, __VA_ARGS__)
