/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Agent configuration (agent/config.c): the documented example parses into the expected
 * values; every error names its line; config_load refuses unsafe files; config_resolve turns
 * names and numeric ids into ids.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "macro.h"

/*
 * The example configuration (agent.conf as documented in config.h: [agent], one [pkcs11]
 * section per token, [key] sections for policy), with comments, blank lines, CRLF and the
 * different duration forms.
 */
static const char example[] = "# /etc/hwsign/agent.conf\n"
                              "[agent]\n"
                              "state-dir = /var/lib/hwsign\n"
                              "socket = /run/hwsign/agent.sock\n"
                              "socket-group = hwsign-clients\n"
                              "admin-group = hwsign-admin\n"
                              "admin-users = root, ops\n"
                              "max-connections = 64\n"
                              "idle-timeout = 5s\n"
                              "request-timeout = 2500ms\n"
                              "log-target = journal\n"
                              "\n"
                              "; a SoftHSM2 token\n"
                              "[pkcs11 \"softhsm\"]\n"
                              "module = /usr/lib/softhsm/libsofthsm2.so\n"
                              "token = hwsign-demo\n"
                              "pin = file:/etc/hwsign/softhsm.pin\r\n"
                              "\n"
                              "[key \"release\"]\n"
                              "allow-users = builder, 1001\n"
                              "allow-groups = release-team\n"
                              "\n"
                              "[key \"ci.nightly\"]\n"
                              "\tallow-groups = ci\t\n";

struct cfg_fixture {
    struct agent_config *c;
    char err[512];
};

static int setup(void **state)
{
    struct cfg_fixture *f = calloc(1, sizeof(*f));
    if (!f)
        return -1;
    f->c = config_new();
    if (!f->c)
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct cfg_fixture *f = *state;
    config_free(f->c);
    free(f);
    return 0;
}

static int parse(struct cfg_fixture *f, const char *text)
{
    f->err[0] = '\0';
    return config_parse(f->c, text, strlen(text), f->err, sizeof(f->err));
}

static void test_example_parses(void **state)
{
    struct cfg_fixture *f = *state;
    const struct key_policy *k;
    char buf[128];

    assert_int_equal(parse(f, example), 0);
    assert_string_equal(f->c->state_dir, "/var/lib/hwsign");
    assert_string_equal(f->c->socket_path, "/run/hwsign/agent.sock");
    assert_string_equal(f->c->socket_group, "hwsign-clients");
    assert_true(f->c->have_admin_group);
    assert_string_equal(f->c->admin_group.name, "hwsign-admin");
    assert_int_equal(f->c->admin_users.n, 2);
    assert_string_equal(f->c->admin_users.v[0].name, "root");
    assert_string_equal(f->c->admin_users.v[1].name, "ops");
    assert_int_equal(f->c->max_connections, 64);
    assert_int_equal(f->c->idle_timeout_ms, 5000);
    assert_int_equal(f->c->request_timeout_ms, 2500);
    assert_int_equal(f->c->log_target, LOG_TARGET_JOURNAL);
    assert_int_equal(f->c->n_pkcs11, 1);
    assert_string_equal(f->c->pkcs11[0].name, "softhsm");
    assert_string_equal(f->c->pkcs11[0].module, "/usr/lib/softhsm/libsofthsm2.so");
    assert_string_equal(f->c->pkcs11[0].token, "hwsign-demo");
    assert_string_equal(f->c->pkcs11[0].pin, "file:/etc/hwsign/softhsm.pin");
    assert_int_equal(f->c->pkcs11[0].line, 14);
    assert_int_equal(f->c->n_keys, 2);
    k = config_key_policy(f->c, "release");
    assert_non_null(k);
    assert_int_equal(k->line, 19);
    principal_list_format(&k->users, buf, sizeof(buf));
    assert_string_equal(buf, "builder,1001");
    principal_list_format(&k->groups, buf, sizeof(buf));
    assert_string_equal(buf, "release-team");
    k = config_key_policy(f->c, "ci.nightly");
    assert_non_null(k);
    assert_int_equal(k->users.n, 0);
    assert_int_equal(k->groups.n, 1);
    assert_null(config_key_policy(f->c, "other"));
}

