/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Digests of the materials and products named on the `hwsign attest` command line (part 1 of
 * the client-side inputs, see attest-inputs.h): SHA-256 of each regular file. A regular file
 * gives one entry; a directory gives one entry per regular file below it. Entries become in-toto
 * subjects (products) or SLSA resolvedDependencies (materials).
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
 * Not thread-safe per set.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

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
/*
 * Read size when hashing a file: memory stays bounded whatever the file size. Files are hashed
 * with hash_fd() (crypto.h), so this is its HASH_FD_CHUNK.
 */
#define ATTEST_HASH_CHUNK (64u * 1024u)

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
