"""Rendering the console's pages: one Jinja environment that escapes everything it outputs
(autoescape on every template, undefined names refused), and the filters that show codes
as staff read them (Chinese labels, the unit's local time)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from api.console.charts import LEVEL_COLOURS
from policies import labels

HERE = Path(__file__).parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"

ENV = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=True,
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def _when(value: datetime | None) -> str:
    return "" if value is None else f"{value:%Y-%m-%d %H:%M}"


def _label(table: dict[str, str]) -> Any:
    return lambda code: table.get(code or "", code or "")


ENV.filters.update(
    when=_when,
    stage=_label(labels.STAGES),
    level=_label(labels.LEVELS),
    business_type=_label(labels.BUSINESS_TYPES),
    unit=_label(labels.UNITS),
    state=_label({**labels.STATES, "completed": "已归档"}),
)
ENV.globals.update(level_colours=LEVEL_COLOURS)


def render(name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    return HTMLResponse(ENV.get_template(name).render(**context), status_code=status_code)
