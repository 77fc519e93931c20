"""The tile lane (geoportal.tiles.lane): anonymous tiles without Django's request cycle, the same answer as Django's.

Each answer of the lane is compared with the one Django's full cycle gives for the same request:
status, every header and the bytes. Requests the lane must not answer are shown to reach Django.
"""

from __future__ import annotations

import time
import urllib.request
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import psycopg
import pytest
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import DEFAULT_DB_ALIAS, close_old_connections, connection, connections
from django.test import Client, RequestFactory

from geoportal.tiles import anonymous
from geoportal.tiles.lane import TileLane
from layers.models import Layer

from ..servers import start_serve, unused_port, wait_for_healthz
from .conftest import decode


@pytest.fixture(autouse=True)
def process_saw_nothing() -> Iterator[None]:
    anonymous._last_seen.clear()
    yield
    anonymous._last_seen.clear()


class CountingApp:
    """Django's WSGI application, counting the requests the lane passed on to it."""

    def __init__(self) -> None:
        self.django = get_wsgi_application()
        self.calls = 0

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        self.calls += 1
        return self.django(environ, start_response)


@dataclass
class Answer:
    status: str
    headers: list[tuple[str, str]]
    body: bytes

    @property
    def header_set(self) -> set[tuple[str, str]]:
        return {(name.lower(), value) for name, value in self.headers}


