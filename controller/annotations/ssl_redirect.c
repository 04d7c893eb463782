/*
 * ssl_redirect.c -- ssl-redirect, force-ssl-redirect and
 * preserve-trailing-slash: whether plain HTTP to an Ingress's routes is
 * sent to HTTPS.  The defaults are ingress-nginx's ConfigMap defaults
 * (ssl-redirect on, the others off).  Whether a host has a certificate
 * and the redirect itself are the model's and the module's business.
 */
#include <stddef.h>

#include "registry.h"

enum { K_SSL, K_FORCE, K_PRESERVE };

static const ctl_ann_key ssl_redirect_keys[] = {
    [K_SSL] = {"ssl-redirect", CTL_ANN_BOOL, 0, 0,
               offsetof(ctl_ann_ssl_redirect, ssl_redirect), 0},
    [K_FORCE] = {"force-ssl-redirect", CTL_ANN_BOOL, 0, 0,
                 offsetof(ctl_ann_ssl_redirect, force), 0},
    [K_PRESERVE] = {"preserve-trailing-slash", CTL_ANN_BOOL, 0, 0,
                    offsetof(ctl_ann_ssl_redirect, preserve_trailing_slash),
                    0},
};

static void
ssl_redirect_defaults(void *p)
{
    ctl_ann_ssl_redirect *s = p;

    s->ssl_redirect = true;
}

const ctl_ann_family ctl_ann_ssl_redirect_family = {
    "ssl-redirect",
    ssl_redirect_keys,
    sizeof(ssl_redirect_keys) / sizeof(ssl_redirect_keys[0]),
    offsetof(ctl_annotations, ssl_redirect),
    sizeof(ctl_ann_ssl_redirect),
    ssl_redirect_defaults,
    NULL,
};
