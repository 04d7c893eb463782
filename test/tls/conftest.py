"""conftest.py -- fixtures of the TLS suite: private shmingress instances
from the end-to-end harness (test/e2e/harness.py), stopped when the test
(clusters) or the test module (module_clusters) ends.  A missing build is
a failure, never a skip."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "e2e"))
from cluster_fixtures import (  # noqa: E402,F401  (pytest finds them here)
    clusters, module_clusters, pytest_sessionstart)
