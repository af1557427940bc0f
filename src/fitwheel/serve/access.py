"""The proxy's access log: one record per request answered, on `fitwheel.serve.access`.

Each record's message is the line people read (`GET /p/cpu/simple/torch/ 200 1234 B 0.8 ms
profile=cpu`) and its `fields` the same facts for programs, always the same keys: `event` (`request`), `client`,
`method`, `path`, `status`, `bytes` (sent, status line and headers included, as
nginx's `$bytes_sent`), `ms`, `profile` (null at `/simple/`), `build` (for a
variant wheel or its sidecar: the label of the build handed out; null otherwise). Records are
made only while the logger is enabled for INFO, so a quiet server pays nothing per request.
"""

from __future__ import annotations

import logging
from typing import Any

from aiohttp.abc import AbstractAccessLogger
from aiohttp.web import BaseRequest, StreamResponse

LOGGER = logging.getLogger(__name__)

BUILD_KEY: Any
"""Where a handler puts the label of the build it handed out (`request[BUILD_KEY] = "cu128"`)."""
try:
    from aiohttp.web import RequestKey
except ImportError:  # aiohttp before 3.14: plain string keys
    BUILD_KEY = "fitwheel.build"
else:
    BUILD_KEY = RequestKey("fitwheel.build", str)


class AccessLog(AbstractAccessLogger):
    """aiohttp's access-log hook, writing fitwheel's records (aiohttp's format is unused)."""

    def log(self, request: BaseRequest, response: StreamResponse, time: float) -> None:
        # Every request that reaches a route is a web.Request; one that did not has no profile.
        match_info = getattr(request, "match_info", None)
        profile = match_info.get("profile") if match_info is not None else None
        build = request.get(BUILD_KEY)
        fields = {
            "event": "request",
            "client": request.remote,
            "method": request.method,
            "path": request.path_qs,
            "status": response.status,
            "bytes": response.body_length,
            "ms": round(time * 1000, 1),
            "profile": profile,
            "build": build,
        }
        extra = f" profile={profile}" if profile is not None else ""
        extra += f" build={build}" if build is not None else ""
        self.logger.info(
            "%s %s %d %d B %.1f ms%s",
            request.method,
            request.path_qs,
            response.status,
            response.body_length,
            time * 1000,
            extra,
            extra={"fields": fields},
        )

    @property
    def enabled(self) -> bool:
        return self.logger.isEnabledFor(logging.INFO)
