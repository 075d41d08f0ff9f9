"""The custom search attributes of DESIGN.md §5: part of the contract with operators.

The dev server allows at most 10 Keyword and 3 Datetime custom attributes per namespace, so
the list is spent deliberately. None of them may carry personal data: they are not encrypted.
"""

from __future__ import annotations

from typing import Any

from temporalio.common import SearchAttributeKey

BUSINESS_TYPE = SearchAttributeKey.for_keyword("BusinessType")
VOLTAGE = SearchAttributeKey.for_keyword("Voltage")
UNIT = SearchAttributeKey.for_keyword("Unit")
STAGE = SearchAttributeKey.for_keyword("Stage")
WARNING_LEVEL = SearchAttributeKey.for_keyword("WarningLevel")
CUSTOMER_MANAGER = SearchAttributeKey.for_keyword("CustomerManager")
POLICY_VERSION = SearchAttributeKey.for_keyword("PolicyVersion")
#: running, archived or cancelled (STATE_VALUES): Temporal shows every closed application as
#: Completed, since a cancellation is a normal end of the workflow; this tells them apart.
STATE = SearchAttributeKey.for_keyword("State")
ACCEPTED_AT = SearchAttributeKey.for_datetime("AcceptedAt")
NEXT_DUE_AT = SearchAttributeKey.for_datetime("NextDueAt")
PROVISIONAL = SearchAttributeKey.for_bool("Provisional")
TOO_SHORT = SearchAttributeKey.for_bool("TooShort")

ALL: tuple[SearchAttributeKey[Any], ...] = (
    BUSINESS_TYPE,
    VOLTAGE,
    UNIT,
    STAGE,
    WARNING_LEVEL,
    CUSTOMER_MANAGER,
    POLICY_VERSION,
    STATE,
    ACCEPTED_AT,
    NEXT_DUE_AT,
    PROVISIONAL,
    TOO_SHORT,
)


#: The dev server's limits per namespace, by type (DESIGN.md §5); ALL must stay within them.
DEV_SERVER_LIMITS: dict[str, int] = {"KEYWORD": 10, "DATETIME": 3}

#: The application's state (contracts.application.ApplicationState) as the State attribute
#: shows it: an application completes when it is archived (archive.completed).
STATE_VALUES: dict[str, str] = {
    "running": "running",
    "completed": "archived",
    "cancelled": "cancelled",
}


def dev_server_flags() -> list[str]:
    """`--search-attribute Name=Type` flags for `temporal server start-dev`."""
    flags: list[str] = []
    for key in ALL:
        flags += ["--search-attribute", f"{key.name}={key.indexed_value_type.name.title()}"]
    return flags
