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
#include "bundle-log.h"
#include "bundle.h"
#include "crypto.h"
#include "format.h"
#include "main.h"
#include "output.h"
#include "parse.h"

int hash_input_sha256(const char *path, uint8_t ret[static 32])
{
    uint8_t digest[32];
    int r;

    if (streq(path, "-"))
        r = hash_fd(STDIN_FILENO, HWSIGN_HASH_SHA256, digest, sizeof(digest));
    else
        r = hash_file(path, HWSIGN_HASH_SHA256, digest, sizeof(digest));
    if (r < 0)
        return r;
    memcpy(ret, digest, sizeof(digest));
    return 0;
}

static void sign_usage(FILE *f)
{
    fputs("Usage: hwsign sign --key NAME [-o SIG] [--bundle OUT [--no-log-entry]] [--json] FILE\n"
          "\n"
          "Hash FILE (SHA-256, locally) and have the agent sign the digest with key NAME.\n"
          "The signature is written as `cosign sign-blob --key` writes it: standard base64 of\n"
          "the DER signature over SHA-256(FILE), no trailing newline in a file. It verifies\n"
          "with `hwsign verify`, `cosign verify-blob` and (base64-decoded) with\n"
          "`openssl dgst -sha256 -verify`. FILE \"-\" reads standard input.\n"
          "With --bundle, the same signature is also written as a Sigstore bundle v0.3\n"
          "(messageSignature, key-based; publicKey hint = lower-case hex SHA-256 of the key's\n"
          "DER SubjectPublicKeyInfo), as `cosign sign-blob --bundle` writes it. When the agent\n"
          "keeps a signing log with a log key, the bundle's tlogEntries carry the signature's\n"
          "log entry: its record, an inclusion proof and a checkpoint signed by the log key\n"
          "(`hwsign verify --bundle --log-key LOG.pem` checks it; @sigstore/verify does too\n"
          "with the log key in its trusted root, see `hwsign log trusted-root`). The bundle\n"
          "verifies with `hwsign verify --bundle` and @sigstore/verify; --no-log-entry leaves\n"
          "tlogEntries empty for verifiers that cannot be given the log key (`cosign\n"
          "verify-blob --key --bundle --insecure-ignore-tlog`). --bundle alone writes no SIG.\n"
          "\n"
          "Options:\n"
          "  -k, --key NAME      the agent key to sign with (required)\n"
          "  -o, --output SIG    where to write the signature (replaced atomically, mode 0644);\n"
          "                      default FILE.sig unless --bundle is given; \"-\" prints it on\n"
          "                      stdout with a newline; required when FILE is \"-\" (without\n"
          "                      --bundle)\n"
          "  -b, --bundle OUT    write a Sigstore bundle to OUT (replaced atomically, mode\n"
          "                      0644); \"-\" prints it on stdout\n"
          "  --no-log-entry      do not put the signing-log entry into the bundle\n"
          "  --json              print a JSON object: key, file, sha256, signature,\n"
          "                      signature_file, bundle_file (null when not written; not with\n"
          "                      output on stdout)\n"
          "  -h, --help          show this help\n",
          f);
}

struct sign_out {
    const char *key;
    const char *file;
    const char *sig_path;    /* NULL: no signature file */
    const char *bundle_path; /* NULL: no bundle */
    bool json;
    bool no_log_entry;  /* --no-log-entry */
    uint64_t log_index; /* the agent's signing-log record, HWSIGN_LOG_INDEX_NONE if none */
};

static int print_sign_json(const struct sign_out *o_, const uint8_t digest[static 32],
                           const char *b64)
{
    _cleanup_(json_object_putp) struct json_object *o = json_object_new_object();
    _cleanup_free_ char *hex = NULL;
    int r;

    if (!o)
        return -ENOMEM;
    r = hex_encode(digest, 32, &hex);
    if (r < 0)
        return r;
    if ((r = json_add_string(o, "key", o_->key)) < 0 ||
        (r = json_add_string(o, "file", o_->file)) < 0 ||
        (r = json_add_string(o, "sha256", hex)) < 0 ||
        (r = json_add_string(o, "signature", b64)) < 0 ||
        (r = json_add_string(o, "signature_file", o_->sig_path)) < 0 ||
        (r = json_add_string(o, "bundle_file", o_->bundle_path)) < 0)
        return r;
    if (o_->log_index != HWSIGN_LOG_INDEX_NONE &&
        (r = json_add_u64(o, "log_index", o_->log_index)) < 0)
        return r;
    return json_print(o);
}

