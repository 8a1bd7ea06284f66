/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Build measurement: facts the agent observes ITSELF about the host, a requesting peer and the
 * configured toolchain, rendered as one deterministic JSON object for SLSA internalParameters
 * (or a byproduct). Nothing here comes from the client: a compromised build script can lie in
 * its request, but not about what the kernel reports for its process.
 *
 * Three kinds of facts:
 *   - host (measure_host_read, once at start): kernel release and machine, ID / VERSION_ID /
 *     PRETTY_NAME from os-release(5), the boot id, and a digest of the machine id. The raw
 *     machine id is never recorded (machine-id(5) asks not to expose it); instead
 *         machine_id_sha256 = hex(SHA-256(MEASURE_MACHINE_ID_CONTEXT || machine-id))
 *     over the 32 lower-case hex characters of /etc/machine-id (no newline). Missing or invalid
 *     files give empty fields (rendered null), never an error.
 *   - peer (measure_peer_read, per request): the executable (path and SHA-256 of the file the
 *     process runs, hashed through an fd opened on /proc/PID/exe, so a rename cannot swap it),
 *     argv, cgroup v2 path with the systemd unit and container id derived from it, working
 *     directory, and allowlisted environment variables. Afterwards the process identity is
 *     re-checked (see measure_peer_read): a process that died, was replaced by a recycled pid
 *     or exec'd another file during the measurement fails with -ESRCH, so facts of two different
 *     processes are never mixed.
 *   - toolchain (measure_toolchain_update, per request): SHA-256 of configured files such as
 *     /usr/bin/cc, cached by (dev, ino, size, mtime ns, ctime ns) so an unchanged compiler is
 *     hashed once.
 *
 * Trust notes:
 *   - argv and environment live in the peer's own memory: they are what the process shows
 *     (it may have rewritten them), unlike the executable and cgroup, which the kernel keeps.
 *   - "unit" is the OUTERMOST unit-named cgroup component (the system manager's unit, e.g.
 *     "gitlab-runner.service" or "user@1000.service"), which only PID 1 creates. Components
 *     below it may belong to a delegated subtree (user manager, container runtime) whose owner
 *     names them freely; the innermost unit-named one is reported separately as "nested_unit"
 *     and must not be trusted for policy. The container id is derived from whatever component
 *     carries one and is equally informational.
 *   - Reading /proc/PID/{exe,environ,cwd} of a process of another user needs ptrace read access
 *     (CAP_SYS_PTRACE). Without it the executable cannot be measured (-EACCES).
 *   - The toolchain cache trusts (dev, ino, size, mtime, ctime): a change that keeps all five
 *     (only possible for root, within one timestamp tick) is not noticed.
 *
 * JSON (members always in this order; null where a fact is unknown):
 *   {"observer":"hwsign-agent",
 *    "peer":{"uid":N,"gid":N,"pid":N,"exe":{"path":T,"sha256":H},
 *            "cmdline":[T,...],"cmdline_truncated":B,"cwd":T|null,
 *            "cgroup":T|null,"unit":S|null,"nested_unit":S|null,"container":H|null,
 *            "environment":{"observable":true,"truncated":B,"variables":{NAME:T|null,...}}
 *                        | {"observable":false,"error":"EACCES"}},
 *    "host":{"kernel":S,"arch":S,"os":{"id":T|null,"version_id":T|null,"pretty_name":T|null},
 *            "boot_id":S|null,"machine_id_sha256":H|null},
 *    "toolchain":[{"path":T,"status":"ok"|"missing"|"error"|"unmeasured","realpath":T|null,
 *                  "sha256":H|null,"error":"EACCES"|null},...]}
 *   N is a JSON integer, B a boolean, H lower-case hex, S a string. T is a JSON string when the
 *   bytes are valid UTF-8, else {"base64":"..."} (standard alphabet, padded) so that no byte of
 *   evidence is lost or altered. Environment variables are sorted by name (bytewise); a value of
 *   null means "withheld because the name looks secret" (see below). "peer" is null and
 *   "toolchain" [] when not given. Same inputs give the same bytes.
 *
 * Environment rules: an allowlist entry is an exact name ("CI") or a prefix ending in '*'
 * ("GITHUB_*"); a bare "*" is refused. A variable is recorded when its name matches; if the
 * name contains, ignoring case, any of TOKEN SECRET PASSWORD PASSWD PASSPHRASE KEY CREDENTIAL
 * AUTH COOKIE SESSION PRIVATE, only its name is recorded, with value null. The first of
 * duplicate names wins (what getenv() returns). Variables over a limit (name, value, count, or
 * beyond the bytes read) are left out and "truncated" is set. If /proc/PID/environ cannot be
 * read (other uid without CAP_SYS_PTRACE: EACCES), the environment is reported as not
 * observable with the errno name; that is not a failure.
 *
 * Errors: 0 or -errno; outputs written only on success. Not thread-safe per object.
 *
 * The module is split along these sections: measure.c (peer, rendering), measure-host.c (host,
 * the pure parsers), measure-toolchain.c; measure-internal.h declares what they share.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "macro.h"
