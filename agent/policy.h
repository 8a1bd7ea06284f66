/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Who may do what. Evaluated in the agent only, from kernel credentials; clients cannot
 * supply patterns, so each check is a bounded scan of fixed lists.
 *
 *  admin:      the agent's own uid, a user in [agent] admin-users, or a member (primary or
 *              supplementary) of [agent] admin-group. Admins manage keys and may use every key.
 *  key user:   a user or group named by the key's [key "NAME"] section. A key without a
 *              section may be used by admins only.
 *  connect:    admins and anyone named by some key policy; everyone else is refused at accept.
 */
#pragma once

#include <stdbool.h>

#include "config.h"
#include "peer.h"

bool policy_is_admin(const struct agent_config *c, const struct peer *p);
bool policy_may_use_key(const struct agent_config *c, const char *key, const struct peer *p);
bool policy_may_connect(const struct agent_config *c, const struct peer *p);

/*
 * What a key may sign, whoever asks (administrators included): raw digests unless its
 * section says allow-digests = no; in-toto statements of any predicate type unless
 * allow-predicate-types lists the permitted ones (exact string match).
 */
bool policy_key_allows_digests(const struct agent_config *c, const char *key);
bool policy_key_allows_predicate(const struct agent_config *c, const char *key,
                                 const char *predicate_type);
