/* SPDX-License-Identifier: Apache-2.0 */
/* Agent config parser fuzzer: config_parse only (no user or group lookups, no files). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct agent_config *c = config_new();
    char err[256];
    int r;

    if (!c)
        return 0;
    err[0] = '\0';
    r = config_parse(c, (const char *)data, size, err, sizeof(err));
    if (r < 0) {
        /* Every refusal explains itself. */
        if (err[0] == '\0')
            abort();
    } else {
        /* What was accepted stays inside its limits. */
        if (c->n_pkcs11 > HWSIGN_MAX_BACKENDS || c->n_keys > CONFIG_MAX_KEY_POLICIES ||
            c->admin_users.n > HWSIGN_MAX_POLICY_ENTRIES || c->max_connections == 0 ||
            c->state_dir[0] != '/' || c->socket_path[0] != '/')
            abort();
        for (size_t i = 0; i < c->n_keys; i++) {
            char buf[HWSIGN_MAX_TEXT];
            if (config_key_policy(c, c->keys[i].name) != &c->keys[i])
                abort();
            principal_list_format(&c->keys[i].users, buf, sizeof(buf));
            principal_list_format(&c->keys[i].groups, buf, sizeof(buf));
        }
    }
    config_free(c);
    return 0;
}
