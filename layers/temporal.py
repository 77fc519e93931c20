"""Time in queries: the `datetime` parameter and the CQL2 temporal operators, compiled to SQL with parameters.

Every temporal value is read as a closed span [start, end] of `timestamptz`:
an instant has start = end; an open end ('..') is -infinity / infinity. A date
(a `date` attribute, DATE('…'), '2019-05-01' in `datetime`) is the instant at
00:00 UTC of that day — except that `datetime` treats a date attribute as its
whole day (see theme_span) — and a date-time without an offset is read as UTC — the
same way pygeoapi's PostgreSQL provider (the test oracle) compares a date
column with a timestamp. Stored values are read defensively: a value that is
not an ISO 8601 date / date-time (or names a day that does not exist) reads as
NULL, so one bad row never fails a query (PostgreSQL 15 has no safe cast, hence
the pattern and day-of-month checks before the cast).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from django.db import connection

from config.loader import TemporalConfig
from layers.errors import InvalidParameter
from layers.features import SqlFragment

TEMPORAL_TYPES = ("date", "datetime")
OPEN = ".."
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# RFC 3339 date-time; without an offset it is read as UTC (lenient, as pygeoapi is).
_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d{1,6})?([Zz]|[+-]\d{2}:\d{2})?$")
# What a stored value must look like before the cast is tried (day-of-month is checked in SQL).
_STORED = (
    r"^[1-9][0-9]{3}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])"
    r"([T ]([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]{1,6})?)?(Z|[+-]([01][0-9]|2[0-3]):?[0-5][0-9])?)?$"
)
_HAS_OFFSET = r"[T ].*(Z|[+-][0-9]{2}:?[0-9]{2})$"
NEG_INFINITY = SqlFragment("'-infinity'::timestamptz")
POS_INFINITY = SqlFragment("'infinity'::timestamptz")


@dataclass(frozen=True)
class Span:
    """A temporal value as SQL: [start, end]; an instant has the same fragment twice."""

    start: SqlFragment
    end: SqlFragment


def parse_instant(text: str, *, parameter: str, what: str) -> datetime:
    """A date ('2019-05-01', 00:00 UTC) or an RFC 3339 date-time (UTC when it has no offset)."""
    value = text.strip()
    try:
        if _DATE.match(value):
            day = date.fromisoformat(value)
            return datetime(day.year, day.month, day.day, tzinfo=UTC)
        if _DATETIME.match(value):
            moment = datetime.fromisoformat(value.upper().replace("Z", "+00:00").replace(" ", "T"))
            return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    except ValueError:
        raise InvalidParameter(parameter, f"{what}: {text!r} names a date or time that does not exist.") from None
    raise InvalidParameter(
        parameter,
        f"{what}: {text!r} is not a date (YYYY-MM-DD) or an RFC 3339 date-time.",
        hint="Examples: 2019-05-01, 2019-05-01T10:00:00Z, 2019-05-01T13:00:00+03:00.",
    )


LITERAL_SQL = "%s::timestamptz"


def literal(moment: datetime) -> SqlFragment:
    return SqlFragment(LITERAL_SQL, [moment])


def stored_time(name: str, kind: str) -> SqlFragment:
    """Property `name` of `f.properties` as timestamptz (NULL when absent or not a valid date/date-time)."""
    v = "(f.properties->>%s)"
    if kind == "date":
        cast, cast_params = f"(substr({v}, 1, 10)::date::timestamp AT TIME ZONE 'UTC')", [name]
    else:
        cast = f"(CASE WHEN {v} ~ %s THEN {v}::timestamptz ELSE {v}::timestamp AT TIME ZONE 'UTC' END)"
        cast_params = [name, _HAS_OFFSET, name, name]
    days_in_month = f"extract(day from make_date(substr({v}, 1, 4)::int, substr({v}, 6, 2)::int, 1) + interval '1 month - 1 day')"
    sql = f"(CASE WHEN {v} ~ %s THEN CASE WHEN substr({v}, 9, 2)::int <= {days_in_month} THEN {cast} END END)"
    return SqlFragment(sql, [name, _STORED, name, name, name, *cast_params])


def property_span(name: str, kind: str) -> Span:
    value = stored_time(name, kind)
    return Span(value, value)


def _day_end(value: SqlFragment) -> SqlFragment:
    return SqlFragment(f"({value.sql} + interval '1 day' - interval '1 microsecond')", value.params)


def theme_span(temporal: TemporalConfig, kinds: dict[str, str]) -> tuple[Span, SqlFragment]:
    """The span of a feature under the theme's temporal key, and the condition that it has one at all.

    For `datetime`, a date attribute covers its whole day (UTC), as the oracle compares a date column with a
    date-time (it casts the date-time to a date). An interval with one end missing is open at that end (still
    in service, or start unknown)."""
    if temporal.instant is not None:
        value = stored_time(temporal.instant, kinds.get(temporal.instant, "datetime"))
        last = _day_end(value) if kinds.get(temporal.instant) == "date" else value
        return Span(value, last), SqlFragment(f"{value.sql} IS NOT NULL", value.params)
    start = stored_time(str(temporal.start), kinds.get(str(temporal.start), "datetime"))
    end = stored_time(str(temporal.end), kinds.get(str(temporal.end), "datetime"))
    end = _day_end(end) if kinds.get(str(temporal.end)) == "date" else end
    span = Span(
        SqlFragment(f"coalesce({start.sql}, '-infinity'::timestamptz)", start.params),
        SqlFragment(f"coalesce({end.sql}, 'infinity'::timestamptz)", end.params),
    )
    return span, SqlFragment(f"({start.sql} IS NOT NULL OR {end.sql} IS NOT NULL)", start.params + end.params)


def parse_datetime_parameter(raw: str) -> tuple[datetime | None, datetime | None]:
    """`datetime`: an instant, or 'start/end' with '..' (or nothing) for an open end. (None, None) never comes back."""
    if "/" not in raw:
        moment = parse_instant(raw, parameter="datetime", what="datetime")
        return moment, moment
    if raw.count("/") > 1:
        raise InvalidParameter("datetime", f"datetime={raw!r}: an interval has exactly one '/'.", hint=_DATETIME_HINT)
    first, second = (part.strip() for part in raw.split("/"))
    start = None if first in ("", OPEN) else parse_instant(first, parameter="datetime", what="datetime (start)")
    end = None if second in ("", OPEN) else parse_instant(second, parameter="datetime", what="datetime (end)")
    if start is None and end is None:
        raise InvalidParameter("datetime", f"datetime={raw!r}: both ends are open.", hint=_DATETIME_HINT)
    if start is not None and end is not None and start > end:
        raise InvalidParameter("datetime", f"datetime={raw!r}: the start is after the end.", hint=_DATETIME_HINT)
    return start, end


_DATETIME_HINT = "Examples: 2019-05-01, 2019-05-01T10:00:00Z, 2019-01-01/2019-12-31, 2019-01-01/.., ../2019-12-31T23:59:59Z."


def datetime_condition(
    bounds: tuple[datetime | None, datetime | None], temporal: TemporalConfig, kinds: dict[str, str]
) -> SqlFragment:
    """Features whose span intersects the request's [start, end] (closed; an open end is unbounded)."""
    span, has_time = theme_span(temporal, kinds)
    start, end = bounds
    parts, params = [has_time.sql], list(has_time.params)
    if end is not None:
        parts.append(f"{span.start.sql} <= %s::timestamptz")
        params += [*span.start.params, end]
    if start is not None:
        parts.append(f"{span.end.sql} >= %s::timestamptz")
        params += [*span.end.params, start]
    return SqlFragment(" AND ".join(f"({p})" for p in parts), params)


