/* SPDX-License-Identifier: Apache-2.0 */
/* hwsign key create|add|list|show|export|delete: key management through the agent. */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "cmd-key-attest.h"
#include "main.h"
#include "output.h"
#include "parse.h"

static void key_usage(FILE *f)
{
    fputs("Usage: hwsign key COMMAND [OPTIONS] [NAME]\n"
          "\n"
          "Manage the agent's keys. NAME is 1-64 characters of [A-Za-z0-9._-] starting with a\n"
          "letter or digit. INSTANCE is a backend instance name from the agent config.\n"
          "\n"
          "Commands:\n"
          "  create NAME [--backend INSTANCE] [--alg ALG] [--json]\n"
          "                  create a key inside a TPM or PKCS#11 token\n"
          "  add NAME --uri URI [--backend INSTANCE] [--json]\n"
          "                  register an existing key of a PKCS#11 token\n"
          "  list [--json]   list the keys\n"
          "  show NAME [--json]\n"
          "                  show a key's details, policy and public key\n"
          "  export NAME [--format pem|ssh] [-o FILE]\n"
          "                  export the public key\n"
          "  delete NAME [--destroy --yes]\n"
          "                  remove a key from the agent (--destroy: also from the device)\n"
          "  ak [-o AK.pem]  the TPM attestation key's public key (created on first use)\n"
          "  attest NAME [-o PROOF.json] [--nonce HEX]\n"
          "                  TPM2_Certify proof that TPM key NAME lives in the agent's TPM\n"
          "  verify-attestation --ak AK.pem --key PUB.pem [--nonce HEX] PROOF.json\n"
          "                  verify such a proof offline\n"
          "\n"
          "Run 'hwsign key COMMAND --help' for the options of a command.\n",
          f);
}

static void key_create_usage(FILE *f)
{
    fputs("Usage: hwsign key create NAME [--backend INSTANCE] [--alg ALG] [--json]\n"
          "\n"
          "Create a new key NAME inside a backend (TPM or PKCS#11 token) and print its name,\n"
          "algorithm, backend, locator, fingerprint (SHA-256 of the SubjectPublicKeyInfo) and\n"
          "PEM public key. Needs an admin identity at the agent.\n"
          "\n"
          "Options:\n"
          "  -b, --backend INSTANCE   backend instance from the agent config (e.g. \"tpm\",\n"
          "                           \"hsm0\"); default: the agent's only backend\n"
          "  -a, --alg ALG            ecdsa-p256 (default), ecdsa-p384 or rsa-3072\n"
          "  --json                   print the key as a JSON object\n"
          "  -h, --help               show this help\n",
          f);
}

static void key_add_usage(FILE *f)
{
    fputs("Usage: hwsign key add NAME --uri URI [--backend INSTANCE] [--json]\n"
          "\n"
          "Register an existing private key of a PKCS#11 token under NAME.\n"
          "\n"
          "Options:\n"
          "  -u, --uri URI            RFC 7512 URI of the key, e.g.\n"
          "                           'pkcs11:token=build;object=release' (no PIN in it)\n"
          "  -b, --backend INSTANCE   PKCS#11 backend instance from the agent config;\n"
          "                           default: the agent's only PKCS#11 backend\n"
          "  --json                   print the key as a JSON object\n"
          "  -h, --help               show this help\n",
          f);
}

static void key_list_usage(FILE *f)
{
    fputs("Usage: hwsign key list [--json]\n"
          "\n"
          "List the keys visible to you: NAME BACKEND KIND ALG.\n"
          "\n"
          "Options:\n"
          "  --json       print a JSON array of key objects\n"
          "  -h, --help   show this help\n",
          f);
}

static void key_show_usage(FILE *f)
{
    fputs("Usage: hwsign key show NAME [--json]\n"
          "\n"
          "Show all fields of key NAME: algorithm, backend, locator, allowed users and groups,\n"
          "creation time (UTC), fingerprint and PEM public key.\n"
          "\n"
          "Options:\n"
          "  --json       print a JSON object: name, backend, backend_kind, alg, locator,\n"
          "               allow_users[], allow_groups[], created, created_unix, fingerprint,\n"
          "               public_key_pem\n"
          "  -h, --help   show this help\n",
          f);
}

