/*
 * model_bench.c -- times a full model build at the scale the controller
 * must handle (10k Ingresses, 10k Services, 100k endpoints) and checks
 * that the table routes every Ingress.  It prints CPU times: the first
 * build (every object parsed), the best rebuild (parses cached, as after
 * a change), serializing and validating; as a test it fails only on
 * wrong routing, never on speed.
 *   usage: ctl_model_bench [ingresses] [endpoints-per-service] [rounds]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "model.h"
#include "store.h"
#include "tbl.h"

static double
now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void
put(ctl_store *s, const char *ns, const char *name, const char *text)
{
    cJSON *j = cJSON_Parse(text);
    int kind = j ? ctl_kind_from_json(j) : -1;

    if (kind < 0 || ctl_store_put(s, (ctl_kind)kind, ns, name, j, "bench") !=
                        0) {
        fprintf(stderr, "cannot store %s/%s\n", ns, name);
        exit(1);
    }
}

static void
fill(ctl_store *s, int n, int per_service)
{
    static char buf[65536];
    char ns[32], name[32];

    for (int i = 0; i < n; i++) {
        size_t len;

        snprintf(ns, sizeof(ns), "ns%d", i % 100);
        snprintf(name, sizeof(name), "app%d", i);
        snprintf(buf, sizeof(buf),
                 "{\"apiVersion\":\"v1\",\"kind\":\"Service\","
                 "\"metadata\":{\"namespace\":\"%s\",\"name\":\"%s\"},"
                 "\"spec\":{\"ports\":[{\"name\":\"http\",\"port\":80,"
                 "\"targetPort\":8080}]}}",
                 ns, name);
        put(s, ns, name, buf);

        len = (size_t)snprintf(
            buf, sizeof(buf),
            "{\"apiVersion\":\"discovery.k8s.io/v1\","
            "\"kind\":\"EndpointSlice\",\"metadata\":{\"namespace\":\"%s\","
            "\"name\":\"%s-x\",\"labels\":{\"kubernetes.io/service-name\":"
            "\"%s\"}},\"addressType\":\"IPv4\",\"ports\":[{\"name\":"
            "\"http\",\"port\":8080}],\"endpoints\":[",
            ns, name, name);
        for (int e = 0; e < per_service; e++)
            len += (size_t)snprintf(buf + len, sizeof(buf) - len,
                                    "%s{\"addresses\":[\"10.%d.%d.%d\"],"
                                    "\"conditions\":{\"ready\":true}}",
                                    e ? "," : "", (i >> 8) & 255, i & 255,
                                    e + 1);
        snprintf(buf + len, sizeof(buf) - len, "]}");
        snprintf(name, sizeof(name), "app%d-x", i);
        put(s, ns, name, buf);

        snprintf(name, sizeof(name), "app%d", i);
        snprintf(buf, sizeof(buf),
                 "{\"apiVersion\":\"networking.k8s.io/v1\",\"kind\":"
                 "\"Ingress\",\"metadata\":{\"namespace\":\"%s\",\"name\":"
                 "\"%s\",\"creationTimestamp\":\"2024-01-01T%02d:%02d:%02dZ\"},"
                 "\"spec\":{\"ingressClassName\":\"shmingress\",\"rules\":[{"
                 "\"host\":\"app%d.example.com\",\"http\":{\"paths\":["
                 "{\"path\":\"/\",\"pathType\":\"Prefix\",\"backend\":{"
                 "\"service\":{\"name\":\"%s\",\"port\":{\"number\":80}}}},"
                 "{\"path\":\"/api\",\"pathType\":\"Exact\",\"backend\":{"
                 "\"service\":{\"name\":\"%s\",\"port\":{\"name\":\"http\"}}}}"
                 "]}}]}}",
                 ns, name, (i / 3600) % 24, (i / 60) % 60, i % 60, i, name,
                 name);
        put(s, ns, name, buf);
    }
    put(s, "", "shmingress",
        "{\"apiVersion\":\"networking.k8s.io/v1\",\"kind\":\"IngressClass\","
        "\"metadata\":{\"name\":\"shmingress\"},"
        "\"spec\":{\"controller\":\"shmingress.io/controller\"}}");
}

/* Every Ingress's host routes to its own Service with all endpoints. */
static int
check(const tbl_view *v, int n, int per_service)
{
    for (int i = 0; i < n; i++) {
        char host[64], svc[32];
        tbl_match m;
        const tbl_backend *be;

        snprintf(host, sizeof(host), "app%d.example.com", i);
        snprintf(svc, sizeof(svc), "app%d", i);
        tbl_lookup(v, host, strlen(host), "/api", 4, NULL, NULL, &m);
        if (m.kind != TBL_MATCH_EXACT)
            return -1;
        be = &v->backends[v->routes[m.route].backend];
        if (strcmp(tbl_view_str(v, be->service_name), svc) != 0 ||
            be->endpoint_count != (uint32_t)per_service || be->flags != 0)
            return -1;
    }
    return 0;
}

