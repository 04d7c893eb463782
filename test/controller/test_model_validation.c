/*
 * test_model_validation.c -- every API-server rule the model enforces
 * rejects the whole Ingress with one log line naming the object, its
 * origin and the field, while other Ingresses keep routing; and the
 * inputs the API accepts are accepted.
 */
#include <stdio.h>
#include <string.h>

#include "model_fixture.h"

#define OK_PATH FX_PATH("/ok", "Prefix", "web", 80)
#define BAD_PATH(members) "{" members ",'backend':" FX_BACKEND("web", 80) "}"
#define BAD_PORT(port)                                                      \
    FX_RULES(FX_RULE("bad.example", OK_PATH,                                \
                     "{'path':'/x','pathType':'Prefix','backend':{"         \
                     "'service':{'name':'web','port':" port "}}}"))

typedef struct {
    const char *name;
    const char *spec;  /* spec members of the invalid Ingress */
    const char *field; /* the field its log line must name    */
} bad_case;

static const bad_case cases[] = {
    {"host_uppercase", FX_RULES(FX_RULE("Bad.example", OK_PATH)),
     "spec.rules[0].host"},
    {"host_ip", FX_RULES(FX_RULE("10.1.2.3", OK_PATH)), "spec.rules[0].host"},
    {"host_wildcard_inside", FX_RULES(FX_RULE("bad.*.example", OK_PATH)),
     "spec.rules[0].host"},
    {"host_wildcard_no_dot", FX_RULES(FX_RULE("*bad.example", OK_PATH)),
     "spec.rules[0].host"},
    {"host_star_only", FX_RULES(FX_RULE("*", OK_PATH)), "spec.rules[0].host"},
    {"host_underscore", FX_RULES(FX_RULE("bad_host.example", OK_PATH)),
     "spec.rules[0].host"},
    {"host_trailing_dot", FX_RULES(FX_RULE("bad.example.", OK_PATH)),
     "spec.rules[0].host"},
    {"host_label_dash", FX_RULES(FX_RULE("-bad.example", OK_PATH)),
     "spec.rules[0].host"},
    {"host_not_string",
     FX_RULES("{'host':5,'http':{'paths':[" OK_PATH "]}}"),
     "spec.rules[0].host"},
    {"second_rule_host",
     FX_RULES(FX_RULE("bad.example", OK_PATH), FX_RULE("x..example",
                                                       OK_PATH)),
     "spec.rules[1].host"},
    {"path_type_missing",
     FX_RULES(FX_RULE("bad.example", OK_PATH, BAD_PATH("'path':'/x'"))),
     "spec.rules[0].http.paths[1].pathType"},
    {"path_type_unknown",
     FX_RULES(FX_RULE("bad.example", OK_PATH,
                      FX_PATH("/x", "Regex", "web", 80))),
     "spec.rules[0].http.paths[1].pathType"},
    {"path_type_lower_case",
     FX_RULES(FX_RULE("bad.example", OK_PATH,
                      FX_PATH("/x", "prefix", "web", 80))),
     "spec.rules[0].http.paths[1].pathType"},
    {"exact_relative",
     FX_RULES(FX_RULE("bad.example", OK_PATH, FX_PATH("x", "Exact", "web",
                                                      80))),
     "spec.rules[0].http.paths[1].path"},
    {"prefix_empty",
     FX_RULES(FX_RULE("bad.example", OK_PATH, FX_PATH("", "Prefix", "web",
                                                      80))),
     "spec.rules[0].http.paths[1].path"},
    {"prefix_path_missing",
     FX_RULES(FX_RULE("bad.example", OK_PATH,
                      BAD_PATH("'pathType':'Prefix'"))),
     "spec.rules[0].http.paths[1].path"},
    {"path_not_string",
     FX_RULES(FX_RULE("bad.example", OK_PATH,
                      BAD_PATH("'path':7,'pathType':'Prefix'"))),
     "spec.rules[0].http.paths[1].path"},
    {"double_slash",
     FX_RULES(FX_RULE("bad.example", OK_PATH,
                      FX_PATH("/a//b", "Prefix", "web", 80))),
     "spec.rules[0].http.paths[1].path"},
    {"dot_segment",
     FX_RULES(FX_RULE("bad.example", OK_PATH,
                      FX_PATH("/a/./b", "Exact", "web", 80))),
     "spec.rules[0].http.paths[1].path"},
    {"dot_dot_segment",
     FX_RULES(FX_RULE("bad.example", OK_PATH,
                      FX_PATH("/a/../b", "Prefix", "web", 80))),
     "spec.rules[0].http.paths[1].path"},
    {"encoded_slash_lower",
     FX_RULES(FX_RULE("bad.example", OK_PATH,
                      FX_PATH("/a%2fb", "Prefix", "web", 80))),
     "spec.rules[0].http.paths[1].path"},
    {"encoded_slash_upper",
     FX_RULES(FX_RULE("bad.example", OK_PATH,
                      FX_PATH("/a%2Fb", "Exact", "web", 80))),
     "spec.rules[0].http.paths[1].path"},
    {"trailing_dot_dot",
     FX_RULES(FX_RULE("bad.example", OK_PATH,
                      FX_PATH("/a/..", "Prefix", "web", 80))),
     "spec.rules[0].http.paths[1].path"},
    {"trailing_dot",
     FX_RULES(FX_RULE("bad.example", OK_PATH,
                      FX_PATH("/a/.", "Prefix", "web", 80))),
     "spec.rules[0].http.paths[1].path"},
    {"implementation_specific_relative",
     FX_RULES(FX_RULE("bad.example", OK_PATH,
                      FX_PATH("x", "ImplementationSpecific", "web", 80))),
     "spec.rules[0].http.paths[1].path"},
    {"backend_service_and_resource",
     FX_RULES(FX_RULE("bad.example", OK_PATH,
                      "{'path':'/x','pathType':'Prefix','backend':{"
                      "'service':{'name':'web','port':{'number':80}},"
                      "'resource':{'kind':'Bucket','name':'b'}}}")),
     "spec.rules[0].http.paths[1].backend"},
    {"backend_empty",
     FX_RULES(FX_RULE("bad.example", OK_PATH,
                      "{'path':'/x','pathType':'Prefix','backend':{}}")),
     "spec.rules[0].http.paths[1].backend"},
    {"backend_missing",
     FX_RULES(FX_RULE("bad.example", OK_PATH,
                      "{'path':'/x','pathType':'Prefix'}")),
     "spec.rules[0].http.paths[1].backend"},
    {"resource_without_kind",
     FX_RULES(FX_RULE("bad.example", OK_PATH,
                      "{'path':'/x','pathType':'Prefix','backend':{"
                      "'resource':{'name':'b'}}}")),
     "spec.rules[0].http.paths[1].backend.resource.kind"},
    {"service_name_missing",
     FX_RULES(FX_RULE("bad.example", OK_PATH,
                      "{'path':'/x','pathType':'Prefix','backend':{"
                      "'service':{'port':{'number':80}}}}")),
     "spec.rules[0].http.paths[1].backend.service.name"},
    {"service_name_invalid",
     FX_RULES(FX_RULE("bad.example", OK_PATH,
                      FX_PATH("/x", "Prefix", "Web_Svc", 80))),
     "spec.rules[0].http.paths[1].backend.service.name"},
    {"service_port_missing",
     FX_RULES(FX_RULE("bad.example", OK_PATH,
                      "{'path':'/x','pathType':'Prefix','backend':{"
                      "'service':{'name':'web'}}}")),
     "spec.rules[0].http.paths[1].backend.service.port"},
    {"port_number_and_name", BAD_PORT("{'number':80,'name':'http'}"),
     "spec.rules[0].http.paths[1].backend.service.port"},
    {"port_neither", BAD_PORT("{}"),
     "spec.rules[0].http.paths[1].backend.service.port"},
    {"port_zero", BAD_PORT("{'number':0}"),
     "spec.rules[0].http.paths[1].backend.service.port.number"},
    {"port_too_big", BAD_PORT("{'number':65536}"),
     "spec.rules[0].http.paths[1].backend.service.port.number"},
    {"port_fraction", BAD_PORT("{'number':80.5}"),
     "spec.rules[0].http.paths[1].backend.service.port.number"},
    {"port_number_as_string", BAD_PORT("{'number':'80'}"),
     "spec.rules[0].http.paths[1].backend.service.port.number"},
    {"port_name_upper_case", BAD_PORT("{'name':'HTTP'}"),
     "spec.rules[0].http.paths[1].backend.service.port.name"},
    {"port_name_double_dash", BAD_PORT("{'name':'a--b'}"),
     "spec.rules[0].http.paths[1].backend.service.port.name"},
    {"port_name_without_letter", BAD_PORT("{'name':'8080'}"),
     "spec.rules[0].http.paths[1].backend.service.port.name"},
    {"port_name_too_long", BAD_PORT("{'name':'abcdefghijklmnop'}"),
     "spec.rules[0].http.paths[1].backend.service.port.name"},
    {"neither_rules_nor_default", "'tls':[]", "spec"},
    {"empty_rules_no_default", "'rules':[]", "spec"},
    {"rules_not_a_list", "'rules':{'host':'bad.example'}", "spec.rules"},
    {"rule_not_an_object", "'rules':[5]", "spec.rules[0]"},
    {"http_not_an_object", "'rules':[{'host':'bad.example','http':'x'}]",
     "spec.rules[0].http"},
    {"no_paths", "'rules':[{'host':'bad.example','http':{'paths':[]}}]",
     "spec.rules[0].http.paths"},
    {"path_not_an_object",
     "'rules':[{'host':'bad.example','http':{'paths':['/x']}}]",
     "spec.rules[0].http.paths[0]"},
    {"default_backend_invalid",
     "'defaultBackend':{}," FX_RULES(FX_RULE("bad.example", OK_PATH)),
     "spec.defaultBackend"},
    {"default_backend_port_invalid",
     "'defaultBackend':{'service':{'name':'web','port':{'number':-1}}}",
     "spec.defaultBackend.service.port.number"},
};

