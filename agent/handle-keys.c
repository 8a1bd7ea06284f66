/* SPDX-License-Identifier: Apache-2.0 */
/* STATUS, LIST_KEYS, KEY_INFO and key management (create, add, delete). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "agent.h"
#include "conn.h"
#include "crypto.h"
#include "dispatch.h"
#include "journal.h"
#include "policy.h"
#include "proto.h"

struct policy_text {
    char users[HWSIGN_MAX_TEXT];
    char groups[HWSIGN_MAX_TEXT];
};

static struct proto_key_view key_view(struct agent *a, const struct key_record *k, bool spki,
                                      struct policy_text *pt)
{
    const struct key_policy *p = config_key_policy(a->cfg, k->name);

    pt->users[0] = pt->groups[0] = '\0';
    if (p) {
        principal_list_format(&p->users, pt->users, sizeof(pt->users));
        principal_list_format(&p->groups, pt->groups, sizeof(pt->groups));
    }
    return (struct proto_key_view){
            .name = k->name,
            .backend = k->backend,
            .kind = k->kind,
            .alg = alg_name(k->alg),
            .locator = k->locator,
            .allow_users = pt->users,
            .allow_groups = pt->groups,
            .created = k->created,
            .spki = spki ? k->spki : NULL,
            .spki_len = spki ? k->spki_len : 0,
    };
}

static int reply_key(struct agent *a, struct conn *c, uint8_t type, uint32_t id,
                     const struct key_record *k)
{
    struct policy_text pt;
    struct proto_key_view v = key_view(a, k, true, &pt);
    if (proto_put_key_info(c->out, type, id, &v) < 0) {
        c->close_after_flush = true;
        return -EMSGSIZE;
    }
    return 0;
}

int handle_status(struct agent *a, struct conn *c, uint32_t id, struct sbuf *body)
{
    struct proto_backend_view v[HWSIGN_MAX_BACKENDS];
    char detail[HWSIGN_MAX_BACKENDS][HWSIGN_MAX_TEXT];
    int r = proto_get_empty(body);

    if (r < 0)
        return dispatch_malformed(a, c, id, HWSIGN_MSG_STATUS, r);
    for (size_t i = 0; i < a->nbackends; i++) {
        struct key_backend *b = a->backends[i].b;
        detail[i][0] = '\0';
        v[i].name = b->name;
        v[i].kind = b->ops->kind;
        v[i].state = (uint8_t)b->ops->health(b, detail[i], sizeof(detail[i]));
        v[i].detail = detail[i];
    }
    r = proto_put_status(c->out, id, HWSIGN_VERSION, (now_ms() - a->start_ms) / 1000u,
                         (uint32_t)keystore_count(a->keys), (uint32_t)a->nconns, v, a->nbackends);
    if (r < 0)
        c->close_after_flush = true;
    return r;
}

int handle_list_keys(struct agent *a, struct conn *c, uint32_t id, struct sbuf *body)
{
    size_t mark, n = 0, total = keystore_count(a->keys);
    int r = proto_get_empty(body);

    if (r < 0)
        return dispatch_malformed(a, c, id, HWSIGN_MSG_LIST_KEYS, r);
    for (size_t i = 0; i < HWSIGN_MAX_KEYS; i++) {
        const struct key_record *k = keystore_at(a->keys, i);
        if (k && policy_may_use_key(a->cfg, k->name, &c->peer))
            n++;
    }
    r = proto_put_key_list_begin(c->out, id, (uint32_t)n, &mark);
    for (size_t i = 0; r >= 0 && i < HWSIGN_MAX_KEYS && total > 0; i++) {
        const struct key_record *k = keystore_at(a->keys, i);
        struct policy_text pt;
        struct proto_key_view v;
        if (!k || !policy_may_use_key(a->cfg, k->name, &c->peer))
            continue;
        v = key_view(a, k, false, &pt);
        r = proto_put_key_list_entry(c->out, &v);
    }
    if (r >= 0)
        r = proto_end(c->out, mark);
    if (r < 0)
        c->close_after_flush = true;
    return r;
}

int handle_key_info(struct agent *a, struct conn *c, uint32_t id, struct sbuf *body)
{
    char name[HWSIGN_MAX_NAME + 1];
    const struct key_record *k;
    int r = proto_get_name_req(body, name);

    if (r < 0)
        return dispatch_malformed(a, c, id, HWSIGN_MSG_KEY_INFO, r);
    if (!policy_may_use_key(a->cfg, name, &c->peer)) {
        conn_reply_error(a, c, id, -EACCES, "uid %u may not use key '%s'", (unsigned)c->peer.uid,
                         name);
        return -EACCES;
    }
    k = keystore_find(a->keys, name);
    if (!k) {
        conn_reply_error(a, c, id, -ENOKEY, "no key named '%s'", name);
        return -ENOKEY;
    }
    return reply_key(a, c, HWSIGN_MSG_KEY_INFO, id, k);
}

/* Backend for create/add: named, or the only one configured. Replies on failure. */
static struct backend_slot *pick_backend(struct agent *a, struct conn *c, uint32_t id,
                                         const char *name)
{
    struct backend_slot *s = agent_backend(a, name);
    if (s)
        return s;
    if (a->nbackends == 0)
        conn_reply_error(a, c, id, -ENODEV, "no key backend is configured in the agent");
    else if (!name[0])
        conn_reply_error(a, c, id, -EINVAL,
                         "%zu backends are configured: name one (hwsign key create --backend)",
                         a->nbackends);
    else
        conn_reply_error(a, c, id, -EINVAL, "no backend named '%s' in the agent configuration",
                         name);
    return NULL;
}

