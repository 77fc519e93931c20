"""Single-feature edits (the admin) bump the layer version, so nothing cached outlives an edit."""

import mapbox_vector_tile
import pytest
from django.contrib.auth.models import Permission, User
from django.contrib.gis.geos import GEOSGeometry
from django.test import Client

from layers.errors import Forbidden
from layers.models import Feature, FeatureChange
from layers.models_access import CityRole, Role
from layers.search import search_index_layer
from layers.services_features import feature_delete, feature_save
from layers.tiles import tile_for_lonlat

ROAD = "LINESTRING(25.28 53.88, 25.29 53.89)"


@pytest.fixture(autouse=True)
def own_tile_cache(settings, tmp_path):
    settings.GEOPORTAL = {**settings.GEOPORTAL, "TILE_CACHE": True, "TILE_CACHE_DIR": str(tmp_path / "tiles")}


@pytest.fixture
def lida_roads(make_layer):
    """One road, its search rows built as an import leaves them (an edit must replace them)."""
    layer = make_layer("lida", "roads", "roads", [("r1", ROAD, {"name": "вуліца Леніна", "class": "primary"})])
    search_index_layer(layer=layer)
    return layer


def _search_fids(query: str) -> list[str]:
    hits = Client().get("/api/search", {"q": query, "city": "lida"}).json()["features"]
    return [h["properties"]["fid"] for h in hits]


def _tile_names(layer) -> list[str]:
    x, y = tile_for_lonlat(lon=25.285, lat=53.885, z=14)
    response = Client().get(f"/tiles/{layer.collection_id}/14/{x}/{y}.mvt")
    assert response.status_code == 200
    decoded = mapbox_vector_tile.decode(response.content)
    return [f["properties"].get("name") for f in decoded[layer.collection_id]["features"]]


def _admin_form_data(client: Client, feature: Feature) -> dict[str, str]:
    form = client.get(f"/admin/layers/feature/{feature.pk}/change/").context["adminform"].form
    data = {name: form[name].value() for name in form.fields}
    return {k: ("" if v is None else str(v)) for k, v in data.items()}


def test_admin_edit_bumps_version_and_retires_cached_tiles_etags_and_search(lida_roads):
    feature = lida_roads.features.get()
    before_version = lida_roads.version
    assert _tile_names(lida_roads) == ["вуліца Леніна"]  # now cached on disk
    items = f"/ogc/collections/{lida_roads.collection_id}/items/r1"
    etag = Client().get(items)["ETag"]
    assert _search_fids("Леніна") == ["r1"]

    client = Client()
    client.force_login(User.objects.create_superuser("root"))
    data = _admin_form_data(client, feature)
    data["properties"] = '{"name": "вуліца Скарыны", "class": "primary"}'
    assert client.post(f"/admin/layers/feature/{feature.pk}/change/", data).status_code == 302

    lida_roads.refresh_from_db()
    assert lida_roads.version == before_version + 1
    assert _tile_names(lida_roads) == ["вуліца Скарыны"]  # never the cached tile of the old version
    assert Client().get(items, HTTP_IF_NONE_MATCH=etag).status_code == 200
    change = FeatureChange.objects.filter(layer=lida_roads).latest("id")
    assert (change.op, change.fid, change.version) == ("update", "r1", lida_roads.version)
    assert _search_fids("Скарыны") == ["r1"]
    assert _search_fids("Леніна") == []  # the old name's rows went with the edit


def test_admin_delete_bumps_version_and_records_the_tombstone(lida_roads):
    feature = lida_roads.features.get()
    client = Client()
    client.force_login(User.objects.create_superuser("root"))
    response = client.post(f"/admin/layers/feature/{feature.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    lida_roads.refresh_from_db()
    assert (lida_roads.version, lida_roads.feature_count) == (2, 0)
    assert FeatureChange.objects.filter(layer=lida_roads, op="delete", fid="r1").exists()
    assert _search_fids("Леніна") == []
    assert Client().get(f"/ogc/collections/{lida_roads.collection_id}/items/r1").status_code == 404


def test_a_city_viewer_with_admin_access_may_not_change_a_feature(lida_roads, cities):
    viewer = User.objects.create_user("lida-viewer", is_staff=True)
    viewer.user_permissions.set(Permission.objects.filter(codename__in=["change_feature", "view_feature"]))
    CityRole.objects.create(user=viewer, city=cities["lida"], role=Role.VIEWER)
    feature = lida_roads.features.get()
    client = Client()
    client.force_login(viewer)
    data = _admin_form_data(client, feature)
    data["properties"] = '{"name": "changed"}'
    client.post(f"/admin/layers/feature/{feature.pk}/change/", data)
    feature.refresh_from_db()
    lida_roads.refresh_from_db()
    assert (feature.properties["name"], lida_roads.version) == ("вуліца Леніна", 1)
    with pytest.raises(Forbidden):
        feature_save(feature=feature, user=viewer)
    with pytest.raises(Forbidden):
        feature_delete(feature=feature, user=viewer)
    assert Feature.objects.filter(pk=feature.pk).exists()


def test_feature_added_by_the_service_grows_extent_and_count(lida_roads):
    feature = Feature(layer=lida_roads, fid="r2", geom=GEOSGeometry("LINESTRING(25.3 53.9, 25.4 53.95)", srid=4326))
    feature_save(feature=feature)
    lida_roads.refresh_from_db()
    assert lida_roads.feature_count == 2
    assert lida_roads.extent.extent == pytest.approx((25.28, 53.88, 25.4, 53.95))
    assert FeatureChange.objects.filter(layer=lida_roads, op="insert", fid="r2", version=lida_roads.version).exists()


def test_an_edit_with_a_new_attribute_extends_the_field_list_and_queryables(lida_roads):
    feature = Feature.objects.get(layer=lida_roads, fid="r1")
    assert "lanes" not in lida_roads.fields
    feature.properties = {**feature.properties, "lanes": 4, "class": 7}  # a new attribute; a known one, another type
    feature_save(feature=feature)
    lida_roads.refresh_from_db()
    assert lida_roads.fields["lanes"] == "integer"
    assert lida_roads.fields["class"] == "string"  # known attributes keep their type
    queryables = Client().get(f"/ogc/collections/{lida_roads.collection_id}/queryables").json()["properties"]
    assert queryables["lanes"]["type"] == "integer"
