"""Kubernetes API stand-in for shmingress tests.

The package behind kube_standin.py: an in-memory API server that speaks the
list/watch protocol of kube-apiserver over HTTP/1.1 (optionally TLS) closely
enough for kubectl and for the controller's API client. It is a test double,
not a cluster: no admission, no garbage collection, no finalizers, no
server-side apply, no controllers filling EndpointSlices.
"""

from .errors import ApiError
from .server import StandIn

__all__ = ["ApiError", "StandIn"]
