"""What the kubelet makes of a container's probe results: Ready or not, restart or not. Pure.

Readiness: Ready after a success, not Ready after `failureThreshold` failures in a row. Liveness:
a restart after `failureThreshold` failures in a row. Each probe runs every `periodSeconds` after
`initialDelaySeconds`; until the container is first Ready, readiness is probed every `fast`
seconds instead, so that a run starts as soon as it can (the result is the same).
"""

from __future__ import annotations

from dataclasses import dataclass

from fdc_podrunner.probes import Probe


@dataclass
class Health:
    readiness: Probe | None
    liveness: Probe | None
    fast: float = 0.2
    ready: bool = False
    last_readiness: str = "not probed yet"
    next_readiness: float = 0.0
    next_liveness: float = 0.0
    readiness_failures: int = 0
    liveness_failures: int = 0

    def started(self, now: float) -> None:
        """A (re)started container: not Ready unless it has no readiness probe."""
        self.ready = self.readiness is None
        self.readiness_failures = self.liveness_failures = 0
        self.next_readiness = now + (self.readiness.initial_delay if self.readiness else 0)
        self.next_liveness = now + (self.liveness.initial_delay if self.liveness else 0)

    def readiness_due(self, now: float) -> bool:
        return self.readiness is not None and now >= self.next_readiness

    def liveness_due(self, now: float) -> bool:
        return self.liveness is not None and now >= self.next_liveness

    def readiness_result(self, why: str | None, now: float) -> None:
        """`why` is None when the probe passed, else why it did not."""
        assert self.readiness is not None
        self.last_readiness = why or "passed"
        if why is None:
            self.ready, self.readiness_failures = True, 0
        else:
            self.readiness_failures += 1
            if self.readiness_failures >= self.readiness.failure_threshold:
                self.ready = False
        self.next_readiness = now + (self.readiness.period if self.ready else self.fast)

    def liveness_result(self, why: str | None, now: float) -> bool:
        """Record a liveness result; True when the container must be restarted."""
        assert self.liveness is not None
        self.next_liveness = now + self.liveness.period
        self.liveness_failures = 0 if why is None else self.liveness_failures + 1
        return self.liveness_failures >= self.liveness.failure_threshold
