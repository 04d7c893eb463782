/*
 * main.c -- shmingress-controller: command line, signals, and the wiring
 * of store, sources and pipeline around one event loop.
 *
 * Objects come from one source: a manifests directory (--manifests), or
 * the Kubernetes API (without --manifests: --kubeconfig, $KUBECONFIG, or
 * the pod's service account).  In API mode the replicas elect a leader
 * on a Lease, and the leader alone writes Ingress status and Events.
 *
 * Exit codes: 0 after SIGINT/SIGTERM, --once, --help or --version; 1 when
 * the controller cannot start (table dir, control file, manifests dir,
 * API configuration) or --once could not publish; 2 for a usage error.  Once running, bad input
 * never stops the process: it is logged and the last good table stays.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "annotations/registry.h"
#include "kube_client.h"
#include "kube_config.h"
#include "kube_events.h"
#include "kube_lease.h"
#include "kube_source.h"
#include "kube_status.h"
#include "log.h"
#include "loop.h"
#include "pipeline.h"
#include "source_manifests.h"
#include "store.h"
#include "tbl_publish.h"

#define PROG "shmingress-controller"

typedef struct {
    const char   *manifests;
    const char   *kubeconfig;
    const char   *watch_namespace;
    const char   *configmap;
    const char   *table_dir;
    const char   *ingress_class;
    const char   *controller_class;
    bool          watch_without_class;
    bool          allow_cross_namespace;
    const char   *default_backend_service;
    const char   *default_ssl_certificate;
    const char   *annotations_prefix;
    const char   *publish_service;
    const char   *publish_status_address;
    bool          update_status;
    const char   *election_id;
    const char   *election_namespace;
    uint64_t      debounce_ms;
    uint64_t      keep_tables;
    ctl_log_level log_level;
    bool          log_json;
    bool          once;
} ctl_options;

typedef enum {
    OPT_STRING,    /* --flag VALUE                       */
    OPT_REF,       /* --flag NAMESPACE/NAME              */
    OPT_BOOL,      /* --flag, --flag=true, --flag=false  */
    OPT_UINT,      /* --flag N, within [min, max]        */
    OPT_LEVEL,     /* debug|info|warn|error              */
    OPT_FORMAT,    /* text|json                          */
    OPT_HELP,
    OPT_VERSION
} ctl_opt_type;

typedef struct {
    const char   *name;
    ctl_opt_type  type;
    size_t        offset;
    uint64_t      min, max;
    const char   *help;
} ctl_opt;

#define OFF(field) offsetof(ctl_options, field)

