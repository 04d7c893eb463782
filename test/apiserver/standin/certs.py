"""TLS material and kubeconfig files for the stand-in.

A throwaway CA and a server certificate (SAN 127.0.0.1, ::1, localhost)
made with the openssl command line, kept in a directory so a restarted
stand-in serves the same certificate clients already trust. The kubeconfig
writer produces what kubectl and the controller read: server URL, CA (inline
or as a file), bearer token (inline or tokenFile).
"""

import base64
import os
import subprocess

CA_CERT, CA_KEY = "ca.crt", "ca.key"
SERVER_CERT, SERVER_KEY = "server.crt", "server.key"


def _openssl(*args):
    proc = subprocess.run(["openssl", *args], capture_output=True,
                          text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"openssl {args[0]} failed: "
                           f"{proc.stderr.strip()}")


def ensure_certificates(directory):
    """Create CA + server cert in directory unless they are already there;
    returns (ca file, cert file, key file)."""
    def path(name):
        return os.path.join(directory, name)

    if all(os.path.exists(path(n)) for n in (CA_CERT, SERVER_CERT,
                                             SERVER_KEY)):
        return path(CA_CERT), path(SERVER_CERT), path(SERVER_KEY)
    os.makedirs(directory, exist_ok=True)
    ec = ("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
          "-nodes")
    _openssl("req", "-x509", *ec, "-keyout", path(CA_KEY),
             "-out", path(CA_CERT), "-days", "3650",
             "-subj", "/CN=shmingress-standin-ca",
             "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    _openssl("req", *ec, "-keyout", path(SERVER_KEY),
             "-out", path("server.csr"), "-subj", "/CN=kube-apiserver")
    with open(path("server.ext"), "w") as ext:
        ext.write("basicConstraints=CA:FALSE\n"
                  "keyUsage=critical,digitalSignature\n"
                  "extendedKeyUsage=serverAuth\n"
                  "subjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost,"
                  "DNS:kubernetes.default.svc\n")
    _openssl("x509", "-req", "-in", path("server.csr"), "-CA", path(CA_CERT),
             "-CAkey", path(CA_KEY), "-set_serial", "0x" + os.urandom(8).hex(),
             "-days", "825", "-extfile", path("server.ext"),
             "-out", path(SERVER_CERT))
    for name in (CA_KEY, SERVER_KEY):
        os.chmod(path(name), 0o600)
    return path(CA_CERT), path(SERVER_CERT), path(SERVER_KEY)


def kubeconfig_text(server, token=None, ca_file=None, ca_inline=True,
                    token_file=None, insecure=False, namespace="default"):
    """A kubeconfig with one cluster, user and context, all named
    "standin"."""
    cluster = [f"    server: {server}"]
    if insecure:
        cluster.append("    insecure-skip-tls-verify: true")
    elif ca_file and ca_inline:
        with open(ca_file, "rb") as f:
            data = base64.b64encode(f.read()).decode()
        cluster.append(f"    certificate-authority-data: {data}")
    elif ca_file:
        cluster.append(f"    certificate-authority: {ca_file}")
    user = []
    if token_file:
        user.append(f"    tokenFile: {token_file}")
    elif token:
        user.append(f"    token: {token}")
    return "\n".join([
        "apiVersion: v1",
        "kind: Config",
        "clusters:",
        "- name: standin",
        "  cluster:",
        *cluster,
        "users:",
        "- name: standin",
        "  user:" + ("" if user else " {}"),
        *user,
        "contexts:",
        "- name: standin",
        "  context:",
        "    cluster: standin",
        "    user: standin",
        f"    namespace: {namespace}",
        "current-context: standin",
        "",
    ])


def write_kubeconfig(path, text):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    return path
