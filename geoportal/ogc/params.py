"""Query parameters of the OGC API: parsed, validated, and rejected with a message naming them.

Choices (documented in the README):
- Unknown query parameters answer 400 naming the parameter (OGC API Features
  Part 1, /req/core/query-param-unknown); property filters come with queryables.
- `limit` above MAX_LIMIT is clamped, not refused; the response says so in the
  `Geoportal-Limit-Clamped` header and the links carry the clamped value.
- `cursor` is an opaque keyset token from a `next` link; `offset` is accepted
  for compatibility and applies after the cursor.
"""

from __future__ import annotations

import base64
import binascii
import math
from dataclasses import dataclass, field

from django.conf import settings
from django.http import HttpRequest

from config.loader import TemporalConfig
from layers.cql2 import compile_filter, parse_json, parse_text, sort_expression
from layers.crs import CRS84, Crs, parse_crs
from layers.errors import InvalidParameter
from layers.features import BBox, Output, SortKey, SqlFragment
from layers.temporal import datetime_condition, parse_datetime_parameter

FORMATS = ("json", "html")
_JSON_MEDIA = ("application/json", "application/geo+json", "application/vnd.oai.openapi+json")


def single(request: HttpRequest, name: str) -> str | None:
    """The value of a parameter given at most once."""
    values = request.GET.getlist(name)
    if len(values) > 1:
        raise InvalidParameter(name, f"Parameter {name!r} is given {len(values)} times.", hint="Give it once.")
    return values[0] if values else None


def reject_unknown(request: HttpRequest, allowed: tuple[str, ...]) -> None:
    for name in request.GET:
        if name not in allowed:
            raise InvalidParameter(
                name,
                f"Unknown query parameter {name!r}.",
                hint=f"This resource accepts: {', '.join(allowed)}.",
            )


def negotiate_format(request: HttpRequest, *, offered: tuple[str, ...] = FORMATS) -> str:
    """'json' or 'html': the `f` parameter wins, then the Accept header; JSON by default."""
    f = single(request, "f")
    if f is not None:
        if f not in offered:
            raise InvalidParameter("f", f"Unknown output format f={f!r}.", hint=f"Allowed values: {', '.join(offered)}.")
        return f
    if "html" not in offered:
        return offered[0]
    return _best_from_accept(request.headers.get("Accept", ""))


def _best_from_accept(accept: str) -> str:
    best, best_q = "json", 0.0
    for part in accept.split(","):
        media, _, params = part.strip().partition(";")
        q = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        media = media.strip().lower()
        fmt = "html" if media in ("text/html", "application/xhtml+xml") else "json" if media in _JSON_MEDIA else None
        if fmt and q > best_q:
            best, best_q = fmt, q
    return best


def _is_count(raw: str) -> bool:
    """ASCII digits only ('²' and '٣' are digits to str.isdigit but not to int())."""
    return raw.isascii() and raw.isdigit()


def _limit_setting(name: str) -> int:
    """DEFAULT_LIMIT / MAX_LIMIT of settings.GEOPORTAL (a dict of mixed values: checked, not cast)."""
    value = settings.GEOPORTAL[name]
    if not isinstance(value, int):
        raise TypeError(f"settings.GEOPORTAL[{name!r}] must be an integer, found {value!r}")
    return value


def parse_limit(request: HttpRequest) -> tuple[int, int | None]:
    """(limit to serve, the requested limit when it was clamped to MAX_LIMIT, else None)."""
    raw = single(request, "limit")
    default, maximum = _limit_setting("DEFAULT_LIMIT"), _limit_setting("MAX_LIMIT")
    if raw is None:
        return default, None
    if not _is_count(raw) or not raw.strip("0"):
        raise InvalidParameter("limit", f"limit={raw!r} is not a positive integer.", hint=f"Use 1 to {maximum}.")
    requested = int(raw) if len(raw) <= 18 else 10**18  # int() refuses over 4300 digits
    return (maximum, requested) if requested > maximum else (requested, None)


def parse_offset(request: HttpRequest) -> int:
    raw = single(request, "offset")
    if raw is None:
        return 0
    if not _is_count(raw) or len(raw) > 18:
        raise InvalidParameter(
            "offset", f"offset={raw!r} is not a non-negative integer.", hint="Prefer the 'next' link (cursor)."
        )
    return int(raw)


