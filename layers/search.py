"""Search of features by name or address, across scripts and typo-tolerant.

The index is the table `layers_searchentry` (migration 0004): one row per
distinct search key of a feature (its name in each language, street + house
number, address), the key folded by `layers.translit.search_key` so that
Belarusian, Russian, national-Latin and BGN/PCGN spellings meet. A GIN
trigram index on the key answers both the substring test (LIKE) and the
fuzzy one (pg_trgm's `<%` word similarity) of a query folded the same way.

`search_index_layer` (a service: one transaction) rebuilds a layer's rows and
must run after every import; `search_features` (a selector) reads them,
restricted inside the SQL to the layers the caller may see.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction

from layers.errors import InvalidParameter
from layers.models import City, Layer
from layers.selectors import layer_list_visible
from layers.translit import search_key

# Properties that hold a name, in the order a label prefers them.
NAME_PROPERTIES = ("name", "name:be", "name:ru", "name:en", "name_be", "name_ru", "name_en", "official_name", "alt_name")
# (street, house number) pairs that make an address; a plain "address" property is a name too.
ADDRESS_PROPERTIES = (("street", "housenumber"), ("addr:street", "addr:housenumber"))
ADDRESS_TEXT_PROPERTIES = ("address", "addr:full")
# Words below this similarity (0..1) to a stretch of the key are not a match; 0.5 tolerates one typo in a six-letter word.
WORD_SIMILARITY_THRESHOLD = 0.5
MIN_KEY_LENGTH = 2
MAX_QUERY_LENGTH = 200
_BATCH = 5000
# Every property search_labels looks at.
_LABEL_KEYS = tuple(
    dict.fromkeys(NAME_PROPERTIES + ADDRESS_TEXT_PROPERTIES + tuple(street for street, _number in ADDRESS_PROPERTIES))
)


def search_labels(properties: Mapping[str, Any]) -> list[str]:
    """The texts a feature can be found by: its names and its address, without duplicates."""
    labels: list[str] = []
    for name in NAME_PROPERTIES + ADDRESS_TEXT_PROPERTIES:
        value = properties.get(name)
        if isinstance(value, str) and value.strip():
            labels.append(value.strip())
    for street_field, number_field in ADDRESS_PROPERTIES:
        street, number = properties.get(street_field), properties.get(number_field)
        if isinstance(street, str) and street.strip():
            labels.append(f"{street.strip()} {number}".strip() if number not in (None, "") else street.strip())
    return list(dict.fromkeys(labels))


# Every property search_labels reads (a row whose values of these are all null has no label).
LABEL_INPUTS = tuple(
    dict.fromkeys(NAME_PROPERTIES + ADDRESS_TEXT_PROPERTIES + tuple(key for pair in ADDRESS_PROPERTIES for key in pair))
)


def search_entries(properties: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The (key, label) rows of the index for a feature with these properties."""
    entries: dict[str, str] = {}
    for label in search_labels(properties):
        key = search_key(label)
        if len(key) >= MIN_KEY_LENGTH and key not in entries:
            entries[key] = label
    return list(entries.items())


def _entries(rows: Iterable[tuple[int, dict[str, Any]]]) -> Iterator[tuple[int, str, str]]:
    for feature_id, properties in rows:
        for key, label in search_entries(properties or {}):
            yield feature_id, key, label


@transaction.atomic
def search_index_layer(*, layer: Layer, table: str = "layers_feature") -> int:
    """Rebuild the search rows of `layer` from its features; returns how many rows it wrote.

    Call after every successful import (and `geoportal reindex_search` for existing data).
    `table` is where the features are: an import that builds the layer's new partition indexes
    it before the partition replaces the old one (layers/partitions.py).
    """
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM layers_searchentry WHERE layer_id = %s", [layer.id])
        written = 0
        batch: list[tuple[int, str, str]] = []
        for entry in _entries(_labelled_rows(layer.id, table)):
            batch.append(entry)
            if len(batch) >= _BATCH:
                written += insert_search_rows(cursor, layer_id=layer.id, rows=batch, table=table)
                batch = []
        if batch:
            written += insert_search_rows(cursor, layer_id=layer.id, rows=batch, table=table)
    return written


@transaction.atomic
def search_index_by_fid(*, layer: Layer, table: str, entries: Iterable[bytes]) -> int:
    """Replace the search rows of `layer` by entries an import computed while reading the file:
    COPY text lines `fid \t key \t label` (search_entries of each feature), matched to the features
    of `table` by fid. Same rows as search_index_layer, without reading every feature back."""
    staging = f"search_staging_{int(layer.id)}"
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM layers_searchentry WHERE layer_id = %s", [layer.id])
        cursor.execute(f"CREATE TEMP TABLE {staging} (fid text, key text, label text) ON COMMIT DROP")
        with cursor.copy(f"COPY {staging} FROM STDIN") as copy:
            for chunk in entries:
                copy.write(chunk)
        cursor.execute(
            f"""
            INSERT INTO layers_searchentry (layer_id, feature_id, key, label, centre)
            SELECT %s, f.id, e.key, e.label, {_CENTRE}
            FROM {staging} AS e JOIN {table} AS f ON f.layer_id = %s AND f.fid = e.fid
            ORDER BY f.id
            """,
            [layer.id, layer.id],
        )
        written = cursor.rowcount
        cursor.execute(f"DROP TABLE {staging}")
    return written


def _labelled_rows(layer_id: int, table: str) -> Iterator[tuple[int, dict[str, Any]]]:
    """(id, properties) of the features with a name or address property — the rest (most buildings)
    cannot have a label and are not read — through a server-side cursor, _BATCH rows at a time."""
    with connection.chunked_cursor() as rows:
        rows.execute(
            f"SELECT id, properties FROM {table} WHERE layer_id = %s AND jsonb_strip_nulls(properties) ?| %s ORDER BY id",
            [layer_id, list(_LABEL_KEYS)],
        )
        while chunk := rows.fetchmany(_BATCH):
            yield from ((feature_id, json.loads(p) if isinstance(p, str) else p) for feature_id, p in chunk)


