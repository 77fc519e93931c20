"""ingest/mapping.py: dates as municipal exports write them become ISO text; unreadable ones warn per field."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pytest

from config.loader import load_config
from ingest.mapping import PropertyMapper
from ingest.report import WarningLog


def _map(props: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    warnings = WarningLog()
    mapped = PropertyMapper(load_config().themes["utilities"], warnings).map(props, feature=7)
    return mapped, warnings.lines()


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("installed", "2019-05-01", "2019-05-01"),
        ("дата_установки", "01.05.2019", "2019-05-01"),  # day first, as Belarusian and Russian exports write it
        ("дата_ўстаноўкі", "1.5.2019", "2019-05-01"),
        ("install_date", "2019/05/01", "2019-05-01"),
        ("install_date", "2019-05-01T00:00:00", "2019-05-01"),  # a date-time field at midnight
        ("install_date", 43586, "2019-05-01"),  # an Excel day serial
        ("install_date", 43586.0, "2019-05-01"),
        ("install_date", "43586", "2019-05-01"),  # the same serial exported to CSV
        ("год_прокладки", 1985, "1985-01-01"),  # a bare year: 1 January of that year
        ("год_прокладки", "1985", "1985-01-01"),
        ("installed", date(2019, 5, 1), "2019-05-01"),
    ],
)
def test_dates_in_common_spellings_become_iso(field: str, value: Any, expected: str) -> None:
    mapped, warnings = _map({"network": "water", field: value})
    assert mapped["installed"] == expected
    assert field == "installed" or field not in mapped
    assert warnings == []


@pytest.mark.parametrize(
    "value",
    ["31.02.2019", "2019-13-01", "yesterday", "01.05.19", 5, True, "2019-05-01T10:30:00", datetime(2019, 5, 1, 10, 30)],
)
def test_unreadable_date_is_kept_under_its_field_with_a_warning_naming_field_value_and_formats(value: Any) -> None:
    mapped, warnings = _map({"network": "water", "install_date": value})
    assert "installed" not in mapped and mapped["install_date"] == value  # data stays intact
    assert len(warnings) == 1
    message = warnings[0]
    assert message.startswith("feature 7: field 'install_date': value ")
    assert repr(value)[:30] in message and "not readable as date for 'installed'" in message
    assert "2019-05-01, 01.05.2019" in message  # says what would have been read


def test_datetime_coercion_keeps_time_and_offset() -> None:
    from ingest.mapping import COERCE

    assert COERCE["datetime"]("01.05.2019 14:30") == "2019-05-01T14:30:00"
    assert COERCE["datetime"]("2019-05-01T14:30:00Z") == "2019-05-01T14:30:00+00:00"
    assert COERCE["datetime"]("2019-05-01T14:30:00+03:00") == "2019-05-01T14:30:00+03:00"
    assert COERCE["datetime"]("2019-05-01") == "2019-05-01T00:00:00"
