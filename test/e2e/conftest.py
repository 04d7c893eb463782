"""conftest.py -- fixtures shared by the end-to-end suite (clusters,
module_clusters and the build check come from cluster_fixtures.py, which
the TLS suite imports as well).

`clusters` gives a test a factory for private shmingress instances that
are torn down (process group killed, nothing left behind) when the test
ends; `module_clusters` does the same for instances shared by a whole test
module (the big routing tables).  A missing build is a failure, never a
skip: ctest must not pass on a tree that was not built.
"""

import os

import harness
from cluster_fixtures import (  # noqa: F401  (pytest finds them here)
    clusters, module_clusters, pytest_sessionstart)


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
