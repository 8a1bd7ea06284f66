/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hwsign verify: offline check of a `cosign sign-blob`-style signature (base64 or raw DER over
 * SHA-256(FILE)) against a PEM public key. Never talks to the agent.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "crypto.h"
#include "fd-util.h"
#include "format.h"
#include "main.h"
#include "output.h"

/* The most spki_from_pem() accepts: a PEM public key with some text around it. */
#define MAX_KEY_FILE (2u * HWSIGN_MAX_SPKI + 256u)
/* base64 of the largest signature the protocol carries, with room for line breaks. */
#define MAX_SIG_FILE (4u * HWSIGN_MAX_SIG)

struct verify_args {
    const char *key_path;
    const char *sig_path;
    const char *file;
    bool json;
};

struct verify_result {
    const char *alg;      /* of the public key, NULL if unknown */
    char *fingerprint;    /* SHA-256 of the SPKI, hex */
    const char *encoding; /* "base64" or "der" */
    char error[512];      /* why verification failed; "" when it succeeded */
};

static void verify_usage(FILE *f)
{
    fputs("Usage: hwsign verify --key PUB.pem --signature SIG [--json] FILE\n"
          "\n"
          "Verify offline (no agent needed) that SIG is a signature by the key in PUB.pem over\n"
          "SHA-256(FILE), as made by `hwsign sign` or `cosign sign-blob --key` or\n"
          "`openssl dgst -sha256 -sign` (ECDSA P-256/P-384 or RSA PKCS#1 v1.5). SIG may hold\n"
          "base64 (as cosign writes it) or the raw DER signature. FILE \"-\" reads standard\n"
          "input. Prints \"Verified OK\" and exits 0, or exits 1 with \"verification failed: "
          "...\".\n"
          "\n"
          "Options:\n"
          "  -k, --key PUB.pem        public key (PEM SubjectPublicKeyInfo, or DER)\n"
          "  -s, --signature SIG      signature file; \"-\" reads standard input\n"
          "  --json                   print a JSON object: verified, file, key_file, key_alg,\n"
          "                           key_fingerprint, signature_file, signature_encoding, error\n"
          "  -h, --help               show this help\n",
          f);
}

/* Files named by the user are read the way other tools read them: symlinks are followed. */
static int read_user_file(const char *path, size_t max, uint8_t **ret, size_t *ret_len)
{
    _cleanup_close_ int fd = -EBADF;

    if (streq(path, "-"))
        return read_fd_bounded(STDIN_FILENO, max, ret, ret_len);
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return negative_errno();
    return read_fd_bounded(fd, max, ret, ret_len);
}

static bool is_blank(const uint8_t *p, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (!strchr(" \t\r\n", p[i]) || p[i] == '\0')
            return false;
    return true;
}

static int print_verify_json(const struct verify_args *a, const struct verify_result *res)
{
    _cleanup_(json_object_putp) struct json_object *o = json_object_new_object();
    int r;

    if (!o)
        return -ENOMEM;
    if ((r = json_add_bool(o, "verified", res->error[0] == '\0')) < 0 ||
        (r = json_add_string(o, "file", a->file)) < 0 ||
        (r = json_add_string(o, "key_file", a->key_path)) < 0 ||
        (r = json_add_string(o, "key_alg", res->alg)) < 0 ||
        (r = json_add_string(o, "key_fingerprint", res->fingerprint)) < 0 ||
        (r = json_add_string(o, "signature_file", a->sig_path)) < 0 ||
        (r = json_add_string(o, "signature_encoding", res->encoding)) < 0 ||
        (r = json_add_string(o, "error", res->error[0] ? res->error : NULL)) < 0)
        return r;
    return json_print(o);
}

/* Returns an exit status; the one-line error (if any) is already printed. res->error is set
 * when the signature was checked and did not verify. */
