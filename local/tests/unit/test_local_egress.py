"""The relay's pod reaches Discord through one Service name: the webhook's host."""

from __future__ import annotations

import pytest
from fdc_local.stack import _egress


def test_the_webhooks_host_is_the_relays_one_way_out_and_its_token_is_never_shown() -> None:
    url = "https://127.0.0.1:8443/api/webhooks/1/secret-token"
    assert _egress(url) == {"127.0.0.1": {8443: ("127.0.0.1", 8443)}}
    with pytest.raises(ValueError, match="no host") as refused:
        _egress("discord/api/webhooks/1/secret-token")
    assert "secret-token" not in str(refused.value)
