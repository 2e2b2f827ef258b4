"""kopf's peering identity never needs a passwd entry (issue 18: UID 10001 has none)."""

from __future__ import annotations

from sloalert.operator.main import own_identity


def test_the_pod_name_from_the_downward_api_is_the_identity() -> None:
    assert own_identity({"POD_ID": "fdc-sloalert-operator-5d-x1"}, "host") == (
        "fdc-sloalert-operator-5d-x1"
    )


def test_without_pod_id_the_host_name_is_the_identity() -> None:
    assert own_identity({}, "laptop") == "laptop"
    assert own_identity({"POD_ID": ""}, "laptop") == "laptop"
