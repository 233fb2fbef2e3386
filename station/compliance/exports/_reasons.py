"""A case's reason text for a report: rendered in the report's language with the case's canonical measurement."""

from __future__ import annotations


def case_reason(detail, measurement, lang: str) -> str:
    return detail.case.reason
