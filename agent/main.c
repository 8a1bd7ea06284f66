/* SPDX-License-Identifier: Apache-2.0 */
/* hwsign-agent: options, process hardening, backends, then the event loop. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include "agent.h"
#include "measure.h"
#include "auditlog.h"
#include "journal.h"
#include "pkcs11.h"
#include "secret-source.h"
#include "secret.h"
#include "server.h"
#include "tpm.h"

#define AGENT_SECURE_HEAP    (64u * 1024u)
#define AGENT_STOP_WORKER_MS 2000u

static void usage(FILE *f)
{
    fprintf(f, "Usage: hwsign-agent [--config FILE] [--socket PATH]\n"
               "\n"
               "Keeps signing keys in hardware (a TPM 2.0, PKCS#11 tokens) and signs for\n"
               "authorised local clients over a Unix socket. Runs in the foreground; supports\n"
               "systemd socket activation and Type=notify.\n"
               "\n"
               "  -c, --config FILE   configuration file (default " CONFIG_DEFAULT_PATH ")\n"
               "  -s, --socket PATH   listen here instead of the configured socket\n"
               "  -h, --help          show this help\n"
               "      --version       show the version\n");
}

/* No core files and no ptrace by same-uid processes: keys' PINs live in this process. */
static int harden_process(void)
{
    struct rlimit rl = {0, 0};

    if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
        return negative_errno();
    if (setrlimit(RLIMIT_CORE, &rl) < 0)
        return negative_errno();
    signal(SIGPIPE, SIG_IGN);
    return 0;
}

/* Runs the worker for a constructed backend; frees it on failure. */
static int add_backend(struct agent *a, struct key_backend *b)
{
    int r = worker_start(b, &a->done, HWSIGN_MAX_QUEUE, &a->backends[a->nbackends].w);
    if (r < 0) {
        log_error("cannot start worker for backend '%s': %s", b->name, strerror(-r));
        b->ops->free(b);
        return r;
    }
    a->backends[a->nbackends].b = b;
    a->nbackends++;
    return 0;
}

static int start_tpm(struct agent *a)
{
    char err[512] = "", key_dir[CONFIG_MAX_PATH + 16];
    struct tpm_config tc = {.name = CONFIG_TPM_BACKEND, .tcti = a->cfg->tpm_tcti};
    struct key_backend *b = NULL;
    int n, r;

    n = snprintf(key_dir, sizeof(key_dir), "%s/tpm-keys", a->cfg->state_dir);
    if (n < 0 || (size_t)n >= sizeof(key_dir))
        return -ENAMETOOLONG;
    tc.key_dir = key_dir;
    r = tpm_backend_new(&tc, &b, err, sizeof(err));
    if (r < 0) {
        log_error("[tpm]: %s", err[0] ? err : strerror(-r));
        return r;
    }
    return add_backend(a, b);
}

static int start_backends(struct agent *a)
{
    char err[512];

    if (a->cfg->have_tpm) {
        int r = start_tpm(a);
        if (r < 0)
            return r;
    }
    for (size_t i = 0; i < a->cfg->n_pkcs11; i++) {
        const struct pkcs11_section *s = &a->cfg->pkcs11[i];
        struct p11_config pc = {.name = s->name, .module = s->module, .token = s->token};
        struct key_backend *b = NULL;
        struct secret *pin = NULL;
        int r;

        r = secret_source_read(s->pin, &pin);
        if (r < 0) {
            log_error("[pkcs11 \"%s\"]: cannot read the PIN from '%.*s': %s", s->name,
                      (int)strcspn(s->pin, ":"), s->pin, strerror(-r));
            return r;
        }
        pc.pin = pin;
        r = p11_backend_new_err(&pc, &b, err, sizeof(err));
        if (r < 0) {
            secret_free(pin);
            log_error("[pkcs11 \"%s\"]: %s", s->name, err[0] ? err : strerror(-r));
            return r;
        }
        r = add_backend(a, b);
        if (r < 0)
            return r;
    }
    return 0;
}

static void stop_backends(struct agent *a)
{
    if (a->judge && worker_stop(a->judge, AGENT_STOP_WORKER_MS))
        a->judge = worker_free(a->judge);
    for (size_t i = 0; i < a->nbackends; i++) {
        struct backend_slot *s = &a->backends[i];
        if (worker_stop(s->w, AGENT_STOP_WORKER_MS)) {
            s->w = worker_free(s->w);
            s->b->ops->free(s->b);
        } else {
            log_warning("backend '%s' is stuck in a device call; not waiting for it", s->b->name);
        }
    }
}

