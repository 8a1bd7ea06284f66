/* SPDX-License-Identifier: Apache-2.0 */
/* hwsign status: agent version, uptime, counters and the health of each backend. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "main.h"
#include "output.h"

static void status_usage(FILE *f)
{
    fputs("Usage: hwsign status [--json]\n"
          "\n"
          "Show the agent's version, uptime, number of keys and connections, and the state of\n"
          "each configured backend (ok, unavailable, pin-rejected, locked-out).\n"
          "Exits 3 if no agent answers at the socket.\n"
          "\n"
          "Options:\n"
          "  --json       print one JSON object: version, uptime_seconds, keys, connections,\n"
          "               backends[] {name, kind, state, detail}\n"
          "  -h, --help   show this help\n",
          f);
}

static const char *backend_state_name(enum hwsign_backend_state s)
{
    switch (s) {
    case HWSIGN_BACKEND_OK:
        return "ok";
    case HWSIGN_BACKEND_UNAVAILABLE:
        return "unavailable";
    case HWSIGN_BACKEND_PIN_REJECTED:
        return "pin-rejected";
    case HWSIGN_BACKEND_LOCKED_OUT:
        return "locked-out";
    }
    return "unknown";
}

static const char *strempty(const char *s)
{
    return s ? s : "";
}

static void format_uptime(uint64_t s, char *buf, size_t size)
{
    uint64_t d = s / 86400, h = s / 3600 % 24, m = s / 60 % 60, sec = s % 60;

    if (d > 0)
        format_message(buf, size, "%" PRIu64 "d %" PRIu64 "h %" PRIu64 "m", d, h, m);
    else if (h > 0)
        format_message(buf, size, "%" PRIu64 "h %" PRIu64 "m %" PRIu64 "s", h, m, sec);
    else if (m > 0)
        format_message(buf, size, "%" PRIu64 "m %" PRIu64 "s", m, sec);
    else
        format_message(buf, size, "%" PRIu64 "s", sec);
}

static int status_to_json(const struct hwsign_status *st, struct json_object **ret)
{
    _cleanup_(json_object_putp) struct json_object *o = json_object_new_object();
    _cleanup_(json_object_putp) struct json_object *a = json_object_new_array();
    int r;

    if (!o || !a)
        return -ENOMEM;
    if ((r = json_add_string(o, "version", st->version)) < 0 ||
        (r = json_add_u64(o, "uptime_seconds", st->uptime_s)) < 0 ||
        (r = json_add_u64(o, "keys", st->nkeys)) < 0 ||
        (r = json_add_u64(o, "connections", st->nconnections)) < 0)
        return r;
    for (size_t i = 0; i < st->nbackends; i++) {
        const struct hwsign_backend_status *b = &st->backends[i];
        _cleanup_(json_object_putp) struct json_object *e = json_object_new_object();

        if (!e)
            return -ENOMEM;
        if ((r = json_add_string(e, "name", b->name)) < 0 ||
            (r = json_add_string(e, "kind", b->kind)) < 0 ||
            (r = json_add_string(e, "state", backend_state_name(b->state))) < 0 ||
            (r = json_add_string(e, "detail", strempty(b->detail))) < 0)
            return r;
        if (json_object_array_add(a, e) < 0)
            return -ENOMEM;
        e = NULL;
    }
    if ((r = json_add(o, "backends", TAKE_PTR(a))) < 0)
        return r;
    *ret = TAKE_PTR(o);
    return 0;
}

static void status_print(const struct hwsign_status *st)
{
    int wname = (int)strlen("NAME"), wkind = (int)strlen("KIND"), wstate = (int)strlen("STATE");
    char uptime[64];

    format_uptime(st->uptime_s, uptime, sizeof(uptime));
    printf("agent:        hwsign-agent %s\n", PRINTABLE(st->version));
    printf("uptime:       %s\n", uptime);
    printf("keys:         %" PRIu32 "\n", st->nkeys);
    printf("connections:  %" PRIu32 "\n", st->nconnections);
    if (st->nbackends == 0) {
        printf("backends:     (none configured)\n");
        return;
    }
    for (size_t i = 0; i < st->nbackends; i++) {
        const struct hwsign_backend_status *b = &st->backends[i];

        wname = MAX(wname, (int)MIN(strlen(strempty(b->name)), 64u));
        wkind = MAX(wkind, (int)MIN(strlen(strempty(b->kind)), 64u));
        wstate = MAX(wstate, (int)strlen(backend_state_name(b->state)));
    }
    printf("backends:\n  %-*s  %-*s  %-*s  %s\n", wname, "NAME", wkind, "KIND", wstate, "STATE",
           "DETAIL");
    for (size_t i = 0; i < st->nbackends; i++) {
        const struct hwsign_backend_status *b = &st->backends[i];

        printf("  %-*s  %-*s  %-*s  %s\n", wname, PRINTABLE(b->name), wkind, PRINTABLE(b->kind),
               wstate, backend_state_name(b->state), PRINTABLE(b->detail));
    }
}

int cmd_status(int argc, char *argv[], const struct cli_context *ctx)
{
    enum { ARG_JSON = 0x100 };
    static const struct option options[] = {
            {"help", no_argument, NULL, 'h'},
            {"json", no_argument, NULL, ARG_JSON},
            {},
    };
    _cleanup_(hwsign_disconnectp) struct hwsign_client *client = NULL;
    _cleanup_(hwsign_status_freep) struct hwsign_status *st = NULL;
    bool json = false;
    int c, r;

    optind = 0;
    while ((c = getopt_long(argc, argv, ":h", options, NULL)) >= 0) {
        switch (c) {
        case 'h':
            status_usage(stdout);
            return CLI_EXIT_OK;
        case ARG_JSON:
            json = true;
            break;
        default:
            return log_bad_option("status", c, argv);
        }
    }
    if (optind < argc)
        return log_usage("status", "unexpected argument '%s'", argv[optind]);

    r = cli_connect(ctx, &client);
    if (r != CLI_EXIT_OK)
        return r;
    r = hwsign_status(client, &st);
    if (r < 0)
        return log_agent_error(client, r, "cannot get the agent status");

    if (json) {
        _cleanup_(json_object_putp) struct json_object *o = NULL;

        r = status_to_json(st, &o);
        if (r >= 0)
            r = json_print(o);
        return r < 0 ? log_errno(r, "cannot print the status") : CLI_EXIT_OK;
    }
    status_print(st);
    return CLI_EXIT_OK;
}
