/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Client-side inputs of `hwsign attest ... -- COMMAND [ARGS...]` (measured builds): everything
 * the CLI observes itself before it asks the agent to sign SLSA provenance (FORMATS 2, 3).
 *
 *   1. attest_digests_*: SHA-256 of the materials and products named on the command line.
 *      A regular file gives one entry; a directory gives one entry per regular file below it.
 *      Entries become in-toto subjects (products) or SLSA resolvedDependencies (materials).
 *   2. attest_git_detect: the git commit, remote URL (credentials stripped), ref and dirty flag
 *      of a work tree, as one SLSA dependency {"uri": "git+URL@REF", "digest": {"gitCommit"}}.
 *   3. attest_run: runs the build command with the caller's stdio, records start and finish
 *      times, the exit status and the working directory, and forwards SIGINT/SIGTERM/SIGHUP to
 *      the command while waiting for it.
 *   4. attest_external_parameters_build: the client's claims as the externalParameters JSON.
 *
 * These are claims of the client, not facts the agent measured (ARCHITECTURE: observed vs
 * claimed); the caller puts them into the predicate as such.
 *
 * Directory walks (attest_digests_add_path):
 *   - names: the path as the user wrote it, normalised (repeated '/' collapsed, "." components
 *     and trailing '/' removed: "./out//bin/" is "out/bin"), joined with '/' to the file's path
 *     relative to that directory ("out/bin/app"). A directory given as "." gives bare relative
 *     names ("bin/app"). ".." components are kept as written.
 *   - every regular file below the directory, at any depth up to ATTEST_MAX_DEPTH, hidden files
 *     and VCS directories (.git) included;
 *   - symbolic links inside a directory are never followed and never digested: they are
 *     recorded in the "skipped" list, as are FIFOs, sockets and devices. A symbolic link given
 *     directly as the argument is resolved (the user named it). An argument that is neither a
 *     regular file nor a directory (after resolving) is an error (-EINVAL).
 *   - directories are opened with openat(O_NOFOLLOW|O_DIRECTORY|O_CLOEXEC) relative to their
 *     parent's descriptor and files with openat(O_NOFOLLOW|O_NONBLOCK|O_CLOEXEC); what was
 *     opened is checked with fstat against the fstatat() that classified it, so a file swapped
 *     for a symlink or a FIFO during the walk is an error (-ESTALE), never followed or blocked
 *     on. A file that vanishes during the walk is an error too (products must be stable).
 *   - the entries of one set are kept sorted bytewise (strcmp) by name over all the paths
 *     added, so the order never depends on readdir() or on the order of the arguments; an entry
 *     found twice with the same name and digest (e.g. "out" and "out/app" both given) is kept
 *     once, with a different digest it is -EEXIST (the file changed while being read).
 *
 * Errors: 0 or a negative errno (STYLE 6); ret_* are written only on success. Nothing here
 * prints: the CLI prints one line per error, naming attest_digests_error_path() where given.
 *
 * Not thread-safe: attest_run installs process-wide signal handlers while the command runs
 * and must not be called concurrently. SIGCHLD must not be ignored (SIG_IGN) by the caller,
 * or children are reaped by the kernel and attest_run / attest_git_detect fail with -ECHILD.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "intoto.h"
#include "slsa.h"

/* ---- Limits (STYLE 13) ---- */

/* Hard cap on the entries of one digest set, whatever max_entries the caller asks for. */
#define ATTEST_MAX_ENTRIES 100000u
/*
 * What the CLI should pass as max_entries: products become in-toto subjects (at most
 * INTOTO_MAX_SUBJECTS per Statement), materials become resolvedDependencies (at most
 * SLSA_MAX_DEPENDENCIES, one kept for the git source). The whole Statement must also fit
 * INTOTO_MAX_STATEMENT bytes, which a few hundred long names can exceed first: the Statement
 * builder reports that as -EMSGSIZE.
 */
