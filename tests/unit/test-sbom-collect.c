/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/sbom collectors on real directory trees built in a temporary directory: a fake root with
 * os-release, a dpkg database and DEP-5 copyright files (one reached through an absolute
 * symlink, which must resolve inside the root, never on the host), Python site-packages with
 * good, broken and missing metadata, node_modules trees (scoped, nested, broken, a symlink
 * loop bounded by the depth limit), an empty root, artifacts with known hashes and model
 * directories (the OpenSSF model-signing vector, git paths ignored, symlinks refused).
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "artifact.h"
#include "dpkg.h"
#include "host.h"
#include "npm.h"
#include "pydist.h"
#include "rootfs.h"
#include "sbom.h"

static char tmp[64];

/* Creates tmp/rel with content, making the parent directories. */
static void put(const char *rel, const char *content)
{
    char path[512];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", tmp, rel);
    for (char *p = path + strlen(tmp) + 1; *p; p++)
        if (*p == '/') {
            *p = '\0';
            if (mkdir(path, 0755) < 0 && errno != EEXIST)
                fail_msg("mkdir %s: %m", path);
            *p = '/';
        }
    f = fopen(path, "we");
    if (!f)
        fail_msg("create %s: %m", path);
    fputs(content, f);
    fclose(f);
}

static void link_at(const char *target, const char *rel)
{
    char path[512];

    snprintf(path, sizeof(path), "%s/%s", tmp, rel);
    if (symlink(target, path) < 0)
        fail_msg("symlink %s: %m", path);
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
    return remove(p);
}

static int setup(void **state)
{
    snprintf(tmp, sizeof(tmp), "/tmp/test-sbom.XXXXXX");
    if (!mkdtemp(tmp))
        return -1;
    return 0;
}