def parse_bbox(request: HttpRequest, offered_crs: list[str]) -> BBox | None:
    """The bbox, in `bbox-crs` (CRS84 by default) and that CRS's official axis order, as an east/north box."""
    raw = single(request, "bbox")
    raw_crs = single(request, "bbox-crs")
    crs = parse_crs("bbox-crs", raw_crs, offered_crs) if raw_crs is not None else CRS84
    if raw is None:
        return None
    parts = raw.split(",")
    if len(parts) not in (4, 6):
        raise InvalidParameter(
            "bbox",
            f"bbox={raw!r}: expected 4 or 6 comma-separated numbers, found {len(parts)}.",
            hint="Use bbox=minLon,minLat,maxLon,maxLat in CRS84, e.g. bbox=25.2,53.8,25.4,53.95.",
        )
    numbers = [_bbox_number(raw, part) for part in parts]
    if len(numbers) == 6:  # minx, miny, minz, maxx, maxy, maxz: heights are not filtered on
        numbers = [numbers[0], numbers[1], numbers[3], numbers[4]]
    if crs.northing_first:  # e.g. EPSG:4326 (minLat,minLon,maxLat,maxLon) or a Gauss-Krüger zone (northing first)
        numbers = [numbers[1], numbers[0], numbers[3], numbers[2]]
    minx, miny, maxx, maxy = numbers
    x_name, y_name = ("longitude", "latitude") if crs.geographic else ("easting", "northing")
    if minx > maxx:
        raise InvalidParameter(
            "bbox",
            f"bbox={raw!r}: minimum {x_name} {minx} is greater than maximum {x_name} {maxx}.",
            hint="A box crossing the antimeridian is not supported yet; split it into two requests.",
        )
    if miny > maxy:
        raise InvalidParameter("bbox", f"bbox={raw!r}: minimum {y_name} {miny} is greater than maximum {y_name} {maxy}.")
    if crs.geographic:
        order = "minLat,minLon,maxLat,maxLon" if crs.northing_first else "minLon,minLat,maxLon,maxLat"
        if not (-90 <= miny <= 90 and -90 <= maxy <= 90):
            raise InvalidParameter("bbox", f"bbox={raw!r}: latitudes must be within -90..90.", hint=f"The order is {order}.")
        if not (-180 <= minx <= 180 and -180 <= maxx <= 180):
            raise InvalidParameter("bbox", f"bbox={raw!r}: longitudes must be within -180..180.", hint=f"The order is {order}.")
    return BBox(minx, miny, maxx, maxy, srid=crs.srid)


def _bbox_number(raw: str, part: str) -> float:
    try:
        value = float(part)
    except ValueError:
        raise InvalidParameter("bbox", f"bbox={raw!r}: {part.strip()!r} is not a number.") from None
    if not math.isfinite(value):
        raise InvalidParameter("bbox", f"bbox={raw!r}: {part.strip()!r} is not a finite number.")
    return value


def parse_datetime(request: HttpRequest, temporal: TemporalConfig | None, queryables: dict[str, str]) -> SqlFragment | None:
    """`datetime` as a condition on the theme's temporal attribute(s) (layers/temporal.py says how time is read).

    Always validated. "Only features that have a temporal geometry that intersects the datetime value are
    selected" (OGC API Features Part 1): a feature without a time, and so every feature of a collection whose
    theme has no temporal key, is not selected. (pygeoapi's PostgreSQL provider answers a query error there;
    tests/ogc/test_oracle.py records it.)"""
    raw = single(request, "datetime")
    if raw is None:
        return None
    bounds = parse_datetime_parameter(raw)
    return datetime_condition(bounds, temporal, queryables) if temporal is not None else SqlFragment("FALSE")


# Cursor: opaque to clients; inside it is the last Feature.id served (keyset), or, under a
# sortby, the offset of the next page.
_CURSOR_PREFIX = "k1:"
_OFFSET_PREFIX = "o1:"


def encode_cursor(last_id: int) -> str:
    return base64.urlsafe_b64encode(f"{_CURSOR_PREFIX}{last_id}".encode()).decode().rstrip("=")


def encode_offset_cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"{_OFFSET_PREFIX}{offset}".encode()).decode().rstrip("=")


