/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Running the build command of `hwsign attest ... -- COMMAND [ARGS...]` and the client's claims
 * about it (parts 3 and 4 of the client-side inputs, see attest-inputs.h):
 *
 *   - attest_run: runs the build command with the caller's stdio, records start and finish
 *     times, the exit status and the working directory, and forwards SIGINT/SIGTERM/SIGHUP to
 *     the command while waiting for it.
 *   - attest_external_parameters_build: the client's claims as the externalParameters JSON.
 *   - attest_reap, attest_spawnattr_destroyp: child-process helpers shared with attest-git.c.
 *
 * Errors: 0 or a negative errno (STYLE 6); ret_* are written only on success. Nothing here
 * prints. Not thread-safe: attest_run installs process-wide signal handlers while the command
 * runs and must not be called concurrently. SIGCHLD must not be ignored (SIG_IGN) by the
 * caller, or children are reaped by the kernel and attest_run fails with -ECHILD.
 */
#pragma once

#include <spawn.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <time.h>

#include "attest-git.h"
#include "slsa.h"

/* ---- Limits (STYLE 13) ---- */

/* Bytes of the working directory recorded by attest_run. */
#define ATTEST_MAX_PATH 4096u
/* externalParameters JSON text; leaves room in INTOTO_MAX_STATEMENT for the rest. */
#define ATTEST_MAX_EXTERNAL_PARAMS (16u * 1024u)
/* "YYYY-MM-DDTHH:MM:SSZ" plus NUL; the format slsa_timestamp_parse accepts. */
#define ATTEST_TIMESTAMP_SIZE (SLSA_TIMESTAMP_MAX_LEN + 1u)

/* ---- Running the build command ---- */

struct attest_run_result {
    struct timespec started;                     /* CLOCK_REALTIME just before the spawn */
    struct timespec finished;                    /* CLOCK_REALTIME once the command exited */
    char started_on[ATTEST_TIMESTAMP_SIZE];      /* the same, RFC 3339 UTC, whole seconds */
    char finished_on[ATTEST_TIMESTAMP_SIZE];     /* ("2025-01-01T00:00:00Z") */
    char working_directory[ATTEST_MAX_PATH + 1]; /* getcwd() the command started in */
    pid_t pid;                                   /* of the command, for messages */
    bool signaled;                               /* the command was killed by a signal */
    int exit_code;                               /* its exit status 0..255 when !signaled, else 0 */
    int signal;                                  /* the signal number when signaled, else 0 */
    int interrupt; /* last of SIGINT/SIGTERM/SIGHUP this process got while waiting, 0 none */
};

/*
 * Run argv[0] (PATH lookup as execvp; argv NULL-terminated) with the caller's environment,
 * stdin, stdout and stderr, and wait for it. The command gets the caller's signal mask, and
 * SIGPIPE at its default action (clients ignore SIGPIPE; a build must not inherit that).
 *
 * While waiting, SIGINT, SIGTERM and SIGHUP are caught (unless the caller ignores them, then
 * they stay ignored, and are so in the command) and sent on to the command, so this process
 * never dies leaving the build running. Signals the kernel generated for the terminal's
 * process group (Ctrl-C: si_code SI_KERNEL) already reached the command, which shares the
 * group, and are not sent twice. The previous handlers and mask are restored before
 * returning; the caller sees the signal in ret->interrupt and decides (e.g. no provenance).
 *
 * 0 once the command ran, whatever its exit status (see ret). Errors (nothing ran, no
 * provenance): -ENOENT command not found (a shell would exit 127), -EACCES / -ENOEXEC not
 * executable (126), -EINVAL argv NULL or empty, -ENAMETOOLONG working directory longer than
 * ATTEST_MAX_PATH, other -errno. ret is written only on success.
 */
int attest_run(char *const argv[], struct attest_run_result *ret);

/* The status a shell would report: exit_code, or 128 + signal when signaled. */
int attest_run_shell_status(const struct attest_run_result *r);

/* ---- externalParameters ---- */

/*
 * The client's claims as the SLSA externalParameters object text, deterministic (same inputs,
 * same bytes), members in this order:
 *   {"command": [argv...], "workingDirectory": run->working_directory,
 *    "exitStatus": N            (run->exit_code, when the command exited)
 *    | "exitSignal": N,         (run->signal, when it was killed by a signal)
 *    "source": {"uri": source->uri (omitted when NULL), "commit": source->commit,
 *               "dirty": true|false}}   (omitted when source is NULL)
 * The text is strict JSON (json.h) of at most ATTEST_MAX_EXTERNAL_PARAMS bytes, NUL-terminated
 * (*ret_len without the NUL); checked with fjson_parse_object before it is returned.
 * Errors: -EINVAL (argv NULL or empty, a string that is not UTF-8, source without commit),
 * -EMSGSIZE (over the limit), -ENOMEM.
 */
int attest_external_parameters_build(char *const argv[], const struct attest_run_result *run,
                                     const struct attest_git_info *source, char **ret,
                                     size_t *ret_len);

/* ---- Child processes (shared with attest-git.c) ---- */

/* waitpid(pid, ret_status, 0), retried on EINTR: 0, or -errno (-ECHILD: not our child). */
int attest_reap(pid_t pid, int *ret_status);

/* Cleanup for a pointer to an initialised posix_spawnattr_t (NULL: nothing to destroy). */
void attest_spawnattr_destroyp(posix_spawnattr_t **a);
