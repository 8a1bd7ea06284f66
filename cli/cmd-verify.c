/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hwsign verify: offline check of a `cosign sign-blob`-style signature (base64 or raw DER over
 * SHA-256(FILE)) against a PEM public key, or (--bundle, verify-bundle.c) of a Sigstore bundle
 * or DSSE envelope. Never talks to the agent.
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
#include "verify-bundle.h"

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
          "       hwsign verify --key PUB.pem --bundle BUNDLE [--log-key LOG.pem]\n"
          "                     [--policy POLICY.json [--quote QUOTE.json]] [--sbom SBOM]\n"
          "                     [--json] [FILE]\n"
          "\n"
          "Verify offline (no agent needed) with the public key in PUB.pem.\n"
          "\n"
          "--signature: SIG is a signature over SHA-256(FILE), as made by `hwsign sign`,\n"
          "`cosign sign-blob --key` or `openssl dgst -sha256 -sign` (ECDSA P-256/P-384 or RSA\n"
          "PKCS#1 v1.5), in base64 (as cosign writes it) or raw DER.\n"
          "\n"
          "--bundle: BUNDLE is a Sigstore bundle v0.3 made with a key (no certificate) or a\n"
          "bare DSSE envelope, as written by `hwsign sign --bundle`, `hwsign attest-blob`,\n"
          "cosign or sigstore-js.\n"
          "  messageSignature: FILE is required; it must be the artifact the bundle names\n"
          "    (messageDigest) and the signature must verify over it.\n"
          "  dsseEnvelope / DSSE envelope: the signature must verify over the DSSE PAE and the\n"
          "    payload must be an in-toto Statement v1; with FILE, its SHA-256 must be among the\n"
          "    subjects. Prints the predicate type and the subjects (SHA-256 and name).\n"
          "The bundle's key hint is not trusted: only PUB.pem decides.\n"
          "--log-key LOG.pem: also require the signing-log entry hwsign bundles carry\n"
          "(tlogEntries): a checkpoint signed by LOG.pem (the agent's log key) and an\n"
          "inclusion proof leading from the entry to its root, the entry naming this\n"
          "signature, digest or statement, and key. Without it, entries are not checked.\n"
          "--policy POLICY.json: the bundle must hold SLSA provenance meeting the policy's\n"
          "requirements (builder id, build type, source repository and commit, allowed\n"
          "commands, observed caller executables, subject files, and a TPM quote by a pinned\n"
          "attestation key with expected PCR values, read from QUOTE.json, default\n"
          "BUNDLE.quote.json). See docs/provenance.md.\n"
          "--sbom SBOM: the bundle must be an SBOM attestation (hwsign sbom --key) whose\n"
          "subjects include SBOM's SHA-256, SBOM must be of the format its predicate type\n"
          "names, and with FILE, SBOM must record FILE's SHA-256. See docs/sbom.md.\n"
          "\n"
          "FILE, SIG or BUNDLE \"-\" reads standard input (only one of them). Prints\n"
          "\"Verified OK\" and exits 0, or exits 1 with \"verification failed: ...\".\n"
          "\n"
          "Options:\n"
          "  -k, --key PUB.pem        public key (PEM SubjectPublicKeyInfo, or DER)\n"
          "  -s, --signature SIG      signature file\n"
          "  -b, --bundle BUNDLE      Sigstore bundle or DSSE envelope (JSON)\n"
          "  --json                   print a JSON object: verified, file, key_file, key_alg,\n"
          "                           key_fingerprint, error; with --signature also\n"
          "                           signature_file, signature_encoding; with --bundle also\n"
          "                           bundle_file, kind, hint, hint_matches_key, sha256\n"
          "                           (messageDigest), payload_type, predicate_type, subjects\n"
          "                           [{name, sha256}], predicate (statement fields only once\n"
          "                           verified), log {index, tree_size, origin} or null\n"
          "  --log-key LOG.pem        the signing log's public key: require its log entry\n"
          "  --policy POLICY.json     provenance requirements (docs/provenance.md)\n"
          "  --quote QUOTE.json       the TPM quote for the policy (default BUNDLE.quote.json)\n"
          "  --sbom SBOM              a signed SBOM: check it and that it records FILE\n"
          "  -h, --help               show this help\n"
          "\n"
          "Exit status: 0 verified; 1 not verified (bad signature, wrong key, FILE not the\n"
          "signed artifact or not a subject, no log entry proving this signature with\n"
          "--log-key, provenance not meeting --policy); 2 usage error; 4 unreadable or malformed "
          "key,\n"
          "bundle or FILE, unsupported bundle, signed payload not an in-toto statement.\n",
          f);
}

/* Files named by the user are read the way other tools read them: symlinks are followed. */
int read_input_bounded(const char *path, size_t max, uint8_t **ret, size_t *ret_len)
{
    _cleanup_close_ int fd = -EBADF;

    if (streq(path, "-"))
        return read_fd_bounded(STDIN_FILENO, max, ret, ret_len);
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return negative_errno();
    return read_fd_bounded(fd, max, ret, ret_len);
}