# The centre is a point ON the geometry (a street's centroid can fall beside it).
_CENTRE = "ST_ClosestPoint(f.geom, ST_Centroid(f.geom))"


def insert_search_rows(cursor: Any, *, layer_id: int, rows: list[tuple[int, str, str]], table: str = "layers_feature") -> int:
    """Insert (feature id, key, label) rows of the index for features of `layer_id` in `table`."""
    cursor.execute(
        f"""
        INSERT INTO layers_searchentry (layer_id, feature_id, key, label, centre)
        SELECT %s, f.id, e.key, e.label, {_CENTRE}
        FROM unnest(%s::bigint[], %s::text[], %s::text[]) AS e(feature_id, key, label)
        JOIN {table} AS f ON f.layer_id = %s AND f.id = e.feature_id
        """,
        [layer_id, [e[0] for e in rows], [e[1] for e in rows], [e[2] for e in rows], layer_id],
    )
    return len(rows)


def search_index_feature(*, feature_id: int, layer_id: int, properties: Mapping[str, Any] | None) -> None:
    """Rebuild one feature's rows after an edit (None: remove them); the caller's transaction holds it."""
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM layers_searchentry WHERE feature_id = %s", [feature_id])
        rows = [(feature_id, key, label) for key, label in search_entries(properties or {})]
        if rows:
            insert_search_rows(cursor, layer_id=layer_id, rows=rows)


@dataclass(frozen=True)
class SearchHit:
    label: str
    collection: str
    layer_title: dict[str, str]
    fid: str
    feature_id: int
    centre: tuple[float, float]
    bbox: tuple[float, float, float, float]
    matches: int  # features of the layer with this label (a street cut into segments)
    score: float
    city: str | None = None  # the layer's city slug; None for a national layer


def search_query_key(query: str) -> str:
    if len(query) > MAX_QUERY_LENGTH:
        raise InvalidParameter("q", f"The search text is {len(query)} characters long; at most {MAX_QUERY_LENGTH} are allowed.")
    key = search_key(query)
    if len(key) < MIN_KEY_LENGTH:
        raise InvalidParameter(
            "q",
            f"Search text {query!r} is too short.",
            hint=f"Type at least {MIN_KEY_LENGTH} letters or digits of a name or address.",
        )
    return key


def search_features(*, query: str, user: Any = None, city: City | None = None, limit: int = 10) -> list[SearchHit]:
    """Features whose name or address matches `query` in any script, best first, one hit per (layer, label).

    Without `city`: every city's layers and the national ones (the national overview's search); each hit names its city.

    Only layers `user` may see take part: their ids are a subquery of this SQL.
    """
    key = search_query_key(query)
    visible_sql, visible_params = layer_list_visible(user=user, city=city).values("id").query.sql_with_params()
    # Score: the query as a stretch of the key (typos allowed), then closeness of the whole key (the street
    # before its house numbers), then exact and prefix matches. Best label per feature; then the features
    # of one layer sharing a label (segments of one street) become one hit.
    sql = f"""
        WITH per_feature AS (
            SELECT DISTINCT ON (e.feature_id) e.feature_id, e.layer_id, e.label, e.centre,
                   word_similarity(%s, e.key) + 0.5 * similarity(%s, e.key)
                   + CASE WHEN e.key = %s THEN 1.0 WHEN e.key LIKE %s || '%%' THEN 0.5 ELSE 0 END AS score
            FROM layers_searchentry AS e
            WHERE e.layer_id IN ({visible_sql})
              AND (e.key LIKE '%%' || %s || '%%' OR %s <%% e.key)
            ORDER BY e.feature_id, score DESC
        )
        SELECT h.label, coalesce(c.slug, 'belarus') || '-' || l.slug, l.title,
               (array_agg(f.fid ORDER BY f.id))[1], min(f.id),
               ST_X((array_agg(h.centre ORDER BY f.id))[1]), ST_Y((array_agg(h.centre ORDER BY f.id))[1]),
               ST_XMin(ST_Extent(f.geom)), ST_YMin(ST_Extent(f.geom)), ST_XMax(ST_Extent(f.geom)), ST_YMax(ST_Extent(f.geom)),
               count(*), max(h.score), c.slug
        FROM per_feature AS h
        JOIN layers_feature AS f ON f.id = h.feature_id AND f.layer_id = h.layer_id
        JOIN layers_layer AS l ON l.id = h.layer_id
        LEFT JOIN layers_city AS c ON c.id = l.city_id
        GROUP BY h.layer_id, h.label, c.slug, l.slug, l.title
        ORDER BY max(h.score) DESC, h.label
        LIMIT %s
    """
    params = [key, key, key, key, *visible_params, key, key, limit]
    with transaction.atomic(), connection.cursor() as cursor:
        # SET LOCAL: the threshold of `<%` for this transaction only.
        cursor.execute("SELECT set_config('pg_trgm.word_similarity_threshold', %s, true)", [str(WORD_SIMILARITY_THRESHOLD)])
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return [
        SearchHit(
            label=row[0],
            collection=row[1],
            layer_title=json.loads(row[2]) if isinstance(row[2], str) else (row[2] or {}),  # jsonb arrives as text
            fid=row[3],
            feature_id=row[4],
            centre=(row[5], row[6]),
            bbox=(row[7], row[8], row[9], row[10]),
            matches=row[11],
            score=round(float(row[12]), 3),
            city=row[13],
        )
        for row in rows
    ]
