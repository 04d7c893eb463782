/*
 * kube_config.h -- where the Kubernetes API server is and how to talk to
 * it: server URL, TLS trust, client credentials.
 *
 * Two sources, chosen the way ingress-nginx chooses: a kubeconfig file
 * (--kubeconfig, else the first path in $KUBECONFIG) or, without one, the
 * in-cluster service account (KUBERNETES_SERVICE_HOST/_PORT and the files
 * under /var/run/secrets/kubernetes.io/serviceaccount, a directory that
 * $SHMINGRESS_SERVICEACCOUNT_DIR replaces for tests).  Kubeconfig support
 * is the minimal useful set: current-context, the cluster's server,
 * certificate-authority(-data), insecure-skip-tls-verify and
 * tls-server-name, the user's token, tokenFile and client certificate
 * and key (file or -data).  Credential plugins (exec, auth-provider) and
 * basic auth are refused with a clear error rather than ignored.
 *
 * Inline "-data" fields are base64-decoded into memory and handed to curl
 * as blobs; nothing secret is written to disk or logged.  This file does
 * no networking; a token file is only read by kube_config_read_token.
 */
#ifndef SHMINGRESS_KUBE_CONFIG_H
#define SHMINGRESS_KUBE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#define KUBE_SERVICEACCOUNT_DIR "/var/run/secrets/kubernetes.io/serviceaccount"
#define KUBE_SERVICEACCOUNT_ENV "SHMINGRESS_SERVICEACCOUNT_DIR"
#define KUBE_MAX_CONFIG_FILE    (4u << 20) /* kubeconfig, PEM, token   */

typedef struct {
    char  *source;          /* "kubeconfig /path" or "in-cluster", for logs */
    char  *server;          /* "https://host:port[/prefix]", no final '/' */
    bool   insecure;        /* insecure-skip-tls-verify                   */
    char  *tls_server_name; /* name to verify and send as SNI, or NULL    */
    char  *ca_file;         /* CA bundle path, or NULL                     */
    char  *ca_pem;          /* inline CA bundle, or NULL                   */
    size_t ca_pem_len;
    char  *token;           /* static bearer token, or NULL                */
    char  *token_file;      /* bearer token re-read from here, or NULL     */
    char  *cert_file;       /* client certificate (PEM) path, or NULL      */
    char  *cert_pem;        /* inline client certificate, or NULL          */
    size_t cert_pem_len;
    char  *key_file;        /* client key path, or NULL                    */
    char  *key_pem;         /* inline client key, or NULL                  */
    size_t key_pem_len;
    char  *namespace_;      /* the context's or the pod's namespace, or NULL */
} kube_config;

/*
 * Fills cfg from kubeconfig_path when it is given, else from the first
 * path in $KUBECONFIG, else from the in-cluster service account.
 * Returns 0, or -1 with a message in err (cfg is then empty).
 */
int kube_config_load(kube_config *cfg, const char *kubeconfig_path, char *err,
                     size_t errlen);

/* The two sources on their own. */
int kube_config_from_kubeconfig(kube_config *cfg, const char *path, char *err,
                                size_t errlen);
int kube_config_in_cluster(kube_config *cfg, char *err, size_t errlen);

void kube_config_clear(kube_config *cfg);

/*
 * Reads the token file (trailing whitespace trimmed) into a new string.
 * Returns NULL with a message in err when it cannot be read or is empty.
 */
char *kube_config_read_token(const char *path, char *err, size_t errlen);

/*
 * Standard base64 (RFC 4648, padding optional, whitespace skipped) into a
 * new NUL-terminated buffer; *out_len excludes the NUL.  Returns NULL
 * for malformed input or when out of memory.
 */
char *kube_base64_decode(const char *in, size_t len, size_t *out_len);

#endif
