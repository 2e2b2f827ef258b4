"""The SLOAlert operator: kopf handlers around the pure rule generator.

Layers, bottom up: settings (typed environment), selection and status (pure), kube (the only
module that talks to the Kubernetes API), retries (what kopf does not retry), reconcile (load ->
generate -> render -> apply -> status), metrics, bridge (kopf's world to the reconciler's),
runtime (the parts, built at start-up), handlers (kopf decorators only) and main (the
`sloalert-operator` entry point).

The names the operator invents live in the section below, until they move into
`sloalert.conventions` beside the generator's names.
"""

from sloalert import conventions

# --- Operator names (to merge into sloalert.conventions) -------------------------------------
FIELD_MANAGER = "sloalert"
"""Server-side apply field manager for PrometheusRules and SLOAlert status."""

CONDITION_READY = "Ready"
CONDITION_SELECTED = "Selected"

REASON_RULES_APPLIED = "RulesApplied"
REASON_INVALID_SPEC = "InvalidSpec"
REASON_APPLY_FAILED = "ApplyFailed"
REASON_SELECTED = "SelectedByPrometheus"
REASON_NOT_SELECTED = "NotSelected"
REASON_SELECTION_UNKNOWN = "SelectionUnknown"
REASON_NO_PROMETHEUS = "NoPrometheus"
REASON_PROMETHEUSES_NOT_WATCHED = "PrometheusesNotWatched"
"""Selected is Unknown: none in the watched namespaces loads the rule, one elsewhere may."""

EVENT_DRIFT_REPAIRED = "DriftRepaired"
"""Event reason when a hand-edited or deleted PrometheusRule is put back."""

MONITORING_GROUP, MONITORING_VERSION = conventions.PROMETHEUS_RULE_API_VERSION.split("/")
PROMETHEUS_RULE_PLURAL = "prometheusrules"
PROMETHEUS_KIND = "Prometheus"
PROMETHEUS_PLURAL = "prometheuses"
