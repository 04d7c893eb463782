/*
 * ann_fixture.c -- see ann_fixture.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ann_fixture.h"

static void
append(char *buf, size_t size, const char *key, const char *reason)
{
    size_t n = strlen(buf);

    snprintf(buf + n, size - n, "%s: %s\n", key, reason);
}

static void
on_warn(void *ctx, const char *key, const char *reason)
{
    ann_fx *f = ctx;

    append(f->warnings, sizeof(f->warnings), key, reason);
}

static void
on_debug(void *ctx, const char *key, const char *reason)
{
    ann_fx *f = ctx;

    append(f->debug, sizeof(f->debug), key, reason);
}

void
ann_parse(ann_fx *f, const char *single_quoted_json)
{
    static const char prefix[] = "nginx.ingress.kubernetes.io";
    char *text = strdup(single_quoted_json);
    cJSON *json;

    assert_non_null(text);
    for (char *p = text; *p; p++) {
        if (*p == '\'')
            *p = '"';
    }
    json = cJSON_Parse(text);
    free(text);
    assert_non_null(json);
    memset(f, 0, sizeof(*f));
    f->rc = ctl_annotations_parse(json, prefix, sizeof(prefix) - 1, &f->a,
                                  on_warn, on_debug, f, &f->e);
    cJSON_Delete(json);
}

void
ann_fx_free(ann_fx *f)
{
    ctl_annotations_free(&f->a);
}

void
ann_expect_invalid(const char *single_quoted_json, const char *key_part,
                   const char *reason_part)
{
    ann_fx f;

    ann_parse(&f, single_quoted_json);
    assert_int_equal(f.rc, CTL_ANN_INVALID);
    if (strstr(f.e.key, key_part) == NULL)
        fail_msg("key \"%s\" is not \"%s\"", f.e.key, key_part);
    if (strstr(f.e.reason, reason_part) == NULL)
        fail_msg("reason \"%s\" lacks \"%s\"", f.e.reason, reason_part);
    ann_fx_free(&f);
}