static int run(int argc, char **argv)
{
    static const struct option opts[] = {
            {"config", required_argument, NULL, 'c'},
            {"socket", required_argument, NULL, 's'},
            {"help", no_argument, NULL, 'h'},
            {"version", no_argument, NULL, 'V'},
            {0},
    };
    const char *config_path = CONFIG_DEFAULT_PATH, *socket_path = NULL;
    struct agent a = {.listen_fd = -1, .signal_fd = -1, .timer_fd = -1, .epfd = -1};
    char err[512];
    unsigned bad = 0;
    int c, r, status = 1;

    while ((c = getopt_long(argc, argv, "c:s:h", opts, NULL)) >= 0) {
        switch (c) {
        case 'c':
            config_path = optarg;
            break;
        case 's':
            socket_path = optarg;
            break;
        case 'h':
            usage(stdout);
            return 0;
        case 'V':
            printf("hwsign-agent %s\n", HWSIGN_VERSION);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "hwsign-agent: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }

    /* tpm2-tss logs to stderr on its own; the backend reports every failure itself. An
     * operator debugging the TPM can still set TSS2_LOG explicitly. */
    (void)setenv("TSS2_LOG", "all+NONE", 0);
    r = server_block_signals();
    if (r >= 0)
        r = harden_process();
    if (r < 0) {
        fprintf(stderr, "hwsign-agent: cannot harden the process: %s\n", strerror(-r));
        return 1;
    }
    r = secret_heap_init(AGENT_SECURE_HEAP);
    if (r < 0)
        fprintf(stderr,
                "hwsign-agent: warning: no locked secure heap (%s); PINs use the "
                "normal heap, still wiped on free\n",
                strerror(-r));

    a.cfg = config_new();
    if (!a.cfg)
        return 1;
    r = config_load(a.cfg, config_path, err, sizeof(err));
    if (r >= 0)
        r = config_resolve(a.cfg, err, sizeof(err));
    if (r < 0) {
        fprintf(stderr, "hwsign-agent: %s: %s\n", config_path, err);
        goto out;
    }
    if (socket_path) {
        if (strlen(socket_path) >= sizeof(a.cfg->socket_path)) {
            fprintf(stderr, "hwsign-agent: --socket path too long\n");
            goto out;
        }
        memcpy(a.cfg->socket_path, socket_path, strlen(socket_path) + 1);
    }
    log_setup(a.cfg->log_target);

    r = keystore_open(a.cfg->state_dir, &a.keys, &bad);
    if (r < 0) {
        log_error("cannot open the key store in %s: %s", a.cfg->state_dir, strerror(-r));
        goto out;
    }
    if (bad)
        log_warning("%u key record(s) in %s/keys could not be read and are ignored", bad,
                    a.cfg->state_dir);
    a.conns = calloc(a.cfg->max_connections, sizeof(*a.conns));
    if (!a.conns)
        goto out;
    r = done_queue_init(&a.done);
    if (r < 0)
        goto out;
    a.start_ms = now_ms();
    /* Socket first: a second agent must fail before it touches any token. */
    r = server_listen(&a, a.cfg->socket_path);
    if (r < 0)
        goto out;
    if (a.cfg->audit_log) {
        r = auditlog_open(a.cfg->state_dir, &a.log, err, sizeof(err));
        if (r < 0) {
            log_error("signing log: %s", err);
            goto out;
        }
        if (auditlog_error(a.log)[0])
            log_warning("signing log: %s", auditlog_error(a.log));
        log_info("signing log: %llu record(s) verified", (unsigned long long)auditlog_size(a.log));
        r = checkpoint_load(&a);
        if (r < 0) {
            log_error("signing log: the saved checkpoint %s (%s): refusing to start",
                      r == -ESTALE ? "covers more records than the log holds: rolled back?"
                                   : "cannot be read",
                      strerror(-r));
            goto out;
        }
    } else {
        log_warning("audit-log = no: signatures are NOT recorded (benchmarking only)");
    }
    r = start_backends(&a);
    if (r < 0)
        goto out;
    r = worker_start(NULL, &a.done, HWSIGN_MAX_QUEUE, &a.judge);
    if (r < 0) {
        log_error("cannot start the statement judge thread: %s", strerror(-r));
        goto out;
    }
    status = server_run(&a);
    log_info("hwsign-agent stopped");
out:
    stop_backends(&a);
    if (a.listen_fd >= 0)
        close(a.listen_fd);
    if (a.socket_owned)
        (void)unlink(a.cfg->socket_path); /* also when start-up failed after creating it */
    if (a.epfd >= 0)
        close(a.epfd);
    if (a.signal_fd >= 0)
        close(a.signal_fd);
    if (a.timer_fd >= 0)
        close(a.timer_fd);
    if (a.done.efd > 0)
        done_queue_fini(&a.done);
    free(a.conns);
    keystore_free(a.keys);
    auditlog_free(a.log);
    free(a.checkpoint);
    measure_host_free(a.host);
    measure_toolchain_free(a.toolchain);
    config_free(a.cfg);
    return status;
}

int main(int argc, char **argv)
{
    return run(argc, argv);
}
