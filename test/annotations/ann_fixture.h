/*
 * ann_fixture.h -- runs the annotation registry over an annotations
 * object written as single-quoted JSON, and keeps the warnings it gave,
 * one "key: reason" line each.
 */
#ifndef SHMINGRESS_TEST_ANN_FIXTURE_H
#define SHMINGRESS_TEST_ANN_FIXTURE_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "registry.h"

/* The two annotation prefixes, to write keys in the JSON strings. */
#define NG "nginx.ingress.kubernetes.io/"
#define SH "shmingress.io/"

typedef struct {
    ctl_annotations a;
    ctl_ann_error   e;
    ctl_ann_result  rc;
    char            warnings[2048];
    char            debug[2048];
} ann_fx;

/* Parses with the compatibility prefix nginx.ingress.kubernetes.io. */
void ann_parse(ann_fx *f, const char *single_quoted_json);
void ann_fx_free(ann_fx *f);

/* Asserts that the annotations are rejected, naming a key that contains
 * key_part with a reason that contains reason_part. */
void ann_expect_invalid(const char *single_quoted_json, const char *key_part,
                        const char *reason_part);

#endif
