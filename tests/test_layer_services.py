"""layers/services.py: registry writes against the real database."""

import pytest
from django.test import Client

from geoportal.config import project_config
from layers.errors import InvalidParameter
from layers.models import City
from layers.services import cities_sync, layer_ensure, layer_set_visibility

BUILDING = ("1", "POLYGON((25.30 53.89, 25.301 53.89, 25.301 53.891, 25.30 53.891, 25.30 53.89))", {"name": "a"})


def test_cities_sync_twice_changes_nothing(db):
    config = project_config()
    created, _ = cities_sync(config=config)
    assert created == len(config.cities) + 1  # the 17 cities and the sample city
    assert cities_sync(config=config) == (0, 0)


def test_visibility_change_bumps_version_and_retires_public_tiles(make_layer):
    layer = make_layer("lida", "buildings", "buildings", [BUILDING])
    client = Client()
    tilejson = client.get("/tiles/lida-buildings.json").json()
    layer_set_visibility(layer=layer, visibility="restricted")
    layer.refresh_from_db()
    assert layer.version == 2
    assert client.get("/tiles/lida-buildings.json").status_code == 404
    layer_set_visibility(layer=layer, visibility="public")
    assert client.get("/tiles/lida-buildings.json").json()["tiles"] != tilejson["tiles"]


def test_layer_ensure_new_layer_takes_given_values_without_extra_version(cities):
    theme = project_config().themes["roads"]
    layer = layer_ensure(city=cities["lida"], slug="roads", theme=theme, visibility="internal")
    assert (layer.visibility, layer.version) == ("internal", 0)


def test_layer_ensure_rejects_unknown_visibility_and_other_theme(cities):
    config = project_config()
    with pytest.raises(InvalidParameter, match="secret"):
        layer_ensure(city=cities["lida"], slug="roads", theme=config.themes["roads"], visibility="secret")
    layer_ensure(city=cities["lida"], slug="roads", theme=config.themes["roads"])
    with pytest.raises(InvalidParameter, match="--theme roads"):
        layer_ensure(city=City.objects.get(slug="lida"), slug="roads", theme=config.themes["buildings"])


@pytest.mark.parametrize("path", ["/ogc/collections", "/ogc/", "/tiles/city/lida.json", "/styles/lida.json", "/healthz"])
def test_read_only_surfaces_refuse_writes_with_405(db, path):
    response = Client().post(path, {"x": "1"})
    assert response.status_code == 405
    assert response.json() == {
        "code": "MethodNotAllowed",
        "description": f"POST is not allowed on {path}: this surface is read-only. Use GET.",
    }
    assert response["Allow"] == "GET, HEAD, OPTIONS"


def test_405_asked_for_as_html_is_a_page_that_still_names_the_allowed_methods(db):
    response = Client().delete("/ogc/collections?f=html")
    assert response.status_code == 405 and response["Content-Type"].startswith("text/html")
    assert b"DELETE is not allowed on /ogc/collections" in response.content
    assert response["Allow"] == "GET, HEAD, OPTIONS"
