"""Layers the OGC API tests read: a few Lida buildings, a 2,500-point layer, and hidden layers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.http import HttpResponse

from layers.models import Layer

# Lida buildings: polygons whose edges are known, to test bbox selection at the edge.
LIDA_BUILDINGS = [
    ("b1", "POLYGON((25.30 53.89, 25.31 53.89, 25.31 53.90, 25.30 53.90, 25.30 53.89))", {"name": "Замак", "levels": 2}),
    ("b2", "POLYGON((25.32 53.89, 25.33 53.89, 25.33 53.90, 25.32 53.90, 25.32 53.89))", {"name": "School No 1", "levels": 3}),
    (
        "b/3",
        "POLYGON((25.35 53.91, 25.36 53.91, 25.36 53.92, 25.35 53.92, 25.35 53.91))",
        {"name": 'Quote " & <tag>', "levels": 1},
    ),
    (
        "b4",
        "POLYGON((25.1234567 53.8765432, 25.14 53.8765432, 25.14 53.88, 25.1234567 53.8765432))",
        {"note": None, "tags": ["a", "b"]},
    ),
]


@pytest.fixture
def lida_buildings(make_layer: Callable[..., Layer]) -> Layer:
    return make_layer(
        "lida",
        "buildings",
        "buildings",
        LIDA_BUILDINGS,
        title={"be": "Будынкі Ліды", "ru": "Здания Лиды", "en": "Lida buildings"},
    )


@pytest.fixture
def points_2500(make_layer: Callable[..., Layer]) -> Layer:
    """2,500 points on a 50×50 grid in the sample city, for paging."""
    grid = [(f"p{i}", f"POINT({24.90 + (i % 50) * 0.001:.3f} {60.15 + (i // 50) * 0.001:.3f})", {"n": i}) for i in range(2500)]
    return make_layer("sample", "addresses", "addresses", grid)


@pytest.fixture
def hidden_layers(make_layer: Callable[..., Layer]) -> list[Layer]:
    """An internal and a restricted layer: invisible to anonymous callers."""
    feature = [("s1", "POINT(27.56 53.9)", {"secret": "yes"})]
    return [
        make_layer("minsk", "utilities", "utilities", feature, visibility="internal"),
        make_layer("brest", "roads", "roads", feature, visibility="restricted"),
    ]


@pytest.fixture(scope="session")
def unaccent_extension(django_db_setup, django_db_blocker) -> None:
    """ACCENTI needs PostgreSQL's unaccent; the search work stream's migration (layers 0004) creates it in the project."""
    from django.db import connection

    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute("CREATE EXTENSION IF NOT EXISTS unaccent")


@pytest.fixture
def names_with_accents(make_layer: Callable[..., Layer], unaccent_extension: None) -> Layer:
    """Names whose match needs accent- and case-insensitivity: Ё/ё, é, and Belarusian і/ў."""
    names = ["Ёлка", "Café Central", "Вуліца Ўсходняя", "plain"]
    points = [(f"n{i}", f"POINT({27.5 + i * 0.01} 53.9)", {"name": name}) for i, name in enumerate(names)]
    return make_layer("minsk", "buildings", "buildings", points)


def assert_invalid(response: HttpResponse, parameter: str, says: str) -> dict[str, Any]:
    """A 400 InvalidParameterValue that names `parameter` and says `says` in its description."""
    assert response.status_code == 400, response.content[:300]
    body: dict[str, Any] = response.json()  # type: ignore[attr-defined]
    assert body["code"] == "InvalidParameterValue" and body["parameter"] == parameter, body
    assert says in body["description"], body["description"]
    return body