#define ATTEST_MAX_PRODUCTS  INTOTO_MAX_SUBJECTS
#define ATTEST_MAX_MATERIALS (SLSA_MAX_DEPENDENCIES - 1u)
/* Bytes of an entry name (and of a path argument): an in-toto subject name must fit. */
#define ATTEST_MAX_NAME INTOTO_MAX_NAME
/* Directory levels below a path argument (the argument itself is depth 0). */
#define ATTEST_MAX_DEPTH 64u
/* Skipped objects whose names are kept; more are only counted. */
#define ATTEST_MAX_SKIPPED_LISTED 1000u
/* Read size when hashing a file: memory stays bounded whatever the file size. */
#define ATTEST_HASH_CHUNK (64u * 1024u)

/* Time a single git invocation may take before it is killed (SIGKILL), by default. */
#define ATTEST_GIT_TIMEOUT_MS 10000u
/* Bytes of git standard output kept per invocation (commit, ref, URL, remote list). */
#define ATTEST_GIT_MAX_OUTPUT 8192u

/* Bytes of the working directory recorded by attest_run. */
#define ATTEST_MAX_PATH 4096u
/* externalParameters JSON text; leaves room in INTOTO_MAX_STATEMENT for the rest. */
#define ATTEST_MAX_EXTERNAL_PARAMS (16u * 1024u)
/* "YYYY-MM-DDTHH:MM:SSZ" plus NUL; the format slsa_timestamp_parse accepts. */
#define ATTEST_TIMESTAMP_SIZE (SLSA_TIMESTAMP_MAX_LEN + 1u)

/* ---- 1. Digests of materials and products ---- */

/* One digested regular file. */
struct attest_entry {
    char *name;          /* see "names" above; NUL-terminated */
    uint8_t sha256[32];  /* SHA-256 of the content */
    char sha256_hex[65]; /* the same, lower-case hex, NUL-terminated */
};

/* Why an object below a directory was not digested. */
enum attest_skip_reason {
    ATTEST_SKIP_SYMLINK = 1,
    ATTEST_SKIP_FIFO,
    ATTEST_SKIP_SOCKET,
    ATTEST_SKIP_DEVICE, /* character or block device */
    ATTEST_SKIP_OTHER,
};

struct attest_skipped {
    char *name; /* named like an entry */
    enum attest_skip_reason reason;
};

struct attest_digests;

/*
 * A new, empty digest set holding at most max_entries entries (1..ATTEST_MAX_ENTRIES, else
 * -EINVAL). -ENOMEM.
 */
int attest_digests_new(size_t max_entries, struct attest_digests **ret);
struct attest_digests *attest_digests_free(struct attest_digests *d); /* NULL-safe, returns NULL */
void attest_digests_freep(struct attest_digests **d);

/*
 * Digest path (a regular file or a directory, see above) into d. All or nothing: on failure d
 * is left as it was before the call, and attest_digests_error_path() names the path that
 * failed: the argument as written, or the entry inside it as named above (for -ENAMETOOLONG
 * below a directory: that directory). Errors:
 *   -EINVAL       path NULL or empty, or not a regular file or directory
 *   -ENOENT ...   the path or an entry cannot be opened or read (-errno of the call)
 *   -E2BIG        more than max_entries entries in the set
 *   -ENAMETOOLONG the argument or an entry name is longer than ATTEST_MAX_NAME bytes
 *   -ELOOP        directories nested deeper than ATTEST_MAX_DEPTH
 *   -ESTALE       an entry changed type or identity between fstatat and open
 *   -EEXIST       the same name twice with different digests
 *   -ENOMEM
 */
int attest_digests_add_path(struct attest_digests *d, const char *path);

/* The path named by the last failed attest_digests_add_path (borrowed), NULL if none. */
const char *attest_digests_error_path(const struct attest_digests *d);

/* Entries, sorted by name. NULL when i is out of range. Borrowed from d. */
size_t attest_digests_count(const struct attest_digests *d);
const struct attest_entry *attest_digests_entry(const struct attest_digests *d, size_t i);

/*
 * Objects skipped inside directories: the total count, and the first ATTEST_MAX_SKIPPED_LISTED
 * found (sorted by name; NULL when i is out of that range). Borrowed from d. A name found again
 * (the same directory given twice) counts once while it is among the listed ones.
 */
