/*
 * model_fixture.c -- see model_fixture.h.  Everything runs the real
 * store, model, builder, validator and lookup; nothing is stubbed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "model_fixture.h"

void
fx_init(fixture *f)
{
    memset(f, 0, sizeof(*f));
    f->store = ctl_store_new();
    assert_non_null(f->store);
    f->cfg.controller_class = "shmingress.io/controller";
    f->cfg.ingress_class = "shmingress";
    f->cfg.annotations_prefix = "nginx.ingress.kubernetes.io";
}

void
fx_free(fixture *f)
{
    ctl_store_free(f->store);
    free(f->table);
    f->store = NULL;
    f->table = NULL;
}

void
fx_put(fixture *f, const char *fmt, ...)
{
    char text[8192];
    cJSON *json;
    const cJSON *meta;
    const char *ns, *name;
    va_list ap;
    int kind, n;

    va_start(ap, fmt);
    n = vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    assert_true(n > 0 && (size_t)n < sizeof(text));
    for (char *p = text; *p; p++) {
        if (*p == '\'')
            *p = '"';
    }
    json = cJSON_Parse(text);
    if (json == NULL)
        fail_msg("bad fixture JSON: %s", text);
    kind = ctl_kind_from_json(json);
    assert_true(kind >= 0);
    meta = cJSON_GetObjectItemCaseSensitive(json, "metadata");
    ns = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(meta,
                                                               "namespace"));
    name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(meta,
                                                                 "name"));
    assert_non_null(name);
    /* The store copies the key before it owns json. */
    assert_int_equal(ctl_store_put(f->store, (ctl_kind)kind, ns, name, json,
                                   "test.yaml#1"),
                     0);
}

void
fx_ingress(fixture *f, const char *ns, const char *name, const char *created,
           const char *meta, const char *spec)
{
    char ts[64] = "";

    if (created != NULL)
        snprintf(ts, sizeof(ts), ",'creationTimestamp':'%s'", created);
    fx_put(f,
           "{'apiVersion':'networking.k8s.io/v1','kind':'Ingress',"
           "'metadata':{'namespace':'%s','name':'%s'%s%s%s},"
           "'spec':{%s}}",
           ns, name, ts, meta[0] ? "," : "", meta, spec);
}

void
fx_our_class(fixture *f, const char *name, int is_default)
{
    fx_put(f,
           "{'apiVersion':'networking.k8s.io/v1','kind':'IngressClass',"
           "'metadata':{'name':'%s'%s},"
           "'spec':{'controller':'shmingress.io/controller'}}",
           name,
           is_default ? ",'annotations':{'ingressclass.kubernetes.io/"
                        "is-default-class':'true'}"
                      : "");
}

void
fx_service(fixture *f, const char *ns, const char *name,
           const char *port_name, int port, int target, const char *ip)
{
    fx_put(f,
           "{'apiVersion':'v1','kind':'Service',"
           "'metadata':{'namespace':'%s','name':'%s'},"
           "'spec':{'type':'ClusterIP','ports':[{'name':'%s','port':%d,"
           "'targetPort':%d}]}}",
           ns, name, port_name, port, target);
    fx_put(f,
           "{'apiVersion':'discovery.k8s.io/v1','kind':'EndpointSlice',"
           "'metadata':{'namespace':'%s','name':'%s-abc',"
           "'labels':{'kubernetes.io/service-name':'%s'}},"
           "'addressType':'IPv4',"
           "'endpoints':[{'addresses':['%s'],'conditions':{'ready':true}}],"
           "'ports':[{'name':'%s','port':%d,'protocol':'TCP'}]}",
           ns, name, name, ip, port_name, target);
}

void
fx_build(fixture *f)
{
    tbl_builder *b = tbl_builder_new();
    char err[256];

    assert_non_null(b);
    free(f->table);
    f->table = NULL;
    assert_int_equal(ctl_model_build(f->store, &f->cfg, b, &f->stats), 0);
    if (tbl_builder_finish(b, 1, &f->table, &f->table_len, err,
                           sizeof(err)) != 0)
        fail_msg("tbl_builder_finish: %s", err);
    tbl_builder_free(b);
    if (tbl_view_init(&f->view, f->table, f->table_len, err, sizeof(err)) !=
        0)
        fail_msg("tbl_view_init: %s", err);
}

