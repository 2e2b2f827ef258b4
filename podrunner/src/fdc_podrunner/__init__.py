"""Start the rendered charts' workloads as processes under their pods' own conditions.

See README.md: what is reproduced (image file system, user, read-only root, env, mounts, probes,
signals, Service names) and what is not (scheduler, image pull, network policy, core API).
"""

from fdc_podrunner.process import PodFailed
from fdc_podrunner.render import Workload
from fdc_podrunner.runner import PodRunner

__all__ = ["PodFailed", "PodRunner", "Workload"]