static int submit_key_job(struct agent *a, struct conn *c, uint32_t id, uint8_t type,
                          const struct proto_key_req *q, enum job_kind kind, enum hwsign_alg alg)
{
    struct backend_slot *s = pick_backend(a, c, id, q->backend);
    struct job *j;
    int r;

    if (!s)
        return -EINVAL;
    r = keystore_reserve(a->keys, q->name);
    if (r < 0) {
        if (r == -EEXIST)
            conn_reply_error(a, c, id, r, "a key named '%s' already exists", q->name);
        else
            conn_reply_error(a, c, id, r, "cannot register key '%s': %s", q->name, strerror(-r));
        return r;
    }
    j = job_new(kind);
    if (!j) {
        keystore_unreserve(a->keys, q->name);
        conn_reply_error(a, c, id, -ENOMEM, "agent out of memory");
        return -ENOMEM;
    }
    memcpy(j->key, q->name, sizeof(j->key));
    memcpy(j->locator, q->uri, sizeof(j->locator));
    j->alg = alg;
    r = dispatch_submit(a, c, s, j, id, type);
    if (r < 0)
        keystore_unreserve(a->keys, q->name);
    return r;
}

int handle_key_create(struct agent *a, struct conn *c, uint32_t id, struct sbuf *body)
{
    struct proto_key_req q;
    enum hwsign_alg alg;
    int r = proto_get_key_create_req(body, &q);

    if (r < 0)
        return dispatch_malformed(a, c, id, HWSIGN_MSG_KEY_CREATE, r);
    alg = alg_from_name(q.alg);
    if (alg == HWSIGN_ALG_UNKNOWN) {
        conn_reply_error(a, c, id, -EINVAL,
                         "unknown algorithm '%s' (use ecdsa-p256, ecdsa-p384 or rsa-3072)", q.alg);
        return -EINVAL;
    }
    return submit_key_job(a, c, id, HWSIGN_MSG_KEY_CREATE, &q, JOB_CREATE, alg);
}

int handle_key_add(struct agent *a, struct conn *c, uint32_t id, struct sbuf *body)
{
    struct proto_key_req q;
    int r = proto_get_key_add_req(body, &q);

    if (r < 0)
        return dispatch_malformed(a, c, id, HWSIGN_MSG_KEY_ADD, r);
    if (q.uri[0] == '\0') {
        conn_reply_error(a, c, id, -EINVAL, "key add needs a URI naming the key");
        return -EINVAL;
    }
    return submit_key_job(a, c, id, HWSIGN_MSG_KEY_ADD, &q, JOB_IMPORT, HWSIGN_ALG_UNKNOWN);
}

int handle_key_delete(struct agent *a, struct conn *c, uint32_t id, struct sbuf *body)
{
    struct proto_key_req q;
    const struct key_record *k;
    struct backend_slot *s;
    struct job *j;
    int r = proto_get_key_delete_req(body, &q);

    if (r < 0)
        return dispatch_malformed(a, c, id, HWSIGN_MSG_KEY_DELETE, r);
    k = keystore_find(a->keys, q.name);
    if (!k) {
        conn_reply_error(a, c, id, -ENOKEY, "no key named '%s'", q.name);
        return -ENOKEY;
    }
    if (!q.destroy) {
        struct log_fields f = {.msgid = LOG_ID_KEY_CHANGED, .peer = &c->peer, .key = q.name};
        r = keystore_remove(a->keys, q.name);
        if (r < 0) {
            conn_reply_error(a, c, id, r, "cannot remove key '%s': %s", q.name, strerror(-r));
            return r;
        }
        log_event(LOG_NOTICE, &f, "key '%s' unregistered (kept on the device)", q.name);
        if (proto_put_ok(c->out, HWSIGN_MSG_KEY_DELETE, id) < 0)
            c->close_after_flush = true;
        return 0;
    }
    s = agent_backend_of_key(a, k);
    if (!s) {
        conn_reply_error(a, c, id, -ENODEV, "backend '%s' of key '%s' is not configured",
                         k->backend, k->name);
        return -ENODEV;
    }
    j = job_new(JOB_DESTROY);
    if (!j) {
        conn_reply_error(a, c, id, -ENOMEM, "agent out of memory");
        return -ENOMEM;
    }
    memcpy(j->key, k->name, sizeof(j->key));
    memcpy(j->locator, k->locator, sizeof(j->locator));
    return dispatch_submit(a, c, s, j, id, HWSIGN_MSG_KEY_DELETE);
}

