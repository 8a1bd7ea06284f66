/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mklog OUT N: writes a signing log of N valid records (lib/format/logrec.h) without the agent,
 * for log-tamper.sh. Fields are deterministic and realistic:
 *   seq i, time 2026-11-25T20:00:00Z + i minutes, uid 1000 + i % 3, gid 1000, pid 3000 + i,
 *   exe /usr/bin/cosign, unit ci-runner.service, key "release" (odd i) or "nightly" (even i);
 *   i % 3 == 2: a statement (predicate https://slsa.dev/provenance/v1) with two subjects
 *   "dist/app-<i>-<k>.tar.gz" whose SHA-256 is SHA-256("subject-<i>-<k>");
 *   otherwise a SHA-256 digest request over SHA-256("artifact-<i>");
 *   signature = the 32 bytes SHA-256("sig-<i>"), key = mklog_spki (a fixed P-256 SPKI);
 *   statements carry envelope_sha256 = SHA-256("envelope-<i>").
 * Prints one line per record on stdout: "<index> <offset> <total bytes>".
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/sha.h>

#include "fd-util.h"
#include "logrec.h"
#include "macro.h"
#include "parse.h"
#include "sbuf.h"

#define MKLOG_BASE_TIME UINT64_C(1795636800) /* 2026-11-25T20:00:00Z */
#define MKLOG_MAX       100000u

/* A P-256 SubjectPublicKeyInfo (the point is arbitrary: the log does not check keys). */
static uint8_t mklog_spki[91] = {0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48,
                                 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x86, 0x48,
                                 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00, 0x04};

static void sha256_of(const char *s, uint8_t out[static 32])
{
    SHA256((const uint8_t *)s, strlen(s), out);
}

int main(int argc, char *argv[])
{
    _cleanup_close_ int fd = -EBADF;
    uint8_t chain[LOGREC_HASH] = {0};
    uint64_t off = LOGREC_MAGIC_LEN;
    uint32_t n;

    if (argc != 3 || parse_u32(argv[2], MKLOG_MAX, &n) < 0) {
        fprintf(stderr, "usage: mklog OUT N (N <= %u)\n", MKLOG_MAX);
        return 2;
    }
    fd = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0 || fd_write_all(fd, LOGREC_MAGIC, LOGREC_MAGIC_LEN) < 0) {
        perror(argv[1]);
        return 1;
    }
    for (uint32_t i = 0; i < n; i++) {
        _cleanup_(sbuf_freep) struct sbuf *b = sbuf_new(4 + LOGREC_MAX_BODY + LOGREC_HASH);
        char name[2][64], text[64];
        uint8_t sig[32];
        struct logrec_subject subj[2];
        struct logrec r = {
                .seq = i,
                .time_ns = (MKLOG_BASE_TIME + (uint64_t)i * 60) * UINT64_C(1000000000) + 12345,
                .uid = 1000 + i % 3,
                .gid = 1000,
                .pid = 3000 + i,
                .exe = (char *)"/usr/bin/cosign",
                .unit = (char *)"ci-runner.service",
                .key = (char *)(i % 2 ? "release" : "nightly"),
                .hash = 1, /* HWSIGN_HASH_SHA256 */
                .digest_len = 32,
        };
        uint8_t *p;
        int e;

        if (i % 3 == 2) {
            r.request = LOGREC_STATEMENT;
            r.has_statement = true;
            snprintf(text, sizeof(text), "statement-%" PRIu32, i);
            sha256_of(text, r.statement_sha256);
            r.predicate_type = (char *)"https://slsa.dev/provenance/v1";
            for (int k = 0; k < 2; k++) {
                snprintf(name[k], sizeof(name[k]), "dist/app-%" PRIu32 "-%d.tar.gz", i, k);
                snprintf(text, sizeof(text), "subject-%" PRIu32 "-%d", i, k);
                subj[k].name = name[k];
                sha256_of(text, subj[k].sha256);
            }
            r.subjects = subj;
            r.nsubjects = 2;
            snprintf(text, sizeof(text), "pae-%" PRIu32, i);
            sha256_of(text, r.digest);
        } else {
            r.request = LOGREC_DIGEST;
            snprintf(text, sizeof(text), "artifact-%" PRIu32, i);
            sha256_of(text, r.digest);
        }
        snprintf(text, sizeof(text), "sig-%" PRIu32, i);
        sha256_of(text, sig);
        r.sig = sig;
        r.sig_len = sizeof(sig);
        r.spki = mklog_spki;
        r.spki_len = sizeof(mklog_spki);
        if (r.request == LOGREC_STATEMENT) {
            r.has_envelope = true;
            snprintf(text, sizeof(text), "envelope-%" PRIu32, i);
            sha256_of(text, r.envelope_sha256);
        }

        e = b ? sbuf_put_u32(b, 0) : -ENOMEM;
        if (e >= 0)
            e = logrec_encode_body(&r, b);
        if (e >= 0)
            e = sbuf_poke_u32(b, 0, (uint32_t)(sbuf_len(b) - 4));
        if (e >= 0)
            e = logrec_chain(chain, sbuf_ptr(b) + 4, sbuf_len(b) - 4, chain);
        if (e >= 0)
            e = sbuf_reserve(b, LOGREC_HASH, &p);
        if (e >= 0) {
            memcpy(p, chain, LOGREC_HASH);
            e = fd_write_all(fd, sbuf_ptr(b), sbuf_len(b));
        }
        if (e < 0) {
            fprintf(stderr, "mklog: record %" PRIu32 ": %s\n", i, strerror(-e));
            return 1;
        }
        printf("%" PRIu32 " %" PRIu64 " %zu\n", i, off, sbuf_len(b));
        off += sbuf_len(b);
    }
    if (fsync(fd) < 0 || close(TAKE_FD(fd)) < 0) {
        perror(argv[1]);
        return 1;
    }
    return 0;
}
