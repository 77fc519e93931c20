"""Response headers that must hold for every surface."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_vary_headers

# Tiles and styles are the same bytes for every language and cookie: a Vary on
# those would split shared caches (nginx, CDN) into one copy per visitor.
SHARED_CACHE_PREFIXES = ("/tiles/", "/styles/")
PER_VISITOR_VARY = {"accept-language", "cookie"}


class SharedCacheVaryMiddleware:
    """Listed before LocaleMiddleware/SessionMiddleware so it sees their Vary and trims it."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        # Only public responses: a tile with a non-public layer depends on who asks.
        public = "private" not in response.get("Cache-Control", "")
        if public and request.path.startswith(SHARED_CACHE_PREFIXES) and response.has_header("Vary"):
            kept = [v.strip() for v in response["Vary"].split(",") if v.strip().lower() not in PER_VISITOR_VARY]
            del response["Vary"]
            if kept:
                patch_vary_headers(response, kept)
        return response