/*
 * The bundle: the hint comes from the key's SPKI, and the signature is checked against that
 * SPKI before it is written, so the bundle never names a key that did not make it.
 */
static int write_bundle(struct hwsign_client *client, const struct sign_out *o,
                        const uint8_t digest[static 32], const uint8_t *sig, size_t sig_len)
{
    _cleanup_free_ uint8_t *spki = NULL;
    _cleanup_free_ char *hint = NULL, *json = NULL;
    size_t spki_len = 0, json_len = 0;
    int r;

    r = hwsign_get_public_key(client, o->key, &spki, &spki_len);
    if (r < 0)
        return log_agent_error(client, r, "cannot get the public key of '%s'", o->key);
    r = sig_verify_digest(spki, spki_len, HWSIGN_HASH_SHA256, HWSIGN_SCHEME_DEFAULT, digest, 32,
                          sig, sig_len);
    if (r < 0)
        return log_error(CLI_EXIT_ERROR,
                         "the agent's signature does not verify with the public key of '%s'",
                         o->key);
    r = bundle_hint_from_spki(spki, spki_len, &hint);
    if (r < 0)
        return log_errno(r, "cannot compute the key hint");
    r = bundle_encode_message_signature(hint, digest, sig, sig_len, &json, &json_len);
    if (r < 0)
        return log_errno(r, "cannot encode the bundle");
    if (!o->no_log_entry) {
        bool attached;
        r = bundle_log_attach(client, &json, &json_len, &attached);
        if (r != CLI_EXIT_OK)
            return r;
    }
    if (streq(o->bundle_path, "-")) {
        json[json_len] = '\n'; /* the NUL after the text becomes the newline */
        r = write_output(NULL, json, json_len + 1);
    } else
        r = write_output(o->bundle_path, json, json_len);
    if (r < 0)
        return log_errno(r, "cannot write the bundle to %s",
                         streq(o->bundle_path, "-") ? "standard output" : o->bundle_path);
    return CLI_EXIT_OK;
}

/* Checks and completes the output paths; returns an exit status (usage errors printed). */
static int sign_check_outputs(struct sign_out *o, char **default_out)
{
    int r;

    if (!o->sig_path && !o->bundle_path) {
        if (streq(o->file, "-"))
            return log_usage("sign", "signing standard input needs -o SIG (or -o - for stdout)");
        r = str_join(o->file, ".sig", default_out);
        if (r < 0)
            return log_errno(r, "cannot build the signature file name");
        o->sig_path = *default_out;
    }
    if (o->sig_path && !*o->sig_path)
        return log_usage("sign", "-o needs a file name");
    if (o->bundle_path && !*o->bundle_path)
        return log_usage("sign", "--bundle needs a file name");
    if (o->sig_path && !streq(o->sig_path, "-") && streq(o->sig_path, o->file))
        return log_usage("sign", "the signature would overwrite FILE '%s'", o->file);
    if (o->bundle_path && !streq(o->bundle_path, "-") && streq(o->bundle_path, o->file))
        return log_usage("sign", "the bundle would overwrite FILE '%s'", o->file);
    if (o->sig_path && o->bundle_path && streq(o->sig_path, o->bundle_path))
        return log_usage("sign", "-o and --bundle name the same file '%s'", o->sig_path);
    if (o->json && ((o->sig_path && streq(o->sig_path, "-")) ||
                    (o->bundle_path && streq(o->bundle_path, "-"))))
        return log_usage("sign", "--json cannot be combined with output on stdout (-)");
    return CLI_EXIT_OK;
}

