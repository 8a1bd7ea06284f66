/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Client-side inputs of `hwsign attest ... -- COMMAND [ARGS...]` (measured builds): everything
 * the CLI observes itself before it asks the agent to sign SLSA provenance (FORMATS 2, 3).
 * This header gathers the three modules that produce them:
 *
 *   1. attest-digest.h  attest_digests_*: SHA-256 of the materials and products named on the
 *                       command line (in-toto subjects, SLSA resolvedDependencies).
 *   2. attest-git.h     attest_git_*: the git commit, remote URL (credentials stripped), ref and
 *                       dirty flag of a work tree, as one SLSA dependency.
 *   3. attest-run.h     attest_run: runs the build command and records what happened;
 *      (4.)             attest_external_parameters_build: the client's claims as the
 *                       externalParameters JSON.
 *
 * These are claims of the client, not facts the agent measured (ARCHITECTURE: observed vs
 * claimed); the caller puts them into the predicate as such. Code that needs only one part may
 * include that module's header instead.
 */
#pragma once

#include "attest-digest.h"
#include "attest-git.h"
#include "attest-run.h"
