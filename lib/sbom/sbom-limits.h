/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Named limits of lib/sbom (STYLE 13), all in one place. Every byte count, entry count and
 * depth that an inventoried file system (a container image's root file system is untrusted
 * input) or an SBOM handed to `hwsign verify --sbom` can influence is checked against one of
 * these before anything is allocated for it.
 *
 * Sizing: this machine's dpkg database is ~750 KiB for ~850 packages; a large developer
 * workstation reaches ~10 MiB for ~6000. A METADATA header block or a package.json is a few KiB.
 */
#pragma once

/* The inventory as a whole. */
#define SBOM_MAX_COMPONENTS 200000u /* components in one inventory (all collectors together) */
#define SBOM_MAX_FIELD      1024u   /* bytes of one name, version, architecture or source */
#define SBOM_MAX_LICENSES   32u     /* distinct licence names kept per component */
#define SBOM_MAX_LICENSE    256u    /* bytes of one licence name or expression */
#define SBOM_MAX_WARNINGS   256u    /* warnings kept (more are counted, not stored) */
#define SBOM_MAX_WARNING    512u    /* bytes of one warning */
#define SBOM_MAX_PATH       4096u   /* bytes of a path relative to the inventoried root */

/* Debian. */
#define SBOM_MAX_DPKG_STATUS (64u * 1024u * 1024u) /* /var/lib/dpkg/status */
#define SBOM_MAX_COPYRIGHT   (512u * 1024u) /* /usr/share/doc/PKG/copyright read for licences */
#define SBOM_MAX_OS_RELEASE  (64u * 1024u)  /* /etc/os-release */

/* Python and npm. */
#define SBOM_MAX_METADATA     (256u * 1024u)  /* prefix of METADATA / PKG-INFO that is parsed */
#define SBOM_MAX_PACKAGE_JSON (1024u * 1024u) /* one package.json */
#define SBOM_MAX_NPM_DEPTH    16u             /* nested node_modules levels followed */
#define SBOM_MAX_DIR_ENTRIES  100000u         /* entries read from one directory */
#define SBOM_MAX_ROOTS        64u             /* site-packages / node_modules trees scanned */

/* Models: lib/model's limits apply (model-limits.h). */

/* SBOM documents read back (hwsign verify --sbom). */
#define SBOM_MAX_DOCUMENT (64u * 1024u * 1024u) /* JSON text of one SBOM */
