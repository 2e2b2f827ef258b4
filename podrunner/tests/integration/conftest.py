"""What the pod runner's integration tests need: root, bubblewrap, the rendered umbrella.

Sandboxes and network namespaces need root (as a container runtime does). Without it, or
without bwrap, a test skips locally and fails under CI (testkit.tools' rule).
"""

from __future__ import annotations

import os

import pytest
from testkit.chart_stub import render_umbrella
from testkit.helm import Rendered
from testkit.tools import in_ci, require_tool

NAMESPACE = "monitoring"


@pytest.fixture(scope="session")
def umbrella() -> Rendered:
    require_tool("helm")
    return render_umbrella(namespace=NAMESPACE)


@pytest.fixture(scope="session")
def pod_tools() -> None:
    require_tool("bwrap")
    if os.geteuid() != 0:
        message = "the pod runner needs root (mount and network namespaces, setpriv)"
        if in_ci():
            pytest.fail(message)
        pytest.skip(message)
