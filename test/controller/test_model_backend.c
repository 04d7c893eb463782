/*
 * test_model_backend.c -- Service ports and EndpointSlices behind a
 * route: port by number and by name, slices joined and deduplicated,
 * readiness, IPv6, and the flags for what cannot be resolved.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "model_fixture.h"

#define SLICE(name, svc, type, endpoints, ports)                            \
    "{'apiVersion':'discovery.k8s.io/v1','kind':'EndpointSlice',"           \
    "'metadata':{'namespace':'default','name':'" name "',"                  \
    "'labels':{'kubernetes.io/service-name':'" svc "'}},"                   \
    "'addressType':'" type "','endpoints':" endpoints ",'ports':" ports "}"

static void
setup(fixture *f)
{
    fx_init(f);
    f->cfg.watch_without_class = true;
    /* Two ports; the named targetPort resolves per slice. */
    fx_put(f, "{'apiVersion':'v1','kind':'Service',"
              "'metadata':{'namespace':'default','name':'api'},"
              "'spec':{'type':'ClusterIP','ports':["
              "{'name':'http','port':80,'targetPort':'web'},"
              "{'name':'grpc','port':9090,'targetPort':9090}]}}");
}

/* The endpoints of the backend a request reaches, as "addr:port" joined
 * by spaces (sorted, as the model stores them). */
static const char *
endpoints_of(fixture *f, const char *host, const char *path)
{
    static char out[1024];
    const tbl_backend *be = fx_backend(f, host, path);
    size_t len = 0;

    out[0] = '\0';
    for (uint32_t i = 0; i < be->endpoint_count; i++) {
        const tbl_endpoint *ep = &f->view.endpoints[be->endpoint_first + i];
        char addr[INET6_ADDRSTRLEN];

        inet_ntop(ep->family == 4 ? AF_INET : AF_INET6, ep->addr, addr,
                  sizeof(addr));
        len += (size_t)snprintf(out + len, sizeof(out) - len, "%s%s:%u",
                                i ? " " : "", addr, ep->port);
    }
    return out;
}

static void
test_port_by_number_and_name(void **state)
{
    fixture f;

    (void)state;
    setup(&f);
    fx_put(&f, SLICE("api-1", "api", "IPv4",
                     "[{'addresses':['10.0.0.1'],'conditions':{'ready':true}}]",
                     "[{'name':'http','port':8080},{'name':'grpc',"
                     "'port':9090}]"));
    fx_ingress(&f, "default", "ing", NULL, "",
               FX_RULES(FX_RULE("p.example",
                                FX_PATH("/num", "Prefix", "api", 80),
                                FX_PATH("/grpc", "Prefix", "api", 9090),
                                "{'path':'/name','pathType':'Prefix',"
                                "'backend':{'service':{'name':'api',"
                                "'port':{'name':'http'}}}}")));
    fx_build(&f);
    assert_string_equal(fx_route(&f, "p.example", "/num"), "api:80");
    assert_string_equal(fx_route(&f, "p.example", "/name"), "api:80");
    assert_string_equal(endpoints_of(&f, "p.example", "/num"),
                        "10.0.0.1:8080");
    assert_string_equal(endpoints_of(&f, "p.example", "/grpc"),
                        "10.0.0.1:9090");
    /* By number and by name reach the same backend. */
    assert_ptr_equal(fx_backend(&f, "p.example", "/num"),
                     fx_backend(&f, "p.example", "/name"));
    assert_string_equal(tbl_view_str(&f.view,
                                     fx_backend(&f, "p.example", "/num")
                                         ->port_name),
                        "http");
    fx_free(&f);
}

/* Slices are joined, each with its own target port; duplicates across
 * slices count once; slices of other Services or namespaces do not
 * join. */