static int teardown(void **state)
{
    nftw(tmp, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    return 0;
}

static int open_root(const char *sub)
{
    char path[512];
    int fd = -1;

    snprintf(path, sizeof(path), "%s/%s", tmp, sub);
    assert_int_equal(rootfs_open(path, &fd), 0);
    return fd;
}

/* Never NULL: a missing component fails the test (abort() only if cmocka's fail returns). */
static __attribute__((returns_nonnull)) const struct sbom_component *find(const struct sbom *s,
                                                                          const char *name)
{
    for (size_t i = 0; i < sbom_n_components(s); i++)
        if (streq(sbom_component(s, i)->name, name))
            return sbom_component(s, i);
    fail_msg("no component %s", name);
    abort();
}

static void test_dpkg_root(void **state)
{
    _cleanup_(sbom_freep) struct sbom *s = sbom_new();
    const struct sbom_component *c;
    char big[SBOM_MAX_COPYRIGHT / 64 + 1];
    size_t n = 0;
    int fd;

    put("r/etc/os-release", "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nID=debian\n"
                            "VERSION_ID=\"12\"\nVERSION_CODENAME=bookworm\n# comment\n");
    put("r/var/lib/dpkg/status",
        "Package: alpha\nStatus: install ok installed\nArchitecture: amd64\nVersion: 1:1.0-1\n\n"
        "Package: beta\nStatus: install ok installed\nArchitecture: all\nVersion: 2.0~rc1\n\n"
        "Package: gamma\nStatus: install ok installed\nArchitecture: amd64\nVersion: 3\n\n"
        "Package: delta\nStatus: install ok installed\nArchitecture: amd64\nVersion: 4\n");
    put("r/usr/share/doc/alpha/copyright",
        "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n\n"
        "Files: *\nLicense: GPL-2+\n\nFiles: debian/*\nLicense: Expat\n");
    /* beta's copyright is an absolute symlink: inside the root it is /shared/copyright. */
    put("r/shared/copyright", "Format: copyright-format/1.0\n\nFiles: *\nLicense: ISC\n");
    put("r/usr/share/doc/beta/.keep", "");
    link_at("/shared/copyright", "r/usr/share/doc/beta/copyright");
    /* gamma's is free-form: licence unknown. delta's is over the bound: not read. */
    put("r/usr/share/doc/gamma/copyright", "This package was debianized by someone.\n");
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    put("r/usr/share/doc/delta/copyright", "Format: copyright-format/1.0\n\nFiles: *\n"
                                           "License: MIT\n");
    {
        char path[512];
        FILE *f;

        snprintf(path, sizeof(path), "%s/r/usr/share/doc/delta/copyright", tmp);
        f = fopen(path, "ae");
        assert_non_null(f);
        for (int i = 0; i < 65; i++)
            fputs(big, f);
        fclose(f);
    }

    fd = open_root("r");
    assert_int_equal(host_collect(fd, false, s), 0);
    assert_string_equal(sbom_host(s)->os_id, "debian");
    assert_string_equal(sbom_host(s)->os_version_id, "12");
    assert_string_equal(sbom_host(s)->os_pretty, "Debian GNU/Linux 12 (bookworm)");
    assert_null(sbom_host(s)->kernel); /* not the running system */
    assert_int_equal(dpkg_collect(fd, s, &n), 0);
    close(fd);
    assert_int_equal(n, 4);
    assert_int_equal(sbom_sort(s), 0);

    c = find(s, "alpha");
    assert_string_equal(c->purl, "pkg:deb/debian/alpha@1:1.0-1?arch=amd64&distro=debian-12");
    assert_string_equal(c->license_expr, "GPL-2.0-or-later AND MIT");
    c = find(s, "beta");
    assert_string_equal(c->license_expr, "ISC");
    assert_null(find(s, "gamma")->license_expr);
    assert_int_equal(find(s, "gamma")->n_license_names, 0);
    assert_null(find(s, "delta")->license_expr);
    assert_int_equal(sbom_n_warnings(s), 0);
}

static void test_empty_root(void **state)
{
    _cleanup_(sbom_freep) struct sbom *s = sbom_new();
    size_t n = 99;
    int fd;

    put("empty/.keep", "");
    fd = open_root("empty");
    assert_int_equal(host_collect(fd, false, s), 0);
    assert_null(sbom_host(s)->os_id);
    assert_int_equal(dpkg_collect(fd, s, &n), 0);
    assert_int_equal(n, 0);
    n = 99;
    assert_int_equal(pydist_collect(fd, NULL, 0, s, &n), 0);
    assert_int_equal(n, 0);
    n = 99;
    assert_int_equal(npm_collect(fd, NULL, 0, s, &n), 0);
    assert_int_equal(n, 0);
    close(fd);
    assert_int_equal(sbom_n_components(s), 0);
    assert_int_equal(sbom_n_warnings(s), 0);
}

static void test_dpkg_bad_status(void **state)
{
    _cleanup_(sbom_freep) struct sbom *s = sbom_new();
    size_t n = 7;
    int fd;

    /* A status "file" that is a directory is an error, not an empty inventory. */
    put("bad/var/lib/dpkg/status/.keep", "");
    fd = open_root("bad");
    assert_int_equal(dpkg_collect(fd, s, &n), -EISDIR);
    assert_int_equal(n, 7);
    close(fd);
}

static void test_python_root(void **state)
{
    static const char *const extra[] = {"/opt/venv/site"};
    _cleanup_(sbom_freep) struct sbom *s = sbom_new();
    size_t n = 0, broken = 0;
    int fd;

    put("py/usr/lib/python3/dist-packages/good-1.0.dist-info/METADATA",
        "Metadata-Version: 2.1\nName: good\nVersion: 1.0\nLicense: MIT\n");
    put("py/usr/lib/python3/dist-packages/broken-1.0.dist-info/METADATA",
        "Metadata-Version: 2.1\nName: broken\n");
    put("py/usr/lib/python3/dist-packages/missing-1.0.dist-info/RECORD", "");
    put("py/usr/lib/python3/dist-packages/module.py", "");
    put("py/usr/local/lib/python3.11/site-packages/eggfile-1.0.egg-info",
        "Metadata-Version: 1.1\nName: eggfile\nVersion: 1.0\n");
    put("py/usr/local/lib/python3.11/dist-packages/eggdir-2.0.egg-info/PKG-INFO",
        "Metadata-Version: 1.1\nName: Egg_Dir\nVersion: 2.0\n");
    put("py/usr/lib/pythonX/site-packages/ignored-1.0.dist-info/METADATA",
        "Name: ignored\nVersion: 1.0\n");
    put("py/opt/venv/site/venvpkg-3.0.dist-info/METADATA", "Name: venvpkg\nVersion: 3.0\n");

    fd = open_root("py");
    assert_int_equal(pydist_collect(fd, extra, 1, s, &n), 0);
    close(fd);
    assert_int_equal(n, 4);
    assert_int_equal(sbom_sort(s), 0);
    assert_string_equal(find(s, "good")->license_expr, "MIT");
    assert_string_equal(find(s, "Egg_Dir")->purl, "pkg:pypi/egg-dir@2.0");
    assert_string_equal(find(s, "eggfile")->version, "1.0");
    assert_string_equal(find(s, "venvpkg")->purl, "pkg:pypi/venvpkg@3.0");
    /* Broken and missing metadata: skipped, each with a warning naming its path. */
    assert_int_equal(sbom_n_warnings(s), 2);
    for (size_t i = 0; i < 2; i++)
        broken += strstr(sbom_warning(s, i), "broken-1.0.dist-info") != NULL ||
                  strstr(sbom_warning(s, i), "missing-1.0.dist-info") != NULL;
    assert_int_equal(broken, 2);
    assert_int_equal(pydist_collect(-1, NULL, SBOM_MAX_ROOTS + 1, s, &n), -E2BIG);
}

static void test_npm_root(void **state)
{
    static const char *const trees[] = {"srv/app/node_modules"};
    _cleanup_(sbom_freep) struct sbom *s = sbom_new();
    size_t n = 0;
    int fd;

    put("js/usr/lib/node_modules/a/package.json",
        "{\"name\":\"a\",\"version\":\"1.0.0\",\"license\":\"MIT\"}");
    put("js/usr/lib/node_modules/a/node_modules/c/package.json",
        "{\"name\":\"c\",\"version\":\"3.0.0\"}");
    put("js/usr/lib/node_modules/@s/b/package.json",
        "{\"name\":\"@s/b\",\"version\":\"2.0.0\",\"license\":\"ISC\"}");
    put("js/usr/lib/node_modules/.bin/a", "");
    put("js/usr/lib/node_modules/notapkg/readme", "");
    put("js/usr/lib/node_modules/broken/package.json", "{\"name\":\"broken\"");
    put("js/srv/app/node_modules/d/package.json", "{\"name\":\"d\",\"version\":\"4.0.0\"}");
    /* e/node_modules/e -> .. : a loop only the depth limit ends. */
    put("js/srv/app/node_modules/e/package.json", "{\"name\":\"e\",\"version\":\"5.0.0\"}");
    put("js/srv/app/node_modules/e/node_modules/.keep", "");
    link_at("..", "js/srv/app/node_modules/e/node_modules/e");

    fd = open_root("js");
    assert_int_equal(npm_collect(fd, trees, 1, s, &n), 0);
    close(fd);
    assert_int_equal(n, 4 + SBOM_MAX_NPM_DEPTH);
    assert_int_equal(sbom_sort(s), 0);
    assert_int_equal(sbom_n_components(s), 5); /* the loop's copies are one purl */
    assert_string_equal(find(s, "@s/b")->purl, "pkg:npm/%40s/b@2.0.0");
    assert_string_equal(find(s, "c")->purl, "pkg:npm/c@3.0.0");
    assert_string_equal(find(s, "a")->license_expr, "MIT");
    assert_int_equal(sbom_n_warnings(s), 1);
    assert_non_null(strstr(sbom_warning(s, 0), "node_modules/broken/package.json"));
}

static void test_artifact(void **state)
{
    _cleanup_(sbom_freep) struct sbom *s = sbom_new();
    const struct sbom_component *c;
    char path[512], hex[65];

    put("art/abc.txt", "abc");
    snprintf(path, sizeof(path), "%s/art/abc.txt", tmp);
    assert_int_equal(artifact_add_file(s, path, "abc.txt"), 0);
    c = sbom_component(s, 0);
    assert_int_equal(c->kind, SBOM_KIND_FILE);
    assert_true(c->has_hash);
    sbom_hex(c->sha256, SBOM_SHA256_LEN, hex);
    assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    sbom_hex(c->sha1, SBOM_SHA1_LEN, hex);
    assert_string_equal(hex, "a9993e364706816aba3e25717850c26c9cd0d89d");

    snprintf(path, sizeof(path), "%s/art/nope", tmp);
    assert_int_equal(artifact_add_file(s, path, "nope"), -ENOENT);
    snprintf(path, sizeof(path), "%s/art", tmp);
    assert_int_equal(artifact_add_file(s, path, "dir"), -EISDIR);
    assert_int_equal(artifact_add_file(s, path, ""), -EINVAL);
    assert_int_equal(sbom_n_components(s), 1);
}

static void test_model(void **state)
{
    _cleanup_(sbom_freep) struct sbom *s = sbom_new();
    const struct sbom_component *c;
    struct model_diag diag = {};
    char path[512], hex[65];

    /* FORMATS.md 6.5 (a): signme-1, signme-2 -> the model-signing subject digest. */
    put("model/v1/signme-1", "signme-1\n");
    put("model/v1/signme-2", "signme-2");
    put("model/v1/.git/HEAD", "ref: refs/heads/main\n");
    put("model/v1/.gitignore", "*.tmp\n");
    snprintf(path, sizeof(path), "%s/model/v1", tmp);
    assert_int_equal(artifact_add_model(s, path, "v1.1.0-elliptic-key", &diag), 0);
    c = sbom_component(s, 0);
    assert_int_equal(c->kind, SBOM_KIND_MODEL);
    sbom_hex(c->sha256, SBOM_SHA256_LEN, hex);
    assert_string_equal(hex, "92745110b1ab4368471cbe31664e10174e954b113a3df333db860317b2c6dec4");
    assert_int_equal(c->n_files, 2);
    assert_string_equal(c->files[0].path, "signme-1");
    sbom_hex(c->files[1].sha256, SBOM_SHA256_LEN, hex);
    assert_string_equal(hex, "32dcb1f8e1ae52d5963e56a6ba06ab58b424c15ed2a6b70d2feca1d089370028");

    /* Component order, as model signing sorts: "a/b" before "a-b". */
    put("model/order/a-b", "1");
    put("model/order/a/b", "2");
    snprintf(path, sizeof(path), "%s/model/order", tmp);
    assert_int_equal(artifact_add_model(s, path, "order", &diag), 0);
    c = find(s, "order");
    assert_string_equal(c->files[0].path, "a/b");
    assert_string_equal(c->files[1].path, "a-b");

    /* Empty model: root is SHA-256 of nothing. */
    put("model/empty/.git/x", "");
    snprintf(path, sizeof(path), "%s/model/empty", tmp);
    assert_int_equal(artifact_add_model(s, path, "empty", &diag), 0);
    sbom_hex(find(s, "empty")->sha256, SBOM_SHA256_LEN, hex);
    assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");

    /* A symlink inside: refused, naming it. */
    put("model/link/real", "x");
    link_at("real", "model/link/alias");
    snprintf(path, sizeof(path), "%s/model/link", tmp);
    assert_int_equal(artifact_add_model(s, path, "link", &diag), -ELOOP);
    assert_string_equal(diag.path, "alias");
    snprintf(path, sizeof(path), "%s/model/none", tmp);
    assert_int_equal(artifact_add_model(s, path, "none", &diag), -ENOENT);
    assert_int_equal(sbom_n_components(s), 3);
}

static void test_os_release(void **state)
{
    static const char text[] = "NAME='Some OS'\nID=\"some\\\"os\"\nVERSION_ID=\n"
                               "PRETTY_NAME=\"ctl\x01\"\nID=later\n";
    struct sbom_host h = {};

    assert_int_equal(host_parse_os_release(text, strlen(text), &h), 0);
    assert_string_equal(h.os_id, "later"); /* the last assignment wins */
    assert_null(h.os_version_id);          /* empty */
    assert_null(h.os_pretty);              /* control character */
    host_clear(&h);
    assert_int_equal(host_parse_os_release("", 0, &h), 0);
    assert_null(h.os_id);
}

static void test_rootfs(void **state)
{
    char *text = NULL;
    size_t len = 0;
    bool cut = false;
    int fd;

    put("fs/big", "0123456789");
    fd = open_root("fs");
    assert_int_equal(rootfs_read(fd, "big", 4, false, &text, &len, &cut), -EFBIG);
    assert_int_equal(rootfs_read(fd, "big", 4, true, &text, &len, &cut), 0);
    assert_int_equal(len, 4);
    assert_true(cut);
    assert_string_equal(text, "0123");
    free(text);
    assert_int_equal(rootfs_read(fd, "big", 10, false, &text, &len, &cut), 0);
    assert_false(cut);
    free(text);
    /* ".." cannot leave the root: it resolves to the root itself. */
    assert_int_equal(rootfs_read(fd, "../../../fs/big", 10, false, &text, &len, NULL), -ENOENT);
    close(fd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_dpkg_root),       cmocka_unit_test(test_empty_root),
            cmocka_unit_test(test_dpkg_bad_status), cmocka_unit_test(test_python_root),
            cmocka_unit_test(test_npm_root),        cmocka_unit_test(test_artifact),
            cmocka_unit_test(test_model),           cmocka_unit_test(test_os_release),
            cmocka_unit_test(test_rootfs),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
