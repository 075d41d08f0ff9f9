"""The custom search attributes of DESIGN.md §5: part of the contract with operators.

The dev server allows at most 10 Keyword and 3 Datetime custom attributes per namespace, so
the list is spent deliberately. None of them may carry personal data: they are not encrypted.
"""

from __future__ import annotations

from temporalio.common import SearchAttributeKey

BUSINESS_TYPE = SearchAttributeKey.for_keyword("BusinessType")
VOLTAGE = SearchAttributeKey.for_keyword("Voltage")
UNIT = SearchAttributeKey.for_keyword("Unit")
STAGE = SearchAttributeKey.for_keyword("Stage")
WARNING_LEVEL = SearchAttributeKey.for_keyword("WarningLevel")
CUSTOMER_MANAGER = SearchAttributeKey.for_keyword("CustomerManager")
POLICY_VERSION = SearchAttributeKey.for_keyword("PolicyVersion")
ACCEPTED_AT = SearchAttributeKey.for_datetime("AcceptedAt")
NEXT_DUE_AT = SearchAttributeKey.for_datetime("NextDueAt")
PROVISIONAL = SearchAttributeKey.for_bool("Provisional")
TOO_SHORT = SearchAttributeKey.for_bool("TooShort")

ALL: tuple[SearchAttributeKey, ...] = (
    BUSINESS_TYPE,
    VOLTAGE,
    UNIT,
    STAGE,
    WARNING_LEVEL,
    CUSTOMER_MANAGER,
    POLICY_VERSION,
    ACCEPTED_AT,
    NEXT_DUE_AT,
    PROVISIONAL,
    TOO_SHORT,
)


def dev_server_flags() -> list[str]:
    """`--search-attribute Name=Type` flags for `temporal server start-dev`."""
    flags: list[str] = []
    for key in ALL:
        flags += ["--search-attribute", f"{key.name}={key.indexed_value_type.name.title()}"]
    return flags