def parse_cursor(request: HttpRequest) -> tuple[int | None, int]:
    """(the keyset Feature.id to start after, or None; the offset the cursor carries, else 0)."""
    raw = single(request, "cursor")
    if raw is None:
        return None, 0
    bad = InvalidParameter(
        "cursor",
        f"cursor={raw!r} is not a cursor issued by this server.",
        hint="Follow the 'next' link of the previous page, or drop 'cursor' to start from the first page.",
    )
    try:
        text = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)).decode("ascii")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise bad from None
    prefix = text[:3]
    number = text[3:]
    if prefix not in (_CURSOR_PREFIX, _OFFSET_PREFIX) or not _is_count(number) or len(number) > 18:
        raise bad
    return (int(number), 0) if prefix == _CURSOR_PREFIX else (None, int(number))


def parse_output_crs(request: HttpRequest, offered_crs: list[str]) -> Crs:
    raw = single(request, "crs")
    return parse_crs("crs", raw, offered_crs) if raw is not None else CRS84


FILTER_LANGUAGES = ("cql2-text", "cql2-json")


def parse_filter(request: HttpRequest, queryables: dict[str, str], offered_crs: list[str]) -> SqlFragment | None:
    raw, lang, raw_crs = single(request, "filter"), single(request, "filter-lang"), single(request, "filter-crs")
    if lang is not None and lang not in FILTER_LANGUAGES:
        raise InvalidParameter(
            "filter-lang", f"filter-lang={lang!r} is not supported.", hint=f"Use one of: {', '.join(FILTER_LANGUAGES)}."
        )
    crs = parse_crs("filter-crs", raw_crs, offered_crs) if raw_crs is not None else CRS84
    if raw is None:
        return None
    if not raw.strip():
        raise InvalidParameter("filter", "filter is empty.", hint="Example: filter=levels > 2 AND name LIKE 'Sch%'.")
    tree = parse_json(raw) if lang == "cql2-json" else parse_text(raw)
    return compile_filter(tree, queryables=queryables, crs=crs)


def parse_sortby(request: HttpRequest, queryables: dict[str, str]) -> list[SortKey]:
    raw = single(request, "sortby")
    if raw is None:
        return []
    keys = []
    for part in raw.split(","):
        name = part.strip()
        descending = name.startswith("-")
        name = name.lstrip("+-").strip()
        if not name:
            raise InvalidParameter("sortby", f"sortby={raw!r}: an empty property name.", hint="Example: sortby=-levels,name.")
        keys.append(SortKey(sort_expression(name, queryables), descending))
    return keys


def parse_properties(request: HttpRequest) -> tuple[str, ...] | None:
    raw = single(request, "properties")
    if raw is None:
        return None
    return tuple(name.strip() for name in raw.split(",") if name.strip())


def parse_skip_geometry(request: HttpRequest) -> bool:
    raw = single(request, "skipGeometry")
    if raw is None:
        return False
    if raw.lower() not in ("true", "false"):
        raise InvalidParameter("skipGeometry", f"skipGeometry={raw!r} is neither true nor false.")
    return raw.lower() == "true"


@dataclass(frozen=True)
class ItemsQuery:
    limit: int
    clamped_from: int | None
    offset: int
    after_id: int | None
    bbox: BBox | None
    time_condition: SqlFragment | None
    crs: Crs = CRS84
    condition: SqlFragment | None = None
    sort: list[SortKey] = field(default_factory=list)
    output: Output = field(default_factory=Output)


ITEMS_PARAMETERS = (
    "f",
    "limit",
    "bbox",
    "bbox-crs",
    "crs",
    "cursor",
    "offset",
    "datetime",
    "filter",
    "filter-lang",
    "filter-crs",
    "sortby",
    "properties",
    "skipGeometry",
)


def parse_items_query(
    request: HttpRequest, *, offered_crs: list[str], queryables: dict[str, str], temporal: TemporalConfig | None = None
) -> ItemsQuery:
    reject_unknown(request, ITEMS_PARAMETERS)
    limit, clamped_from = parse_limit(request)
    after_id, cursor_offset = parse_cursor(request)
    crs = parse_output_crs(request, offered_crs)
    return ItemsQuery(
        limit=limit,
        clamped_from=clamped_from,
        offset=parse_offset(request) + cursor_offset,
        after_id=after_id,
        bbox=parse_bbox(request, offered_crs),
        time_condition=parse_datetime(request, temporal, queryables),
        crs=crs,
        condition=parse_filter(request, queryables, offered_crs),
        sort=parse_sortby(request, queryables),
        output=Output(crs=crs, properties=parse_properties(request), skip_geometry=parse_skip_geometry(request)),
    )
