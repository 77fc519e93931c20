"""Response headers that must hold for every surface."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_vary_headers

from geoportal.errors import error_response
from layers.errors import MethodNotAllowed

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
        if public and request.path.startswith(SHARED_CACHE_PREFIXES):
            # Nor is the body in the visitor's language (nginx serves cached tiles without this header).
            if response.has_header("Content-Language"):
                del response["Content-Language"]
            if response.has_header("Vary"):
                kept = [v.strip() for v in response["Vary"].split(",") if v.strip().lower() not in PER_VISITOR_VARY]
                del response["Vary"]
                if kept:
                    patch_vary_headers(response, kept)
        return response


# Content-Security-Policy: everything from our own origin. MapLibre runs its
# workers from blob: URLs and the pages use data: images. The only inline
# executable script is the viewer's import map (a JSON block the browser reads
# before loading modules); json_script blocks (type="application/json") are data
# and need nothing. Inline <script>/<style> blocks are allowed by their SHA-256
# — an import map only when it maps to our own static files, so even an
# injected one could not load code from elsewhere. Templates that prefer a
# nonce can use `request.csp_nonce` (`nonce="{{ request.csp_nonce }}"`).
_IMPORT_MAP = re.compile(rb'<script type="importmap"(?: nonce="[^"]*")?>(.*?)</script>', re.S)
_INLINE_STYLE = re.compile(rb"<style(?: nonce=\"[^\"]*\")?>(.*?)</style>", re.S)
PERMISSIONS_POLICY = "geolocation=(self), camera=(), microphone=(), payment=(), usb=()"
# The admin edits geometries as text (layers/admin.py), so it loads nothing from elsewhere either;
# Django's admin templates still carry a few inline scripts and styles.
ADMIN_POLICY = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; "
    "style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
    "connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)


def _sha256_source(block: bytes) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(block).digest()).decode() + "'"


def _maps_to_own_static(block: bytes) -> bool:
    try:
        doc = json.loads(block)
    except ValueError:
        return False
    if not isinstance(doc, dict) or not set(doc) <= {"imports", "scopes"}:
        return False
    urls = [u for scope in [doc.get("imports", {}), *doc.get("scopes", {}).values()] for u in scope.values()]
    return all(isinstance(u, str) and u.startswith(settings.STATIC_URL) and "//" not in u for u in urls)


def _basemap_origins() -> list[str]:
    """The external basemap's origin when one is configured (GEOPORTAL_BASEMAP_URL), else nothing.

    MapLibre fetches raster tiles with fetch() (connect-src) and may decode them as images (img-src).
    """
    basemap = getattr(settings, "GEOPORTAL_BASEMAP", None)
    return [basemap.origin] if basemap is not None else []


def content_security_policy(body: bytes, nonce: str) -> str:
    scripts = [_sha256_source(m) for m in _IMPORT_MAP.findall(body) if _maps_to_own_static(m)]
    styles = [_sha256_source(m) for m in _INLINE_STYLE.findall(body)]
    basemap = _basemap_origins()
    return "; ".join(
        [
            "default-src 'self'",
            " ".join(["script-src 'self'", f"'nonce-{nonce}'", *scripts]),
            " ".join(["style-src 'self'", f"'nonce-{nonce}'", *styles]),
            " ".join(["img-src 'self' data: blob:", *basemap]),
            "font-src 'self'",
            " ".join(["connect-src 'self'", *basemap]),
            "worker-src 'self' blob:",
            "child-src 'self' blob:",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


class SecurityHeadersMiddleware:
    """CSP and Permissions-Policy on every HTML page (the other headers come from Django's SecurityMiddleware)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        nonce = secrets.token_urlsafe(16)
        request.csp_nonce = nonce  # type: ignore[attr-defined]
        response = self.get_response(request)
        if not response.get("Content-Type", "").startswith("text/html") or response.has_header("Content-Security-Policy"):
            return response
        if request.path.startswith("/admin/"):
            response["Content-Security-Policy"] = ADMIN_POLICY
        else:
            body = b"" if response.streaming else response.content
            response["Content-Security-Policy"] = content_security_policy(body, nonce)
        response["Permissions-Policy"] = PERMISSIONS_POLICY
        return response


READ_ONLY_PREFIXES = ("/ogc", "/tiles/", "/styles/", "/healthz")
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


class ReadOnlySurfacesMiddleware:
    """The publishing surfaces only read: any other method answers 405 (OGC exception), before CSRF or a view runs."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method not in SAFE_METHODS and request.path.startswith(READ_ONLY_PREFIXES):
            # Answered here, not raised: ErrorMiddleware.process_exception only sees exceptions from views.
            refused = MethodNotAllowed(
                f"{request.method} is not allowed on {request.path}: this surface is read-only. Use GET.",
                allowed=SAFE_METHODS,
            )
            return error_response(request, refused)
        return self.get_response(request)