static void
test_slices_joined_and_deduplicated(void **state)
{
    fixture f;

    (void)state;
    setup(&f);
    fx_put(&f, SLICE("api-a", "api", "IPv4",
                     "[{'addresses':['10.0.0.2']},{'addresses':['10.0.0.1']}]",
                     "[{'name':'http','port':8080}]"));
    fx_put(&f, SLICE("api-b", "api", "IPv4",
                     "[{'addresses':['10.0.0.3']},{'addresses':['10.0.0.1']}]",
                     "[{'name':'http','port':8080}]"));
    fx_put(&f, SLICE("api-c", "api", "IPv4",
                     "[{'addresses':['10.0.0.4']}]",
                     "[{'name':'http','port':8081}]"));
    fx_put(&f, SLICE("api-grpc-only", "api", "IPv4",
                     "[{'addresses':['10.0.0.9']}]",
                     "[{'name':'grpc','port':9090}]"));
    fx_put(&f, SLICE("web-1", "web", "IPv4", "[{'addresses':['10.0.9.1']}]",
                     "[{'name':'http','port':8080}]"));
    fx_put(&f, "{'apiVersion':'discovery.k8s.io/v1','kind':'EndpointSlice',"
               "'metadata':{'namespace':'elsewhere','name':'api-1',"
               "'labels':{'kubernetes.io/service-name':'api'}},"
               "'addressType':'IPv4','endpoints':[{'addresses':['10.9.9.9']}],"
               "'ports':[{'name':'http','port':8080}]}");
    fx_ingress(&f, "default", "ing", NULL, "",
               FX_RULES(FX_RULE("s.example",
                                FX_PATH("/", "Prefix", "api", 80))));
    fx_build(&f);
    assert_string_equal(endpoints_of(&f, "s.example", "/"),
                        "10.0.0.1:8080 10.0.0.2:8080 10.0.0.3:8080 "
                        "10.0.0.4:8081");
    fx_free(&f);
}

/* ready=false is excluded; a missing ready counts as ready; serving and
 * terminating are carried over. */
static void
test_readiness(void **state)
{
    fixture f;
    const tbl_backend *be;

    (void)state;
    setup(&f);
    fx_put(&f, SLICE("api-1", "api", "IPv4",
                     "[{'addresses':['10.0.0.1'],'conditions':{'ready':false,"
                     "'serving':true,'terminating':true}},"
                     "{'addresses':['10.0.0.2']},"
                     "{'addresses':['10.0.0.3'],'conditions':{'ready':true,"
                     "'serving':true,'terminating':true}},"
                     "{'addresses':['10.0.0.4'],'conditions':{'ready':true}}]",
                     "[{'name':'http','port':8080}]"));
    fx_ingress(&f, "default", "ing", NULL, "",
               FX_RULES(FX_RULE("r.example",
                                FX_PATH("/", "Prefix", "api", 80))));
    fx_build(&f);
    assert_string_equal(endpoints_of(&f, "r.example", "/"),
                        "10.0.0.2:8080 10.0.0.3:8080 10.0.0.4:8080");
    be = fx_backend(&f, "r.example", "/");
    assert_int_equal(f.view.endpoints[be->endpoint_first].flags,
                     TBL_EP_READY | TBL_EP_SERVING);
    assert_int_equal(f.view.endpoints[be->endpoint_first + 1].flags,
                     TBL_EP_READY | TBL_EP_SERVING | TBL_EP_TERMINATING);
    assert_int_equal(be->flags, 0);
    fx_free(&f);
}

static void
test_ipv6_and_fqdn(void **state)
{
    fixture f;
    const char *log;

    (void)state;
    setup(&f);
    fx_put(&f, SLICE("api-v6", "api", "IPv6",
                     "[{'addresses':['fd00::1']},{'addresses':['10.0.0.1']}]",
                     "[{'name':'http','port':8080}]"));
    fx_put(&f, SLICE("api-v4", "api", "IPv4", "[{'addresses':['10.0.0.7']}]",
                     "[{'name':'http','port':8080}]"));
    fx_put(&f, SLICE("api-fqdn", "api", "FQDN",
                     "[{'addresses':['db.example.net']}]",
                     "[{'name':'http','port':8080}]"));
    fx_ingress(&f, "default", "ing", NULL, "",
               FX_RULES(FX_RULE("v6.example",
                                FX_PATH("/", "Prefix", "api", 80))));
    fx_capture_start();
    fx_build(&f);
    log = fx_capture_stop();
    /* The IPv4 address in an IPv6 slice is not an endpoint. */
    assert_string_equal(endpoints_of(&f, "v6.example", "/"),
                        "10.0.0.7:8080 fd00::1:8080");
    assert_non_null(strstr(log, "object=default/api-fqdn"));
    assert_non_null(strstr(log, "value=\"FQDN\""));
    assert_non_null(strstr(log, "object=default/api-v6"));
    fx_free(&f);
}