int load_public_key_file(const char *path, uint8_t **ret_spki, size_t *ret_len)
{
    _cleanup_free_ uint8_t *keybuf = NULL;
    size_t keylen = 0;
    int r;

    r = read_input_bounded(path, MAX_KEY_FILE, &keybuf, &keylen);
    if (r == -EFBIG)
        return log_error(CLI_EXIT_ERROR, "%s is too large to be a public key (over %u bytes)", path,
                         MAX_KEY_FILE);
    if (r < 0)
        return log_errno(r, "cannot read public key %s", path);
    r = spki_from_pem(keybuf, keylen, ret_spki, ret_len);
    if (r == -ENOMEM)
        return log_errno(r, "cannot load public key %s", path);
    if (r < 0)
        return log_error(CLI_EXIT_ERROR, "%s does not hold a PEM or DER public key", path);
    return CLI_EXIT_OK;
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
    _cleanup_free_ uint8_t *spki = NULL, *sigbuf = NULL, *decoded = NULL;
    size_t spki_len = 0, siglen = 0, decoded_len = 0;
    const uint8_t *sig;
    size_t sig_len;
    enum hwsign_alg alg = HWSIGN_ALG_UNKNOWN;
    uint8_t digest[32];
    int r;

    r = load_public_key_file(a->key_path, &spki, &spki_len);
    if (r != CLI_EXIT_OK)
        return r;
    if (spki_alg(spki, spki_len, &alg) >= 0)
        res->alg = alg_name(alg);
    r = spki_fingerprint(spki, spki_len, &res->fingerprint);
    if (r < 0)
        return log_errno(r, "cannot fingerprint public key %s", a->key_path);

    r = read_input_bounded(a->sig_path, MAX_SIG_FILE, &sigbuf, &siglen);
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
    enum { ARG_JSON = 0x100, ARG_LOG_KEY, ARG_POLICY, ARG_QUOTE, ARG_SBOM };
    static const struct option options[] = {
            {"help", no_argument, NULL, 'h'},
            {"key", required_argument, NULL, 'k'},
            {"signature", required_argument, NULL, 's'},
            {"bundle", required_argument, NULL, 'b'},
            {"json", no_argument, NULL, ARG_JSON},
            {"log-key", required_argument, NULL, ARG_LOG_KEY},
            {"policy", required_argument, NULL, ARG_POLICY},
            {"quote", required_argument, NULL, ARG_QUOTE},
            {"sbom", required_argument, NULL, ARG_SBOM},
            {},
    };
    struct verify_args a = {};
    struct verify_result res = {};
    const char *bundle = NULL, *log_key = NULL, *policy = NULL, *quote = NULL, *sbom = NULL;
    int c, r;

    optind = 0;
    while ((c = getopt_long(argc, argv, ":hk:s:b:", options, NULL)) >= 0) {
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
        case 'b':
            bundle = optarg;
            break;
        case ARG_JSON:
            a.json = true;
            break;
        case ARG_LOG_KEY:
            log_key = optarg;
            break;
        case ARG_POLICY:
            policy = optarg;
            break;
        case ARG_QUOTE:
            quote = optarg;
            break;
        case ARG_SBOM:
            sbom = optarg;
            break;
        default:
            return log_bad_option("verify", c, argv);
        }
    }
    if (!a.key_path || !*a.key_path)
        return log_usage("verify", "missing --key PUB.pem");
    if (streq(a.key_path, "-"))
        return log_usage("verify", "--key must name a file");
    if (bundle && a.sig_path)
        return log_usage("verify", "--signature and --bundle cannot be combined");
    if (log_key && (!bundle || !*log_key))
        return log_usage("verify", "--log-key needs --bundle and a file name");
    if ((policy && (!bundle || !*policy)) || (quote && !policy))
        return log_usage("verify", "--policy needs --bundle and a file name; --quote needs "
                                   "--policy");
    if (sbom && (!bundle || !*sbom || streq(sbom, "-")))
        return log_usage("verify", "--sbom needs --bundle and a file name");
    if (bundle) {
        struct verify_bundle_args b = {.key_path = a.key_path,
                                       .bundle_path = bundle,
                                       .json = a.json,
                                       .log_key_path = log_key,
                                       .policy_path = policy,
                                       .quote_path = quote,
                                       .sbom_path = sbom};

        if (!*bundle)
            return log_usage("verify", "--bundle needs a file name");
        if (optind + 1 < argc)
            return log_usage("verify", "unexpected argument '%s'", argv[optind + 1]);
        if (optind < argc) {
            if (!*argv[optind])
                return log_usage("verify", "FILE must not be empty");
            b.file = argv[optind];
        }
        if (b.file && streq(b.file, "-") && streq(bundle, "-"))
            return log_usage("verify", "FILE and BUNDLE cannot both be standard input");
        return verify_bundle(&b);
    }
    if (!a.sig_path || !*a.sig_path)
        return log_usage("verify", "missing --signature SIG or --bundle BUNDLE");
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