static void key_export_usage(FILE *f)
{
    fputs("Usage: hwsign key export NAME [--format pem|ssh] [-o FILE]\n"
          "\n"
          "Export the public key of NAME.\n"
          "\n"
          "Options:\n"
          "  -f, --format pem|ssh   pem: PEM SubjectPublicKeyInfo (default; for\n"
          "                         `openssl pkey -pubin`, `hwsign verify`, cosign);\n"
          "                         ssh: one OpenSSH public key line\n"
          "  -o, --output FILE      write to FILE (replaced atomically, mode 0644) instead\n"
          "                         of stdout; \"-\" is stdout\n"
          "  -h, --help             show this help\n",
          f);
}

static void key_delete_usage(FILE *f)
{
    fputs("Usage: hwsign key delete NAME [--destroy --yes]\n"
          "\n"
          "Remove key NAME from the agent. The key itself stays on the device unless\n"
          "--destroy is given.\n"
          "\n"
          "Options:\n"
          "  --destroy    also delete the key on the device; this cannot be undone and\n"
          "               needs --yes\n"
          "  -y, --yes    confirm --destroy\n"
          "  -h, --help   show this help\n",
          f);
}

enum {
    ARG_JSON = 0x100,
    ARG_DESTROY,
};

/* Agent-supplied text for the terminal: "-" when empty, control characters replaced. */
#define NA(s) PRINTABLE((s) && *(s) ? (s) : "-")

static size_t strna_len(const char *s)
{
    return s && *s ? strlen(s) : 1;
}

/* The single NAME operand left after option parsing. */
static int take_name(const char *cmd, int argc, char *argv[], const char **ret)
{
    if (optind >= argc)
        return log_usage(cmd, "missing NAME");
    if (optind + 1 < argc)
        return log_usage(cmd, "unexpected argument '%s'", argv[optind + 1]);
    if (!name_is_valid(argv[optind]))
        return log_usage(cmd, "invalid key name '%s'", argv[optind]);
    *ret = argv[optind];
    return CLI_EXIT_OK;
}

static int key_to_json(const struct hwsign_key_info *k, const char *fingerprint, const char *pem,
                       struct json_object **ret)
{
    _cleanup_(json_object_putp) struct json_object *o = json_object_new_object();
    char created[64];
    int r;

    if (!o)
        return -ENOMEM;
    if (format_timestamp(k->created, created, sizeof(created)) < 0)
        created[0] = '\0';
    if ((r = json_add_string(o, "name", k->name)) < 0 ||
        (r = json_add_string(o, "backend", k->backend)) < 0 ||
        (r = json_add_string(o, "backend_kind", k->backend_kind)) < 0 ||
        (r = json_add_string(o, "alg", k->alg)) < 0 ||
        (r = json_add_string(o, "locator", k->locator)) < 0 ||
        (r = json_add_csv(o, "allow_users", k->allow_users)) < 0 ||
        (r = json_add_csv(o, "allow_groups", k->allow_groups)) < 0 ||
        (r = json_add_string(o, "created", created[0] ? created : NULL)) < 0 ||
        (r = json_add_u64(o, "created_unix", k->created)) < 0)
        return r;
    if (fingerprint && (r = json_add_string(o, "fingerprint", fingerprint)) < 0)
        return r;
    if (pem && (r = json_add_string(o, "public_key_pem", pem)) < 0)
        return r;
    *ret = TAKE_PTR(o);
    return 0;
}

/* A key with its public key, as text or JSON. 0 or -errno. */
static int print_key(const struct hwsign_key_info *k, const uint8_t *spki, size_t spki_len,
                     bool json)
{
    _cleanup_free_ char *fingerprint = NULL, *pem = NULL;
    char created[64];
    int r;

    r = spki_fingerprint(spki, spki_len, &fingerprint);
    if (r < 0)
        return r;
    r = spki_to_pem(spki, spki_len, &pem);
    if (r < 0)
        return r;

    if (json) {
        _cleanup_(json_object_putp) struct json_object *o = NULL;

        r = key_to_json(k, fingerprint, pem, &o);
        if (r < 0)
            return r;
        return json_print(o);
    }

    if (format_timestamp(k->created, created, sizeof(created)) < 0)
        format_message(created, sizeof(created), "-");
    printf("name:           %s\n", NA(k->name));
    printf("algorithm:      %s\n", NA(k->alg));
    printf("backend:        %s (%s)\n", NA(k->backend), NA(k->backend_kind));
    printf("locator:        %s\n", NA(k->locator));
    printf("allowed users:  %s\n",
           PRINTABLE(k->allow_users && *k->allow_users ? k->allow_users : "(none)"));
    printf("allowed groups: %s\n",
           PRINTABLE(k->allow_groups && *k->allow_groups ? k->allow_groups : "(none)"));
    printf("created:        %s\n", created);
    printf("fingerprint:    %s\n", fingerprint);
    printf("public key:\n%s", pem);
    if (!*pem || pem[strlen(pem) - 1] != '\n')
        putchar('\n');
    return 0;
}

