"""Writes of the access model: API tokens, roles, grants — each recorded in the audit log."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from layers.errors import InvalidParameter
from layers.models import City, Layer
from layers.models_access import ApiToken, AuditLog

TOKEN_PREFIX = "gp_"  # noqa: S105 — a public marker, not a secret
PREFIX_LENGTH = 11  # "gp_" and 8 characters: enough to tell tokens apart in lists and logs


def token_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def token_new_secret() -> str:
    """A fresh secret: 'gp_' and 43 URL-safe characters (256 random bits)."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def token_set_secret(token: ApiToken) -> str:
    """Give an unsaved token a new secret (its prefix and hash); returns the secret to show once."""
    secret = token_new_secret()
    token.prefix, token.token_hash = secret[:PREFIX_LENGTH], token_hash(secret)
    return secret


def actor_name(user: Any) -> str:
    if user is None:
        return "system"  # a service called from code (shell, migrations, tasks) with nobody signed in
    if not getattr(user, "is_authenticated", False):
        return "anonymous"
    token = getattr(user, "api_token", None)
    return f"{user.get_username()} (token {token.prefix}…)" if token is not None else str(user.get_username())


def audit_write(
    *, user: Any = None, actor: str = "", action: str, target: str = "", details: dict[str, Any] | None = None
) -> AuditLog:
    """Record a write. `user` is the signed-in user (or service account); `actor` names others (the CLI's OS user)."""
    signed_in = user if getattr(user, "is_authenticated", False) else None
    return AuditLog.objects.create(
        user=signed_in,
        actor=actor or actor_name(user),
        action=action,
        target=target[:200],
        details=details or {},
    )


@transaction.atomic
def token_create(
    *,
    name: str,
    user: Any,
    created_by: Any = None,
    cities: Iterable[City] = (),
    layers: Iterable[Layer] = (),
    can_write: bool = False,
    expires_at: datetime | None = None,
    rate_limit_per_minute: int | None = None,
) -> tuple[ApiToken, str]:
    """A new token for the service account `user`; returns it and its secret (shown once, never stored)."""
    if not name.strip():
        raise InvalidParameter("name", "An API token needs a name that says which service uses it.")
    secret = token_new_secret()
    token = ApiToken.objects.create(
        name=name.strip(),
        user=user,
        prefix=secret[:PREFIX_LENGTH],
        token_hash=token_hash(secret),
        can_write=can_write,
        expires_at=expires_at,
        rate_limit_per_minute=rate_limit_per_minute,
        created_by=created_by if getattr(created_by, "is_authenticated", False) else None,
    )
    token.cities.set(list(cities))
    token.layers.set(list(layers))
    audit_write(user=created_by, action="token.create", target=str(token), details=token_scope_details(token))
    return token, secret


def token_scope_details(token: ApiToken) -> dict[str, Any]:
    return {
        "token": token.prefix,
        "service_account": token.user.get_username(),
        "cities": sorted(token.cities.values_list("slug", flat=True)),
        "layers": sorted(layer.collection_id for layer in token.layers.select_related("city")),
        "write": token.can_write,
        "expires_at": token.expires_at.isoformat() if token.expires_at else None,
        "rate_limit_per_minute": token.rate_limit_per_minute,
    }


@transaction.atomic
def token_count_use(*, token: ApiToken) -> int:
    """Record a use of the token (last_used_at) and return its count in the current minute (the rate limit's window).

    One UPDATE … RETURNING, so concurrent requests in other workers each get their own count.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            """
            UPDATE layers_apitoken SET
                last_used_at = now(),
                window_count = CASE WHEN window_start = date_trunc('minute', now()) THEN window_count + 1 ELSE 1 END,
                window_start = date_trunc('minute', now())
            WHERE id = %s
            RETURNING window_count
            """,
            [token.pk],
        )
        row = cursor.fetchone()
    return int(row[0]) if row else 0


@transaction.atomic
def token_revoke(*, token: ApiToken, by: Any = None) -> ApiToken:
    """Revoke at once: the next request with it answers 401. Revoking twice keeps the first time."""
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit_write(user=by, action="token.revoke", target=str(token), details={"token": token.prefix})
    return token