/* One valid Ingress on good.example, one invalid Ingress on
 * bad.example; the invalid one vanishes entirely, with one warning. */
static void
run_case(void **state)
{
    const bad_case *c = *state;
    fixture f;
    char want[300];
    const char *log;

    fx_init(&f);
    f.cfg.watch_without_class = true;
    fx_service(&f, "default", "web", "http", 80, 8080, "10.0.0.1");
    fx_ingress(&f, "default", "good", NULL, "",
               FX_RULES(FX_RULE("good.example",
                                FX_PATH("/", "Prefix", "web", 80))));
    fx_ingress(&f, "default", "bad", NULL, "", c->spec);
    fx_capture_start();
    fx_build(&f);
    log = fx_capture_stop();

    assert_string_equal(fx_route(&f, "good.example", "/"), "web:80");
    assert_string_equal(fx_route(&f, "bad.example", "/ok"), "404");
    assert_string_equal(fx_route(&f, "bad.example", "/x"), "404");
    assert_int_equal(f.stats.ingresses_owned, 2);
    assert_int_equal(f.stats.ingresses_skipped, 1);
    assert_int_equal(f.stats.routes, 1);

    assert_non_null(strstr(log, "level=warn msg=\"ingress skipped\""));
    assert_non_null(strstr(log, "object=default/bad "));
    assert_non_null(strstr(log, "origin=\"test.yaml#1\""));
    snprintf(want, sizeof(want), "field=%s value=", c->field);
    if (strstr(log, want) == NULL)
        fail_msg("log lacks \"%s\":\n%s", want, log);
    fx_free(&f);
}