static void test_defaults(void **state)
{
    struct cfg_fixture *f = *state;

    assert_int_equal(parse(f, ""), 0);
    assert_string_equal(f->c->state_dir, CONFIG_DEFAULT_STATE_DIR);
    assert_string_equal(f->c->socket_path, CONFIG_DEFAULT_SOCKET);
    assert_int_equal(f->c->max_connections, HWSIGN_MAX_CONNECTIONS);
    assert_int_equal(f->c->idle_timeout_ms, HWSIGN_IDLE_TIMEOUT_MS);
    assert_int_equal(f->c->request_timeout_ms, HWSIGN_REQUEST_DEADLINE_MS);
    assert_false(f->c->have_admin_group);
    assert_int_equal(f->c->n_keys, 0);
}

/* Each case: a config, the expected return and the text the error must contain. */
static const struct {
    const char *text;
    int r;
    const char *err;
} bad[] = {
        {"[agent]\nbogus = 1\n", -EINVAL, "line 2: bogus: unknown setting"},
        {"[agent]\n\n\n# c\nsocket = /a\nsocket = /b\n", -EINVAL,
         "line 6: socket: setting given twice"},
        {"[agent]\n[agent]\n", -EINVAL, "line 2: [agent] given twice"},
        {"[agnet]\n", -EINVAL, "line 1: unknown section"},
        {"[agent \"x\"]\n", -EINVAL, "line 1: unknown section"},
        {"[pkcs11]\n", -EINVAL, "line 1: unknown section"},
        {"\n[tpm \"t\"]\n", -EINVAL, "line 2: unknown section"},
        {"[key \"a/b\"]\n", -EINVAL, "line 1: malformed section header"},
        {"[key \"x\"\n", -EINVAL, "line 1: malformed section header"},
        {"[key x]\n", -EINVAL, "line 1: malformed section header"},
        {"[key \"x\"] junk\n", -EINVAL, "line 1: malformed section header"},
        {"state-dir = /x\n", -EINVAL, "line 1: setting outside a section"},
        {"[agent]\nstate-dir\n", -EINVAL, "line 2: expected 'setting = value'"},
        {"[agent]\nstate-dir = var/lib/hwsign\n", -EINVAL, "line 2: state-dir: invalid value"},
        {"[agent]\nsocket = run/agent.sock\n", -EINVAL, "line 2: socket: invalid value"},
        {"[agent]\nidle-timeout = 5x\n", -EINVAL, "line 2: idle-timeout: invalid value"},
        {"[agent]\nidle-timeout = 50ms\n", -EINVAL, "line 2: idle-timeout: invalid value"},
        {"[agent]\nidle-timeout = 2h\n", -EINVAL, "line 2: idle-timeout: invalid value"},
        {"[agent]\nrequest-timeout = 61m\n", -EINVAL, "line 2: request-timeout: invalid value"},
        {"[agent]\nrequest-timeout = -1\n", -EINVAL, "line 2: request-timeout: invalid value"},
        {"[agent]\nrequest-timeout = \n", -EINVAL, "line 2: request-timeout: invalid value"},
        {"[agent]\nrequest-timeout = 99999999999999999999999s\n", -EINVAL,
         "line 2: request-timeout: invalid value"},
        {"[agent]\nmax-connections = 0\n", -EINVAL, "line 2: max-connections: invalid value"},
        {"[agent]\nmax-connections = 257\n", -EINVAL, "line 2: max-connections: invalid value"},
        {"[agent]\nlog-target = syslog\n", -EINVAL, "line 2: log-target: invalid value"},
        {"[agent]\nadmin-users = a, a\n", -EINVAL, "line 2: admin-users: invalid value"},
        {"[agent]\nadmin-users = a b\n", -EINVAL, "line 2: admin-users: invalid value"},
        {"[agent]\nadmin-group = -x\n", -EINVAL, "line 2: admin-group: invalid value"},
        {"[pkcs11 \"t\"]\nmodule = /m.so\ntoken = t\n", -EINVAL,
         "line 1: [pkcs11 \"t\"] needs module, token and pin"},
        {"[pkcs11 \"t\"]\nmodule = /m.so\npin = env:PIN\n\n[agent]\n", -EINVAL,
         "line 1: [pkcs11 \"t\"] needs module, token and pin"},
        {"[agent]\n[pkcs11 \"a\"]\ntoken = t\npin = env:P\n[pkcs11 \"b\"]\n", -EINVAL,
         "line 2: [pkcs11 \"a\"] needs module, token and pin"},
        {"[pkcs11 \"t\"]\nmodule = m.so\n", -EINVAL, "line 2: module: invalid value"},
        {"[pkcs11 \"t\"]\npin = 1234\n", -EINVAL, "line 2: pin: invalid value"},
        {"[pkcs11 \"t\"]\ntoken = 0123456789012345678901234567890123\n", -EINVAL,
         "line 2: token: invalid value"},
        {"[pkcs11 \"t\"]\ntoken = a\ntoken = b\n", -EINVAL, "line 3: token: setting given twice"},
        {"[pkcs11 \"t\"]\nslot = 1\n", -EINVAL, "line 2: slot: unknown setting"},
        {"[pkcs11 \"t\"]\nmodule=/m\ntoken=t\npin=env:P\n[pkcs11 \"t\"]\n", -EINVAL,
         "line 5: backend \"t\" given twice"},
        {"[key \"k\"]\n[key \"k\"]\n", -EINVAL, "line 2: key \"k\" given twice"},
        {"[key \"k\"]\nallow-users = a\nallow-users = b\n", -EINVAL,
         "line 3: allow-users: setting given twice"},
        {"[key \"k\"]\ndeny-users = a\n", -EINVAL, "line 2: deny-users: unknown setting"},
        {"[key \"k\"]\nallow-groups = a;b\n", -EINVAL, "line 2: allow-groups: invalid value"},
};