#include "peer.h"

/* Limits (STYLE 13). */
#define MEASURE_MAX_EXE_SIZE    (1024ull * 1024u * 1024u) /* bytes hashed of one executable */
#define MEASURE_MAX_TOOL_SIZE   MEASURE_MAX_EXE_SIZE      /* bytes hashed of one toolchain file */
#define MEASURE_MAX_PATH        4096u          /* exe / cwd / realpath length (PATH_MAX) */
#define MEASURE_MAX_CMDLINE     4096u          /* bytes of /proc/PID/cmdline kept */
#define MEASURE_MAX_ARGS        256u           /* argv entries kept */
#define MEASURE_MAX_ENVIRON     (256u * 1024u) /* bytes of /proc/PID/environ read */
#define MEASURE_MAX_ENV_ALLOW   64u            /* allowlist entries */
#define MEASURE_MAX_ENV_NAME    128u           /* bytes of a variable name (and of a pattern) */
#define MEASURE_MAX_ENV_VARS    32u            /* variables recorded */
#define MEASURE_MAX_ENV_VALUE   512u           /* bytes of one recorded value */
#define MEASURE_MAX_CGROUP_FILE 8192u          /* bytes of /proc/PID/cgroup read */
#define MEASURE_MAX_CGROUP_PATH 2048u          /* bytes of the cgroup v2 path */
#define MEASURE_MAX_UNIT_NAME   255u           /* systemd's UNIT_NAME_MAX - 1 */
#define MEASURE_CONTAINER_ID    64u            /* hex digits of a container id */
#define MEASURE_MAX_OS_RELEASE  (64u * 1024u)  /* bytes of os-release parsed */
#define MEASURE_MAX_OS_LINE     1024u          /* longer os-release lines are ignored */
#define MEASURE_MAX_OS_FIELD    255u           /* bytes of an os-release value kept */
#define MEASURE_MAX_TOOLCHAIN   32u            /* toolchain entries */
#define MEASURE_MAX_JSON        (32u * 1024u)  /* rendered JSON text */

#define MEASURE_SHA256_LEN         32u
#define MEASURE_MACHINE_ID_CONTEXT "hwsign machine-id v1\n"
#define MEASURE_OBSERVER           "hwsign-agent"

/* ---- pure parsers (exposed for tests and fuzzing) ---- */

/* What a cgroup file says. Empty strings mean "none". */
struct measure_cgroup {
    char path[MEASURE_MAX_CGROUP_PATH + 1]; /* the "0::" path, e.g. "/system.slice/a.service" */
    char unit[MEASURE_MAX_UNIT_NAME + 1];   /* outermost .service/.scope/.socket/.mount/.swap */
    char nested_unit[MEASURE_MAX_UNIT_NAME + 1]; /* innermost unit below unit (delegated) */
    char container[MEASURE_CONTAINER_ID + 1];    /* 64 lower-case hex digits */
};

/*
 * Parse /proc/PID/cgroup text (text[0..len), not NUL-terminated). Only the cgroup v2 line
 * "0::/path" counts; other lines (v1 hierarchies, garbage) are skipped. A trailing
 * " (deleted)" is kept in path but ignored for the derivations. The container id comes from the
 * innermost component that is 64 hex digits or "docker-<id>.scope", "cri-containerd-<id>.scope",
 * "crio-<id>.scope", "libpod-<id>.scope". -ENOENT no "0::" line, -EINVAL the line is malformed
 * (path not absolute, NUL byte, two "0::" lines), -ENAMETOOLONG path over the limit.
 */
int measure_parse_cgroup(const char *text, size_t len, struct measure_cgroup *ret);

/* Fields of os-release(5). Empty strings when absent. */
struct measure_os {
    char id[MEASURE_MAX_OS_FIELD + 1];
    char version_id[MEASURE_MAX_OS_FIELD + 1];
    char pretty_name[MEASURE_MAX_OS_FIELD + 1];
};

/*
 * Parse os-release text: KEY=VALUE lines with shell quoting ('...' literal; "..." with \" \\ \$
 * \` escapes; unquoted words with backslash escapes; adjacent pieces concatenate), blank lines
 * and '#' comments. A line that is over MEASURE_MAX_OS_LINE, malformed (bad key, unterminated
 * quote, text after the value other than a comment, NUL byte) or whose value is over
 * MEASURE_MAX_OS_FIELD is ignored. The last assignment of a key wins. Always 0.
 */
int measure_parse_os_release(const char *text, size_t len, struct measure_os *ret);

/* ---- host ---- */

struct measure_host;

