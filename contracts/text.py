"""Free text as the system accepts it: names, reasons, notes, addresses.

Text is shown to staff in lists, SMS and Temporal UI, and written to logs. Control characters
(NUL and the C0/C1 ranges) break those; bidirectional overrides and isolates (U+202A–U+202E,
U+2066–U+2069) make text display in another order than it is stored, which can disguise what
a name or a reason says; lone surrogates cannot be stored as UTF-8 at all. All are refused
with the offending character's position and code point (never the text itself: it may be
personal data). `Line` and its shorter kinds are one line; `Text` may hold line breaks and tabs.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Annotated

from pydantic import AfterValidator, Field

_C0 = "\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f"
_REST = "\\x7f-\\x9f\\u202a-\\u202e\\u2066-\\u2069"
# JSON cannot carry a lone surrogate as text (the body's decoding refuses it first), and
# schema validators' regex engines cannot name one: checked here, left out of the patterns.
_SURROGATES = "\\ud800-\\udfff"
#: JSON Schema patterns of the same rule, so clients and fuzzers see it in the OpenAPI.
LINE_PATTERN = f"^[^\\t\\n\\r{_C0}{_REST}]*$"
TEXT_PATTERN = f"^[^{_C0}{_REST}]*$"

_LINE = re.compile(f"[\\t\\n\\r{_C0}{_REST}{_SURROGATES}]")
_TEXT = re.compile(f"[{_C0}{_REST}{_SURROGATES}]")


def _refuse(pattern: re.Pattern[str]) -> Callable[[str], str]:
    def check(value: str) -> str:
        bad = pattern.search(value)
        if bad is not None:
            char = bad.group()
            kind = (
                "a bidirectional-override character"
                if "\u202a" <= char <= "\u2069"
                else "a line break or tab"
                if char in "\t\n\r"
                else "a lone surrogate"
                if "\ud800" <= char <= "\udfff"
                else "a control character"
            )
            raise ValueError(f"contains {kind} (U+{ord(char):04X}) at position {bad.start()}")
        return value

    return check


check_line = _refuse(_LINE)
check_text = _refuse(_TEXT)


#: A name on one line (1-200 characters): a customer's, a unit's.
Line = Annotated[
    str,
    Field(min_length=1, max_length=200, json_schema_extra={"pattern": LINE_PATTERN}),
    AfterValidator(check_line),
]
#: A label on one line that may be left blank (up to 200 characters): a feeder's name.
Label = Annotated[
    str,
    Field(max_length=200, json_schema_extra={"pattern": LINE_PATTERN}),
    AfterValidator(check_line),
]
#: A person's name as the staff table holds it (1-100 characters).
PersonName = Annotated[
    str,
    Field(min_length=1, max_length=100, json_schema_extra={"pattern": LINE_PATTERN}),
    AfterValidator(check_line),
]
#: A staff code or short label on one line (up to 64 characters).
ShortLine = Annotated[
    str,
    Field(max_length=64, json_schema_extra={"pattern": LINE_PATTERN}),
    AfterValidator(check_line),
]
#: A reason, note or address: line breaks allowed (1-500 characters).
Text = Annotated[
    str,
    Field(min_length=1, max_length=500, json_schema_extra={"pattern": TEXT_PATTERN}),
    AfterValidator(check_text),
]
#: An optional note or address: as `Text`, and may be empty.
Note = Annotated[
    str,
    Field(max_length=500, json_schema_extra={"pattern": TEXT_PATTERN}),
    AfterValidator(check_text),
]