/* Prints a key the agent returned, fetching its public key if the reply did not carry it. */
static int show_key(struct hwsign_client *client, const struct hwsign_key_info *k, bool json)
{
    _cleanup_free_ uint8_t *spki = NULL;
    size_t spki_len = 0;
    int r;

    if (!k->spki) {
        r = hwsign_get_public_key(client, k->name, &spki, &spki_len);
        if (r < 0)
            return log_agent_error(client, r, "cannot get the public key of '%s'", k->name);
    }
    r = print_key(k, k->spki ? k->spki : spki, k->spki ? k->spki_len : spki_len, json);
    if (r < 0)
        return log_errno(r, "cannot print key '%s'", k->name);
    return CLI_EXIT_OK;
}

static int key_create(int argc, char *argv[], const struct cli_context *ctx)
{
    static const struct option options[] = {
            {"help", no_argument, NULL, 'h'},
            {"backend", required_argument, NULL, 'b'},
            {"alg", required_argument, NULL, 'a'},
            {"json", no_argument, NULL, ARG_JSON},
            {},
    };
    _cleanup_(hwsign_disconnectp) struct hwsign_client *client = NULL;
    _cleanup_(hwsign_key_info_freep) struct hwsign_key_info *k = NULL;
    const char *name = NULL, *backend = NULL, *alg = NULL;
    bool json = false;
    int c, r;

    optind = 0;
    while ((c = getopt_long(argc, argv, ":hb:a:", options, NULL)) >= 0) {
        switch (c) {
        case 'h':
            key_create_usage(stdout);
            return CLI_EXIT_OK;
        case 'b':
            if (!name_is_valid(optarg))
                return log_usage("key create", "invalid backend name '%s'", optarg);
            backend = optarg;
            break;
        case 'a':
            if (alg_from_name(optarg) == HWSIGN_ALG_UNKNOWN)
                return log_usage("key create",
                                 "unknown algorithm '%s' (use ecdsa-p256, ecdsa-p384 or "
                                 "rsa-3072)",
                                 optarg);
            alg = optarg;
            break;
        case ARG_JSON:
            json = true;
            break;
        default:
            return log_bad_option("key create", c, argv);
        }
    }
    r = take_name("key create", argc, argv, &name);
    if (r != CLI_EXIT_OK)
        return r;

    r = cli_connect(ctx, &client);
    if (r != CLI_EXIT_OK)
        return r;
    r = hwsign_key_create(client, name, backend, alg, &k);
    if (r < 0)
        return log_agent_error(client, r, "cannot create key '%s'", name);
    return show_key(client, k, json);
}

static int key_add(int argc, char *argv[], const struct cli_context *ctx)
{
    static const struct option options[] = {
            {"help", no_argument, NULL, 'h'},
            {"uri", required_argument, NULL, 'u'},
            {"backend", required_argument, NULL, 'b'},
            {"json", no_argument, NULL, ARG_JSON},
            {},
    };
    _cleanup_(hwsign_disconnectp) struct hwsign_client *client = NULL;
    _cleanup_(hwsign_key_info_freep) struct hwsign_key_info *k = NULL;
    const char *name = NULL, *backend = NULL, *uri = NULL;
    bool json = false;
    int c, r;

    optind = 0;
    while ((c = getopt_long(argc, argv, ":hu:b:", options, NULL)) >= 0) {
        switch (c) {
        case 'h':
            key_add_usage(stdout);
            return CLI_EXIT_OK;
        case 'u':
            if (strncmp(optarg, "pkcs11:", 7) != 0)
                return log_usage("key add", "--uri must be a PKCS#11 URI ('pkcs11:...')");
            if (strlen(optarg) > HWSIGN_MAX_URI)
                return log_usage("key add", "--uri is longer than %u bytes", HWSIGN_MAX_URI);
            uri = optarg;
            break;
        case 'b':
            if (!name_is_valid(optarg))
                return log_usage("key add", "invalid backend name '%s'", optarg);
            backend = optarg;
            break;
        case ARG_JSON:
            json = true;
            break;
        default:
            return log_bad_option("key add", c, argv);
        }
    }
    r = take_name("key add", argc, argv, &name);
    if (r != CLI_EXIT_OK)
        return r;
    if (!uri)
        return log_usage("key add", "missing --uri URI");

    r = cli_connect(ctx, &client);
    if (r != CLI_EXIT_OK)
        return r;
    r = hwsign_key_add(client, name, backend, uri, &k);
    if (r < 0)
        return log_agent_error(client, r, "cannot add key '%s'", name);
    return show_key(client, k, json);
}

