/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A private swtpm for the TPM integration tests (test-tpm-swtpm, test-tpm-quote,
 * test-tpm-certify, test-tpm-quote-verify), compiled into each of them.
 *
 * swtpm_fixture_setup() makes a temporary directory /tmp/hwsign-NAME-XXXXXX, starts swtpm on a
 * unix socket in it (TOOLCHAIN.md §3: state, pid file and log in that directory, control socket
 * at SOCK.ctrl) and waits until the pid file and the socket exist. A guard process, forked
 * before swtpm starts, outlives a crash of the test: when the test process is gone however it
 * ended, the guard stops swtpm by its pid file (SIGKILL) and removes the directory.
 * swtpm_fixture_teardown() stops swtpm (SIGTERM) and lets the guard remove the directory.
 *
 * The test sees f->tcti ("swtpm:path=SOCK", for struct tpm_config and tpm2-tools' -T) and
 * f->keys (DIR/keys, the backend's key_dir; not created here). TPM2TOOLS_TCTI is removed from
 * the environment at setup, so a tpm2-tools command reaches a TPM only through an explicit -T
 * and the offline ones (tpm2_checkquote, tpm2_print) never look for one.
 *
 * When swtpm is not installed, setup returns 1 and leaves f->dir empty: the tests skip (see
 * SWTPM_REQUIRE). The helpers below that take assertions (swtpm_fixture_path and the ones that
 * use it) must run inside a cmocka test. Not thread-safe; one fixture per process.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "key-backend.h"
#include "tpm.h"

/* Bytes of the temporary directory path (with the NUL): "/tmp/hwsign-NAME-XXXXXX". */
#define SWTPM_FIXTURE_DIR_MAX 128u
/* Bytes of a path inside that directory (with the NUL). */
#define SWTPM_FIXTURE_PATH_MAX 256u
/* Bytes of the TCTI string (with the NUL): "swtpm:path=" and a path. */
#define SWTPM_FIXTURE_TCTI_MAX 300u
/* Bytes of a shell command line built by the fixture (with the NUL). */
#define SWTPM_FIXTURE_CMD_MAX 2048u
/* Polls of the pid file and socket after swtpm started, SWTPM_FIXTURE_POLL_US apart (5 s). */
#define SWTPM_FIXTURE_START_POLLS 100u
#define SWTPM_FIXTURE_POLL_US     (50u * 1000u)
/* Polls for swtpm's exit after a signal, SWTPM_FIXTURE_STOP_POLL_US apart (2 s). */
#define SWTPM_FIXTURE_STOP_POLLS   200u
#define SWTPM_FIXTURE_STOP_POLL_US (10u * 1000u)
/* Bytes of the pid file read. */
#define SWTPM_FIXTURE_PIDFILE_MAX 31u

struct swtpm_fixture {
    char dir[SWTPM_FIXTURE_DIR_MAX];      /* empty: no swtpm (not installed) */
    char sock[SWTPM_FIXTURE_PATH_MAX];    /* DIR/tpm.sock */
    char keys[SWTPM_FIXTURE_PATH_MAX];    /* DIR/keys */
    char pidfile[SWTPM_FIXTURE_PATH_MAX]; /* DIR/swtpm.pid */
    char tcti[SWTPM_FIXTURE_TCTI_MAX];    /* swtpm:path=DIR/tpm.sock */
    pid_t guard;                          /* the guard process, -1 none */
    int guard_fd;                         /* its pipe: closing it releases the guard, -1 none */
};

/* Skips the current test unless ok (e.g. the backend the setup made). */
#define SWTPM_REQUIRE(ok)                                                                          \
    do {                                                                                           \
        if (!(ok))                                                                                 \
            skip();                                                                                \
    } while (0)

/* Runs cmd with sh -c: 0 if it exited 0, -1 otherwise. */
int swtpm_fixture_run(const char *cmd);

/*
 * Makes the directory, forks the guard and starts swtpm (see top); name goes into the directory
 * name. 0 with swtpm running; 1 when swtpm is not installed (f->dir empty); -1 on failure, with
 * swtpm's log copied to stderr when swtpm did not come up.
 */
int swtpm_fixture_setup(struct swtpm_fixture *f, const char *name);

/* Stops swtpm (SIGTERM) and releases the guard, which removes the directory. Idempotent. */
void swtpm_fixture_teardown(struct swtpm_fixture *f);

/*
 * (Re)starts swtpm on the state in f->dir and waits for it: 0, or -1 if it did not come up in
 * SWTPM_FIXTURE_START_POLLS polls.
 */
int swtpm_fixture_start(const struct swtpm_fixture *f);

/* Sends sig to swtpm and waits (bounded) for it to exit; nothing when it is not running. */
void swtpm_fixture_stop(const struct swtpm_fixture *f, int sig);

/* swtpm's pid from its pid file, -1 when there is none. */
pid_t swtpm_fixture_pid(const struct swtpm_fixture *f);

/*
 * A new (not opened) TPM backend on f: name "tpm0", TCTI f->tcti, key_dir f->keys. 0, or -1
 * with tpm_backend_new's message printed.
 */
int swtpm_fixture_backend(const struct swtpm_fixture *f, struct key_backend **ret);

/*
 * Group setup of a test with one backend: swtpm_fixture_setup(f, name), then
 * swtpm_fixture_backend(f, kb). 0 when both worked and also when swtpm is not installed (*kb
 * stays NULL: the tests skip); -1 on failure.
 */
int swtpm_fixture_setup_backend(struct swtpm_fixture *f, const char *name, struct key_backend **kb);

/* Group teardown: frees *kb (if any, and sets it NULL), then swtpm_fixture_teardown(f). */
void swtpm_fixture_teardown_backend(struct swtpm_fixture *f, struct key_backend **kb);

/* DIR/name into buf (len bytes); fails the test when it does not fit. */
void swtpm_fixture_path(const struct swtpm_fixture *f, const char *name, char *buf, size_t len);

/* Writes data to DIR/name (mode 0600, atomically); fails the test on error. */
void swtpm_fixture_put_file(const struct swtpm_fixture *f, const char *name, const void *data,
                            size_t len);

/* Lower-case hex of b[0..len) into out (2 * len + 1 bytes, NUL-terminated). */
void swtpm_fixture_hex(const uint8_t *b, size_t len, char *out);

/*
 * Runs `cd DIR && cmd` with sh -c and prints cmd. Its stdout goes to out (out_len bytes with
 * the NUL, the rest discarded) when out is not NULL, else it is discarded; stderr passes
 * through. The command's exit status; fails the test if it did not exit normally.
 */
int swtpm_fixture_run_in_dir(const struct swtpm_fixture *f, const char *cmd, char *out,
                             size_t out_len);

/*
 * tpm2_checkquote (tpm2-tools, offline) on files in DIR:
 *   tpm2_checkquote -u AK_PEM -m MSG -s SIG -f PCRS [-l SELECTION] -g sha256 -q NONCE_HEX
 * selection NULL: the PCR file is tpm2-tools' serialized format, else raw values read with -l.
 * Its exit status (0: accepted).
 */
int swtpm_fixture_checkquote(const struct swtpm_fixture *f, const char *ak_pem, const char *msg,
                             const char *sig, const char *pcrs, const char *selection,
                             const uint8_t nonce[static TPM_QUOTE_NONCE_LEN]);

/* The quote nonce of a statement: SHA-256 of its text. */
void swtpm_fixture_nonce(const char *statement, uint8_t nonce[static TPM_QUOTE_NONCE_LEN]);

/*
 * Asserts that the TPM behind kb holds at most max transient objects and that its lockout
 * counter is lockout (the value at the start: no test may move it).
 */
void swtpm_fixture_assert_transient(struct key_backend *kb, uint32_t max, uint32_t lockout);