int cmd_sign(int argc, char *argv[], const struct cli_context *ctx)
{
    enum { ARG_JSON = 0x100, ARG_NO_LOG_ENTRY };
    static const struct option options[] = {
            {"help", no_argument, NULL, 'h'},
            {"key", required_argument, NULL, 'k'},
            {"output", required_argument, NULL, 'o'},
            {"bundle", required_argument, NULL, 'b'},
            {"json", no_argument, NULL, ARG_JSON},
            {"no-log-entry", no_argument, NULL, ARG_NO_LOG_ENTRY},
            {},
    };
    _cleanup_(hwsign_disconnectp) struct hwsign_client *client = NULL;
    _cleanup_free_ char *default_out = NULL, *b64 = NULL, *text = NULL;
    _cleanup_free_ uint8_t *sig = NULL;
    struct sign_out o = {.log_index = HWSIGN_LOG_INDEX_NONE};
    uint8_t digest[32];
    size_t sig_len = 0;
    int c, r;

    optind = 0;
    while ((c = getopt_long(argc, argv, ":hk:o:b:", options, NULL)) >= 0) {
        switch (c) {
        case 'h':
            sign_usage(stdout);
            return CLI_EXIT_OK;
        case 'k':
            o.key = optarg;
            break;
        case 'o':
            o.sig_path = optarg;
            break;
        case 'b':
            o.bundle_path = optarg;
            break;
        case ARG_JSON:
            o.json = true;
            break;
        case ARG_NO_LOG_ENTRY:
            o.no_log_entry = true;
            break;
        default:
            return log_bad_option("sign", c, argv);
        }
    }
    if (!o.key)
        return log_usage("sign", "missing --key NAME");
    if (!name_is_valid(o.key))
        return log_usage("sign", "invalid key name '%s'", o.key);
    if (optind >= argc)
        return log_usage("sign", "missing FILE");
    if (optind + 1 < argc)
        return log_usage("sign", "unexpected argument '%s'", argv[optind + 1]);
    o.file = argv[optind];
    if (!*o.file)
        return log_usage("sign", "FILE must not be empty");
    r = sign_check_outputs(&o, &default_out);
    if (r != CLI_EXIT_OK)
        return r;
    if (o.sig_path && o.bundle_path && streq(o.sig_path, "-") && streq(o.bundle_path, "-"))
        return log_usage("sign", "-o - and --bundle - cannot both use standard output");

    /* Hash before connecting: hashing a large file can outlast the agent's idle timeout. */
    r = hash_input_sha256(o.file, digest);
    if (r < 0)
        return log_errno(r, "cannot read %s", streq(o.file, "-") ? "standard input" : o.file);

    r = cli_connect(ctx, &client);
    if (r != CLI_EXIT_OK)
        return r;
    r = hwsign_sign_digest(client, o.key, HWSIGN_HASH_SHA256, HWSIGN_SCHEME_DEFAULT, digest,
                           sizeof(digest), &sig, &sig_len);
    if (r < 0)
        return log_agent_error(client, r, "signing with key '%s' failed", o.key);
    o.log_index = hwsign_last_log_index(client);

    r = base64_encode(sig, sig_len, &b64);
    if (r < 0)
        return log_errno(r, "cannot encode the signature");
    if (o.bundle_path) {
        r = write_bundle(client, &o, digest, sig, sig_len);
        if (r != CLI_EXIT_OK)
            return r;
    }
    if (o.sig_path && streq(o.sig_path, "-")) {
        r = str_join(b64, "\n", &text);
        if (r < 0)
            return log_errno(r, "cannot encode the signature");
        r = write_output(NULL, text, strlen(text));
        if (r < 0)
            return log_errno(r, "cannot write the signature to standard output");
        return CLI_EXIT_OK;
    }
    if (o.sig_path) {
        r = write_output(o.sig_path, b64, strlen(b64));
        if (r < 0)
            return log_errno(r, "cannot write the signature to %s", o.sig_path);
    }

    if (o.json) {
        r = print_sign_json(&o, digest, b64);
        if (r < 0)
            return log_errno(r, "cannot print the result");
        return CLI_EXIT_OK;
    }
    if (o.bundle_path && streq(o.bundle_path, "-"))
        return CLI_EXIT_OK; /* stdout holds the bundle and nothing else */
    if (o.sig_path)
        printf("Wrote signature to %s\n", o.sig_path);
    if (o.bundle_path)
        printf("Wrote bundle to %s\n", o.bundle_path);
    if (o.log_index != HWSIGN_LOG_INDEX_NONE)
        printf("Logged as record %llu of the agent's signing log\n",
               (unsigned long long)o.log_index);
    return CLI_EXIT_OK;
}
