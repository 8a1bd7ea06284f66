/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Model-relative paths, as the OpenSSF model-signing format names files (FORMATS 6.2, 6.3): POSIX
 * paths relative to the model directory, e.g. "d0/f00". Pure functions, no I/O.
 *
 * Canonical form (what the manifest records and what every function here expects as input
 * unless it says otherwise): 1..MODEL_MAX_PATH bytes of valid UTF-8, components separated by
 * single '/', no leading or trailing '/', no empty, "." or ".." component, no NUL and no control
 * character below 0x20 (they are legal in Linux names but not in anything we want to sign).
 *
 * Order: paths compare component by component (each component by unsigned bytes, a prefix
 * first), the order of Python's PurePosixPath that model_signing sorts resources by. It differs
 * from strcmp() when a name holds a byte below '/': "a/b" < "a-b" < "a.b" here, while strcmp()
 * gives "a-b" < "a.b" < "a/b".
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* Whether p[0..len) is a canonical model-relative path (see above). */
bool model_path_is_canonical(const char *p, size_t len);

/*
 * Lexical normalisation of a user-given model-relative path ("./a//b/" -> "a/b"): drops "."
 * components, repeated and trailing '/'. -EINVAL for an absolute path, a ".." component, a
 * result that is empty or not canonical; -ENAMETOOLONG over MODEL_MAX_PATH. *ret is malloc'd.
 */
int model_path_normalize(const char *in, char **ret);

/* <0, 0, >0 as a sorts before, equal to or after b in component order (canonical inputs). */
int model_path_compare(const char *a, const char *b);

/* Whether path is prefix itself or lies below it ("a/b" is within "a", "ab" is not). */
bool model_path_within(const char *path, const char *prefix);
