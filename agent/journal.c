/* SPDX-License-Identifier: Apache-2.0 */
#include "journal.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <systemd/sd-journal.h>
#include <unistd.h>

#define LOG_MAX_MESSAGE 2048u

static bool use_journal;
static pthread_mutex_t stderr_lock = PTHREAD_MUTEX_INITIALIZER;

/* Under systemd, stderr is a journal stream whose device:inode is in $JOURNAL_STREAM. */
static bool stderr_is_journal(void)
{
    const char *e = getenv("JOURNAL_STREAM");
    unsigned long long dev, ino;
    struct stat st;

    if (!e || sscanf(e, "%llu:%llu", &dev, &ino) != 2)
        return false;
    if (fstat(STDERR_FILENO, &st) < 0)
        return false;
    return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

void log_setup(enum log_target target)
{
    switch (target) {
    case LOG_TARGET_JOURNAL:
        use_journal = true;
        break;
    case LOG_TARGET_STDERR:
        use_journal = false;
        break;
    default:
        use_journal = stderr_is_journal();
        break;
    }
}

static const char *prio_name(int prio)
{
    switch (prio) {
    case LOG_EMERG:
    case LOG_ALERT:
    case LOG_CRIT:
    case LOG_ERR:
        return "error";
    case LOG_WARNING:
        return "warning";
    case LOG_NOTICE:
        return "notice";
    case LOG_INFO:
        return "info";
    default:
        return "debug";
    }
}

void log_event(int prio, const struct log_fields *f, const char *fmt, ...)
{
    char msg[LOG_MAX_MESSAGE], ctx[512] = "";
    struct log_fields none = {0};
    size_t off = 0;
    va_list ap;

    va_start(ap, fmt);
    (void)vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (!f)
        f = &none;

    if (use_journal) {
        char uid[32] = "", gid[32] = "", pid[32] = "";
        if (f->peer) {
            (void)snprintf(uid, sizeof(uid), "PEER_UID=%u", (unsigned)f->peer->uid);
            (void)snprintf(gid, sizeof(gid), "PEER_GID=%u", (unsigned)f->peer->gid);
            (void)snprintf(pid, sizeof(pid), "PEER_PID=%d", (int)f->peer->pid);
        }
        /* Empty strings are skipped by journald-side parsing: send only what is set. */
        (void)sd_journal_send("MESSAGE=%s", msg, "PRIORITY=%d", prio, "SYSLOG_IDENTIFIER=%s",
                              "hwsign-agent", "MESSAGE_ID=%s", f->msgid ? f->msgid : "",
                              "KEY_ID=%s", f->key ? f->key : "", "BACKEND=%s",
                              f->backend ? f->backend : "", "NATIVE_ERROR=%s",
                              f->native ? f->native : "", "%s", f->peer ? uid : "PEER_UID=", "%s",
                              f->peer ? gid : "PEER_GID=", "%s", f->peer ? pid : "PEER_PID=", NULL);
        return;
    }

#define CTX_ADD(...)                                                                               \
    do {                                                                                           \
        int _n = snprintf(ctx + off, sizeof(ctx) - off, __VA_ARGS__);                              \
        if (_n > 0 && (size_t)_n < sizeof(ctx) - off)                                              \
            off += (size_t)_n;                                                                     \
    } while (0)
    if (f->peer)
        CTX_ADD(" peer_uid=%u peer_gid=%u peer_pid=%d", (unsigned)f->peer->uid,
                (unsigned)f->peer->gid, (int)f->peer->pid);
    if (f->key)
        CTX_ADD(" key=%s", f->key);
    if (f->backend)
        CTX_ADD(" backend=%s", f->backend);
    if (f->native)
        CTX_ADD(" native=\"%s\"", f->native);
#undef CTX_ADD

    pthread_mutex_lock(&stderr_lock);
    fprintf(stderr, "hwsign-agent[%d]: %s: %s%s\n", (int)getpid(), prio_name(prio), msg, ctx);
    fflush(stderr);
    pthread_mutex_unlock(&stderr_lock);
}
