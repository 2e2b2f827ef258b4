"""Which Prometheus (or ThanosRuler) will load a PrometheusRule, and if none, exactly why. Pure.

prometheus-operator's semantics, from its Prometheus CRD field documentation (its ThanosRuler
has the same two fields with the same semantics, and is judged the same way):
- `ruleSelector`: null selects no PrometheusRules at all; `{}` selects every one.
- `ruleNamespaceSelector`: null means the Prometheus' own namespace only; `{}` means every
  namespace; otherwise the namespaces whose labels match.
Selectors are Kubernetes LabelSelectors: `matchLabels` and `matchExpressions` (In, NotIn, Exists,
DoesNotExist), all ANDed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sloalert.conventions import PROMETHEUSES

_OPERATORS = frozenset({"In", "NotIn", "Exists", "DoesNotExist"})


class SelectorError(ValueError):
    """A LabelSelector that prometheus-operator itself would refuse."""


@dataclass(frozen=True)
class Requirement:
    key: str
    operator: str
    values: tuple[str, ...] = ()

    def matches(self, labels: Mapping[str, str]) -> bool:
        present = self.key in labels
        if self.operator == "In":
            return present and labels[self.key] in self.values
        if self.operator == "NotIn":
            return not present or labels[self.key] not in self.values
        if self.operator == "Exists":
            return present
        return not present

    def describe(self) -> str:
        """kubectl's selector syntax: `release=x`, `tier in (a,b)`, `team`, `!legacy`."""
        if self.operator == "In" and len(self.values) == 1:
            return f"{self.key}={self.values[0]}"
        if self.operator in {"In", "NotIn"}:
            return f"{self.key} {self.operator.lower()} ({','.join(self.values)})"
        return self.key if self.operator == "Exists" else f"!{self.key}"

    def explain(self, labels: Mapping[str, str]) -> str:
        """Why `labels` fail this requirement, as the end of a sentence ("has no team label")."""
        if self.key not in labels:
            return f"has no {self.key} label"
        return f"has {self.key}={labels[self.key]}"


@dataclass(frozen=True)
class LabelSelector:
    requirements: tuple[Requirement, ...]

    @classmethod
    def parse(cls, raw: Mapping[str, Any]) -> LabelSelector:
        requirements = [
            Requirement(str(key), "In", (str(value),))
            for key, value in sorted((raw.get("matchLabels") or {}).items())
        ]
        for expression in raw.get("matchExpressions") or []:
            requirements.append(_parse_expression(expression))
        return cls(tuple(requirements))

    def mismatches(self, labels: Mapping[str, str]) -> list[Requirement]:
        return [req for req in self.requirements if not req.matches(labels)]

    def describe(self) -> str:
        return ",".join(req.describe() for req in self.requirements) or "any labels"


def _parse_expression(expression: Mapping[str, Any]) -> Requirement:
    key, operator = expression.get("key"), expression.get("operator")
    values = tuple(str(value) for value in expression.get("values") or [])
    if not key or operator not in _OPERATORS:
        raise SelectorError(f"matchExpressions entry {dict(expression)} is not a valid requirement")
    if (operator in {"In", "NotIn"}) != bool(values):
        raise SelectorError(f"operator {operator} on {key} does not fit values {list(values)}")
    return Requirement(str(key), str(operator), values)


@dataclass(frozen=True)
class PrometheusView:
    """The parts of a `monitoring.coreos.com/v1` Prometheus, or ThanosRuler (`kind`), that
    decide which rules it loads."""

    namespace: str
    name: str
    rule_selector: Mapping[str, Any] | None
    rule_namespace_selector: Mapping[str, Any] | None
    kind: str = PROMETHEUSES.kind

    @classmethod
    def from_object(cls, body: Mapping[str, Any]) -> PrometheusView:
        spec = body.get("spec") or {}
        metadata = body.get("metadata") or {}
        return cls(
            namespace=metadata.get("namespace", ""),
            name=metadata.get("name", ""),
            rule_selector=spec.get("ruleSelector"),
            rule_namespace_selector=spec.get("ruleNamespaceSelector"),
            kind=body.get("kind") or PROMETHEUSES.kind,
        )

    @property
    def ref(self) -> str:
        return f"{self.namespace}/{self.name}"

    @property
    def who(self) -> str:
        """`prometheus monitoring/k8s` (as the messages always said), `ThanosRuler m/ruler`."""
        kind = "prometheus" if self.kind == PROMETHEUSES.kind else self.kind
        return f"{kind} {self.ref}"

    @property
    def reads_namespace_labels(self) -> bool:
        """Whether deciding about a rule needs the labels of the rule's namespace."""
        raw = self.rule_namespace_selector
        return bool(raw) and bool(raw.get("matchLabels") or raw.get("matchExpressions"))


