/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hwsign key ak | attest | verify-attestation: the agent's TPM attestation key (AK) and
 * TPM2_Certify proofs that a key lives in the agent's TPM (docs/provenance.md).
 *
 * Proof file (JSON, one object):
 *   {"type": KEY_PROOF_TYPE, "key": NAME, "nonce": hex, "attest": b64 TPMS_ATTEST,
 *    "signature": b64 DER ECDSA by the AK over SHA-256(attest), "key_public": b64 TPMT_PUBLIC,
 *    "ak": PEM of the AK's public key}
 * The AK inside the proof is informational: a verifier pins the AK it trusts (--ak).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json_object.h>
#include <openssl/rand.h>

#include "cmd-key-attest.h"
#include "crypto.h"
#include "format.h"
#include "json.h"
#include "macro.h"
#include "output.h"
#include "parse.h"
#include "tpm-attest.h"

#define KEY_PROOF_TYPE "https://hwsign.dev/key-certification/v1"
#define KEY_PROOF_MAX  (64u * 1024u)

static void evidence_freep(struct hwsign_tpm_evidence **e)
{
    hwsign_tpm_evidence_free(*e);
    *e = NULL;
}

/* --nonce HEX (32 bytes) or a random one. Returns an exit status. */
static int get_nonce(const char *cmd, const char *hex, uint8_t nonce[static HWSIGN_NONCE_LEN])
{
    _cleanup_free_ uint8_t *bin = NULL;
    size_t n = 0;

    if (!hex) {
        if (RAND_bytes(nonce, HWSIGN_NONCE_LEN) != 1)
            return log_error(CLI_EXIT_ERROR, "cannot draw a random nonce");
        return CLI_EXIT_OK;
    }
    if (hex_decode(hex, strlen(hex), &bin, &n) < 0 || n != HWSIGN_NONCE_LEN)
        return log_usage(cmd, "--nonce must be %u bytes in hex (64 characters)", HWSIGN_NONCE_LEN);
    memcpy(nonce, bin, HWSIGN_NONCE_LEN);
    return CLI_EXIT_OK;
}

static void key_ak_usage(FILE *f)
{
    fputs("Usage: hwsign key ak [-o AK.pem]\n"
          "\n"
          "Print the public key of the agent's TPM attestation key (AK) as PEM, creating the AK\n"
          "in the TPM first if it does not exist yet (enrollment). The AK is a restricted\n"
          "signing key: the TPM signs only attestations it generated itself with it (quotes,\n"
          "certifications). Distribute AK.pem to verifiers through a channel they trust; they\n"
          "pin it with `hwsign key verify-attestation --ak` and `hwsign verify --policy`.\n"
          "\n"
          "Options:\n"
          "  -o, --output AK.pem  write to a file instead of standard output\n"
          "  -h, --help           show this help\n"
          "\n"
          "Exit status: 0 ok; 2 usage; 3 no agent, or no TPM backend; 4 TPM failure.\n",
          f);
}

int key_ak(int argc, char *argv[], const struct cli_context *ctx)
{
    static const struct option options[] = {
            {"help", no_argument, NULL, 'h'},
            {"output", required_argument, NULL, 'o'},
            {},
    };
    _cleanup_(hwsign_disconnectp) struct hwsign_client *client = NULL;
    _cleanup_(evidence_freep) struct hwsign_tpm_evidence *e = NULL;
    _cleanup_free_ char *pem = NULL;
    const char *out = NULL;
    uint8_t nonce[HWSIGN_NONCE_LEN];
    int c, r;

    optind = 0;
    while ((c = getopt_long(argc, argv, ":ho:", options, NULL)) >= 0) {
        switch (c) {
        case 'h':
            key_ak_usage(stdout);
            return CLI_EXIT_OK;
        case 'o':
            out = optarg;
            break;
        default:
            return log_bad_option("key ak", c, argv);
        }
    }
    if (optind < argc)
        return log_usage("key ak", "unexpected argument '%s'", argv[optind]);
    r = get_nonce("key ak", NULL, nonce);
    if (r != CLI_EXIT_OK)
        return r;
    r = cli_connect(ctx, &client);
    if (r != CLI_EXIT_OK)
        return r;
    /* A quote of one PCR makes the agent create the AK if needed and name its public key. */
    r = hwsign_tpm_quote(client, nonce, "sha256:0", &e);
    if (r < 0)
        return log_agent_error(client, r, "cannot reach the attestation key");
    r = spki_to_pem(e->ak_spki, e->ak_spki_len, &pem);
    if (r < 0)
        return log_errno(r, "cannot encode the attestation key");
    r = write_output(out && !streq(out, "-") ? out : NULL, pem, strlen(pem));
    if (r < 0)
        return log_errno(r, "cannot write %s", out ? out : "standard output");
    return CLI_EXIT_OK;
}

static void key_attest_usage(FILE *f)
{
    fputs("Usage: hwsign key attest NAME [-o PROOF.json] [--nonce HEX] [--json]\n"
          "\n"
          "Have the agent's TPM certify its key NAME with the attestation key (TPM2_Certify):\n"
          "a proof that the key was generated inside this TPM and cannot leave it (fixedTPM,\n"
          "fixedParent, sensitiveDataOrigin). The proof is checked here before it is written;\n"
          "anyone can check it later with `hwsign key verify-attestation` and the pinned AK.\n"
          "\n"
          "Options:\n"
          "  -o, --output PROOF.json  where to write the proof (default NAME.attestation.json;\n"
          "                           \"-\" standard output)\n"
          "  --nonce HEX              the verifier's challenge, 32 bytes in hex (default:\n"
          "                           random)\n"
          "  --json                   print {key, proof_file, nonce, certified_name}\n"
          "  -h, --help               show this help\n"
          "\n"
          "Exit status: 0 ok; 2 usage; 3 no agent; 4 not a TPM key, TPM failure, or a proof\n"
          "that does not verify.\n",
          f);
}

static int add_b64(struct json_object *o, const char *key, const uint8_t *p, size_t n)
{
    return fjson_add_base64(o, key, p, n);
}

int key_attest(int argc, char *argv[], const struct cli_context *ctx)
{
    enum { ARG_NONCE = 0x100, ARG_JSON };
    static const struct option options[] = {
            {"help", no_argument, NULL, 'h'},
            {"output", required_argument, NULL, 'o'},
            {"nonce", required_argument, NULL, ARG_NONCE},
            {"json", no_argument, NULL, ARG_JSON},
            {},
    };
    _cleanup_(hwsign_disconnectp) struct hwsign_client *client = NULL;
    _cleanup_(evidence_freep) struct hwsign_tpm_evidence *e = NULL;
    _cleanup_(json_object_putp) struct json_object *o = NULL;
    _cleanup_free_ char *pem = NULL, *text = NULL, *hex = NULL, *def = NULL, *name_hex = NULL;
    _cleanup_free_ uint8_t *spki = NULL;
    const char *out = NULL, *nonce_hex = NULL, *name;
    uint8_t nonce[HWSIGN_NONCE_LEN], cname[TPM_ATTEST_MAX_NAME];
    size_t spki_len = 0, text_len = 0, cname_len = 0;
    bool json = false;
    int c, r;

    optind = 0;
    while ((c = getopt_long(argc, argv, ":ho:", options, NULL)) >= 0) {
        switch (c) {
        case 'h':
            key_attest_usage(stdout);
            return CLI_EXIT_OK;
        case 'o':
            out = optarg;
            break;
        case ARG_NONCE:
            nonce_hex = optarg;
            break;
        case ARG_JSON:
            json = true;
            break;
        default:
            return log_bad_option("key attest", c, argv);
        }
    }
    if (optind >= argc)
        return log_usage("key attest", "missing NAME");
    if (optind + 1 < argc)
        return log_usage("key attest", "unexpected argument '%s'", argv[optind + 1]);
    name = argv[optind];
    if (!name_is_valid(name))
        return log_usage("key attest", "invalid key name '%s'", name);
    if (json && out && streq(out, "-"))
        return log_usage("key attest", "--json cannot be combined with -o -");
    r = get_nonce("key attest", nonce_hex, nonce);
    if (r != CLI_EXIT_OK)
        return r;
    if (!out) {
        r = str_join(name, ".attestation.json", &def);
        if (r < 0)
            return log_errno(r, "cannot build the output file name");
        out = def;
    }

    r = cli_connect(ctx, &client);
    if (r != CLI_EXIT_OK)
        return r;
    r = hwsign_key_certify(client, name, nonce, &e);
    if (r < 0)
        return log_agent_error(client, r, "cannot certify key '%s'", name);
    r = hwsign_get_public_key(client, name, &spki, &spki_len);
    if (r < 0)
        return log_agent_error(client, r, "cannot get the public key of '%s'", name);
    {
        struct tpm_attest_certify proof = {
                .attest = e->attest,
                .attest_len = e->attest_len,
                .sig = e->sig_der,
                .sig_len = e->sig_der_len,
                .sig_format = TPM_ATTEST_SIG_PLAIN,
                .ak = e->ak_spki,
                .ak_len = e->ak_spki_len,
                .key_public = e->key_public,
                .key_public_len = e->key_public_len,
        };
        r = tpm_attest_verify_certify(&proof, nonce, spki, spki_len);
        if (r < 0)
            return log_error(CLI_EXIT_ERROR,
                             "the agent's certification of '%s' does not verify (%s)", name,
                             strerror(-r));
    }
    r = tpm_attest_certified_name(e->attest, e->attest_len, cname, &cname_len);
    if (r >= 0)
        r = hex_encode(nonce, sizeof(nonce), &hex);
    if (r >= 0)
        r = spki_to_pem(e->ak_spki, e->ak_spki_len, &pem);
    if (r >= 0)
        r = hex_encode(cname, cname_len, &name_hex);
    o = json_object_new_object();
    if (r >= 0 && !o)
        r = -ENOMEM;
    if (r >= 0)
        r = fjson_add_string(o, "type", KEY_PROOF_TYPE, strlen(KEY_PROOF_TYPE));
    if (r >= 0)
        r = fjson_add_string(o, "key", name, strlen(name));
    if (r >= 0)
        r = fjson_add_string(o, "nonce", hex, strlen(hex));
    if (r >= 0)
        r = add_b64(o, "attest", e->attest, e->attest_len);
    if (r >= 0)
        r = add_b64(o, "signature", e->sig_der, e->sig_der_len);
    if (r >= 0)
        r = add_b64(o, "key_public", e->key_public, e->key_public_len);
    if (r >= 0)
        r = fjson_add_string(o, "ak", pem, strlen(pem));
    if (r >= 0)
        r = fjson_serialize(o, &text, &text_len);
    if (r < 0)
        return log_errno(r, "cannot encode the proof");
    text[text_len] = '\n';
    r = write_output(streq(out, "-") ? NULL : out, text, text_len + 1);
    if (r < 0)
        return log_errno(r, "cannot write %s", out);
    if (json) {
        _cleanup_(json_object_putp) struct json_object *j = json_object_new_object();
        if (!j || json_add_string(j, "key", name) < 0 ||
            json_add_string(j, "proof_file", out) < 0 || json_add_string(j, "nonce", hex) < 0 ||
            json_add_string(j, "certified_name", name_hex) < 0 || json_print(j) < 0)
            return log_errno(-ENOMEM, "cannot print the result");
    } else if (!streq(out, "-"))
        printf("Wrote the TPM certification of key %s to %s (certified Name %s)\n", name, out,
               name_hex);
    return CLI_EXIT_OK;
}

static void key_verify_attestation_usage(FILE *f)
{
    fputs("Usage: hwsign key verify-attestation --ak AK.pem --key PUB.pem [--nonce HEX]\n"
          "                                     PROOF.json\n"
          "\n"
          "Verify offline a proof written by `hwsign key attest`: the attestation is a\n"
          "TPM-generated certification signed by the pinned attestation key AK.pem, it certifies\n"
          "exactly the key in PUB.pem (its Name and public key), that key is fixedTPM,\n"
          "fixedParent and sensitiveDataOrigin, and (with --nonce) it answers your challenge.\n"
          "The AK named inside the proof is ignored: only AK.pem decides.\n"
          "\n"
          "Exit status: 0 verified; 1 not verified; 2 usage; 4 unreadable or malformed input.\n",
          f);
}

int key_verify_attestation(int argc, char *argv[], const struct cli_context *ctx)
{
    enum { ARG_AK = 0x100, ARG_KEY, ARG_NONCE };
    static const struct option options[] = {
            {"help", no_argument, NULL, 'h'},
            {"ak", required_argument, NULL, ARG_AK},
            {"key", required_argument, NULL, ARG_KEY},
            {"nonce", required_argument, NULL, ARG_NONCE},
            {},
    };
    _cleanup_(fjson_putp) struct json_object *o = NULL;
    _cleanup_free_ uint8_t *buf = NULL, *ak = NULL, *key = NULL, *attest = NULL, *sig = NULL,
                           *pub = NULL, *nonce_bin = NULL;
    const char *ak_path = NULL, *key_path = NULL, *nonce_hex = NULL, *path, *type, *hex;
    size_t len = 0, ak_len = 0, key_len = 0, attest_len = 0, sig_len = 0, pub_len = 0, nlen = 0;
    int c, r;

    (void)ctx;
    optind = 0;
    while ((c = getopt_long(argc, argv, ":h", options, NULL)) >= 0) {
        switch (c) {
        case 'h':
            key_verify_attestation_usage(stdout);
            return CLI_EXIT_OK;
        case ARG_AK:
            ak_path = optarg;
            break;
        case ARG_KEY:
            key_path = optarg;
            break;
        case ARG_NONCE:
            nonce_hex = optarg;
            break;
        default:
            return log_bad_option("key verify-attestation", c, argv);
        }
    }
    if (!ak_path || !key_path)
        return log_usage("key verify-attestation", "--ak and --key are required");
    if (optind + 1 != argc)
        return log_usage("key verify-attestation", "expected one PROOF.json");
    path = argv[optind];
    r = load_public_key_file(ak_path, &ak, &ak_len);
    if (r != CLI_EXIT_OK)
        return r;
    r = load_public_key_file(key_path, &key, &key_len);
    if (r != CLI_EXIT_OK)
        return r;
    r = read_input_bounded(path, KEY_PROOF_MAX, &buf, &len);
    if (r < 0)
        return log_errno(r, "cannot read %s", path);
    r = fjson_parse_object((const char *)buf, len, KEY_PROOF_MAX, &o);
    if (r >= 0)
        r = fjson_get_string(o, "type", 256, &type, NULL);
    if (r >= 0 && !streq(type, KEY_PROOF_TYPE))
        r = -EINVAL;
    if (r >= 0)
        r = fjson_get_string(o, "nonce", 64, &hex, NULL);
    if (r >= 0)
        r = hex_decode(hex, strlen(hex), &nonce_bin, &nlen);
    if (r >= 0 && nlen != HWSIGN_NONCE_LEN)
        r = -EINVAL;
    if (r >= 0)
        r = fjson_get_bytes(o, "attest", TPM_ATTEST_MAX, &attest, &attest_len);
    if (r >= 0)
        r = fjson_get_bytes(o, "signature", HWSIGN_MAX_TPM_BLOB, &sig, &sig_len);
    if (r >= 0)
        r = fjson_get_bytes(o, "key_public", HWSIGN_MAX_TPM_BLOB, &pub, &pub_len);
    if (r < 0)
        return log_error(CLI_EXIT_ERROR, "%s is not a key certification proof (%s)", path,
                         strerror(-r));
    if (nonce_hex) {
        _cleanup_free_ uint8_t *want = NULL;
        size_t wlen = 0;
        if (hex_decode(nonce_hex, strlen(nonce_hex), &want, &wlen) < 0 || wlen != HWSIGN_NONCE_LEN)
            return log_usage("key verify-attestation", "--nonce must be 32 bytes in hex");
        if (memcmp(want, nonce_bin, HWSIGN_NONCE_LEN) != 0)
            return log_error(CLI_EXIT_REFUSED,
                             "verification failed: the proof answers another challenge (nonce)");
    }
    {
        struct tpm_attest_certify proof = {
                .attest = attest,
                .attest_len = attest_len,
                .sig = sig,
                .sig_len = sig_len,
                .sig_format = TPM_ATTEST_SIG_PLAIN,
                .ak = ak,
                .ak_len = ak_len,
                .key_public = pub,
                .key_public_len = pub_len,
        };
        r = tpm_attest_verify_certify(&proof, nonce_bin, key, key_len);
    }
    switch (r) {
    case 0:
        printf("Verified OK: %s is a key of the TPM whose attestation key is %s\n", key_path,
               ak_path);
        return CLI_EXIT_OK;
    case -EBADMSG:
        return log_error(CLI_EXIT_REFUSED,
                         "verification failed: not a certification signed by "
                         "the attestation key %s",
                         ak_path);
    case -ESTALE:
        return log_error(CLI_EXIT_REFUSED, "verification failed: nonce mismatch");
    case -ENOKEY:
        return log_error(CLI_EXIT_REFUSED,
                         "verification failed: the proof certifies another key than %s", key_path);
    case -EKEYREJECTED:
        return log_error(CLI_EXIT_REFUSED,
                         "verification failed: the key is not bound to its TPM (fixedTPM, "
                         "fixedParent, sensitiveDataOrigin)");
    default:
        return log_error(CLI_EXIT_ERROR, "cannot verify %s: %s", path, strerror(-r));
    }
}
