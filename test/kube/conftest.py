"""Fixtures: a TLS stand-in per test (certificates made once per run) and
controllers that are always stopped at the end."""

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "backends"))

from kubetest import CONTROLLER, Controller, StandIn  # noqa: E402
from ports import free_port  # noqa: E402


def pytest_configure(config):
    if not CONTROLLER.exists():
        raise pytest.UsageError(f"{CONTROLLER} is not built; set "
                                f"SHMINGRESS_BUILD_DIR")


@pytest.fixture(scope="session")
def cert_dir(tmp_path_factory):
    return str(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def api(cert_dir):
    # restart() binds the same port again: it must not be one that an
    # outgoing connection can take meanwhile
    with StandIn(port=free_port(), tls=True, cert_dir=cert_dir,
                 bookmark_interval=1.0) as s:
        yield s


@pytest.fixture
def controller(tmp_path):
    """controller(api, *flags, **Controller options) -> a started
    controller, stopped (and checked for a clean exit) after the test."""
    made = []

    def make(api, *args, start=True, **kw):
        c = Controller(api, tmp_path / f"controller{len(made)}", args, **kw)
        made.append(c)
        return c.start() if start else c

    yield make
    for c in made:
        if c.proc is not None:
            assert c.stop() == 0, "controller did not exit cleanly:\n" + \
                c.log()[-3000:]
