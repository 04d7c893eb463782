"""Basic authentication from route policies: every htpasswd hash format
(bcrypt, apr1, {SHA}, crypt), wrong passwords, unknown users, malformed
headers, the realm in the challenge, 503 for a denied policy, and the
Authorization header kept from the backend of an authenticated route
(but passed to one without auth)."""

import base64
import os
import subprocess
import warnings

import pytest

from conftest import endpoint

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import crypt  # noqa: E402  (Debian 12's Python 3.11 still has it)


def htpasswd(flag, user, password):
    """One "user:hash" line from Apache's htpasswd (apache2-utils); flag
    B is bcrypt at its lowest cost, to keep the tests fast."""
    extra = ["-C", "4"] if flag == "B" else []
    out = subprocess.run(["htpasswd", "-nb" + flag] + extra +
                         [user, password],
                         check=True, capture_output=True, text=True)
    return out.stdout.strip()


def basic(user, password):
    token = base64.b64encode(("%s:%s" % (user, password)).encode()).decode()
    return {"Authorization": "Basic " + token}


def write_secret(nginx, lines, name="htpasswd"):
    path = os.path.join(nginx.state, name)
    with open(path, "w") as f:
        f.write("".join(line + "\n" for line in lines))
    return path


def spec(backend, secret, realm="Restricted", extra=""):
    return """
        backend a default/svc-a:80 %s
        policy p auth-basic=%s auth-realm=%s %s
        route a.example.com Prefix / a default/ing policy=p
        route b.example.com Prefix / a default/open
    """ % (endpoint(backend), secret, realm, extra)


def get(nginx, headers=None, host="a.example.com"):
    return nginx.request("/", host=host, headers=headers)


HASHES = {
    "bcrypt-2y": lambda u, p: htpasswd("B", u, p),
    "apr1": lambda u, p: htpasswd("m", u, p),
    "sha": lambda u, p: htpasswd("s", u, p),
    "crypt-des": lambda u, p: "%s:%s" % (u, crypt.crypt(p, "ab")),
    "crypt-sha512": lambda u, p: "%s:%s" % (
        u, crypt.crypt(p, crypt.mksalt(crypt.METHOD_SHA512))),
    "bcrypt-2b": lambda u, p: "%s:%s" % (
        u, crypt.crypt(p, crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=16))),
}


@pytest.mark.parametrize("kind", sorted(HASHES))
def test_each_hash_format(nginx, backends, kind):
    a = backends("svc-a")
    line = HASHES[kind]("alice", "s3cret pass")
    nginx.publish(spec(a, write_secret(nginx, ["bob:{SHA}x", line])))

    assert get(nginx, basic("alice", "s3cret pass")).status == 200
    # twice: the second answer may come from the worker's cache
    assert get(nginx, basic("alice", "s3cret pass")).status == 200
    # (DES crypt reads 8 characters: both differ within them)
    assert get(nginx, basic("alice", "S3cret pass")).status == 401
    assert get(nginx, basic("alice", "s3cret")).status == 401


def test_apr1_known_answer(nginx, backends):
    """A hash from Apache's documentation-style output, fixed here so
    that the check does not only agree with the local htpasswd."""
    a = backends("svc-a")
    nginx.publish(spec(a, write_secret(
        nginx, ["u:$apr1$SiUouV62$RuLXDrJRIp7rlaoVdy.m8."])))
    assert get(nginx, basic("u", "pw")).status == 200
    assert get(nginx, basic("u", "pW")).status == 401


