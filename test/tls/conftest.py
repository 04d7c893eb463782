"""conftest.py -- fixtures of the TLS suite: private shmingress instances
from the end-to-end harness (test/e2e/harness.py), stopped when the test
(clusters) or the test module (module_clusters) ends.  A missing build is
a failure, never a skip."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "e2e"))
import harness  # noqa: E402


def pytest_sessionstart(session):
    missing = [str(p) for p in (harness.CONTROLLER_BIN, harness.MODULE_SO,
                                harness.RUN_LOCAL) if not p.exists()]
    if missing:
        raise pytest.UsageError("shmingress is not built (missing: %s)"
                                % ", ".join(missing))


@pytest.fixture
def clusters(tmp_path_factory):
    factory = harness.ClusterFactory(tmp_path_factory)
    yield factory
    factory.stop_all()


@pytest.fixture(scope="module")
def module_clusters(tmp_path_factory):
    factory = harness.ClusterFactory(tmp_path_factory)
    yield factory
    factory.stop_all()
