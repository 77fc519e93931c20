"""Landing page, conformance, collections, OpenAPI: structure, languages and visibility."""

from __future__ import annotations

import pytest

CONF = "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/"
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"


def rels(doc):
    return {(link["rel"], link["type"]) for link in doc["links"]}


def test_landing_page_links(client, db):
    response = client.get("/ogc/")
    assert response.status_code == 200 and response["Content-Type"].startswith("application/json")
    doc = response.json()
    assert doc["title"] and doc["description"]
    assert {
        ("self", "application/json"),
        ("alternate", "text/html"),
        ("service-desc", "application/vnd.oai.openapi+json;version=3.0"),
        ("conformance", "application/json"),
        ("data", "application/json"),
    } <= rels(doc)
    hrefs = {link["rel"]: link["href"] for link in doc["links"]}
    assert hrefs["service-desc"] == "http://testserver/ogc/openapi"
    assert hrefs["data"] == "http://testserver/ogc/collections"


def test_conformance_lists_part1_classes(client, db):
    doc = client.get("/ogc/conformance").json()
    assert set(doc["conformsTo"]) >= {CONF + c for c in ("core", "geojson", "html", "oas30")}
    assert "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs" in doc["conformsTo"]
    assert "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter" in doc["conformsTo"]


def test_collection_document_and_extent(client, lida_buildings):
    doc = client.get("/ogc/collections/lida-buildings", HTTP_ACCEPT_LANGUAGE="en").json()
    assert doc["id"] == "lida-buildings"
    assert doc["title"] == "Lida buildings"
    assert doc["itemType"] == "feature"
    assert doc["crs"][0] == CRS84 and doc["storageCrs"] == CRS84
    # Lida's registered local CRSs (GK zone 5, UTM 35N) are offered, with the national set.
    assert {f"http://www.opengis.net/def/crs/EPSG/0/{srid}" for srid in (4326, 3857, 28405, 32635)} <= set(doc["crs"])
    assert doc["extent"]["spatial"]["crs"] == CRS84
    assert doc["extent"]["spatial"]["bbox"] == [list(lida_buildings.extent.extent)]
    assert doc["extent"]["spatial"]["bbox"][0] == pytest.approx([25.1234567, 53.8765432, 25.36, 53.92])
    items = {link["type"]: link["href"] for link in doc["links"] if link["rel"] == "items"}
    assert items == {
        "application/geo+json": "http://testserver/ogc/collections/lida-buildings/items?f=json",
        "text/html": "http://testserver/ogc/collections/lida-buildings/items?f=html",
    }
    assert ("self", "application/json") in rels(doc) and ("alternate", "text/html") in rels(doc)


@pytest.mark.parametrize(("language", "title"), [("be", "Будынкі Ліды"), ("ru", "Здания Лиды"), ("en", "Lida buildings")])
def test_collection_title_in_request_language(client, lida_buildings, language, title):
    response = client.get("/ogc/collections/lida-buildings", HTTP_ACCEPT_LANGUAGE=language)
    assert response.json()["title"] == title


def test_title_falls_back_to_english(client, make_layer):
    make_layer("orsha", "roads", "roads", [("r1", "LINESTRING(30.4 54.5, 30.41 54.51)", {})], title={"en": "Orsha roads"})
    assert client.get("/ogc/collections/orsha-roads", HTTP_ACCEPT_LANGUAGE="ru").json()["title"] == "Orsha roads"


def test_collections_lists_public_layers_only(client, lida_buildings, points_2500, hidden_layers):
    doc = client.get("/ogc/collections").json()
    # 'buildings' is the national collection of the theme (the sample city is not part of it).
    assert sorted(c["id"] for c in doc["collections"]) == ["buildings", "lida-buildings", "sample-addresses"]
    assert ("self", "application/json") in rels(doc)


def test_national_collection_id(client, make_layer):
    make_layer(None, "boundaries", "boundaries", [("by", "POLYGON((23 51, 32 51, 32 56, 23 56, 23 51))", {"name": "Belarus"})])
    assert client.get("/ogc/collections/belarus-boundaries").json()["id"] == "belarus-boundaries"
    feature = client.get("/ogc/collections/belarus-boundaries/items/by").json()
    assert feature["properties"] == {"name": "Belarus"}


