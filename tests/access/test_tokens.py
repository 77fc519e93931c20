"""API tokens: stored hashed, shown once, scoped, revocable, rate-limited, and never a silent anonymous fall-back."""

from __future__ import annotations

import hashlib

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from layers.access import can_write, writable_layers
from layers.models_access import ApiToken, AuditLog, CityRole, Role
from layers.services_access import token_create, token_revoke
from tests.access.conftest import World


@pytest.fixture
def service_account(cities) -> User:
    account = User.objects.create_user("brest-traffic-service")
    CityRole.objects.create(user=account, city=cities["brest"], role=Role.EDITOR)
    return account


def test_only_the_hash_of_the_secret_is_stored_and_creation_is_audited(service_account, cities):
    token, secret = token_create(name="traffic", user=service_account, cities=[cities["brest"]])
    row = ApiToken.objects.get(pk=token.pk)
    assert secret.startswith("gp_") and len(secret) > 40
    assert row.token_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert row.prefix == secret[:11]
    assert secret not in str(ApiToken.objects.filter(pk=token.pk).values().first())
    audit = AuditLog.objects.get(action="token.create")
    assert audit.details["cities"] == ["brest"] and secret not in str(audit.details)


@pytest.mark.parametrize(
    ("header", "error"),
    [
        ("Bearer gp_notarealtoken", "invalid_token"),
        ("Bearer ", "invalid_request"),
        ("Basic dXNlcjpwYXNz", "invalid_request"),
        ("Bearer\tgp_x", "invalid_request"),
        ("bearer gp_" + "x" * 300, "invalid_token"),
    ],
    ids=["unknown", "empty", "basic-scheme", "tab", "long-garbage"],
)
def test_bad_authorization_headers_answer_401_with_a_bearer_challenge(db, header, error):
    response = Client(HTTP_AUTHORIZATION=header).get("/ogc/collections")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == f'Bearer realm="geoportal", error="{error}"'
    assert response.json()["code"] == "InvalidToken"
    assert response["Cache-Control"] == "no-store"


@pytest.mark.parametrize("path", ["/", "/minsk/", "/no-such-page/"])
def test_a_refused_token_on_a_page_still_answers_the_json_challenge(db, path):
    """A program sent the header: it gets the same OGC exception as on the API, not the HTML error page."""
    response = Client(HTTP_AUTHORIZATION="Bearer gp_notarealtoken").get(path)
    assert response.status_code == 401
    assert response.json() == {
        "code": "InvalidToken",
        "description": "The API token is unknown, revoked or expired. Ask the city's administrator for a new token.",
    }
    assert response["WWW-Authenticate"] == 'Bearer realm="geoportal", error="invalid_token"'
    assert response["Cache-Control"] == "no-store"
    assert Client().get("/no-such-page/")["Content-Type"].startswith("text/html")  # browsers still get pages


def test_a_token_stops_working_the_moment_it_is_revoked(world: World, service_account, cities):
    token, secret = token_create(name="t", user=service_account, cities=[cities["brest"]])
    client = Client(HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert client.get("/ogc/collections/brest-pipes").status_code == 200
    token_revoke(token=token)
    assert client.get("/ogc/collections/brest-pipes").status_code == 401
    assert client.get("/ogc/collections/brest-roads").status_code == 401  # not even public data: never silently anonymous
    assert AuditLog.objects.filter(action="token.revoke", details__token=token.prefix).count() == 1


def test_a_token_of_a_deactivated_account_is_refused(world: World, service_account, cities):
    _, secret = token_create(name="t", user=service_account, cities=[cities["brest"]])
    service_account.is_active = False
    service_account.save()
    assert Client(HTTP_AUTHORIZATION=f"Bearer {secret}").get("/ogc/collections").status_code == 401


def test_last_used_time_and_uses_this_minute_are_recorded(world: World, service_account, cities):
    token, secret = token_create(name="t", user=service_account, cities=[cities["brest"]])
    assert token.last_used_at is None and token.window_count == 0
    client = Client(HTTP_AUTHORIZATION=f"Bearer {secret}")
    started = timezone.now()
    for _ in range(2):
        assert client.get("/ogc/collections").status_code == 200
    token.refresh_from_db()
    assert token.last_used_at is not None
    assert token.window_start == token.last_used_at.replace(second=0, microsecond=0)  # the minute being counted
    same_minute = started.replace(second=0, microsecond=0) == token.window_start
    assert token.window_count == (2 if same_minute else 1)  # a new minute starts the count again


def test_rate_limit_per_token_answers_429_after_the_limit(world: World, service_account, cities):
    _, secret = token_create(name="t", user=service_account, cities=[cities["brest"]], rate_limit_per_minute=3)
    client = Client(HTTP_AUTHORIZATION=f"Bearer {secret}")
    statuses = [client.get("/ogc/collections").status_code for _ in range(4)]
    response = client.get("/ogc/collections")
    assert statuses[:3] == [200, 200, 200] and statuses[3] == 429
    assert response.status_code == 429 and response.json() == {
        "code": "TooManyRequests",
        "description": "This API token may make 3 requests per minute; wait and retry.",
    }
    assert 0 < int(response["Retry-After"]) <= 60
    assert response["WWW-Authenticate"] == 'Bearer realm="geoportal", error="rate_limited"'
    assert response["Cache-Control"] == "no-store"
    _, other = token_create(name="other", user=service_account, cities=[cities["brest"]], rate_limit_per_minute=3)
    assert Client(HTTP_AUTHORIZATION=f"Bearer {other}").get("/ogc/collections").status_code == 200  # limits are per token


def test_token_never_exceeds_its_service_account(world: World, service_account, cities):
    """Scoped to Minsk, but the account has a role in Brest only: Minsk's internal layer stays hidden."""
    _, secret = token_create(name="t", user=service_account, cities=[cities["minsk"]])
    listed = {c["id"] for c in Client(HTTP_AUTHORIZATION=f"Bearer {secret}").get("/ogc/collections").json()["collections"]}
    assert listed & world.cids == {"minsk-roads", "brest-roads"}


def test_write_scope(world: World, service_account, cities):
    brest_pipes = world.layers["brest-pipes"]
    read_token, _ = token_create(name="r", user=service_account, cities=[cities["brest"]])
    write_token, _ = token_create(name="w", user=service_account, cities=[cities["brest"]], can_write=True)
    minsk_token, _ = token_create(name="m", user=service_account, cities=[cities["minsk"]], can_write=True)
    for token, expected in ((read_token, set()), (write_token, {"brest-roads", "brest-pipes"}), (minsk_token, set())):
        service_account.api_token = token
        service_account.__dict__.pop("_geoportal_principal", None)
        assert {layer.collection_id for layer in writable_layers(user=service_account)} == expected, token.name
    assert can_write(user=service_account, layer=brest_pipes) is False  # still the Minsk token