# CQL2 temporal operators over closed spans a = [as, ae], b = [bs, be] (ISO 19108 / CQL2 semantics).
TEMPORAL_OPERATORS: dict[str, tuple[tuple[str, str, str], ...]] = {
    "t_after": (("as", ">", "be"),),
    "t_before": (("ae", "<", "bs"),),
    "t_contains": (("as", "<", "bs"), ("ae", ">", "be")),
    "t_during": (("as", ">", "bs"), ("ae", "<", "be")),
    "t_equals": (("as", "=", "bs"), ("ae", "=", "be")),
    "t_finishedby": (("as", "<", "bs"), ("ae", "=", "be")),
    "t_finishes": (("as", ">", "bs"), ("ae", "=", "be")),
    "t_intersects": (("as", "<=", "be"), ("ae", ">=", "bs")),
    "t_meets": (("ae", "=", "bs"),),
    "t_metby": (("as", "=", "be"),),
    "t_overlappedby": (("as", ">", "bs"), ("as", "<", "be"), ("ae", ">", "be")),
    "t_overlaps": (("as", "<", "bs"), ("ae", ">", "bs"), ("ae", "<", "be")),
    "t_startedby": (("as", "=", "bs"), ("ae", ">", "be")),
    "t_starts": (("as", "=", "bs"), ("ae", "<", "be")),
}


def temporal_relation(op: str, a: Span, b: Span) -> SqlFragment:
    """The SQL of `op(a, b)`; T_DISJOINT is NOT T_INTERSECTS."""
    if op == "t_disjoint":
        inner = temporal_relation("t_intersects", a, b)
        return SqlFragment(f"NOT ({inner.sql})", inner.params)
    ends: dict[str, SqlFragment] = {"as": a.start, "ae": a.end, "bs": b.start, "be": b.end}
    parts: list[str] = []
    params: list[Any] = []
    for left, comparison, right in TEMPORAL_OPERATORS[op]:
        parts.append(f"{ends[left].sql} {comparison} {ends[right].sql}")
        params += ends[left].params + ends[right].params
    return SqlFragment(" AND ".join(f"({p})" for p in parts), params)


def time_extent(
    layer_ids: list[int], temporal: TemporalConfig, kinds: dict[str, str], *, table: str = "layers_feature"
) -> list[str | None] | None:
    """[first, last] instant of the layers' features (ISO, UTC; None = open), or None when none has a time.

    A full scan of the layers: callers store it per layer version. `table` is a quoted table name
    (layers_feature, or an import's partition before it is attached)."""
    first = temporal.instant or str(temporal.start)
    last = temporal.instant or str(temporal.end)
    start, end = stored_time(first, kinds.get(first, "datetime")), stored_time(last, kinds.get(last, "datetime"))
    sql = f"""
        SELECT min(q.s), max(q.e), bool_or(q.s IS NULL), bool_or(q.e IS NULL), count(*)
        FROM (SELECT {start.sql} AS s, {end.sql} AS e FROM {table} AS f WHERE f.layer_id = ANY(%s)) AS q
        WHERE q.s IS NOT NULL OR q.e IS NOT NULL
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, [*start.params, *end.params, layer_ids])
        low, high, open_start, open_end, count = cursor.fetchone()
    if not count:
        return None
    return [None if open_start else _iso(low), None if open_end else _iso(high)]


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