static void test_errors_name_the_line(void **state)
{
    for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
        struct agent_config *c = config_new();
        char err[512] = "";
        int r;

        assert_non_null(c);
        r = config_parse(c, bad[i].text, strlen(bad[i].text), err, sizeof(err));
        if (r != bad[i].r || !strstr(err, bad[i].err))
            fail_msg("case %zu: got %d \"%s\", want %d \"%s\"", i, r, err, bad[i].r, bad[i].err);
        config_free(c);
    }
}

static void test_size_limits(void **state)
{
    struct cfg_fixture *f = *state;
    size_t n = CONFIG_MAX_LINE + 1, big = HWSIGN_MAX_CONFIG + 1;
    char *text = malloc(big + 64);
    int len;

    assert_non_null(text);
    /* A line of exactly CONFIG_MAX_LINE bytes (a comment) is fine; one byte more is not. */
    len = snprintf(text, 64, "[agent]\n#");
    memset(text + len, 'x', CONFIG_MAX_LINE - 1);
    memcpy(text + len + CONFIG_MAX_LINE - 1, "\n", 2);
    assert_int_equal(config_parse(f->c, text, strlen(text), f->err, sizeof(f->err)), 0);
    memset(text + len, 'x', n - 1);
    memcpy(text + len + n - 1, "\n", 2);
    assert_int_equal(config_parse(f->c, text, strlen(text), f->err, sizeof(f->err)), -EMSGSIZE);
    assert_non_null(strstr(f->err, "line 2: longer than"));
    /* Same on the last line without a newline. */
    text[strlen(text) - 1] = '\0';
    assert_int_equal(config_parse(f->c, text, strlen(text), f->err, sizeof(f->err)), -EMSGSIZE);
    assert_non_null(strstr(f->err, "line 2"));
    /* A value longer than its field (path > CONFIG_MAX_PATH). */
    len = snprintf(text, 64, "[agent]\nstate-dir = /");
    memset(text + len, 'p', CONFIG_MAX_PATH);
    text[len + CONFIG_MAX_PATH] = '\0';
    assert_int_equal(config_parse(f->c, text, strlen(text), f->err, sizeof(f->err)), -EMSGSIZE);
    assert_non_null(strstr(f->err, "line 2: state-dir: value too long"));
    /* NUL byte anywhere. */
    assert_int_equal(config_parse(f->c, "[agent]\0\n", 9, f->err, sizeof(f->err)), -EINVAL);
    assert_non_null(strstr(f->err, "NUL"));
    /* Whole file over HWSIGN_MAX_CONFIG, even if every line is a harmless comment. */
    for (size_t i = 0; i < big; i += 64) {
        size_t m = MIN((size_t)64, big - i);
        memset(text + i, '#', m);
        text[i + m - 1] = '\n';
    }
    assert_int_equal(config_parse(f->c, text, big, f->err, sizeof(f->err)), -EMSGSIZE);
    assert_int_equal(config_parse(f->c, text, big - 1, f->err, sizeof(f->err)), 0);
    free(text);
}

