"""The tile lane: anonymous tile requests answered by the tile views without the rest of Django's request cycle.

Why: an uncached tile costs the database about 3 ms, and Django's cycle around the view (fifteen
middleware, URL resolving, the request signals that check every connection) cost another ~0.5 ms of
the ~1.8 ms our process spent per tile in the z15-16 benchmark (1.3 ms with the lane): on two cores
shared with PostgreSQL, that was the gap to MapServer. City services pull tiles anonymously, many at
once; this is their path.

What the lane serves, and only that: a GET of `/tiles/{cid}/{z}/{x}/{y}.mvt` or
`/tiles/city/{city}/{z}/{x}/{y}.mvt` (routed by Django's own URL resolver) from a caller who is
certainly anonymous (no Authorization header, no session cookie), on an allowed Host, that the
views answer with 200 or 204. Everything else, every error and every doubt, goes through Django as
before, which then answers exactly as it always did: the lane never writes an error of its own.

Same answer as Django, by construction: the lane calls the very view functions with an anonymous
user, and adds the headers the middleware stack adds to a tile response (X-Frame-Options, the
SecurityMiddleware headers, HSTS behind TLS...). It does not restate that policy: it copies those
headers from the last tile response Django served for an eligible request of the same scheme, and
serves nothing until Django has served one. Tile responses carry no per-visitor header (no cookie,
no Content-Language: `geoportal.middleware.SharedCacheVaryMiddleware`), so the copy is exact;
`tests/tiles/test_lane.py` compares status, headers and bytes with Django's path.

Database connections: the lane runs outside `request_started`/`request_finished`, so it takes a
worker's connection only while it is open, healthy and younger than CONN_MAX_AGE; otherwise Django
opens or renews it. A statement that fails (the database restarted, say) marks the connection and
the request goes to Django, which closes the broken connection and answers; no 500 comes from here.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any, NamedTuple

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import DisallowedHost
from django.core.handlers.wsgi import WSGIRequest
from django.db import DEFAULT_DB_ALIAS, connections
from django.http import HttpResponse
from django.middleware.gzip import re_accepts_gzip
from django.urls import Resolver404, resolve

from geoportal.tiles import views
from geoportal.tiles.cache import IDENTITY, negotiate

StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]

LANE_VIEWS = (views.layer_tile, views.city_tile)
# What the views set themselves; every other header of a tile response comes from the middleware.
VIEW_HEADERS = frozenset({"content-type", "content-encoding", "content-length", "etag", "cache-control", "vary"})
# Per response or per visitor, never copied (none is on a tile response today; a guard, not a policy).
NEVER_COPIED = frozenset({"date", "server", "set-cookie", "content-language"})
SERVED_STATUSES = {200: "200 OK", 204: "204 No Content"}


class TileLane:
    """WSGI middleware around Django's application (`geoportal.wsgi`)."""

    def __init__(self, app: WSGIApp) -> None:
        self.app = app
        # request.is_secure() → the middleware headers Django put on a tile response of that scheme.
        self.site_headers: dict[bool, list[tuple[str, str]]] = {}

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        ask = lane_request(environ)
        if ask is None:
            return self.app(environ, start_response)
        secure = ask.request.is_secure()
        site = self.site_headers.get(secure)
        response = None if site is None else lane_response(ask)
        if response is None or site is None:
            return self.app(environ, self._learning(start_response, secure=secure))
        headers = [*response.items(), ("Content-Length", str(len(response.content))), *site]
        start_response(SERVED_STATUSES[response.status_code], headers)
        return [response.content]

    def _learning(self, start_response: StartResponse, *, secure: bool) -> StartResponse:
        """`start_response` that keeps the middleware headers of Django's next 200 tile response."""

        def learn(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            named = {name.lower(): value for name, value in headers}
            if status.startswith("200 ") and named.get("content-type") == views.MVT_CONTENT_TYPE:
                kept = [(n, v) for n, v in headers if n.lower() not in VIEW_HEADERS | NEVER_COPIED]
                self.site_headers[secure] = kept
            return start_response(status, headers, exc_info)

        return learn


class LaneRequest(NamedTuple):
    request: WSGIRequest
    view: Callable[..., HttpResponse]
    kwargs: dict[str, Any]


def lane_request(environ: dict[str, Any]) -> LaneRequest | None:
    """The request, its view and the view's arguments when the lane may answer; None otherwise."""
    path = environ.get("PATH_INFO", "")
    if environ.get("REQUEST_METHOD") != "GET" or not (path.startswith("/tiles/") and path.endswith(".mvt")):
        return None
    if "HTTP_AUTHORIZATION" in environ or settings.SESSION_COOKIE_NAME + "=" in environ.get("HTTP_COOKIE", ""):
        return None  # perhaps signed in: Django decides who it is
    accept = environ.get("HTTP_ACCEPT_ENCODING", "")
    if negotiate(accept) == IDENTITY and re_accepts_gzip.search(accept):
        return None  # e.g. "gzip;q=0": GZipMiddleware would compress what we send plain
    try:
        match = resolve(path)
    except Resolver404:
        return None
    if match.func not in LANE_VIEWS:
        return None
    request = WSGIRequest(environ)
    try:
        request.get_host()
    except DisallowedHost:
        return None  # Django answers 400 for a Host it does not serve
    request.user = AnonymousUser()
    return LaneRequest(request, match.func, match.kwargs)


def lane_response(ask: LaneRequest) -> HttpResponse | None:
    """The view's 200 or 204 tile response; None when Django should answer instead."""
    db = connections[DEFAULT_DB_ALIAS]
    if db.connection is None or db.errors_occurred or (db.close_at is not None and time.monotonic() >= db.close_at):
        return None  # Django's request signals open, check or renew the connection
    try:
        response = ask.view(ask.request, **ask.kwargs)
    except Exception:  # any error is Django's to answer (and log), with its own mapping
        return None
    return response if response.status_code in SERVED_STATUSES and not response.streaming else None