/* What cannot be resolved keeps its route, flagged (answers 503). */
static void
test_unresolved_backends_are_flagged(void **state)
{
    fixture f;
    const char *log;

    (void)state;
    setup(&f);
    fx_put(&f, SLICE("api-1", "api", "IPv4",
                     "[{'addresses':['10.0.0.1'],"
                     "'conditions':{'ready':false}}]",
                     "[{'name':'http','port':8080}]"));
    fx_put(&f, "{'apiVersion':'v1','kind':'Service',"
               "'metadata':{'namespace':'default','name':'ext'},"
               "'spec':{'type':'ExternalName','externalName':'db.example.net',"
               "'ports':[{'port':5432}]}}");
    fx_ingress(&f, "default", "ing", NULL, "",
               FX_RULES(FX_RULE("u.example",
                                FX_PATH("/missing", "Prefix", "nosvc", 80),
                                FX_PATH("/port", "Prefix", "api", 81),
                                FX_PATH("/again", "Prefix", "api", 81),
                                "{'path':'/pname','pathType':'Prefix',"
                                "'backend':{'service':{'name':'api',"
                                "'port':{'name':'nope'}}}}",
                                FX_PATH("/noep", "Prefix", "api", 80),
                                FX_PATH("/ext", "Prefix", "ext", 5432))));
    fx_capture_start();
    fx_build(&f);
    log = fx_capture_stop();
    assert_string_equal(fx_route(&f, "u.example", "/missing"),
                        "nosvc:80!missing");
    assert_string_equal(fx_route(&f, "u.example", "/port"), "api:81!port");
    assert_string_equal(fx_route(&f, "u.example", "/pname"), "api:0!port");
    assert_string_equal(fx_route(&f, "u.example", "/noep"), "api:80!noep");
    assert_string_equal(fx_route(&f, "u.example", "/ext"), "ext:5432!noep");
    assert_int_equal(f.stats.routes, 6);
    assert_non_null(strstr(log, "msg=\"service not found\""));
    assert_non_null(strstr(log, "service=default/nosvc"));
    assert_non_null(strstr(log, "msg=\"service has no ready endpoints\""));
    assert_non_null(strstr(log, "msg=\"ExternalName service not yet "
                                "supported\""));
    /* Logged once per build, though two routes use api:81. */
    {
        const char *first = strstr(log, "msg=\"service port not found\"");

        assert_non_null(first);
        first = strstr(first + 1, "port=81 ");
        assert_non_null(first);
        assert_null(strstr(first + 1, "port=81 "));
    }
    fx_free(&f);
}

/* An unnamed Service port matches the unnamed slice port; a numeric
 * targetPort serves slices that list no ports. */
static void
test_unnamed_port_and_portless_slice(void **state)
{
    fixture f;

    (void)state;
    fx_init(&f);
    f.cfg.watch_without_class = true;
    fx_put(&f, "{'apiVersion':'v1','kind':'Service',"
               "'metadata':{'namespace':'default','name':'solo'},"
               "'spec':{'ports':[{'port':80,'targetPort':3000}]}}");
    fx_put(&f, SLICE("solo-1", "solo", "IPv4", "[{'addresses':['10.1.0.1']}]",
                     "[{'port':3000}]"));
    fx_put(&f, SLICE("solo-2", "solo", "IPv4", "[{'addresses':['10.1.0.2']}]",
                     "null"));
    fx_put(&f, SLICE("solo-3", "solo", "IPv4", "null", "[{'port':3000}]"));
    fx_ingress(&f, "default", "ing", NULL, "",
               FX_RULES(FX_RULE("solo.example",
                                FX_PATH("/", "Prefix", "solo", 80))));
    fx_build(&f);
    assert_string_equal(endpoints_of(&f, "solo.example", "/"),
                        "10.1.0.1:3000 10.1.0.2:3000");
    fx_free(&f);
}

/* A Service in another namespace is not the Ingress's Service. */
static void
test_service_namespace_is_the_ingress_namespace(void **state)
{
    fixture f;

    (void)state;
    fx_init(&f);
    f.cfg.watch_without_class = true;
    fx_service(&f, "team-a", "web", "http", 80, 8080, "10.2.0.1");
    fx_service(&f, "team-b", "web", "http", 80, 8080, "10.2.0.2");
    fx_ingress(&f, "team-b", "ing", NULL, "",
               FX_RULES(FX_RULE("b.example",
                                FX_PATH("/", "Prefix", "web", 80))));
    fx_ingress(&f, "team-c", "ing", NULL, "",
               FX_RULES(FX_RULE("c.example",
                                FX_PATH("/", "Prefix", "web", 80))));
    fx_build(&f);
    assert_string_equal(endpoints_of(&f, "b.example", "/"), "10.2.0.2:8080");
    assert_string_equal(fx_route(&f, "c.example", "/"), "web:80!missing");
    fx_free(&f);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_port_by_number_and_name),
        cmocka_unit_test(test_slices_joined_and_deduplicated),
        cmocka_unit_test(test_readiness),
        cmocka_unit_test(test_ipv6_and_fqdn),
        cmocka_unit_test(test_unresolved_backends_are_flagged),
        cmocka_unit_test(test_unnamed_port_and_portless_slice),
        cmocka_unit_test(test_service_namespace_is_the_ingress_namespace),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
