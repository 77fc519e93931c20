"""Link objects of the OGC API documents: absolute hrefs, self/alternate pairs per format."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest

JSON = "application/json"
GEOJSON = "application/geo+json"
HTML = "text/html"
OPENAPI = "application/vnd.oai.openapi+json;version=3.0"
SCHEMA = "application/schema+json"

Link = dict[str, str]


def href(request: HttpRequest, path: str, query: dict[str, Any] | None = None) -> str:
    """Absolute URL of `path` (which starts with /ogc), with the non-None query parameters in order."""
    params = {k: v for k, v in (query or {}).items() if v is not None}
    return request.build_absolute_uri(path) + (f"?{urlencode(params)}" if params else "")


def link(url: str, rel: str, media_type: str, title: str) -> Link:
    return {"href": url, "rel": rel, "type": media_type, "title": title}


def self_and_alternate(
    request: HttpRequest, path: str, fmt: str, *, json_type: str = JSON, query: dict[str, Any] | None = None
) -> list[Link]:
    """`self` in the served format and `alternate` in the other, each with an explicit `f`."""
    query = dict(query or {})
    as_json = link(href(request, path, {**query, "f": "json"}), "self", json_type, "This document as JSON")
    as_html = link(href(request, path, {**query, "f": "html"}), "alternate", HTML, "This document as HTML")
    if fmt == "html":
        as_json["rel"], as_html["rel"] = "alternate", "self"
        return [as_html, as_json]
    return [as_json, as_html]
