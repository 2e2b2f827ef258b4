"""Rule sets as the objects Prometheus reads: a PrometheusRule, a plain rule file, YAML text."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import yaml

from sloalert import conventions
from sloalert.generator import RuleSet
from sloalert.models import SLOAlert


def prometheus_rule(
    slo: SLOAlert, rules: RuleSet, *, extra_labels: Mapping[str, str] = {}
) -> dict[str, Any]:
    """The monitoring.coreos.com/v1 PrometheusRule for `slo`.

    No ownerReferences: the operator adds its own.
    """
    metadata: dict[str, Any] = {"name": conventions.rule_name(slo)}
    if slo.metadata.namespace:
        metadata["namespace"] = slo.metadata.namespace
    metadata["labels"] = {
        conventions.MANAGED_BY_LABEL: conventions.MANAGED_BY,
        conventions.PART_OF_LABEL: slo.spec.service,
        conventions.COMPONENT_LABEL: conventions.COMPONENT,
        conventions.SOURCE_LABEL: slo.metadata.name,
        **extra_labels,
    }
    return {
        "apiVersion": conventions.PROMETHEUS_RULES.api_version,
        "kind": conventions.PROMETHEUS_RULES.kind,
        "metadata": metadata,
        "spec": {"groups": rules.groups},
    }


def rule_file(rule_sets: Iterable[RuleSet]) -> dict[str, Any]:
    """A plain Prometheus rule file, for promtool and setups without the operator."""
    return {"groups": [group for rules in rule_sets for group in rules.groups]}


def to_yaml(documents: Iterable[Mapping[str, Any]], *, header: bool = True) -> str:
    """YAML documents under the "generated, do not edit" header (unless not `header`: converted
    SLOAlerts are the user's to edit); PromQL as literal blocks."""
    body = yaml.dump_all(
        [dict(document) for document in documents],
        Dumper=_Dumper,
        sort_keys=False,
        explicit_start=True,
        allow_unicode=True,
        width=100,
    )
    return f"{conventions.GENERATED_HEADER}\n{body}" if header else body


class _Dumper(yaml.SafeDumper):
    """Multi-line strings as `|` blocks, so rendered PromQL reads as written."""


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)
