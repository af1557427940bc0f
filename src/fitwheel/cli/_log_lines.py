"""The two shapes of a log line on stderr: text for people, JSON lines for programs."""

from __future__ import annotations

import json
import logging
import time
from typing import Any


def _message(record: logging.LogRecord) -> str:
    text = record.getMessage()
    if record.exc_info and record.levelno <= logging.DEBUG:
        text += "\n" + logging.Formatter().formatException(record.exc_info)
    return text


class Text(logging.Formatter):
    """`fitwheel: message`; debugging lines name their logger: `fitwheel: [name] message`."""

    def format(self, record: logging.LogRecord) -> str:
        if record.levelno <= logging.DEBUG:
            return f"fitwheel: [{record.name}] {_message(record)}"
        return f"fitwheel: {record.getMessage()}"


class JsonLines(logging.Formatter):
    """One JSON object per line: `time` (UTC), `level`, `logger`, `message`, then the fields
    the record carries (`extra={"fields": {...}}`: a request's, an upstream failure's)."""

    def format(self, record: logging.LogRecord) -> str:
        return json_line(
            record.created,
            record.levelname.lower(),
            record.name,
            _message(record),
            getattr(record, "fields", {}),
        )


def json_line(created: float, level: str, logger: str, message: str, fields: dict[str, Any]) -> str:
    """The JSON object of one line (also for what the CLI prints outside logging)."""
    when = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(created))
    millis = int(created * 1000) % 1000
    line: dict[str, Any] = {
        "time": f"{when}.{millis:03d}Z",
        "level": level,
        "logger": logger,
        "message": message,
    }
    line.update(fields)
    return json.dumps(line, separators=(",", ":"))
