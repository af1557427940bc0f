"""When the proxy last answered a request, and exiting after a quiet spell.

`fitwheel serve --exit-when-idle SECONDS` (what the wrappers' shared proxy runs with) stops
once no request has been in progress for that long, and only when `may_exit` agrees (the
shared proxy asks its locks whether a wrapper is still running an installer against it).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from aiohttp import web
from aiohttp.typedefs import Handler


class Activity:
    """Requests in progress and the time the last one started or ended (monotonic)."""

    def __init__(self) -> None:
        self.in_progress = 0
        self.last = time.monotonic()
        self._previous = self.last

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        self.in_progress += 1
        self._previous, self.last = self.last, time.monotonic()
        try:
            return await handler(request)
        finally:
            self.in_progress -= 1
            self.last = time.monotonic()

    def idle_for(self) -> float:
        """Seconds without a request in progress (0 while one is)."""
        return 0.0 if self.in_progress else time.monotonic() - self.last

    def idle_before_this_request(self) -> float:
        """For a request asking how idle the proxy is: the quiet spell it ended."""
        others = self.in_progress - 1
        return 0.0 if others else max(0.0, self.last - self._previous)


ACTIVITY_KEY = web.AppKey("activity", Activity)


async def wait_until_idle(
    activity: Activity, seconds: float, may_exit: Callable[[], bool] = lambda: True
) -> None:
    """Return once `activity` has been idle for `seconds` and `may_exit()` says yes."""
    while True:
        left = seconds - activity.idle_for()
        if left <= 0:
            if may_exit():
                return
            left = min(seconds, 1.0)  # someone holds the proxy: ask again soon
        await asyncio.sleep(min(left, 5.0) + 0.01)
