/*
 * log.c -- the controller's event log: one line per event on stderr.
 *
 * A line is formatted completely in a local buffer and handed to the
 * kernel with a single write(2), so lines from the controller never
 * interleave or sit in a stdio buffer when the process dies.  The default
 * format is key=value pairs; ctl_log_set_json(true) re-encodes the same
 * pairs as one JSON object per line for log collectors.  This file does
 * not rotate, ship or rate-limit logs; callers decide what is worth a line.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

#define LOG_LINE_MAX 4096

static ctl_log_level log_min_level = CTL_LOG_INFO;
static bool log_json;

static const char *const level_names[] = {"debug", "info", "warn", "error"};

void
ctl_log_set_level(ctl_log_level level)
{
    log_min_level = level;
}

void
ctl_log_set_json(bool json)
{
    log_json = json;
}

/* Appends to buf at *len without ever passing cap - 1; a line that does
 * not fit is cut, never dropped. */
static void
put_str(char *buf, size_t cap, size_t *len, const char *s, size_t n)
{
    size_t room = *len < cap - 1 ? cap - 1 - *len : 0;

    if (n > room)
        n = room;
    memcpy(buf + *len, s, n);
    *len += n;
}

static void
put_char(char *buf, size_t cap, size_t *len, char c)
{
    put_str(buf, cap, len, &c, 1);
}

/* RFC 3339 UTC with milliseconds: 2026-11-26T12:00:00.123Z */
static void
format_time(char *out, size_t outlen)
{
    struct timespec ts;
    struct tm tm;
    char date[32];

    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out, outlen, "%.20s.%03dZ", date, (int)(ts.tv_nsec / 1000000));
}

const char *
ctl_log_quote(const char *s, char *buf, size_t buflen)
{
    size_t len = 0;

    if (buflen == 0)
        return buf;
    for (; s != NULL && *s; s++) {
        unsigned char c = (unsigned char)*s;
        char esc[5];
        size_t n;

        if (c == '"' || c == '\\') {
            esc[0] = '\\';
            esc[1] = (char)c;
            n = 2;
        } else if (c == '\n') {
            memcpy(esc, "\\n", 2);
            n = 2;
        } else if (c == '\t') {
            memcpy(esc, "\\t", 2);
            n = 2;
        } else if (c == '\r') {
            memcpy(esc, "\\r", 2);
            n = 2;
        } else if (c < 0x20 || c == 0x7f) {
            snprintf(esc, sizeof(esc), "\\x%02x", c);
            n = 4;
        } else {
            esc[0] = (char)c;
            n = 1;
        }
        if (len + n > buflen - 1)
            break; /* never split an escape sequence */
        memcpy(buf + len, esc, n);
        len += n;
    }
    buf[len] = '\0';
    return buf;
}

/* Writes s as the body of a JSON string. */
static void
put_json_chars(char *buf, size_t cap, size_t *len, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        char esc[8];

        if (c == '"' || c == '\\') {
            put_char(buf, cap, len, '\\');
            put_char(buf, cap, len, (char)c);
        } else if (c < 0x20 || c == 0x7f) {
            snprintf(esc, sizeof(esc), "\\u%04x", c);
            put_str(buf, cap, len, esc, 6);
        } else {
            put_char(buf, cap, len, (char)c);
        }
    }
}

/* Decodes one ctl_log_quote() escape starting after the backslash at
 * *p; returns the byte and advances *p past the escape. */
static char
unquote_escape(const char **p)
{
    const char *s = *p;
    unsigned v;

    switch (*s) {
    case 'n':
        *p = s + 1;
        return '\n';
    case 't':
        *p = s + 1;
        return '\t';
    case 'r':
        *p = s + 1;
        return '\r';
    case 'x':
        if (sscanf(s + 1, "%2x", &v) == 1 && s[1] && s[2]) {
            *p = s + 3;
            return (char)v;
        }
        break;
    case '\0':
        return '\\';
    }
    *p = s + 1;
    return *s;
}

