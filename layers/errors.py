"""The one error hierarchy of the geoportal.

Defined here, low in the dependency chain, so that `ingest/` and `layers/` can
raise them; `geoportal/errors.py` is the single place that maps them to HTTP
status codes and OGC exception documents (and the CLI prints them). Every
message says what failed, where, and how to fix it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

BEARER_REALM = "geoportal"


class GeoportalError(Exception):
    """Base class. `code` is the OGC exception code, `status` the HTTP status."""

    code = "NoApplicableCode"
    status = 500

    def __init__(self, message: str, *, hint: str | None = None, **context: Any) -> None:
        self.message = message
        self.hint = hint
        self.context = context
        super().__init__(self.describe())

    def describe(self) -> str:
        return f"{self.message} {self.hint}".strip() if self.hint else self.message

    def headers(self) -> dict[str, str]:
        """HTTP headers the answer must carry (a challenge, the allowed methods); set by geoportal/errors.py."""
        return {}


def _bearer_challenge(error: str) -> dict[str, str]:
    """RFC 6750 challenge; never cached, since the answer depends on the credentials sent."""
    return {"WWW-Authenticate": f'Bearer realm="{BEARER_REALM}", error="{error}"', "Cache-Control": "no-store"}


class InvalidParameter(GeoportalError):
    """A request parameter or CLI argument has a wrong value."""

    code = "InvalidParameterValue"
    status = 400

    def __init__(self, parameter: str, message: str, *, hint: str | None = None, **context: Any) -> None:
        self.parameter = parameter
        super().__init__(message, hint=hint, parameter=parameter, **context)


class NotFound(GeoportalError):
    """A resource does not exist — or is not visible to the caller (never say which)."""

    code = "NotFound"
    status = 404


class Unauthorized(GeoportalError):
    """The caller must sign in (or send a token) first."""

    code = "Unauthorized"
    status = 401


class InvalidToken(Unauthorized):
    """An Authorization header that names no usable API token (malformed, unknown, revoked, expired).

    `error` is the RFC 6750 error code (`invalid_request`, `invalid_token`) sent in the challenge.
    """

    code = "InvalidToken"

    def __init__(self, message: str, *, error: str, hint: str | None = None, **context: Any) -> None:
        self.error = error
        super().__init__(message, hint=hint, **context)

    def headers(self) -> dict[str, str]:
        return _bearer_challenge(self.error)


class Forbidden(GeoportalError):
    """The caller is known but may not do this (write into a layer, import into a city)."""

    code = "Forbidden"
    status = 403


class MethodNotAllowed(GeoportalError):
    """The HTTP method is not served here; `allowed` lists those that are (the `Allow` header)."""

    code = "MethodNotAllowed"
    status = 405

    def __init__(self, message: str, *, allowed: Sequence[str], hint: str | None = None, **context: Any) -> None:
        self.allowed = tuple(allowed)
        super().__init__(message, hint=hint, **context)

    def headers(self) -> dict[str, str]:
        return {"Allow": ", ".join(self.allowed)}


class TooManyRequests(GeoportalError):
    """An API token went over its requests per minute; `retry_after` is in seconds (the `Retry-After` header)."""

    code = "TooManyRequests"
    status = 429

    def __init__(self, message: str, *, retry_after: int, hint: str | None = None, **context: Any) -> None:
        self.retry_after = retry_after
        super().__init__(message, hint=hint, **context)

    def headers(self) -> dict[str, str]:
        return {**_bearer_challenge("rate_limited"), "Retry-After": str(self.retry_after)}


class NotAcceptable(GeoportalError):
    code = "NotAcceptable"
    status = 406


class ConfigurationError(GeoportalError):
    """Invalid configuration (environment or config files); stops start-up."""

    code = "NoApplicableCode"
    status = 500


class DatabaseUnavailable(GeoportalError):
    code = "ServiceUnavailable"
    status = 503


class IngestError(GeoportalError):
    """An import cannot proceed. Raising it leaves the target layer untouched.

    `source` is the file (and layer inside it), `feature` the 1-based feature
    number and `field` the attribute name, when the problem is that precise.
    """

    code = "InvalidParameterValue"
    status = 400

    def __init__(
        self,
        message: str,
        *,
        source: str | None = None,
        feature: int | None = None,
        field: str | None = None,
        hint: str | None = None,
    ) -> None:
        self.source = source
        self.feature = feature
        self.field = field
        where = [
            part for part in (source, f"feature {feature}" if feature else None, f"field {field!r}" if field else None) if part
        ]
        prefix = f"{', '.join(where)}: " if where else ""
        super().__init__(prefix + message, hint=hint)
