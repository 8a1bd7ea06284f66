/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"
#include "intoto.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "macro.h"
#include "parse.h"
#include "secret-source.h"

#define CONFIG_MAX_IDLE_MS            (3600u * 1000u)
#define CONFIG_MAX_TIMEOUT_MS         (3600u * 1000u)
#define CONFIG_MIN_TIMEOUT_MS         100u
#define CONFIG_MAX_CHECKPOINT_RECORDS 1000000u
#define GETPW_BUF                     16384u

enum section_kind { SEC_NONE, SEC_AGENT, SEC_PKCS11, SEC_KEY, SEC_TPM };

struct agent_config *config_new(void)
{
    struct agent_config *c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    memcpy(c->state_dir, CONFIG_DEFAULT_STATE_DIR, sizeof(CONFIG_DEFAULT_STATE_DIR));
    memcpy(c->socket_path, CONFIG_DEFAULT_SOCKET, sizeof(CONFIG_DEFAULT_SOCKET));
    c->socket_gid = (gid_t)-1;
    c->max_connections = HWSIGN_MAX_CONNECTIONS;
    c->idle_timeout_ms = HWSIGN_IDLE_TIMEOUT_MS;
    c->request_timeout_ms = HWSIGN_REQUEST_DEADLINE_MS;
    c->log_target = LOG_TARGET_AUTO;
    c->audit_log = true;
    c->checkpoint_records = CONFIG_DEFAULT_CHECKPOINT_RECORDS;
    c->checkpoint_interval_ms = CONFIG_DEFAULT_CHECKPOINT_MS;
    return c;
}

struct agent_config *config_free(struct agent_config *c)
{
    if (!c)
        return NULL;
    for (size_t i = 0; i < c->n_pkcs11; i++)
        explicit_bzero(c->pkcs11[i].pin, sizeof(c->pkcs11[i].pin));
    free(c->keys);
    free(c);
    return NULL;
}

_printf_(4, 5) static int fail(char *err, size_t errlen, int r, const char *fmt, ...)
{
    va_list ap;
    if (err && errlen) {
        va_start(ap, fmt);
        (void)vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return r;
}

static char *trim(char *s)
{
    char *e;
    while (*s == ' ' || *s == '\t')
        s++;
    e = s + strlen(s);
    while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
        *--e = '\0';
    return s;
}

static int copy_value(char *dst, size_t cap, const char *v)
{
    size_t n = strlen(v);
    if (n >= cap)
        return -EMSGSIZE;
    memcpy(dst, v, n + 1);
    return 0;
}

/* Principal names: user/group names or decimal ids; conservative character set. */
static bool principal_name_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > HWSIGN_MAX_NAME || s[0] == '-')
        return false;
    for (const char *p = s; *p; p++)
        if (!isalnum((unsigned char)*p) && *p != '_' && *p != '-' && *p != '.')
            return false;
    return true;
}

