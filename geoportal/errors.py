"""The one place that maps the error hierarchy (`layers/errors.py`) to HTTP.

API paths answer with an OGC exception document
(`{"code": …, "description": …}`, as OGC API - Common specifies); pages
answer with a short HTML message. Headers an error carries (`Allow`,
`WWW-Authenticate`, `Retry-After`: `GeoportalError.headers()`) are set on
either. Nothing here ever shows a traceback.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.utils.html import escape

from layers.errors import GeoportalError, NotFound

logger = logging.getLogger("geoportal")
API_PREFIXES = ("/ogc", "/tiles", "/styles", "/api", "/healthz", "/metrics")


def wants_json(request: HttpRequest) -> bool:
    if request.path.startswith(API_PREFIXES):
        return request.GET.get("f") != "html"
    # Browsers sign in with the session cookie; an Authorization header comes from a program, on any path.
    if "Authorization" in request.headers:
        return True
    return "application/json" in request.headers.get("Accept", "")


def error_response(request: HttpRequest, exc: GeoportalError) -> HttpResponse:
    response: HttpResponse
    if wants_json(request):
        body: dict[str, Any] = {"code": exc.code, "description": exc.describe()}
        parameter = getattr(exc, "parameter", None)
        if parameter:
            body["parameter"] = parameter
        response = JsonResponse(body, status=exc.status, json_dumps_params={"ensure_ascii": False})
    else:
        html = (
            f"<!doctype html><title>{exc.status}</title><h1>{exc.status}</h1>"
            f"<p>{escape(exc.describe())}</p><p><a href='/'>Geoportal</a></p>"
        )
        response = HttpResponse(html, status=exc.status)
    for name, value in exc.headers().items():
        response[name] = value
    return response


class ErrorMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exc: Exception) -> HttpResponse | None:
        if isinstance(exc, GeoportalError):
            return error_response(request, exc)
        if isinstance(exc, PermissionDenied):
            return None  # Django answers 403 itself; the admin and CSRF rely on it
        if isinstance(exc, Http404):
            return error_response(request, NotFound(str(exc) or f"Nothing at {request.path}."))
        logger.exception("unhandled error on %s %s", request.method, request.path)
        return error_response(request, GeoportalError("Internal error; it has been logged. Please try again later."))


def handler404(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return error_response(request, NotFound(f"Nothing at {request.path}.", hint="The API starts at /ogc/; the map at /."))


def handler500(request: HttpRequest) -> HttpResponse:
    return error_response(request, GeoportalError("Internal error; it has been logged. Please try again later."))


def handler400(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    from layers.errors import InvalidParameter

    return error_response(request, InvalidParameter("request", "Bad request."))
