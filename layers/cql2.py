"""CQL2 filters (OGC API Features Part 3): cql2-text and cql2-json compiled to parameterised SQL.

Both encodings parse into the cql2-json tree ({"op", "args"}, {"property"},
literals); one compiler turns that tree into a SQL condition over
`layers_feature AS f`. Property names are checked against the collection's
queryables and reach SQL only as parameters (`f.properties->>%s`); every value
is a parameter too. A property is read with the type its queryable declares,
and a stored value of another type reads as NULL rather than failing the cast.
Errors raise InvalidParameter("filter", …) quoting the offending part.

Supported: AND/OR/NOT, = <> < > <= >=, [NOT] LIKE, [NOT] BETWEEN, [NOT] IN,
IS [NOT] NULL, CASEI, ACCENTI (PostgreSQL `unaccent`), S_INTERSECTS, S_WITHIN,
S_CONTAINS, S_DISJOINT, S_EQUALS, S_TOUCHES, S_CROSSES, S_OVERLAPS, S_DWITHIN
(distance in metres, an extension); the temporal operators T_AFTER … T_STARTS
over DATE()/TIMESTAMP()/INTERVAL() literals and date/datetime properties
(layers/temporal.py: closed spans of timestamptz, dates at 00:00 UTC), and the
array operators A_EQUALS (same elements, same order), A_CONTAINS, A_CONTAINEDBY
and A_OVERLAPS over JSON-array properties and array literals (`('a', 'b')` in
cql2-text, a JSON array in cql2-json), compiled to jsonb `=`, `@>`, `<@`.
Comparisons of a date/datetime property accept DATE()/TIMESTAMP() and ISO text.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import Any

import shapely
import shapely.geometry
import shapely.wkt
from shapely.errors import GEOSException

from layers.crs import CRS84, STORAGE_SRID, Crs
from layers.errors import InvalidParameter
from layers.features import SqlFragment
from layers.temporal import (
    LITERAL_SQL,
    NEG_INFINITY,
    OPEN,
    POS_INFINITY,
    TEMPORAL_OPERATORS,
    TEMPORAL_TYPES,
    Span,
    literal,
    parse_instant,
    property_span,
    stored_time,
    temporal_relation,
)

GEOMETRY_PROPERTY = "geometry"
SPATIAL = {
    "s_intersects": "ST_Intersects",
    "s_within": "ST_Within",
    "s_contains": "ST_Contains",
    "s_disjoint": "ST_Disjoint",
    "s_equals": "ST_Equals",
    "s_touches": "ST_Touches",
    "s_crosses": "ST_Crosses",
    "s_overlaps": "ST_Overlaps",
}
COMPARISON = ("=", "<>", "<", ">", "<=", ">=")
TEMPORAL = (*TEMPORAL_OPERATORS, "t_disjoint")
ARRAY = {"a_equals": "=", "a_contains": "@>", "a_containedby": "<@", "a_overlaps": None}
_TEMPORAL_EXPECTED = "a temporal value (DATE('…'), TIMESTAMP('…'), INTERVAL(…, …) or a date/datetime property)"
_WKT_TYPES = ("POINT", "LINESTRING", "POLYGON", "MULTIPOINT", "MULTILINESTRING", "MULTIPOLYGON", "GEOMETRYCOLLECTION")
_KEYWORDS = {"AND", "OR", "NOT", "LIKE", "BETWEEN", "IN", "IS", "NULL", "TRUE", "FALSE"}


def _error(message: str, hint: str | None = None) -> InvalidParameter:
    return InvalidParameter("filter", message, hint=hint)


# ---------------------------------------------------------------- cql2-text


@dataclass(frozen=True)
class _Token:
    kind: str  # 'string', 'number', 'name', 'qname' (double-quoted), 'op', 'wkt', 'end'
    text: str
    pos: int  # 1-based character position in the filter, for error messages

    @property
    def upper(self) -> str:
        return self.text.upper() if self.kind == "name" else ""


_TOKEN = re.compile(
    r"""\s*(?:
        (?P<string>'(?:[^']|'')*')
      | (?P<number>-?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
      | (?P<qname>"(?:[^"]|"")+")
      | (?P<name>[A-Za-z_][A-Za-z0-9_:.]*)
      | (?P<op><>|<=|>=|[=<>(),\[\]])
    )""",
    re.VERBOSE,
)


def _tokenize(text: str) -> list[_Token]:
    tokens, pos = [], 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        match = _TOKEN.match(text, pos)
        if match is None or match.lastgroup is None:
            start = len(text[pos:]) - len(text[pos:].lstrip()) + pos
            raise _error(f"filter: unexpected character {text[start]!r} at position {start + 1}: …{text[start : start + 20]}")
        kind, value, start = match.lastgroup, match.group(match.lastgroup), match.start(match.lastgroup)
        pos = match.end()
        if kind == "name" and value.upper() in _WKT_TYPES:
            end = _wkt_end(text, pos, start)
            tokens.append(_Token("wkt", text[start:end], start + 1))
            pos = end
            continue
        tokens.append(_Token(kind, value, start + 1))
    tokens.append(_Token("end", "", len(text) + 1))
    return tokens


def _wkt_end(text: str, pos: int, start: int) -> int:
    """End of a WKT geometry starting at `start` (its type name ends at `pos`): through the balanced parentheses."""
    rest = text[pos:]
    keyword = re.match(r"\s*(Z\s*|M\s*|ZM\s*)?(EMPTY\b)?", rest, re.IGNORECASE)
    pos += keyword.end() if keyword else 0
    if keyword and keyword.group(2):
        return pos
    pos += len(text[pos:]) - len(text[pos:].lstrip())
    if pos >= len(text) or text[pos] != "(":
        raise _error(f"filter: geometry at position {start + 1} lacks its coordinates: …{text[start : start + 30]}")
    depth = 0
    for i in range(pos, len(text)):
        depth += {"(": 1, ")": -1}.get(text[i], 0)
        if depth == 0:
            return i + 1
    raise _error(f"filter: unbalanced parentheses in the geometry at position {start + 1}.")


class _TextParser:
    def __init__(self, text: str) -> None:
        self.tokens = _tokenize(text)
        self.i = 0

    def peek(self, ahead: int = 0) -> _Token:
        return self.tokens[min(self.i + ahead, len(self.tokens) - 1)]

    def next(self) -> _Token:
        token = self.peek()
        self.i += 1
        return token

    def fail(self, token: _Token, expected: str) -> InvalidParameter:
        found = "the end of the filter" if token.kind == "end" else repr(token.text)
        return _error(f"filter: expected {expected} at position {token.pos}, found {found}.")

    def expect(self, text: str) -> _Token:
        token = self.next()
        if token.text.upper() != text:
            raise self.fail(token, repr(text))
        return token

    def keyword(self, word: str) -> bool:
        if self.peek().upper == word:
            self.i += 1
            return True
        return False

    def parse(self) -> Any:
        node = self.boolean_expression()
        if self.peek().kind != "end":
            raise self.fail(self.peek(), "AND, OR or the end of the filter")
        return node

    def boolean_expression(self) -> Any:
        args = [self.boolean_term()]
        while self.keyword("OR"):
            args.append(self.boolean_term())
        return args[0] if len(args) == 1 else {"op": "or", "args": args}

    def boolean_term(self) -> Any:
        args = [self.boolean_factor()]
        while self.keyword("AND"):
            args.append(self.boolean_factor())
        return args[0] if len(args) == 1 else {"op": "and", "args": args}

    def boolean_factor(self) -> Any:
        if self.keyword("NOT"):
            return {"op": "not", "args": [self.boolean_factor()]}
        token = self.peek()
        if token.text == "(":
            self.next()
            node = self.boolean_expression()
            self.expect(")")
            return node
        after = self.peek(1)
        if token.upper in ("TRUE", "FALSE") and (after.kind == "end" or after.upper in ("AND", "OR") or after.text == ")"):
            self.next()
            return token.upper == "TRUE"
        if token.kind == "name" and self.peek(1).text == "(" and token.upper.startswith(("S_", "T_", "A_")):
            return self.function_predicate()
        return self.predicate()

    def function_predicate(self) -> Any:
        name = self.next()
        self.expect("(")
        return {"op": name.text.lower(), "args": self.scalar_list(allow_empty=False)}

    def scalar_list(self, *, allow_empty: bool) -> list[Any]:
        """The comma-separated scalars after an opening '(' up to and including the ')'."""
        items = [] if allow_empty and self.peek().text == ")" else [self.scalar()]
        while self.peek().text == ",":
            self.next()
            items.append(self.scalar())
        self.expect(")")
        return items

    def predicate(self) -> Any:
        left = self.scalar()
        token = self.peek()
        if token.text in COMPARISON:
            self.next()
            return {"op": token.text, "args": [left, self.scalar()]}
        if self.keyword("IS"):
            negate = self.keyword("NOT")
            self.expect("NULL")
            return _negated({"op": "isNull", "args": [left]}, negate)
        negate = self.keyword("NOT")
        if self.keyword("LIKE"):
            return _negated({"op": "like", "args": [left, self.scalar()]}, negate)
        if self.keyword("BETWEEN"):
            low = self.scalar()
            self.expect("AND")
            return _negated({"op": "between", "args": [left, low, self.scalar()]}, negate)
        if self.keyword("IN"):
            self.expect("(")
            return _negated({"op": "in", "args": [left, self.scalar_list(allow_empty=False)]}, negate)
        raise self.fail(self.peek(), "a comparison (=, <>, <, >, <=, >=, LIKE, BETWEEN, IN, IS NULL)")

    def scalar(self) -> Any:
        token = self.next()
        if token.text == "(":  # an array literal: ('a', 'b') or ()
            return self.scalar_list(allow_empty=True)
        if token.kind == "string":
            return token.text[1:-1].replace("''", "'")
        if token.kind == "number":
            return float(token.text) if any(c in token.text for c in ".eE") else int(token.text)
        if token.kind == "wkt":
            return _wkt_geometry(token)
        if token.kind == "qname":
            return {"property": token.text[1:-1].replace('""', '"')}
        if token.kind != "name" or token.upper in _KEYWORDS - {"TRUE", "FALSE"}:
            raise self.fail(token, "a property name or a value")
        if token.upper in ("TRUE", "FALSE"):
            return token.upper == "TRUE"
        if self.peek().text != "(":
            return {"property": token.text}
        self.next()
        return _call(token, self.scalar_list(allow_empty=True))


def _negated(node: dict[str, Any], negate: bool) -> dict[str, Any]:
    return {"op": "not", "args": [node]} if negate else node


def _call(name: _Token, args: list[Any]) -> Any:
    word = name.upper
    if word in ("CASEI", "ACCENTI"):
        return {"op": word.lower(), "args": args}
    if word in ("DATE", "TIMESTAMP") and len(args) == 1 and isinstance(args[0], str):
        return {word.lower(): args[0]}
    if word == "INTERVAL":
        return {"interval": args}
    if word == "BBOX":
        return {"bbox": args}
    return {"op": name.text.lower(), "args": args}


def _wkt_geometry(token: _Token) -> dict[str, Any]:
    try:
        geometry = shapely.wkt.loads(token.text)
    except (GEOSException, ValueError) as exc:
        raise _error(f"filter: the geometry at position {token.pos} is not valid WKT ({exc}): {token.text[:60]}") from None
    return dict(shapely.geometry.mapping(geometry))


def parse_text(text: str) -> Any:
    """The cql2-json tree of a cql2-text filter."""
    try:
        return _TextParser(text).parse()
    except RecursionError:
        raise _error("filter: the filter is nested too deeply.") from None


def parse_json(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise _error(f"filter: not valid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}.") from None


# ---------------------------------------------------------------- compiler


@dataclass(frozen=True)
class _Typed:
    sql: str
    params: list[Any]
    type: str  # string, number, boolean, date, datetime, geometry, null


def property_expression(name: str, kind: str) -> _Typed:
    """A property of `f.properties` read as its queryable type; a value of another JSON type reads as NULL."""
    if kind == "geometry":
        return _Typed("f.geom", [], "geometry")
    if kind in ("integer", "number"):
        sql = "CASE WHEN jsonb_typeof(f.properties->%s) = 'number' THEN (f.properties->>%s)::double precision END"
        return _Typed(sql, [name, name], "number")
    if kind == "boolean":
        sql = "CASE WHEN jsonb_typeof(f.properties->%s) = 'boolean' THEN (f.properties->>%s)::boolean END"
        return _Typed(sql, [name, name], "boolean")
    if kind in TEMPORAL_TYPES:
        value = stored_time(name, kind)
        return _Typed(value.sql, value.params, kind)
    if kind == "array":
        return _Typed("CASE WHEN jsonb_typeof(f.properties->%s) = 'array' THEN f.properties->%s END", [name, name], "array")
    return _Typed("(f.properties->>%s)", [name], "string")


def sort_expression(name: str, queryables: dict[str, str]) -> SqlFragment:
    kind = queryables.get(name)
    if kind is None or kind in ("geometry", "array"):
        raise InvalidParameter(
            "sortby", f"sortby: {name!r} is not a sortable property.", hint="Sortable: " + ", ".join(_names(queryables)) + "."
        )
    typed = property_expression(name, kind)
    return SqlFragment(typed.sql, typed.params)


def _names(queryables: dict[str, str]) -> list[str]:
    return sorted(name for name, kind in queryables.items() if kind not in ("geometry", "array"))


class _Compiler:
    def __init__(self, queryables: dict[str, str], crs: Crs) -> None:
        self.queryables = queryables
        self.crs = crs

    def condition(self, node: Any) -> SqlFragment:
        if isinstance(node, bool):
            return SqlFragment("TRUE" if node else "FALSE")
        if not isinstance(node, dict) or "op" not in node:
            raise _error(f"filter: expected a predicate, found {_show(node)}.")
        op, args = str(node["op"]), node.get("args")
        if not isinstance(args, list):
            raise _error(f"filter: operator {op!r} needs an 'args' list.")
        if op in ("and", "or"):
            if len(args) < 2:
                raise _error(f"filter: {op!r} needs at least two arguments.")
            parts = [self.condition(arg) for arg in args]
            return SqlFragment(f" {op.upper()} ".join(f"({p.sql})" for p in parts), [x for p in parts for x in p.params])
        if op == "not":
            inner = self.condition(self.arity(op, args, 1)[0])
            return SqlFragment(f"NOT ({inner.sql})", inner.params)  # SQL's three-valued logic, as CQL2
        if op in COMPARISON:
            return self.comparison(op, *self.arity(op, args, 2))
        if op == "like":
            return self.like(*self.arity(op, args, 2))
        if op == "between":
            return self.between(*self.arity(op, args, 3))
        if op == "in":
            return self.within_list(*self.arity(op, args, 2))
        if op == "isNull":
            return self.is_null(self.arity(op, args, 1)[0])
        if op in SPATIAL or op == "s_dwithin":
            return self.spatial(op, args)
        if op in TEMPORAL:
            a, b = (self.span(op, node) for node in self.arity(op, args, 2))
            return temporal_relation(op, a, b)
        if op in ARRAY:
            return self.array_relation(op, *self.arity(op, args, 2))
        raise _error(f"filter: unknown or unsupported operator {op!r}.")

    def arity(self, op: str, args: list[Any], count: int) -> list[Any]:
        if len(args) != count:
            raise _error(f"filter: {op!r} takes {count} argument(s), found {len(args)}.")
        return args

    def scalar(self, node: Any) -> _Typed:
        if isinstance(node, bool):
            return _Typed("%s::boolean", [node], "boolean")
        if isinstance(node, int | float):
            if not math.isfinite(node):
                raise _error(f"filter: {node!r} is not a finite number.")
            return _Typed("%s::double precision", [float(node)], "number")
        if isinstance(node, str):
            return _Typed("%s::text", [node], "string")
        if isinstance(node, list):
            return _Typed("%s::jsonb", [json.dumps(_array_literal(node), ensure_ascii=False)], "array")
        if isinstance(node, dict):
            if "property" in node:
                return self.property(node["property"])
            if "date" in node or "timestamp" in node:
                value = self.instant(node)
                return _Typed(value.sql, value.params, "date" if "date" in node else "datetime")
            if node.get("op") in ("casei", "accenti"):
                return self.text_function(node)
        raise _error(f"filter: expected a property or a value, found {_show(node)}.")

    def property(self, name: Any) -> _Typed:
        kind = self.queryables.get(name) if isinstance(name, str) else None
        if kind is None:
            raise _error(
                f"filter: unknown property {name!r}.",
                hint="Queryable properties: " + ", ".join(sorted(self.queryables)) + " (see the collection's queryables).",
            )
        return property_expression(name, kind)

    def text_function(self, node: dict[str, Any]) -> _Typed:
        op, args = node["op"], node.get("args")
        if not isinstance(args, list) or len(args) != 1:
            raise _error(f"filter: {op.upper()} takes one argument.")
        inner = self.scalar(args[0])
        if inner.type != "string":
            raise _error(f"filter: {op.upper()} applies to text, found {_show(args[0])} ({inner.type}).")
        function = "lower" if op == "casei" else "unaccent"
        return _Typed(f"{function}({inner.sql})", inner.params, "string")

    def comparable(self, op: str, *nodes: Any) -> list[_Typed]:
        typed = [self.scalar(node) for node in nodes]
        kinds = {t.type for t in typed} - {"null"}
        if kinds <= {"date", "datetime", "string"} and kinds & {"date", "datetime"}:
            return [self.as_time(op, n, t) for n, t in zip(nodes, typed, strict=True)]  # all as timestamptz
        if "array" in kinds:
            raise _error(f"filter: {op!r} does not apply to arrays; use A_EQUALS, A_CONTAINS, A_CONTAINEDBY or A_OVERLAPS.")
        if len(kinds) > 1:
            shown = ", ".join(f"{_show(n)} ({t.type})" for n, t in zip(nodes, typed, strict=True))
            raise _error(f"filter: {op!r} compares values of different types: {shown}.")
        if "geometry" in kinds:
            raise _error(f"filter: {op!r} does not apply to geometries; use a spatial operator such as S_INTERSECTS.")
        return typed

    def as_time(self, op: str, node: Any, typed: _Typed) -> _Typed:
        """A text literal next to a date/datetime property is read as an ISO date or date-time."""
        if typed.type != "string":
            return typed
        if not isinstance(node, str):
            raise _error(f"filter: {op!r} compares a date/time with text {_show(node)}; use DATE('…') or TIMESTAMP('…').")
        value = literal(parse_instant(node, parameter="filter", what=f"filter: {op!r}"))
        return _Typed(value.sql, value.params, "datetime")

    def instant(self, node: dict[str, Any]) -> SqlFragment:
        kind = "date" if "date" in node else "timestamp"
        text = node[kind]
        if not isinstance(text, str):
            raise _error(f"filter: {kind.upper()} needs a text value, found {_show(node)}.")
        if kind == "date" and len(text.strip()) != 10:
            raise _error(f"filter: DATE({text!r}) is not a date YYYY-MM-DD; use TIMESTAMP('…') for a date-time.")
        return literal(parse_instant(text, parameter="filter", what=f"filter: {kind.upper()}"))

    def span(self, op: str, node: Any) -> Span:
        """A temporal operand of `op`: an instant literal or property, or an interval of those and '..'."""
        if isinstance(node, dict) and "interval" in node:
            ends = node["interval"]
            if not isinstance(ends, list) or len(ends) != 2:
                raise _error(f"filter: INTERVAL in {op.upper()} takes a start and an end, found {_show(node)}.")
            start, end = (self.interval_end(op, e, bound) for e, bound in zip(ends, (NEG_INFINITY, POS_INFINITY), strict=True))
            both_literals = start.sql == end.sql == LITERAL_SQL
            if both_literals and start.params[0] > end.params[0]:
                raise _error(f"filter: INTERVAL in {op.upper()} starts after it ends: {_show(node)}.")
            return Span(start, end)
        if isinstance(node, dict) and ("date" in node or "timestamp" in node):
            value = self.instant(node)
            return Span(value, value)
        if isinstance(node, dict) and "property" in node:
            typed = self.property(node["property"])
            if typed.type not in TEMPORAL_TYPES:
                raise _error(f"filter: {op.upper()} needs {_TEMPORAL_EXPECTED}; property {node['property']!r} is {typed.type}.")
            return property_span(node["property"], typed.type)
        raise _error(f"filter: {op.upper()} needs {_TEMPORAL_EXPECTED}, found {_show(node)}.")

    def interval_end(self, op: str, end: Any, unbounded: SqlFragment) -> SqlFragment:
        if end == OPEN:
            return unbounded
        if isinstance(end, str):
            return literal(parse_instant(end, parameter="filter", what=f"filter: INTERVAL in {op.upper()}"))
        if isinstance(end, dict) and "interval" in end:
            raise _error(f"filter: an INTERVAL end must be an instant or '..', found {_show(end)}.")
        return self.span(op, end).start

    def array_relation(self, op: str, left: Any, right: Any) -> SqlFragment:
        a, b = (self.array(op, node) for node in (left, right))
        operator = ARRAY[op]
        if operator is not None:
            return SqlFragment(f"{a.sql} {operator} {b.sql}", a.params + b.params)
        # Some element of a is an element of b (jsonb_build_array(x) <@ b: x is one of b's elements).
        # NULL (not false) when either side is missing, so NOT A_OVERLAPS(…) stays unknown there, as with @>.
        exists = f"EXISTS (SELECT 1 FROM jsonb_array_elements({a.sql}) AS e(v) WHERE jsonb_build_array(e.v) <@ {b.sql})"
        sql = f"CASE WHEN ({a.sql}) IS NOT NULL AND ({b.sql}) IS NOT NULL THEN {exists} END"
        return SqlFragment(sql, a.params + b.params + a.params + b.params)

    def array(self, op: str, node: Any) -> _Typed:
        if isinstance(node, list):
            return self.scalar(node)
        if isinstance(node, dict) and "property" in node:
            typed = self.scalar(node)
            if typed.type != "array":
                raise _error(f"filter: {op.upper()} needs arrays; property {node['property']!r} is {typed.type}.")
            return typed
        raise _error(f"filter: {op.upper()} needs an array property or an array literal, found {_show(node)}.")

    def comparison(self, op: str, left: Any, right: Any) -> SqlFragment:
        a, b = self.comparable(op, left, right)
        return SqlFragment(f"{a.sql} {op} {b.sql}", a.params + b.params)

    def like(self, value: Any, pattern: Any) -> SqlFragment:
        a, b = self.comparable("like", value, pattern)
        if a.type != "string":
            raise _error(f"filter: LIKE applies to text, found {_show(value)} ({a.type}).")
        return SqlFragment(f"{a.sql} LIKE {b.sql}", a.params + b.params)

    def between(self, value: Any, low: Any, high: Any) -> SqlFragment:
        a, b, c = self.comparable("between", value, low, high)
        return SqlFragment(f"{a.sql} BETWEEN {b.sql} AND {c.sql}", a.params + b.params + c.params)

    def within_list(self, value: Any, values: Any) -> SqlFragment:
        if not isinstance(values, list) or not values:
            raise _error("filter: IN needs a non-empty list of values.")
        typed = self.comparable("in", value, *values)
        items = ", ".join(t.sql for t in typed[1:])
        return SqlFragment(f"{typed[0].sql} IN ({items})", [x for t in typed for x in t.params])

    def is_null(self, node: Any) -> SqlFragment:
        if isinstance(node, dict) and "property" in node:
            self.property(node["property"])
            if node["property"] == GEOMETRY_PROPERTY and self.queryables.get(GEOMETRY_PROPERTY) == "geometry":
                return SqlFragment("f.geom IS NULL")
            return SqlFragment("coalesce(jsonb_typeof(f.properties->%s), 'null') = 'null'", [node["property"]])
        typed = self.scalar(node)
        return SqlFragment(f"{typed.sql} IS NULL", typed.params)

    def spatial(self, op: str, args: list[Any]) -> SqlFragment:
        if op == "s_dwithin":
            first, second, distance = self.arity(op, args, 3)
            if isinstance(distance, bool) or not isinstance(distance, int | float) or not distance >= 0:
                raise _error(f"filter: S_DWITHIN needs a distance in metres >= 0, found {_show(distance)}.")
            a, b = self.geometry(first), self.geometry(second)
            sql = f"ST_DWithin(({a.sql})::geography, ({b.sql})::geography, %s)"
            return SqlFragment(sql, a.params + b.params + [float(distance)])
        first, second = self.arity(op, args, 2)
        a, b = self.geometry(first), self.geometry(second)
        return SqlFragment(f"{SPATIAL[op]}({a.sql}, {b.sql})", a.params + b.params)

    def geometry(self, node: Any) -> SqlFragment:
        if isinstance(node, dict) and "property" in node:
            typed = self.property(node["property"])
            if typed.type != "geometry":
                raise _error(f"filter: property {node['property']!r} is not a geometry.")
            return SqlFragment(typed.sql, typed.params)
        if isinstance(node, dict) and "bbox" in node:
            return self.bbox(node["bbox"])
        try:
            geometry = shapely.geometry.shape(node) if isinstance(node, dict) else None
        except (GEOSException, ValueError, TypeError, KeyError, AttributeError, IndexError):
            geometry = None
        if geometry is None or geometry.is_empty or not all(map(math.isfinite, geometry.bounds)):
            raise _error(f"filter: expected a geometry (GeoJSON, WKT or BBOX), found {_show(node)}.")
        return self.in_storage_crs("ST_GeomFromText(%s, %s::integer)", [shapely.to_wkt(geometry), self.crs.srid])

    def bbox(self, numbers: Any) -> SqlFragment:
        if not isinstance(numbers, list) or len(numbers) not in (4, 6) or not all(_is_number(n) for n in numbers):
            raise _error(f"filter: BBOX needs 4 or 6 numbers, found {_show(numbers)}.")
        x1, y1, x2, y2 = numbers if len(numbers) == 4 else [numbers[0], numbers[1], numbers[3], numbers[4]]
        box = "ST_MakeEnvelope(%s, %s, %s, %s, %s::integer)"
        params: list[Any] = [float(x1), float(y1), float(x2), float(y2), self.crs.srid]
        if self.crs.srid != STORAGE_SRID:
            box = f"ST_Segmentize({box}, %s)"
            params.append(max(abs(x2 - x1), abs(y2 - y1)) / 64 or 1.0)
        return self.in_storage_crs(box, params)

    def in_storage_crs(self, sql: str, params: list[Any]) -> SqlFragment:
        """A literal in filter-crs: coordinates in its official axis order, moved to lon/lat 4326 by PostGIS."""
        if self.crs.northing_first:
            sql = f"ST_FlipCoordinates({sql})"
        if self.crs.srid != STORAGE_SRID:
            sql = f"ST_Transform({sql}, {STORAGE_SRID})"
        return SqlFragment(sql, params)


def _array_literal(items: list[Any]) -> list[Any]:
    """The JSON of an array literal: scalars, nested arrays, DATE/TIMESTAMP as their ISO text."""
    out: list[Any] = []
    for item in items:
        if isinstance(item, list):
            out.append(_array_literal(item))
        elif item is None or isinstance(item, str | bool) or _is_number(item):
            out.append(item)
        elif isinstance(item, dict) and len(item) == 1 and isinstance(item.get("date", item.get("timestamp")), str):
            out.append(next(iter(item.values())))
        else:
            raise _error(f"filter: an array literal may hold values and arrays only, found {_show(item)}.")
    return out


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _show(node: Any) -> str:
    text = json.dumps(node, ensure_ascii=False, default=str)
    return text if len(text) <= 80 else text[:77] + "…"


def compile_filter(tree: Any, *, queryables: dict[str, str], crs: Crs = CRS84) -> SqlFragment:
    """The SQL condition of a parsed filter (a cql2-json tree); `queryables` maps property name → type."""
    try:
        return _Compiler(queryables, crs).condition(tree)
    except RecursionError:
        raise _error("filter: the filter is nested too deeply.") from None
