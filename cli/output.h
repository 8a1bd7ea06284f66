/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Exit codes, one-line error reporting and output helpers (human text and --json) of the
 * hwsign command-line tool.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include <hwsign/hwsign.h>

#include "macro.h"

/*
 * Exit status of every hwsign command (ARCHITECTURE.md §4). `hwsign --help` prints this table.
 *
 *   0  CLI_EXIT_OK           success ("Verified OK" for verify)
 *   1  CLI_EXIT_REFUSED      the signature does not verify, or the agent refused the request
 *                            (-EACCES/-EPERM: peer or request not allowed by policy, or no
 *                            permission on the agent socket)
 *   2  CLI_EXIT_USAGE        unknown command or option, missing or extra argument, invalid key
 *                            or backend name, bad --alg/--format/--uri; also an agent reply of
 *                            -EINVAL (an argument the agent considers invalid)
 *   3  CLI_EXIT_UNAVAILABLE  agent or hardware unavailable: no agent at the socket (-ENOENT,
 *                            -ECONNREFUSED), connection lost (-ECONNRESET, -EPIPE, -ENOTCONN,
 *                            -ESHUTDOWN: agent stopping), backend down (-ENODEV, -ENXIO),
 *                            device busy past its deadline (-ETIMEDOUT, -EBUSY, -EAGAIN),
 *                            agent at a resource limit (-EUSERS: connections, queue, keys),
 *                            PIN rejected or locked (-EKEYREJECTED, -EKEYREVOKED, -EKEYEXPIRED)
 *   4  CLI_EXIT_ERROR        anything else: no such key (-ENOKEY), name already used (-EEXIST),
 *                            unsupported request or algorithm (-EOPNOTSUPP, -EPROTONOSUPPORT),
 *                            field too large (-EMSGSIZE), malformed or unexpected reply
 *                            (-EBADMSG, -EPROTO), device made a bad signature
 *                            (-ENOTRECOVERABLE), agent internal error (-EIO), errors reading
 *                            or writing local files, out of memory
 */
enum cli_exit {
    CLI_EXIT_OK = 0,
    CLI_EXIT_REFUSED = 1,
    CLI_EXIT_USAGE = 2,
    CLI_EXIT_UNAVAILABLE = 3,
    CLI_EXIT_ERROR = 4,
};

/* Exit status for a -errno returned by a libhwsign call (the table above). */
enum cli_exit cli_exit_from_agent_error(int r);

/*
 * Error reporting. Each prints exactly one line "hwsign: <message>" on stderr (control
 * characters, e.g. in an agent's explanation, are replaced so the line stays one line) and
 * returns the exit status the caller should use.
 */
/* Message as given; returns code. */
int log_error(enum cli_exit code, const char *fmt, ...) _printf_(2, 3);
/* "<message>: strerror(-r)"; a local failure (file I/O, memory): returns CLI_EXIT_ERROR. */
int log_errno(int r, const char *fmt, ...) _printf_(2, 3);
/* "<message>: <hwsign_client_error(c) or strerror(-r)>"; returns cli_exit_from_agent_error(r).
 * c may be NULL (e.g. the connection was never made). */
int log_agent_error(const struct hwsign_client *c, int r, const char *fmt, ...) _printf_(3, 4);
/* "<cmd>: <message> (see 'hwsign <cmd> --help')"; returns CLI_EXIT_USAGE. */
int log_usage(const char *cmd, const char *fmt, ...) _printf_(2, 3);
/* The getopt_long() failure just seen (c is '?' or ':'), as a usage error of cmd. */
int log_bad_option(const char *cmd, int c, char *const argv[]);

/*
 * Writes data to path atomically (mode 0644), or to stdout when path is NULL or "-".
 * 0 or -errno.
 */
int write_output(const char *path, const void *data, size_t len);

/* snprintf into buf (size >= 4) that marks truncation with a trailing "..." (messages only). */
void format_message(char *buf, size_t size, const char *fmt, ...) _printf_(3, 4);

/*
 * Agent-supplied text for a terminal: a copy of s (NULL -> "") in buf with control characters
 * replaced by '?', truncated to size - 1 bytes. Returns buf. PRINTABLE(s) uses a temporary
 * buffer that lives until the end of the enclosing block.
 */
const char *printable(const char *s, char *buf, size_t size);
#define PRINTABLE(s) printable((s), (char[HWSIGN_MAX_URI + 1]){0}, HWSIGN_MAX_URI + 1)

/* New string a followed by b. 0 or -ENOMEM. */
int str_join(const char *a, const char *b, char **ret);

/* "2025-01-01T00:00:00Z" for a unix time. 0 or -ERANGE/-EINVAL. */
int format_timestamp(uint64_t t, char *buf, size_t size);

/* json-c helpers. Each returns 0 or -ENOMEM. NULL strings become JSON null. */
DEFINE_TRIVIAL_CLEANUP_FUNC(struct json_object *, json_object_put);
/* Adds val under key; takes ownership of val even on failure. */
int json_add(struct json_object *o, const char *key, struct json_object *val);
int json_add_string(struct json_object *o, const char *key, const char *val);
int json_add_u64(struct json_object *o, const char *key, uint64_t val);
int json_add_bool(struct json_object *o, const char *key, bool val);
/* Adds a comma-separated list ("alice,bob", "" = none) as a JSON array of strings. */
int json_add_csv(struct json_object *o, const char *key, const char *csv);
/* Prints o as one pretty-printed JSON document on stdout. 0 or -errno. */
int json_print(struct json_object *o);
