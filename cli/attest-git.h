/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The git source of a measured build (part 2 of the client-side inputs, see attest-inputs.h):
 * the git commit, remote URL (credentials stripped), ref and dirty flag of a work tree, as one
 * SLSA dependency {"uri": "git+URL@REF", "digest": {"gitCommit": ...}}. These are claims of the
 * client, not facts the agent measured.
 *
 * Errors: 0 or a negative errno (STYLE 6); ret_* are written only on success. Nothing here
 * prints. SIGCHLD must not be ignored (SIG_IGN) by the caller, or git children are reaped by
 * the kernel and attest_git_detect fails with -ECHILD.
 */
#pragma once

#include <stdbool.h>

#include "slsa.h"

/* ---- Limits (STYLE 13) ---- */

/* Time a single git invocation may take before it is killed (SIGKILL), by default. */
#define ATTEST_GIT_TIMEOUT_MS 10000u
/* Bytes of git standard output kept per invocation (commit, ref, URL, remote list). */
#define ATTEST_GIT_MAX_OUTPUT 8192u

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
