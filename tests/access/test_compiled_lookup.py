"""Anonymous layer lookups reuse compiled SQL: results must still follow every change at once."""

from __future__ import annotations

import pytest
from django.test import Client

from layers.access import visible_layer, visible_layers
from layers.errors import NotFound
from layers.models import Visibility
from layers.selectors import layer_get_visible
from layers.services import layer_set_visibility

POINT = [("a", "POINT(27.56 53.9)", {"name": "a"})]


@pytest.fixture
def public_city_layer_then_hidden(cities, make_layer):
    return make_layer("minsk", "compiled", "buildings", POINT)


def test_anonymous_lookup_returns_the_same_layer_as_the_orm(public_city_layer_then_hidden, make_layer):
    national = make_layer(None, "compiled-national", "boundaries", POINT)
    for layer in (public_city_layer_then_hidden, national):
        city_slug = layer.city.slug if layer.city else None
        found = visible_layer(city_slug=city_slug, slug=layer.slug)
        expected = visible_layers().get(pk=layer.pk)
        assert found is not None
        assert {f.attname: getattr(found, f.attname) for f in found._meta.concrete_fields} == {
            f.attname: getattr(expected, f.attname) for f in expected._meta.concrete_fields
        }
        assert found.collection_id == layer.collection_id  # the city came with it (select_related)


def test_anonymous_lookup_follows_a_visibility_change_immediately(public_city_layer_then_hidden):
    layer = public_city_layer_then_hidden
    before = layer.version
    assert layer_get_visible(cid="minsk-compiled").version == before
    layer_set_visibility(layer=layer, visibility=Visibility.INTERNAL, actor="test")
    with pytest.raises(NotFound):
        layer_get_visible(cid="minsk-compiled")
    assert Client().get("/ogc/collections/minsk-compiled/items/a").status_code == 404
    layer_set_visibility(layer=layer, visibility=Visibility.PUBLIC, actor="test")
    again = layer_get_visible(cid="minsk-compiled")
    assert again.version > before and again.visibility == Visibility.PUBLIC
    assert Client().get("/ogc/collections/minsk-compiled/items/a").status_code == 200


@pytest.mark.parametrize("cid", ["minsk-nope", "nocity-compiled", "belarus-compiled", "minsk-compiled%"])
def test_anonymous_lookup_of_a_missing_key_is_not_found(public_city_layer_then_hidden, cid):
    with pytest.raises(NotFound):
        layer_get_visible(cid=cid)


def _item_queries(path: str) -> tuple[int, list[str]]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        response = Client().get(path)
    return response.status_code, [query["sql"] for query in queries.captured_queries]


def test_anonymous_item_reads_layer_and_feature_in_one_statement(public_city_layer_then_hidden):
    status, queries = _item_queries("/ogc/collections/minsk-compiled/items/a")
    assert status == 200 and len(queries) == 1, queries
    assert '"layers_layer"' in queries[0] and "layers_feature" in queries[0]


def test_one_statement_item_never_reads_a_feature_of_a_hidden_layer(public_city_layer_then_hidden):
    layer = public_city_layer_then_hidden
    layer_set_visibility(layer=layer, visibility=Visibility.RESTRICTED, actor="test")
    status, queries = _item_queries("/ogc/collections/minsk-compiled/items/a")
    missing_status, _ = _item_queries("/ogc/collections/minsk-absent/items/a")
    assert status == missing_status == 404 and len(queries) == 1


def test_one_statement_and_orm_fallback_agree(public_city_layer_then_hidden, make_layer):
    from layers.access import _public_layer_orm, public_layer_with
    from layers.features import Output, feature_geojson_of_outer_layer

    national = make_layer(None, "compiled-national", "boundaries", POINT)
    feature = feature_geojson_of_outer_layer(Output())
    for city_slug, slug in (("minsk", "compiled"), (None, "compiled-national")):
        for fid in ("a", "missing"):
            params = [*feature.params, fid]
            compiled_layer, compiled_text = public_layer_with(
                city_slug=city_slug, slug=slug, scalar_sql=feature.sql, scalar_params=params
            )
            orm_layer, orm_text = _public_layer_orm(city_slug=city_slug, slug=slug, scalar_sql=feature.sql, scalar_params=params)
            assert compiled_layer is not None and orm_layer is not None
            assert compiled_layer.pk == orm_layer.pk and compiled_text == orm_text
            assert (compiled_text is None) == (fid == "missing")
    found, _ = public_layer_with(city_slug=None, slug="compiled-national")
    assert found is not None and found.pk == national.pk


def test_a_lookup_loading_only_some_fields_agrees_with_the_orm_and_loads_no_more(public_city_layer_then_hidden, make_layer):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from layers.access import _public_layer_orm, public_layer_with
    from layers.tiles import TILE_LAYER_FIELDS

    make_layer(None, "compiled-national", "boundaries", POINT)
    for city_slug, slug in (("minsk", "compiled"), (None, "compiled-national")):
        with CaptureQueriesContext(connection) as queries:
            compiled, _ = public_layer_with(city_slug=city_slug, slug=slug, only=TILE_LAYER_FIELDS)
            assert compiled is not None
            seen = (compiled.collection_id, compiled.version, compiled.theme, compiled.fields, compiled.created_at)
        assert len(queries.captured_queries) == 1  # every field a tile reads came with the lookup
        assert '"extent"' not in queries.captured_queries[0]["sql"]
        orm, _ = _public_layer_orm(city_slug=city_slug, slug=slug, scalar_sql=None, scalar_params=(), only=TILE_LAYER_FIELDS)
        assert orm is not None and orm.pk == compiled.pk
        assert seen == (orm.collection_id, orm.version, orm.theme, orm.fields, orm.created_at)
