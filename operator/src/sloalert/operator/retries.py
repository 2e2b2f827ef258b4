"""When to try a failed write again, and background retries for the work kopf never retries.

kopf retries a failed change handler itself, after the delay the handler names (bridge.settle).
It never retries an event handler: what one of those could not finish (a Selected refresh, a
drift repair) is tried again here, with the same delays.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Awaitable, Callable, Hashable

# Seconds before a failed write is tried again: quickly at first, since an API server that
# refused a write is usually back within seconds.
RETRY_DELAYS = (1, 2, 5, 10, 30, 60)

Attempt = Callable[[], Awaitable[bool]]
"""One try; True once the work is done (or no longer needed), False to try again later."""


def retry_delay(attempt: int) -> int:
    """Seconds to wait before retry number `attempt` (0 is the first retry)."""
    return RETRY_DELAYS[min(attempt, len(RETRY_DELAYS) - 1)]


class Retries:
    """Attempts tried again after each retry delay (the last one repeating) until they succeed.

    At most one retry is pending per key: an attempt reads what it works on afresh, so a second
    failure of the same work needs no second retry. `close` stops them all (the operator stops).
    """

    def __init__(self) -> None:
        self._pending: dict[Hashable, asyncio.Task[None]] = {}

    def start(self, key: Hashable, attempt: Attempt) -> None:
        """Retry `attempt` in the background, unless a retry for `key` is pending already."""
        if key not in self._pending:
            self._pending[key] = asyncio.create_task(self._until_done(key, attempt))

    async def _until_done(self, key: Hashable, attempt: Attempt) -> None:
        try:
            for number in itertools.count():
                await asyncio.sleep(retry_delay(number))
                if await attempt():
                    return
        finally:
            # Before the task ends, with no await in between: a failure right after this
            # retry succeeded starts a new one rather than finding this one still pending.
            del self._pending[key]

    async def close(self) -> None:
        pending = list(self._pending.values())
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