@dataclass(frozen=True)
class Verdict:
    prometheus: str
    selects: bool | None
    """True or False, or None when it cannot be told (namespace labels unknown)."""
    reason: str
    kind: str = PROMETHEUSES.kind

    @classmethod
    def of(cls, view: PrometheusView, selects: bool | None, reason: str) -> Verdict:
        return cls(view.ref, selects, reason, view.kind)


@dataclass(frozen=True)
class Selection:
    verdicts: tuple[Verdict, ...]

    @property
    def selected_by(self) -> tuple[str, ...]:
        return tuple(v.prometheus for v in self.verdicts if v.selects)

    def loaders(self) -> str:
        """Who loads the rule: `prometheus a/k8s, b/k8s and thanosruler a/ruler`."""
        by_kind: dict[str, list[str]] = {}
        for verdict in self.verdicts:
            if verdict.selects:
                by_kind.setdefault(verdict.kind.lower(), []).append(verdict.prometheus)
        return " and ".join(f"{kind} {', '.join(refs)}" for kind, refs in by_kind.items())

    @property
    def undecided(self) -> tuple[Verdict, ...]:
        return tuple(v for v in self.verdicts if v.selects is None)

    @property
    def refusals(self) -> tuple[Verdict, ...]:
        return tuple(v for v in self.verdicts if v.selects is False)


def needs_namespace_labels(prometheuses: Iterable[PrometheusView]) -> bool:
    return any(p.reads_namespace_labels for p in prometheuses)


def check(
    *,
    namespace: str,
    labels: Mapping[str, str],
    namespace_labels: Mapping[str, str] | None,
    prometheuses: Iterable[PrometheusView],
) -> Selection:
    """Decide, for every Prometheus, whether it loads a rule in `namespace` with `labels`.

    `namespace_labels` is None when they are unknown (the API has no Namespace objects, or the
    operator may not read them): a Prometheus that selects rule namespaces by label is then
    reported as undecided rather than guessed.
    """
    # Prometheuses first, then ThanosRulers (a fixed order: the messages do not flap).
    ordered = sorted(prometheuses, key=lambda p: (p.kind != PROMETHEUSES.kind, p.kind, p.ref))
    return Selection(tuple(_verdict(p, namespace, labels, namespace_labels) for p in ordered))


def _verdict(
    prometheus: PrometheusView,
    namespace: str,
    labels: Mapping[str, str],
    namespace_labels: Mapping[str, str] | None,
) -> Verdict:
    who = prometheus.who
    try:
        if prometheus.rule_selector is None:
            return Verdict.of(
                prometheus, False, f"{who} has no ruleSelector, so it loads no PrometheusRules"
            )
        rule_selector = LabelSelector.parse(prometheus.rule_selector)
        namespace_verdict = _namespace_verdict(prometheus, who, namespace, namespace_labels)
    except SelectorError as exc:
        return Verdict.of(prometheus, False, f"{who} has a selector it cannot use: {exc}")
    if namespace_verdict is not None:
        return namespace_verdict
    missing = rule_selector.mismatches(labels)
    if missing:
        explained = " and ".join(req.explain(labels) for req in missing)
        reason = f"{who} selects rules with {rule_selector.describe()}; this rule {explained}"
        return Verdict.of(prometheus, False, reason)
    return Verdict.of(prometheus, True, f"{who} loads this rule")


def _namespace_verdict(
    prometheus: PrometheusView,
    who: str,
    namespace: str,
    namespace_labels: Mapping[str, str] | None,
) -> Verdict | None:
    """A verdict when the rule's namespace alone decides it; None when it is in scope."""
    raw = prometheus.rule_namespace_selector
    if raw is None:
        if namespace == prometheus.namespace:
            return None
        reason = (
            f"{who} loads rules from its own namespace {prometheus.namespace} only "
            f"(its ruleNamespaceSelector is not set); this rule is in namespace {namespace}"
        )
        return Verdict.of(prometheus, False, reason)
    selector = LabelSelector.parse(raw)
    if not selector.requirements:
        return None
    wanted = f"{who} loads rules from namespaces with {selector.describe()}"
    if namespace_labels is None:
        reason = (
            f"{wanted}; the labels of namespace {namespace} could not be read, "
            "so whether it loads this rule is unknown"
        )
        return Verdict.of(prometheus, None, reason)
    missing = selector.mismatches(namespace_labels)
    if not missing:
        return None
    explained = " and ".join(req.explain(namespace_labels) for req in missing)
    return Verdict.of(prometheus, False, f"{wanted}; namespace {namespace} {explained}")
