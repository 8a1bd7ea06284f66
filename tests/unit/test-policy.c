/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Authorisation (agent/policy.c, agent/peer.c) from kernel credentials: who is an admin, who
 * may use which key, who may connect at all. Peers are built by hand, as SO_PEERCRED and
 * SO_PEERGROUPS would report them; one test reads them from a real socketpair.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "macro.h"
#include "peer.h"
#include "policy.h"

/* Ids chosen away from the test runner's own (the runner's euid is always an admin). */
#define U_ADMIN   2001 /* in admin-users */
#define U_ALICE   2002 /* named by key "alpha" */
#define U_BOB     2003 /* member of group 3001 only via supplementary groups */
#define U_CAROL   2004 /* primary group is the admin group */
#define U_DAVE    2005 /* supplementary member of the admin group */
#define U_EVE     2006 /* nobody in the policy */
#define G_SIGNERS 3001
#define G_ADMIN   3002
#define G_OTHER   3003

static const char policy_text[] = "[agent]\n"
                                  "admin-users = 2001\n"
                                  "admin-group = 3002\n"
                                  "[key \"alpha\"]\n"
                                  "allow-users = 2002\n"
                                  "[key \"beta\"]\n"
                                  "allow-groups = 3001\n"
                                  "[key \"gamma\"]\n"
                                  "allow-users = 2002\n"
                                  "allow-groups = 3003\n";

static int setup(void **state)
{
    struct agent_config *c = config_new();
    char err[256];

    if (!c || config_parse(c, policy_text, strlen(policy_text), err, sizeof(err)) < 0 ||
        config_resolve(c, err, sizeof(err)) < 0)
        return -1;
    *state = c;
    return 0;
}

static int teardown(void **state)
{
    config_free(*state);
    return 0;
}

static struct peer make_peer(uid_t uid, gid_t gid, const gid_t *groups, size_t ngroups)
{
    struct peer p = {.uid = uid, .gid = gid, .pid = 1, .pidfd = -1};
    assert_true(ngroups <= HWSIGN_MAX_GROUPS);
    if (ngroups)
        memcpy(p.groups, groups, ngroups * sizeof(gid_t));
    p.ngroups = ngroups;
    return p;
}

static void test_admin(void **state)
{
    const struct agent_config *c = *state;
    const gid_t sup_admin[] = {G_OTHER, G_ADMIN};
    const gid_t sup_other[] = {G_OTHER, G_SIGNERS};
    struct peer self = make_peer(geteuid(), 12345, NULL, 0);
    struct peer listed = make_peer(U_ADMIN, 12345, NULL, 0);
    struct peer primary = make_peer(U_CAROL, G_ADMIN, NULL, 0);
    struct peer supp = make_peer(U_DAVE, 12345, sup_admin, 2);
    struct peer plain = make_peer(U_EVE, 12345, sup_other, 2);
    /* Admin group id as a *uid* must not make an admin. */
    struct peer uid_is_gid = make_peer(G_ADMIN, 12345, NULL, 0);

    assert_true(policy_is_admin(c, &self));
    assert_true(policy_is_admin(c, &listed));
    assert_true(policy_is_admin(c, &primary));
    assert_true(policy_is_admin(c, &supp));
    assert_false(policy_is_admin(c, &plain));
    assert_false(policy_is_admin(c, &uid_is_gid));

    /* Admins use every key, including one without a section. */
    assert_true(policy_may_use_key(c, "alpha", &supp));
    assert_true(policy_may_use_key(c, "unlisted", &listed));
    assert_true(policy_may_use_key(c, "unlisted", &self));
}

static void test_admin_group_absent(void **state)
{
    struct agent_config *c = config_new();
    /* Without admin-group, gid 0 (the zero id in an unset principal) grants nothing. */
    struct peer root_group = make_peer(U_EVE, 0, NULL, 0);

    assert_non_null(c);
    assert_false(c->have_admin_group);
    assert_false(policy_is_admin(c, &root_group));
    assert_false(policy_may_connect(c, &root_group));
    config_free(c);
}

