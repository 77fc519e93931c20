"""Anonymous tiles in one statement (geoportal.tiles.anonymous): same answer as the two-step path, always fresh."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from geoportal.tiles import anonymous
from geoportal.tiles.cache import tile_sources
from layers.models import Feature, Layer
from layers.tiles import render_tile

from .conftest import decode, raw_layer, square_wkt


@pytest.fixture(autouse=True)
def process_saw_nothing():
    """Each test starts as a fresh worker process: no collection seen yet."""
    anonymous._last_seen.clear()
    yield
    anonymous._last_seen.clear()


@pytest.fixture
def uncached(settings):
    """The benchmark's setting: nothing stored, every request renders."""
    settings.GEOPORTAL = {**settings.GEOPORTAL, "TILE_CACHE": False}


def url(cid: str, z: int, x: int, y: int) -> str:
    return f"/tiles/{cid}/{z}/{x}/{y}.mvt"


def names_in(content: bytes, cid: str) -> set[str | None]:
    return {feature["properties"].get("name") for feature in decode(content)[cid]["features"]}


def get_counting(path: str, headers: dict[str, str] | None = None) -> tuple[Any, int]:
    with CaptureQueriesContext(connection) as queries:
        response = Client().get(path, headers=headers)
    return response, len(queries.captured_queries)


@pytest.mark.parametrize("cache_on", [True, False], ids=["file_cache", "uncached"])
def test_second_tile_of_a_collection_is_one_statement_with_the_same_bytes(lida, settings, cache_on):
    settings.GEOPORTAL = {**settings.GEOPORTAL, "TILE_CACHE": cache_on}
    first, first_queries = get_counting(url("lida-buildings", lida.z, lida.x, lida.y))
    # Lookup, then render (with the cache on, also the public tree's first sync): the layer is remembered.
    assert first.status_code == 200 and first_queries >= 2
    z, x, y = lida.z + 1, 2 * lida.x + 1, 2 * lida.y + 1  # the child tile holding the hospital
    second, second_queries = get_counting(url("lida-buildings", z, x, y))
    assert second.status_code == 200 and second_queries == 1
    assert second.content == render_tile(sources=tile_sources([lida.buildings]), z=z, x=x, y=y)
    assert names_in(second.content, "lida-buildings") == {"Hospital"}
    # The same headers as the two-step path gives: a fresh process answers the same URL alike.
    anonymous._last_seen.clear()
    again, again_queries = get_counting(url("lida-buildings", z, x, y))
    assert again_queries == (1 if cache_on else 2)  # a file-cache hit needs only the lookup
    for header in ("ETag", "Cache-Control", "Content-Type"):
        assert second[header] == again[header]
    assert again.content == second.content


def test_layer_hidden_after_it_was_seen_answers_exactly_like_a_missing_one(lida, uncached):
    assert Client().get(url("lida-buildings", lida.z, lida.x, lida.y)).status_code == 200
    Layer.objects.filter(pk=lida.buildings.pk).update(visibility="restricted", version=2)
    hidden, queries = get_counting(url("lida-buildings", lida.z, lida.x, lida.y))
    assert hidden.status_code == 404 and queries == 1
    Layer.objects.filter(pk=lida.buildings.pk).delete()
    missing = Client().get(url("lida-buildings", lida.z, lida.x, lida.y))
    assert hidden.content == missing.content and missing.status_code == 404
    assert hidden.json()["code"] == "NotFound"


def test_an_edit_after_the_layer_was_seen_is_in_the_next_tile_under_a_new_etag(lida, uncached):
    before = Client().get(url("lida-buildings", lida.z, lida.x, lida.y))
    Feature.objects.filter(layer=lida.buildings, fid="b1").update(properties={"name": "School 2"})
    Layer.objects.filter(pk=lida.buildings.pk).update(version=2)
    after, queries = get_counting(url("lida-buildings", lida.z, lida.x, lida.y))
    assert queries == 1
    assert names_in(after.content, "lida-buildings") == {"School 2", "Hospital", None}
    assert after["ETag"] != before["ETag"]


def test_a_layer_replaced_under_the_same_collection_id_is_rendered_from_the_new_one(lida, make_layer, uncached):
    assert Client().get(url("lida-buildings", lida.z, lida.x, lida.y)).status_code == 200
    Layer.objects.filter(pk=lida.buildings.pk).delete()
    replacement = make_layer(
        "lida", "buildings", "roads", [("n1", square_wkt(lida.z, lida.x, lida.y, 0.4, 0.4, 0.1), {"name": "New hall"})]
    )
    response = Client().get(url("lida-buildings", lida.z, lida.x, lida.y))
    assert response.status_code == 200
    assert names_in(response.content, "lida-buildings") == {"New hall"}
    assert response.content == render_tile(sources=tile_sources([replacement]), z=lida.z, x=lida.x, y=lida.y)
    assert anonymous._last_seen["lida-buildings"].pk == replacement.pk


def test_signed_in_callers_and_revalidations_take_the_two_step_path(lida, uncached):
    first = Client().get(url("lida-buildings", lida.z, lida.x, lida.y))
    revalidated, queries = get_counting(url("lida-buildings", lida.z, lida.x, lida.y), headers={"If-None-Match": first["ETag"]})
    assert revalidated.status_code == 304 and queries == 1  # the lookup alone: nothing rendered
    User.objects.create_superuser("root", password="pw")
    client = Client()
    client.login(username="root", password="pw")
    internal = client.get(url("lida-pipes", lida.z, lida.x, lida.y))
    assert internal.status_code == 200 and "lida-pipes" not in anonymous._last_seen
    assert Client().get(url("lida-pipes", lida.z, lida.x, lida.y)).status_code == 404


def test_a_layer_turned_single_precision_after_it_was_seen_sends_floats_at_once(make_layer, uncached):
    z, x, y = 15, 19010, 10584
    layer = make_layer("lida", "towers", "buildings", [("t1", square_wkt(z, x, y, 0.4, 0.4, 0.1), {"height": 36.6})])
    before = Client().get(url("lida-towers", z, x, y))
    (value,) = raw_layer(before.content, "lida-towers").values
    assert value.HasField("double_value")
    Layer.objects.filter(pk=layer.pk).update(single_precision=True, version=2)
    after, queries = get_counting(url("lida-towers", z, x, y))
    assert queries == 2  # the statement asked for doubles: rendered again from the fresh layer
    (value,) = raw_layer(after.content, "lida-towers").values
    assert value.HasField("float_value") and value.float_value == pytest.approx(36.6)
    layer.refresh_from_db()
    assert after.content == render_tile(sources=tile_sources([layer]), z=z, x=x, y=y)
