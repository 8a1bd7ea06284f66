/* SPDX-License-Identifier: Apache-2.0 */
#include "swtpm-fixture.h"

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "crypto.h"
#include "fd-util.h"
#include "macro.h"
#include "parse.h"
#include "tpm-backend.h"

int swtpm_fixture_run(const char *cmd)
{
    int st = system(cmd);
    return st == 0 ? 0 : -1;
}

pid_t swtpm_fixture_pid(const struct swtpm_fixture *f)
{
    uint8_t *data = NULL;
    char text[SWTPM_FIXTURE_PIDFILE_MAX + 1];
    size_t len = 0;
    uint32_t pid = 0;

    if (read_file_bounded(f->pidfile, SWTPM_FIXTURE_PIDFILE_MAX, &data, &len) == 0 && len > 0) {
        memcpy(text, data, len);
        text[len] = '\0';
        text[strcspn(text, "\n")] = '\0';
        if (parse_u32(text, INT32_MAX, &pid) < 0)
            pid = 0;
    }
    free(data);
    return pid > 1 ? (pid_t)pid : -1;
}

int swtpm_fixture_start(const struct swtpm_fixture *f)
{
    char cmd[SWTPM_FIXTURE_CMD_MAX];
    int n;

    unlink(f->pidfile);
    n = snprintf(cmd, sizeof(cmd),
                 "swtpm socket --tpm2 --tpmstate dir=%s --server type=unixio,path=%s "
                 "--ctrl type=unixio,path=%s.ctrl --flags not-need-init,startup-clear "
                 "--pid file=%s --log file=%s/swtpm.log -d",
                 f->dir, f->sock, f->sock, f->pidfile, f->dir);
    if (n < 0 || (size_t)n >= sizeof(cmd) || swtpm_fixture_run(cmd) < 0)
        return -1;
    for (unsigned i = 0; i < SWTPM_FIXTURE_START_POLLS; i++) {
        if (swtpm_fixture_pid(f) > 0 && access(f->sock, F_OK) == 0)
            return 0;
        usleep(SWTPM_FIXTURE_POLL_US);
    }
    return -1;
}

void swtpm_fixture_stop(const struct swtpm_fixture *f, int sig)
{
    pid_t pid = swtpm_fixture_pid(f);

    if (pid <= 0)
        return;
    kill(pid, sig);
    for (unsigned i = 0; i < SWTPM_FIXTURE_STOP_POLLS && kill(pid, 0) == 0; i++)
        usleep(SWTPM_FIXTURE_STOP_POLL_US);
    unlink(f->pidfile);
}

/*
 * A child that outlives a crash of the test: it waits for the pipe to close (the test exited,
 * however), then stops swtpm by its pid file and removes the directory.
 */
static void start_guard(struct swtpm_fixture *f)
{
    int p[2];
    char c;

    if (pipe2(p, O_CLOEXEC) < 0)
        return;
    f->guard = fork();
    if (f->guard == 0) {
        close(p[1]);
        while (read(p[0], &c, 1) > 0)
            ;
        swtpm_fixture_stop(f, SIGKILL);
        execlp("rm", "rm", "-rf", f->dir, (char *)NULL);
        _exit(0);
    }
    close(p[0]);
    f->guard_fd = p[1];
}

/* snprintf into a fixed buffer; false if it does not fit. */
static bool format_into(char *buf, size_t len, const char *fmt, ...) _printf_(3, 4);
static bool format_into(char *buf, size_t len, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(buf, len, fmt, ap);
    va_end(ap);
    return n >= 0 && (size_t)n < len;
}

int swtpm_fixture_setup(struct swtpm_fixture *f, const char *name)
{
    *f = (struct swtpm_fixture){.guard = -1, .guard_fd = -1};
    if (swtpm_fixture_run("command -v swtpm >/dev/null 2>&1") < 0)
        return 1; /* every swtpm test skips */
    if (!format_into(f->dir, sizeof(f->dir), "/tmp/hwsign-%s-XXXXXX", name))
        return -1;
    if (!mkdtemp(f->dir)) {
        f->dir[0] = '\0';
        return -1;
    }
    if (!format_into(f->sock, sizeof(f->sock), "%s/tpm.sock", f->dir) ||
        !format_into(f->keys, sizeof(f->keys), "%s/keys", f->dir) ||
        !format_into(f->pidfile, sizeof(f->pidfile), "%s/swtpm.pid", f->dir) ||
        !format_into(f->tcti, sizeof(f->tcti), "swtpm:path=%s", f->sock))
        return -1;
    /* tpm2-tools get the TPM from -T only; the offline ones must never look for one. */
    unsetenv("TPM2TOOLS_TCTI");
    start_guard(f);
    if (swtpm_fixture_start(f) < 0) {
        char cmd[SWTPM_FIXTURE_CMD_MAX];

        if (format_into(cmd, sizeof(cmd), "cat %s/swtpm.log >&2", f->dir))
            (void)swtpm_fixture_run(cmd);
        return -1;
    }
    return 0;
}