static const ctl_opt ctl_opts[] = {
    {"manifests", OPT_STRING, OFF(manifests), 0, 0,
     "DIR  read objects from the *.yaml, *.yml, *.json files in DIR"},
    {"kubeconfig", OPT_STRING, OFF(kubeconfig), 0, 0,
     "PATH  API mode: kubeconfig (default $KUBECONFIG, else in-cluster)"},
    {"watch-namespace", OPT_STRING, OFF(watch_namespace), 0, 0,
     "NS  API mode: only this namespace (default all)"},
    {"configmap", OPT_REF, OFF(configmap), 0, 0,
     "NS/NAME  the ConfigMap with global settings (in the API or the "
     "manifests)"},
    {"table-dir", OPT_STRING, OFF(table_dir), 0, 0,
     "DIR  where tables are published (created with mode 0750)"},
    {"ingress-class", OPT_STRING, OFF(ingress_class), 0, 0,
     "NAME  class name (default shmingress)"},
    {"controller-class", OPT_STRING, OFF(controller_class), 0, 0,
     "STR  IngressClass spec.controller (default shmingress.io/controller)"},
    {"watch-ingress-without-class", OPT_BOOL, OFF(watch_without_class), 0, 0,
     "[=BOOL]  also serve Ingresses without any class"},
    {"allow-cross-namespace-resources", OPT_BOOL, OFF(allow_cross_namespace),
     0, 0, "[=BOOL]  annotations may name Secrets in other namespaces "
     "(auth-secret; default false)"},
    {"default-backend-service", OPT_REF, OFF(default_backend_service), 0, 0,
     "NS/NAME  Service for requests no rule matches"},
    {"default-ssl-certificate", OPT_REF, OFF(default_ssl_certificate), 0, 0,
     "NS/NAME  TLS Secret for hosts without one (not used yet)"},
    {"annotations-prefix", OPT_STRING, OFF(annotations_prefix), 0, 0,
     "P  compatibility annotation prefix (default nginx.ingress.kubernetes.io)"},
    {"publish-service", OPT_REF, OFF(publish_service), 0, 0,
     "NS/NAME  API mode: Ingress status shows this Service's address"},
    {"publish-status-address", OPT_STRING, OFF(publish_status_address), 0, 0,
     "A,B  API mode: Ingress status shows these IPs/names (wins over "
     "--publish-service)"},
    {"update-status", OPT_BOOL, OFF(update_status), 0, 0,
     "[=BOOL]  API mode: write Ingress status (default true)"},
    {"election-id", OPT_STRING, OFF(election_id), 0, 0,
     "NAME  API mode: leader election Lease (default shmingress-leader)"},
    {"election-namespace", OPT_STRING, OFF(election_namespace), 0, 0,
     "NS  API mode: namespace of that Lease (default $POD_NAMESPACE, "
     "--watch-namespace, the kubeconfig's or the pod's namespace, else "
     "default)"},
    {"debounce-ms", OPT_UINT, OFF(debounce_ms), 0, 60000,
     "N  quiet time before a change is built (default 5)"},
    {"keep-tables", OPT_UINT, OFF(keep_tables), 1, 1000,
     "N  published generations kept on disk (default 4)"},
    {"log-level", OPT_LEVEL, OFF(log_level), 0, 0,
     "debug|info|warn|error  (default info)"},
    {"log-format", OPT_FORMAT, OFF(log_json), 0, 0,
     "text|json  (default text: key=value pairs)"},
    {"once", OPT_BOOL, OFF(once), 0, 0,
     "read everything, publish one table, exit"},
    {"help", OPT_HELP, 0, 0, 0, "show this help"},
    {"version", OPT_VERSION, 0, 0, 0, "show the version"},
};

static void
ctl_usage(FILE *out)
{
    fprintf(out, "Usage: " PROG " --table-dir DIR [--manifests DIR] [flags]\n\n"
                 "Without --manifests, objects come from the Kubernetes API.\n"
                 "Flags (--flag=value and --flag value are the same):\n");
    for (size_t i = 0; i < sizeof(ctl_opts) / sizeof(ctl_opts[0]); i++)
        fprintf(out, "  --%s %s\n", ctl_opts[i].name, ctl_opts[i].help);
}

/* Prints one line about the command line and returns exit code 2. */
static int ctl_usage_error(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

static int
ctl_usage_error(const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, PROG ": ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nTry '" PROG " --help'.\n");
    return 2;
}

static int
ctl_parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
    char *end;
    unsigned long long v;

    if (*s < '0' || *s > '9')
        return -1;
    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno != 0 || *end != '\0' || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

/* "namespace/name", both parts present, nothing else. */
static int
ctl_is_ref(const char *s)
{
    const char *slash = strchr(s, '/');

    return slash != NULL && slash != s && slash[1] != '\0' &&
           strchr(slash + 1, '/') == NULL;
}

