/*
 * fuzz_auth_secret.c -- libFuzzer target for the basic-auth Secret: the
 * bytes an Ingress's auth-secret names, read by the real model.
 *
 * The first byte picks how they arrive (auth-file in stringData, or
 * base64 in data; or auth-map with one key per input line, "user" up to
 * the first '=').  The model must build a table that validates, and the
 * policy's auth secret must hold only "user:hash\n" lines whose user has
 * no ':' or control character -- what the module relies on -- or be
 * empty with the policy DENIED.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <openssl/evp.h>

#include "log.h"
#include "model.h"
#include "store.h"
#include "tbl.h"

#define PREFIX "nginx.ingress.kubernetes.io/"

static cJSON *
parse(const char *text)
{
    cJSON *j = cJSON_Parse(text);

    if (j == NULL)
        abort();
    return j;
}

static void
put(ctl_store *s, cJSON *obj)
{
    const cJSON *meta = cJSON_GetObjectItemCaseSensitive(obj, "metadata");
    const char  *ns = cJSON_GetStringValue(
         cJSON_GetObjectItemCaseSensitive(meta, "namespace"));
    const char *name =
        cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(meta, "name"));

    if (ctl_store_put(s, (ctl_kind)ctl_kind_from_json(obj), ns, name, obj,
                      "fuzz")
        != 0)
        abort();
}

static char *
base64(const uint8_t *data, size_t size)
{
    char *out = malloc(size / 3 * 4 + 8);

    if (out == NULL)
        abort();
    EVP_EncodeBlock((unsigned char *)out, data, (int)size);
    return out;
}

/* The Secret's data or stringData member for the input. */
static cJSON *
secret_members(uint8_t mode, const uint8_t *data, size_t size)
{
    cJSON *m = cJSON_CreateObject();
    char  *text = malloc(size + 1), *line, *save = NULL;

    if (m == NULL || text == NULL)
        abort();
    memcpy(text, data, size);
    text[size] = '\0'; /* a NUL ends the text, as in JSON */
    if (mode == 0) {
        cJSON_AddStringToObject(m, "auth", text);
    } else if (mode == 1) {
        char *b = base64(data, size);

        cJSON_AddStringToObject(m, "auth", b);
        free(b);
    } else {
        for (line = strtok_r(text, "\n", &save); line != NULL;
             line = strtok_r(NULL, "\n", &save))
        {
            char *eq = strchr(line, '=');

            if (eq == NULL)
                continue;
            *eq = '\0';
            if (cJSON_GetObjectItemCaseSensitive(m, line) == NULL)
                cJSON_AddStringToObject(m, line, eq + 1);
        }
    }
    free(text);
    return m;
}

static void
check_lines(const tbl_view *v, const tbl_policy *p)
{
    const uint8_t *b = tbl_view_blob(v, p->auth_secret);
    size_t         n = p->auth_secret.len, start = 0;

    if (n == 0) {
        if (!(p->flags & TBL_POL_DENIED))
            abort();
        return;
    }
    if (b[n - 1] != '\n')
        abort();
    for (size_t i = 0; i < n; i++) {
        if (b[i] != '\n')
            continue;
        const uint8_t *colon = memchr(b + start, ':', i - start);

        if (colon == NULL || colon == b + start || colon + 1 == b + i)
            abort();
        for (const uint8_t *c = b + start; c < colon; c++) {
            if (*c < 0x20 || *c == 0x7f)
                abort();
        }
        start = i + 1;
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ctl_model_config cfg = {0};
    ctl_model_stats  stats;
    ctl_store       *s;
    tbl_builder     *b;
    tbl_view         v;
    uint8_t         *table = NULL;
    size_t           len = 0;
    char             err[256];
    uint8_t          mode;
    cJSON           *secret;

    if (size < 1)
        return 0;
    mode = data[0] % 3;
    ctl_log_set_level(CTL_LOG_ERROR);
    s = ctl_store_new();
    b = tbl_builder_new();
    if (s == NULL || b == NULL)
        abort();
    put(s, parse("{\"apiVersion\":\"networking.k8s.io/v1\",\"kind\":"
                 "\"IngressClass\",\"metadata\":{\"name\":\"shmingress\"},"
                 "\"spec\":{\"controller\":\"shmingress.io/controller\"}}"));
    put(s,
        parse(mode == 2
                  ? "{\"apiVersion\":\"networking.k8s.io/"
                    "v1\",\"kind\":\"Ingress\","
                    "\"metadata\":{\"namespace\":\"default\",\"name\":\"web\","
                    "\"annotations\":{\"" PREFIX
                    "auth-type\":\"basic\",\"" PREFIX
                    "auth-secret\":\"users\",\"" PREFIX "auth-secret-type\":"
                    "\"auth-map\"}},\"spec\":{\"ingressClassName\":"
                    "\"shmingress\","
                    "\"rules\":[{\"host\":\"a.example\",\"http\":{\"paths\":[{"
                    "\"path\":\"/"
                    "\",\"pathType\":\"Prefix\",\"backend\":{\"service\":"
                    "{\"name\":\"a\",\"port\":{\"number\":80}}}}]}}]}}"
                  : "{\"apiVersion\":\"networking.k8s.io/"
                    "v1\",\"kind\":\"Ingress\","
                    "\"metadata\":{\"namespace\":\"default\",\"name\":\"web\","
                    "\"annotations\":{\"" PREFIX
                    "auth-type\":\"basic\",\"" PREFIX
                    "auth-secret\":\"users\"}},\"spec\":{\"ingressClassName\":"
                    "\"shmingress\",\"rules\":[{\"host\":\"a.example\","
                    "\"http\":{"
                    "\"paths\":[{\"path\":\"/"
                    "\",\"pathType\":\"Prefix\",\"backend\":"
                    "{\"service\":{\"name\":\"a\",\"port\":{\"number\":80}}}}]"
                    "}}]}}"));
    secret = parse("{\"apiVersion\":\"v1\",\"kind\":\"Secret\",\"metadata\":"
                   "{\"namespace\":\"default\",\"name\":\"users\"}}");
    cJSON_AddItemToObject(secret, mode == 1 ? "data" : "stringData",
                          secret_members(mode, data + 1, size - 1));
    put(s, secret);

    if (ctl_model_build(s, &cfg, b, &stats) != 0
        || tbl_builder_finish(b, 1, &table, &len, err, sizeof(err)) != 0
        || tbl_view_init(&v, table, len, err, sizeof(err)) != 0)
        abort();
    for (uint32_t i = 0; i < v.policy_count; i++)
        check_lines(&v, &v.policies[i]);
    free(table);
    tbl_builder_free(b);
    ctl_store_free(s);
    return 0;
}
