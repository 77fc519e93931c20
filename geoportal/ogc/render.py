"""The HTML table and the CSV of features: rendering of GeoJSON a view already fetched (no queries here)."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import shapely.geometry
from django.http import HttpResponse

from config.loader import TemporalConfig
from geoportal.ogc.sources import Source

CSV = "text/csv"


def features_csv(layer: Source, features: list[dict[str, Any]], links: list[dict[str, str]]) -> HttpResponse:
    """One row per feature: id, the properties (layer fields first), the geometry as WKT; paging in Link headers."""
    table = feature_table(layer, features)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["id", *table["columns"], "geometry"])
    for row, feature in zip(table["rows"], features, strict=True):
        geometry = feature.get("geometry")
        wkt = shapely.geometry.shape(geometry).wkt if geometry else ""
        writer.writerow([row["id"], *row["cells"], wkt])
    response = HttpResponse(out.getvalue(), content_type=f"{CSV}; charset=utf-8; header=present")
    response["Content-Disposition"] = f'inline; filename="{layer.collection_id}.csv"'
    paging = [f'<{x["href"]}>; rel="{x["rel"]}"' for x in links if x["rel"] in ("next", "prev")]
    if paging:
        response["Link"] = ", ".join(paging)
    return response


def feature_table(layer: Source, features: list[dict[str, Any]]) -> dict[str, Any]:
    """Columns (the layer's fields first, then any other key seen) and rows of an HTML table of features."""
    columns = list(layer.fields)
    for feature in features:
        columns += [key for key in (feature.get("properties") or {}) if key not in columns]
    rows = [
        {
            "id": feature["id"],
            "geometry_type": (feature.get("geometry") or {}).get("type", ""),
            "cells": [cell((feature.get("properties") or {}).get(col)) for col in columns],
        }
        for feature in features
    ]
    return {"columns": columns, "rows": rows}


def cell(value: Any) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def feature_time(temporal: TemporalConfig | None, feature: dict[str, Any]) -> dict[str, str] | None:
    """The feature's place in time for the HTML page: its instant, or its interval ('..' for an open end)."""
    props = feature.get("properties") or {}
    if temporal is None:
        return None
    if temporal.instant is not None:
        value = props.get(temporal.instant)
        return {"name": temporal.instant, "text": cell(value)} if value is not None else None
    start, end = props.get(str(temporal.start)), props.get(str(temporal.end))
    if start is None and end is None:
        return None
    return {"name": f"{temporal.start} – {temporal.end}", "text": f"{cell(start) or '..'} / {cell(end) or '..'}"}
