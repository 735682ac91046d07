"""Lifecycle logging: one line per event in the life of an attempt, a form, an import or
an analysis run, with the ids it concerns and, where it took time, its duration.

Events go to the `ccs.lifecycle` logger with their fields as `extra`; the settings format
them as JSON lines when DEBUG is off (one object per line, ready for a log shipper) and as
`event key=value …` in development.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

logger = logging.getLogger("ccs.lifecycle")

# Attributes every LogRecord has; anything else on a record came in through `extra`.
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


def log_event(event: str, **fields: Any) -> None:
    """Log one lifecycle event, e.g. log_event("attempt.finalised", attempt_id=7)."""
    logger.info(event, extra={"event": event, **fields})


@contextmanager
def timed_event(event: str, **fields: Any) -> Iterator[dict[str, Any]]:
    """Log `event` when the block ends, with `duration_ms`; the block may add fields.

    A block that raises logs the event at WARNING with `outcome="failed"` and the error's
    type, then lets the exception through.
    """
    started = time.perf_counter()
    try:
        yield fields
    except Exception as exc:
        fields.update(outcome="failed", error=type(exc).__name__)
        fields["duration_ms"] = round((time.perf_counter() - started) * 1000, 1)
        logger.warning(event, extra={"event": event, **fields})
        raise
    fields["duration_ms"] = round((time.perf_counter() - started) * 1000, 1)
    log_event(event, **fields)


def _extra(record: logging.LogRecord) -> dict[str, Any]:
    return {k: v for k, v in vars(record).items() if k not in _STANDARD and k != "event"}


class JsonLinesFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message and the event's fields."""

    converter = time.gmtime

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            **_extra(record),
        }
        if record.exc_info:
            line["exc"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)


class KeyValueFormatter(logging.Formatter):
    """`LEVEL logger message key=value …` for reading in a terminal."""

    def format(self, record: logging.LogRecord) -> str:
        text = f"{record.levelname} {record.name} {record.getMessage()}"
        fields = " ".join(f"{k}={v}" for k, v in _extra(record).items())
        text = f"{text} {fields}" if fields else text
        if record.exc_info:
            text += "\n" + self.formatException(record.exc_info)
        return text