static int print_key_list(const struct hwsign_key_info *keys, size_t n, bool json)
{
    int wname = (int)strlen("NAME"), wbackend = (int)strlen("BACKEND");
    int wkind = (int)strlen("KIND");
    int r;

    if (json) {
        _cleanup_(json_object_putp) struct json_object *a = json_object_new_array();

        if (!a)
            return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
            struct json_object *o = NULL;

            r = key_to_json(&keys[i], NULL, NULL, &o);
            if (r < 0)
                return r;
            if (json_object_array_add(a, o) < 0) {
                json_object_put(o);
                return -ENOMEM;
            }
        }
        return json_print(a);
    }

    if (n == 0) {
        printf("No keys.\n");
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        wname = MAX(wname, (int)MIN(strna_len(keys[i].name), 64u));
        wbackend = MAX(wbackend, (int)MIN(strna_len(keys[i].backend), 64u));
        wkind = MAX(wkind, (int)MIN(strna_len(keys[i].backend_kind), 64u));
    }
    printf("%-*s  %-*s  %-*s  %s\n", wname, "NAME", wbackend, "BACKEND", wkind, "KIND", "ALG");
    for (size_t i = 0; i < n; i++)
        printf("%-*s  %-*s  %-*s  %s\n", wname, NA(keys[i].name), wbackend, NA(keys[i].backend),
               wkind, NA(keys[i].backend_kind), NA(keys[i].alg));
    return 0;
}

static int key_list(int argc, char *argv[], const struct cli_context *ctx)
{
    static const struct option options[] = {
            {"help", no_argument, NULL, 'h'},
            {"json", no_argument, NULL, ARG_JSON},
            {},
    };
    _cleanup_(hwsign_disconnectp) struct hwsign_client *client = NULL;
    struct hwsign_key_info *keys = NULL;
    size_t n = 0;
    bool json = false;
    int c, r;

    optind = 0;
    while ((c = getopt_long(argc, argv, ":h", options, NULL)) >= 0) {
        switch (c) {
        case 'h':
            key_list_usage(stdout);
            return CLI_EXIT_OK;
        case ARG_JSON:
            json = true;
            break;
        default:
            return log_bad_option("key list", c, argv);
        }
    }
    if (optind < argc)
        return log_usage("key list", "unexpected argument '%s'", argv[optind]);

    r = cli_connect(ctx, &client);
    if (r != CLI_EXIT_OK)
        return r;
    r = hwsign_list_keys(client, &keys, &n);
    if (r < 0)
        return log_agent_error(client, r, "cannot list keys");
    r = print_key_list(keys, n, json);
    hwsign_key_list_free(keys, n);
    if (r < 0)
        return log_errno(r, "cannot print the key list");
    return CLI_EXIT_OK;
}

static int key_show(int argc, char *argv[], const struct cli_context *ctx)
{
    static const struct option options[] = {
            {"help", no_argument, NULL, 'h'},
            {"json", no_argument, NULL, ARG_JSON},
            {},
    };
    _cleanup_(hwsign_disconnectp) struct hwsign_client *client = NULL;
    _cleanup_(hwsign_key_info_freep) struct hwsign_key_info *k = NULL;
    const char *name = NULL;
    bool json = false;
    int c, r;

    optind = 0;
    while ((c = getopt_long(argc, argv, ":h", options, NULL)) >= 0) {
        switch (c) {
        case 'h':
            key_show_usage(stdout);
            return CLI_EXIT_OK;
        case ARG_JSON:
            json = true;
            break;
        default:
            return log_bad_option("key show", c, argv);
        }
    }
    r = take_name("key show", argc, argv, &name);
    if (r != CLI_EXIT_OK)
        return r;

    r = cli_connect(ctx, &client);
    if (r != CLI_EXIT_OK)
        return r;
    r = hwsign_key_info(client, name, &k);
    if (r < 0)
        return log_agent_error(client, r, "cannot show key '%s'", name);
    return show_key(client, k, json);
}