static const tbl_route *
lookup(fixture *f, const char *host, const char *path)
{
    tbl_match m;

    tbl_lookup(&f->view, host, strlen(host), path, strlen(path), NULL, NULL,
               &m);
    if (m.kind == TBL_MATCH_NONE)
        return NULL;
    assert_true(m.route < f->view.route_count);
    return &f->view.routes[m.route];
}

const char *
fx_route(fixture *f, const char *host, const char *path)
{
    const tbl_route *r = lookup(f, host, path);
    const tbl_backend *be;

    if (r == NULL)
        return "404";
    assert_true(r->backend < f->view.backend_count);
    be = &f->view.backends[r->backend];
    snprintf(f->answer, sizeof(f->answer), "%s:%u%s%s%s",
             tbl_view_str(&f->view, be->service_name), be->port,
             be->flags & TBL_BACKEND_SERVICE_MISSING ? "!missing" : "",
             be->flags & TBL_BACKEND_PORT_MISSING ? "!port" : "",
             be->flags & TBL_BACKEND_NO_ENDPOINTS ? "!noep" : "");
    return f->answer;
}

const tbl_backend *
fx_backend(fixture *f, const char *host, const char *path)
{
    const tbl_route *r = lookup(f, host, path);

    assert_non_null(r);
    assert_true(r->backend < f->view.backend_count);
    return &f->view.backends[r->backend];
}

const char *
fx_route_owner(fixture *f, const char *host, const char *path)
{
    const tbl_route *r = lookup(f, host, path);

    if (r == NULL)
        return "";
    snprintf(f->answer, sizeof(f->answer), "%s/%s",
             tbl_view_str(&f->view, r->ingress_namespace),
             tbl_view_str(&f->view, r->ingress_name));
    return f->answer;
}

void
fx_init_service_a(fixture *f)
{
    fx_init(f);
    fx_our_class(f, "shmingress", 1);
    fx_service(f, "default", "a", "", 80, 8080, "10.0.0.1");
}

void
fx_annotated_ingress(fixture *f, const char *name, const char *host,
                     const char *ann)
{
    char meta[600], spec[300];

    snprintf(meta, sizeof(meta), "'annotations':{%s}", ann);
    snprintf(spec, sizeof(spec),
             FX_RULES(FX_RULE("%s", FX_PATH("/", "Prefix", "a", 80))), host);
    fx_ingress(f, "default", name, NULL, meta, spec);
}

const tbl_policy *
fx_policy(fixture *f, const char *host)
{
    tbl_match m;

    tbl_lookup(&f->view, host, strlen(host), "/", 1, NULL, NULL, &m);
    assert_int_not_equal(m.kind, TBL_MATCH_NONE);
    return tbl_view_policy(&f->view, f->view.routes[m.route].policy);
}

const tbl_route *
fx_route_of(fixture *f, const char *name)
{
    for (uint32_t i = 0; i < f->view.route_count; i++) {
        const tbl_route *r = &f->view.routes[i];

        if (r->path_type != TBL_PATH_DEFAULT &&
            strcmp(tbl_view_str(&f->view, r->ingress_name), name) == 0)
            return r;
    }
    fail_msg("no route of %s", name);
    return NULL;
}

static FILE *capture_file;
static int saved_stderr = -1;
static char capture_buf[65536];

void
fx_capture_start(void)
{
    capture_file = tmpfile();
    assert_non_null(capture_file);
    saved_stderr = dup(STDERR_FILENO);
    assert_true(saved_stderr >= 0);
    assert_true(dup2(fileno(capture_file), STDERR_FILENO) >= 0);
}

const char *
fx_capture_stop(void)
{
    size_t n;

    dup2(saved_stderr, STDERR_FILENO);
    close(saved_stderr);
    saved_stderr = -1;
    rewind(capture_file);
    n = fread(capture_buf, 1, sizeof(capture_buf) - 1, capture_file);
    capture_buf[n] = '\0';
    fclose(capture_file);
    capture_file = NULL;
    return capture_buf;
}
