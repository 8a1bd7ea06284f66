/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hwsign: command-line client of hwsign-agent. main() parses the global options and
 * dispatches to a command group from the table below; each group lives in its own cmd-*.c.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "main.h"
#include "output.h"

static const struct cli_command commands[] = {
        {"key", cmd_key},
        {"sign", cmd_sign},
        {"attest-blob", cmd_attest_blob},
        {"attest", cmd_attest},
        {"verify", cmd_verify},
        {"status", cmd_status},
        {"log", cmd_log},
        {"sign-model", cmd_sign_model},
        {"verify-model", cmd_verify_model},
        {"sbom", cmd_sbom},
};

static void usage(FILE *f)
{
    fputs("Usage: hwsign [--socket PATH] COMMAND [ARGS...]\n"
          "       hwsign --help | --version\n"
          "\n"
          "Sign files with keys held by hwsign-agent in a TPM or PKCS#11 token, and verify\n"
          "signatures offline.\n"
          "\n"
          "Commands:\n"
          "  key create NAME [--backend INSTANCE] [--alg ALG]   create a key in a backend\n"
          "  key add NAME --uri URI [--backend INSTANCE]        register an existing HSM key\n"
          "  key list                                           list the keys\n"
          "  key show NAME                                      show a key and its public key\n"
          "  key export NAME [--format pem|ssh] [-o FILE]       export the public key\n"
          "  key delete NAME [--destroy --yes]                  remove a key\n"
          "  key ak [-o AK.pem]                                 TPM attestation key (public)\n"
          "  key attest NAME [-o PROOF.json]                    TPM2_Certify proof of a TPM key\n"
          "  key verify-attestation --ak AK.pem --key PUB.pem PROOF.json\n"
          "                                                     verify that proof offline\n"
          "  sign --key NAME [-o SIG] [--bundle OUT] FILE       sign FILE (cosign-compatible\n"
          "                                                     signature, Sigstore bundle)\n"
          "  attest --key NAME --product PATH... [--material PATH]... [--quote] -- COMMAND...\n"
          "                                                     run a build, sign SLSA\n"
          "                                                     provenance the agent measured\n"
          "  attest-blob --key NAME --type URI --predicate JSON --subject FILE... -o OUT\n"
          "                                                     in-toto attestation (DSSE,\n"
          "                                                     Sigstore bundle)\n"
          "  verify --key PUB.pem --signature SIG FILE          verify offline, without agent\n"
          "  verify --key PUB.pem --bundle BUNDLE [FILE]        verify a bundle or DSSE envelope\n"
          "  sign-model --key NAME [-o SIG] [--ignore PATH]... [--shard-size N] DIR\n"
          "                                                     sign an ML model directory\n"
          "                                                     (OpenSSF model signing)\n"
          "  verify-model --key PUB.pem [--signature SIG] [--ignore-unsigned-files] DIR\n"
          "                                                     verify it offline, naming each\n"
          "                                                     modified/missing/extra file\n"
          "  sbom [--format cyclonedx|spdx] [--root DIR] [--model DIR]... [--artifact FILE]...\n"
          "       [-o OUT [--key NAME]]                         inventory packages, artifacts,\n"
          "                                                     models as CycloneDX/SPDX; sign\n"
          "  verify --key PUB.pem --bundle B --sbom SBOM [FILE] check a signed SBOM and that it\n"
          "                                                     records FILE's SHA-256\n"
          "  status                                             agent and backend health\n"
          "  log verify [--log FILE] [--expect-size N --expect-root B64]\n"
          "                                                     verify the signing log offline\n"
          "  log verify [--log FILE] --checkpoint FILE --log-key LOG.pem\n"
          "                                                     ... against a signed checkpoint\n"
          "  log search [--log FILE] [--key NAME] [--uid UID] [--since TIME] [--until TIME]\n"
          "             [--subject SHA256]                      list signing log records\n"
          "  log proof INDEX [--size N] [--log FILE]            RFC 6962 inclusion proof\n"
          "  log consistency OLD NEW [--log FILE]               RFC 6962 consistency proof\n"
          "  log checkpoint [--new] [--verify-key LOG.pem]      the agent's signed checkpoint\n"
          "  log verify-proof --log-key LOG.pem --checkpoint FILE --index I --leaf-hash HASH\n"
          "                   --proof PROOF.json                check a proof without the log\n"
          "  log trusted-root --log-key LOG.pem --origin ORIGIN  Sigstore trusted root for the "
          "log\n"
          "Most commands take --json for one machine-readable JSON document on stdout.\n"
          "Run 'hwsign COMMAND --help' for the options of a command.\n"
          "\n"
          "Options:\n"
          "  --socket PATH   agent socket; default $HWSIGN_AGENT_SOCK, else\n"
          "                  $XDG_RUNTIME_DIR/hwsign/agent.sock for non-root users when set,\n"
          "                  else /run/hwsign/agent.sock\n"
          "  -h, --help      show this help\n"
          "  --version       show the version\n"
          "\n"
          "Exit status:\n"
          "  0  success\n"
          "  1  signature verification failed, or the agent refused the request (policy,\n"
          "     permission); log: the log is damaged, rolled back or does not match the saved\n"
          "     checkpoint, or a checkpoint signature or proof does not verify\n"
          "  2  usage error: unknown command or option, missing or invalid argument\n"
          "  3  agent or hardware unavailable: no agent at the socket, connection lost,\n"
          "     agent stopping or at a limit, backend or device unavailable or busy, PIN\n"
          "     rejected or locked\n"
          "  4  other errors: no such key, name already in use, unsupported algorithm, local\n"
          "     file I/O, malformed agent reply, internal agent error\n",
          f);
}

