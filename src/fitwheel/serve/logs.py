"""What the proxy's server logs about clients: one line per malformed request, no traceback.

aiohttp logs a request it cannot parse (a header line past its limit, a bad chunk size) with
the parser's traceback; anyone who can connect could then fill the log. The filter keeps the
line and what was wrong, and drops the traceback. Errors of the proxy's own code keep theirs.
"""

from __future__ import annotations

import logging

from aiohttp.http_exceptions import HttpProcessingError

_SERVER_LOGGER = "aiohttp.server"


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
