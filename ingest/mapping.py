"""Attributes: JSON-safe values, and source fields mapped onto a theme's schema with type coercion."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np

from config.loader import AttributeConfig, ThemeConfig
from ingest.report import WarningLog

RowTransform = Callable[[dict[str, Any]], dict[str, Any]]
INTEGER_OGR_TYPES = ("OFTInteger", "OFTInteger64")
TRUE_WORDS = frozenset({"true", "t", "yes", "y", "1", "да", "так", "on"})
FALSE_WORDS = frozenset({"false", "f", "no", "n", "0", "нет", "не", "off"})


def rows_from_columns(
    columns: dict[str, np.ndarray], ogr_types: Sequence[str], *, first_feature: int, warnings: WarningLog
) -> list[dict[str, Any]]:
    """One JSON-safe dict per row: NaN → null, integer fields stay integers, bytes are dropped."""
    lists = json_columns(columns, ogr_types, first_feature=first_feature, warnings=warnings)
    length = len(next(iter(columns.values()))) if columns else 0
    return rows_from_lists(lists, length)


def json_columns(
    columns: dict[str, np.ndarray], ogr_types: Sequence[str], *, first_feature: int, warnings: WarningLog
) -> dict[str, list[Any]]:
    """Each column as a list of JSON-safe values (see rows_from_columns)."""
    return {
        name: _json_column(name, columns[name], kind, first_feature, warnings)
        for name, kind in zip(list(columns), ogr_types, strict=True)
    }


def rows_from_lists(lists: dict[str, list[Any]], length: int) -> list[dict[str, Any]]:
    names = list(lists)
    if not names:
        return [{} for _ in range(length)]
    return [dict(zip(names, values, strict=True)) for values in zip(*lists.values(), strict=True)]


def _json_column(name: str, column: np.ndarray, ogr_type: str, first: int, warnings: WarningLog) -> list[Any]:
    if column.dtype.kind == "f":
        return _float_column(column, integer=ogr_type in INTEGER_OGR_TYPES)
    values = column.tolist()
    if column.dtype.kind != "O":
        return values
    # Whole-column fast path (C loops only): plain text without NUL needs no per-value look.
    kinds = set(map(type, values))
    if kinds <= {str, type(None)} and "\x00" not in "".join(filter(None, values)):
        return values
    out: list[Any] = []
    for index, value in enumerate(values):
        if isinstance(value, bytes | bytearray | memoryview):
            warnings.add(f"bytes-{name}", f"field {name!r}: binary value dropped", first + index)
            value = None
        elif isinstance(value, str) and "\x00" in value:
            value = value.replace("\x00", "")  # PostgreSQL text and jsonb cannot hold NUL
        elif isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
            value = None
        out.append(value)
    return out


def _float_column(column: np.ndarray, *, integer: bool) -> list[Any]:
    """NaN/inf → None; GDAL hands integer columns with nulls over as floats: those become ints again.

    A 4-byte float column (GDAL's Float32 subtype: GeoPackage FLOAT, a PostgreSQL real exported by
    ogr2ogr) keeps the value its source shows: 36.6, not the 36.599998474121094 of its widening to a double.
    """
    if column.dtype == np.float32 and not integer:
        column = shortest_float32_decimals(column)
    finite = np.isfinite(column)
    if finite.all():
        exact = integer and (len(column) == 0 or float(np.abs(column).max()) < 2**53)  # int64 cast is exact here
        return column.astype(np.int64).tolist() if exact else [int(v) for v in column.tolist()] if integer else column.tolist()
    values = column.tolist()
    if integer:
        return [int(v) if ok else None for v, ok in zip(values, finite.tolist(), strict=True)]
    return [v if ok else None for v, ok in zip(values, finite.tolist(), strict=True)]


def shortest_float32_decimals(column: np.ndarray) -> np.ndarray:
    """Each float32 as the double of its shortest decimal that reads back as the same float32.

    What str(np.float32(v)) gives, for a whole column in a few vector passes (per value it would cost
    about a second per million): try 1 to 9 significant digits, keep the first that round-trips.
    """
    wide = column.astype(np.float64)
    out = wide.copy()
    with np.errstate(divide="ignore", invalid="ignore"):
        exponent = np.floor(np.log10(np.abs(wide)))
    index = np.flatnonzero(np.isfinite(exponent) & (np.abs(exponent) < 20))  # 0, NaN, inf, extremes: as they are
    values, target, exp = wide[index], column[index], exponent[index].astype(np.int64)
    for digits in range(1, 10):
        if not index.size:
            break
        # 10**k is exact for |k| <= 22, and IEEE division and multiplication round correctly, so the
        # candidate is the double nearest the decimal m·10^-k: the double float("…") would read.
        k = digits - 1 - exp
        scale = _POWERS_OF_TEN[np.abs(k)]
        candidate = np.rint(values * scale) / scale
        down = k < 0
        if down.any():
            candidate[down] = np.rint(values[down] / scale[down]) * scale[down]
        fits = candidate.astype(np.float32) == target
        out[index[fits]] = candidate[fits]
        left = ~fits
        index, values, target, exp = index[left], values[left], target[left], exp[left]
    return out


_POWERS_OF_TEN = 10.0 ** np.arange(30)


class CoercionError(ValueError):
    pass


def _to_integer(value: Any) -> int:
    if isinstance(value, bool):
        raise CoercionError
    if isinstance(value, int):
        return value
    number = _to_number(value)
    if not number.is_integer():
        raise CoercionError
    return int(number)


def _to_number(value: Any) -> float:
    if isinstance(value, bool):
        raise CoercionError
    if isinstance(value, int | float):
        return float(value)
    try:
        number = float(str(value).strip().replace(",", ".").replace(" ", ""))
    except ValueError:
        raise CoercionError from None
    if math.isnan(number) or math.isinf(number):
        raise CoercionError
    return number


def _to_boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    word = str(value).strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise CoercionError


# Dates as Belarusian and Russian exports write them: ISO 2019-05-01, 01.05.2019 (day first), 2019/05/01;
# a bare year (год_прокладки: 1985) is 1 January of that year; other whole numbers are Excel day serials.
_DMY = re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{4})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?$")
_YMD_SLASH = re.compile(r"^(\d{4})/(\d{1,2})/(\d{1,2})$")
_EXCEL_EPOCH = date(1899, 12, 30)  # Excel's day 0 (its 1900 leap-year bug folded in)
_YEARS = range(1000, 2101)
_EXCEL_DAYS = range(_YEARS.stop, 2958466)  # after the last year-like number, up to 9999-12-31
DATE_FORMATS = "expected a date such as 2019-05-01, 01.05.2019, a year (1985) or an Excel day number"
DATETIME_FORMATS = "expected a date-time such as 2019-05-01T14:30:00+03:00, 01.05.2019 14:30, or a date"


def _number_as_moment(value: Any) -> datetime | None:
    """A year or an Excel serial (whole days, or days with a fraction of a day) as a naive datetime."""
    text = value if isinstance(value, str) else None
    if text is not None:
        if not re.fullmatch(r"\d+(\.\d+)?", text.strip()):
            return None
        value = float(text)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    if float(value).is_integer() and int(value) in _YEARS:
        return datetime(int(value), 1, 1)
    if int(value) in _EXCEL_DAYS:
        return datetime.combine(_EXCEL_EPOCH, datetime.min.time()) + timedelta(days=float(value))
    raise CoercionError


def _text_as_moment(text: str) -> datetime | date:
    match = _DMY.match(text)
    if match:  # 31.12.2020 [14:30[:00]], the usual way dates are written in Belarus
        day = date(int(match[3]), int(match[2]), int(match[1]))
        if match[4] is None:
            return day
        return datetime.combine(day, datetime.min.time()).replace(
            hour=int(match[4]), minute=int(match[5]), second=int(match[6] or 0)
        )
    match = _YMD_SLASH.match(text)
    if match:
        return date(int(match[1]), int(match[2]), int(match[3]))
    if len(text) == 10:
        return date.fromisoformat(text)
    return datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))


def _moment(value: Any) -> datetime | date:
    if isinstance(value, datetime | date):
        return value
    try:
        number = _number_as_moment(value)
        if number is not None:
            return number
        return _text_as_moment(str(value).strip())
    except (ValueError, OverflowError):
        raise CoercionError from None


def _to_date(value: Any) -> str:
    moment = _moment(value)
    if isinstance(moment, datetime):
        numeric = isinstance(value, int | float) or re.fullmatch(r"\d+(\.\d+)?", str(value).strip())
        if moment.time() != datetime.min.time() and not numeric:
            raise CoercionError  # a time of day would be lost: not a date (an Excel serial's fraction may go)
        return moment.date().isoformat()
    return moment.isoformat()


def _to_datetime(value: Any) -> str:
    moment = _moment(value)
    if not isinstance(moment, datetime):
        moment = datetime.combine(moment, datetime.min.time())
    return moment.isoformat()


def _to_string(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return value if isinstance(value, str) else str(value)


COERCE: dict[str, Callable[[Any], Any]] = {
    "string": _to_string,
    "integer": _to_integer,
    "number": _to_number,
    "boolean": _to_boolean,
    "date": _to_date,
    "datetime": _to_datetime,
}


# Values of these exact types are returned unchanged by COERCE[attribute type].
ALREADY: dict[str, type] = {"string": str, "integer": int, "number": float, "boolean": bool}


class PropertyMapper:
    """Maps source fields onto a theme: case-insensitive match on the attribute name or a synonym.

    A field named exactly like the attribute wins over synonyms; among synonyms the first
    non-null field wins. Fields that map to nothing (or lose) are kept under their own names.
    """

    def __init__(self, theme: ThemeConfig, warnings: WarningLog) -> None:
        self.theme = theme
        self.warnings = warnings
        self._lookup: dict[str, AttributeConfig] = {a.name.lower(): a for a in theme.attributes}
        for attribute in theme.attributes:
            for synonym in attribute.synonyms:
                self._lookup.setdefault(synonym.lower(), attribute)
        self._plans: dict[tuple[str, ...], list[tuple[AttributeConfig, list[str]]]] = {}

    def plan(self, keys: tuple[str, ...]) -> list[tuple[AttributeConfig, list[str]]]:
        """Per set of source keys (the same for every row of a file): each attribute's candidate keys, best first."""
        plan = self._plans.get(keys)
        if plan is None:
            plan = []
            for attribute in self.theme.attributes:
                matching = [k for k in keys if self._lookup.get(k.lower()) is attribute]
                exact = [k for k in matching if k.lower() == attribute.name]
                plan.append((attribute, exact + [k for k in matching if k not in exact]))
            self._plans[keys] = plan
        return plan

    def map(self, props: dict[str, Any], feature: int) -> dict[str, Any]:
        out: dict[str, Any] = {}
        used: set[str] = set()
        for attribute, candidates in self.plan(tuple(props)):
            for key in candidates:
                value = props[key]
                if value is not None:
                    used.add(key)
                    if type(value) is ALREADY.get(attribute.type) and attribute.enum is None:
                        out[attribute.name] = value  # what COERCE would return: skip the call
                    else:
                        self._put(out, attribute, key, value, feature)
                    break
            else:
                if attribute.required:
                    self.warnings.add(f"required-{attribute.name}", f"required attribute {attribute.name!r} is missing", feature)
        for key, value in props.items():
            if key not in used and key not in out:
                out[key] = value
        return out

    def _put(self, out: dict[str, Any], attribute: AttributeConfig, key: str, value: Any, feature: int) -> None:
        try:
            coerced = COERCE[attribute.type](value)
        except CoercionError:
            expected = {"date": DATE_FORMATS, "datetime": DATETIME_FORMATS}.get(attribute.type, f"expected {attribute.type}")
            self.warnings.add(
                f"coerce-{attribute.name}-{key}",
                f"field {key!r}: value {_shown(value)} not readable as {attribute.type} for {attribute.name!r}"
                f" ({expected}), kept as is under {key!r}",
                feature,
            )
            out[key] = value
            return
        if attribute.enum is not None and coerced not in attribute.enum:
            self.warnings.add(
                f"enum-{attribute.name}", f"{attribute.name!r}: value outside the theme's list {list(attribute.enum)}", feature
            )
        out[attribute.name] = coerced


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "…"
