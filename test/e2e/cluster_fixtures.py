"""cluster_fixtures.py -- the fixtures the end-to-end and TLS suites
share, imported by each suite's conftest.py.

`clusters` gives a test a factory for private shmingress instances that
are torn down (process group killed, nothing left behind) when the test
ends; `module_clusters` does the same for instances shared by a whole test
module.  pytest_sessionstart makes a missing build a failure, never a
skip: ctest must not pass on a tree that was not built.  It holds no
suite's own hooks (timings stay in the e2e conftest)."""

import pytest

import harness


def pytest_sessionstart(session):
    missing = [str(p) for p in (harness.CONTROLLER_BIN, harness.MODULE_SO,
                                harness.RUN_LOCAL) if not p.exists()]
    if missing:
        raise pytest.UsageError("shmingress is not built (missing: %s); run "
                                "scripts/test or set SHMINGRESS_BUILD_DIR"
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
