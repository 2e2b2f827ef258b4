"""The operator's settings from SLOALERT_* variables: defaults, both label syntaxes, bad values."""

from __future__ import annotations

import os

import pytest
from sloalert.operator.settings import SettingsError, load_settings


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("SLOALERT_"):
            monkeypatch.delenv(name)


def test_defaults_watch_every_namespace_and_log_json() -> None:
    settings = load_settings()
    assert settings.namespaces == ()
    assert settings.rule_labels == {}
    assert settings.log_format == "json"
    assert (settings.metrics_port, settings.health_port) == (8080, 8081)
    assert settings.health_url == "http://0.0.0.0:8081/healthz"


def test_namespaces_are_a_comma_list(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLOALERT_NAMESPACES", " apps, monitoring ,")
    assert load_settings().namespaces == ("apps", "monitoring")


@pytest.mark.parametrize(
    "text",
    [
        "release=kube-prometheus-stack,team=web",
        '{"release": "kube-prometheus-stack", "team": "web"}',
    ],
)
def test_rule_labels_take_pairs_or_json(monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    monkeypatch.setenv("SLOALERT_RULE_LABELS", text)
    assert load_settings().rule_labels == {"release": "kube-prometheus-stack", "team": "web"}


def test_a_prefixed_label_key_is_accepted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLOALERT_RULE_LABELS", "example.com/tier=gold")
    assert load_settings().rule_labels == {"example.com/tier": "gold"}


@pytest.mark.parametrize(
    ("name", "value", "named"),
    [
        ("SLOALERT_RULE_LABELS", "release", "'release' is not key=value"),
        ("SLOALERT_RULE_LABELS", "bad key=x", "'bad key' is not a valid label key"),
        ("SLOALERT_RULE_LABELS", "team=a b", "'a b' (label team) is not a valid label value"),
        ("SLOALERT_RULE_LABELS", "app.kubernetes.io/managed-by=me", "set by the operator"),
        ("SLOALERT_NAMESPACES", "apps,Bad_NS", "'Bad_NS' is not a namespace name"),
        ("SLOALERT_LOG_FORMAT", "xml", "SLOALERT_LOG_FORMAT='xml'"),
        ("SLOALERT_METRICS_PORT", "99999", "SLOALERT_METRICS_PORT='99999'"),
    ],
)
def test_a_bad_value_is_named_with_its_variable(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, named: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as raised:
        load_settings()
    assert name in str(raised.value)
    assert named in str(raised.value)