static void test_many_sections(void **state)
{
    struct cfg_fixture *f = *state;
    size_t cap = 64 * (HWSIGN_MAX_KEYS + 2);
    char *text = malloc(cap);
    size_t off = 0;

    assert_non_null(text);
    for (unsigned i = 0; i <= HWSIGN_MAX_KEYS; i++)
        off += (size_t)snprintf(text + off, cap - off, "[key \"k%u\"]\nallow-users = %u\n", i, i);
    assert_int_equal(config_parse(f->c, text, off, f->err, sizeof(f->err)), -EMSGSIZE);
    assert_non_null(strstr(f->err, "line 513: more than"));
    free(text);

    text = malloc(4096);
    assert_non_null(text);
    off = 0;
    for (unsigned i = 0; i <= HWSIGN_MAX_BACKENDS; i++)
        off += (size_t)snprintf(text + off, 4096 - off,
                                "[pkcs11 \"p%u\"]\nmodule=/m\ntoken=t\npin=env:P\n", i);
    {
        struct agent_config *c = config_new();
        assert_int_equal(config_parse(c, text, off, f->err, sizeof(f->err)), -EMSGSIZE);
        assert_non_null(strstr(f->err, "line 65: more than 16 backends"));
        config_free(c);
    }
    free(text);
}

/* ---- config_load: file safety ---- */

static char *write_temp(const char *dir, const char *name, const char *text, mode_t mode)
{
    char *path;
    int fd;

    assert_true(asprintf(&path, "%s/%s", dir, name) > 0);
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    assert_int_equal(chmod(path, mode), 0);
    return path;
}