/* ------------------------------------------- what the API accepts */

static void
test_accepted_forms(void **state)
{
    fixture f;

    (void)state;
    fx_init(&f);
    f.cfg.watch_without_class = true;
    fx_service(&f, "default", "web", "http", 80, 8080, "10.0.0.1");
    fx_ingress(&f, "default", "forms", NULL, "",
               FX_RULES(FX_RULE("my-host",
                                "{'pathType':'ImplementationSpecific',"
                                "'backend':" FX_BACKEND("web", 80) "}"),
                        FX_RULE("*.wild.example",
                                FX_PATH("/api/(v1)$", "Prefix", "web", 80)),
                        FX_RULE("0a.example",
                                "{'path':'/n','pathType':'Exact','backend':{"
                                "'service':{'name':'web','port':{"
                                "'name':'http'}}}}")));
    fx_build(&f);
    assert_int_equal(f.stats.ingresses_skipped, 0);
    /* An empty ImplementationSpecific path means "/". */
    assert_string_equal(fx_route(&f, "my-host", "/anything"), "web:80");
    assert_string_equal(fx_route(&f, "a.wild.example", "/api/(v1)$/x"),
                        "web:80");
    assert_string_equal(fx_route(&f, "a.b.wild.example", "/api/(v1)$"),
                        "404");
    assert_string_equal(fx_route(&f, "0a.example", "/n"), "web:80");
    fx_free(&f);
}

