"""How long each phase of `make up` and `make e2e` may take, in seconds: THE one place. The kind
path's waits and the e2e suite's timeouts read these; every phase prints how long it really took
(`== install: 412 s of 1200`), so the budgets can be re-sized from a CI log.

Sized from what each phase waits on, with margin for a loaded 2-core runner:
- install: image builds (cached by buildx in CI) + kind load + helm + every rollout, incl.
  kube-prometheus-stack's images pulled on a fresh node;
- scrape: the apps' first scrape under their job labels (scrape interval 30 s, plus discovery);
- first_page: the page's `for:` + rule evaluation + Alertmanager's group_wait + the relay's post;
- resolve: the short burn windows (5 m / 30 m) falling below their factor + group_interval.
"""

from __future__ import annotations

INSTALL = 1200
ROLLOUT = 600  # one Deployment/StatefulSet/DaemonSet, or one Prometheus/Alertmanager Available
SCRAPE = 240
FIRST_PAGE = 600
RESOLVE = 720
OPERATOR_SUITE = 1500

# The alert test runs the phases in a row; each test's pytest timeout is its phases' sum.
ALERT_TEST = 2 * SCRAPE + FIRST_PAGE + RESOLVE + 2 * 120  # two scrape waits; requests sent twice