@contextmanager
def within_test_transaction() -> Iterator[None]:
    """As Django's test client: the request signals must not close the test's connection mid-transaction."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


def call(app: Any, path: str, method: str = "GET", **headers: str) -> Answer:
    environ = RequestFactory().generic(method, path, headers=headers).environ
    caught: dict[str, Any] = {}

    def start_response(status: str, response_headers: list[tuple[str, str]], exc_info: Any = None) -> None:
        caught.update(status=status, headers=response_headers)

    result = app(environ, start_response)
    try:
        body = b"".join(result)
    finally:
        getattr(result, "close", lambda: None)()
    return Answer(caught["status"], caught["headers"], body)


@pytest.fixture
def lane() -> Iterator[TileLane]:
    with within_test_transaction():
        yield TileLane(CountingApp())


def django_of(lane: TileLane) -> CountingApp:
    assert isinstance(lane.app, CountingApp)
    return lane.app


def tile_path(lida: Any, cid: str = "lida-buildings", dz: int = 0) -> str:
    return f"/tiles/{cid}/{lida.z + dz}/{lida.x * 2**dz}/{lida.y * 2**dz}.mvt"


def served_by_lane(lane: TileLane, path: str, **headers: str) -> Answer:
    before = django_of(lane).calls
    answer = call(lane, path, **headers)
    assert django_of(lane).calls == before, f"{path} went to Django"
    return answer


def assert_same(ours: Answer, django: Answer) -> None:
    assert ours.status == django.status
    assert ours.header_set == django.header_set
    assert ours.body == django.body


@pytest.mark.parametrize(
    "headers",
    [{}, {"Accept-Encoding": "gzip, deflate, br"}, {"Accept-Encoding": "gzip"}, {"Accept-Language": "be"}],
    ids=["identity", "brotli", "gzip", "belarusian"],
)
@pytest.mark.parametrize("cache_on", [True, False], ids=["file_cache", "uncached"])
def test_after_django_served_one_tile_the_lane_answers_exactly_as_django(lida, lane, settings, headers, cache_on):
    settings.GEOPORTAL = {**settings.GEOPORTAL, "TILE_CACHE": cache_on}
    first = call(lane, tile_path(lida, "lida-roads"))  # Django's: the lane learns the site's headers
    assert first.status == "200 OK" and django_of(lane).calls == 1
    paths = [
        tile_path(lida),  # a collection tile
        tile_path(lida) + f"?v={lida.buildings.version}",  # a versioned URL: immutable
        tile_path(lida, dz=1),  # another zoom
        "/tiles/lida-buildings/2/0/0.mvt",  # no feature there: 204
        f"/tiles/city/lida/{lida.z}/{lida.x}/{lida.y}.mvt",  # the city composite
    ]
    for path in paths:
        ours = served_by_lane(lane, path, **headers)
        assert_same(ours, call(django_of(lane).django, path, **headers))
    decoded = decode(served_by_lane(lane, tile_path(lida)).body)
    assert {f["properties"].get("name") for f in decoded["lida-buildings"]["features"]} == {"School 1", "Hospital", None}
    assert dict(served_by_lane(lane, paths[1]).header_set)["cache-control"].endswith(", immutable")


def test_behind_tls_the_lane_sends_django_s_hsts_and_only_to_https_requests(lida, settings):
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.SECURE_HSTS_SECONDS = 3600
    with within_test_transaction():
        lane = TileLane(CountingApp())  # SecurityMiddleware reads its settings when Django's handler is built
        check_https_lane(lane, lida)


def check_https_lane(lane: TileLane, lida: Any) -> None:
    https = {"X-Forwarded-Proto": "https"}
    call(lane, tile_path(lida, "lida-roads"))  # learnt for plain http
    assert django_of(lane).calls == 1
    call(lane, tile_path(lida, "lida-roads"), **https)  # https is learnt separately: Django again
    assert django_of(lane).calls == 2
    secure = served_by_lane(lane, tile_path(lida), **https)
    assert ("strict-transport-security", "max-age=3600") in secure.header_set
    assert_same(secure, call(django_of(lane).django, tile_path(lida), **https))
    plain = served_by_lane(lane, tile_path(lida))
    assert not any(name == "strict-transport-security" for name, _ in plain.header_set)


@pytest.mark.parametrize(
    ("method", "path", "headers", "status"),
    [
        ("GET", "/tiles/lida-buildings/{z}/{x}/{y}.mvt", {"Authorization": "Bearer not-a-token"}, "401"),
        ("GET", "/tiles/lida-buildings/{z}/{x}/{y}.mvt", {"Cookie": "sessionid=abc"}, "200"),
        ("GET", "/tiles/lida-buildings/{z}/{x}/{y}.mvt", {"If-None-Match": "*"}, "304"),
        ("HEAD", "/tiles/lida-buildings/{z}/{x}/{y}.mvt", {}, "200"),
        ("POST", "/tiles/lida-buildings/{z}/{x}/{y}.mvt", {}, "405"),
        ("GET", "/tiles/lida-buildings/{z}/{x}/{y}.mvt", {"Accept-Encoding": "gzip;q=0"}, "200"),
        ("GET", "/tiles/lida-buildings/{z}/{x}/{y}.mvt", {"Host": "evil.example"}, "400"),
        ("GET", "/tiles/lida-nothing/{z}/{x}/{y}.mvt", {}, "404"),
        ("GET", "/tiles/lida-pipes/{z}/{x}/{y}.mvt", {}, "404"),
        ("GET", "/tiles/lida-secret/{z}/{x}/{y}.mvt", {}, "404"),
        ("GET", "/tiles/lida-buildings/3/8/0.mvt", {}, "400"),
        ("GET", "/tiles/lida-buildings.json", {}, "200"),
    ],
    ids=[
        "bearer_token",
        "session_cookie",
        "revalidation",
        "head",
        "post",
        "gzip_refused_by_q0",
        "host_not_allowed",
        "missing_collection",
        "internal_layer",
        "restricted_layer",
        "tile_outside_the_matrix",
        "tilejson",
    ],
)
def test_what_the_lane_may_not_answer_django_answers(lida, lane, method, path, headers, status):
    call(lane, tile_path(lida, "lida-roads"))  # the lane has learnt and would answer if allowed to
    path = path.format(z=lida.z, x=lida.x, y=lida.y)
    before = django_of(lane).calls
    ours = call(lane, path, method, **headers)
    assert django_of(lane).calls == before + 1
    assert ours.status.split()[0] == status
    assert_same(ours, call(django_of(lane).django, path, method, **headers))


def test_a_layer_hidden_after_the_lane_served_it_is_a_404_from_django(lida, lane):
    call(lane, tile_path(lida, "lida-roads"))
    assert served_by_lane(lane, tile_path(lida)).status == "200 OK"
    Layer.objects.filter(pk=lida.buildings.pk).update(visibility="restricted", version=2)
    hidden = call(lane, tile_path(lida))
    assert hidden.status.startswith("404") and b"lida-buildings" in hidden.body
    assert b"School" not in hidden.body


@pytest.mark.parametrize(
    ("attribute", "spoiled"),
    [("close_at", lambda: time.monotonic() - 1), ("errors_occurred", lambda: True)],
    ids=["older_than_conn_max_age", "an_error_occurred"],
)
def test_an_expired_or_failed_connection_is_left_to_django(lida, lane, monkeypatch, attribute, spoiled):
    call(lane, tile_path(lida, "lida-roads"))
    served_by_lane(lane, tile_path(lida))
    monkeypatch.setattr(connections[DEFAULT_DB_ALIAS], attribute, spoiled())  # the wrapper, not the proxy
    before = django_of(lane).calls
    assert call(lane, tile_path(lida)).status == "200 OK"
    assert django_of(lane).calls == before + 1


@pytest.mark.django_db(transaction=True)
def test_a_connection_lost_under_the_lane_is_renewed_and_the_tile_still_served(lida):
    lane = TileLane(CountingApp())  # the request signals stay connected: nothing here is in a transaction
    call(lane, tile_path(lida, "lida-roads"))
    expected = served_by_lane(lane, tile_path(lida))
    pid = connection.connection.info.backend_pid
    params = connection.get_connection_params()
    with psycopg.connect(**{k: v for k, v in params.items() if k != "cursor_factory"}, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [pid])
    before = django_of(lane).calls
    again = call(lane, tile_path(lida))
    assert django_of(lane).calls == before + 1  # the statement failed in the lane: Django answered
    assert_same(again, expected)
    assert connection.connection.info.backend_pid != pid
    served_by_lane(lane, tile_path(lida))  # and the lane takes over again


@pytest.mark.django_db(transaction=True)
def test_geoportal_serve_answers_tiles_through_the_lane_with_django_s_headers(lida):
    import geoportal.wsgi

    assert isinstance(geoportal.wsgi.application, TileLane)
    path = tile_path(lida)
    expected = Client().get(path)
    port = unused_port()
    server = start_serve(port, "--workers", "1", "--worker-class", "sync", database=connection.settings_dict["NAME"])
    try:
        wait_for_healthz(port)
        answers = []
        for _ in range(4):  # the first through Django, the others through the lane
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as response:
                answers.append((response.status, {k.lower(): v for k, v in response.headers.items()}, response.read()))
    finally:
        server.terminate()
        _, errors = server.communicate(timeout=30)
    assert "Traceback" not in errors, errors
    for status, headers, body in answers:
        assert status == 200 and body == expected.content
        assert {k: v for k, v in headers.items() if k not in ("date", "server", "connection")} == {
            k.lower(): v for k, v in expected.items()
        }
