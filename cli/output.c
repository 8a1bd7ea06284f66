/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fd-util.h"
#include "output.h"

enum cli_exit cli_exit_from_agent_error(int r)
{
    switch (-r) {
    case 0:
        return CLI_EXIT_OK;
    case EACCES:
    case EPERM:
        return CLI_EXIT_REFUSED;
    case EINVAL:
        return CLI_EXIT_USAGE;
    case ENOENT:
    case ECONNREFUSED:
    case ECONNRESET:
    case ECONNABORTED:
    case EPIPE:
    case ENOTCONN:
    case ESHUTDOWN:
    case ENODEV:
    case ENXIO:
    case EUSERS:
    case ETIMEDOUT:
    case EBUSY:
    case EAGAIN:
    case EKEYREJECTED:
    case EKEYREVOKED:
    case EKEYEXPIRED:
        return CLI_EXIT_UNAVAILABLE;
    default:
        return CLI_EXIT_ERROR;
    }
}

/* The agent's explanation is peer-supplied text: keep the error on one line and keep terminal
 * control sequences out of it. */
static void print_line(const char *msg, const char *detail)
{
    char line[2048];
    int n;

    if (detail)
        n = snprintf(line, sizeof(line), "hwsign: %s: %s", msg, detail);
    else
        n = snprintf(line, sizeof(line), "hwsign: %s", msg);
    if (n < 0)
        return;
    if ((size_t)n >= sizeof(line))
        memcpy(line + sizeof(line) - 4, "...", 4);
    for (char *p = line; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            *p = ' ';
    fflush(stdout);
    fprintf(stderr, "%s\n", line);
}

_printf_(3, 0) static void vformat(char *buf, size_t size, const char *fmt, va_list ap)
{
    int n = vsnprintf(buf, size, fmt, ap);

    if (n < 0)
        buf[0] = '\0';
    else if ((size_t)n >= size && size >= 4)
        memcpy(buf + size - 4, "...", 4);
}

void format_message(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vformat(buf, size, fmt, ap);
    va_end(ap);
}

int log_error(enum cli_exit code, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;

    va_start(ap, fmt);
    vformat(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    print_line(msg, NULL);
    return code;
}

int log_errno(int r, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;

    va_start(ap, fmt);
    vformat(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    print_line(msg, strerror(r < 0 ? -r : r));
    return CLI_EXIT_ERROR;
}

int log_agent_error(const struct hwsign_client *c, int r, const char *fmt, ...)
{
    const char *why = c ? hwsign_client_error(c) : NULL;
    char msg[1024];
    va_list ap;

    va_start(ap, fmt);
    vformat(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (!why || !*why)
        why = strerror(r < 0 ? -r : r);
    print_line(msg, why);
    return cli_exit_from_agent_error(r);
}

int log_usage(const char *cmd, const char *fmt, ...)
{
    char msg[1024], line[1536];
    va_list ap;
    int n;

    va_start(ap, fmt);
    vformat(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (cmd)
        n = snprintf(line, sizeof(line), "%s: %s (see 'hwsign %s --help')", cmd, msg, cmd);
    else
        n = snprintf(line, sizeof(line), "%s (see 'hwsign --help')", msg);
    if (n < 0 || (size_t)n >= sizeof(line))
        print_line(msg, NULL);
    else
        print_line(line, NULL);
    return CLI_EXIT_USAGE;
}

int log_bad_option(const char *cmd, int c, char *const argv[])
{
    const char *arg = optind > 0 ? argv[optind - 1] : NULL;
    char name[128];

    /* Name the option as the user typed it: a long option from argv (without "=value"),
     * a short one from optopt (it may sit inside a cluster such as "-jx"). */
    if (arg && strncmp(arg, "--", 2) == 0)
        format_message(name, sizeof(name), "%.*s", (int)MIN(strcspn(arg, "="), 100u), arg);
    else if (optopt > 0x20 && optopt < 0x7f)
        format_message(name, sizeof(name), "-%c", optopt);
    else
        format_message(name, sizeof(name), "%s", arg ? arg : "?");

    if (c == ':')
        return log_usage(cmd, "option '%s' needs an argument", name);
    return log_usage(cmd, "unknown option '%s'", name);
}

int write_output(const char *path, const void *data, size_t len)
{
    if (!path || streq(path, "-")) {
        if (fflush(stdout) != 0)
            return negative_errno();
        return fd_write_all(STDOUT_FILENO, data, len);
    }
    return write_file_atomic(path, data, len, 0644);
}

const char *printable(const char *s, char *buf, size_t size)
{
    size_t i = 0;

    if (size == 0)
        return "";
    for (; s && s[i] && i < size - 1; i++)
        buf[i] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' : s[i];
    buf[i] = '\0';
    return buf;
}

int str_join(const char *a, const char *b, char **ret)
{
    size_t la = strlen(a), lb = strlen(b), n;
    char *s;

    if (!size_add(la, lb, &n) || !size_add(n, 1, &n))
        return -ENOMEM;
    s = malloc(n);
    if (!s)
        return -ENOMEM;
    memcpy(s, a, la);
    memcpy(s + la, b, lb + 1);
    *ret = s;
    return 0;
}

int format_timestamp(uint64_t t, char *buf, size_t size)
{
    time_t tt = (time_t)t;
    struct tm tm;

    if ((uint64_t)tt != t || tt < 0)
        return -ERANGE;
    if (!gmtime_r(&tt, &tm))
        return -ERANGE;
    if (strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        return -EINVAL;
    return 0;
}

int json_add(struct json_object *o, const char *key, struct json_object *val)
{
    if (json_object_object_add(o, key, val) < 0) {
        json_object_put(val);
        return -ENOMEM;
    }
    return 0;
}

int json_add_string(struct json_object *o, const char *key, const char *val)
{
    struct json_object *v = NULL;

    if (val) {
        v = json_object_new_string(val);
        if (!v)
            return -ENOMEM;
    }
    return json_add(o, key, v);
}

int json_add_u64(struct json_object *o, const char *key, uint64_t val)
{
    struct json_object *v = json_object_new_uint64(val);

    if (!v)
        return -ENOMEM;
    return json_add(o, key, v);
}

int json_add_bool(struct json_object *o, const char *key, bool val)
{
    struct json_object *v = json_object_new_boolean(val);

    if (!v)
        return -ENOMEM;
    return json_add(o, key, v);
}

int json_add_csv(struct json_object *o, const char *key, const char *csv)
{
    _cleanup_(json_object_putp) struct json_object *a = json_object_new_array();
    const char *p = csv ? csv : "";

    if (!a)
        return -ENOMEM;
    while (*p) {
        size_t n = strcspn(p, ",");

        if (n > 0) {
            struct json_object *s = json_object_new_string_len(p, (int)MIN(n, (size_t)INT32_MAX));

            if (!s)
                return -ENOMEM;
            if (json_object_array_add(a, s) < 0) {
                json_object_put(s);
                return -ENOMEM;
            }
        }
        p += n;
        if (*p == ',')
            p++;
    }
    return json_add(o, key, TAKE_PTR(a));
}

int json_print(struct json_object *o)
{
    const char *s = json_object_to_json_string_ext(
            o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE);

    if (!s)
        return -ENOMEM;
    if (fputs(s, stdout) == EOF || fputc('\n', stdout) == EOF)
        return -EIO;
    return 0;
}