int
main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 10000;
    int per_service = argc > 2 ? atoi(argv[2]) : 10;
    int rounds = argc > 3 ? atoi(argv[3]) : 5;
    ctl_model_config cfg = {
        .controller_class = "shmingress.io/controller",
        .ingress_class = "shmingress",
        .annotations_prefix = "nginx.ingress.kubernetes.io",
    };
    ctl_store *s = ctl_store_new();
    ctl_model_stats stats;
    double t0, t_fill, t_first = 0, t_build = 1e9, t_finish = 0, t_view = 0;
    uint8_t *buf = NULL;
    size_t len = 0;
    tbl_view v;
    char err[256];

    if (n < 1 || n > 1000000 || per_service < 1 || per_service > 250 ||
        rounds < 1) {
        fprintf(stderr,
                "usage: %s [ingresses] [endpoints-per-service] [rounds]\n",
                argv[0]);
        return 2;
    }
    ctl_log_set_level(CTL_LOG_ERROR);
    t0 = now_ms();
    fill(s, n, per_service);
    t_fill = now_ms() - t0;

    /* Best of several: the figure the debounce loop will see on a warm
     * process. */
    for (int round = 0; round < rounds; round++) {
        tbl_builder *b = tbl_builder_new();
        double t1, t2, t3;

        free(buf);
        t0 = now_ms();
        if (ctl_model_build(s, &cfg, b, &stats) != 0)
            return 1;
        t1 = now_ms();
        if (tbl_builder_finish(b, 1, &buf, &len, err, sizeof(err)) != 0) {
            fprintf(stderr, "finish: %s\n", err);
            return 1;
        }
        t2 = now_ms();
        if (tbl_view_init(&v, buf, len, err, sizeof(err)) != 0) {
            fprintf(stderr, "view: %s\n", err);
            return 1;
        }
        t3 = now_ms();
        tbl_builder_free(b);
        if (round == 0)
            t_first = t1 - t0;
        if (t1 - t0 < t_build) {
            t_build = t1 - t0;
            t_finish = t2 - t1;
            t_view = t3 - t2;
        }
    }
    printf("ingresses=%d services=%d endpoints=%d routes=%zu table_bytes=%zu\n",
           n, n, n * per_service, stats.routes, len);
    printf("store_fill_ms=%.1f first_build_ms=%.2f model_build_ms=%.2f "
           "serialize_ms=%.2f validate_ms=%.2f\n",
           t_fill, t_first, t_build, t_finish, t_view);
    if (stats.routes != (size_t)n * 2 || stats.ingresses_owned != (size_t)n ||
        check(&v, n, per_service) != 0) {
        fprintf(stderr, "wrong routing at scale\n");
        return 1;
    }
    free(buf);
    ctl_store_free(s);
    return 0;
}
