"""What the proxy's server logs besides requests: bounded, one line per event.

aiohttp logs a request it cannot parse (a header line past its limit, a bad chunk size) with
the parser's traceback; anyone who can connect could then fill the log. The filter keeps the
line and what was wrong, and drops the traceback. Errors of the proxy's own code keep theirs.

An upstream failure is one warning naming the upstream's host and the reason, and the same
failure of that host again within `REPEAT_AFTER` seconds (for any page) is not logged again: installers retry, several
at once, and a dead upstream would otherwise fill the log with one line per attempt.
"""

from __future__ import annotations

import logging
import time
from urllib.parse import urlsplit

from aiohttp.http_exceptions import HttpProcessingError

from fitwheel.errors import FitwheelError, UpstreamError

_SERVER_LOGGER = "aiohttp.server"
UPSTREAM_LOG = logging.getLogger("fitwheel.serve.upstream")
REPEAT_AFTER = 60.0
"""Seconds during which an identical upstream failure is not logged again."""
_REMEMBERED = 1024


class _OneLine(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if isinstance(error, HttpProcessingError):
            problem = " ".join(str(error.message).split())[:200]
            record.msg = f"{record.getMessage()}: malformed request ({error.code}: {problem})"
            record.args = ()
            record.exc_info = None
            record.exc_text = None
        return True


_FILTER = _OneLine()


def quiet_client_errors() -> None:
    """Install the filter on aiohttp's server logger (once, whoever calls it)."""
    logger = logging.getLogger(_SERVER_LOGGER)
    if _FILTER not in logger.filters:
        logger.addFilter(_FILTER)


def upstream_failed(error: FitwheelError, status: int) -> None:
    """Log the failure behind a 5xx answer (once per host and reason within REPEAT_AFTER)."""
    if isinstance(error, UpstreamError):
        parts = urlsplit(error.url)
        host = parts.netloc or parts.path
        reason = error.reason
        message = f"upstream {host} failed: {reason} (HTTP {status} to the client)"
    else:  # a malformed upstream page or document: the message names it
        host, reason = None, str(error)
        message = f"{reason} (HTTP {status} to the client)"
    fields = {"event": "upstream_failure", "host": host, "reason": reason, "status": status}
    # One page's URL or another's, it is the same failure of the same host.
    same = reason if host is None else " ".join(w for w in reason.split() if host not in w)
    UPSTREAM_LOG.warning("%s", message, extra={"fields": fields, "repeat_key": (host, same)})


class _Repeats(logging.Filter):
    """Drops a record like one let through less than REPEAT_AFTER seconds ago (the same
    `repeat_key`, else the same message)."""

    def __init__(self) -> None:
        super().__init__()
        self._last: dict[object, float] = {}  # explicit cache: key -> when it was let through

    def filter(self, record: logging.LogRecord) -> bool:
        now = time.monotonic()
        message = getattr(record, "repeat_key", None) or record.getMessage()
        last = self._last.get(message)
        if last is not None and now - last < REPEAT_AFTER:
            return False
        self._last.pop(message, None)
        if len(self._last) >= _REMEMBERED:
            del self._last[next(iter(self._last))]
        self._last[message] = now
        return True


UPSTREAM_LOG.addFilter(_Repeats())