/* A resource backend is valid but not served: that path is skipped,
 * the Ingress's other paths stay. */
static void
test_resource_backend_skips_path(void **state)
{
    fixture f;
    const char *log;

    (void)state;
    fx_init(&f);
    f.cfg.watch_without_class = true;
    fx_service(&f, "default", "web", "http", 80, 8080, "10.0.0.1");
    fx_ingress(&f, "default", "mixed", NULL, "",
               FX_RULES(FX_RULE("m.example",
                                "{'path':'/bucket','pathType':'Prefix',"
                                "'backend':{'resource':{"
                                "'apiGroup':'k8s.example.com',"
                                "'kind':'StorageBucket','name':'b'}}}",
                                FX_PATH("/", "Prefix", "web", 80))));
    fx_capture_start();
    fx_build(&f);
    log = fx_capture_stop();
    assert_int_equal(f.stats.ingresses_skipped, 0);
    assert_int_equal(f.stats.routes, 1);
    assert_string_equal(fx_route(&f, "m.example", "/bucket"), "web:80");
    assert_non_null(strstr(log, "msg=\"path skipped\""));
    assert_non_null(strstr(log, "field=spec.rules[0].http.paths[0].backend"
                                ".resource"));
    fx_free(&f);
}

/* Mistyped metadata and spec never crash the build. */
static void
test_mistyped_objects_survive(void **state)
{
    fixture f;

    (void)state;
    fx_init(&f);
    f.cfg.watch_without_class = true;
    fx_service(&f, "default", "web", "http", 80, 8080, "10.0.0.1");
    fx_put(&f, "{'apiVersion':'networking.k8s.io/v1','kind':'Ingress',"
               "'metadata':{'name':'a','namespace':'default',"
               "'annotations':5,'creationTimestamp':7},'spec':5}");
    fx_put(&f, "{'apiVersion':'networking.k8s.io/v1','kind':'Ingress',"
               "'metadata':{'name':'b','namespace':'default',"
               "'creationTimestamp':'yesterday'},"
               "'spec':{'ingressClassName':5,'rules':null,"
               "'defaultBackend':null}}");
    fx_put(&f, "{'apiVersion':'v1','kind':'Service',"
               "'metadata':{'namespace':'default','name':'odd'},"
               "'spec':{'ports':[5,{'port':'x'},{'name':7,'port':81}]}}");
    fx_put(&f, "{'apiVersion':'discovery.k8s.io/v1','kind':'EndpointSlice',"
               "'metadata':{'namespace':'default','name':'odd-1',"
               "'labels':{'kubernetes.io/service-name':'odd'}},"
               "'addressType':'IPv4','endpoints':[5,{'addresses':[7]},"
               "{'addresses':'x'},{'addresses':['10.9.9.9'],"
               "'conditions':5}],'ports':[{'port':8081}]}");
    fx_ingress(&f, "default", "odd", NULL, "",
               FX_RULES(FX_RULE("odd.example",
                                FX_PATH("/", "Prefix", "odd", 81))));
    fx_build(&f);
    assert_int_equal(f.stats.ingresses_owned, 3);
    assert_int_equal(f.stats.ingresses_skipped, 2);
    assert_string_equal(fx_route(&f, "odd.example", "/"), "odd:81");
    fx_free(&f);
}

int
main(void)
{
    enum { N = sizeof(cases) / sizeof(cases[0]) };
    struct CMUnitTest tests[N + 3];

    for (size_t i = 0; i < N; i++) {
        tests[i] = (struct CMUnitTest){
            .name = cases[i].name,
            .test_func = run_case,
            .initial_state = (void *)&cases[i],
        };
    }
    tests[N] = (struct CMUnitTest)cmocka_unit_test(test_accepted_forms);
    tests[N + 1] =
        (struct CMUnitTest)cmocka_unit_test(test_resource_backend_skips_path);
    tests[N + 2] =
        (struct CMUnitTest)cmocka_unit_test(test_mistyped_objects_survive);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