def test_challenge_and_failures(nginx, backends):
    a = backends("svc-a")
    nginx.publish(spec(a, write_secret(nginx, [htpasswd("s", "alice", "pw")]),
                       realm='Team%20"A"%20\\area'))

    resp = get(nginx)
    assert resp.status == 401
    assert resp.headers["WWW-Authenticate"] == \
        'Basic realm="Team \\"A\\" \\\\area"'

    for headers in (basic("alice", "wrong"), basic("mallory", "pw"),
                    basic("", "pw"),
                    {"Authorization": "Basic !!!not-base64"},
                    {"Authorization": "Basic " +
                     base64.b64encode(b"no-colon").decode()},
                    {"Authorization": "Bearer abc"},
                    {"Authorization": "Basic"}):
        resp = get(nginx, headers)
        assert resp.status == 401, headers
        assert resp.headers["WWW-Authenticate"].startswith("Basic realm=")

    log = nginx.error_log()
    assert 'user "mallory" was not found in the auth secret of ingress ' \
        'default/ing' in log
    assert 'user "alice": password mismatch for ingress default/ing' in log
    assert "wrong" not in log

    # the other host has no auth
    assert get(nginx, host="b.example.com").status == 200


def test_default_realm_is_empty(nginx, backends):
    a = backends("svc-a")
    nginx.publish("""
        backend a default/svc-a:80 %s
        policy p auth-basic=%s
        route a.example.com Prefix / a default/ing policy=p
    """ % (endpoint(a), write_secret(nginx, [htpasswd("s", "u", "p")])))
    assert get(nginx).headers["WWW-Authenticate"] == 'Basic realm=""'


def test_authorization_is_not_forwarded(nginx, backends):
    a = backends("svc-a")
    nginx.publish(spec(a, write_secret(nginx, [htpasswd("s", "alice", "pw")])))

    resp = get(nginx, basic("alice", "pw"))
    assert resp.status == 200
    assert "Authorization" not in resp.json()["headers"]

    # a route without auth passes the client's header on
    resp = get(nginx, basic("alice", "pw"), host="b.example.com")
    assert resp.json()["headers"]["Authorization"] == \
        [basic("alice", "pw")["Authorization"]]


def test_remote_user_is_logged(nginx, backends):
    a = backends("svc-a")
    nginx.publish(spec(a, write_secret(nginx, [htpasswd("s", "alice", "pw")])))
    assert get(nginx, basic("alice", "pw")).status == 200
    assert " - alice [" in nginx.access_log()[-1]


def test_changed_secret_takes_effect(nginx, backends):
    """A new password works at once and the old one stops, cached or
    not: the policy changes with the secret."""
    a = backends("svc-a")
    nginx.publish(spec(a, write_secret(
        nginx, [htpasswd("B", "alice", "old")])))
    assert get(nginx, basic("alice", "old")).status == 200

    nginx.publish(spec(a, write_secret(
        nginx, [htpasswd("B", "alice", "new")],
        name="htpasswd2")))
    assert get(nginx, basic("alice", "old")).status == 401
    assert get(nginx, basic("alice", "new")).status == 200


def test_denied_policy_answers_503(nginx, backends):
    a = backends("svc-a")
    nginx.publish(spec(a, write_secret(nginx, [htpasswd("s", "u", "p")]),
                       extra="denied"))
    assert get(nginx, basic("u", "p")).status == 503
    assert get(nginx).status == 503
    assert get(nginx, host="b.example.com").status == 200


def test_source_ranges_come_first(nginx, backends):
    a = backends("svc-a")
    nginx.publish(spec(a, write_secret(nginx, [htpasswd("s", "u", "p")]),
                       extra="deny=127.0.0.1/32"))
    assert get(nginx, basic("u", "p")).status == 403
    assert get(nginx).status == 403


def test_digest_policy_is_denied(nginx, backends):
    """The controller never writes digest auth; a table that has it
    denies rather than serving the route open."""
    a = backends("svc-a")
    nginx.publish("""
        backend a default/svc-a:80 %s
        policy p auth-digest=%s
        route a.example.com Prefix / a default/ing policy=p
    """ % (endpoint(a), write_secret(nginx, ["u:realm:0123"])))
    assert get(nginx).status == 503
    assert "digest authentication is not supported" in nginx.error_log()
