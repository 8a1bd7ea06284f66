/* SPDX-License-Identifier: Apache-2.0 */
#define _GNU_SOURCE /* environ */
#include "attest-run.h"

#include <errno.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <json-c/json_object.h>

#include "json.h"
#include "macro.h"

/* ================================ child processes ================================ */

void attest_spawnattr_destroyp(posix_spawnattr_t **a)
{
    if (*a)
        posix_spawnattr_destroy(*a);
}

int attest_reap(pid_t pid, int *ret_status)
{
    for (;;) {
        pid_t p = waitpid(pid, ret_status, 0);
        if (p == pid)
            return 0;
        if (p < 0 && errno != EINTR)
            return negative_errno();
    }
}

/* ============================ Running the build command ============================ */

static const int forwarded_signals[] = {SIGINT, SIGTERM, SIGHUP};

/* The running command, for the handler; 0 when there is none to signal. */
static volatile sig_atomic_t forward_pid;
static volatile sig_atomic_t last_interrupt;

static void forward_handler(int sig, siginfo_t *si, void *uctx)
{
    int saved = errno;
    pid_t pid = (pid_t)forward_pid;

    last_interrupt = sig;
    /* The terminal's signals went to the whole process group, the command included. */
    if (pid > 0 && !(si && si->si_code == SI_KERNEL))
        (void)kill(pid, sig);
    errno = saved;
}