static void test_key_users(void **state)
{
    const struct agent_config *c = *state;
    const gid_t sup_signers[] = {G_OTHER + 100, G_SIGNERS};
    struct peer alice = make_peer(U_ALICE, 12345, NULL, 0);
    struct peer bob = make_peer(U_BOB, 12345, sup_signers, 2);
    struct peer bob_primary = make_peer(U_BOB, G_SIGNERS, NULL, 0);
    struct peer eve = make_peer(U_EVE, 12345, NULL, 0);
    /* The signers gid appears as a uid: not a member. */
    struct peer confused = make_peer(G_SIGNERS, 12345, NULL, 0);

    /* By uid. */
    assert_true(policy_may_use_key(c, "alpha", &alice));
    assert_false(policy_may_use_key(c, "beta", &alice));
    assert_true(policy_may_use_key(c, "gamma", &alice));
    /* By supplementary and primary group. */
    assert_true(policy_may_use_key(c, "beta", &bob));
    assert_true(policy_may_use_key(c, "beta", &bob_primary));
    assert_false(policy_may_use_key(c, "alpha", &bob));
    assert_false(policy_may_use_key(c, "gamma", &bob));
    assert_false(policy_may_use_key(c, "beta", &confused));
    /* Nobody else, and a key without a section is for admins only. */
    assert_false(policy_may_use_key(c, "alpha", &eve));
    assert_false(policy_may_use_key(c, "beta", &eve));
    assert_false(policy_may_use_key(c, "unlisted", &alice));
    assert_false(policy_may_use_key(c, "unlisted", &bob));
    /* Key names match exactly: no prefixes, no case folding. */
    assert_false(policy_may_use_key(c, "alph", &alice));
    assert_false(policy_may_use_key(c, "alpha2", &alice));
    assert_false(policy_may_use_key(c, "ALPHA", &alice));
}

static void test_group_at_limit(void **state)
{
    const struct agent_config *c = *state;
    gid_t groups[HWSIGN_MAX_GROUPS];
    struct peer p;

    /* The matching group is the last of a full list. */
    for (size_t i = 0; i < HWSIGN_MAX_GROUPS; i++)
        groups[i] = (gid_t)(5000 + i);
    groups[HWSIGN_MAX_GROUPS - 1] = G_SIGNERS;
    p = make_peer(U_EVE, 12345, groups, HWSIGN_MAX_GROUPS);
    assert_true(policy_may_use_key(c, "beta", &p));
    assert_true(peer_in_group(&p, G_SIGNERS));
    /* Groups beyond ngroups are not looked at. */
    p.ngroups = HWSIGN_MAX_GROUPS - 1;
    assert_false(policy_may_use_key(c, "beta", &p));
    assert_false(peer_in_group(&p, G_SIGNERS));
    assert_true(peer_in_group(&p, 12345));
}

static void test_may_connect(void **state)
{
    const struct agent_config *c = *state;
    const gid_t sup_other[] = {G_OTHER};
    const gid_t sup_admin[] = {G_ADMIN};
    struct peer alice = make_peer(U_ALICE, 12345, NULL, 0);
    struct peer via_group = make_peer(U_EVE, 12345, sup_other, 1);
    struct peer admin = make_peer(U_DAVE, 12345, sup_admin, 1);
    struct peer self = make_peer(geteuid(), 12345, NULL, 0);
    struct peer eve = make_peer(U_EVE, 12345, NULL, 0);
    struct peer root = make_peer(0, 0, NULL, 0);

    assert_true(policy_may_connect(c, &alice));
    assert_true(policy_may_connect(c, &via_group)); /* named by key gamma's groups */
    assert_true(policy_may_connect(c, &admin));
    assert_true(policy_may_connect(c, &self));
    assert_false(policy_may_connect(c, &eve));
    /* root is not special to the policy unless it is the agent's own user. */
    if (geteuid() != 0)
        assert_false(policy_may_connect(c, &root));
}

static void test_peer_from_socket(void **state)
{
    const struct agent_config *c = *state;
    struct peer p = {.uid = 0xA5A5A5A5u};
    int sv[2];

    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    assert_int_equal(peer_from_socket(sv[0], &p), 0);
    assert_int_equal(p.uid, getuid());
    assert_int_equal(p.gid, getgid());
    assert_int_equal(p.pid, getpid());
    assert_true(p.ngroups <= HWSIGN_MAX_GROUPS);
    assert_true(peer_in_group(&p, getgid()));
    /* The connecting process is our own uid: an admin. */
    assert_true(policy_is_admin(c, &p));
    peer_done(&p);
    assert_int_equal(p.pidfd, -1);
    peer_done(&p); /* idempotent */
    close(sv[0]);
    close(sv[1]);

    /* Not a socket: an error, and the output left alone. */
    p.uid = 0xA5A5A5A5u;
    assert_true(peer_from_socket(STDIN_FILENO + 1000, &p) < 0);
    assert_int_equal(p.uid, 0xA5A5A5A5u);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_admin),       cmocka_unit_test(test_admin_group_absent),
            cmocka_unit_test(test_key_users),   cmocka_unit_test(test_group_at_limit),
            cmocka_unit_test(test_may_connect), cmocka_unit_test(test_peer_from_socket),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