size_t attest_digests_skipped_count(const struct attest_digests *d);
size_t attest_digests_skipped_listed(const struct attest_digests *d);
const struct attest_skipped *attest_digests_skipped(const struct attest_digests *d, size_t i);
/* "symlink", "fifo", "socket", "device", "other". */
const char *attest_skip_reason_name(enum attest_skip_reason reason);

/*
 * The entries as in-toto subjects (name, sha256) or SLSA dependencies (name, sha256 hex; no
 * uri), in entry order. *ret is a new array (free() it) whose strings are borrowed from d,
 * NULL when d is empty. -ENOMEM.
 */
int attest_digests_subjects(const struct attest_digests *d, struct intoto_subject **ret,
                            size_t *ret_n);
int attest_digests_dependencies(const struct attest_digests *d, struct slsa_dependency **ret,
                                size_t *ret_n);

/* ---- 2. Git source ---- */

struct attest_git_info {
    char *commit; /* HEAD: 40 (sha1) or 64 (sha256) lower-case hex */
    char *ref;    /* "refs/heads/main", NULL for a detached HEAD */
    char *url;    /* remote "origin" (else the first remote), cleaned as attest_git_clean_url;
                     NULL without a usable remote */
    char *uri;    /* "git+URL@REF" ("git+URL" when detached), a valid TypeURI; NULL without url
                     or when it would not be a valid TypeURI of at most SLSA_MAX_URI bytes */
    bool dirty;   /* `git status --porcelain --untracked-files=normal` printed anything */
};

/*
 * Git facts about the work tree containing dir. git runs via posix_spawnp (PATH lookup, no
 * shell) as `git --no-optional-locks -c core.fsmonitor=false -C DIR ...`, with stdin and stderr
 * on /dev/null, stdout through a pipe (ATTEST_GIT_MAX_OUTPUT bytes kept), every GIT_*
 * environment variable removed, and each invocation killed after timeout_ms (0 means
 * ATTEST_GIT_TIMEOUT_MS).
 *
 * Returns 1 and *ret (free with attest_git_info_free) when dir is inside a work tree with a
 * commit; 0 and *ret = NULL when there is no git information: git is not installed, dir is
 * not inside a work tree (or git refuses it, e.g. unsafe ownership), or HEAD has no commit yet.
 * Errors: -EINVAL (dir NULL or empty), -ETIMEDOUT (git took longer than timeout_ms), -EBADMSG
 * (unexpected git output, e.g. a commit that is not 40/64 hex), -ENOMEM, other -errno.
 */
int attest_git_detect(const char *dir, unsigned timeout_ms, struct attest_git_info **ret);
struct attest_git_info *attest_git_info_free(struct attest_git_info *g); /* NULL-safe */
void attest_git_info_freep(struct attest_git_info **g);

/*
 * A remote URL as recorded in provenance:
 *   - "scheme://[userinfo@]host[:port]/path": the userinfo is removed for http and https (a
 *     user name there is usually a token) and for any scheme when it holds a password
 *     ("user:password@"); "ssh://git@host/x" keeps its user. Scheme and host are lower-cased
 *     (TypeURI rule, FORMATS 2.1).
 *   - scp-like "[user@]host:path" becomes "ssh://[user@]host/path" ("h:~u/r" is
 *     "ssh://h/~u/r", as git reads it).
 *   - an absolute local path "/srv/x.git" becomes "file:///srv/x.git".
 * Anything else (relative paths, control characters, whitespace, no host, a host starting
 * with "-") is -EINVAL.
 * *ret_url is a new string.
 */
int attest_git_clean_url(const char *url, char **ret_url);

/*
 * g as a SLSA resolved dependency: uri = g->uri (may be NULL), digest gitCommit = g->commit,
 * no name. Strings are borrowed from g. -EINVAL when g or its commit is NULL.
 */
int attest_git_dependency(const struct attest_git_info *g, struct slsa_dependency *ret);

/* ---- 3. Running the build command ---- */

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

/* ---- 4. externalParameters ---- */

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
