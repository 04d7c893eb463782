/*
 * test_config.c -- kubeconfig and in-cluster configuration: inline data
 * decoded, files resolved against the kubeconfig's folder, tokenFile,
 * insecure and tls-server-name, the errors a user gets for a broken
 * kubeconfig, the service account directory, and base64 itself.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kube_config.h"

/* "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n" */
#define CA_PEM "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
#define CA_B64                                                              \
    "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSUIKLS0tLS1FTkQgQ0VSVElGSUNB" \
    "VEUtLS0tLQo="
#define KEY_PEM "-----BEGIN PRIVATE KEY-----\nk\n-----END PRIVATE KEY-----\n"
#define KEY_B64                                                             \
    "LS0tLS1CRUdJTiBQUklWQVRFIEtFWS0tLS0tCmsKLS0tLS1FTkQgUFJJVkFURSBLRVkt" \
    "LS0tLQo="

static char dir[256];

static int
setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof(dir), "/tmp/kube-config-test-XXXXXX");
    return mkdtemp(dir) == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
    char cmd[300];

    (void)state;
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static const char *
write_file(const char *name, const char *text)
{
    static char path[512];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    return path;
}

/* Loads a kubeconfig text; returns the rc and leaves the error in err. */
static int
load(const char *text, kube_config *cfg, char *err, size_t errlen)
{
    char path[512];

    snprintf(path, sizeof(path), "%s", write_file("kubeconfig", text));
    err[0] = '\0';
    return kube_config_from_kubeconfig(cfg, path, err, errlen);
}

#define KC_HEAD                                                             \
    "apiVersion: v1\nkind: Config\ncurrent-context: ctx\n"                  \
    "contexts:\n- name: other\n  context: {cluster: nope, user: nope}\n"    \
    "- name: ctx\n  context:\n    cluster: c1\n    user: u1\n"              \
    "    namespace: shop\n"

static void
test_inline_data(void **state)
{
    kube_config cfg;
    char err[512];

    (void)state;
    assert_int_equal(
        load(KC_HEAD
             "clusters:\n- name: c1\n  cluster:\n"
             "    server: https://10.0.0.1:6443/\n"
             "    certificate-authority-data: " CA_B64 "\n"
             "users:\n- name: u1\n  user:\n"
             "    client-certificate-data: " CA_B64 "\n"
             "    client-key-data: " KEY_B64 "\n"
             "    token: abc.def\n",
             &cfg, err, sizeof(err)),
        0);
    assert_string_equal(cfg.server, "https://10.0.0.1:6443");
    assert_false(cfg.insecure);
    assert_null(cfg.ca_file);
    assert_int_equal(cfg.ca_pem_len, strlen(CA_PEM));
    assert_memory_equal(cfg.ca_pem, CA_PEM, cfg.ca_pem_len);
    assert_memory_equal(cfg.cert_pem, CA_PEM, cfg.cert_pem_len);
    assert_int_equal(cfg.key_pem_len, strlen(KEY_PEM));
    assert_memory_equal(cfg.key_pem, KEY_PEM, cfg.key_pem_len);
    assert_string_equal(cfg.token, "abc.def");
    assert_null(cfg.token_file);
    assert_string_equal(cfg.namespace_, "shop");
    assert_non_null(strstr(cfg.source, "kubeconfig"));
    kube_config_clear(&cfg);
}

static void
test_files_relative_to_kubeconfig(void **state)
{
    kube_config cfg;
    char err[512], want[600];
    char *tok;

    (void)state;
    write_file("token", "s3cr3t-token\n\n");
    assert_int_equal(
        load(KC_HEAD
             "clusters:\n- name: c1\n  cluster:\n"
             "    server: https://[fd00::1]:443\n"
             "    certificate-authority: ca.crt\n"
             "    tls-server-name: kubernetes.default.svc\n"
             "users:\n- name: u1\n  user:\n"
             "    tokenFile: token\n"
             "    client-certificate: /etc/client.crt\n"
             "    client-key: keys/client.key\n",
             &cfg, err, sizeof(err)),
        0);
    snprintf(want, sizeof(want), "%s/ca.crt", dir);
    assert_string_equal(cfg.ca_file, want);
    assert_null(cfg.ca_pem);
    assert_string_equal(cfg.tls_server_name, "kubernetes.default.svc");
    assert_string_equal(cfg.server, "https://[fd00::1]:443");
    snprintf(want, sizeof(want), "%s/token", dir);
    assert_string_equal(cfg.token_file, want);
    assert_string_equal(cfg.cert_file, "/etc/client.crt");
    snprintf(want, sizeof(want), "%s/keys/client.key", dir);
    assert_string_equal(cfg.key_file, want);
    tok = kube_config_read_token(cfg.token_file, err, sizeof(err));
    assert_non_null(tok);
    assert_string_equal(tok, "s3cr3t-token");
    free(tok);
    kube_config_clear(&cfg);
}

