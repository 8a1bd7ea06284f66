/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Agent configuration: an INI file (README "Configuration"). Sections:
 *   [agent]            state-dir, socket, socket-group, admin-group, admin-users,
 *                      max-connections, idle-timeout, request-timeout, log-target, audit-log,
 *                      log-key, log-origin, checkpoint-records, checkpoint-interval
 *   [pkcs11 "NAME"]    module, token, pin            (one PKCS#11 token per section)
 *   [tpm]              tcti                          (the TPM; backend instance "tpm")
 *   [key "NAME"]       allow-users, allow-groups     (who may sign with key NAME)
 *                      allow-digests, allow-predicate-types (what key NAME may sign)
 * Parsing is strict: unknown sections or settings, duplicates and bad values are errors that
 * name the line. config_parse() touches no files or user databases (it is fuzzed);
 * config_resolve() turns user and group names into ids.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <hwsign/protocol.h>

#define CONFIG_DEFAULT_PATH               "/etc/hwsign/agent.conf"
#define CONFIG_DEFAULT_STATE_DIR          "/var/lib/hwsign"
#define CONFIG_DEFAULT_SOCKET             "/run/hwsign/agent.sock"
#define CONFIG_DEFAULT_TCTI               "device:/dev/tpmrm0"
#define CONFIG_TPM_BACKEND                "tpm" /* instance name of the TPM backend */
#define CONFIG_MAX_PATH                   1024u
#define CONFIG_DEFAULT_CHECKPOINT_RECORDS 1000u  /* RELIABILITY 21: at most 1000 records */
#define CONFIG_DEFAULT_CHECKPOINT_MS      60000u /* ... or 60 s */
#define CONFIG_MAX_LINE                   4096u
#define CONFIG_MAX_KEY_POLICIES           HWSIGN_MAX_KEYS

enum log_target { LOG_TARGET_AUTO, LOG_TARGET_STDERR, LOG_TARGET_JOURNAL };

/* A user or group named in the config: by name until resolved. */
struct principal {
    char name[HWSIGN_MAX_NAME + 1];
    uint32_t id; /* valid after config_resolve */
};

struct principal_list {
    struct principal v[HWSIGN_MAX_POLICY_ENTRIES];
    size_t n;
};

struct pkcs11_section {
    char name[HWSIGN_MAX_NAME + 1];
    char module[CONFIG_MAX_PATH + 1];
    char token[HWSIGN_MAX_NAME + 1]; /* PKCS#11 labels are at most 32 bytes */
    char pin[CONFIG_MAX_PATH + 1];   /* secret source spec, see secret-source.h */
    int line;
};

#define CONFIG_MAX_PREDICATE_TYPES 16u  /* predicate types one key may be limited to */
#define CONFIG_MAX_BUILDER_ID      256u /* bytes of builder-id (a URI) */
#define CONFIG_MAX_TOOLCHAIN       16u  /* measure-toolchain paths */
#define CONFIG_MAX_TOOL_PATH       512u /* bytes of one of them */
#define CONFIG_MAX_ENV_ALLOW       32u  /* measure-environment patterns */
#define CONFIG_MAX_ENV_PATTERN     128u /* bytes of one of them */
#define CONFIG_MAX_PREDICATE_TYPE  256u /* bytes of one predicate type URI */

struct key_policy {
    char name[HWSIGN_MAX_NAME + 1];
    struct principal_list users;
    struct principal_list groups;
    /* What the key may sign (the agent decides, not the client): */
    bool digests_denied; /* allow-digests = no: no raw digests, statements only */
    char predicate_types[CONFIG_MAX_PREDICATE_TYPES][CONFIG_MAX_PREDICATE_TYPE + 1];
    size_t n_predicate_types; /* 0 = any predicate type */
    int line;
};

struct agent_config {
    char state_dir[CONFIG_MAX_PATH + 1];
    char socket_path[CONFIG_MAX_PATH + 1];
    char socket_group[HWSIGN_MAX_NAME + 1]; /* "" = leave the group alone */
    gid_t socket_gid;
    bool have_admin_group;
    struct principal admin_group;
    struct principal_list admin_users;
    uint32_t max_connections;
    uint64_t idle_timeout_ms;
    uint64_t request_timeout_ms;
    enum log_target log_target;
    bool audit_log; /* the write-ahead signing log (default yes; "no" only for benchmarks) */
    char log_key[HWSIGN_MAX_NAME + 1];    /* key that signs checkpoints ("" = none) */
    char log_origin[HWSIGN_MAX_NAME * 4]; /* checkpoint origin ("" = hwsign/HOSTNAME) */
    uint32_t checkpoint_records;          /* issue a checkpoint at least every N records */
    uint64_t checkpoint_interval_ms;      /* ... or every T when records are waiting */
    /* Measured provenance (docs/provenance.md). */
    char builder_id[CONFIG_MAX_BUILDER_ID + 1]; /* "" = urn:hwsign:builder:HOSTNAME */
    char toolchain[CONFIG_MAX_TOOLCHAIN][CONFIG_MAX_TOOL_PATH + 1]; /* digested per request */
    size_t n_toolchain;
    char env_allow[CONFIG_MAX_ENV_ALLOW][CONFIG_MAX_ENV_PATTERN + 1]; /* peer env allowlist */
    size_t n_env_allow;

    bool have_tpm;
    char tpm_tcti[CONFIG_MAX_PATH + 1]; /* default CONFIG_DEFAULT_TCTI */
    int tpm_line;

    struct pkcs11_section pkcs11[HWSIGN_MAX_BACKENDS];
    size_t n_pkcs11;
    struct key_policy *keys; /* n_keys entries */
    size_t n_keys;
};

struct agent_config *config_new(void); /* defaults; NULL on ENOMEM */
struct agent_config *config_free(struct agent_config *c);

/*
 * Parse text into c (which holds defaults). On error returns -EINVAL (or -EMSGSIZE, -ENOMEM)
 * and writes "line N: what is wrong" into err.
 */
int config_parse(struct agent_config *c, const char *text, size_t len, char *err, size_t errlen);
/*
 * Read and parse path. The file must be a regular file owned by root or the agent's euid and
 * not writable by group or others (-EPERM), at most HWSIGN_MAX_CONFIG bytes.
 */
int config_load(struct agent_config *c, const char *path, char *err, size_t errlen);
/* Resolve user and group names (or decimal ids) to ids. -ENOENT naming the unknown one. */
int config_resolve(struct agent_config *c, char *err, size_t errlen);

const struct key_policy *config_key_policy(const struct agent_config *c, const char *key);
/* "a, b" rendering of a principal list for listings. */
void principal_list_format(const struct principal_list *l, char *buf, size_t len);