/*
 * Re-encodes "k=v k2=\"quoted v\"" as ,"k":"v","k2":"quoted v".  Values
 * stay strings: the text form carries no types, and collectors index
 * strings fine.  When the line is full, the pairs that did not fit whole
 * are dropped so that the object stays valid JSON.
 */
static void
put_json_pairs(char *buf, size_t cap, size_t *len, const char *kv)
{
    const char *p = kv;
    size_t complete = *len;

    while (*p) {
        const char *key, *eq;

        while (*p == ' ')
            p++;
        if (*p == '\0')
            break;
        key = p;
        eq = p;
        while (*eq && *eq != '=' && *eq != ' ')
            eq++;
        put_str(buf, cap, len, ",\"", 2);
        put_json_chars(buf, cap, len, key, (size_t)(eq - key));
        put_str(buf, cap, len, "\":\"", 3);
        if (*eq != '=') {
            p = eq; /* a bare word: an empty value */
        } else if (eq[1] == '"') {
            p = eq + 2;
            while (*p && *p != '"') {
                char c = *p++;

                if (c == '\\')
                    c = unquote_escape(&p);
                put_json_chars(buf, cap, len, &c, 1);
            }
            if (*p == '"')
                p++;
        } else {
            const char *v = eq + 1;

            p = v;
            while (*p && *p != ' ')
                p++;
            put_json_chars(buf, cap, len, v, (size_t)(p - v));
        }
        put_char(buf, cap, len, '"');
        if (*len >= cap - 1)
            break;
        complete = *len;
    }
    *len = complete;
}

static void
write_line(const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = write(STDERR_FILENO, buf, len);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return; /* nowhere left to report a logging failure */
        buf += n;
        len -= (size_t)n;
    }
}

void
ctl_log(ctl_log_level level, const char *msg, const char *kv_fmt, ...)
{
    char line[LOG_LINE_MAX], kv[LOG_LINE_MAX], ts[40], qmsg[1024];
    size_t len = 0;
    va_list ap;

    if (level < log_min_level)
        return;
    if ((unsigned)level > CTL_LOG_ERROR)
        level = CTL_LOG_ERROR;
    kv[0] = '\0';
    if (kv_fmt != NULL) {
        va_start(ap, kv_fmt);
        vsnprintf(kv, sizeof(kv), kv_fmt, ap);
        va_end(ap);
    }
    format_time(ts, sizeof(ts));

    /* Keep room for the newline: put_* stop at cap - 1. */
    if (log_json) {
        put_str(line, sizeof(line) - 1, &len, "{\"ts\":\"", 7);
        put_str(line, sizeof(line) - 1, &len, ts, strlen(ts));
        put_str(line, sizeof(line) - 1, &len, "\",\"level\":\"", 11);
        put_str(line, sizeof(line) - 1, &len, level_names[level],
                strlen(level_names[level]));
        put_str(line, sizeof(line) - 1, &len, "\",\"msg\":\"", 9);
        put_json_chars(line, sizeof(line) - 1, &len, msg, strlen(msg));
        put_char(line, sizeof(line) - 1, &len, '"');
        put_json_pairs(line, sizeof(line) - 2, &len, kv);
        put_char(line, sizeof(line) - 1, &len, '}');
    } else {
        len = (size_t)snprintf(line, sizeof(line) - 1,
                               "ts=%s level=%s msg=\"%s\"", ts,
                               level_names[level],
                               ctl_log_quote(msg, qmsg, sizeof(qmsg)));
        if (len > sizeof(line) - 2)
            len = sizeof(line) - 2;
        if (kv[0] != '\0') {
            put_char(line, sizeof(line) - 1, &len, ' ');
            put_str(line, sizeof(line) - 1, &len, kv, strlen(kv));
        }
    }
    line[len++] = '\n';
    write_line(line, len);
}
