/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sbom: the in-memory inventory that the collectors (dpkg.h, pydist.h, npm.h, artifact.h) fill
 * and the writers (cyclonedx.h, spdx.h) serialise.
 *
 * An inventory holds components (packages of an ecosystem, files, models), host facts and
 * warnings. Components are added with sbom_add(), which takes over the component's strings;
 * sbom_sort() puts them in the deterministic order the writers rely on (name, version,
 * architecture, then kind and purl) and drops exact duplicates (the same purl found twice, e.g.
 * one npm package under two trees, or two spellings of one PyPI name). Warnings are for input that
 * was skipped on purpose (broken metadata): collectors record them here and carry on, because
 * libraries never log; the CLI prints them.
 *
 * Limits (sbom-limits.h): SBOM_MAX_COMPONENTS components (-E2BIG past it), SBOM_MAX_WARNINGS
 * warnings stored (the rest only counted). Pure functions otherwise: no I/O.
 * Errors: -ENOMEM, -EINVAL, -E2BIG. Outputs are written only on success.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "macro.h"
#include "sbom-limits.h"

enum sbom_kind {
    SBOM_KIND_DEB = 1, /* Debian package (dpkg database) */
    SBOM_KIND_PYPI,    /* Python distribution (*.dist-info / *.egg-info) */
    SBOM_KIND_NPM,     /* npm package (node_modules/…/package.json) */
    SBOM_KIND_FILE,    /* an artifact file (--artifact) */
    SBOM_KIND_MODEL,   /* an ML model directory (--model), with per-file hashes */
};

#define SBOM_SHA256_LEN 32u
#define SBOM_SHA1_LEN   20u

/* One hashed file of a model: path relative to the model directory, '/'-separated. */
struct sbom_file {
    char *path;
    uint8_t sha256[SBOM_SHA256_LEN];
    uint8_t sha1[SBOM_SHA1_LEN]; /* SPDX 2.3 requires SHA1 for files */
};

/*
 * A component. Every string is NUL-terminated and owned by the component (NULL = absent).
 * Package kinds have name, version and purl; DEB adds arch and, when the binary package is
 * built from a differently named or versioned source, source / source_version. FILE and MODEL
 * have name and has_hash (for a model, the digest is the model-signing root: SHA-256 over the
 * concatenated raw SHA-256 digests of its files in order) and a MODEL has files.
 *
 * Licences: license_expr is an SPDX licence expression when one could be formed; otherwise the
 * free-text names found are in license_names (both may be absent: licence unknown).
 */
struct sbom_component {
    enum sbom_kind kind;
    char *name;
    char *version;
    char *arch;
    char *source;
    char *source_version;
    char *purl;
    char *license_expr;
    char **license_names;
    size_t n_license_names;
    bool has_hash;
    uint8_t sha256[SBOM_SHA256_LEN];
    uint8_t sha1[SBOM_SHA1_LEN];
    struct sbom_file *files;
    size_t n_files;
};

/* Facts about the inventoried system. Strings owned by the inventory; NULL = unknown. */
struct sbom_host {
    char *os_id;         /* os-release ID, e.g. "debian" */
    char *os_version_id; /* VERSION_ID, e.g. "12" */
    char *os_codename;   /* VERSION_CODENAME, e.g. "bookworm" */
    char *os_pretty;     /* PRETTY_NAME */
    char *kernel;        /* uname release (only when the running system is inventoried) */
    char *machine;       /* uname machine */
};

/*
 * What the writers (cyclonedx.h, spdx.h) need besides the inventory. Tests pass fixed values
 * so the output is a golden; the CLI passes sbom_uuid_new() / sbom_timestamp().
 */
struct sbom_reference {
    const char *serial;    /* the full SBOM's UUID (36 lower-case characters) */
    const char *file_name; /* its file name, for the comment */
    uint8_t sha256[SBOM_SHA256_LEN];
    uint8_t sha1[SBOM_SHA1_LEN]; /* SPDX 2.3 external document references name SHA1 */
};

