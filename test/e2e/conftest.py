"""conftest.py -- fixtures shared by the end-to-end suite.

`clusters` gives a test a factory for private shmingress instances that
are torn down (process group killed, nothing left behind) when the test
ends; `module_clusters` does the same for instances shared by a whole test
module (the big routing tables).  A missing build is a failure, never a
skip: ctest must not pass on a tree that was not built.
"""

import os

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


def timing_lines():
    return ["%-60s %8.1f ms" % (name, seconds * 1000)
            for name, seconds in harness.TIMINGS]


def pytest_terminal_summary(terminalreporter):
    if harness.TIMINGS:
        terminalreporter.section("shmingress timings (informational)")
        for line in timing_lines():
            terminalreporter.write_line(line)


def pytest_sessionfinish(session):
    """ctest shows output only on failure: keep the timings next to the
    run's temp dirs (build/test/e2e/<test>/timings.txt) as well."""
    basetemp = session.config.option.basetemp
    if harness.TIMINGS and basetemp:
        with open(os.path.join(basetemp, "timings.txt"), "w") as f:
            f.write("\n".join(timing_lines()) + "\n")
