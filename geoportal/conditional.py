"""Conditional GET, shared by every surface that sends an ETag (items, item, tiles)."""

from __future__ import annotations

from django.http import HttpRequest


def etag_matches(request: HttpRequest, etag: str) -> bool:
    """Whether `If-None-Match` names `etag` — weak comparison (RFC 9110 §13.1.2).

    Weak, because GZipMiddleware turns strong tags into W/"…" and item bodies carry a timeStamp.
    """
    header = request.headers.get("If-None-Match", "")
    if header.strip() == "*":
        return True
    tags = {tag.strip().removeprefix("W/") for tag in header.split(",")}
    return etag.removeprefix("W/") in tags