void swtpm_fixture_teardown(struct swtpm_fixture *f)
{
    if (!f->dir[0])
        return;
    swtpm_fixture_stop(f, SIGTERM);
    if (f->guard_fd >= 0)
        close(f->guard_fd); /* the guard removes the directory */
    f->guard_fd = -1;
    if (f->guard > 0)
        waitpid(f->guard, NULL, 0);
    f->guard = -1;
}

int swtpm_fixture_backend(const struct swtpm_fixture *f, struct key_backend **ret)
{
    struct tpm_config cfg = {.name = "tpm0", .tcti = f->tcti, .key_dir = f->keys};
    char err[256] = "";

    if (tpm_backend_new(&cfg, ret, err, sizeof(err)) < 0) {
        print_error("tpm_backend_new: %s\n", err);
        return -1;
    }
    return 0;
}

int swtpm_fixture_setup_backend(struct swtpm_fixture *f, const char *name, struct key_backend **kb)
{
    int r = swtpm_fixture_setup(f, name);

    if (r != 0)
        return r > 0 ? 0 : -1;
    return swtpm_fixture_backend(f, kb);
}

void swtpm_fixture_teardown_backend(struct swtpm_fixture *f, struct key_backend **kb)
{
    if (*kb)
        (*kb)->ops->free(*kb);
    *kb = NULL;
    swtpm_fixture_teardown(f);
}

void swtpm_fixture_path(const struct swtpm_fixture *f, const char *name, char *buf, size_t len)
{
    assert_true(format_into(buf, len, "%s/%s", f->dir, name));
}

void swtpm_fixture_put_file(const struct swtpm_fixture *f, const char *name, const void *data,
                            size_t len)
{
    char path[SWTPM_FIXTURE_PATH_MAX];

    swtpm_fixture_path(f, name, path, sizeof(path));
    assert_int_equal(write_file_atomic(path, data, len, 0600), 0);
}

void swtpm_fixture_hex(const uint8_t *b, size_t len, char *out)
{
    static const char digits[] = "0123456789abcdef";

    for (size_t i = 0; i < len; i++) {
        out[2 * i] = digits[b[i] >> 4];
        out[2 * i + 1] = digits[b[i] & 15];
    }
    out[2 * len] = '\0';
}

int swtpm_fixture_run_in_dir(const struct swtpm_fixture *f, const char *cmd, char *out,
                             size_t out_len)
{
    char full[SWTPM_FIXTURE_CMD_MAX];
    size_t n = 0;
    FILE *p;
    int st;

    assert_true(format_into(full, sizeof(full), "cd %s && %s", f->dir, cmd));
    print_message("%s\n", cmd);
    p = popen(full, "r");
    assert_non_null(p);
    if (out && out_len > 0) {
        n = fread(out, 1, out_len - 1, p);
        out[n] = '\0';
    }
    {
        char sink[256];
        while (fread(sink, 1, sizeof(sink), p) > 0)
            ;
    }
    st = pclose(p);
    assert_true(st != -1 && WIFEXITED(st));
    return WEXITSTATUS(st);
}

int swtpm_fixture_checkquote(const struct swtpm_fixture *f, const char *ak_pem, const char *msg,
                             const char *sig, const char *pcrs, const char *selection,
                             const uint8_t nonce[static TPM_QUOTE_NONCE_LEN])
{
    char cmd[SWTPM_FIXTURE_CMD_MAX], nhex[2 * TPM_QUOTE_NONCE_LEN + 1];
    int n;

    swtpm_fixture_hex(nonce, TPM_QUOTE_NONCE_LEN, nhex);
    n = snprintf(cmd, sizeof(cmd), "tpm2_checkquote -u %s -m %s -s %s -f %s%s%s -g sha256 -q %s",
                 ak_pem, msg, sig, pcrs, selection ? " -l " : "", selection ? selection : "", nhex);
    assert_true(n > 0 && (size_t)n < sizeof(cmd));
    return swtpm_fixture_run_in_dir(f, cmd, NULL, 0);
}

void swtpm_fixture_nonce(const char *statement, uint8_t nonce[static TPM_QUOTE_NONCE_LEN])
{
    assert_int_equal(hash_buffer(HWSIGN_HASH_SHA256, statement, strlen(statement), nonce,
                                 TPM_QUOTE_NONCE_LEN),
                     0);
}

void swtpm_fixture_assert_transient(struct key_backend *kb, uint32_t max, uint32_t lockout)
{
    uint32_t transient = 99, now = 99;

    assert_int_equal(tpm_backend_probe(kb, &transient, &now), 0);
    assert_true(transient <= max);
    assert_int_equal(now, lockout);
}