int cli_connect(const struct cli_context *ctx, struct hwsign_client **ret)
{
    const char *path = ctx->socket ? ctx->socket : hwsign_default_socket();
    int r;

    r = hwsign_connect(path, ret);
    if (r == -ENOENT || r == -ECONNREFUSED) {
        return log_error(CLI_EXIT_UNAVAILABLE,
                         "cannot connect to the agent at %s: %s (is hwsign-agent running?)", path,
                         strerror(-r));
    }
    if (r < 0) {
        log_errno(r, "cannot connect to the agent at %s", path);
        if (r == -EACCES || r == -EPERM)
            return CLI_EXIT_REFUSED;
        if (r == -EINVAL || r == -ENAMETOOLONG) /* not a usable socket path */
            return CLI_EXIT_USAGE;
        return r == -ENOMEM ? CLI_EXIT_ERROR : CLI_EXIT_UNAVAILABLE;
    }
    return CLI_EXIT_OK;
}

static int run(int argc, char *argv[])
{
    enum { ARG_VERSION = 0x100, ARG_SOCKET };
    static const struct option options[] = {
            {"help", no_argument, NULL, 'h'},
            {"version", no_argument, NULL, ARG_VERSION},
            {"socket", required_argument, NULL, ARG_SOCKET},
            {},
    };
    struct cli_context ctx = {};
    int c;

    opterr = 0;
    /* '+': stop at the command name; everything after it belongs to the command. */
    while ((c = getopt_long(argc, argv, "+:h", options, NULL)) >= 0) {
        switch (c) {
        case 'h':
            usage(stdout);
            return CLI_EXIT_OK;
        case ARG_VERSION:
            printf("hwsign %s\n", HWSIGN_VERSION);
            return CLI_EXIT_OK;
        case ARG_SOCKET:
            if (!*optarg)
                return log_usage(NULL, "--socket needs a path");
            ctx.socket = optarg;
            break;
        default:
            return log_bad_option(NULL, c, argv);
        }
    }

    if (optind >= argc)
        return log_usage(NULL, "missing command");
    for (size_t i = 0; i < ELEMENTSOF(commands); i++)
        if (streq(argv[optind], commands[i].name))
            return commands[i].run(argc - optind, argv + optind, &ctx);
    return log_usage(NULL, "unknown command '%s'", argv[optind]);
}

int main(int argc, char *argv[])
{
    int r = run(argc, argv);

    /* Output that never reached stdout (full disk, closed pipe) is an error too. */
    if (fflush(stdout) != 0 || ferror(stdout)) {
        log_errno(errno ? -errno : -EIO, "cannot write to standard output");
        if (r == CLI_EXIT_OK)
            r = CLI_EXIT_ERROR;
    }
    return r;
}