static void test_load(void **state)
{
    struct cfg_fixture *f = *state;
    char dir[] = "/tmp/hwsign-config-XXXXXX";
    char *good, *gw, *ow, *link_path, *big;

    assert_non_null(mkdtemp(dir));
    good = write_temp(dir, "good.conf", example, 0644);
    gw = write_temp(dir, "gw.conf", example, 0664);
    ow = write_temp(dir, "ow.conf", example, 0606);
    assert_true(asprintf(&link_path, "%s/link.conf", dir) > 0);
    assert_int_equal(symlink(good, link_path), 0);

    assert_int_equal(config_load(f->c, good, f->err, sizeof(f->err)), 0);
    assert_int_equal(f->c->n_keys, 2);
    {
        struct agent_config *c = config_new();
        assert_int_equal(config_load(c, gw, f->err, sizeof(f->err)), -EPERM);
        assert_non_null(strstr(f->err, "not writable by group"));
        assert_int_equal(config_load(c, ow, f->err, sizeof(f->err)), -EPERM);
        assert_int_equal(config_load(c, link_path, f->err, sizeof(f->err)), -ELOOP);
        assert_int_equal(config_load(c, dir, f->err, sizeof(f->err)), -EINVAL);
        assert_int_equal(config_load(c, "/nonexistent/agent.conf", f->err, sizeof(f->err)),
                         -ENOENT);
        config_free(c);
    }
    /* Larger than HWSIGN_MAX_CONFIG: refused from fstat, before reading. */
    {
        struct agent_config *c = config_new();
        int fd;
        assert_true(asprintf(&big, "%s/big.conf", dir) > 0);
        fd = open(big, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
        assert_true(fd >= 0);
        assert_int_equal(ftruncate(fd, HWSIGN_MAX_CONFIG + 1), 0);
        close(fd);
        assert_int_equal(config_load(c, big, f->err, sizeof(f->err)), -EMSGSIZE);
        config_free(c);
    }
    unlink(good);
    unlink(gw);
    unlink(ow);
    unlink(link_path);
    unlink(big);
    rmdir(dir);
    free(good);
    free(gw);
    free(ow);
    free(link_path);
    free(big);
}

/* ---- config_resolve ---- */

static void test_resolve(void **state)
{
    struct cfg_fixture *f = *state;
    struct group *ng = getgrnam("nogroup");
    static const char text[] = "[agent]\n"
                               "admin-users = root, 4242\n"
                               "admin-group = 0\n"
                               "socket-group = nogroup\n"
                               "[key \"k\"]\n"
                               "allow-users = 1001\n"
                               "allow-groups = root, nogroup, 77\n";

    assert_non_null(ng);
    assert_int_equal(parse(f, text), 0);
    assert_int_equal(config_resolve(f->c, f->err, sizeof(f->err)), 0);
    assert_int_equal(f->c->admin_users.v[0].id, 0);
    assert_int_equal(f->c->admin_users.v[1].id, 4242);
    assert_int_equal(f->c->admin_group.id, 0);
    assert_int_equal(f->c->socket_gid, ng->gr_gid);
    assert_int_equal(f->c->keys[0].users.v[0].id, 1001);
    assert_int_equal(f->c->keys[0].groups.v[0].id, 0);
    assert_int_equal(f->c->keys[0].groups.v[1].id, ng->gr_gid);
    assert_int_equal(f->c->keys[0].groups.v[2].id, 77);
}

static void test_resolve_unknown(void **state)
{
    static const struct {
        const char *text;
        const char *err;
    } cases[] = {
            {"[agent]\nadmin-users = no-such-user-hwsign\n", "unknown user 'no-such-user-hwsign'"},
            {"[agent]\nadmin-group = no-such-group-hwsign\n", "unknown group"},
            {"[agent]\nsocket-group = no-such-group-hwsign\n", "socket-group: unknown group"},
            {"\n[key \"k\"]\nallow-users = no-such-user-hwsign\n",
             "line 2: [key \"k\"] unknown user"},
            {"[key \"k\"]\nallow-groups = no-such-group-hwsign\n",
             "line 1: [key \"k\"] unknown group"},
            /* 2^32-1 is (uid_t)-1, not a valid id: treated as a name, which does not exist. */
            {"[key \"k\"]\nallow-users = 4294967295\n", "unknown user"},
    };

    for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
        struct agent_config *c = config_new();
        char err[256] = "";
        assert_int_equal(config_parse(c, cases[i].text, strlen(cases[i].text), err, sizeof(err)),
                         0);
        assert_int_equal(config_resolve(c, err, sizeof(err)), -ENOENT);
        if (!strstr(err, cases[i].err))
            fail_msg("case %zu: error \"%s\" lacks \"%s\"", i, err, cases[i].err);
        config_free(c);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            cmocka_unit_test_setup_teardown(test_example_parses, setup, teardown),
            cmocka_unit_test_setup_teardown(test_defaults, setup, teardown),
            cmocka_unit_test(test_errors_name_the_line),
            cmocka_unit_test_setup_teardown(test_size_limits, setup, teardown),
            cmocka_unit_test_setup_teardown(test_many_sections, setup, teardown),
            cmocka_unit_test_setup_teardown(test_load, setup, teardown),
            cmocka_unit_test_setup_teardown(test_resolve, setup, teardown),
            cmocka_unit_test(test_resolve_unknown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
