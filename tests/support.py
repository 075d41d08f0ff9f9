"""Small helpers for tests (importable as `tests.support`)."""

from __future__ import annotations

import socket
import uuid


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def new_application_no() -> str:
    return f"T{uuid.uuid4().hex[:12].upper()}"
