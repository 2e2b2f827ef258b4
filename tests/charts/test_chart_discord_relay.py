"""The discord-relay chart: its two Secrets (the token alone, the webhook URL), mounted as
files; the log sink; one replica."""

from __future__ import annotations

import base64
from pathlib import Path, PurePosixPath
from typing import Any

import httpx
import pytest
from testkit import helm
from testkit.discord import run_relay

CHART = "discord-relay"
WEBHOOK = "https://discord.com/api/webhooks/42/test-webhook-token-not-real"


def pod(rendered: helm.Rendered) -> dict[str, Any]:
    return rendered.one("Deployment")["spec"]["template"]["spec"]


def _secret_volume(spec: dict[str, Any]) -> dict[str, Any]:
    [volume] = [v for v in spec["volumes"] if "projected" in v]
    return volume


def files_read(rendered: helm.Rendered) -> dict[str, tuple[str, str]]:
    """`*_FILE` variable -> (Secret name, key) mounted at that path."""
    spec = pod(rendered)
    [relay] = spec["containers"]
    volume = _secret_volume(spec)
    [mount] = [m for m in relay["volumeMounts"] if m["name"] == volume["name"]]
    assert mount["readOnly"] is True
    by_path = {
        str(PurePosixPath(mount["mountPath"]) / item["path"]): (
            source["secret"]["name"],
            item["key"],
        )
        for source in volume["projected"]["sources"]
        for item in source["secret"]["items"]
    }
    return {e["name"]: by_path[e["value"]] for e in relay["env"] if e["name"].endswith("_FILE")}


def _decoded(secret: dict[str, Any]) -> dict[str, str]:
    return {key: base64.b64decode(value).decode() for key, value in secret["data"].items()}


def test_token_and_webhook_live_in_two_secrets_read_as_files() -> None:
    """Alertmanager mounts the token's Secret whole: it must hold the token and nothing else."""
    rendered = helm.render(
        CHART, release="t", sets={"discord.webhookUrl": WEBHOOK, "auth.token": "t" * 40}
    )
    secrets = {s["metadata"]["name"]: _decoded(s) for s in rendered.of_kind("Secret")}
    assert secrets == {
        "t-discord-relay": {"token": "t" * 40},
        "t-discord-relay-webhook": {"webhook-url": WEBHOOK},
    }
    assert files_read(rendered) == {
        "RELAY_AUTH_TOKEN_FILE": ("t-discord-relay", "token"),
        "DISCORD_WEBHOOK_URL_FILE": ("t-discord-relay-webhook", "webhook-url"),
    }


def test_token_is_generated_when_not_given() -> None:
    first = helm.render(CHART).one("Secret")["data"]
    second = helm.render(CHART).one("Secret")["data"]
    assert set(first) == {"token"}  # no webhook: a log sink
    assert len(base64.b64decode(first["token"])) >= 32
    # No cluster here, so `lookup` finds nothing: each render draws a new token. Against a
    # cluster the existing token is read back (the template's lookup branch).
    assert first["token"] != second["token"]


def test_log_sink_without_webhook_and_notes_say_so() -> None:
    rendered = helm.render(CHART, release="t")
    assert files_read(rendered) == {"RELAY_AUTH_TOKEN_FILE": ("t-discord-relay", "token")}
    assert "LOG SINK" in helm.notes(CHART)
    assert "LOG SINK" not in helm.notes(CHART, sets={"discord.existingSecret": "hook"})


@pytest.mark.parametrize(
    ("sets", "expected"),
    [
        (
            {"auth.existingSecret": "tok", "discord.existingSecret": "hook"},
            {
                "RELAY_AUTH_TOKEN_FILE": ("tok", "token"),
                "DISCORD_WEBHOOK_URL_FILE": ("hook", "webhook-url"),
            },
        ),
        ({"auth.existingSecret": "tok"}, {"RELAY_AUTH_TOKEN_FILE": ("tok", "token")}),
    ],
    ids=["both", "token-only"],
)
def test_existing_secrets_are_mounted_and_named(sets: dict, expected: dict) -> None:
    rendered = helm.render(CHART, sets=sets)
    assert rendered.of_kind("Secret") == []
    assert files_read(rendered) == expected


def test_a_webhook_given_twice_is_refused() -> None:
    both = {"discord.webhookUrl": WEBHOOK, "discord.existingSecret": "hook"}
    helm.assert_refused(CHART, "helm", both, "discord.existingSecret")


def test_probes_are_healthz_and_readyz_on_8800() -> None:
    [relay] = pod(helm.render(CHART))["containers"]
    assert relay["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert relay["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert relay["ports"][0]["containerPort"] == 8800


def test_a_second_replica_is_a_deliberate_choice() -> None:
    output = helm.assert_refused(CHART, "helm", {"replicaCount": 2}, "allowMultipleReplicas")
    assert "replicaCount=2" in output
    both = {"replicaCount": 2, "allowMultipleReplicas": True}
    assert helm.render(CHART, sets=both).one("Deployment")["spec"]["replicas"] == 2
    assert "posted twice" in helm.notes(CHART, sets=both)


@pytest.mark.parametrize("binary", helm.HELM_BINARIES)
@pytest.mark.parametrize(
    ("sets", "named"),
    [
        ({"replicaCount": "1"}, "replicaCount"),
        ({"webhookUrl": WEBHOOK}, "webhookUrl"),  # at the top level: unknown
        ({"discord.webhookUrl": "https://example.com/hook"}, "webhookUrl"),
        ({"logLevel": "TRACE"}, "logLevel"),
        ({"discord.botName": "Discord Alerts"}, "botName"),
    ],
)
def test_wrong_values_are_refused_by_name(sets: dict, named: str, binary: str) -> None:
    helm.assert_refused(CHART, binary, sets, named)


@pytest.mark.integration
def test_the_real_relay_reads_what_the_chart_mounts(tmp_path: Path) -> None:
    """The chart's env and Secret files, mounted under tmp_path, start the real relay with both."""
    rendered = helm.render(CHART, sets={"discord.webhookUrl": WEBHOOK, "auth.token": "t" * 40})
    secrets = {s["metadata"]["name"]: s["data"] for s in rendered.of_kind("Secret")}
    spec = pod(rendered)
    [relay] = spec["containers"]
    volume = _secret_volume(spec)
    [mount] = [m for m in relay["volumeMounts"] if m["name"] == volume["name"]]
    root = tmp_path / "secret"
    root.mkdir()
    for source in volume["projected"]["sources"]:
        for item in source["secret"]["items"]:
            data = secrets[source["secret"]["name"]][item["key"]]
            (root / item["path"]).write_bytes(base64.b64decode(data))
    env = {
        e["name"]: e["value"].replace(mount["mountPath"], str(root))
        for e in relay["env"]
        if "value" in e and e["name"] not in {"RELAY_HOST", "RELAY_PORT"}  # run_relay's loopback
    }
    with run_relay(tmp_path, env) as server:
        assert httpx.get(f"{server.base_url}/readyz").json()["sink"] == "discord"
        refused = httpx.post(f"{server.base_url}/alertmanager", json={}, timeout=10)
        assert refused.status_code == 401  # the token file was read: a token is required
