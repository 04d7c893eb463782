"""Fixtures: a running stand-in (plain HTTP or TLS) and a client for it."""

import os
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "..", "backends"))

from kube_standin import StandIn  # noqa: E402
from ports import free_port  # noqa: E402
from standin_client import Client  # noqa: E402


@pytest.fixture
def standin():
    with StandIn() as api:
        yield api


@pytest.fixture
def client(standin):
    return Client(standin.url, standin.token)


@pytest.fixture
def tls_standin(tmp_path):
    # restart() binds the same port again: it must not be one that an
    # outgoing connection can take meanwhile
    with StandIn(port=free_port(), tls=True,
                 cert_dir=str(tmp_path / "tls")) as api:
        yield api