static void
test_insecure_and_no_user(void **state)
{
    kube_config cfg;
    char err[512];

    (void)state;
    assert_int_equal(load("current-context: x\n"
                          "contexts: [{name: x, context: {cluster: c}}]\n"
                          "clusters:\n- name: c\n  cluster:\n"
                          "    server: http://127.0.0.1:8080\n"
                          "    insecure-skip-tls-verify: true\n",
                          &cfg, err, sizeof(err)),
                     0);
    assert_true(cfg.insecure);
    assert_null(cfg.token);
    assert_null(cfg.token_file);
    assert_null(cfg.namespace_);
    kube_config_clear(&cfg);
}

/* Each broken kubeconfig names the field that is wrong. */
static void
test_errors(void **state)
{
    static const struct {
        const char *text;
        const char *message;
    } cases[] = {
        {"apiVersion: v1\nclusters: []\n", "current-context is not set"},
        {"current-context: \"\"\n", "current-context is not set"},
        {"current-context: gone\ncontexts: []\n",
         "current-context \"gone\" is not in contexts"},
        {KC_HEAD "clusters: []\n", "cluster \"c1\" (named by the current "
                                   "context) is not in clusters"},
        {KC_HEAD "clusters: [{name: c1, cluster: {}}]\n",
         "clusters[name=c1].cluster.server is missing"},
        {KC_HEAD "clusters: [{name: c1, cluster: {server: ftp://x}}]\n",
         "server \"ftp://x\" is not an http:// or https:// URL"},
        {KC_HEAD "clusters: [{name: c1, cluster: {server: 'https://x', "
                 "insecure-skip-tls-verify: yes}}]\n",
         "insecure-skip-tls-verify is not true or false"},
        {KC_HEAD "clusters: [{name: c1, cluster: {server: 'https://x', "
                 "certificate-authority-data: '!!notbase64'}}]\n",
         "clusters[name=c1].cluster.certificate-authority-data is not valid "
         "base64"},
        {KC_HEAD "clusters: [{name: c1, cluster: {server: 'https://x'}}]\n"
                 "users: []\n",
         "user \"u1\" (named by the current context) is not in users"},
        {KC_HEAD "clusters: [{name: c1, cluster: {server: 'https://x'}}]\n"
                 "users: [{name: u1, user: {exec: {command: aws}}}]\n",
         "users[name=u1].user.exec is not supported"},
        {KC_HEAD "clusters: [{name: c1, cluster: {server: 'https://x'}}]\n"
                 "users: [{name: u1, user: {client-certificate: a.crt}}]\n",
         "client certificate without a key"},
        {KC_HEAD "clusters: [{name: c1, cluster: {server: 'https://x'}}]\n"
                 "users: [{name: u1, user: {token: 42}}]\n",
         "users[name=u1].user.token is not a non-empty string"},
        {"current-context: [unclosed\n", "line"},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        kube_config cfg;
        char err[512];

        assert_int_equal(load(cases[i].text, &cfg, err, sizeof(err)), -1);
        if (strstr(err, cases[i].message) == NULL)
            fail_msg("case %zu: \"%s\" does not contain \"%s\"", i, err,
                     cases[i].message);
        assert_non_null(strstr(err, "kubeconfig \""));
        assert_null(cfg.server);
    }
}

/* The token itself never appears in an error. */
static void
test_token_file_errors(void **state)
{
    char err[512];
    char path[512];

    (void)state;
    snprintf(path, sizeof(path), "%s", write_file("empty", " \n"));
    assert_null(kube_config_read_token(path, err, sizeof(err)));
    assert_non_null(strstr(err, "empty"));
    snprintf(path, sizeof(path), "%s", write_file("two", "tok-one\ntok-two\n"));
    assert_null(kube_config_read_token(path, err, sizeof(err)));
    assert_non_null(strstr(err, "more than one line"));
    assert_null(strstr(err, "tok-"));
    assert_null(kube_config_read_token("/nonexistent/token", err,
                                       sizeof(err)));
    assert_non_null(strstr(err, "/nonexistent/token"));
}