/* Read the host facts (see top). 0 or -ENOMEM. */
int measure_host_read(struct measure_host **ret);
/*
 * Same with every file read below root (root + "/etc/os-release", root + "/usr/lib/os-release",
 * root + "/etc/machine-id", root + "/proc/sys/kernel/random/boot_id"); kernel and arch always
 * come from uname(2). root NULL means "/". -ENAMETOOLONG if root is too long.
 */
int measure_host_read_at(const char *root, struct measure_host **ret);
struct measure_host *measure_host_free(struct measure_host *h);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct measure_host *, measure_host_free);

/* ---- peer ---- */

struct measure_peer;

/*
 * Measure the process p->pid (uid and gid are taken from p, i.e. SO_PEERCRED; p->pidfd may be
 * -1). env_allow lists n_env_allow patterns (see top).
 *
 * With a pidfd, its fdinfo "Pid:" must name p->pid first. Identity check after all reads: the
 * process must not be a zombie, its /proc/PID/stat starttime must be unchanged (a recycled pid
 * has a later start time; the tick is 10 ms), /proc/PID/exe must still be the file that was
 * hashed (same dev and ino: no exec meanwhile), and with a pidfd pidfd_send_signal(pidfd, 0) must
 * not report ESRCH (EPERM means alive but another user's). The pidfd is what makes the check
 * exact: while the process it names lives, its pid cannot be reused.
 *
 * Returns 0; -ESRCH the process is gone, a zombie or was replaced; -EACCES its executable cannot
 * be read (or /proc hides it); -EFBIG executable over MEASURE_MAX_EXE_SIZE; -EINVAL bad
 * arguments or allowlist pattern, or a pidfd of another process; -EMSGSIZE more than
 * MEASURE_MAX_ENV_ALLOW patterns; -ENOMEM; other -errno from reading /proc. cwd, cgroup and
 * environment are best effort.
 */
int measure_peer_read(const struct peer *p, const char *const *env_allow, size_t n_env_allow,
                      struct measure_peer **ret);
/* Same with proc_root instead of "/proc" (tests use a fake tree). */
int measure_peer_read_at(const char *proc_root, const struct peer *p, const char *const *env_allow,
                         size_t n_env_allow, struct measure_peer **ret);
struct measure_peer *measure_peer_free(struct measure_peer *m);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct measure_peer *, measure_peer_free);

/* Borrowed views for policy and logs. */
const char *measure_peer_exe_path(const struct measure_peer *m);
const uint8_t *measure_peer_exe_sha256(const struct measure_peer *m); /* MEASURE_SHA256_LEN */
const struct measure_cgroup *measure_peer_cgroup(const struct measure_peer *m); /* NULL unknown */

/*
 * Testing only: when set, called at these points so tests can kill, replace or exec the process,
 * or modify a file, at exactly that moment. Never set in the agent.
 */
enum measure_test_point {
    MEASURE_TEST_PEER_BEFORE_VERIFY, /* after every read of pid, before the identity check */
    MEASURE_TEST_TOOL_HASHED,        /* path (a realpath) hashed, before its re-stat */
};
extern void (*measure_test_hook)(enum measure_test_point point, pid_t pid, const char *path);

/* ---- toolchain ---- */

struct measure_toolchain;

/*
 * A toolchain of n absolute paths (n <= MEASURE_MAX_TOOLCHAIN, each shorter than
 * MEASURE_MAX_PATH). No I/O: entries stay "unmeasured" until measure_toolchain_update.
 * -EINVAL relative/empty path, -EMSGSIZE over a limit, -ENOMEM.
 */
int measure_toolchain_new(const char *const *paths, size_t n, struct measure_toolchain **ret);
struct measure_toolchain *measure_toolchain_free(struct measure_toolchain *tc);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct measure_toolchain *, measure_toolchain_free);

/*
 * Re-stat every entry: resolve symlinks (realpath), open the file, and hash it unless its
 * (dev, ino, size, mtime ns, ctime ns) equals the cached one. A path that does not exist is
 * "missing"; other problems (unreadable, not a regular file, over MEASURE_MAX_TOOL_SIZE,
 * changed while being hashed: EAGAIN) make the entry "error" with the errno. Per-entry problems
 * are not failures: 0, or -ENOMEM.
 */
int measure_toolchain_update(struct measure_toolchain *tc);
/* Number of files hashed so far (cache misses). */
uint64_t measure_toolchain_hash_count(const struct measure_toolchain *tc);

/* ---- rendering ---- */

/*
 * The JSON described at the top. host is required; peer and toolchain may be NULL. Pure: no
 * I/O. *ret is NUL-terminated (free() it), *ret_len excludes the NUL. -EINVAL no host,
 * -EMSGSIZE over MEASURE_MAX_JSON, -ENOMEM.
 */
int measure_render_json(const struct measure_host *host, const struct measure_peer *peer,
                        const struct measure_toolchain *tc, char **ret, size_t *ret_len);
