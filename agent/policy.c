/* SPDX-License-Identifier: Apache-2.0 */
#include "policy.h"

#include <string.h>
#include <unistd.h>

#include "macro.h"

static bool user_listed(const struct principal_list *l, uid_t uid)
{
    for (size_t i = 0; i < l->n; i++)
        if (l->v[i].id == uid)
            return true;
    return false;
}

static bool group_listed(const struct principal_list *l, const struct peer *p)
{
    for (size_t i = 0; i < l->n; i++)
        if (peer_in_group(p, (gid_t)l->v[i].id))
            return true;
    return false;
}

bool policy_is_admin(const struct agent_config *c, const struct peer *p)
{
    if (p->uid == geteuid())
        return true;
    if (user_listed(&c->admin_users, p->uid))
        return true;
    return c->have_admin_group && peer_in_group(p, (gid_t)c->admin_group.id);
}

static bool policy_names(const struct key_policy *k, const struct peer *p)
{
    return user_listed(&k->users, p->uid) || group_listed(&k->groups, p);
}

bool policy_may_use_key(const struct agent_config *c, const char *key, const struct peer *p)
{
    const struct key_policy *k;

    if (policy_is_admin(c, p))
        return true;
    k = config_key_policy(c, key);
    return k && policy_names(k, p);
}

bool policy_may_connect(const struct agent_config *c, const struct peer *p)
{
    if (policy_is_admin(c, p))
        return true;
    for (size_t i = 0; i < c->n_keys; i++)
        if (policy_names(&c->keys[i], p))
            return true;
    return false;
}

bool policy_key_allows_digests(const struct agent_config *c, const char *key)
{
    const struct key_policy *k = config_key_policy(c, key);
    return !k || !k->digests_denied;
}

bool policy_key_allows_predicate(const struct agent_config *c, const char *key,
                                 const char *predicate_type)
{
    const struct key_policy *k = config_key_policy(c, key);

    if (!k || k->n_predicate_types == 0)
        return true;
    for (size_t i = 0; i < k->n_predicate_types; i++)
        if (streq(k->predicate_types[i], predicate_type))
            return true;
    return false;
}