static void
test_in_cluster(void **state)
{
    kube_config cfg;
    char err[512], want[600];

    (void)state;
    write_file("token", "sa-token\n");
    write_file("ca.crt", CA_PEM);
    write_file("namespace", "ingress\n");
    setenv(KUBE_SERVICEACCOUNT_ENV, dir, 1);
    setenv("KUBERNETES_SERVICE_HOST", "fd00:10:96::1", 1);
    setenv("KUBERNETES_SERVICE_PORT", "443", 1);
    unsetenv("KUBECONFIG");
    assert_int_equal(kube_config_load(&cfg, NULL, err, sizeof(err)), 0);
    assert_string_equal(cfg.source, "in-cluster");
    assert_string_equal(cfg.server, "https://[fd00:10:96::1]:443");
    snprintf(want, sizeof(want), "%s/token", dir);
    assert_string_equal(cfg.token_file, want);
    snprintf(want, sizeof(want), "%s/ca.crt", dir);
    assert_string_equal(cfg.ca_file, want);
    assert_string_equal(cfg.namespace_, "ingress");
    kube_config_clear(&cfg);

    setenv("KUBERNETES_SERVICE_HOST", "10.96.0.1", 1);
    assert_int_equal(kube_config_in_cluster(&cfg, err, sizeof(err)), 0);
    assert_string_equal(cfg.server, "https://10.96.0.1:443");
    kube_config_clear(&cfg);

    setenv("KUBERNETES_SERVICE_PORT", "https", 1);
    assert_int_equal(kube_config_in_cluster(&cfg, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "KUBERNETES_SERVICE_PORT \"https\""));

    unsetenv("KUBERNETES_SERVICE_HOST");
    assert_int_equal(kube_config_load(&cfg, NULL, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "KUBERNETES_SERVICE_HOST"));
    unsetenv(KUBE_SERVICEACCOUNT_ENV);
    unsetenv("KUBERNETES_SERVICE_PORT");
}

/* $KUBECONFIG: the first of its paths; --kubeconfig wins over it. */
static void
test_kubeconfig_env(void **state)
{
    kube_config cfg;
    char err[512], env[1200], first[512];

    (void)state;
    snprintf(first, sizeof(first), "%s",
             write_file("first", "current-context: a\n"
                                 "contexts: [{name: a, context: {cluster: a}}]\n"
                                 "clusters: [{name: a, cluster: "
                                 "{server: 'https://first:1'}}]\n"));
    snprintf(env, sizeof(env), "%s:/nonexistent/second", first);
    setenv("KUBECONFIG", env, 1);
    assert_int_equal(kube_config_load(&cfg, NULL, err, sizeof(err)), 0);
    assert_string_equal(cfg.server, "https://first:1");
    kube_config_clear(&cfg);
    assert_int_equal(kube_config_load(&cfg, "/nonexistent/flag", err,
                                      sizeof(err)), -1);
    assert_non_null(strstr(err, "/nonexistent/flag"));
    unsetenv("KUBECONFIG");
}

static void
test_base64(void **state)
{
    static const struct {
        const char *in;
        const char *out; /* NULL: refused */
    } cases[] = {
        {"", ""},
        {"YQ==", "a"},
        {"YQ", "a"},
        {"YWI=", "ab"},
        {"YWI", "ab"},
        {"YWJj", "abc"},
        {"YW Jj\nZA\r\n==", "abcd"},
        {"Y", NULL},
        {"YQ===", NULL},
        {"YQ=x", NULL},
        {"Y=Q=", NULL},
        {"YW-j", NULL},
        {"YW_j", NULL},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        size_t n = 0;
        char *out = kube_base64_decode(cases[i].in, strlen(cases[i].in), &n);

        if (cases[i].out == NULL) {
            if (out != NULL)
                fail_msg("case %zu \"%s\" decoded", i, cases[i].in);
            continue;
        }
        assert_non_null(out);
        assert_int_equal(n, strlen(cases[i].out));
        assert_memory_equal(out, cases[i].out, n);
        free(out);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_inline_data, setup, teardown),
        cmocka_unit_test_setup_teardown(test_files_relative_to_kubeconfig,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_insecure_and_no_user, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_token_file_errors, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_in_cluster, setup, teardown),
        cmocka_unit_test_setup_teardown(test_kubeconfig_env, setup, teardown),
        cmocka_unit_test(test_base64),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
