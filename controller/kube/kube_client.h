/*
 * kube_client.h -- HTTP requests to the Kubernetes API server, driven by
 * the controller's event loop.
 *
 * One curl multi handle carries every request.  Its sockets and its timer
 * are registered in the ctl loop (CURLMOPT_SOCKETFUNCTION/TIMERFUNCTION,
 * curl_multi_socket_action), so a request never blocks the loop and no
 * thread is started.  A request is started with a method, a path (with
 * its query) and optionally a JSON body; it ends with exactly one call of
 * on_done, unless it is cancelled first.  A request with on_data set is a
 * stream (a watch): its 2xx body is handed over as it arrives and never
 * buffered; a non-2xx body is buffered (bounded) and reported in on_done
 * like any other error.
 *
 * The client adds the base URL, TLS trust and client certificate, the
 * bearer token, "User-Agent: shmingress-controller/<version>",
 * "Accept: application/json" and gzip.  A token file is re-read when a
 * request starts and the last read is KUBE_TOKEN_REFRESH_MS old, and at
 * once after any 401.  The client does
 * not retry, rate-limit or parse bodies: callers know what a failure means
 * for them (the reflectors back off and relist; a status writer re-reads).
 *
 * Callbacks run on the loop's thread.  on_done runs outside curl, so it
 * may start and cancel requests freely; on_data runs inside curl's write
 * callback, where starting or cancelling requests is still allowed (the
 * client defers the curl calls) but the request itself ends only by
 * returning -1.
 */
#ifndef SHMINGRESS_KUBE_CLIENT_H
#define SHMINGRESS_KUBE_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kube_config.h"
#include "loop.h"

#define KUBE_CONNECT_TIMEOUT_MS 10000u
#define KUBE_REQUEST_TIMEOUT_MS 60000u    /* default for non-streams     */
#define KUBE_MAX_BODY           (64u << 20) /* default response bound    */
#define KUBE_MAX_ERROR_BODY     (64u << 10) /* non-2xx body of a stream  */
#define KUBE_TOKEN_REFRESH_MS   60000u

typedef struct kube_client kube_client;
typedef struct kube_request kube_request;

typedef struct {
    long        status;        /* HTTP status; 0 when none arrived        */
    bool        failed;        /* no complete response: connection, TLS,
                                  timeout, body over max_body, or on_data
                                  returned -1                              */
    const char *error;         /* why it failed (curl's words), else ""   */
    const char *body;          /* NUL-terminated, "" for a 2xx stream;
                                  valid only during on_done               */
    size_t      body_len;
    uint32_t    retry_after_s; /* Retry-After in seconds, 0 when absent   */
    bool        token_renewed; /* a 401, and the token file (re-read on
                                  it) now holds another token than the
                                  request carried: retry at once          */
} kube_response;

typedef void kube_done_fn(kube_request *req, const kube_response *resp,
                          void *data);

/* Returns 0 to go on, -1 to end the transfer (on_done reports failed). */
typedef int kube_data_fn(kube_request *req, const char *buf, size_t len,
                         void *data);

typedef struct {
    const char   *method;       /* "GET" (default when NULL), "POST", "PUT",
                                   "PATCH", "DELETE"                       */
    const char   *path;         /* "/api/v1/namespaces/x/services?limit=500",
                                   query already escaped (kube_escape)     */
    const char   *body;         /* NULL: none; copied by the client        */
    size_t        body_len;
    const char   *content_type; /* with a body; default "application/json";
                                   "application/merge-patch+json" for
                                   PATCH                                   */
    uint32_t      timeout_ms;   /* whole request; 0: KUBE_REQUEST_TIMEOUT_MS */
    size_t        max_body;     /* 0: KUBE_MAX_BODY                        */
    kube_data_fn *on_data;      /* set: a stream                           */
    kube_done_fn *on_done;      /* required                                */
    void         *data;
} kube_request_opts;

/*
 * Reads the token (when it comes from a file) and sets up curl.  The
 * configuration is copied.  Returns NULL with a message in err.
 */
kube_client *kube_client_new(ctl_loop *loop, const kube_config *cfg,
                             char *err, size_t errlen);

/* Cancels every request still running, without calling back. */
void kube_client_free(kube_client *c);

/*
 * Starts a request.  Returns NULL (errno set) only when out of memory or
 * when opts are unusable (no path or no on_done: EINVAL); failures of the
 * request itself always come through on_done.
 */
kube_request *kube_request_start(kube_client *c, const kube_request_opts *opts);

/*
 * Ends a request now; its on_done is not called.  NULL, and a request
 * inside its own on_done (it is freed when on_done returns), are no-ops.
 */
void kube_request_cancel(kube_request *req);

/*
 * Re-reads the token file now.  Returns 1 when the token changed, 0 when
 * not (or when the token does not come from a file), -1 when the file
 * cannot be read (the old token stays in use; the reason is logged).
 */
int kube_client_reload_token(kube_client *c);

/* "https://host:port", for log lines. */
const char *kube_client_server(const kube_client *c);

/*
 * Percent-encodes s for a path segment or a query value (everything but
 * RFC 3986 unreserved characters) into buf.  Returns buf, or NULL when it
 * does not fit.
 */
char *kube_escape(const char *s, char *buf, size_t buflen);

/*
 * One line about a failed or non-2xx response for logs: "HTTP 403
 * Forbidden: <the Status message>" or "transport: <error>".  Status
 * messages name objects, never credentials.  Returns buf.
 */
const char *kube_response_describe(const kube_response *resp, char *buf,
                                   size_t buflen);

#endif
