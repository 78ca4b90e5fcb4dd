"""make ha-test: kept on a Patroni-managed primary and synchronous standby.

The integration suite's helpers (keptd, kept-telsim, HTTP client) are loaded
from tests/integration/conftest.py as the module `it`; the cluster comes from
patroni_cluster.py. One Patroni cluster serves the whole session; each test
takes its own database on it.
"""
import importlib.util
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
# the integration conftest imports its sibling modules (spec_check, helpers)
sys.path.insert(1, str(HERE.parent / "integration"))
_spec = importlib.util.spec_from_file_location("it", HERE.parent / "integration" / "conftest.py")
it = importlib.util.module_from_spec(_spec)
sys.modules["it"] = it
_spec.loader.exec_module(it)

from patroni_cluster import PatroniCluster  # noqa: E402


@pytest.fixture(scope="session")
def ha():
    c = PatroniCluster()
    yield c
    c.destroy()