static int verify_signature(const struct verify_args *a, struct verify_result *res)
{
    _cleanup_free_ uint8_t *keybuf = NULL, *spki = NULL, *sigbuf = NULL, *decoded = NULL;
    size_t keylen = 0, spki_len = 0, siglen = 0, decoded_len = 0;
    const uint8_t *sig;
    size_t sig_len;
    enum hwsign_alg alg = HWSIGN_ALG_UNKNOWN;
    uint8_t digest[32];
    int r;

    r = read_user_file(a->key_path, MAX_KEY_FILE, &keybuf, &keylen);
    if (r == -EFBIG)
        return log_error(CLI_EXIT_ERROR, "%s is too large to be a public key (over %u bytes)",
                         a->key_path, MAX_KEY_FILE);
    if (r < 0)
        return log_errno(r, "cannot read public key %s", a->key_path);
    r = spki_from_pem(keybuf, keylen, &spki, &spki_len);
    if (r == -ENOMEM)
        return log_errno(r, "cannot load public key %s", a->key_path);
    if (r < 0)
        return log_error(CLI_EXIT_ERROR, "%s does not hold a PEM or DER public key", a->key_path);
    if (spki_alg(spki, spki_len, &alg) >= 0)
        res->alg = alg_name(alg);
    r = spki_fingerprint(spki, spki_len, &res->fingerprint);
    if (r < 0)
        return log_errno(r, "cannot fingerprint public key %s", a->key_path);

    r = read_user_file(a->sig_path, MAX_SIG_FILE, &sigbuf, &siglen);
    if (r == -EFBIG) {
        format_message(res->error, sizeof(res->error), "%s is too large to be a signature",
                       a->sig_path);
        return CLI_EXIT_REFUSED;
    }
    if (r < 0)
        return log_errno(r, "cannot read signature %s", a->sig_path);
    if (is_blank(sigbuf, siglen)) {
        format_message(res->error, sizeof(res->error), "signature file %s is empty", a->sig_path);
        return CLI_EXIT_REFUSED;
    }
    /* cosign writes base64; `openssl dgst -sign` and `cosign --b64=false` write raw DER. */
    r = base64_decode((const char *)sigbuf, siglen, &decoded, &decoded_len);
    if (r == -ENOMEM)
        return log_errno(r, "cannot decode signature %s", a->sig_path);
    if (r >= 0 && decoded_len > 0) {
        sig = decoded;
        sig_len = decoded_len;
        res->encoding = "base64";
    } else {
        sig = sigbuf;
        sig_len = siglen;
        res->encoding = "der";
    }

    r = hash_input_sha256(a->file, digest);
    if (r < 0)
        return log_errno(r, "cannot read %s", streq(a->file, "-") ? "standard input" : a->file);

    r = sig_verify_digest(spki, spki_len, HWSIGN_HASH_SHA256, HWSIGN_SCHEME_DEFAULT, digest,
                          sizeof(digest), sig, sig_len);
    if (r == -ENOMEM)
        return log_errno(r, "cannot verify the signature");
    if (r >= 0)
        return CLI_EXIT_OK;
    /* Not base64: a DER ECDSA signature starts with a SEQUENCE tag, an RSA one is raw bytes. */
    if (streq(res->encoding, "der") && sig_len > 0 && sig[0] != 0x30 && alg != HWSIGN_ALG_RSA_3072)
        format_message(res->error, sizeof(res->error),
                       "%s holds neither base64 nor a DER signature", a->sig_path);
    else if (r == -EBADMSG)
        format_message(res->error, sizeof(res->error), "signature does not match %s and key %s",
                       a->file, a->key_path);
    else
        format_message(res->error, sizeof(res->error), "malformed signature in %s: %s", a->sig_path,
                       strerror(-r));
    return CLI_EXIT_REFUSED;
}

int cmd_verify(int argc, char *argv[], const struct cli_context *ctx)
{
    enum { ARG_JSON = 0x100 };
    static const struct option options[] = {
            {"help", no_argument, NULL, 'h'},
            {"key", required_argument, NULL, 'k'},
            {"signature", required_argument, NULL, 's'},
            {"json", no_argument, NULL, ARG_JSON},
            {},
    };
    struct verify_args a = {};
    struct verify_result res = {};
    int c, r;

    optind = 0;
    while ((c = getopt_long(argc, argv, ":hk:s:", options, NULL)) >= 0) {
        switch (c) {
        case 'h':
            verify_usage(stdout);
            return CLI_EXIT_OK;
        case 'k':
            a.key_path = optarg;
            break;
        case 's':
            a.sig_path = optarg;
            break;
        case ARG_JSON:
            a.json = true;
            break;
        default:
            return log_bad_option("verify", c, argv);
        }
    }
    if (!a.key_path || !*a.key_path)
        return log_usage("verify", "missing --key PUB.pem");
    if (streq(a.key_path, "-"))
        return log_usage("verify", "--key must name a file");
    if (!a.sig_path || !*a.sig_path)
        return log_usage("verify", "missing --signature SIG");
    if (optind >= argc || !*argv[optind])
        return log_usage("verify", "missing FILE");
    if (optind + 1 < argc)
        return log_usage("verify", "unexpected argument '%s'", argv[optind + 1]);
    a.file = argv[optind];
    if (streq(a.file, "-") && streq(a.sig_path, "-"))
        return log_usage("verify", "FILE and SIG cannot both be standard input");

    r = verify_signature(&a, &res);
    if (r == CLI_EXIT_OK || res.error[0]) {
        if (a.json) {
            int k = print_verify_json(&a, &res);

            if (k < 0)
                r = log_errno(k, "cannot print the result");
        } else if (r == CLI_EXIT_OK)
            printf("Verified OK\n");
        if (res.error[0])
            log_error(CLI_EXIT_REFUSED, "verification failed: %s", res.error);
    }
    free(res.fingerprint);
    return r;
}
