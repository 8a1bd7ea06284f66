/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hwsign sign: hash a file locally, have the agent sign the SHA-256 digest, and write the
 * signature the way `cosign sign-blob --key` does (FORMATS.md §5.2): standard padded base64 of
 * the DER signature; in a file without a trailing newline, on stdout followed by one.
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "crypto-cleanup.h"
#include "crypto.h"
#include "format.h"
#include "main.h"
#include "output.h"
#include "parse.h"

#define HASH_CHUNK (64u * 1024u)

static int hash_stdin_sha256(uint8_t ret[static 32])
{
    _cleanup_(EVP_MD_CTX_freep) EVP_MD_CTX *md = EVP_MD_CTX_new();
    _cleanup_free_ uint8_t *buf = malloc(HASH_CHUNK);
    uint8_t digest[EVP_MAX_MD_SIZE];
    unsigned int len = 0;

    if (!md || !buf)
        return -ENOMEM;
    if (EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1)
        return -EIO;
    for (;;) {
        ssize_t n = read(STDIN_FILENO, buf, HASH_CHUNK);

        if (n < 0) {
            if (errno == EINTR)
                continue;
            return negative_errno();
        }
        if (n == 0)
            break;
        if (EVP_DigestUpdate(md, buf, (size_t)n) != 1)
            return -EIO;
    }
    if (EVP_DigestFinal_ex(md, digest, &len) != 1 || len != 32)
        return -EIO;
    memcpy(ret, digest, 32);
    return 0;
}

int hash_input_sha256(const char *path, uint8_t ret[static 32])
{
    uint8_t digest[32];
    int r;

    if (streq(path, "-"))
        return hash_stdin_sha256(ret);
    r = hash_file(path, HWSIGN_HASH_SHA256, digest, sizeof(digest));
    if (r < 0)
        return r;
    memcpy(ret, digest, sizeof(digest));
    return 0;
}

static void sign_usage(FILE *f)
{
    fputs("Usage: hwsign sign --key NAME [-o SIG] [--json] FILE\n"
          "\n"
          "Hash FILE (SHA-256, locally) and have the agent sign the digest with key NAME.\n"
          "The signature is written as `cosign sign-blob --key` writes it: standard base64 of\n"
          "the DER signature over SHA-256(FILE), no trailing newline in a file. It verifies\n"
          "with `hwsign verify`, `cosign verify-blob` and (base64-decoded) with\n"
          "`openssl dgst -sha256 -verify`. FILE \"-\" reads standard input.\n"
          "\n"
          "Options:\n"
          "  -k, --key NAME      the agent key to sign with (required)\n"
          "  -o, --output SIG    where to write the signature (replaced atomically, mode 0644);\n"
          "                      default FILE.sig; \"-\" prints it on stdout with a newline;\n"
          "                      required when FILE is \"-\"\n"
          "  --json              print a JSON object: key, file, sha256, signature,\n"
          "                      signature_file (not with -o -)\n"
          "  -h, --help          show this help\n",
          f);
}

static int print_sign_json(const char *key, const char *file, const uint8_t digest[static 32],
                           const char *b64, const char *out)
{
    _cleanup_(json_object_putp) struct json_object *o = json_object_new_object();
    _cleanup_free_ char *hex = NULL;
    int r;

    if (!o)
        return -ENOMEM;
    r = hex_encode(digest, 32, &hex);
    if (r < 0)
        return r;
    if ((r = json_add_string(o, "key", key)) < 0 || (r = json_add_string(o, "file", file)) < 0 ||
        (r = json_add_string(o, "sha256", hex)) < 0 ||
        (r = json_add_string(o, "signature", b64)) < 0 ||
        (r = json_add_string(o, "signature_file", out)) < 0)
        return r;
    return json_print(o);
}

int cmd_sign(int argc, char *argv[], const struct cli_context *ctx)
{
    enum { ARG_JSON = 0x100 };
    static const struct option options[] = {
            {"help", no_argument, NULL, 'h'},
            {"key", required_argument, NULL, 'k'},
            {"output", required_argument, NULL, 'o'},
            {"json", no_argument, NULL, ARG_JSON},
            {},
    };
    _cleanup_(hwsign_disconnectp) struct hwsign_client *client = NULL;
    _cleanup_free_ char *default_out = NULL, *b64 = NULL, *text = NULL;
    _cleanup_free_ uint8_t *sig = NULL;
    const char *key = NULL, *out = NULL, *file;
    uint8_t digest[32];
    size_t sig_len = 0;
    bool json = false;
    int c, r;

    optind = 0;
    while ((c = getopt_long(argc, argv, ":hk:o:", options, NULL)) >= 0) {
        switch (c) {
        case 'h':
            sign_usage(stdout);
            return CLI_EXIT_OK;
        case 'k':
            key = optarg;
            break;
        case 'o':
            out = optarg;
            break;
        case ARG_JSON:
            json = true;
            break;
        default:
            return log_bad_option("sign", c, argv);
        }
    }
    if (!key)
        return log_usage("sign", "missing --key NAME");
    if (!name_is_valid(key))
        return log_usage("sign", "invalid key name '%s'", key);
    if (optind >= argc)
        return log_usage("sign", "missing FILE");
    if (optind + 1 < argc)
        return log_usage("sign", "unexpected argument '%s'", argv[optind + 1]);
    file = argv[optind];
    if (!*file)
        return log_usage("sign", "FILE must not be empty");

    if (!out) {
        if (streq(file, "-"))
            return log_usage("sign", "signing standard input needs -o SIG (or -o - for stdout)");
        r = str_join(file, ".sig", &default_out);
        if (r < 0)
            return log_errno(r, "cannot build the signature file name");
        out = default_out;
    }
    if (!*out)
        return log_usage("sign", "-o needs a file name");
    if (!streq(out, "-") && streq(out, file))
        return log_usage("sign", "the signature would overwrite FILE '%s'", file);
    if (json && streq(out, "-"))
        return log_usage("sign", "--json cannot be combined with -o -");

    /* Hash before connecting: hashing a large file can outlast the agent's idle timeout. */
    r = hash_input_sha256(file, digest);
    if (r < 0)
        return log_errno(r, "cannot read %s", streq(file, "-") ? "standard input" : file);

    r = cli_connect(ctx, &client);
    if (r != CLI_EXIT_OK)
        return r;
    r = hwsign_sign_digest(client, key, HWSIGN_HASH_SHA256, HWSIGN_SCHEME_DEFAULT, digest,
                           sizeof(digest), &sig, &sig_len);
    if (r < 0)
        return log_agent_error(client, r, "signing with key '%s' failed", key);

    r = base64_encode(sig, sig_len, &b64);
    if (r < 0)
        return log_errno(r, "cannot encode the signature");
    if (streq(out, "-")) {
        r = str_join(b64, "\n", &text);
        if (r < 0)
            return log_errno(r, "cannot encode the signature");
        r = write_output(NULL, text, strlen(text));
        if (r < 0)
            return log_errno(r, "cannot write the signature to standard output");
        return CLI_EXIT_OK;
    }
    r = write_output(out, b64, strlen(b64));
    if (r < 0)
        return log_errno(r, "cannot write the signature to %s", out);

    if (json) {
        r = print_sign_json(key, file, digest, b64, out);
        if (r < 0)
            return log_errno(r, "cannot print the result");
    } else
        printf("Wrote signature to %s\n", out);
    return CLI_EXIT_OK;
}