@pytest.mark.parametrize(
    "path",
    [
        "/ogc/collections/minsk-utilities",
        "/ogc/collections/minsk-utilities/items",
        "/ogc/collections/minsk-utilities/items/s1",
        "/ogc/collections/brest-roads",
        "/ogc/collections/brest-roads/items",
        "/ogc/collections/brest-roads/items/s1",
    ],
)
def test_hidden_layers_answer_like_missing_ones(client, hidden_layers, path):
    hidden = client.get(path)
    missing = client.get(path.replace("minsk-utilities", "minsk-nothing").replace("brest-roads", "brest-nothing"))
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json()["code"] == missing.json()["code"] == "NotFound"
    assert hidden.json()["description"] == missing.json()["description"].replace("nothing", path.split("/")[3].split("-")[1])
    assert "secret" not in hidden.content.decode()


def test_staff_sees_internal_layer(client, hidden_layers, django_user_model):
    # is_staff alone grants nothing since the roles model (layers/access.py); a superuser sees everything.
    staff = django_user_model.objects.create_superuser("staff", password="x")
    client.force_login(staff)
    assert client.get("/ogc/collections/minsk-utilities/items/s1").json()["properties"] == {"secret": "yes"}
    assert "minsk-utilities" in {c["id"] for c in client.get("/ogc/collections").json()["collections"]}
    enum = client.get("/ogc/openapi").json()["components"]["parameters"]["collectionId"]["schema"]["enum"]
    assert "minsk-utilities" in enum


def test_openapi_is_valid_self_contained_and_lists_visible_collections(client, lida_buildings, hidden_layers):
    response = client.get("/ogc/openapi")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.oai.openapi+json;version=3.0"
    doc = response.json()
    text = response.content.decode()
    refs = [part.split('"')[0] for part in text.split('"$ref": "')[1:]]
    assert refs and all(ref.startswith("#/") for ref in refs)
    assert {
        "/",
        "/conformance",
        "/collections",
        "/collections/{collectionId}",
        "/collections/{collectionId}/items",
        "/collections/{collectionId}/items/{featureId}",
        "/tileMatrixSets",
        "/tileMatrixSets/{tileMatrixSetId}",
        "/collections/{collectionId}/tiles",
        "/collections/{collectionId}/tiles/{tileMatrixSetId}",
        "/collections/{collectionId}/tiles/{tileMatrixSetId}/{tileMatrix}/{tileRow}/{tileCol}",
        "/cities/{cityId}/tiles",
        "/cities/{cityId}/tiles/{tileMatrixSetId}",
        "/cities/{cityId}/tiles/{tileMatrixSetId}/{tileMatrix}/{tileRow}/{tileCol}",
    } <= set(doc["paths"])
    tile = doc["paths"]["/collections/{collectionId}/tiles/{tileMatrixSetId}/{tileMatrix}/{tileRow}/{tileCol}"]["get"]
    assert set(tile["responses"]["200"]["content"]) == {"application/vnd.mapbox-vector-tile"}  # binary, not JSON
    assert "204" in tile["responses"]
    assert doc["components"]["parameters"]["collectionId"]["schema"]["enum"] == ["lida-buildings", "buildings"]
    assert "minsk-utilities" not in text and "brest-roads" not in text
    validator = pytest.importorskip("openapi_spec_validator")
    validator.validate(doc)


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/ogc/?f=html", "Geoportal"),
        ("/ogc/conformance?f=html", "ogcapi-features-1/1.0/conf/core"),
        ("/ogc/collections?f=html", "lida-buildings"),
        ("/ogc/collections/lida-buildings?f=html", "Browse the features"),
        ("/ogc/collections/lida-buildings/items?f=html", "School No 1"),
        ("/ogc/collections/lida-buildings/items/b2?f=html", "School No 1"),
        ("/ogc/collections/lida-buildings/items/b%2F3?f=html", "Quote &quot; &amp; &lt;tag&gt;"),
    ],
)
def test_html_pages_render_without_external_resources(client, lida_buildings, path, expected):
    response = client.get(path)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    html = response.content.decode()
    assert expected in html
    assert "<tag>" not in html  # escaped
    assert "https://" not in html.replace("http://testserver", "") and "//cdn" not in html


def test_browser_accept_header_gets_html_and_api_client_gets_json(client, lida_buildings):
    browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    assert client.get("/ogc/collections", HTTP_ACCEPT=browser)["Content-Type"].startswith("text/html")
    assert client.get("/ogc/collections/lida-buildings/items", HTTP_ACCEPT="application/geo+json")["Content-Type"] == (
        "application/geo+json"
    )
    assert client.get("/ogc/collections", HTTP_ACCEPT="*/*")["Content-Type"].startswith("application/json")
