"""The alert thresholds the panels draw, so a panel shows where its alert fires.

The alerts themselves live elsewhere: the Grafana-managed ones in the umbrella chart's
provisioning (`charts/fdc-stack/files/grafana-alerting/rules.yaml`), the seed's Prometheus ones
as threshold SLOAlerts in `manifests/slo`. A test holds these numbers to both.
"""

from __future__ import annotations

from typing import Final

# Grafana alert "High 5xx Error Rate": FastAPI and Django 5xx over all requests.
ERROR_RATIO: Final = 0.01
# Grafana alert "FastAPI p95 > 1.5s".
FASTAPI_P95_SECONDS: Final = 1.5
# SLOAlert node-cpu (HighCPUUsage): busy share of a node's CPUs.
CPU_BUSY: Final = 0.8
# SLOAlert node-memory (LowMemory): available share of a node's memory.
MEMORY_AVAILABLE: Final = 0.1