static int
ctl_set_opt(ctl_options *o, const ctl_opt *opt, const char *value)
{
    char *field = (char *)o + opt->offset;
    const char *why;
    static const char *const levels[] = {"debug", "info", "warn", "error"};

    switch (opt->type) {
    case OPT_STRING:
        if (*value == '\0')
            return ctl_usage_error("--%s needs a non-empty value", opt->name);
        *(const char **)field = value;
        return 0;
    case OPT_REF:
        if (!ctl_is_ref(value))
            return ctl_usage_error("--%s: \"%s\" is not NAMESPACE/NAME",
                                   opt->name, value);
        *(const char **)field = value;
        return 0;
    case OPT_BOOL:
        /* Go's strconv.ParseBool spellings, as for annotations. */
        if (ctl_ann_parse_bool(value, (bool *)field, &why) < 0)
            return ctl_usage_error("--%s: \"%s\" is not true or false",
                                   opt->name, value);
        return 0;
    case OPT_UINT:
        if (ctl_parse_uint(value, opt->min, opt->max, (uint64_t *)field) < 0)
            return ctl_usage_error("--%s: \"%s\" is not an integer in "
                                   "[%llu, %llu]", opt->name, value,
                                   (unsigned long long)opt->min,
                                   (unsigned long long)opt->max);
        return 0;
    case OPT_LEVEL:
        for (size_t i = 0; i < 4; i++) {
            if (!strcmp(value, levels[i])) {
                *(ctl_log_level *)field = (ctl_log_level)i;
                return 0;
            }
        }
        return ctl_usage_error("--%s: \"%s\" is not debug, info, warn or error",
                               opt->name, value);
    case OPT_FORMAT:
        if (strcmp(value, "text") != 0 && strcmp(value, "json") != 0)
            return ctl_usage_error("--%s: \"%s\" is not text or json",
                                   opt->name, value);
        *(bool *)field = !strcmp(value, "json");
        return 0;
    default:
        return 0;
    }
}

static const ctl_opt *
ctl_find_opt(const char *name, size_t len)
{
    for (size_t i = 0; i < sizeof(ctl_opts) / sizeof(ctl_opts[0]); i++) {
        if (strlen(ctl_opts[i].name) == len &&
            !strncmp(ctl_opts[i].name, name, len))
            return &ctl_opts[i];
    }
    return NULL;
}

/*
 * Returns -1 to go on, or the exit code when the command line is done
 * with (help, version, usage error).
 */
static int
ctl_parse_args(int argc, char **argv, ctl_options *o)
{
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i], *eq, *value;
        const ctl_opt *opt;
        int rc;

        if (strncmp(arg, "--", 2) != 0 || arg[2] == '\0')
            return ctl_usage_error("unexpected argument \"%s\"", arg);
        eq = strchr(arg + 2, '=');
        opt = ctl_find_opt(arg + 2, eq ? (size_t)(eq - arg - 2) : strlen(arg + 2));
        if (opt == NULL)
            return ctl_usage_error("unknown flag \"%s\"", arg);
        if (opt->type == OPT_HELP || opt->type == OPT_VERSION) {
            if (eq != NULL)
                return ctl_usage_error("--%s takes no value", opt->name);
            if (opt->type == OPT_HELP)
                ctl_usage(stdout);
            else
                printf(PROG " %s\n", SHMINGRESS_VERSION);
            return 0;
        }
        if (eq != NULL) {
            value = eq + 1;
        } else if (opt->type == OPT_BOOL) {
            value = "true";
        } else if (i + 1 < argc) {
            value = argv[++i];
        } else {
            return ctl_usage_error("--%s needs a value", opt->name);
        }
        if ((rc = ctl_set_opt(o, opt, value)) != 0)
            return rc;
    }
    return -1;
}

/* The one source of objects: a manifests directory or the API, and in
 * API mode the leader election and what the leader writes. */
typedef struct {
    ctl_manifests *manifests;
    kube_config    kube_cfg;
    kube_client   *kube;
    kube_source   *api;
    kube_lease    *lease;
    kube_status   *status;   /* NULL with --update-status=false */
    kube_events   *events;
    bool           stopping;
    char           identity[320];
} ctl_source;

static void
ctl_released(void *data)
{
    ctl_loop_stop(data);
}

/*
 * A leader first gives its Lease up, so another replica takes over at
 * once; a second signal does not wait for that.
 */
