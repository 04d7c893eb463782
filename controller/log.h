/*
 * log.h -- one line per event on stderr, as key=value pairs:
 *   ts=2026-11-26T12:00:00.123Z level=warn msg="ingress skipped" \
 *     object=default/web field=spec.rules[0].http.paths[1].path value="foo"
 * ctl_log takes the message and then a printf format for the pairs, so
 * callers write the keys themselves; ctl_log_quote() makes a value safe to
 * print between double quotes.  Secrets, tokens and keys are never passed
 * here.
 */
#ifndef SHMINGRESS_CTL_LOG_H
#define SHMINGRESS_CTL_LOG_H

#include <stdbool.h>
#include <stddef.h>

typedef enum {
    CTL_LOG_DEBUG = 0,
    CTL_LOG_INFO,
    CTL_LOG_WARN,
    CTL_LOG_ERROR
} ctl_log_level;

void ctl_log_set_level(ctl_log_level level);

/*
 * Switches every later line to one JSON object with string values:
 *   {"ts":"...","level":"warn","msg":"ingress skipped","object":"default/web"}
 * The pairs are the same; only the encoding changes.
 */
void ctl_log_set_json(bool json);

void ctl_log(ctl_log_level level, const char *msg, const char *kv_fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * Escapes s for use inside a quoted value (", \ and control characters),
 * truncating to fit; returns buf.
 */
const char *ctl_log_quote(const char *s, char *buf, size_t buflen);

#endif
