"""One log format for every process. Personal data (customer names, phones) is never logged at
INFO: log application numbers and codes, which identify without exposing.

`LOG_FORMAT=text` (the default: `make run`'s console stays readable) or `json`: one JSON object
per line, for a log collector. Fields given with `extra=` (by convention `application_no`, so a
collector can follow one application across processes) become fields of the object.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

LOG_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"

#: What every LogRecord has; anything else on a record came from `extra=`.
_STANDARD = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}
#: Uvicorn's loggers write through handlers of their own unless handed to the root's.
_UVICORN = ("uvicorn", "uvicorn.error", "uvicorn.access")


class JsonFormatter(logging.Formatter):
    """`{"ts", "level", "logger", "message", ...extra fields, "exception"}` on one line."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                out[key] = value
        if record.exc_info:
            out["exception"] = self.formatException(record.exc_info)
        return json.dumps(out, ensure_ascii=False, default=str)


def configure_logging(level: str = "INFO", fmt: str | None = None) -> None:
    """`fmt`: "text" or "json"; None reads LOG_FORMAT from the settings."""
    if fmt is None:
        from core.config import get_settings

        fmt = get_settings().log_format
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter(LOG_FORMAT))
    logging.basicConfig(level=level, handlers=[handler], force=True)
    if fmt == "json":
        for name in _UVICORN:
            logging.getLogger(name).handlers.clear()
            logging.getLogger(name).propagate = True
    # The SDK's own chatter about polling is noise at INFO for operators.
    logging.getLogger("temporalio").setLevel(max(logging.getLevelName(level), logging.WARNING))