static void
ctl_on_signal(ctl_loop *loop, int fd, uint32_t events, void *data)
{
    ctl_source *src = data;
    struct signalfd_siginfo si;

    (void)events;
    if (read(fd, &si, sizeof(si)) != sizeof(si))
        return;
    ctl_log(CTL_LOG_INFO, "stopping", "signal=%s",
            si.ssi_signo == SIGINT ? "SIGINT" : "SIGTERM");
    if (src->lease == NULL || src->stopping) {
        ctl_loop_stop(loop);
        return;
    }
    src->stopping = true;
    kube_lease_release(src->lease, ctl_released, loop);
}

/* SIGINT and SIGTERM arrive through the loop, not as interruptions. */
static int
ctl_signals_open(ctl_loop *loop, ctl_source *src)
{
    sigset_t set;
    int fd;

    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
        return -1;
    fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    if (fd < 0)
        return -1;
    if (ctl_loop_watch(loop, fd, EPOLLIN, ctl_on_signal, src) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static void
ctl_log_start(const ctl_options *o)
{
    char qm[600], qt[600], qi[300], qc[300];

    ctl_log(CTL_LOG_INFO, "starting",
            "version=%s source=%s manifests=\"%s\" table_dir=\"%s\" "
            "ingress_class=\"%s\" "
            "controller_class=\"%s\" watch_ingress_without_class=%s "
            "debounce_ms=%llu keep_tables=%llu once=%s pid=%ld",
            SHMINGRESS_VERSION, o->manifests ? "manifests" : "kubernetes",
            ctl_log_quote(o->manifests ? o->manifests : "", qm, sizeof(qm)),
            ctl_log_quote(o->table_dir, qt, sizeof(qt)),
            ctl_log_quote(o->ingress_class, qi, sizeof(qi)),
            ctl_log_quote(o->controller_class, qc, sizeof(qc)),
            o->watch_without_class ? "true" : "false",
            (unsigned long long)o->debounce_ms,
            (unsigned long long)o->keep_tables, o->once ? "true" : "false",
            (long)getpid());
}

static int
ctl_source_api(ctl_source *src, const ctl_options *o, ctl_loop *loop,
               ctl_store *store, ctl_pipeline_source *link, char *err,
               size_t errlen)
{
    kube_source_config kc;
    char qs[600], qc[600], qn[300];

    if (kube_config_load(&src->kube_cfg, o->kubeconfig, err, errlen) < 0)
        return -1;
    src->kube = kube_client_new(loop, &src->kube_cfg, err, errlen);
    if (src->kube == NULL)
        return -1;
    memset(&kc, 0, sizeof(kc));
    kc.watch_namespace = o->watch_namespace;
    kc.configmap = o->configmap;
    kc.default_ssl_certificate = o->default_ssl_certificate;
    kc.annotations_prefix = o->annotations_prefix;
    src->api = kube_source_new(loop, src->kube, store, link, &kc, err, errlen);
    if (src->api == NULL)
        return -1;
    ctl_log(CTL_LOG_INFO, "Kubernetes API",
            "server=\"%s\" config=\"%s\" watch_namespace=\"%s\" "
            "tls_verify=%s",
            ctl_log_quote(kube_client_server(src->kube), qs, sizeof(qs)),
            ctl_log_quote(src->kube_cfg.source, qc, sizeof(qc)),
            ctl_log_quote(o->watch_namespace ? o->watch_namespace : "", qn,
                          sizeof(qn)),
            src->kube_cfg.insecure ? "false" : "true");
    return kube_source_start(src->api, err, errlen);
}

static void
ctl_on_leading(void *data, bool leading)
{
    ctl_source *src = data;

    if (src->status != NULL)
        kube_status_set_leader(src->status, leading);
    kube_events_set_leader(src->events, leading);
}

/* $POD_NAME in a cluster (the downward API), else host and pid. */
static void
ctl_identity(char *buf, size_t buflen)
{
    const char *pod = getenv("POD_NAME");
    char host[256];

    if (pod != NULL && *pod != '\0') {
        snprintf(buf, buflen, "%s", pod);
        return;
    }
    if (gethostname(host, sizeof(host)) < 0)
        snprintf(host, sizeof(host), "unknown");
    host[sizeof(host) - 1] = '\0';
    snprintf(buf, buflen, "%s_%ld", host, (long)getpid());
}

/*
 * The controller's own namespace if it is known, else the one it may
 * watch: a controller scoped to one namespace often has rights there
 * only.
 */
static const char *
ctl_election_namespace(const ctl_options *o, const kube_config *cfg)
{
    const char *pod_ns = getenv("POD_NAMESPACE");

    if (o->election_namespace != NULL)
        return o->election_namespace;
    if (pod_ns != NULL && *pod_ns != '\0')
        return pod_ns;
    if (o->watch_namespace != NULL)
        return o->watch_namespace;
    return cfg->namespace_ != NULL ? cfg->namespace_ : "default";
}

/* API mode: the Lease, and the status and Event writers it enables. */
static int
ctl_leader_start(ctl_source *src, const ctl_options *o, ctl_loop *loop,
                 const ctl_store *store, ctl_pipeline *pipeline, char *err,
                 size_t errlen)
{
    kube_events_config ec;
    kube_status_config sc;
    kube_lease_config lc;

    ctl_identity(src->identity, sizeof(src->identity));
    memset(&ec, 0, sizeof(ec));
    ec.component = PROG;
    ec.instance = src->identity;
    src->events = kube_events_new(loop, src->kube, &ec, err, errlen);
    if (src->events == NULL ||
        ctl_pipeline_add_sink(pipeline, kube_events_sink(src->events)) < 0)
        return -1;
    if (o->update_status) {
        memset(&sc, 0, sizeof(sc));
        sc.publish_service = o->publish_service;
        sc.publish_status_address = o->publish_status_address;
        sc.watch_namespace = o->watch_namespace;
        src->status = kube_status_new(loop, src->kube, store, &sc, err,
                                      errlen);
        if (src->status == NULL ||
            ctl_pipeline_add_sink(pipeline, kube_status_sink(src->status)) < 0)
            return -1;
    }
    memset(&lc, 0, sizeof(lc));
    lc.namespace_ = ctl_election_namespace(o, &src->kube_cfg);
    lc.name = o->election_id;
    lc.identity = src->identity;
    src->lease = kube_lease_new(loop, src->kube, &lc, ctl_on_leading, src,
                                err, errlen);
    if (src->lease == NULL)
        return -1;
    if (kube_lease_start(src->lease) < 0) {
        snprintf(err, errlen, "cannot start the leader election");
        return -1;
    }
    return 0;
}

static int
ctl_source_start(ctl_source *src, const ctl_options *o, ctl_loop *loop,
                 ctl_store *store, ctl_pipeline *pipeline, char *err,
                 size_t errlen)
{
    ctl_pipeline_source *link;

    link = ctl_pipeline_add_source(pipeline, o->manifests ? "manifests"
                                                          : "kubernetes");
    if (link == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (o->manifests == NULL)
        return ctl_source_api(src, o, loop, store, link, err, errlen) < 0
                   ? -1
                   : ctl_leader_start(src, o, loop, store, pipeline, err,
                                      errlen);
    src->manifests = ctl_manifests_new(o->manifests, store,
                                       o->once ? NULL : loop, link,
                                       o->debounce_ms);
    if (src->manifests == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    return ctl_manifests_start(src->manifests, err, errlen);
}

/* Requests still running are cancelled; nothing calls back after this. */
static void
ctl_source_free(ctl_source *src)
{
    kube_lease_free(src->lease);
    kube_status_free(src->status);
    kube_events_free(src->events);
    ctl_manifests_free(src->manifests);
    kube_source_free(src->api);
    kube_client_free(src->kube);
    kube_config_clear(&src->kube_cfg);
}

/* Sets everything up, runs, and tears down; returns the exit code. */
static int
ctl_run(const ctl_options *o)
{
    ctl_pipeline_config pc;
    ctl_loop *loop = ctl_loop_new();
    ctl_store *store = ctl_store_new();
    ctl_pipeline *pipeline = NULL;
    ctl_source src;
    char err[512], qe[600];
    int sigfd = -1, rc = 1;

    memset(&src, 0, sizeof(src));

    if (loop == NULL || store == NULL) {
        ctl_log(CTL_LOG_ERROR, "cannot start", "error=\"out of memory\"");
        goto out;
    }
    memset(&pc, 0, sizeof(pc));
    pc.table_dir = o->table_dir;
    pc.keep_tables = (unsigned)o->keep_tables;
    pc.debounce_ms = o->debounce_ms;
    pc.model.controller_class = o->controller_class;
    pc.model.ingress_class = o->ingress_class;
    pc.model.watch_without_class = o->watch_without_class;
    pc.model.allow_cross_namespace = o->allow_cross_namespace;
    pc.model.default_backend_service = o->default_backend_service;
    pc.model.annotations_prefix = o->annotations_prefix;
    pc.model.default_ssl_certificate = o->default_ssl_certificate;
    pc.model.configmap = o->configmap;
    pipeline = ctl_pipeline_new(loop, store, &pc, err, sizeof(err));
    if (pipeline == NULL) {
        ctl_log(CTL_LOG_ERROR, "cannot start", "error=\"%s\"",
                ctl_log_quote(err, qe, sizeof(qe)));
        goto out;
    }
    if (!o->once && (sigfd = ctl_signals_open(loop, &src)) < 0) {
        ctl_log(CTL_LOG_ERROR, "cannot start", "error=\"signalfd: %s\"",
                strerror(errno));
        goto out;
    }
    if (ctl_source_start(&src, o, loop, store, pipeline, err,
                         sizeof(err)) < 0) {
        ctl_log(CTL_LOG_ERROR, "cannot start", "error=\"%s\"",
                ctl_log_quote(err, qe, sizeof(qe)));
        goto out;
    }
    if (o->once)
        rc = ctl_pipeline_publish_now(pipeline) == 0 ? 0 : 1;
    else
        rc = ctl_loop_run(loop) == 0 ? 0 : 1;
out:
    ctl_source_free(&src);
    ctl_pipeline_free(pipeline);
    if (sigfd >= 0) {
        ctl_loop_unwatch(loop, sigfd);
        close(sigfd);
    }
    ctl_store_free(store);
    ctl_loop_free(loop);
    return rc;
}

int
main(int argc, char **argv)
{
    ctl_options o;
    char err[512];
    int rc;

    memset(&o, 0, sizeof(o));
    o.ingress_class = "shmingress";
    o.controller_class = "shmingress.io/controller";
    o.annotations_prefix = "nginx.ingress.kubernetes.io";
    o.update_status = true;
    o.election_id = "shmingress-leader";
    o.debounce_ms = 5;
    o.keep_tables = TBL_KEEP_DEFAULT;
    o.log_level = CTL_LOG_INFO;
    if ((rc = ctl_parse_args(argc, argv, &o)) >= 0)
        return rc;
    if (o.manifests != NULL &&
        (o.kubeconfig || o.watch_namespace ||
         o.publish_service || o.publish_status_address ||
         o.election_namespace))
        return ctl_usage_error("--%s is for the Kubernetes API, which "
                               "--manifests replaces",
                               o.kubeconfig               ? "kubeconfig"
                               : o.watch_namespace        ? "watch-namespace"
                               : o.publish_service        ? "publish-service"
                               : o.publish_status_address ? "publish-status-address"
                                                          : "election-namespace");
    if (o.manifests == NULL && o.once)
        return ctl_usage_error("--once needs --manifests");
    if (o.publish_status_address != NULL &&
        kube_status_check_addresses(o.publish_status_address, err,
                                    sizeof(err)) < 0)
        return ctl_usage_error("%s", err);
    if (o.table_dir == NULL)
        return ctl_usage_error("--table-dir DIR is required");
    ctl_log_set_level(o.log_level);
    ctl_log_set_json(o.log_json);
    signal(SIGPIPE, SIG_IGN);
    ctl_log_start(&o);
    return ctl_run(&o);
}