struct sbom_doc_info {
    const char *serial;       /* UUID of this document (36 lower-case characters) */
    const char *timestamp;    /* RFC 3339 UTC, "YYYY-MM-DDThh:mm:ssZ" */
    const char *name;         /* document name (SPDX "name"), e.g. "hwsign-sbom" */
    const char *tool_version; /* hwsign's version */
    /*
     * Non-NULL: this document is the small "reference" SBOM that a signed statement carries
     * when the full one does not fit (docs/sbom.md): it links the full SBOM by UUID and hashes.
     */
    const struct sbom_reference *ref;
};

#define SBOM_TOOL_NAME "hwsign"

struct sbom;

/* New empty inventory. NULL on allocation failure. */
struct sbom *sbom_new(void);
/* Frees everything. Accepts NULL; returns NULL. */
struct sbom *sbom_free(struct sbom *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct sbom *, sbom_free);

/*
 * Adds *c: its strings and arrays move into the inventory and *c is zeroed, on failure too
 * (they are freed then). -EINVAL if c has no name or an unknown kind, -E2BIG when the inventory
 * is full, -ENOMEM.
 */
int sbom_add(struct sbom *s, struct sbom_component *c);
/* Frees the members of a component that was not added (c itself is not freed). NULL-safe. */
void sbom_component_clear(struct sbom_component *c);
/* Appends a copy of name to c's licence names, unless already there (case-sensitive) or c
 * has SBOM_MAX_LICENSES names (then ignored: 0). -ENOMEM. */
int sbom_component_add_license_name(struct sbom_component *c, const char *name);

/* Sorts and de-duplicates (see above). 0 or -ENOMEM (then sorted, not de-duplicated). */
int sbom_sort(struct sbom *s);
size_t sbom_n_components(const struct sbom *s);
/* Borrowed; NULL when i is out of range. */
const struct sbom_component *sbom_component(const struct sbom *s, size_t i);
/* Number of components of one kind. */
size_t sbom_count_kind(const struct sbom *s, enum sbom_kind kind);

/* Host facts (borrowed, never NULL) and setting them: each argument NULL leaves the field
 * unchanged; a value is copied. -ENOMEM. */
const struct sbom_host *sbom_host(const struct sbom *s);
int sbom_set_host(struct sbom *s, const struct sbom_host *h);

/* Records a warning (printf format). Never fails: on a full list or no memory it is only
 * counted. */
void sbom_warn(struct sbom *s, const char *fmt, ...) _printf_(2, 3);
size_t sbom_n_warnings(const struct sbom *s); /* all warnings, stored or not */
/* Stored warning i (borrowed), NULL past the stored ones. */
const char *sbom_warning(const struct sbom *s, size_t i);

/*
 * Copies the FILE and MODEL components (the ones a signed statement names as subjects) and the
 * host facts into a new inventory, already sorted. Without with_files a model keeps its digest
 * but not its per-file list (the reference SBOM stays small). -ENOMEM.
 */
int sbom_copy_subjects(const struct sbom *s, bool with_files, struct sbom **ret);

/* A fresh random (version 4) UUID, lower-case, as 36 characters plus NUL. -ENOTRECOVERABLE if
 * the random generator fails. */
int sbom_uuid_new(char ret[static 37]);
/* RFC 3339 UTC timestamp "YYYY-MM-DDThh:mm:ssZ" of a unix time, 20 characters plus NUL.
 * -ERANGE if the year does not have four digits. */
int sbom_timestamp(int64_t t, char ret[static 21]);

/* True when s (len bytes) is valid UTF-8 without control characters other than tab. */
bool sbom_text_valid(const char *s, size_t len);

/* Lower-case hex of len bytes into out (room for 2 * len + 1 characters). */
void sbom_hex(const uint8_t *data, size_t len, char *out);