static int key_export(int argc, char *argv[], const struct cli_context *ctx)
{
    static const struct option options[] = {
            {"help", no_argument, NULL, 'h'},
            {"format", required_argument, NULL, 'f'},
            {"output", required_argument, NULL, 'o'},
            {},
    };
    _cleanup_(hwsign_disconnectp) struct hwsign_client *client = NULL;
    _cleanup_free_ uint8_t *spki = NULL;
    _cleanup_free_ char *text = NULL, *line = NULL;
    const char *name = NULL, *out = NULL;
    size_t spki_len = 0, len;
    bool ssh = false;
    int c, r;

    optind = 0;
    while ((c = getopt_long(argc, argv, ":hf:o:", options, NULL)) >= 0) {
        switch (c) {
        case 'h':
            key_export_usage(stdout);
            return CLI_EXIT_OK;
        case 'f':
            if (streq(optarg, "pem"))
                ssh = false;
            else if (streq(optarg, "ssh"))
                ssh = true;
            else
                return log_usage("key export", "unknown format '%s' (use pem or ssh)", optarg);
            break;
        case 'o':
            if (!*optarg)
                return log_usage("key export", "-o needs a file name");
            out = optarg;
            break;
        default:
            return log_bad_option("key export", c, argv);
        }
    }
    r = take_name("key export", argc, argv, &name);
    if (r != CLI_EXIT_OK)
        return r;

    r = cli_connect(ctx, &client);
    if (r != CLI_EXIT_OK)
        return r;
    r = hwsign_get_public_key(client, name, &spki, &spki_len);
    if (r < 0)
        return log_agent_error(client, r, "cannot get the public key of '%s'", name);

    r = ssh ? spki_to_ssh(spki, spki_len, name, &text) : spki_to_pem(spki, spki_len, &text);
    if (r < 0)
        return log_errno(r, "cannot encode the public key of '%s'", name);
    len = strlen(text);
    if (len == 0 || text[len - 1] != '\n') {
        r = str_join(text, "\n", &line);
        if (r < 0)
            return log_errno(r, "cannot encode the public key of '%s'", name);
        free(text);
        text = TAKE_PTR(line);
        len++;
    }
    r = write_output(out, text, len);
    if (r < 0)
        return log_errno(r, "cannot write the public key to %s",
                         out && !streq(out, "-") ? out : "standard output");
    return CLI_EXIT_OK;
}

static int key_delete(int argc, char *argv[], const struct cli_context *ctx)
{
    static const struct option options[] = {
            {"help", no_argument, NULL, 'h'},
            {"destroy", no_argument, NULL, ARG_DESTROY},
            {"yes", no_argument, NULL, 'y'},
            {},
    };
    _cleanup_(hwsign_disconnectp) struct hwsign_client *client = NULL;
    const char *name = NULL;
    bool destroy = false, yes = false;
    int c, r;

    optind = 0;
    while ((c = getopt_long(argc, argv, ":hy", options, NULL)) >= 0) {
        switch (c) {
        case 'h':
            key_delete_usage(stdout);
            return CLI_EXIT_OK;
        case ARG_DESTROY:
            destroy = true;
            break;
        case 'y':
            yes = true;
            break;
        default:
            return log_bad_option("key delete", c, argv);
        }
    }
    r = take_name("key delete", argc, argv, &name);
    if (r != CLI_EXIT_OK)
        return r;
    if (destroy && !yes)
        return log_usage("key delete", "--destroy deletes the key on the device for good; "
                                       "add --yes to confirm");

    r = cli_connect(ctx, &client);
    if (r != CLI_EXIT_OK)
        return r;
    r = hwsign_key_delete(client, name, destroy);
    if (r < 0)
        return log_agent_error(client, r, "cannot delete key '%s'", name);
    if (destroy)
        printf("Deleted key %s and destroyed it on the device\n", name);
    else
        printf("Deleted key %s\n", name);
    return CLI_EXIT_OK;
}

static const struct cli_command key_commands[] = {
        {"create", key_create},
        {"add", key_add},
        {"list", key_list},
        {"show", key_show},
        {"export", key_export},
        {"delete", key_delete},
        {"ak", key_ak},
        {"attest", key_attest},
        {"verify-attestation", key_verify_attestation},
};

int cmd_key(int argc, char *argv[], const struct cli_context *ctx)
{
    if (argc < 2)
        return log_usage("key", "missing command (create, add, list, show, export, delete, ak, "
                                "attest or verify-attestation)");
    if (streq(argv[1], "-h") || streq(argv[1], "--help")) {
        key_usage(stdout);
        return CLI_EXIT_OK;
    }
    for (size_t i = 0; i < ELEMENTSOF(key_commands); i++)
        if (streq(argv[1], key_commands[i].name))
            return key_commands[i].run(argc - 1, argv + 1, ctx);
    if (argv[1][0] == '-')
        return log_usage("key", "unknown option '%s'", argv[1]);
    return log_usage("key", "unknown command '%s'", argv[1]);
}