static int parse_principals(struct principal_list *l, char *v)
{
    char *save = NULL;
    l->n = 0;
    for (char *tok = strtok_r(v, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        char *t = trim(tok);
        if (*t == '\0')
            continue;
        if (!principal_name_ok(t))
            return -EINVAL;
        if (l->n >= HWSIGN_MAX_POLICY_ENTRIES)
            return -EMSGSIZE;
        for (size_t i = 0; i < l->n; i++)
            if (streq(l->v[i].name, t))
                return -EINVAL;
        memcpy(l->v[l->n].name, t, strlen(t) + 1);
        l->n++;
    }
    return 0;
}

/* Section header "[agent]" or "[pkcs11 \"name\"]". */
static int parse_section(char *line, enum section_kind *kind, char name[static HWSIGN_MAX_NAME + 1])
{
    char *end = strrchr(line, ']'), *sp, *q1, *q2;

    if (!end || *trim(end + 1) != '\0')
        return -EINVAL;
    *end = '\0';
    line = trim(line + 1);
    sp = strpbrk(line, " \t");
    name[0] = '\0';
    if (sp) {
        *sp = '\0';
        q1 = trim(sp + 1);
        if (*q1 != '"')
            return -EINVAL;
        q2 = strchr(q1 + 1, '"');
        if (!q2 || q2[1] != '\0')
            return -EINVAL;
        *q2 = '\0';
        if (!name_is_valid(q1 + 1))
            return -EINVAL;
        memcpy(name, q1 + 1, strlen(q1 + 1) + 1);
    }
    if (streq(line, "agent") && !sp)
        *kind = SEC_AGENT;
    else if (streq(line, "tpm") && !sp)
        *kind = SEC_TPM;
    else if (streq(line, "pkcs11") && sp)
        *kind = SEC_PKCS11;
    else if (streq(line, "key") && sp)
        *kind = SEC_KEY;
    else
        return -ENOENT;
    return 0;
}

/*
 * A list of words separated by spaces or commas into rows of width bytes (at most max rows):
 * printable, no duplicates; absolute paths when paths. Empty lists are allowed.
 */
static int parse_words(char *v, char *rows, size_t width, size_t max, size_t *ret_n, bool paths)
{
    char *save = NULL;
    size_t n = 0;

    for (char *tok = strtok_r(v, ", \t", &save); tok; tok = strtok_r(NULL, ", \t", &save)) {
        size_t len = strlen(tok);
        if (len >= width || n >= max)
            return -EMSGSIZE;
        for (const char *q = tok; *q; q++)
            if (!isgraph((unsigned char)*q))
                return -EINVAL;
        if (paths && tok[0] != '/')
            return -EINVAL;
        for (size_t i = 0; i < n; i++)
            if (streq(rows + i * width, tok))
                return -EINVAL;
        memcpy(rows + n * width, tok, len + 1);
        n++;
    }
    *ret_n = n;
    return 0;
}

static int set_agent(struct agent_config *c, const char *k, char *v, uint64_t *seen)
{
    static const char *const names[] = {"state-dir",
                                        "socket",
                                        "socket-group",
                                        "admin-group",
                                        "admin-users",
                                        "max-connections",
                                        "idle-timeout",
                                        "request-timeout",
                                        "log-target",
                                        "audit-log",
                                        "log-key",
                                        "log-origin",
                                        "checkpoint-records",
                                        "checkpoint-interval",
                                        "builder-id",
                                        "measure-toolchain",
                                        "measure-environment"};
    size_t i;
    uint64_t ms;
    uint32_t u;
    int r;

    for (i = 0; i < ELEMENTSOF(names); i++)
        if (streq(k, names[i]))
            break;
    if (i == ELEMENTSOF(names))
        return -ENOENT;
    if (*seen & (1u << i))
        return -EEXIST;
    *seen |= 1u << i;
    switch (i) {
    case 0:
    case 1:
        if (v[0] != '/')
            return -EINVAL;
        return copy_value(i == 0 ? c->state_dir : c->socket_path, CONFIG_MAX_PATH + 1, v);
    case 2:
        if (!principal_name_ok(v))
            return -EINVAL;
        return copy_value(c->socket_group, sizeof(c->socket_group), v);
    case 3:
        if (!principal_name_ok(v))
            return -EINVAL;
        c->have_admin_group = true;
        return copy_value(c->admin_group.name, sizeof(c->admin_group.name), v);
    case 4:
        return parse_principals(&c->admin_users, v);
    case 5:
        r = parse_u32(v, HWSIGN_MAX_CONNECTIONS, &u);
        if (r < 0 || u == 0)
            return -EINVAL;
        c->max_connections = u;
        return 0;
    case 6:
    case 7:
        r = parse_duration_ms(v, &ms);
        if (r < 0 || ms < CONFIG_MIN_TIMEOUT_MS ||
            ms > (i == 6 ? CONFIG_MAX_IDLE_MS : CONFIG_MAX_TIMEOUT_MS))
            return -EINVAL;
        if (i == 6)
            c->idle_timeout_ms = ms;
        else
            c->request_timeout_ms = ms;
        return 0;
    case 9:
        return parse_bool(v, &c->audit_log) < 0 ? -EINVAL : 0;
    case 10:
        if (!name_is_valid(v))
            return -EINVAL;
        return copy_value(c->log_key, sizeof(c->log_key), v);
    case 11:
        for (const char *q = v; *q; q++)
            if (!isgraph((unsigned char)*q) || *q == '+')
                return -EINVAL;
        if (!*v)
            return -EINVAL;
        return copy_value(c->log_origin, sizeof(c->log_origin), v);
    case 12:
        r = parse_u32(v, CONFIG_MAX_CHECKPOINT_RECORDS, &u);
        if (r < 0 || u == 0)
            return -EINVAL;
        c->checkpoint_records = u;
        return 0;
    case 13:
        r = parse_duration_ms(v, &ms);
        if (r < 0 || ms < CONFIG_MIN_TIMEOUT_MS || ms > CONFIG_MAX_TIMEOUT_MS)
            return -EINVAL;
        c->checkpoint_interval_ms = ms;
        return 0;
    case 14:
        if (strlen(v) > CONFIG_MAX_BUILDER_ID)
            return -EMSGSIZE;
        if (intoto_type_uri_check(v, strlen(v)) < 0)
            return -EINVAL;
        return copy_value(c->builder_id, sizeof(c->builder_id), v);
    case 15:
        return parse_words(v, &c->toolchain[0][0], CONFIG_MAX_TOOL_PATH + 1, CONFIG_MAX_TOOLCHAIN,
                           &c->n_toolchain, true);
    case 16:
        return parse_words(v, &c->env_allow[0][0], CONFIG_MAX_ENV_PATTERN + 1, CONFIG_MAX_ENV_ALLOW,
                           &c->n_env_allow, false);
    default:
        if (streq(v, "auto"))
            c->log_target = LOG_TARGET_AUTO;
        else if (streq(v, "stderr"))
            c->log_target = LOG_TARGET_STDERR;
        else if (streq(v, "journal"))
            c->log_target = LOG_TARGET_JOURNAL;
        else
            return -EINVAL;
        return 0;
    }
}

static int set_pkcs11(struct pkcs11_section *s, const char *k, char *v, uint64_t *seen)
{
    if (streq(k, "module")) {
        if (*seen & 1)
            return -EEXIST;
        *seen |= 1;
        if (v[0] != '/')
            return -EINVAL;
        return copy_value(s->module, sizeof(s->module), v);
    }
    if (streq(k, "token")) {
        if (*seen & 2)
            return -EEXIST;
        *seen |= 2;
        if (v[0] == '\0' || strlen(v) > 32)
            return -EINVAL;
        return copy_value(s->token, sizeof(s->token), v);
    }
    if (streq(k, "pin")) {
        if (*seen & 4)
            return -EEXIST;
        *seen |= 4;
        if (secret_source_validate(v) < 0)
            return -EINVAL;
        return copy_value(s->pin, sizeof(s->pin), v);
    }
    return -ENOENT;
}

/* "uri, uri": printable, no spaces, no duplicates; at least one. */
static int parse_predicate_types(struct key_policy *p, char *v)
{
    char *save = NULL;

    p->n_predicate_types = 0;
    for (char *tok = strtok_r(v, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        char *t = trim(tok);
        size_t n = strlen(t);
        if (n == 0)
            continue;
        if (n > CONFIG_MAX_PREDICATE_TYPE)
            return -EMSGSIZE;
        for (const char *c = t; *c; c++)
            if (!isgraph((unsigned char)*c))
                return -EINVAL;
        if (p->n_predicate_types >= CONFIG_MAX_PREDICATE_TYPES)
            return -EMSGSIZE;
        for (size_t i = 0; i < p->n_predicate_types; i++)
            if (streq(p->predicate_types[i], t))
                return -EINVAL;
        memcpy(p->predicate_types[p->n_predicate_types++], t, n + 1);
    }
    return p->n_predicate_types ? 0 : -EINVAL;
}

static int set_key(struct key_policy *p, const char *k, char *v, uint64_t *seen)
{
    if (streq(k, "allow-users")) {
        if (*seen & 1)
            return -EEXIST;
        *seen |= 1;
        return parse_principals(&p->users, v);
    }
    if (streq(k, "allow-groups")) {
        if (*seen & 2)
            return -EEXIST;
        *seen |= 2;
        return parse_principals(&p->groups, v);
    }
    if (streq(k, "allow-digests")) {
        bool b;
        if (*seen & 4)
            return -EEXIST;
        *seen |= 4;
        if (parse_bool(v, &b) < 0)
            return -EINVAL;
        p->digests_denied = !b;
        return 0;
    }
    if (streq(k, "allow-predicate-types")) {
        if (*seen & 8)
            return -EEXIST;
        *seen |= 8;
        return parse_predicate_types(p, v);
    }
    return -ENOENT;
}

/* A TCTI config string: "device:/dev/tpmrm0", "swtpm:path=/run/x.sock", "mssim:host=..". */
static bool tcti_ok(const char *v)
{
    size_t n = strlen(v);
    if (n == 0 || n > CONFIG_MAX_PATH || !isalnum((unsigned char)v[0]))
        return false;
    for (const char *p = v; *p; p++)
        if (!isgraph((unsigned char)*p))
            return false;
    return true;
}

static int set_tpm(struct agent_config *c, const char *k, char *v, uint64_t *seen)
{
    if (!streq(k, "tcti"))
        return -ENOENT;
    if (*seen & 1)
        return -EEXIST;
    *seen |= 1;
    if (!tcti_ok(v))
        return -EINVAL;
    return copy_value(c->tpm_tcti, sizeof(c->tpm_tcti), v);
}

static int check_pkcs11(const struct pkcs11_section *s, char *err, size_t errlen)
{
    if (!s->module[0] || !s->token[0] || !s->pin[0])
        return fail(err, errlen, -EINVAL, "line %d: [pkcs11 \"%s\"] needs module, token and pin",
                    s->line, s->name);
    return 0;
}

static const char *setting_error(int r)
{
    switch (r) {
    case -ENOENT:
        return "unknown setting";
    case -EEXIST:
        return "setting given twice";
    case -EMSGSIZE:
        return "value too long";
    default:
        return "invalid value";
    }
}

int config_parse(struct agent_config *c, const char *text, size_t len, char *err, size_t errlen)
{
    enum section_kind kind = SEC_NONE;
    struct pkcs11_section *p11 = NULL;
    struct key_policy *key = NULL;
    uint64_t seen = 0, seen_sections = 0;
    size_t pos = 0;
    int lineno = 0, r;

    if (len > HWSIGN_MAX_CONFIG)
        return fail(err, errlen, -EMSGSIZE, "config larger than %u bytes", HWSIGN_MAX_CONFIG);
    if (memchr(text, '\0', len))
        return fail(err, errlen, -EINVAL, "config contains a NUL byte");

    while (pos < len) {
        char buf[CONFIG_MAX_LINE + 1], *line, *eq;
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - (text + pos)) : len - pos;

        lineno++;
        if (n > CONFIG_MAX_LINE)
            return fail(err, errlen, -EMSGSIZE, "line %d: longer than %u bytes", lineno,
                        CONFIG_MAX_LINE);
        memcpy(buf, text + pos, n);
        buf[n] = '\0';
        pos += n + (nl ? 1 : 0);
        line = trim(buf);
        if (*line == '\0' || *line == '#' || *line == ';')
            continue;

        if (*line == '[') {
            char name[HWSIGN_MAX_NAME + 1];
            r = parse_section(line, &kind, name);
            if (r == -ENOENT)
                return fail(err, errlen, -EINVAL, "line %d: unknown section", lineno);
            if (r < 0)
                return fail(
                        err, errlen, -EINVAL,
                        "line %d: malformed section header (use [agent], [tpm], [pkcs11 \"NAME\"] "
                        "or [key \"NAME\"]; names use A-Z a-z 0-9 . _ -)",
                        lineno);
            seen = 0;
            if (kind == SEC_AGENT) {
                if (seen_sections & 1)
                    return fail(err, errlen, -EINVAL, "line %d: [agent] given twice", lineno);
                seen_sections |= 1;
            } else if (kind == SEC_TPM) {
                if (c->have_tpm)
                    return fail(err, errlen, -EINVAL, "line %d: [tpm] given twice", lineno);
                for (size_t i = 0; i < c->n_pkcs11; i++)
                    if (streq(c->pkcs11[i].name, CONFIG_TPM_BACKEND))
                        return fail(err, errlen, -EINVAL,
                                    "line %d: backend name \"tpm\" is taken by a [pkcs11] section",
                                    lineno);
                c->have_tpm = true;
                c->tpm_line = lineno;
                memcpy(c->tpm_tcti, CONFIG_DEFAULT_TCTI, sizeof(CONFIG_DEFAULT_TCTI));
            } else if (kind == SEC_PKCS11) {
                if (p11 && (r = check_pkcs11(p11, err, errlen)) < 0)
                    return r;
                for (size_t i = 0; i < c->n_pkcs11; i++)
                    if (streq(c->pkcs11[i].name, name))
                        return fail(err, errlen, -EINVAL, "line %d: backend \"%s\" given twice",
                                    lineno, name);
                if (c->have_tpm && streq(name, CONFIG_TPM_BACKEND))
                    return fail(err, errlen, -EINVAL,
                                "line %d: backend name \"tpm\" is reserved for the [tpm] section",
                                lineno);
                if (c->n_pkcs11 + (c->have_tpm ? 1u : 0u) >= HWSIGN_MAX_BACKENDS)
                    return fail(err, errlen, -EMSGSIZE, "line %d: more than %u backends", lineno,
                                HWSIGN_MAX_BACKENDS);
                p11 = &c->pkcs11[c->n_pkcs11++];
                memset(p11, 0, sizeof(*p11));
                memcpy(p11->name, name, sizeof(name));
                p11->line = lineno;
            } else {
                struct key_policy *nk;
                for (size_t i = 0; i < c->n_keys; i++)
                    if (streq(c->keys[i].name, name))
                        return fail(err, errlen, -EINVAL, "line %d: key \"%s\" given twice", lineno,
                                    name);
                if (c->n_keys >= CONFIG_MAX_KEY_POLICIES)
                    return fail(err, errlen, -EMSGSIZE, "line %d: more than %u key sections",
                                lineno, CONFIG_MAX_KEY_POLICIES);
                nk = realloc(c->keys, (c->n_keys + 1) * sizeof(*c->keys));
                if (!nk)
                    return fail(err, errlen, -ENOMEM, "out of memory");
                c->keys = nk;
                key = &c->keys[c->n_keys++];
                memset(key, 0, sizeof(*key));
                memcpy(key->name, name, sizeof(name));
                key->line = lineno;
            }
            continue;
        }

        eq = strchr(line, '=');
        if (!eq)
            return fail(err, errlen, -EINVAL, "line %d: expected 'setting = value'", lineno);
        *eq = '\0';
        {
            char *k = trim(line), *v = trim(eq + 1);
            switch (kind) {
            case SEC_NONE:
                return fail(err, errlen, -EINVAL, "line %d: setting outside a section", lineno);
            case SEC_AGENT:
                r = set_agent(c, k, v, &seen);
                break;
            case SEC_PKCS11:
                r = set_pkcs11(p11, k, v, &seen);
                break;
            case SEC_TPM:
                r = set_tpm(c, k, v, &seen);
                break;
            default:
                r = set_key(key, k, v, &seen);
                break;
            }
            if (r < 0)
                return fail(err, errlen, r == -EMSGSIZE ? -EMSGSIZE : -EINVAL, "line %d: %s: %s",
                            lineno, k, setting_error(r));
        }
    }
    if (p11 && (r = check_pkcs11(p11, err, errlen)) < 0)
        return r;
    /* One instance per token: a second login on the same token is never PIN-checked by some
     * modules, and closing either instance would close the other's sessions. */
    for (size_t i = 0; i < c->n_pkcs11; i++)
        for (size_t j = i + 1; j < c->n_pkcs11; j++)
            if (streq(c->pkcs11[i].module, c->pkcs11[j].module) &&
                streq(c->pkcs11[i].token, c->pkcs11[j].token))
                return fail(err, errlen, -EINVAL,
                            "line %d: [pkcs11 \"%s\"] uses the same token as [pkcs11 \"%s\"]",
                            c->pkcs11[j].line, c->pkcs11[j].name, c->pkcs11[i].name);
    return 0;
}

int config_load(struct agent_config *c, const char *path, char *err, size_t errlen)
{
    _cleanup_close_ int fd = -EBADF;
    _cleanup_free_ char *buf = NULL;
    struct stat st;
    size_t len = 0;

    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return fail(err, errlen, negative_errno(), "cannot open %s: %s", path, strerror(errno));
    if (fstat(fd, &st) < 0)
        return fail(err, errlen, negative_errno(), "cannot stat %s: %s", path, strerror(errno));
    if (!S_ISREG(st.st_mode))
        return fail(err, errlen, -EINVAL, "%s is not a regular file", path);
    if ((st.st_uid != 0 && st.st_uid != geteuid()) || (st.st_mode & (S_IWGRP | S_IWOTH)))
        return fail(err, errlen, -EPERM,
                    "%s must be owned by root (or the agent's user) and not writable by group "
                    "or others",
                    path);
    if (st.st_size > (off_t)HWSIGN_MAX_CONFIG)
        return fail(err, errlen, -EMSGSIZE, "%s is larger than %u bytes", path, HWSIGN_MAX_CONFIG);
    buf = malloc((size_t)st.st_size + 1);
    if (!buf)
        return -ENOMEM;
    while (len < (size_t)st.st_size) {
        ssize_t n = read(fd, buf + len, (size_t)st.st_size - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return fail(err, errlen, negative_errno(), "reading %s: %s", path, strerror(errno));
        if (n == 0)
            break;
        len += (size_t)n;
    }
    return config_parse(c, buf, len, err, errlen);
}

static int resolve_user(struct principal *p)
{
    char buf[GETPW_BUF];
    struct passwd pw, *res = NULL;
    uint32_t id;

    if (parse_u32(p->name, UINT32_MAX - 1, &id) >= 0) {
        p->id = id;
        return 0;
    }
    if (getpwnam_r(p->name, &pw, buf, sizeof(buf), &res) != 0 || !res)
        return -ENOENT;
    p->id = res->pw_uid;
    return 0;
}

static int resolve_group(struct principal *p)
{
    char buf[GETPW_BUF];
    struct group gr, *res = NULL;
    uint32_t id;

    if (parse_u32(p->name, UINT32_MAX - 1, &id) >= 0) {
        p->id = id;
        return 0;
    }
    if (getgrnam_r(p->name, &gr, buf, sizeof(buf), &res) != 0 || !res)
        return -ENOENT;
    p->id = res->gr_gid;
    return 0;
}

int config_resolve(struct agent_config *c, char *err, size_t errlen)
{
    for (size_t i = 0; i < c->admin_users.n; i++)
        if (resolve_user(&c->admin_users.v[i]) < 0)
            return fail(err, errlen, -ENOENT, "admin-users: unknown user '%s'",
                        c->admin_users.v[i].name);
    if (c->have_admin_group && resolve_group(&c->admin_group) < 0)
        return fail(err, errlen, -ENOENT, "admin-group: unknown group '%s'", c->admin_group.name);
    if (c->socket_group[0]) {
        struct principal g = {0};
        memcpy(g.name, c->socket_group, sizeof(g.name));
        if (resolve_group(&g) < 0)
            return fail(err, errlen, -ENOENT, "socket-group: unknown group '%s'", g.name);
        c->socket_gid = (gid_t)g.id;
    }
    for (size_t k = 0; k < c->n_keys; k++) {
        struct key_policy *p = &c->keys[k];
        for (size_t i = 0; i < p->users.n; i++)
            if (resolve_user(&p->users.v[i]) < 0)
                return fail(err, errlen, -ENOENT, "line %d: [key \"%s\"] unknown user '%s'",
                            p->line, p->name, p->users.v[i].name);
        for (size_t i = 0; i < p->groups.n; i++)
            if (resolve_group(&p->groups.v[i]) < 0)
                return fail(err, errlen, -ENOENT, "line %d: [key \"%s\"] unknown group '%s'",
                            p->line, p->name, p->groups.v[i].name);
    }
    return 0;
}

const struct key_policy *config_key_policy(const struct agent_config *c, const char *key)
{
    for (size_t i = 0; i < c->n_keys; i++)
        if (streq(c->keys[i].name, key))
            return &c->keys[i];
    return NULL;
}

void principal_list_format(const struct principal_list *l, char *buf, size_t len)
{
    size_t off = 0;

    if (len == 0)
        return;
    buf[0] = '\0';
    for (size_t i = 0; i < l->n; i++) {
        int n = snprintf(buf + off, len - off, "%s%s", i ? "," : "", l->v[i].name);
        if (n < 0 || (size_t)n >= len - off)
            return; /* truncated listing is acceptable for display */
        off += (size_t)n;
    }
}