static int format_timestamp(const struct timespec *ts, char buf[static ATTEST_TIMESTAMP_SIZE])
{
    struct tm tm;
    int n;

    if (!gmtime_r(&ts->tv_sec, &tm) || tm.tm_year + 1900 < 1 || tm.tm_year + 1900 > 9999)
        return -EOVERFLOW;
    n = snprintf(buf, ATTEST_TIMESTAMP_SIZE, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900,
                 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    if (n < 0 || (size_t)n >= ATTEST_TIMESTAMP_SIZE)
        return -EOVERFLOW;
    return 0;
}

int attest_run(char *const argv[], struct attest_run_result *ret)
{
    struct attest_run_result res = {};
    struct sigaction old[ELEMENTSOF(forwarded_signals)];
    bool installed[ELEMENTSOF(forwarded_signals)] = {};
    posix_spawnattr_t attr_storage;
    _cleanup_(attest_spawnattr_destroyp) posix_spawnattr_t *attr = NULL;
    sigset_t block, oldmask, dfl;
    siginfo_t info;
    pid_t pid = 0;
    int r, status = 0;

    if (!argv || !argv[0] || !ret)
        return -EINVAL;
    if (!getcwd(res.working_directory, sizeof(res.working_directory)))
        return errno == ERANGE ? -ENAMETOOLONG : negative_errno();
    if (posix_spawnattr_init(&attr_storage) != 0)
        return -ENOMEM;
    attr = &attr_storage;

    /* Handlers go in with the signals blocked, so none arrives before the pid is known. */
    sigemptyset(&block);
    for (size_t i = 0; i < ELEMENTSOF(forwarded_signals); i++)
        sigaddset(&block, forwarded_signals[i]);
    r = pthread_sigmask(SIG_BLOCK, &block, &oldmask);
    if (r != 0)
        return -r;
    forward_pid = 0;
    last_interrupt = 0;
    for (size_t i = 0; i < ELEMENTSOF(forwarded_signals); i++) {
        struct sigaction sa = {.sa_sigaction = forward_handler, .sa_flags = SA_SIGINFO};

        if (sigaction(forwarded_signals[i], NULL, &old[i]) < 0) {
            r = negative_errno();
            goto restore;
        }
        if (!(old[i].sa_flags & SA_SIGINFO) && old[i].sa_handler == SIG_IGN)
            continue; /* ignored by the caller (nohup, background job): ignored by the build */
        sa.sa_mask = block;
        if (sigaction(forwarded_signals[i], &sa, NULL) < 0) {
            r = negative_errno();
            goto restore;
        }
        installed[i] = true;
    }
    sigemptyset(&dfl);
    sigaddset(&dfl, SIGPIPE);
    if (posix_spawnattr_setflags(attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF) != 0 ||
        posix_spawnattr_setsigmask(attr, &oldmask) != 0 ||
        posix_spawnattr_setsigdefault(attr, &dfl) != 0) {
        r = -ENOMEM;
        goto restore;
    }

    clock_gettime(CLOCK_REALTIME, &res.started);
    r = posix_spawnp(&pid, argv[0], NULL, attr, argv, environ);
    if (r != 0) {
        r = -r;
        goto restore;
    }
    forward_pid = pid;
    pthread_sigmask(SIG_SETMASK, &oldmask, NULL);

    /* Wait without reaping, so the pid cannot be reused while the handler may still kill it. */
    for (;;) {
        if (waitid(P_PID, (id_t)pid, &info, WEXITED | WNOWAIT) == 0)
            break;
        if (errno != EINTR) {
            r = negative_errno();
            break;
        }
    }
    pthread_sigmask(SIG_BLOCK, &block, NULL);
    forward_pid = 0;
    if (r == 0)
        r = attest_reap(pid, &status);
    clock_gettime(CLOCK_REALTIME, &res.finished);
    res.interrupt = (int)last_interrupt;

restore:
    for (size_t i = 0; i < ELEMENTSOF(forwarded_signals); i++)
        if (installed[i])
            (void)sigaction(forwarded_signals[i], &old[i], NULL);
    pthread_sigmask(SIG_SETMASK, &oldmask, NULL);
    if (r < 0)
        return r;

    res.pid = pid;
    if (WIFSIGNALED(status)) {
        res.signaled = true;
        res.signal = WTERMSIG(status);
    } else {
        res.exit_code = WEXITSTATUS(status);
    }
    r = format_timestamp(&res.started, res.started_on);
    if (r < 0)
        return r;
    r = format_timestamp(&res.finished, res.finished_on);
    if (r < 0)
        return r;
    *ret = res;
    return 0;
}

int attest_run_shell_status(const struct attest_run_result *r)
{
    return r->signaled ? 128 + r->signal : r->exit_code;
}

/* ================================ externalParameters ================================ */

static int add_cstring(struct json_object *obj, const char *key, const char *s)
{
    return fjson_add_string(obj, key, s, strlen(s));
}

int attest_external_parameters_build(char *const argv[], const struct attest_run_result *run,
                                     const struct attest_git_info *source, char **ret,
                                     size_t *ret_len)
{
    _cleanup_(fjson_putp) struct json_object *root = NULL, *check = NULL;
    _cleanup_free_ char *out = NULL;
    struct json_object *cmd, *src;
    size_t total = 0, out_len = 0;
    int r;

    if (!argv || !argv[0] || !run || !ret || !ret_len || (source && !source->commit))
        return -EINVAL;
    /* Refuse oversized input before json-c copies and escapes it. */
    for (size_t i = 0; argv[i]; i++)
        if (!size_add(total, strlen(argv[i]), &total) || total > ATTEST_MAX_EXTERNAL_PARAMS)
            return -EMSGSIZE;

    root = json_object_new_object();
    if (!root)
        return -ENOMEM;
    cmd = json_object_new_array();
    r = fjson_add(root, "command", cmd);
    if (r < 0)
        return r;
    for (size_t i = 0; argv[i]; i++) {
        r = fjson_append(cmd, json_object_new_string(argv[i]));
        if (r < 0)
            return r;
    }
    r = add_cstring(root, "workingDirectory", run->working_directory);
    if (r < 0)
        return r;
    if (run->signaled)
        r = fjson_add(root, "exitSignal", json_object_new_int(run->signal));
    else
        r = fjson_add(root, "exitStatus", json_object_new_int(run->exit_code));
    if (r < 0)
        return r;
    if (source) {
        src = json_object_new_object();
        r = fjson_add(root, "source", src);
        if (r < 0)
            return r;
        if (source->uri) {
            r = add_cstring(src, "uri", source->uri);
            if (r < 0)
                return r;
        }
        r = add_cstring(src, "commit", source->commit);
        if (r < 0)
            return r;
        r = fjson_add(src, "dirty", json_object_new_boolean(source->dirty));
        if (r < 0)
            return r;
    }
    r = fjson_serialize(root, &out, &out_len);
    if (r < 0)
        return r;
    if (out_len > ATTEST_MAX_EXTERNAL_PARAMS)
        return -EMSGSIZE;
    /* Arguments are arbitrary bytes: prove the text is strict JSON (UTF-8) before use. */
    r = fjson_parse_object(out, out_len, ATTEST_MAX_EXTERNAL_PARAMS, &check);
    if (r < 0)
        return r;
    *ret = TAKE_PTR(out);
    *ret_len = out_len;
    return 0;
}
