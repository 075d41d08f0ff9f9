"""One log format for every process. Personal data (customer names, phones) is never logged at
INFO: log application numbers and codes, which identify without exposing."""

from __future__ import annotations

import logging

LOG_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"


def configure_logging(level: str = "INFO") -> None:
    logging.basicConfig(level=level, format=LOG_FORMAT, force=True)
    # The SDK's own chatter about polling is noise at INFO for operators.
    logging.getLogger("temporalio").setLevel(max(logging.getLevelName(level), logging.WARNING))
