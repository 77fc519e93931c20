"""Who is asking: API tokens (`Authorization: Bearer …`) and the sign-in lockout.

`BearerTokenMiddleware` (after Django's AuthenticationMiddleware) turns a valid
token into its service account: `request.user` is that account with the token
attached as `user.api_token` (so `layers.access.visible_layers(user=request.user)`
applies the token's scope without any change at the call sites), and
`request.auth_token` is the token. A token that is unknown, revoked or
expired answers 401 with an OGC exception and `WWW-Authenticate: Bearer` —
never a silent fall-back to anonymous. Token requests carry no cookie
credentials, so CSRF checks do not apply to them.

`LockoutModelBackend` (the AUTHENTICATION_BACKENDS entry) refuses any sign-in for
a user name from an address after too many recent failures, whether or not
the password is right, until the lock expires.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from geoportal.errors import error_response
from layers.errors import InvalidToken, TooManyRequests
from layers.models_access import ApiToken, LoginFailure
from layers.services_access import token_count_use, token_hash


def _lockout() -> tuple[int, int]:
    """(failures that lock, minutes locked): GEOPORTAL_LOGIN_MAX_FAILURES / GEOPORTAL_LOGIN_LOCK_MINUTES."""
    options = settings.GEOPORTAL  # defaults and bounds live in geoportal.env, where the variables are read
    return int(options["LOGIN_MAX_FAILURES"]), int(options["LOGIN_LOCK_MINUTES"])


class BearerTokenMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            token = _authenticate(request.headers.get("Authorization", ""))
        except (InvalidToken, TooManyRequests) as refused:
            # Answered here, not raised: ErrorMiddleware.process_exception only sees exceptions from views.
            return error_response(request, refused)
        if token is not None:
            user = token.user
            user.api_token = token  # type: ignore[attr-defined]
            request.user = user
            request.auth_token = token  # type: ignore[attr-defined]
            request._dont_enforce_csrf_checks = True  # type: ignore[attr-defined]
        return self.get_response(request)


def _authenticate(header: str) -> ApiToken | None:
    """The token an Authorization header names (None without one); counts the use against its rate limit."""
    if not header:
        return None
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise InvalidToken("The Authorization header must be 'Bearer <token>'.", error="invalid_request")
    token = ApiToken.objects.select_related("user").filter(token_hash=token_hash(secret.strip())).first()
    if token is None or not token.is_active or not token.user.is_active:
        raise InvalidToken(
            "The API token is unknown, revoked or expired. Ask the city's administrator for a new token.",
            error="invalid_token",
        )
    uses = token_count_use(token=token)
    limit = token.rate_limit_per_minute
    if limit is not None and uses > limit:
        raise TooManyRequests(
            f"This API token may make {limit} requests per minute; wait and retry.",
            retry_after=60 - timezone.now().second,  # the count restarts with the next minute
        )
    return token


def client_ip(request: HttpRequest | None) -> str:
    return str(request.META.get("REMOTE_ADDR", "")) if request is not None else ""


def _recent_failures(username: str, ip: str) -> int:
    since = timezone.now() - timedelta(minutes=_lockout()[1])
    return LoginFailure.objects.filter(username=username, ip=ip, at__gte=since).count()


class LockoutModelBackend(ModelBackend):
    """Django's user/password check, refused outright (PermissionDenied) while a user name is locked for an address."""

    def authenticate(
        self, request: HttpRequest | None, username: str | None = None, password: str | None = None, **kwargs: Any
    ) -> Any:
        failures, minutes = _lockout()
        if username and _recent_failures(username, client_ip(request)) >= failures:
            raise PermissionDenied(f"Too many failed sign-ins; try again in {minutes} minutes.")
        return super().authenticate(request, username=username, password=password, **kwargs)


def _record_failure(sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any) -> None:
    username = str(credentials.get("username") or "")
    if username:
        LoginFailure.objects.create(username=username[:150], ip=client_ip(request))


def _forget_failures(sender: Any, request: HttpRequest, user: Any, **kwargs: Any) -> None:
    LoginFailure.objects.filter(username=user.get_username(), ip=client_ip(request)).delete()


user_login_failed.connect(_record_failure, dispatch_uid="geoportal.auth.record_failure")
user_logged_in.connect(_forget_failures, dispatch_uid="geoportal.auth.forget_failures")
