"""Fixtures: an API stand-in over TLS per test, and shmingress clusters in
API mode that are always stopped (nothing left running) at the end.  A
missing build is a failure, never a skip; a missing kubectl skips, saying
so."""

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import apie2e  # noqa: E402
from apie2e import harness, kubetest  # noqa: E402


def pytest_sessionstart(session):
    missing = [str(p) for p in (harness.CONTROLLER_BIN, harness.MODULE_SO,
                                harness.RUN_LOCAL, kubetest.TABLE_TOOL)
               if not p.exists()]
    if missing:
        raise pytest.UsageError("shmingress is not built (missing: %s); set "
                                "SHMINGRESS_BUILD_DIR" % ", ".join(missing))


def pytest_collection_modifyitems(config, items):
    if not apie2e.KUBECTL.exists():
        skip = pytest.mark.skip(reason="%s is not installed: these tests "
                                "drive the API with kubectl" % apie2e.KUBECTL)
        for item in items:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def cert_dir(tmp_path_factory):
    return str(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def api(cert_dir):
    # restart() binds the same port again: it must not be one that an
    # outgoing connection can take meanwhile
    with kubetest.StandIn(port=harness.free_port(), tls=True,
                          cert_dir=cert_dir, bookmark_interval=1.0) as s:
        yield s


@pytest.fixture
def cluster(api, tmp_path_factory):
    """A started-later ApiCluster on the test's stand-in; stopped at the
    end, with its backends."""
    c = apie2e.ApiCluster(tmp_path_factory.mktemp("cluster"), api)
    yield c
    c.stop()