static void fail_job(struct agent *a, struct conn *c, struct job *j, const char *what)
{
    struct log_fields f = {
            .peer = c ? &c->peer : NULL, .key = j->key, .native = j->errmsg[0] ? j->errmsg : NULL};
    log_event(LOG_ERR, &f, "%s key '%s' failed: %s", what, j->key, dispatch_strerror(j->result));
    if (c)
        conn_reply_error(a, c, j->req_id, j->result, "backend '%s': %s%s%s", j->backend,
                         dispatch_strerror(j->result), j->errmsg[0] ? "; " : "", j->errmsg);
}

/* Create/import finished on the device: persist the registration, then answer. */
static void register_done(struct agent *a, struct conn *c, struct job *j)
{
    struct key_record rec = {0};
    const char *what = j->kind == JOB_CREATE ? "creating" : "adding";
    struct log_fields f = {.msgid = LOG_ID_KEY_CHANGED, .peer = c ? &c->peer : NULL, .key = j->key};
    enum hwsign_alg alg;
    int r;

    if (j->result < 0) {
        keystore_unreserve(a->keys, j->key);
        fail_job(a, c, j, what);
        return;
    }
    alg = j->kind == JOB_CREATE ? j->alg : j->out_alg;
    r = -EINVAL;
    if (j->out_locator && strlen(j->out_locator) <= HWSIGN_MAX_URI && j->out_spki &&
        j->out_spki_len <= sizeof(rec.spki) && spki_alg(j->out_spki, j->out_spki_len, &alg) >= 0)
        r = 0;
    if (r == 0) {
        memcpy(rec.name, j->key, sizeof(rec.name));
        memcpy(rec.backend, j->backend, sizeof(rec.backend));
        memcpy(rec.kind, j->backend_kind, sizeof(rec.kind));
        rec.alg = alg;
        memcpy(rec.locator, j->out_locator, strlen(j->out_locator) + 1);
        memcpy(rec.spki, j->out_spki, j->out_spki_len);
        rec.spki_len = j->out_spki_len;
        rec.created = (uint64_t)time(NULL);
        r = keystore_commit(a->keys, &rec);
    }
    if (r < 0) {
        keystore_unreserve(a->keys, j->key);
        log_event(LOG_ERR, &f, "%s key '%s': device key %s made but not registered: %s", what,
                  j->key, j->out_locator ? j->out_locator : "?", strerror(-r));
        if (c)
            conn_reply_error(a, c, j->req_id, r, "%s key '%s': cannot save its registration: %s",
                             what, j->key, strerror(-r));
        return;
    }
    log_event(LOG_NOTICE, &f, "key '%s' %s (%s on backend '%s')", j->key,
              j->kind == JOB_CREATE ? "created" : "added", alg_name(rec.alg), rec.backend);
    if (c)
        (void)reply_key(a, c, j->req_type, j->req_id, keystore_find(a->keys, j->key));
}

void handle_key_job_done(struct agent *a, struct conn *c, struct job *j)
{
    struct log_fields f = {.msgid = LOG_ID_KEY_CHANGED, .peer = c ? &c->peer : NULL, .key = j->key};
    int r;

    switch (j->kind) {
    case JOB_CREATE:
    case JOB_IMPORT:
        register_done(a, c, j);
        return;
    case JOB_DESTROY:
        if (j->result < 0) {
            fail_job(a, c, j, "destroying");
            return;
        }
        r = keystore_remove(a->keys, j->key);
        log_event(LOG_NOTICE, &f, "key '%s' destroyed on the device", j->key);
        if (!c)
            return;
        if (r < 0 && r != -ENOKEY)
            conn_reply_error(a, c, j->req_id, r, "key destroyed but its record remains: %s",
                             strerror(-r));
        else if (proto_put_ok(c->out, HWSIGN_MSG_KEY_DELETE, j->req_id) < 0)
            c->close_after_flush = true;
        return;
    default:
        return;
    }
}
